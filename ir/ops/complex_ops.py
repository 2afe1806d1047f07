"""Complex numbers: rg.real, rg.imag, rg.conj and rg.angle (rg.abs of a complex z is |z|, in elementwise.py).

The gradient convention is HIPS autograd's (JAX documents the same one for real-valued outputs): the
gradient ``g`` of a real loss L with respect to a complex ``z = x + iy`` is ``dL/dx - i dL/dy``, so that
``dL = Re(g dz)``. Then a holomorphic op's VJP is ``g * f'(z)`` -- the very formula of its real VJP, no
conjugate anywhere -- and only the ops that are not holomorphic need their own rule: ``real`` passes g
on (as complex), ``imag`` gives ``-i g``, ``conj`` gives ``conj(g)``, ``abs`` gives ``g conj(z)/|z|``,
``angle`` gives ``-i g / z``. A real operand of a complex op receives the real part of its complex
gradient (``ir.ops.internal.unbroadcast``). ``rg.grad`` of a complex output seeds it with 1, so for a
holomorphic f it returns f'(z), as autograd does.
"""

from __future__ import annotations

import math as _m
from typing import Any

import numpy as np

from ..apply import apply
from ..dtypes import computed_dtype, real_dtype
from ..registry import Aval, OpDef, ShapeRuleError, register
from ._rules import like_ufunc

__all__ = ["real", "imag", "conj", "angle"]


def _is_complex(t: Any) -> bool:
    return np.dtype(t.dtype).kind == "c"


def _real_part_rule(x: Aval) -> tuple:
    return x.shape, real_dtype(x.dtype)  # NumPy: the real or imaginary part of a real array keeps its dtype


def _angle_attrs(avals: list, deg: Any = False) -> dict:
    if not isinstance(deg, (bool, np.bool_)):
        raise ShapeRuleError(f"deg must be True or False, got {deg!r}", "pass deg=True for degrees")
    return {"deg": bool(deg)}


def _angle_rule(x: Aval, deg: bool) -> tuple:
    return x.shape, computed_dtype(np.angle, x.dtype, "angle")  # asked of NumPy: angle of int8 is float16


def _angle_vjp(g: Any, out: Any, x: Any, deg: bool) -> Any:
    if not _is_complex(x):
        return None  # 0 or pi: piecewise constant
    scale = 180 / _m.pi if deg else 1.0
    return g * (-1j * scale) / x  # d angle = Im(dz / z) = Re(-i dz / z)


_NOTE = "autograd's convention: for a real loss L of z = x + iy the gradient is dL/dx - i dL/dy"
register(OpDef("real", 1, _real_part_rule, vjp=(lambda g, out, x: conj(g),), complex_ok=True,
               doc="The real part (a view, as NumPy's).",
               grad_note=f"g itself, as a complex gradient of z ({_NOTE})"))
register(OpDef("imag", 1, _real_part_rule, vjp=(lambda g, out, x: g * -1j if _is_complex(x) else None,),
               complex_ok=True, doc="The imaginary part (0 for a real x).",
               grad_note="-i g (the imaginary part's gradient in autograd's convention); none for a real x"))
register(OpDef("conj", 1, like_ufunc("conjugate"), vjp=(lambda g, out, x: conj(g),), complex_ok=True,
               elementwise=True, fresh=True, recomputable=True,
               grad_note="conj(g): the conjugate is not holomorphic"))
register(OpDef("angle", 1, _angle_rule, attrs={"deg": False}, normalize=_angle_attrs, vjp=(_angle_vjp,),
               complex_ok=True, elementwise=True, fresh=True,
               grad_note="-i g / z (times 180/pi with deg=True): inf at z = 0; 0 for a real x (0 or pi)"))


# -- public functions ---------------------------------------------------------------------------------
def real(val: Any) -> Any:
    """The real part of a complex tensor (a real one unchanged). ``rg.real(z * z)``"""
    return apply("real", val)


def imag(val: Any) -> Any:
    """The imaginary part (zeros for a real tensor). ``rg.imag(z)``"""
    return apply("imag", val)


def conj(x: Any) -> Any:
    """The complex conjugate, elementwise. ``rg.conj(z)``"""
    return apply("conj", x)


def angle(z: Any, deg: bool = False) -> Any:
    """The argument of each complex number, in (-pi, pi] (degrees with ``deg=True``). ``rg.angle(z)``"""
    return apply("angle", z, deg=deg)
