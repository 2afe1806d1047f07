"""Op-table rows of rg.linalg (appended to OP_CASES by tests/optable.py).

Inputs are made well conditioned inside each row from the sampled matrix -- a shifted diagonal
for inverses and solves, a @ a.T + n I for Cholesky, (a + a.T) / 2 for eigh -- written with rg ops
on weak scalars, so a float32 row stays float32. Rows of eigenvectors and singular vectors look at
sign-free functions of them (U * U, U @ Vh): the signs LAPACK picks are a convention, not a value."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from opcase import ANY, case

L = rg.linalg


def _eye(n):
    if n is None:  # as rg.linalg itself says for matrices of run-time sizes
        raise rg.GraphError("rg.linalg needs the matrix sizes declared")
    return np.eye(n, dtype=bool)


def shifted(a, c=3.0):
    """a + c I (diagonally dominant enough for the sampled normals)."""
    return rg.where(_eye(a.shape[-1]), a + c, a)


def spd(a):
    return shifted(a @ _mT(a), float(a.shape[-1] or 0))


def _mT(a):
    return rg.transpose(a, tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2))


def sym(a):
    return (a + _mT(a)) * 0.5


def np_shifted(a, c=3.0):
    return a + c * np.eye(a.shape[-1])


def np_sym(a):
    return (a + np.swapaxes(a, -1, -2)) * 0.5


# Matrices carry a leading batch axis (of 1), so the harnesses that declare an operand's first size None
# (a run-time batch) keep the matrix sizes declared, as rg.linalg needs; tests/test_linalg.py runs the
# same rows on plain 2-D matrices.
SQ, BATCH = ((1, 3, 3), ANY), ((2, 3, 3), ANY)
TALL, WIDE = ((1, 4, 3), ANY), ((1, 3, 4), ANY)

LINALG_CASES = [
    case("linalg_inv", lambda a: L.inv(shifted(a)), [SQ], numpy=lambda a: np.linalg.inv(np_shifted(a))),
    case("linalg_inv_batched", lambda a: L.inv(shifted(a)), [BATCH]),
    case("linalg_det", lambda a: L.det(shifted(a)), [SQ], numpy=lambda a: np.linalg.det(np_shifted(a))),
    case("linalg_det_batched", lambda a: L.det(shifted(a)), [BATCH]),
    case("linalg_slogdet", lambda a: (lambda r: r.sign * r.logabsdet)(L.slogdet(shifted(a, -0.5))), [BATCH],
         numpy=lambda a: (lambda r: r.sign * r.logabsdet)(np.linalg.slogdet(np_shifted(a, -0.5)))),
    case("linalg_solve_vector", lambda a, b: L.solve(shifted(a), b), [SQ, ((3,), ANY)],
         numpy=lambda a, b: np.linalg.solve(np_shifted(a), b)),
    case("linalg_solve_matrix", lambda a, b: L.solve(shifted(a), b), [SQ, ((1, 3, 2), ANY)]),
    case("linalg_solve_batched_vector", lambda a, b: L.solve(shifted(a), b), [BATCH, ((3,), ANY)]),
    case("linalg_solve_batch_broadcast", lambda a, b: L.solve(shifted(a), b), [SQ, ((2, 3, 2), ANY)]),
    case("linalg_cholesky", lambda a: L.cholesky(spd(a)), [SQ]),
    case("linalg_cholesky_batched", lambda a: L.cholesky(spd(a)), [BATCH]),
    case("linalg_eigh_values", lambda a: L.eigh(sym(a)).eigenvalues, [SQ],
         numpy=lambda a: np.linalg.eigh(np_sym(a)).eigenvalues),
    case("linalg_eigh_vectors", lambda a: L.eigh(sym(a)).eigenvectors ** 2, [SQ], f32_tol=2e-3),
    case("linalg_eigh_batched", lambda a: (lambda r: r[1] * r[1] * r[0][..., None, :])(L.eigh(sym(a))), [BATCH],
         f32_tol=2e-3),
    case("linalg_svd_values", lambda a: L.svd(a, compute_uv=False), [TALL],
         numpy=lambda a: np.linalg.svd(a, compute_uv=False)),
    case("linalg_svd_tall", lambda a: (lambda r: r.U @ r.Vh + r.U * r.U * r.S)(L.svd(a, full_matrices=False)), [TALL],
         f32_tol=2e-3),
    case("linalg_svd_wide", lambda a: (lambda r: r.U @ r.Vh + r.Vh * r.Vh)(L.svd(a, full_matrices=False)), [WIDE], f32_tol=2e-3),
    case("linalg_svd_batched", lambda a: (lambda r: r.U @ r.Vh * r.S[..., None, :])(L.svd(a)), [BATCH], f32_tol=2e-3),
    case("linalg_qr_tall", lambda a: (lambda r: rg.concatenate([r.Q, _mT(r.R)], axis=-2))(L.qr(a)), [TALL],
         f32_tol=2e-3),
    case("linalg_qr_wide", lambda a: (lambda r: rg.concatenate([r.Q, r.R], axis=-1))(L.qr(a)), [WIDE], f32_tol=2e-3),
    case("linalg_qr_batched", lambda a: L.qr(a).R, [((2, 4, 3), ANY)], f32_tol=2e-3),
    case("linalg_norm", lambda x: L.norm(x), [((3, 4), ANY)], numpy=np.linalg.norm),
    case("linalg_norm_vector_axis", lambda x: L.norm(x, axis=1), [((3, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, axis=1)),
    case("linalg_norm_vector_1", lambda x: L.norm(x, ord=1, axis=0), [((3, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord=1, axis=0)),
    case("linalg_norm_vector_inf", lambda x: L.norm(x, ord=np.inf), [((5,), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord=np.inf)),
    case("linalg_norm_vector_p", lambda x: L.norm(x, ord=3, axis=-1, keepdims=True), [((2, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord=3, axis=-1, keepdims=True)),
    case("linalg_norm_fro", lambda x: L.norm(x, ord="fro", axis=(0, 2)), [((3, 2, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord="fro", axis=(0, 2))),
    case("linalg_norm_matrix_1", lambda x: L.norm(x, ord=1), [((3, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord=1)),
    case("linalg_norm_matrix_inf", lambda x: L.norm(x, ord=np.inf, axis=(1, 2), keepdims=True), [((2, 3, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord=np.inf, axis=(1, 2), keepdims=True)),
    case("linalg_norm_matrix_2", lambda x: L.norm(x, ord=2, axis=(-2, -1)), [WIDE],
         numpy=lambda x: np.linalg.norm(x, ord=2, axis=(-2, -1))),
    case("linalg_norm_nuc", lambda x: L.norm(x, ord="nuc", axis=(2, 1)), [((2, 3, 4), ANY)],
         numpy=lambda x: np.linalg.norm(x, ord="nuc", axis=(2, 1))),
    case("linalg_trace", lambda x: L.trace(x), [WIDE], numpy=np.linalg.trace),
    case("linalg_trace_offset_batched", lambda x: L.trace(x, offset=-1), [((2, 3, 3), ANY)],
         numpy=lambda x: np.linalg.trace(x, offset=-1)),
]
