"""Elementwise ops. Each entry: shape/dtype rule, then one VJP rule per operand
``rule(g, out, *inputs)`` written with the public op functions (None = no
gradient flows to that operand). Un-broadcasting happens centrally."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import batch as B
from ..apply import apply
from ..dtypes import real_dtype
from ..registry import OpDef, register
from . import _rules as R
from .internal import sigmoid_grad, tanh_grad, zeros_like

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "square", "abs", "sin", "cos",
           "tanh", "sigmoid", "relu", "maximum", "minimum", "where", "sign", "stop_gradient",
           "less", "less_equal", "greater", "greater_equal", "equal", "not_equal"]


# Facts for the compiler's passes (OpDef's docstring): every op here computes elementwise and, but for
# stop_gradient (its operand itself), returns a new array; the cheapest are recomputed rather than kept.
FRESH = {"elementwise": True, "fresh": True}
CHEAP = {**FRESH, "recomputable": True}
# complex operands accepted (OpDef.complex_ok): the holomorphic ops, whose VJP g * f'(z) is the same formula as
# for real x under HIPS autograd's convention, and where/equal/not_equal/stop_gradient, which only select
CX = {"complex_ok": True}


def _op(name: str, arity: int, infer: Any, vjp: Any = None, doc: str = "", **facts: Any) -> None:
    register(OpDef(name, arity, infer, vjp=vjp, doc=doc, **facts))


# -- arithmetic ----------------------------------------------------------------------------
_op("add", 2, R.binary_ufunc("add"), (lambda g, out, x, y: g,
                              lambda g, out, x, y: g), **CHEAP, **CX, batch=B.terms)
_op("sub", 2, R.binary_ufunc("subtract"), (lambda g, out, x, y: g,
                              lambda g, out, x, y: -g), **CHEAP, **CX, batch=B.terms)
_op("mul", 2, R.binary_ufunc("multiply"), (lambda g, out, x, y: g * y,
                              lambda g, out, x, y: g * x), **CHEAP, **CX, batch=B.linear(0, 1))
_op("div", 2, R.binary_ufunc("true_divide"), (lambda g, out, x, y: g / y,
                              lambda g, out, x, y: -g * out / y), **CHEAP,
    grad_note="d/dy = -x/y^2: inf at y = 0", **CX, batch=B.linear(0))          # d(x/y)/dy = -x/y² = -out/y
_op("neg", 1, R.like_ufunc("negative"), (lambda g, out, x: -g,), **CHEAP, **CX, batch=B.linear(0))


def _constant_scalar(t: Any) -> Any:
    """The value of ``t`` when it is a scalar known while building (a Python number, a scalar constant node),
    else None."""
    if isinstance(t, (int, float, complex)) and not isinstance(t, bool):
        return t
    data = getattr(t, "_data", None)  # a graph Tensor
    if data is not None and data.get("op") == "constant" and np.ndim(data.get("value")) == 0:
        return np.asarray(data["value"]).item()  # a Python float (or complex)
    return None


def _pow_base_grad(g: Any, out: Any, x: Any, y: Any) -> Any:
    # d(x^y)/dx = y x^(y-1), and 0 where y = 0 -- also at x = 0, where the formula is 0 * inf
    k = _constant_scalar(y)
    if k == 0:
        return zeros_like(g)
    if k is not None:
        return g * y * x ** (y - 1)
    # where x = y = 0 the base is replaced by 1: y x^(y-1) is then 0, with no inf (also in its own gradient)
    return g * y * where(equal(x, 0), where(equal(y, 0), 1, x), x) ** (y - 1)


def _pow_exponent_grad(g: Any, out: Any, x: Any, y: Any) -> Any:
    # d(x^y)/dy = x^y log x, and 0 where x^y = 0 (0^y for y > 0), where the formula is 0 * -inf;
    # only built when y needs a gradient, so x ** 2.0 never computes log(x)
    return g * out * log(where(equal(out, 0), 1, x))


# the kernel writes ``**``: NumPy's fast path makes bool ** 2 a square (int8), where np.power gives int64
_op("pow", 2, R.binary_ufunc("power", operator.pow), (_pow_base_grad, _pow_exponent_grad), **FRESH,
    grad_note="d/dx = y x^(y-1), 0 where y = 0 (also at x = 0); d/dy = x^y log x, 0 where x^y = 0 "
              "(0^y with y > 0); d/dy of a negative base is NaN", **CX)

# -- transcendental and friends --------------------------------------------------------------
_op("exp", 1, R.like_ufunc("exp"), (lambda g, out, x: g * out,), **FRESH, **CX)
_op("log", 1, R.like_ufunc("log"), (lambda g, out, x: g / x,), **FRESH,
    grad_note="1/x: inf at 0", **CX)
_op("sqrt", 1, R.like_ufunc("sqrt"), (lambda g, out, x: g / (out * 2),), **FRESH,
    grad_note="1/(2 sqrt x): inf at 0", **CX)
_op("square", 1, R.like_ufunc("square"), (lambda g, out, x: g * (x * 2),), **CHEAP, **CX)


def _abs_rule(x: Any) -> tuple:
    return x.shape, real_dtype(x.dtype)  # |z| of a complex z is real, as in NumPy


def _abs_vjp(g: Any, out: Any, x: Any) -> Any:
    if np.dtype(x.dtype).kind == "c":  # d|z| = Re(conj(z) dz) / |z|: the gradient conj(z)/|z|, 0 at z = 0
        return g * apply("conj", x) / where(equal(out, 0), 1, out)
    return g * sign(x)                                   # abs'(0) = sign(0) = 0


_op("abs", 1, _abs_rule, (_abs_vjp,), **CHEAP, **CX,
    grad_note="sign(x): 0 at x = 0; complex z: conj(z)/|z| (autograd's convention), 0 at z = 0")

_op("sin", 1, R.like_ufunc("sin"), (lambda g, out, x: g * cos(x),), **FRESH, **CX)
_op("cos", 1, R.like_ufunc("cos"), (lambda g, out, x: -g * sin(x),), **FRESH, **CX)
_op("tanh", 1, R.like_ufunc("tanh"), (lambda g, out, x: tanh_grad(g, out),), **FRESH, **CX)       # g * (1 - out²), one op
_op("sigmoid", 1, R.to_float, (lambda g, out, x: sigmoid_grad(g, out),), **FRESH)  # g * out * (1 - out), one op
_op("relu", 1, R.like_ufunc("maximum", 0), (lambda g, out, x: where(out > 0, g, 0),), **CHEAP,  # out > 0 iff x > 0: keeps y, not x
    grad_note="1 where x > 0, else 0 (0 at x = 0)")           # relu'(0) = 0

# -- selection: ties share the gradient equally ------------------------------------------------
_op("maximum", 2, R.binary_ufunc("maximum"), (lambda g, out, x, y: where(x > y, g, where(equal(x, y), g * 0.5, 0)),
                                  lambda g, out, x, y: where(y > x, g, where(equal(x, y), g * 0.5, 0))), **CHEAP,
    grad_note="to the larger operand; ties share it equally (half each)")
_op("minimum", 2, R.binary_ufunc("minimum"), (lambda g, out, x, y: where(x < y, g, where(equal(x, y), g * 0.5, 0)),
                                  lambda g, out, x, y: where(y < x, g, where(equal(x, y), g * 0.5, 0))), **CHEAP,
    grad_note="to the smaller operand; ties share it equally (half each)")


def _where_rule(c: Any, x: Any, y: Any) -> tuple:
    return R.broadcast_shape([c, x, y]), R.promote(x, y)


_op("where", 3, _where_rule, (None,
                              lambda g, out, c, x, y: where(c, g, 0),
                              lambda g, out, c, x, y: where(c, 0, g)), **FRESH, **CX,
    grad_note="to x where cond holds, to y elsewhere; none to cond")

# -- no gradient (documented zero) ---------------------------------------------------------------
_op("sign", 1, R.like_ufunc("sign"), doc="sign(x): -1, 0 or 1; zero gradient.", **CHEAP)
_op("stop_gradient", 1, R.same, doc="x unchanged in the forward pass; no gradient flows through it.",
    elementwise=True, **CX)  # not fresh: its kernel returns the operand itself
for _name in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"):
    _op(_name, 2, R.compare, doc=f"{_name}(x, y) elementwise, as bool; zero gradient.", **CHEAP,
        complex_ok=_name in ("equal", "not_equal"))  # complex numbers are not ordered


# -- public functions -----------------------------------------------------------------------------
def add(x: Any, y: Any) -> Any:
    """x + y with broadcasting. ``rg.add(g.input("a"), 1.0)``"""
    return apply("add", x, y)


def sub(x: Any, y: Any) -> Any:
    """x - y with broadcasting."""
    return apply("sub", x, y)


def mul(x: Any, y: Any) -> Any:
    """x * y with broadcasting. ``rg.mul(apple, apple_num)``"""
    return apply("mul", x, y)


def div(x: Any, y: Any) -> Any:
    """x / y (true division) with broadcasting."""
    return apply("div", x, y)


def neg(x: Any) -> Any:
    """-x."""
    return apply("neg", x)


def pow(x: Any, y: Any) -> Any:  # noqa: A001  (mirrors NumPy's name)
    """x ** y. ``rg.pow(x, 3.0)``"""
    return apply("pow", x, y)


def exp(x: Any) -> Any:
    """e ** x. ``rg.exp(x)``"""
    return apply("exp", x)


def log(x: Any) -> Any:
    """Natural logarithm."""
    return apply("log", x)


def sqrt(x: Any) -> Any:
    """Square root."""
    return apply("sqrt", x)


def square(x: Any) -> Any:
    """x * x."""
    return apply("square", x)


def abs(x: Any) -> Any:  # noqa: A001
    """|x| (for a complex x its modulus, real); the gradient at 0 is 0."""
    return apply("abs", x)


def sin(x: Any) -> Any:
    """Sine."""
    return apply("sin", x)


def cos(x: Any) -> Any:
    """Cosine."""
    return apply("cos", x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    return apply("tanh", x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e ** -x); its gradient is y (1 - y). ``rg.sigmoid(x)``"""
    return apply("sigmoid", x)


def relu(x: Any) -> Any:
    """max(x, 0); passes the gradient only where x > 0. ``rg.relu(x @ W)``"""
    return apply("relu", x)


def maximum(x: Any, y: Any) -> Any:
    """Elementwise maximum; ties share the gradient equally."""
    return apply("maximum", x, y)


def minimum(x: Any, y: Any) -> Any:
    """Elementwise minimum; ties share the gradient equally."""
    return apply("minimum", x, y)


def where(cond: Any, x: Any, y: Any) -> Any:
    """x where cond is true, else y (broadcasting all three). ``rg.where(x > 0, x, 0.0)``"""
    return apply("where", cond, x, y)


def sign(x: Any) -> Any:
    """-1, 0 or 1 elementwise; zero gradient."""
    return apply("sign", x)


def stop_gradient(x: Any) -> Any:
    """x in the forward pass; treated as a constant by ``rg.grad``."""
    return apply("stop_gradient", x)


def less(x: Any, y: Any) -> Any:
    """x < y as bool (also ``x < y`` on tensors); zero gradient."""
    return apply("less", x, y)


def less_equal(x: Any, y: Any) -> Any:
    """x <= y as bool; zero gradient."""
    return apply("less_equal", x, y)


def greater(x: Any, y: Any) -> Any:
    """x > y as bool; zero gradient."""
    return apply("greater", x, y)


def greater_equal(x: Any, y: Any) -> Any:
    """x >= y as bool; zero gradient."""
    return apply("greater_equal", x, y)


def equal(x: Any, y: Any) -> Any:
    """x == y elementwise as bool (``==`` on tensors compares identity); zero gradient."""
    return apply("equal", x, y)


def not_equal(x: Any, y: Any) -> Any:
    """x != y elementwise as bool; zero gradient."""
    return apply("not_equal", x, y)


