"""Dtype names and NumPy 2 promotion, with Python scalars kept *weak*
(a float32 tensor times 2.0 stays float32)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .errors import GraphError, ShapeRuleError

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

# The dtype kinds a graph holds: bool, signed and unsigned integers, floats and complex numbers.
NUMERIC_KINDS = "biufc"
# Python numbers that stay *weak* operands (NumPy 2: ``float32 array * 2.0`` is float32, ``* 1j`` complex64).
PY_SCALARS = (bool, int, float, complex)


def as_dtype(dtype: Any, *, what: str = "dtype") -> np.dtype:
    """Normalise ``"float32"``, ``np.float32`` or ``np.dtype`` to a supported ``np.dtype``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise GraphError(f"{what}: {dtype!r} is not a NumPy dtype; use e.g. 'float64', 'float32' or 'int64'") from exc
    if dt.kind not in NUMERIC_KINDS or dt.itemsize > 16:
        raise GraphError(
            f"{what}: dtype {dt} is not supported; revgraph works with bool, integer, float and complex dtypes "
            "(use 'float64', 'float32', 'int64', 'complex128', ...)"
        )
    return dt


def is_float(dtype: np.dtype) -> bool:
    """Only floating and complex tensors carry gradients (``is_float('complex64')`` is True)."""
    return np.dtype(dtype).kind in "fc"


def is_complex(dtype: np.dtype) -> bool:
    return np.dtype(dtype).kind == "c"


def real_dtype(dtype: np.dtype) -> np.dtype:
    """The real counterpart of a complex dtype (complex64 -> float32); other dtypes are returned as they are.

    >>> real_dtype(np.dtype("complex64"))
    dtype('float32')
    """
    dtype = np.dtype(dtype)
    return np.empty(0, dtype).real.dtype if dtype.kind == "c" else dtype


def complex_dtype(dtype: np.dtype) -> np.dtype:
    """The complex dtype holding ``dtype``'s values (float32 -> complex64; integers -> complex128)."""
    return np.result_type(np.dtype(dtype), np.complex64)


def weak_dtype(value: Any, what: str = "constant") -> np.dtype:
    """The dtype of a Python scalar kept weak (``bool``, ``int64``, ``float64``). A Python int is an
    int64 value in a graph, as NumPy's default integer; one beyond int64 fits no dtype a graph can hold
    (NumPy would make it uint64 or an object array), so it is refused here, where it is declared.

    >>> weak_dtype(3)
    dtype('int64')
    """
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        raise GraphError(f"{what}: the Python int {_int_text(value)} does not fit int64, the dtype of a Python int "
                         "in a graph (no supported dtype holds it exactly); use a float (e.g. 2.0 ** 64), or an "
                         "explicit NumPy array of the integer dtype you mean, such as np.uint64(...)")
    return np.asarray(value).dtype


def _int_text(value: int) -> str:
    """A huge int shortened for a message (``str`` refuses ints of more than 4 300 digits)."""
    return str(value) if value.bit_length() <= 128 else f"of {value.bit_length()} bits"


def promote(*operands: Any) -> np.dtype:
    """``np.result_type`` where each operand is an ``Aval``; weak ones promote as Python scalars.
    A weak int must fit an integer result (NumPy 2 refuses ``int8 array * 1000`` when it runs)."""
    dtype = np.result_type(*[a.weak_value if a.weak else a.dtype for a in operands])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        for a in operands:
            w = a.weak_value
            if type(w) is int and not info.min <= w <= info.max:
                raise ShapeRuleError(f"the Python int {_int_text(w)} does not fit the result dtype {dtype} "
                                     f"(range {info.min}..{info.max})",
                                     f"use a constant of a wider dtype (e.g. np.int64({w}) or a float), or cast "
                                     "the tensor first")
    return dtype


def float_result(dtype: np.dtype) -> np.dtype:
    """The dtype of a transcendental op (exp, log, ...) on ``dtype``: floats and complex keep theirs, the rest
    go to float64."""
    return dtype if dtype.kind in "fc" else np.dtype("float64")


def ufunc_result(fn: Any, *operands: Any) -> np.dtype:
    """The dtype NumPy's ufunc ``np.<fn>`` (or the function ``fn``, e.g. ``operator.pow`` for the ``**`` a
    kernel writes) returns for operands of these dtypes and weak Python numbers, asked of NumPy itself on
    one-element samples -- so a rule declares what the kernel computes: ``exp`` of int8 is float16, of
    int16 float32, ``square`` of bool int8, ``bool ** 2`` int8 (NumPy's fast path for ``** 2``). Where
    NumPy refuses (``negative``, ``sign`` or ``subtract`` of bools, ints to negative int powers) it is a
    ShapeRuleError, as the kernel would fail.

    >>> ufunc_result("exp", np.dtype("int8"))
    dtype('float16')
    """
    return _ufunc_result(fn, tuple((type(o), o) for o in operands))  # typed: 1, 1.0 and True differ


@functools.lru_cache(maxsize=4096)
def _ufunc_result(fn: Any, typed: tuple) -> np.dtype:
    operands = [o for _, o in typed]
    func = getattr(np, fn) if isinstance(fn, str) else fn
    samples = [np.ones(1, o) if isinstance(o, np.dtype) else o for o in operands]
    if not any(isinstance(o, np.dtype) for o in operands):  # Python numbers alone compute as NumPy values
        samples = [np.asarray(o) for o in samples]  # (Python's own 10 ** 2**62 would never return)
    try:
        with np.errstate(all="ignore"):
            return np.asarray(func(*samples)).dtype
    except (TypeError, ValueError) as exc:  # UFuncTypeError (no loop), bool negative, int ** -1
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", repr(fn))
        kinds = ", ".join(str(o) if isinstance(o, np.dtype) else f"the Python {type(o).__name__} {o!r}"
                          for o in operands)
        raise ShapeRuleError(f"NumPy's {name} is not defined for {kinds} ({exc})",
                             "cast the operand first (e.g. to a float); for booleans use a comparison, "
                             "rg.where or a cast") from None


def computed_dtype(fn: Any, dtype: np.dtype, what: str) -> np.dtype:
    """The dtype ``fn`` (a NumPy function that is no ufunc, e.g. ``np.round``) returns on a one-element
    array of ``dtype``; a ShapeRuleError where NumPy refuses it."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(np.ones(1, dtype))).dtype
    except TypeError as exc:
        raise ShapeRuleError(f"NumPy's {what} is not defined for {dtype} ({exc})",
                             "cast the operand to a float or integer dtype first") from None
