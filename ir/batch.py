"""How an op acts on a batch: the fact ``OpDef.batch`` (a rule below, or the elementwise default) that says
whether a graph can run chunk by chunk along its batch axis with the chunks' results added up (the Dask backend
then runs the numpy program once per chunk; see compiler/batch.py).

A value's *kind* says how it depends on the batch (axis 0 of the batched inputs):

* ``None`` -- not at all (parameters, constants);
* ``ROWS`` -- its axis 0 is the batch axis, and row ``i`` depends only on row ``i`` of the batched inputs,
  so computing it on a chunk of rows gives those rows of the whole;
* ``SUM`` -- a sum over the batch rows: the chunks' results add up to the whole's;
* ``MEAN`` -- a mean over the batch rows: the chunks' results, each weighted by its share of the rows,
  add up to the whole's.

A rule ``rule(kinds, avals, attrs) -> kind`` is called with the kinds of the operands (at least one not
None) and their avals (a batched operand's axis 0 is declared None: its size is the chunk's); it returns
the result's kind, or None when the op does not keep the batch separable (the default: nothing is assumed).

>>> rowwise((ROWS, None), (Aval((None, 3), f8), Aval((3,), f8)), {})     # x + b
'rows'
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

ROWS, SUM, MEAN = "rows", "sum", "mean"
REDUCED = (SUM, MEAN)

BatchRule = Callable[[Sequence[Optional[str]], Sequence[Any], dict], Optional[str]]


def rowwise(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """An elementwise op (the default for ``elementwise=True``): row-wise when every batched operand has the
    result's rank (its axis 0 is the result's) and every other one broadcasts along axis 0 (fewer axes, or
    a leading axis of size 1)."""
    ndim = max(a.ndim for a in avals)
    if ndim == 0:
        return None
    for kind, a in zip(kinds, avals):
        if kind == ROWS:
            if a.ndim != ndim:
                return None
        elif kind is not None or (a.ndim == ndim and a.shape[0] != 1):
            return None
    return ROWS


def linear(*slots: int) -> BatchRule:
    """An elementwise op linear in each operand of ``slots`` alone (mul: either; div: the numerator; neg):
    a sum or a mean times (or over) values independent of the batch stays one."""
    def rule(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
        if not any(k in REDUCED for k in kinds):
            return rowwise(kinds, avals, attrs)
        batched = [i for i, k in enumerate(kinds) if k is not None]
        return kinds[batched[0]] if len(batched) == 1 and batched[0] in slots else None
    return rule


def terms(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """add, sub: sums of sums are sums (means of means, means): every operand of the same reduced kind."""
    if not any(k in REDUCED for k in kinds):
        return rowwise(kinds, avals, attrs)
    return kinds[0] if kinds[0] in REDUCED and all(k == kinds[0] for k in kinds) else None


def reduction(over_batch: str) -> BatchRule:
    """sum (``SUM``) and mean (``MEAN``) over ``axis``: over the batch axis a ``over_batch``, over other
    axes row-wise; of a sum or a mean (linear) the same kind."""
    def rule(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
        if kinds[0] in REDUCED:
            return kinds[0]
        axis = attrs.get("axis")
        return over_batch if axis is None or 0 in axis else ROWS
    return rule


def keeps_rows(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """An op along ``axis`` (an int or a tuple, never None) of one operand: row-wise when the batch axis is
    not among them (softmax over the classes, max over the features)."""
    axis = attrs.get("axis")
    axes = axis if isinstance(axis, tuple) else (axis,)
    return ROWS if kinds[0] == ROWS and avals[0].ndim > 1 and axis is not None and 0 not in axes else None


def batch_mean(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """A loss averaging over every axis but the classes' (softmax_cross_entropy, nll of logits and labels):
    a mean when both are batched and the logits have a batch axis besides the classes'."""
    logits, labels = avals
    return MEAN if kinds[0] == kinds[1] == ROWS and logits.ndim >= 2 and labels.ndim >= logits.ndim - 1 else None


def mean_of_rows(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """A mean over every element of an elementwise function of the operands (mse): a mean of row-wise values."""
    return MEAN if rowwise(kinds, avals, attrs) == ROWS else None


def matmul(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """a @ W with a row-wise ``a`` (2-d or stacked) and a matrix ``W`` independent of the batch; or two stacks
    of matrices batched together."""
    a, b = avals
    if list(kinds) == [ROWS, None]:
        return ROWS if a.ndim >= 2 and b.ndim <= 2 else None
    if list(kinds) == [ROWS, ROWS]:
        return ROWS if a.ndim == b.ndim >= 3 else None
    return None


def transpose(kinds: Sequence[Optional[str]], avals: Sequence[Any], attrs: dict) -> Optional[str]:
    """Row-wise when the batch axis stays first."""
    axes = attrs.get("axes")
    return ROWS if kinds[0] == ROWS and axes and axes[0] == 0 else None
