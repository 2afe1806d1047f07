"""More elementwise math, under NumPy's names and signatures: trigonometric and hyperbolic
functions and their inverses, logarithms and exponentials in other bases, rounding, clipping,
remainders, NaN handling and two activations (leaky_relu, softplus).

Each entry: the shape/dtype rule, one VJP rule per operand written with public ops (so it
differentiates again) and ``grad_note``, the gradient's convention where the function has
kinks, steps or poles (docs/ops.md is generated from these notes)."""

from __future__ import annotations

import math as _m
from typing import Any, Optional

import numpy as np

from ..apply import apply
from ..dtypes import computed_dtype
from ..registry import Aval, OpDef, ShapeRuleError, register
from . import _rules as R
from .elementwise import cos, equal, exp, log, maximum, sigmoid, sin, sqrt, where

__all__ = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
           "log1p", "expm1", "log2", "log10", "exp2", "reciprocal", "floor", "ceil", "round", "clip", "mod",
           "fmod", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "sinc", "deg2rad", "rad2deg",
           "nan_to_num", "leaky_relu", "softplus", "isnan", "isinf", "isfinite"]

LN2, LN10 = _m.log(2.0), _m.log(10.0)


# Facts for the compiler's passes (OpDef's docstring): every op here is elementwise and its kernel returns a
# new array; the cheap ones (about one pass, no transcendental function) are recomputed rather than kept.
CHEAP_OPS = {"reciprocal", "floor", "ceil", "round", "clip", "fmax", "fmin", "deg2rad", "rad2deg", "nan_to_num",
             "leaky_relu", "isnan", "isinf", "isfinite"}


# Complex operands accepted (OpDef.complex_ok): the holomorphic ones, whose VJP g * f'(z) is the real formula
# under autograd's convention (ir/ops/complex.py); the rest order, round or split real numbers.
COMPLEX_OPS = {"tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arctanh", "log1p", "expm1", "log2",
               "log10", "exp2", "reciprocal", "deg2rad", "rad2deg"}


def _op(name: str, arity: Optional[int], infer: Any, vjp: Any = None, note: str = "", **kw: Any) -> None:
    register(OpDef(name, arity, infer, vjp=vjp, grad_note=note, elementwise=True, fresh=True,
                   recomputable=name in CHEAP_OPS, complex_ok=name in COMPLEX_OPS, **kw))


def _safe(cond: Any, x: Any, fill: float = 1.0) -> Any:
    """x where cond holds, else ``fill``: the inner half of the double ``where`` that keeps a masked-out
    pole from turning the gradient (and the gradient of the gradient) into 0 * inf = NaN."""
    return where(cond, x, fill)


# -- trigonometric and hyperbolic ---------------------------------------------------------------------
_op("tan", 1, R.like_ufunc("tan"), (lambda g, out, x: g * (out * out + 1),), "1 + tan(x)^2; poles at pi/2 + k pi as NumPy's values")
_op("sinh", 1, R.like_ufunc("sinh"), (lambda g, out, x: g * cosh(x),))
_op("cosh", 1, R.like_ufunc("cosh"), (lambda g, out, x: g * sinh(x),))
_op("arcsin", 1, R.like_ufunc("arcsin"), (lambda g, out, x: g / sqrt(1 - x * x),), "1/sqrt(1 - x^2): inf at x = +-1, NaN outside [-1, 1]")
_op("arccos", 1, R.like_ufunc("arccos"), (lambda g, out, x: -g / sqrt(1 - x * x),), "-1/sqrt(1 - x^2): -inf at x = +-1, NaN outside [-1, 1]")
_op("arctan", 1, R.like_ufunc("arctan"), (lambda g, out, x: g / (x * x + 1),))
_op("arctan2", 2, R.binary_ufunc("arctan2"), (lambda g, out, y, x: g * x / (x * x + y * y),
                            lambda g, out, y, x: -g * y / (x * x + y * y)),
    "d/dy = x/(x^2+y^2), d/dx = -y/(x^2+y^2); NaN at (0, 0), where the angle jumps")
_op("arcsinh", 1, R.like_ufunc("arcsinh"), (lambda g, out, x: g / sqrt(x * x + 1),))
_op("arccosh", 1, R.like_ufunc("arccosh"), (lambda g, out, x: g / (sqrt(x - 1) * sqrt(x + 1)),), "inf at x = 1, NaN below 1")
_op("arctanh", 1, R.like_ufunc("arctanh"), (lambda g, out, x: g / (1 - x * x),), "1/(1 - x^2): inf at x = +-1")

# -- logarithms and exponentials ------------------------------------------------------------------------
_op("log1p", 1, R.like_ufunc("log1p"), (lambda g, out, x: g / (x + 1),), "1/(1 + x): inf at x = -1")
_op("expm1", 1, R.like_ufunc("expm1"), (lambda g, out, x: g * (out + 1),))
_op("log2", 1, R.like_ufunc("log2"), (lambda g, out, x: g / (x * LN2),), "1/(x ln 2): inf at 0")
_op("log10", 1, R.like_ufunc("log10"), (lambda g, out, x: g / (x * LN10),), "1/(x ln 10): inf at 0")
_op("exp2", 1, R.like_ufunc("exp2"), (lambda g, out, x: g * out * LN2,))
_op("reciprocal", 1, R.like_ufunc("reciprocal"), (lambda g, out, x: -g * out * out,), "-1/x^2: inf at 0 (integers: NumPy's integer 1/x)")
_op("softplus", 1, R.like_ufunc("logaddexp", 0), (lambda g, out, x: g * sigmoid(x),), "sigmoid(x); computed as logaddexp(0, x), so no overflow")
_op("logaddexp", 2, R.binary_ufunc("logaddexp"), (lambda g, out, x, y: g * exp(x - out), lambda g, out, x, y: g * exp(y - out)),
    "softmax weights exp(x - out), exp(y - out): equal operands get half each")
_op("logaddexp2", 2, R.binary_ufunc("logaddexp2"), (lambda g, out, x, y: g * exp2(x - out), lambda g, out, x, y: g * exp2(y - out)),
    "2^(x - out), 2^(y - out): equal operands get half each")

# -- rounding: piecewise constant, so the gradient is 0 (also at the jumps) --------------------------------
_ZERO = "0 everywhere (also at the jumps, where the derivative does not exist)"


def _round_attrs(avals: list, decimals: Any = 0) -> dict:
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise ShapeRuleError(f"decimals={decimals!r} must be an int", "give decimals as an int, e.g. 2")
    return {"decimals": int(decimals)}


def _round_rule(x: Aval, decimals: int = 0) -> tuple:
    # np.round is no ufunc: integers keep their dtype, bools become float16 (or fail with decimals != 0)
    return x.shape, computed_dtype(lambda a: np.round(a, decimals), x.dtype, what=f"round(decimals={decimals})")


_op("floor", 1, R.same, None, _ZERO)
_op("ceil", 1, R.same, None, _ZERO)
_op("round", 1, _round_rule, None, _ZERO + "; halves round to even, as NumPy", attrs={"decimals": 0}, normalize=_round_attrs)
_op("deg2rad", 1, R.like_ufunc("deg2rad"), (lambda g, out, x: g * (_m.pi / 180),))
_op("rad2deg", 1, R.like_ufunc("rad2deg"), (lambda g, out, x: g * (180 / _m.pi),))


# -- clip: bounds are operands (scalars or arrays), each may be None -------------------------------------
def _clip_attrs(avals: list, has_min: bool = True, has_max: bool = True) -> dict:
    if not isinstance(has_min, bool) or not isinstance(has_max, bool) or 1 + has_min + has_max != len(avals):
        raise ShapeRuleError(f"clip with has_min={has_min!r}, has_max={has_max!r} needs "
                             f"{1 + bool(has_min) + bool(has_max)} operands, got {len(avals)}",
                             "give x and the bounds that are not None")
    if not (has_min or has_max):
        raise ShapeRuleError("clip needs a_min or a_max", "give at least one bound (NumPy refuses two Nones too)")
    return {"has_min": has_min, "has_max": has_max}


def _clip_rule(*avals: Aval, has_min: bool, has_max: bool) -> tuple:
    return R.broadcast_shape(list(avals)), R.promote(*avals)


def _clip_vjp(g: Any, out: Any, x: Any, *bounds: Any, index: int, has_min: bool, has_max: bool) -> Any:
    lo = bounds[0] if has_min else None
    hi = bounds[-1] if has_max else None
    if index == 0:  # x inside [a_min, a_max], bounds included
        inside = g if hi is None else where(x <= hi, g, 0)
        return inside if lo is None else where(x >= lo, inside, 0)
    if index == 1 and has_min:  # x below a_min, and a_min itself is the result (not above a_max)
        below = where(x < lo, g, 0)
        return below if hi is None else where(lo <= hi, below, 0)
    return where((x if lo is None else maximum(x, lo)) > hi, g, 0)  # a_max is the result


_op("clip", None, _clip_rule, _clip_vjp,
    "to x where a_min <= x <= a_max (bounds included); to a_min where x < a_min, to a_max where the result is a_max",
    attrs={"has_min": True, "has_max": True}, normalize=_clip_attrs)


# -- remainders: x - k y with k an integer that is constant between the jumps ------------------------------
def _quotient(x: Any, y: Any, out: Any) -> Any:
    # k = (x - out) / y exactly an integer (rounded), so its own gradient is 0, as between the jumps
    return round((x - out) / y)


_op("mod", 2, R.binary_ufunc("mod"), (lambda g, out, x, y: g, lambda g, out, x, y: -g * _quotient(x, y, out)),
    "d/dx = 1, d/dy = -floor(x/y) (the formulas between the jumps, also at them)")
_op("fmod", 2, R.binary_ufunc("fmod"), (lambda g, out, x, y: g, lambda g, out, x, y: -g * _quotient(x, y, out)),
    "d/dx = 1, d/dy = -trunc(x/y) (the formulas between the jumps, also at them)")


def _hypot_vjp(which: int) -> Any:
    def rule(g: Any, out: Any, x: Any, y: Any) -> Any:
        pos = out > 0
        return where(pos, g * (x, y)[which] / _safe(pos, out), 0)
    return rule


_op("hypot", 2, R.binary_ufunc("hypot"), (_hypot_vjp(0), _hypot_vjp(1)), "x/hypot, y/hypot; 0 at (0, 0) (a subgradient)")


# -- NaN-aware selection ---------------------------------------------------------------------------------
def _fpick(first: bool, better: Any) -> Any:
    """The gradient of fmax/fmin to operand x (first) or y: as maximum's (ties share equally), and all of it
    to the one operand that is not NaN when the other is (fmax(NaN, y) = y)."""
    def rule(g: Any, out: Any, x: Any, y: Any) -> Any:
        a, b = (x, y) if first else (y, x)
        both = where(isnan(a), g * 0.5, g)  # b NaN: a gets it all (half each when both are NaN)
        return where(isnan(b), both, where(better(a, b), g, where(equal(a, b), g * 0.5, 0)))
    return rule


_greater, _less = (lambda a, b: a > b), (lambda a, b: a < b)
_op("fmax", 2, R.binary_ufunc("fmax"), (_fpick(True, _greater), _fpick(False, _greater)),
    "as maximum: ties share equally; an operand facing a NaN gets all of it (half each when both are NaN)")
_op("fmin", 2, R.binary_ufunc("fmin"), (_fpick(True, _less), _fpick(False, _less)),
    "as minimum: ties share equally; an operand facing a NaN gets all of it (half each when both are NaN)")


# -- sinc -------------------------------------------------------------------------------------------------
def _sinc_vjp(g: Any, out: Any, x: Any) -> Any:
    # (cos(pi x) - sinc(x)) / x away from 0; near 0 its Taylor series (to x^5: float64-exact for |x| < 0.01),
    # which is also right to differentiate again at x = 0 (sinc''(0) = -pi^2/3).
    near = apply("abs", x) < 0.01
    x2 = x * x
    p2 = _m.pi ** 2
    series = x * (-p2 / 3 + x2 * (p2 * p2 / 30 - x2 * (p2 ** 3 / 840)))
    far = (cos(x * _m.pi) - out) / where(near, 1.0, x)
    return g * where(near, series, far)


_op("sinc", 1, R.to_float, (_sinc_vjp,), "(cos(pi x) - sinc(x))/x; 0 at x = 0 (a Taylor series near 0)")


# -- NaN and infinities -----------------------------------------------------------------------------------
def _finite_float(v: Any, what: str) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ShapeRuleError(f"{what}={v!r} must be a number or None", f"give {what} as a float")
    return float(v)


def _nan_to_num_attrs(avals: list, nan: Any = 0.0, posinf: Any = None, neginf: Any = None) -> dict:
    nan = _finite_float(nan, "nan")
    return {"nan": 0.0 if nan is None else nan, "posinf": _finite_float(posinf, "posinf"),
            "neginf": _finite_float(neginf, "neginf")}


_op("nan_to_num", 1, R.same, (lambda g, out, x, nan, posinf, neginf: where(isfinite(x), g, 0),),
    "1 where x is finite, 0 where a NaN or an infinity was replaced",
    attrs={"nan": 0.0, "posinf": None, "neginf": None}, normalize=_nan_to_num_attrs)
for _name in ("isnan", "isinf", "isfinite"):
    _op(_name, 1, R.compare, None, "none (a bool result)")


# -- activations ------------------------------------------------------------------------------------------
def _slope_attrs(avals: list, slope: Any = 0.01) -> dict:
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.integer, np.floating)) or not np.isfinite(slope):
        raise ShapeRuleError(f"slope={slope!r} must be a finite number", "give slope as a float, e.g. 0.01")
    return {"slope": float(slope)}


_op("leaky_relu", 1, R.to_float, (lambda g, out, x, slope: where(x > 0, g, g * slope),),
    "1 where x > 0, slope elsewhere (slope at x = 0, as relu'(0) = 0)", attrs={"slope": 0.01}, normalize=_slope_attrs)


# -- public functions -----------------------------------------------------------------------------------
def tan(x: Any) -> Any:
    """Tangent. ``rg.tan(x)``"""
    return apply("tan", x)


def sinh(x: Any) -> Any:
    """Hyperbolic sine."""
    return apply("sinh", x)


def cosh(x: Any) -> Any:
    """Hyperbolic cosine."""
    return apply("cosh", x)


def arcsin(x: Any) -> Any:
    """Inverse sine, in [-pi/2, pi/2]; NaN outside [-1, 1] as NumPy."""
    return apply("arcsin", x)


def arccos(x: Any) -> Any:
    """Inverse cosine, in [0, pi]."""
    return apply("arccos", x)


def arctan(x: Any) -> Any:
    """Inverse tangent."""
    return apply("arctan", x)


def arctan2(x1: Any, x2: Any) -> Any:
    """The angle of the point (x2, x1), as NumPy's ``arctan2(y, x)``. ``rg.arctan2(y, x)``"""
    return apply("arctan2", x1, x2)


def arcsinh(x: Any) -> Any:
    """Inverse hyperbolic sine."""
    return apply("arcsinh", x)


def arccosh(x: Any) -> Any:
    """Inverse hyperbolic cosine (x >= 1)."""
    return apply("arccosh", x)


def arctanh(x: Any) -> Any:
    """Inverse hyperbolic tangent (|x| < 1)."""
    return apply("arctanh", x)


def log1p(x: Any) -> Any:
    """log(1 + x), accurate for small x."""
    return apply("log1p", x)


def expm1(x: Any) -> Any:
    """exp(x) - 1, accurate for small x."""
    return apply("expm1", x)


def log2(x: Any) -> Any:
    """Base-2 logarithm."""
    return apply("log2", x)


def log10(x: Any) -> Any:
    """Base-10 logarithm."""
    return apply("log10", x)


def exp2(x: Any) -> Any:
    """2 ** x."""
    return apply("exp2", x)


def reciprocal(x: Any) -> Any:
    """1 / x, keeping x's dtype (as NumPy)."""
    return apply("reciprocal", x)


def floor(x: Any) -> Any:
    """Largest integer <= x; zero gradient."""
    return apply("floor", x)


def ceil(x: Any) -> Any:
    """Smallest integer >= x; zero gradient."""
    return apply("ceil", x)


def round(x: Any, decimals: int = 0) -> Any:  # noqa: A001  (mirrors NumPy's name)
    """x rounded to ``decimals`` places, halves to even; zero gradient. ``rg.round(x, 2)``"""
    return apply("round", x, decimals=decimals)


def clip(a: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """a limited to [a_min, a_max] (either may be None; scalars or arrays). ``rg.clip(x, 0.0, 1.0)``"""
    bounds = [b for b in (a_min, a_max) if b is not None]
    return apply("clip", a, *bounds, has_min=a_min is not None, has_max=a_max is not None)


def mod(x1: Any, x2: Any) -> Any:
    """Remainder with the sign of the divisor (NumPy's ``mod`` / ``%``)."""
    return apply("mod", x1, x2)


def fmod(x1: Any, x2: Any) -> Any:
    """Remainder with the sign of the dividend (C's fmod)."""
    return apply("fmod", x1, x2)


def hypot(x1: Any, x2: Any) -> Any:
    """sqrt(x1**2 + x2**2) without overflow."""
    return apply("hypot", x1, x2)


def logaddexp(x1: Any, x2: Any) -> Any:
    """log(exp(x1) + exp(x2)) without overflow."""
    return apply("logaddexp", x1, x2)


def logaddexp2(x1: Any, x2: Any) -> Any:
    """log2(2**x1 + 2**x2) without overflow."""
    return apply("logaddexp2", x1, x2)


def fmax(x1: Any, x2: Any) -> Any:
    """Elementwise maximum ignoring NaNs; ties share the gradient equally."""
    return apply("fmax", x1, x2)


def fmin(x1: Any, x2: Any) -> Any:
    """Elementwise minimum ignoring NaNs; ties share the gradient equally."""
    return apply("fmin", x1, x2)


def sinc(x: Any) -> Any:
    """sin(pi x) / (pi x), 1 at 0 (NumPy's normalised sinc)."""
    return apply("sinc", x)


def deg2rad(x: Any) -> Any:
    """Degrees to radians."""
    return apply("deg2rad", x)


def rad2deg(x: Any) -> Any:
    """Radians to degrees."""
    return apply("rad2deg", x)


def nan_to_num(x: Any, nan: float = 0.0, posinf: Optional[float] = None, neginf: Optional[float] = None) -> Any:
    """NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (None: the dtype's largest finite values).
    ``rg.nan_to_num(x, posinf=1e6)``"""
    return apply("nan_to_num", x, nan=nan, posinf=posinf, neginf=neginf)


def isnan(x: Any) -> Any:
    """True where x is NaN; zero gradient."""
    return apply("isnan", x)


def isinf(x: Any) -> Any:
    """True where x is +-inf; zero gradient."""
    return apply("isinf", x)


def isfinite(x: Any) -> Any:
    """True where x is neither NaN nor infinite; zero gradient."""
    return apply("isfinite", x)


def leaky_relu(x: Any, slope: float = 0.01) -> Any:
    """x where x > 0, else slope * x. ``rg.leaky_relu(x @ W, slope=0.1)``"""
    return apply("leaky_relu", x, slope=slope)


def softplus(x: Any) -> Any:
    """log(1 + exp(x)), computed without overflow; its gradient is sigmoid(x)."""
    return apply("softplus", x)
