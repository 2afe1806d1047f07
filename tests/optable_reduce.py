"""Op-table rows of the reductions and scans beyond sum/mean/max (appended to OP_CASES by tests/optable.py;
see tests/opcase.py): min, prod (with exact zeros), var/std (ddof), cumsum, logsumexp."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from opcase import ANY, NONZERO, case


def zeros_per_row(shape, rng):
    """Rows with 0, 1, 2, 0, 1, 2, ... exact zeros along the last axis, the rest clear of zero."""
    v = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    rows = v.reshape(-1, shape[-1])
    for i, row in enumerate(rows):
        row[rng.permutation(shape[-1])[: i % 3]] = 0.0
    return rows.reshape(shape)


def one_zero(shape, rng):
    v = rng.uniform(0.5, 2.0, size=shape)
    v.flat[rng.integers(v.size)] = 0.0
    return v


def two_zeros(shape, rng):
    v = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    v.flat[rng.permutation(v.size)[:2]] = 0.0
    return v


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REDUCE_CASES = [
    case("min_all", lambda x: rg.min(x), [((3, 4), ANY)], numpy=np.min),
    case("min_axis1_keepdims", lambda x: rg.min(x, axis=1, keepdims=True), [((3, 4), ANY)],
         numpy=lambda x: np.min(x, axis=1, keepdims=True)),
    case("min_tuple_axes", lambda x: rg.min(x, axis=(0, 2)), [((2, 3, 4), ANY)], numpy=lambda x: np.min(x, axis=(0, 2))),
    case("prod_all", lambda x: rg.prod(x), [((2, 3), NONZERO)], numpy=np.prod),
    case("prod_axis0", lambda x: rg.prod(x, axis=0), [((3, 4), NONZERO)], numpy=lambda x: np.prod(x, axis=0)),
    case("prod_zeros_per_row", lambda x: rg.prod(x, axis=-1), [((6, 4), zeros_per_row)],
         numpy=lambda x: np.prod(x, axis=-1)),
    case("prod_zeros_per_row_keepdims", lambda x: rg.prod(x, axis=1, keepdims=True), [((2, 3, 3), zeros_per_row)],
         numpy=lambda x: np.prod(x, axis=1, keepdims=True)),
    case("prod_one_zero", lambda x: rg.prod(x), [((2, 3), one_zero)], numpy=np.prod),
    case("prod_two_zeros", lambda x: rg.prod(x), [((2, 3), two_zeros)], numpy=np.prod),
    case("var_all", lambda x: rg.var(x), [((3, 4), ANY)], numpy=np.var),
    case("var_axis0_ddof1", lambda x: rg.var(x, axis=0, ddof=1), [((3, 4), ANY)],
         numpy=lambda x: np.var(x, axis=0, ddof=1)),
    case("var_tuple_keepdims", lambda x: rg.var(x, axis=(0, 2), keepdims=True), [((2, 3, 4), ANY)],
         numpy=lambda x: np.var(x, axis=(0, 2), keepdims=True)),
    case("std_all", lambda x: rg.std(x), [((3, 4), ANY)], numpy=np.std),
    case("std_axis1_ddof1", lambda x: rg.std(x, axis=1, ddof=1), [((3, 4), ANY)],
         numpy=lambda x: np.std(x, axis=1, ddof=1)),
    case("std_ddof_half_keepdims", lambda x: rg.std(x, axis=-1, ddof=0.5, keepdims=True), [((2, 3, 4), ANY)],
         numpy=lambda x: np.std(x, axis=-1, ddof=0.5, keepdims=True)),
    case("cumsum_flat", lambda x: rg.cumsum(x), [((3, 4), ANY)], numpy=np.cumsum),
    case("cumsum_axis1", lambda x: rg.cumsum(x, axis=1), [((3, 4), ANY)], numpy=lambda x: np.cumsum(x, axis=1)),
    case("cumsum_neg_axis", lambda x: rg.cumsum(x, axis=-3), [((2, 3, 4), ANY)], numpy=lambda x: np.cumsum(x, axis=-3)),
    case("logsumexp_all", lambda x: rg.logsumexp(x), [((3, 4), ANY)], numpy=_logsumexp),
    case("logsumexp_axis1_keepdims", lambda x: rg.logsumexp(x, axis=1, keepdims=True), [((3, 4), ANY)],
         numpy=lambda x: _logsumexp(x, axis=1, keepdims=True)),
    # e^(30 x) overflows float32 for x > 2.96: the kernel's shift by the maximum keeps it finite
    case("logsumexp_large", lambda x: rg.logsumexp(x * 30.0, axis=0), [((3, 4), (-4.0, 4.0))],
         numpy=lambda x: np.max(x * 30.0, axis=0) + _logsumexp(x * 30.0 - np.max(x * 30.0, axis=0), axis=0)),
]

# Integer-valued (zero gradient), as in optable.ZERO_GRAD_CASES.
REDUCE_ZERO_GRAD_CASES = [
    ("argmin", lambda x: rg.argmin(x) * 1.0),
]
