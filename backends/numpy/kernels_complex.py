"""NumPy kernels of the complex ops (ir/ops/complex_ops.py) and of rg.fft (ir/ops/fft.py), merged into
kernels.py's one table."""

from __future__ import annotations

from typing import Any


def _lit(v: Any) -> str:
    from .kernels import literal

    return literal(v)


def _fft_1d(op: str) -> Any:
    return lambda a, k: f"xp.fft.{op}({a[0]}, n={_lit(k['n'])}, axis={_lit(k['axis'])}, norm={_lit(k['norm'])})"


def _fft_nd(op: str) -> Any:
    def template(a: list, k: dict) -> str:
        # a size left to the input (None) is read from it: older NumPy has no -1 in s
        s = "None" if all(n is None for n in k["s"]) else \
            "(" + ", ".join(f"{a[0]}.shape[{ax}]" if n is None else _lit(n) for ax, n in zip(k["axes"], k["s"])) + ",)"
        return f"xp.fft.{op}({a[0]}, s={s}, axes={_lit(k['axes'])}, norm={_lit(k['norm'])})"
    return template


TEMPLATES: dict[str, Any] = {
    "real": "xp.real({0})", "imag": "xp.imag({0})", "conj": "xp.conj({0})",
    "angle": lambda a, k: f"xp.angle({a[0]}, deg=True)" if k["deg"] else f"xp.angle({a[0]})",
    **{op: _fft_1d(op) for op in ("fft", "ifft", "rfft", "irfft")},
    **{op: _fft_nd(op) for op in ("fft2", "ifft2", "fftn", "ifftn")},
    "fftshift": lambda a, k: f"xp.fft.fftshift({a[0]}, axes={_lit(k['axes'])})",
}

# In-place forms (``out=``): np.conj is the ufunc np.conjugate (dask.array has only the name conj)
UFUNCS = {"conj": "xp.conj"}
HELPERS: dict[str, Any] = {}
