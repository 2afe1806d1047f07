"""Weight initialisation as the book's chapter 6 gives it: He for ReLU, Xavier for sigmoid and tanh."""

from __future__ import annotations

from typing import Optional

import numpy as np


def he(shape: tuple, fan_in: Optional[int] = None, rng: Optional[np.random.Generator] = None,
       dtype: str = "float64") -> np.ndarray:
    """Normal with standard deviation sqrt(2 / fan_in) (fan_in: the number of inputs of a unit)."""
    rng = rng if rng is not None else np.random.default_rng()
    fan_in = fan_in if fan_in is not None else int(np.prod(shape[:-1]) if len(shape) == 2 else np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def xavier(shape: tuple, fan_in: Optional[int] = None, rng: Optional[np.random.Generator] = None,
           dtype: str = "float64") -> np.ndarray:
    """Normal with standard deviation sqrt(1 / fan_in) (the book's Xavier)."""
    rng = rng if rng is not None else np.random.default_rng()
    fan_in = fan_in if fan_in is not None else int(np.prod(shape[:-1]) if len(shape) == 2 else np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)).astype(dtype)


INITS = {"he": he, "xavier": xavier}
