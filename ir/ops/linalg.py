"""``rg.linalg``: NumPy's linear algebra with gradients -- inv, det, slogdet, solve, cholesky, eigh,
svd (reduced), qr (reduced), norm and trace. Batched over leading axes as NumPy is; the matrix
sizes (the last two axes) must be declared, leading batch sizes may be None.

Several outputs, one node: an op returning several arrays (slogdet, eigh, svd, qr) is one node whose
value *packs* them into one array, and the public function selects each with basic slicing
(``getitem``), so the IR keeps one value per node and every pass, the memory plan, drawing and
save/load work unchanged. The VJP receives the packed gradient (zeros where an output is unused,
from getitem's own adjoint) and reads each part back. Layouts (``...`` = batch axes):

    slogdet(a: m x m)  -> (..., 2):            [sign, logabsdet]
    eigh(a: n x n)     -> (..., n + 1, n):     row 0 the eigenvalues, rows 1.. the eigenvectors
    svd(a: m x n)      -> (..., m + 1 + n, k): rows :m U, row m S, rows m+1.. Vh transposed (k = min(m, n))
    qr(a: m x n)       -> (..., m + n, k):     rows :m Q, rows m.. R transposed

Gradient conventions (the standard adjoints, written in rg ops, so they differentiate again):
cholesky and eigh read one triangle, as NumPy does; their gradient is the symmetric one (valid for
symmetric perturbations, as in JAX and autograd). eigh's and svd's gradients are undefined where
eigenvalues / singular values coincide (the pairs with equal values are left out); svd's also where
a singular value is 0, det's, inv's and solve's where the matrix is singular, norm's where the norm
is 0 or has a kink (ord 1 / inf: sign(0) = 0 and ties share, as max does). Gradients of U, V, Q, R
are meaningful only for functions that do not depend on their signs (e.g. U @ Vh, U * U).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..apply import apply
from ..dtypes import float_result, promote
from ..errors import GraphError
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import broadcast, fmt
from .elementwise import abs as _abs, equal, sqrt, where
from .reductions import max as _max, sum as _sum
from .shape_ops import transpose

__all__ = ["inv", "det", "slogdet", "solve", "cholesky", "eigh", "svd", "qr", "norm", "trace"]

class _Results:
    """The outputs of a packed op, as NumPy's named results (``r.U``, ``r[0]``, ``u, s, vh = r``); each
    selection is built when first asked for, so an unused output adds no node to the graph."""

    _fields: tuple = ()

    def __init__(self, packed: Any, select: dict) -> None:
        self._packed, self._select, self._made = packed, select, {}

    def _get(self, field: str) -> Any:
        if field not in self._made:
            self._made[field] = self._select[field](self._packed)
        return self._made[field]

    def __getattr__(self, field: str) -> Any:
        if field.startswith("_") or field not in type(self)._fields:
            raise AttributeError(f"{type(self).__name__} has no field {field!r}; its fields are {type(self)._fields}")
        return self._get(field)

    def __getitem__(self, i: Any) -> Any:
        names = type(self)._fields[i]
        return tuple(self._get(f) for f in names) if isinstance(i, slice) else self._get(names)

    def __len__(self) -> int:
        return len(type(self)._fields)

    def __iter__(self) -> Any:
        return (self._get(f) for f in type(self)._fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(type(self)._fields)})"


def _results(name: str, fields: tuple) -> type:
    return type(name, (_Results,), {"_fields": fields, "__slots__": ()})


SlogdetResult = _results("SlogdetResult", ("sign", "logabsdet"))
EighResult = _results("EighResult", ("eigenvalues", "eigenvectors"))
SVDResult = _results("SVDResult", ("U", "S", "Vh"))
QRResult = _results("QRResult", ("Q", "R"))


# -- shape rules ------------------------------------------------------------------------------------
def _matrix(a: Aval, what: str, square: bool = False) -> tuple:
    """(batch, m, n, dtype) of a matrix operand, or a ShapeRuleError saying what is needed."""
    if a.ndim < 2:
        raise ShapeRuleError(f"{what} needs a matrix (at least 2 dimensions), got shape {fmt(a.shape)}",
                             "pass a (..., m, n) array")
    m, n = a.shape[-2:]
    if m is None or n is None:
        raise ShapeRuleError(f"{what} needs the matrix sizes (the last two axes) declared, got shape {fmt(a.shape)}",
                             "declare them; only leading batch sizes may be None")
    if square and m != n:
        raise ShapeRuleError(f"{what} needs square matrices, got {m} x {n}", "pass a (..., n, n) array")
    if a.dtype.kind not in "iuf":
        raise ShapeRuleError(f"{what} takes float (or integer) matrices, got dtype {a.dtype}", "cast to float64")
    return a.shape[:-2], m, n, float_result(a.dtype)


def _square_rule(what: str, shape_of: Any) -> Any:
    def rule(a: Aval) -> tuple:
        batch, m, n, dtype = _matrix(a, what, square=True)
        return shape_of(batch, n), dtype
    return rule


def _svd_rule(a: Aval) -> tuple:
    batch, m, n, dtype = _matrix(a, "svd")
    return batch + (m + 1 + n, min(m, n)), dtype


def _qr_rule(a: Aval) -> tuple:
    batch, m, n, dtype = _matrix(a, "qr")
    return batch + (m + n, min(m, n)), dtype


def _solve_rule(a: Aval, b: Aval) -> tuple:
    batch, _, n, dtype = _matrix(a, "solve", square=True)
    if b.dtype.kind not in "iuf":
        raise ShapeRuleError(f"solve takes a float (or integer) right-hand side, got dtype {b.dtype}")
    dtype = float_result(promote(Aval((), dtype), b))
    if b.ndim == 1:  # NumPy 2: a 1-D b is a vector (broadcast over a's batch)
        if b.shape[0] not in (n, None):
            raise ShapeRuleError(f"b has {b.shape[0]} rows, a is {n} x {n}", "give b as many rows as a")
        return batch + (n,), dtype
    if b.ndim < 2 or b.shape[-2] not in (n, None):
        raise ShapeRuleError(f"b of shape {fmt(b.shape)} does not match a of {n} x {n} (b must be (n,) or (..., n, k))",
                             "give b as many rows as a")
    out_batch = broadcast([batch, b.shape[:-2]])
    if out_batch is None:
        raise ShapeRuleError(f"batch shapes {fmt(batch)} and {fmt(b.shape[:-2])} cannot broadcast")
    return out_batch + b.shape[-2:], dtype


# -- helpers for the VJP rules (rg ops, so they run on Tensors, Variables and arrays) ------------------
def _mT(x: Any) -> Any:
    """The matrix transpose of the last two axes."""
    nd = len(x.shape)
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _safe_reciprocal(d: Any) -> Any:
    """1/d off the pairs where d == 0 (the diagonal, and degenerate pairs), 0 there -- without ever
    computing 1/0 (whose gradient would be 0 * inf = nan)."""
    zero = equal(d, 0.0)
    return where(zero, 0.0, 1.0 / where(zero, 1.0, d))


def _eye(n: int, k: int = 0) -> np.ndarray:
    return np.eye(n, k=k, dtype=bool)


def _diag_embed(v: Any, n: int) -> Any:
    """diag(v) over the last axis: (..., n) -> (..., n, n)."""
    return where(_eye(n), v[..., None, :], 0.0)


def _right_solve_t(x: Any, r: Any) -> Any:
    """x @ r^-T, as (r^-1 x^T)^T."""
    return _mT(solve(r, _mT(x)))


def _inv_vjp(g: Any, out: Any, a: Any) -> Any:
    oT = _mT(out)
    return -(oT @ g @ oT)


def _det_vjp(g: Any, out: Any, a: Any) -> Any:
    return (g * out)[..., None, None] * _mT(inv(a))


def _slogdet_vjp(g: Any, out: Any, a: Any) -> Any:
    return g[..., 1][..., None, None] * _mT(inv(a))  # the sign is piecewise constant: no gradient


def _solve_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    gb = _solve_vjp_b(g, out, a, b)
    if len(b.shape) == 1:
        return -(gb[..., :, None] * out[..., None, :])
    return -(gb @ _mT(out))


def _solve_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if len(b.shape) == 1:  # keep g a column: a batched 1-D-per-matrix g would read as a matrix
        return solve(_mT(a), g[..., None])[..., 0]
    return solve(_mT(a), g)


def _cholesky_vjp(g: Any, L: Any, a: Any) -> Any:
    n = L.shape[-1]
    x = _mT(L) @ g
    # dL = L phi(L^-1 dA L^-T), phi = the lower triangle with half the diagonal (a mask: its own adjoint)
    phi = where(_eye(n), x * 0.5, where(np.tril(np.ones((n, n), bool), -1), x, 0.0))
    linv = inv(L)
    ga = _mT(linv) @ phi @ linv
    return (ga + _mT(ga)) * 0.5


def _eigh_vjp(g: Any, out: Any, a: Any) -> Any:
    n = a.shape[-1]
    w, v = out[..., 0, :], out[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    f = _safe_reciprocal(w[..., None, :] - w[..., :, None])  # f_ij = 1 / (w_j - w_i)
    ga = v @ (_diag_embed(gw, n) + f * (_mT(v) @ gv)) @ _mT(v)
    return (ga + _mT(ga)) * 0.5


def _svd_vjp(g: Any, out: Any, a: Any) -> Any:
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, v = out[..., :m, :], out[..., m, :], out[..., m + 1:, :]
    gu, gs, gv = g[..., :m, :], g[..., m, :], g[..., m + 1:, :]
    s2 = s * s
    f = _safe_reciprocal(s2[..., None, :] - s2[..., :, None])  # f_ij = 1 / (s_j² - s_i²)
    ut_gu, vt_gv = _mT(u) @ gu, _mT(v) @ gv
    j = f * (ut_gu - _mT(ut_gu))
    kk = f * (vt_gv - _mT(vt_gv))
    core = j * s[..., None, :] + _diag_embed(gs, k) + s[..., :, None] * kk
    ga = u @ core @ _mT(v)
    inv_s = 1.0 / s
    if m > k:  # the part of gU outside U's columns: (I - U U^T) gU S^-1 V^T
        ga = ga + ((gu - u @ ut_gu) * inv_s[..., None, :]) @ _mT(v)
    if n > k:  # and of gV outside V's: U S^-1 gV^T (I - V V^T)
        ga = ga + u @ (_mT(gv - v @ vt_gv) * inv_s[..., :, None])
    return ga


def _qr_square_vjp(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """The adjoint of A = QR for m >= n (reduced)."""
    k = r.shape[-2]
    qdq = _mT(q) @ gq
    rdr = r @ _mT(gr)
    lower = where(np.tril(np.ones((k, k), bool)), (qdq - _mT(qdq)) + (rdr - _mT(rdr)), 0.0)
    return q @ (gr + _right_solve_t(lower, r)) + _right_solve_t(gq - q @ qdq, r)


def _qr_vjp(g: Any, out: Any, a: Any) -> Any:
    m, n = a.shape[-2:]
    q, r = out[..., :m, :], _mT(out[..., m:, :])
    gq, gr = g[..., :m, :], _mT(g[..., m:, :])
    if m >= n:
        return _qr_square_vjp(q, r, gq, gr)
    # wide: A = [X | Y] with X square; Q, R[:, :m] are X's, and Y = Q R[:, m:]
    y, gv = a[..., :, m:], gr[..., :, m:]
    gx = _qr_square_vjp(q, r[..., :, :m], gq + y @ _mT(gv), gr[..., :, :m])
    from .shape_ops import concatenate

    return concatenate([gx, q @ gv], axis=-1)


def _op(name: str, arity: int, infer: Any, vjp: tuple, doc: str) -> None:
    # Facts: each kernel returns a new array (fresh); none is elementwise, and a decomposition is too
    # costly to recompute in the backward program instead of keeping it.
    register(OpDef(name, arity, infer, vjp=vjp, doc=doc, fresh=True))


_op("inv", 1, _square_rule("inv", lambda batch, n: batch + (n, n)), (_inv_vjp,),
    "Matrix inverse (rg.linalg.inv).")
_op("det", 1, _square_rule("det", lambda batch, n: batch), (_det_vjp,),
    "Determinant (rg.linalg.det); the gradient is det * inv(a)^T, undefined for singular a.")
_op("slogdet", 1, _square_rule("slogdet", lambda batch, n: batch + (2,)), (_slogdet_vjp,),
    "Sign and log|det| packed as (..., 2) (rg.linalg.slogdet selects them).")
_op("solve", 2, _solve_rule, (_solve_vjp_a, _solve_vjp_b),
    "Solution of a x = b (rg.linalg.solve), b a vector (1-D) or (..., n, k) matrices.")
_op("cholesky", 1, _square_rule("cholesky", lambda batch, n: batch + (n, n)), (_cholesky_vjp,),
    "Lower Cholesky factor of a symmetric positive definite matrix; symmetric gradient.")
_op("eigh", 1, _square_rule("eigh", lambda batch, n: batch + (n + 1, n)), (_eigh_vjp,),
    "Eigenvalues and eigenvectors of a symmetric matrix packed as (..., n+1, n) (rg.linalg.eigh selects them).")
_op("svd", 1, _svd_rule, (_svd_vjp,),
    "Reduced SVD packed as (..., m+1+n, k): U, S, Vh^T (rg.linalg.svd selects them).")
_op("qr", 1, _qr_rule, (_qr_vjp,),
    "Reduced QR packed as (..., m+n, k): Q, R^T (rg.linalg.qr selects them).")


# -- public functions --------------------------------------------------------------------------------
def inv(a: Any) -> Any:
    """The inverse of each matrix. ``rg.linalg.inv(x @ x.T + np.eye(3))``"""
    return apply("inv", a)


def det(a: Any) -> Any:
    """The determinant of each matrix. ``rg.linalg.det(a)``"""
    return apply("det", a)


def slogdet(a: Any) -> SlogdetResult:
    """``(sign, logabsdet)`` of each matrix, as NumPy's; the gradient flows through logabsdet.

    >>> sign, logdet = rg.linalg.slogdet(a)
    """
    return SlogdetResult(apply("slogdet", a), {"sign": lambda p: p[..., 0], "logabsdet": lambda p: p[..., 1]})


def solve(a: Any, b: Any) -> Any:
    """x with a @ x = b; b is a vector when 1-D, else (..., n, k). ``rg.linalg.solve(A, y)``"""
    return apply("solve", a, b)


def cholesky(a: Any) -> Any:
    """The lower Cholesky factor L (a = L @ L.T) of symmetric positive definite matrices."""
    return apply("cholesky", a)


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, reading the lower triangle.

    >>> w, v = rg.linalg.eigh((x + x.T) / 2)
    """
    if UPLO != "L":
        raise GraphError(f"rg.linalg.eigh: UPLO={UPLO!r} is not supported; symmetrise the input and use 'L'")
    return EighResult(apply("eigh", a), {"eigenvalues": lambda p: p[..., 0, :], "eigenvectors": lambda p: p[..., 1:, :]})


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """The SVD ``(U, S, Vh)``, or S alone with ``compute_uv=False``. NumPy's default ``full_matrices=True``
    is the reduced SVD for square matrices; others need ``full_matrices=False`` (the extra columns of a
    full U or Vh are arbitrary: they have no gradient).

    >>> U, S, Vh = rg.linalg.svd(a, full_matrices=False)
    """
    m = _matrix_rows(a)
    if hermitian or (full_matrices and compute_uv and a.shape[-1] != m):
        raise GraphError(f"rg.linalg.svd of a {m} x {a.shape[-1]} matrix: only the reduced SVD is supported "
                         "(full_matrices=False; hermitian=False) -- pass full_matrices=False")
    packed = apply("svd", a)
    if not compute_uv:
        return packed[..., m, :]
    return SVDResult(packed, {"U": lambda p: p[..., :m, :], "S": lambda p: p[..., m, :],
                              "Vh": lambda p: _mT(p[..., m + 1:, :])})


def qr(a: Any, mode: str = "reduced") -> QRResult:
    """The reduced QR decomposition ``(Q, R)``. ``q, r = rg.linalg.qr(a)``"""
    if mode != "reduced":
        raise GraphError(f"rg.linalg.qr: mode={mode!r} is not supported; use mode='reduced'")
    m = _matrix_rows(a)
    return QRResult(apply("qr", a), {"Q": lambda p: p[..., :m, :], "R": lambda p: _mT(p[..., m:, :])})


def _matrix_rows(a: Any) -> int:
    shape = tuple(a.shape) if hasattr(a, "shape") else np.shape(a)
    if len(shape) < 2 or shape[-2] is None or shape[-1] is None:
        raise GraphError(f"rg.linalg: needs a matrix with its sizes declared, got shape {fmt(shape)}")
    return shape[-2]


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """NumPy's vector and matrix norms, built from rg ops: ord None / 'fro' / 'nuc' / 1 / -1 / 2 / -2 /
    inf / -inf / p (vectors), over ``axis`` (an int: vectors; a pair: matrices; None: all of a 1-D or 2-D x,
    or with ord None all of x).

    >>> rg.linalg.norm(x)              # sqrt(sum(x²))
    >>> rg.linalg.norm(a, ord=2)       # the largest singular value
    """
    nd = len(x.shape)
    if axis is None:
        if ord is None:
            full = sqrt(_sum(x * x))
            return full[(None,) * nd] if keepdims else full
        if nd not in (1, 2):
            raise GraphError(f"rg.linalg.norm: ord={ord!r} with axis=None needs a 1-D or 2-D x, got shape "
                             f"{fmt(tuple(x.shape))}; pass axis=")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % nd for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise GraphError(f"rg.linalg.norm: axis={axis!r} must be one axis or two different axes")


def _vector_norm(x: Any, ord: Any, axis: int, keepdims: bool) -> Any:
    kw = {"axis": axis, "keepdims": keepdims}
    if ord is None or ord == 2:
        return sqrt(_sum(x * x, **kw))
    if ord == np.inf:
        return _max(_abs(x), **kw)
    if ord == -np.inf:
        return -_max(-_abs(x), **kw)
    if ord == 1:
        return _sum(_abs(x), **kw)
    if ord == 0:
        return _sum(apply("cast", apply("not_equal", x, 0.0), dtype=x.dtype), **kw)
    if isinstance(ord, str):
        raise GraphError(f"rg.linalg.norm: ord={ord!r} is a matrix norm; pass two axes for matrices")
    p = float(ord)
    return _sum(_abs(x) ** p, **kw) ** (1.0 / p)


def _matrix_norm(x: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        return sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (sum over rows); inf: the largest row sum (sum over columns)
        sums = _sum(_abs(x), axis=row if ord in (1, -1) else col, keepdims=True)
        picked = _max(sums, axis=axes, keepdims=True) if ord > 0 else -_max(-sums, axis=axes, keepdims=True)
        return picked if keepdims else apply("squeeze", picked, axis=axes)
    if ord in (2, -2, "nuc"):
        nd = len(x.shape)
        rest = tuple(a for a in range(nd) if a not in axes)
        s = svd(transpose(x, rest + axes), compute_uv=False)
        value = s[..., 0] if ord == 2 else s[..., -1] if ord == -2 else _sum(s, axis=-1)
        if keepdims:
            value = apply("expand_dims", value, axis=tuple(sorted(axes)))
        return value
    raise GraphError(f"rg.linalg.norm: ord={ord!r} is not a matrix norm; use None, 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf or -inf")


def trace(x: Any, /, *, offset: int = 0, dtype: Optional[Any] = None) -> Any:
    """The sum of each matrix's diagonal (NumPy 2's ``linalg.trace``: over the last two axes).

    >>> rg.linalg.trace(a)
    """
    shape = tuple(x.shape)
    if len(shape) < 2 or shape[-2] is None or shape[-1] is None:
        raise GraphError(f"rg.linalg.trace needs matrices with their sizes declared, got shape {fmt(shape)}")
    mask = np.eye(shape[-2], shape[-1], k=offset, dtype=bool)
    total = _sum(where(mask, x, 0), axis=(-2, -1))
    return total if dtype is None else apply("cast", total, dtype=dtype)


from ..naming import with_name as _with_name  # noqa: E402

for _public in ("inv", "det", "solve", "cholesky", "norm", "trace"):
    globals()[_public] = _with_name(globals()[_public])
