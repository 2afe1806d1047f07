"""Ops that VJP rules use but users rarely call: they read run-time shapes
(sizes given as ``None`` are known only when the program runs), cast, scatter
and accumulate. Registry entries like any other op; not re-exported as rg.*.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..apply import apply
from ..dtypes import as_dtype, float_result, real_dtype
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import broadcast, fmt, is_static
from ._rules import broadcast_shape, promote, reduced_shape, axis_attrs, one_axis


def _like_second(x: Aval, ref: Aval, **_: Any) -> tuple:
    return ref.shape, x.dtype


def _sum_to_like_rule(x: Aval, ref: Aval) -> tuple:
    if broadcast([x.shape, ref.shape]) is None:
        raise ShapeRuleError("the value cannot be summed down to the reference shape")
    return ref.shape, x.dtype


register(OpDef("sum_to_like", 2, _sum_to_like_rule, internal=True, complex_ok=True,
               doc="Sum x down to ref's (run-time) shape: the un-broadcast of a gradient.",
               vjp=(lambda g, out, x, ref: broadcast_like(g, x), None)))

register(OpDef("broadcast_like", 2, lambda x, ref: (broadcast_shape([x, ref]), x.dtype), internal=True,
               complex_ok=True,
               doc="Broadcast x to ref's (run-time) shape.",
               vjp=(lambda g, out, x, ref: sum_to_like(g, x), None)))

def _reshape_like_rule(x: Aval, ref: Aval) -> tuple:
    if is_static(x.shape) and is_static(ref.shape) and math.prod(x.shape) != math.prod(ref.shape):
        raise ShapeRuleError(f"x of shape {fmt(x.shape)} ({math.prod(x.shape)} elements) cannot be reshaped to "
                             f"the reference shape {fmt(ref.shape)} ({math.prod(ref.shape)} elements)",
                             "pass a reference with as many elements as x (the tensor x was reshaped from)")
    return ref.shape, x.dtype


register(OpDef("reshape_like", 2, _reshape_like_rule, internal=True, complex_ok=True,
               doc="Reshape x to ref's (run-time) shape.",
               vjp=(lambda g, out, x, ref: reshape_like(g, x), None)))


def _size_of_rule(x: Aval, axis: Any = None, keepdims: bool = False) -> tuple:
    return (), float_result(real_dtype(x.dtype))  # a count: real also for a complex x


register(OpDef("size_of", 1, _size_of_rule, attrs={"axis": None, "keepdims": False}, normalize=axis_attrs,
               internal=True, complex_ok=True, fresh=True,
               doc="Number of elements of x over `axis`, as a float scalar (for means)."))

register(OpDef("zeros_like", 1, lambda x: (x.shape, x.dtype), internal=True, complex_ok=True,
               doc="Zeros of x's shape and dtype.", fresh=True))
register(OpDef("ones_like", 1, lambda x: (x.shape, x.dtype), internal=True, complex_ok=True,
               doc="Ones of x's shape and dtype.", fresh=True))


def _cast_attrs(avals: list, dtype: Any) -> dict:
    return {"dtype": as_dtype(dtype).name}


def _cast_rule(x: Aval, dtype: str) -> tuple:
    if x.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        raise ShapeRuleError(f"a cast of complex {x.dtype} to {dtype} would drop the imaginary part",
                             "take rg.real, rg.imag or rg.abs of it first")
    return x.shape, np.dtype(dtype)


def _cast_vjp(g: Any, out: Any, x: Any, dtype: str) -> Any:
    if np.dtype(g.dtype).kind == "c" and np.dtype(x.dtype).kind != "c":
        g = apply("real", g)  # a real value cast to complex: its gradient is the real part (see unbroadcast)
    return cast(g, x.dtype)


register(OpDef("cast", 1, _cast_rule, attrs={"dtype": "float64"},
               normalize=_cast_attrs, internal=True, doc="x converted to `dtype`.",
               vjp=(_cast_vjp,), complex_ok=True,
               elementwise=True))  # not fresh: a cast to the operand's own dtype returns the operand


def _onehot_rule(labels: Aval, ref: Aval) -> tuple:
    # what the kernel checks: integer labels of shape ref.shape[:-1] (None: checked when it runs)
    want = ref.shape[:-1]
    if ref.ndim == 0 or ref.shape[-1] == 0 or labels.dtype.kind not in "iu" or len(labels.shape) != len(want) or any(
            a is not None and b is not None and a != b for a, b in zip(labels.shape, want)):
        raise ShapeRuleError(f"onehot takes integer labels of shape ref.shape[:-1] = {fmt(want)} (ref "
                             f"{fmt(ref.shape)}, at least one class); got {fmt(labels.shape)} {labels.dtype}")
    return ref.shape, ref.dtype


register(OpDef("onehot", 2, _onehot_rule, internal=True,
               doc="One-hot rows for integer labels, with ref's last size as the number of classes and ref's dtype.",
               fresh=True))


def _getitem_grad_attrs(avals: list, index: Any = ()) -> dict:
    # The same checks as getitem's index (on x, the second operand): a loaded file may hold any data here.
    from .shape_ops import _getitem_attrs  # shape_ops imports this module

    return _getitem_attrs(avals[1:], index)


def _getitem_grad_rule(g: Aval, x: Aval, index: tuple) -> tuple:
    # The kernel writes g into x[index]: the index must fit x, and g must broadcast into that part.
    from .shape_ops import _getitem_rule

    part = _getitem_rule(x, index)[0]
    joint = broadcast([g.shape, part]) if len(g.shape) <= len(part) else None
    if joint is None or any(j is not None and p is not None and j != p for j, p in zip(joint, part)):
        raise ShapeRuleError(f"the gradient of shape {fmt(g.shape)} does not fit x[index] of shape {fmt(part)}",
                             "give the gradient of the sliced part")
    return x.shape, g.dtype


register(OpDef("getitem_grad", 2, _getitem_grad_rule, attrs={"index": ()}, internal=True,
               complex_ok=True,
               normalize=_getitem_grad_attrs,
               doc="Zeros shaped like x with g written at x[index]: the adjoint of basic slicing.",
               vjp=(lambda gg, out, g, x, index: apply("getitem", gg, index=index), None),
               fresh=True))


def _concat_part_rule(g: Aval, *xs: Aval, part: int, axis: int) -> tuple:
    return xs[part].shape, g.dtype


def _concat_part_vjp(gg, out, g, *xs, index, part, axis):
    if index != 0:
        return None  # the other operands only lend their sizes
    pieces = [gg if j == part else zeros_like(x) for j, x in enumerate(xs)]
    return apply("concatenate", *pieces, axis=axis)


def _concat_part_attrs(avals: list, part: Any = 0, axis: Any = 0) -> dict:
    # part and axis index the operands and their axes: checked, so a loaded file cannot point outside them.
    if isinstance(part, bool) or not isinstance(part, (int, np.integer)) or not 0 <= part < len(avals) - 1:
        raise ShapeRuleError(f"part {part!r} is not the index of one of the {len(avals) - 1} concatenated operands")
    return {"part": int(part), **one_axis(avals[1:], axis)}


register(OpDef("concat_part", None, _concat_part_rule, attrs={"part": 0, "axis": 0}, internal=True,
               complex_ok=True,
               normalize=_concat_part_attrs,
               vjp=_concat_part_vjp,
               doc="The part of g (a gradient of concatenate(xs)) that belongs to xs[part], by run-time sizes."))


register(OpDef("accumulate", None, lambda *xs: (broadcast_shape(list(xs)), promote(*xs)), internal=True,
               complex_ok=True,
               doc="The sum of a tensor's gradient contributions (drawn as one node, so fan-out is visible).",
               vjp_all=lambda g, out, *xs: [g] * len(xs),
               elementwise=True, fresh=lambda n_operands, attrs: n_operands > 1))  # one operand: the operand itself


# The VJPs of tanh and sigmoid as single ops, read from the forward result y (as TensorFlow's TanhGrad
# and SigmoidGrad): one node and one line of generated code instead of three each.
def _activation_grad_rule(g: Aval, y: Aval) -> tuple:
    if y.dtype.kind not in "fc":
        raise ShapeRuleError(f"the activation's result y is {y.dtype}, not a float (tanh and sigmoid compute floats)",
                             "pass the tanh's or sigmoid's own result as y")
    return broadcast_shape([g, y]), promote(g, y)


register(OpDef("tanh_grad", 2, _activation_grad_rule, internal=True, complex_ok=True,
               doc="g * (1 - y²): the gradient through y = tanh(x).",
               vjp=(lambda dz, out, g, y: tanh_grad(dz, y),
                    lambda dz, out, g, y: dz * g * y * -2.0),
               elementwise=True, fresh=True, inplace_slot=1))  # 1 - y² formed in y's buffer: no temporary

register(OpDef("sigmoid_grad", 2, _activation_grad_rule, internal=True,
               doc="g * y * (1 - y): the gradient through y = sigmoid(x).",
               vjp=(lambda dz, out, g, y: sigmoid_grad(dz, y),
                    lambda dz, out, g, y: dz * g * (1 - y * 2.0)),
               elementwise=True, fresh=True))


# -- functions -------------------------------------------------------------------------
def tanh_grad(g: Any, y: Any) -> Any:
    return apply("tanh_grad", g, y)


def sigmoid_grad(g: Any, y: Any) -> Any:
    return apply("sigmoid_grad", g, y)


def sum_to_like(x: Any, ref: Any) -> Any:
    return apply("sum_to_like", x, ref)


def broadcast_like(x: Any, ref: Any) -> Any:
    return apply("broadcast_like", x, ref)


def reshape_like(x: Any, ref: Any) -> Any:
    return apply("reshape_like", x, ref)


def size_of(x: Any, axis: Any = None) -> Any:
    return apply("size_of", x, axis=axis)


def zeros_like(x: Any) -> Any:
    return apply("zeros_like", x)


def ones_like(x: Any) -> Any:
    return apply("ones_like", x)


def cast(x: Any, dtype: Any) -> Any:
    return apply("cast", x, dtype=np.dtype(dtype).name)


def onehot(labels: Any, ref: Any) -> Any:
    return apply("onehot", labels, ref)


def accumulate(*xs: Any) -> Any:
    return apply("accumulate", *xs)


def unbroadcast(grad: Any, like: Any) -> Any:
    """Reduce a gradient to the shape and dtype of the operand it belongs to.

    Done once, centrally, by both engines' backward passes -- never inside a VJP
    rule. Static shapes give plain sums (readable code); ``None`` sizes defer to
    ``sum_to_like`` at run time.
    """
    gs, ts = tuple(grad.shape), tuple(like.shape)
    if gs != ts or not is_static(ts):
        if is_static(gs) and is_static(ts) and broadcast([gs, ts]) == gs:
            lead = len(gs) - len(ts)
            if lead:
                grad = apply("sum", grad, axis=tuple(range(lead)))
            axes = tuple(i for i, (a, b) in enumerate(zip(gs[lead:], ts)) if b == 1 and a != 1)
            if axes:
                grad = apply("sum", grad, axis=axes, keepdims=True)
        else:
            grad = sum_to_like(grad, like)
    if grad.dtype != like.dtype:
        if np.dtype(grad.dtype).kind == "c" and np.dtype(like.dtype).kind != "c":
            # a real operand met a complex one: its gradient is the real part (autograd's convention, where
            # dL = Re(g dz) for the complex gradient g, so a real dx sees Re(g))
            grad = apply("real", grad)
        if grad.dtype != like.dtype:
            grad = cast(grad, like.dtype)
    return grad
