"""rg.linalg beyond the op table: several outputs as one packed node, errors, run-time batch sizes,
save/load, drawing, NumPy dispatch and the gradient conventions."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from optable_linalg import LINALG_CASES

L = rg.linalg
RNG = np.random.default_rng(7)
A = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
S = A @ A.T


def test_every_linalg_function_has_a_row():
    covered = " ".join(c[0] for c in LINALG_CASES)
    missing = [f for f in L.__all__ if f"linalg_{f}" not in covered]
    assert not missing, f"rg.linalg functions without an op-table row: {missing}"


def test_several_outputs_are_one_node_selected_by_slicing():
    g = rg.Graph()
    a = g.input("a", shape=(4, 3))
    U, s, Vh = L.svd(a, full_matrices=False)
    assert (U.shape, s.shape, Vh.shape) == ((4, 3), (3,), (3, 3))
    ops = [d["op"] for _, d in g.nx.nodes(data=True)]
    assert ops.count("svd") == 1, "one decomposition serves U, S and Vh"
    w, v = L.eigh(a[:3] + rg.transpose(a[:3]))
    assert isinstance(L.eigh(a[:3]), L.EighResult) and w.shape == (3,) and v.shape == (3, 3)
    av = RNG.normal(size=(4, 3))
    uv, sv, vhv = rg.compile([U, s, Vh])(a=av)
    np.testing.assert_allclose(uv * sv @ vhv, av, rtol=1e-12, atol=1e-12)


def test_values_equal_numpy_including_namedtuple_fields():
    g = rg.Graph()
    a = g.input("a", shape=(3, 3))
    r = L.slogdet(a)
    q = L.qr(a)
    e = L.eigh(a)
    got = rg.compile([r.sign, r.logabsdet, q.Q, q.R, e.eigenvalues, e.eigenvectors])(a=S)
    want = [*np.linalg.slogdet(S), *np.linalg.qr(S), *np.linalg.eigh(S)]
    for x, y in zip(got, want):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_batch_sizes_may_be_fixed_at_run_time():
    g = rg.Graph()
    a = g.input("a", shape=(None, 3, 3))
    b = g.input("b", shape=(3,))
    x = L.solve(a, b)
    loss = rg.sum(L.inv(a)) + rg.sum(x * x) + rg.sum(L.det(a))
    av = np.stack([A, S])
    bv = np.array([1.0, -2.0, 0.5])
    value, da = rg.compile([loss, rg.grad(loss, a)])(a=av, b=bv)
    want = np.linalg.inv(av).sum() + (np.linalg.solve(av, bv[None, :, None])[..., 0] ** 2).sum() + np.linalg.det(av).sum()
    np.testing.assert_allclose(value, want, rtol=1e-12)
    assert da.shape == (2, 3, 3)


@pytest.mark.parametrize("call, says", [
    (lambda g: L.inv(g.input("x", shape=(2, 3))), r"inv .*needs square matrices, got 2 x 3"),
    (lambda g: L.det(g.input("x", shape=(3,))), r"needs a matrix .*got shape \(3,\)"),
    (lambda g: L.cholesky(g.input("x", shape=(3, None))), r"needs the matrix sizes .*declared"),
    (lambda g: L.solve(g.input("x", shape=(3, 3)), g.input("y", shape=(4,))), r"b has 4 rows, a is 3 x 3"),
    (lambda g: L.solve(g.input("x", shape=(2, 3, 3)), g.input("y", shape=(4, 3, 1))), r"batch shapes .*broadcast"),
    (lambda g: L.svd(g.input("x", shape=(4, 3))), r"4 x 3 matrix: only the reduced SVD.*full_matrices=False"),
    (lambda g: L.qr(g.input("x", shape=(4, 3)), mode="complete"), r"mode='complete' is not supported"),
    (lambda g: L.inv(g.input("x", shape=(3, 3), dtype="int64") > 0), r"float \(or integer\) matrices, got dtype bool"),
    (lambda g: L.norm(g.input("x", shape=(3, 3)), ord=3, axis=(0, 1)), r"ord=3 is not a matrix norm"),
    (lambda g: L.norm(g.input("x", shape=(2, 3, 3)), ord=1), r"axis=None needs a 1-D or 2-D x"),
    (lambda g: L.eigh(g.input("x", shape=(3, 3)), UPLO="U"), r"UPLO='U' is not supported"),
])
def test_mistakes_are_graph_errors_naming_the_shapes(call, says):
    g = rg.Graph()
    with pytest.raises(rg.GraphError, match=says):
        call(g)


def test_integer_matrices_compute_in_float64_as_numpy():
    g = rg.Graph()
    a = g.input("a", shape=(2, 2), dtype="int64")
    out = L.inv(a)
    assert out.dtype == np.float64
    np.testing.assert_allclose(rg.compile(out)(a=np.array([[2, 1], [1, 1]])), np.linalg.inv([[2, 1], [1, 1]]))


def test_symmetric_inputs_get_symmetric_gradients():
    """cholesky and eigh read one triangle; their gradient is the symmetric one (the documented convention)."""
    g = rg.Graph()
    a = g.input("a", shape=(3, 3))
    w = RNG.normal(size=(3, 3))
    for loss in (rg.sum(L.cholesky(a) * w), rg.sum(L.eigh(a).eigenvectors ** 2 * w) + rg.sum(L.eigh(a)[0] ** 3)):
        da = rg.compile(rg.grad(loss, a))(a=S)
        np.testing.assert_allclose(da, da.T, rtol=1e-10, atol=1e-12)


def test_degenerate_eigenvalues_give_a_finite_documented_gradient():
    """Coinciding eigenvalues: the eigenvector gradient is undefined; the pairs are left out, never nan."""
    g = rg.Graph()
    a = g.input("a", shape=(3, 3))
    da = rg.compile(rg.grad(rg.sum(L.eigh(a).eigenvalues ** 2), a))(a=np.eye(3) * 2.0)
    np.testing.assert_allclose(da, np.eye(3) * 4.0)   # d sum(w²) = 2 w, well defined even here


def test_save_load_compile_and_draw(tmp_path):
    g = rg.Graph("la")
    a = g.input("a", shape=(3, 3))
    U, s, Vh = L.svd(a)
    loss = rg.sum(s) + L.slogdet(a).logabsdet + rg.sum(L.qr(a).R) + L.trace(L.cholesky(a @ rg.transpose(a)))
    da = rg.grad(loss, a)
    g.outputs = [loss, da]
    g.save(tmp_path / "la.json")
    h = rg.load(tmp_path / "la.json")
    for x, y in zip(rg.compile(h.outputs)(a=A), rg.compile([loss, da])(a=A)):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    source = rg.to_dot(da, which="joint").source
    assert "svd" in source and "slogdet" in source and "cholesky" in source


def test_dynamic_engine_records_linalg_and_matches_the_graph():
    x = dy.Variable(A.copy())
    loss = L.norm(L.inv(x), ord=2) + rg.sum(L.eigh(x @ x.T).eigenvalues)
    loss.backward()
    g = rg.Graph()
    a = g.input("a", shape=(3, 3))
    gl = L.norm(L.inv(a), ord=2) + rg.sum(L.eigh(a @ rg.transpose(a)).eigenvalues)
    np.testing.assert_allclose(x.grad.data, rg.compile(rg.grad(gl, a))(a=A), rtol=1e-10)


def test_numpy_linalg_functions_dispatch_to_rg_linalg():
    g = rg.Graph()
    t = g.input("t", shape=(3, 3))
    u = g.input("u", shape=(2, 3, 4))
    outs = [np.linalg.inv(t), np.linalg.norm(t, ord=2), np.trace(t), np.trace(u, 1, 1, 2), np.linalg.det(t),
            np.linalg.eigh(t)[0], np.linalg.svd(u, full_matrices=False).S, np.linalg.solve(t, np.ones(3))]
    uv = RNG.normal(size=(2, 3, 4))
    want = [np.linalg.inv(S), np.linalg.norm(S, ord=2), np.trace(S), np.trace(uv, 1, 1, 2), np.linalg.det(S),
            np.linalg.eigh(S)[0], np.linalg.svd(uv, compute_uv=False), np.linalg.solve(S, np.ones(3))]
    for got, ref in zip(rg.compile(outs)(t=S, u=uv), want):
        np.testing.assert_allclose(got, ref, rtol=1e-10)


PLAIN = [c for c in LINALG_CASES if all(len(s) >= 3 and s[0] == 1 for s, _ in c[2])]


@pytest.mark.parametrize("row", PLAIN, ids=[c[0] for c in PLAIN])
def test_rows_on_plain_matrices(row):
    """The op-table rows give their matrices a batch axis of 1; the same rows on 2-D matrices, held to the
    table's own checks (values, first and second derivatives against central differences)."""
    import test_ops_table as table
    from opcase import case

    plain = case(row[0], row[1], [(s[1:], dom) for s, dom in row[2]])
    table.test_values_match_numpy(plain)
    table.test_gradient_matches_central_differences(plain)
    table.test_second_derivative_matches_central_differences(plain)
