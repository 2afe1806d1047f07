"""What an op-table row is, shared by tests/optable.py and the per-family case files
(tests/optable_math.py, tests/optable_shape.py, ...), which optable.py appends to OP_CASES.

A row is ``(id, function, [(shape, domain), ...])`` -- old code unpacks it as that 3-tuple --
made with ``case(...)`` when it needs more than the defaults:

    case("arcsin", rg.arcsin, [((2, 3), UNIT)], numpy=np.arcsin)
    case("floor", rg.floor, [((2, 3), OFFGRID)], numpy=np.floor)
    case("onehot_loss", f, specs, no_float32="the labels are a float64 constant: the loss is float64")

Every row is checked (tests/test_ops_table.py, tests/test_dynamic_ops.py): values against NumPy
(``numpy=``, else the same function applied to plain arrays), first and second derivatives
against central differences in float64, float32 against float64, and the dynamic engine
against the static one in both dtypes to second order. ``no_second=`` / ``no_float32=`` skip a
check and must say why; a piecewise-linear op keeps its second-order check (its second
derivative is 0 wherever it exists, and that is checked).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

# Domains: a name below, a (low, high) tuple for uniform samples in that interval, or a function
# f(shape, rng) -> array (e.g. values with exact zeros where they matter).
ANY = "any"          # standard normal
POS = "pos"          # uniform in (0.5, 2)
NONZERO = "nonzero"  # +-(0.5, 2)
UNIT = "unit"        # uniform in (-0.9, 0.9): arcsin, arccos, arctanh
GT1 = "gt1"          # uniform in (1.2, 3): arccosh
OFFGRID = "offgrid"  # +-(k + 0.1 .. k + 0.4), k in 0..2: clear of integers and half-integers (floor, round)


def sample(shape: tuple, domain: Any, rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """Values of ``shape`` in ``domain`` (see above), as ``dtype``."""
    if callable(domain):
        v = domain(shape, rng)
    elif isinstance(domain, tuple):
        v = rng.uniform(domain[0], domain[1], size=shape)
    elif domain == POS:
        v = rng.uniform(0.5, 2.0, size=shape)
    elif domain == NONZERO:
        v = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    elif domain == UNIT:
        v = rng.uniform(-0.9, 0.9, size=shape)
    elif domain == GT1:
        v = rng.uniform(1.2, 3.0, size=shape)
    elif domain == OFFGRID:
        v = (rng.integers(0, 3, size=shape) + rng.uniform(0.1, 0.4, size=shape)) * rng.choice([-1.0, 1.0], size=shape)
    elif domain == ANY:
        v = rng.normal(size=shape)
    else:
        raise ValueError(f"unknown domain {domain!r}; use one of any, pos, nonzero, unit, gt1, offgrid or (low, high)")
    return np.asarray(v, dtype=dtype)


class Case(tuple):
    """One op-table row: a ``(id, fn, specs)`` tuple with options as attributes (see ``case``)."""

    numpy: Optional[Callable]
    no_second: str
    no_float32: str
    f32_tol: float
    eps: float

    def __new__(cls, id: str, fn: Callable, specs: list, **options: Any) -> "Case":
        row = super().__new__(cls, (id, fn, specs))
        for key, value in {**DEFAULTS, **options}.items():
            if key not in DEFAULTS:
                raise TypeError(f"case {id!r}: unknown option {key!r}; options are {sorted(DEFAULTS)}")
            setattr(row, key, value)
        return row

    @property
    def id(self) -> str:
        return self[0]


DEFAULTS: dict[str, Any] = {
    "numpy": None,       # the same computation on ndarrays with NumPy alone (the value reference)
    "no_second": "",     # reason to skip the second-order checks
    "no_float32": "",    # reason to skip the float32 checks
    "f32_tol": 2e-4,     # relative tolerance of float32 results against float64 ones
    "eps": 1e-6,         # central-difference step (float64)
}


def case(id: str, fn: Callable, specs: list, **options: Any) -> Case:
    """An op-table row with options: ``numpy=``, ``no_second=``, ``no_float32=``, ``f32_tol=``, ``eps=``."""
    return Case(id, fn, specs, **options)


def option(row: tuple, key: str) -> Any:
    """A row's option (plain 3-tuples get the defaults)."""
    return getattr(row, key, DEFAULTS[key])
