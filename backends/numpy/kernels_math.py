"""NumPy kernels of ir/ops/math.py and of the reductions beyond sum/mean/max (ir/ops/reductions.py),
merged into kernels.TEMPLATES / UFUNCS / HELPERS (one table)."""

from __future__ import annotations

from typing import Any


def _lit(v: Any) -> str:
    from .kernels import literal

    return literal(v)


def _axis_kw(k: dict) -> str:
    from .kernels import _axis_kw as kw

    return kw(k)


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) shifted by the maximum (a maximum of +-inf is not subtracted: it gives NaN)."""
    from .kernels import xp  # the array namespace generated code is written against (read at call time)

    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out[()] if out.ndim == 0 else out


HELPERS = {"logsumexp": logsumexp}


def _reduce(fn: str) -> Any:
    def template(a: list, k: dict) -> str:
        ddof = f", ddof={_lit(k['ddof'])}" if k.get("ddof") else ""
        return f"xp.{fn}({a[0]}{_axis_kw(k)}{ddof})"
    return template


def _cumsum(a: list, k: dict) -> str:
    return f"xp.cumsum({a[0]})" if k["axis"] is None else f"xp.cumsum({a[0]}, axis={_lit(k['axis'])})"


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
    # reductions and scans
    **{op: _reduce(op) for op in ("min", "argmin", "prod", "var", "std")},
    "logsumexp": lambda a, k: f"logsumexp({a[0]}, {_lit(k['axis'])}, {_lit(k['keepdims'])})",
    "cumsum": _cumsum,
}

# In-place forms (``out=``): every one above that is a NumPy ufunc with a float result (np.sinc is a function)
UFUNCS = {op: f"xp.{op}" for op in _UNARY + _BINARY if op not in ("sinc", "isnan", "isinf", "isfinite")}
