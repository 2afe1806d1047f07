"""Dtype names and NumPy 2 promotion, with Python scalars kept *weak*
(a float32 tensor times 2.0 stays float32)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import GraphError


def as_dtype(dtype: Any, *, what: str = "dtype") -> np.dtype:
    """Normalise ``"float32"``, ``np.float32`` or ``np.dtype`` to a supported ``np.dtype``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise GraphError(f"{what}: {dtype!r} is not a NumPy dtype; use e.g. 'float64', 'float32' or 'int64'") from exc
    if dt.kind not in "biuf":
        raise GraphError(
            f"{what}: dtype {dt} is not supported; revgraph works with bool, integer and float dtypes "
            "(use 'float64', 'float32', 'int64', ...)"
        )
    return dt


def is_float(dtype: np.dtype) -> bool:
    """Only floating tensors carry gradients."""
    return np.dtype(dtype).kind == "f"


def promote(*operands: Any) -> np.dtype:
    """``np.result_type`` where each operand is an ``Aval``; weak ones promote as Python scalars."""
    return np.result_type(*[a.weak_value if a.weak else a.dtype for a in operands])


def float_result(dtype: np.dtype) -> np.dtype:
    """The dtype of a transcendental op (exp, log, ...) on ``dtype``: floats keep theirs, the rest go to float64."""
    return dtype if dtype.kind == "f" else np.dtype("float64")
