"""Layers of the textbook as ops: softmax, log_softmax, softmax with
cross-entropy (integer labels or one-hot/probabilities) and mean squared error.
Each is one node in the graph, as the textbook draws its layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..apply import apply
from .. import batch as batch_rules
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import broadcast, fmt, size
from . import _rules as R
from .elementwise import exp
from .internal import onehot, size_of

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy", "mse"]


def _softmax_attrs(avals: list, axis: Any = -1) -> dict:
    if avals[0].ndim == 0:
        raise ShapeRuleError("softmax needs at least one axis", "give a vector or a batch of vectors")
    attrs = R.one_axis(avals, axis)
    if avals[0].shape[attrs["axis"]] == 0:  # the kernel's max over it has no value
        raise ShapeRuleError(f"softmax over axis {attrs['axis']} of size 0", "take it over a non-empty axis")
    return attrs


register(OpDef("softmax", 1, R.shifted_exp, attrs={"axis": -1}, normalize=_softmax_attrs,
               vjp=(lambda g, out, x, axis: out * (g - apply("sum", g * out, axis=axis, keepdims=True)),), fresh=True,
               batch=batch_rules.keeps_rows))
register(OpDef("log_softmax", 1, R.shifted_exp, attrs={"axis": -1}, normalize=_softmax_attrs,
               vjp=(lambda g, out, x, axis: g - exp(out) * apply("sum", g, axis=axis, keepdims=True),), fresh=True,
               batch=batch_rules.keeps_rows))


def _sce_rule(logits: Aval, labels: Aval) -> tuple:
    if logits.ndim == 0:
        raise ShapeRuleError("logits need a class axis", "give logits of shape (N, classes) or (classes,)")
    if logits.shape[-1] == 0:
        raise ShapeRuleError("logits have no class (their last axis has size 0)", "give at least one class")
    if labels.dtype.kind in "iu":
        expected = logits.shape[:-1]
        kind = "integer class indices"
    elif labels.dtype.kind == "f":
        expected = logits.shape
        kind = "one-hot rows or probabilities"
    else:
        raise ShapeRuleError(f"labels of dtype {labels.dtype} are neither integer class indices nor probabilities",
                             "give int labels of shape logits.shape[:-1], or float one-hot labels of logits' shape")
    # exactly `expected` (the kernel checks it so: labels never broadcast); a size fixed at run time
    # (None) on either side is checked when the program runs
    if len(labels.shape) != len(expected) or any(a is not None and e is not None and a != e
                                                 for a, e in zip(labels.shape, expected)):
        raise ShapeRuleError(f"{kind} must have shape {fmt(expected)}, got {fmt(labels.shape)}",
                             "int labels have shape logits.shape[:-1]; one-hot labels have logits' shape")
    return (), _nll_dtype(R.shifted_exp_dtype(logits.dtype), labels)  # the kernel's nll(log_softmax(logits), t)


def _nll_dtype(logp: np.dtype, labels: Aval) -> np.dtype:
    """nll's kernel: a mean of -logp at the labels, or of -logp * labels for probabilities."""
    return R.float_result(np.result_type(logp, labels.dtype) if labels.dtype.kind == "f" else logp)


def _nll_rule(logp: Aval, labels: Aval) -> tuple:
    shape, _ = _sce_rule(logp, labels)
    return shape, _nll_dtype(logp.dtype, labels)


def _batch_count(logits: Any) -> Any:
    """N of the batch mean: every axis but the class axis."""
    n = size(tuple(logits.shape[:-1]))
    return n if n is not None else size_of(logits, tuple(range(logits.ndim - 1)))


def _target(labels: Any, logits: Any) -> Any:
    return onehot(labels, logits) if labels.dtype.kind in "iu" else labels


def _sce_logits_grad(g: Any, x: Any, t: Any) -> Any:
    """(softmax(x) - onehot(t)) * g / N: for integer labels one fused op (no one-hot is built)."""
    if t.dtype.kind in "iu":
        return apply("softmax_cross_entropy_grad", x, t, g / _batch_count(x))
    return (apply("softmax", x) - t) * (g / _batch_count(x))


register(OpDef("softmax_cross_entropy", 2, _sce_rule, vjp=(
    # d/dlogits = (softmax - onehot) / N
    lambda g, out, x, t: _sce_logits_grad(g, x, t),
    # d/dlabels (probabilities only) = -log_softmax / N
    lambda g, out, x, t: None if t.dtype.kind in "iu" else -apply("log_softmax", x) * (g / _batch_count(x)),
), fresh=True, batch=batch_rules.batch_mean, grad_note="(softmax(x) - onehot(t)) / N to the logits (integer labels: one gather/scatter kernel, no "
                         "one-hot built); -log_softmax(x) / N to probability labels, none to integer labels"))


def _sce_grad_rule(logits: Aval, labels: Aval, scale: Aval) -> tuple:
    if labels.dtype.kind not in "iu":
        raise ShapeRuleError(f"labels of dtype {labels.dtype} are not integer class indices",
                             "give int labels of shape logits.shape[:-1] (one-hot labels need no fused gradient)")
    if scale.ndim != 0:
        raise ShapeRuleError(f"the scale must be a scalar, got shape {fmt(scale.shape)}", "give dout / N as a 0-d value")
    _sce_rule(logits, labels)  # the logits and labels as softmax_cross_entropy takes them
    return logits.shape, R.float_result(logits.dtype)


def _sce_grad_vjp_logits(g: Any, out: Any, x: Any, t: Any, c: Any) -> Any:
    gc = g * c  # the op is softmax(x) * c minus a constant of x: softmax's rule on g * c
    s = apply("softmax", x)
    return s * (gc - apply("sum", gc * s, axis=-1, keepdims=True))


# The integer-label gradient of softmax_cross_entropy in one kernel: softmax of the logits, 1 subtracted at
# each row's label (a gather/scatter, no one-hot array), times the scale (dout / N) -- what the textbook's
# SoftmaxWithLoss backward writes by hand.
register(OpDef("softmax_cross_entropy_grad", 3, _sce_grad_rule, internal=True, fresh=True,
               doc="(softmax(logits) - onehot(labels)) * scale for integer labels, without building the one-hot.",
               vjp=(_sce_grad_vjp_logits, None,
                    lambda g, out, x, t, c: apply("sum", g * (apply("softmax", x) - onehot(t, x)))),
               grad_note="softmax's to the logits (times scale); none to the labels; sum(g * (softmax - onehot)) "
                         "to the scale"))


# softmax_cross_entropy(x, t) = nll(log_softmax(x), t). The compiler's simplifier computes it so when the
# gradient needs softmax(x) as well, which then reads the same log-probabilities (exp(log_softmax(x))).
register(OpDef("nll", 2, _nll_rule, internal=True,
               doc="Mean over the batch of -log p of the labels, from log-probabilities logp (int or probability labels).",
               vjp=(lambda g, out, logp, t: -_target(t, logp) * (g / _batch_count(logp)),
                    lambda g, out, logp, t: None if t.dtype.kind in "iu" else -logp * (g / _batch_count(logp))),
               fresh=True, batch=batch_rules.batch_mean))


def _mse_rule(a: Aval, b: Aval) -> tuple:
    R.binary_ufunc("subtract")(a, b)  # the kernel's a - b (NumPy refuses it for two bools)
    return (), R.float_result(R.promote(a, b))


def _mse_count(a: Any, b: Any) -> Any:
    n = size(broadcast([tuple(a.shape), tuple(b.shape)]))
    return n if n is not None else size_of(a - b)


register(OpDef("mse", 2, _mse_rule, vjp=(
    lambda g, out, a, b: (a - b) * (g * 2 / _mse_count(a, b)),
    lambda g, out, a, b: (b - a) * (g * 2 / _mse_count(a, b)),
), fresh=True, batch=batch_rules.mean_of_rows))


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    return apply("softmax", x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """log(softmax(x)) computed exactly (x - logsumexp(x))."""
    return apply("log_softmax", x, axis=axis)


def softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    """Mean over the batch of -sum(t * log_softmax(logits)). ``labels``: int class
    indices (shape ``logits.shape[:-1]``) or one-hot/probabilities (logits' shape).

    >>> loss = rg.softmax_cross_entropy(x @ W + b, t)
    """
    return apply("softmax_cross_entropy", logits, labels)


def nll(logp: Any, labels: Any) -> Any:
    """Mean over the batch of -log p(label) from log-probabilities (internal: what softmax_cross_entropy
    becomes when the compiler shares its log_softmax with the gradient's softmax)."""
    return apply("nll", logp, labels)


def softmax_cross_entropy_grad(logits: Any, labels: Any, scale: Any) -> Any:
    """(softmax(logits) - onehot(labels)) * scale for integer labels (internal: softmax_cross_entropy's
    gradient to its logits, with scale = dout / N), one kernel that builds no one-hot."""
    return apply("softmax_cross_entropy_grad", logits, labels, scale)


def mse(a: Any, b: Any) -> Any:
    """Mean squared error: mean((a - b) ** 2) over all elements."""
    return apply("mse", a, b)


