"""Random-graph generators of the complex ops, rg.fft and rg.linalg, merged into tests/randgraph.py's SMOOTH
table (each is smooth where it is drawn: away from z = 0, branch cuts, singular matrices and coinciding
eigen/singular values).

The random graphs are real: each generator here goes from real values to real values, through complex
ones (``x + 1j * y``, a transform) or matrices built to be well-conditioned (``4 I + tanh(A)``: the
off-diagonal sum of a row stays below the diagonal, so inv, det, solve never meet a near-singular
matrix). Builder.pick only hands out real float values, so no other generator meets a complex one.
rg.fft and rg.linalg need the sizes of the axes they work on declared: a reshape to the value's own
static shape gives them that, also when every input size is declared None (``unknown_sizes``)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st

from randgraph import Ref, _Builder


def _complex(b: _Builder) -> Optional[Ref]:
    """``p + 1j * y`` with p >= 0.2: clear of 0 and of the cut along the negative real axis."""
    x = b.pick()
    re = x and b.positive(x)
    y = re and b.compatible(re)
    y = y and b.bounded(y, 2.0)
    im = y and b.add("mul", y, b.choice([1j, -0.5j, 1.5j]))
    return im and b.add("add", re, im)


def _back_to_real(b: _Builder, z: Optional[Ref]) -> Optional[Ref]:
    return z and b.add(b.choice(["real", "imag"]), z)


def _real_part(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        z = _complex(b)
        if z and b.choice([True, False]):  # a holomorphic op on the way
            z = b.add(b.choice(["mul", "add"]), z, z) if b.choice([True, False]) else b.add("exp", z)
        return z and b.add(fn, z)
    return gen


def _conj(b: _Builder) -> Any:
    z = _complex(b)
    c = z and b.add("conj", z)
    w = c and b.add("mul", c, b.choice([z, 1 - 2j]))
    return _back_to_real(b, w)


def _angle(b: _Builder) -> Any:
    z = _complex(b)
    return z and b.add("angle", z, deg=b.choice([False, True]))


def _abs_complex(b: _Builder) -> Any:
    z = _complex(b)
    return z and b.add("abs", z)


# -- rg.fft ---------------------------------------------------------------------------------------------------
def _static(b: _Builder, ok: Any) -> Optional[Ref]:
    """A value satisfying ``ok``, reshaped to its own shape: its sizes are then declared in every build."""
    x = b.pick(ok)
    return x and b.add("reshape", x, b.shape(x))


def _maybe_complex(b: _Builder, x: Optional[Ref]) -> Optional[Ref]:
    return x and (b.add("mul", x, b.choice([1 + 1j, 0.5 - 2j])) if b.choice([True, False]) else x)


def _fft_1d(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        x = _static(b, lambda v: v.ndim >= 1)
        if x is None:
            return None
        if fn == "irfft":
            x = b.add("fft.rfft", x) if b.choice([True, False]) else b.add("mul", x, 1 - 1j)
        elif fn != "rfft":
            x = _maybe_complex(b, x)
        if x is None:
            return None
        ndim = len(b.shape(x))
        n = b.choice([None, None, 1, 3, 4, 6])
        norm = b.choice([None, "ortho", "forward"])
        out = x and b.add(f"fft.{fn}", x, n=n, axis=b.draw(st.integers(-ndim, ndim - 1)), norm=norm)
        return out if fn == "irfft" else _back_to_real(b, out)
    return gen


def _fft_nd(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        x = _maybe_complex(b, _static(b, lambda v: v.ndim >= 2))
        if x is None:
            return None
        ndim = len(b.shape(x))
        if fn in ("fft2", "ifft2"):
            axes = (-2, -1)
        else:
            axes = tuple(b.draw(st.permutations(range(ndim))))[: b.draw(st.integers(1, ndim))]
        s = b.choice([None, tuple(b.draw(st.integers(1, 4)) for _ in axes)])
        out = b.add(f"fft.{fn}", x, s=s, axes=axes, norm=b.choice([None, "ortho", "forward"]))
        return _back_to_real(b, out)
    return gen


def _fftshift(b: _Builder) -> Any:
    x = _static(b, lambda v: v.ndim >= 1)
    if x is None:
        return None
    ndim = len(b.shape(x))
    return b.add("fft.fftshift", x, axes=b.choice([None, b.draw(st.integers(-ndim, ndim - 1))]))


# -- rg.linalg ------------------------------------------------------------------------------------------------
def _matrix(b: _Builder, n: int, batch: tuple = ()) -> Optional[Ref]:
    """A well-conditioned (batch + (n, n)) matrix from a picked value: 4 I + tanh(x W) reshaped (n <= 3: each
    row's off-diagonal sum stays below 2 < its diagonal), W a constant (so a value of any size feeds every entry)."""
    x = b.pick()
    if x is None:
        return None
    k = int(np.prod(b.shape(x), dtype=np.int64))
    cells = int(np.prod(batch + (n, n), dtype=np.int64))
    flat = b.add("reshape", x, (-1,))
    mixed = flat and b.add("matmul", flat, b.rng.normal(size=(k, cells)) / np.sqrt(k))
    a = mixed and b.add("reshape", mixed, batch + (n, n))
    t = a and b.add("tanh", a)
    return t and b.add("add", t, 4 * np.eye(n))


def _spd(b: _Builder, n: int) -> Optional[Ref]:
    """M M^T, M non-singular: symmetric positive definite (cholesky's and eigh's domain)."""
    m = _matrix(b, n)
    mt = m and b.add("transpose", m, None)
    return mt and b.add("matmul", m, mt)


def _size(b: _Builder) -> int:
    return b.choice([2, 3])


def _separated(values: np.ndarray) -> bool:
    """Eigen/singular values at least 0.1 apart (their vectors' gradients divide by the gaps)."""
    v = np.sort(np.ravel(values))
    return v.size < 2 or float(np.min(np.diff(v))) > 0.1


def _inv(b: _Builder) -> Any:
    m = _matrix(b, _size(b), b.choice([(), (2,)]))
    return m and b.add("linalg.inv", m)


def _det(b: _Builder) -> Any:
    m = _matrix(b, _size(b), b.choice([(), (2,)]))
    return m and b.add("linalg.det", m)


def _slogdet(b: _Builder) -> Any:
    m = _matrix(b, _size(b))
    return m and b.add("linalg.slogdet", m, part=1)  # logabsdet (the sign is piecewise constant)


def _solve(b: _Builder) -> Any:
    n = _size(b)
    m = _matrix(b, n)
    if m is None:
        return None
    rhs = _static(b, lambda v: v.shape in ((n,), (n, 1), (n, 2)))
    return b.add("linalg.solve", m, b.rng.normal(size=(n, b.choice([1, 2]))) if rhs is None else rhs)


def _cholesky(b: _Builder) -> Any:
    s = _spd(b, _size(b))
    return s and b.add("linalg.cholesky", s)


def _eigh(b: _Builder) -> Any:
    s = _spd(b, _size(b))
    if s is None or not _separated(np.linalg.eigvalsh(b.vals[s.i])):
        return None
    if b.choice([True, False]):
        return b.add("linalg.eigh", s, part=0)
    v = b.add("linalg.eigh", s, part=1)
    return v and b.add("square", v)  # the eigenvectors' signs are arbitrary; their squares are not


def _svd(b: _Builder) -> Any:
    m = _matrix(b, _size(b))
    if m is None or not _separated(np.linalg.svd(b.vals[m.i], compute_uv=False)):
        return None
    part = b.choice([0, 1, 2])
    out = b.add("linalg.svd", m, full_matrices=False, part=part)
    return out if part == 1 else out and b.add("square", out)


def _qr(b: _Builder) -> Any:
    m = _matrix(b, _size(b))
    out = m and b.add("linalg.qr", m, part=b.choice([0, 1]))
    # Q and R are unique up to the sign of each column of Q (row of R), and LAPACK's sign flips where a
    # column's part below the diagonal passes through exact zero (no reflection): two evaluation orders of
    # the same matrix (1e-19 vs 0 there) give opposite signs. Their squares are the same either way.
    return out and b.add("square", out)


def _norm(b: _Builder) -> Any:
    x = _static(b, lambda v: v.ndim in (1, 2) and np.sum(v * v) > 0.1)
    if x is None:
        return None
    return b.add("linalg.norm", x, ord=b.choice([None, "fro"]) if len(b.shape(x)) == 2 else None)


def _trace(b: _Builder) -> Any:
    m = _matrix(b, _size(b))
    return m and b.add("linalg.trace", m)


COMPLEX_GENERATORS = {
    "real": _real_part("real"), "imag": _real_part("imag"), "conj": _conj, "angle": _angle,
    "abs_complex": _abs_complex,
    **{f"fft.{fn}": _fft_1d(fn) for fn in ("fft", "ifft", "rfft", "irfft")},
    **{f"fft.{fn}": _fft_nd(fn) for fn in ("fft2", "ifft2", "fftn", "ifftn")},
    "fft.fftshift": _fftshift,
    "linalg.inv": _inv, "linalg.det": _det, "linalg.slogdet": _slogdet, "linalg.solve": _solve,
    "linalg.cholesky": _cholesky, "linalg.eigh": _eigh, "linalg.svd": _svd, "linalg.qr": _qr,
    "linalg.norm": _norm, "linalg.trace": _trace,
}
