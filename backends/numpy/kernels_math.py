"""NumPy kernels of ir/ops/math.py, merged into kernels.TEMPLATES / UFUNCS (one table)."""

from __future__ import annotations

from typing import Any


def _lit(v: Any) -> str:
    from .kernels import literal

    return literal(v)


def _clip(a: list, k: dict) -> str:
    lo = a[1] if k["has_min"] else "None"
    hi = a[-1] if k["has_max"] else "None"
    return f"xp.clip({a[0]}, {lo}, {hi})"


def _nan_to_num(a: list, k: dict) -> str:
    def num(v: Any) -> str:  # posinf/neginf None keeps NumPy's default (the dtype's extremes)
        return "None" if v is None else f"{_lit(float(v))}"

    return f"xp.nan_to_num({a[0]}, nan={num(k['nan'])}, posinf={num(k['posinf'])}, neginf={num(k['neginf'])})"


_UNARY = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1",
          "log2", "log10", "exp2", "reciprocal", "floor", "ceil", "sinc", "deg2rad", "rad2deg",
          "isnan", "isinf", "isfinite"]
_BINARY = ["arctan2", "mod", "fmod", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin"]

TEMPLATES: dict[str, Any] = {
    **{op: f"xp.{op}({{0}})" for op in _UNARY},
    **{op: f"xp.{op}({{0}}, {{1}})" for op in _BINARY},
    "round": lambda a, k: f"xp.round({a[0]})" if k["decimals"] == 0 else f"xp.round({a[0]}, {_lit(k['decimals'])})",
    "clip": _clip,
    "nan_to_num": _nan_to_num,
    "leaky_relu": lambda a, k: f"xp.where({a[0]} > 0, {a[0]}, {a[0]} * {_lit(k['slope'])})",
    "softplus": "xp.logaddexp(0, {0})",
}

# In-place forms (``out=``): every one above that is a NumPy ufunc with a float result (np.sinc is a function)
UFUNCS = {op: f"xp.{op}" for op in _UNARY + _BINARY if op not in ("sinc", "isnan", "isinf", "isfinite")}
