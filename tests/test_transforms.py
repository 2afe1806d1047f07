"""rg.jacobian / rg.hessian / rg.hvp in both engines, and rg.grad of a size-1 output without seed=."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy

W = np.array([[0.3, -0.5, 0.8], [1.1, 0.2, -0.4]])
XV = np.array([0.4, -0.7, 0.9])
V = np.array([1.0, -2.0, 0.5])


def vector_fn(x):      # R^3 -> R^(2, 3)
    return rg.tanh(W @ x)[:, None] * x


def scalar_fn(x):      # R^3 -> R
    return rg.sum(x ** 3.0) * rg.sum(rg.sin(x))


def np_vector_fn(x):
    return np.tanh(W @ x)[:, None] * x


def np_scalar_fn(x):
    return np.sum(x ** 3.0) * np.sum(np.sin(x))


def numeric_jacobian(f, x, eps=1e-6):
    cols = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)]
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


def numeric_gradient(f, x):
    return numeric_jacobian(f, x)


def numeric_hessian(f, x, eps=1e-4):
    return numeric_jacobian(lambda z: numeric_jacobian(f, z, eps), x, eps)


def graph_of(fn, shape=(3,)):
    g = rg.Graph("t")
    x = g.input("x", shape=shape)
    return g, x, fn(x)


def test_graph_jacobian_has_shape_y_plus_x_and_matches_central_differences():
    g, x, y = graph_of(vector_fn)
    J = rg.jacobian(y, x)
    assert J.shape == (2, 3, 3)
    np.testing.assert_allclose(rg.compile(J)(x=XV), numeric_jacobian(np_vector_fn, XV), rtol=1e-6, atol=1e-9)


def test_graph_jacobian_holds_no_output_sized_seed_constants():
    g, x, y = graph_of(lambda x: rg.sin(rg.concatenate([x, x, x, x])))   # 12 outputs
    rg.jacobian(y, x)
    sizes = [np.size(d["value"]) for _, d in g.nx.nodes(data=True) if d["op"] == "constant"]
    assert max(sizes) == 1, "the one-hot seeds are built at run time, not stored"


def test_graph_jacobian_of_several_inputs_and_of_a_scalar():
    g = rg.Graph()
    a, b = g.input("a", shape=(2,)), g.input("b", shape=())
    y = rg.exp(a * b)
    Ja, Jb = rg.jacobian(y, [a, b])
    assert (Ja.shape, Jb.shape) == ((2, 2), (2,))
    av, bv = np.array([0.5, -1.0]), 0.7
    ja, jb = rg.compile([Ja, Jb])(a=av, b=bv)
    np.testing.assert_allclose(ja, np.diag(bv * np.exp(av * bv)))
    np.testing.assert_allclose(jb, av * np.exp(av * bv))
    s = rg.jacobian(rg.sum(a * a), a)                 # a scalar output: the gradient itself
    assert s.shape == (2,)
    np.testing.assert_allclose(rg.compile(s)(a=av), 2 * av)


def test_graph_hessian_and_hvp_match_central_differences_and_differentiate_again():
    g, x, y = graph_of(scalar_fn)
    H = rg.hessian(y, x)
    Hv = rg.hvp(y, x, V)
    assert H.shape == (3, 3) and Hv.shape == (3,)
    third = rg.grad(rg.sum(H), x)                     # the Hessian is a graph like any other
    h, hv, t = rg.compile([H, Hv, third])(x=XV)
    np.testing.assert_allclose(h, numeric_hessian(np_scalar_fn, XV), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hv, h @ V, rtol=1e-12)
    np.testing.assert_allclose(t, numeric_gradient(lambda z: numeric_hessian(np_scalar_fn, z).sum(), XV),
                               rtol=1e-3, atol=1e-5)


def test_graph_transforms_save_load_and_draw(tmp_path):
    g, x, y = graph_of(scalar_fn)
    H = rg.hessian(y, x)
    g.outputs = [H]
    g.save(tmp_path / "h.json")
    loaded = rg.load(tmp_path / "h.json")
    np.testing.assert_allclose(rg.compile(loaded.outputs[0])(x=XV), rg.compile(H)(x=XV), rtol=1e-12)
    assert "getitem_grad" in rg.to_dot(H, which="joint").source


def test_dynamic_jacobian_hessian_hvp_agree_with_the_graph():
    g, xt, yt = graph_of(vector_fn)
    _, xs, ys = graph_of(scalar_fn)
    want_j = rg.compile(rg.jacobian(yt, xt))(x=XV)
    want_h, want_hv = rg.compile([rg.hessian(ys, xs), rg.hvp(ys, xs, V)])(x=XV)
    x = dy.Variable(XV.copy())
    J = rg.jacobian(vector_fn(x), x)
    H = rg.hessian(scalar_fn(x), x)
    Hv = rg.hvp(scalar_fn(x), x, V)
    assert all(isinstance(r, dy.Variable) for r in (J, H, Hv))
    np.testing.assert_allclose(J.data, want_j, rtol=1e-12)
    np.testing.assert_allclose(H.data, want_h, rtol=1e-12)
    np.testing.assert_allclose(Hv.data, want_hv, rtol=1e-12)


def test_dynamic_transforms_leave_grad_alone_and_are_differentiable():
    x = dy.Variable(XV.copy())
    w = dy.Variable(np.array(2.0))
    (x * w).sum().backward()
    before = w.grad.data.copy()
    H = rg.hessian(scalar_fn(x) * w, x)
    assert x.grad is not None and np.array_equal(x.grad.data, np.full(3, 2.0)), "x.grad untouched"
    np.testing.assert_array_equal(w.grad.data, before)
    assert H.creator is not None                          # recorded: differentiate it again
    (dw,) = dy.grads.vjp(rg.sum(H), [w], np.array(1.0))
    np.testing.assert_allclose(dw.data, numeric_hessian(np_scalar_fn, XV).sum(), rtol=1e-5)
    with dy.no_grad():
        assert rg.jacobian(vector_fn(x), x).creator is None


def test_grad_of_a_size_one_output_seeds_ones():
    # regression: shape (1,) and (1, 1) outputs needed an explicit seed=
    g = rg.Graph()
    x = g.input("x", shape=(1, 3))
    y = x @ np.ones((3, 1))                                # shape (1, 1)
    dx = rg.grad(y * y, x)
    np.testing.assert_allclose(rg.compile(dx)(x=np.array([[1.0, 2.0, 3.0]])), np.full((1, 3), 12.0))
    with pytest.raises(rg.GraphError, match=r"shape \(1, 3\), not a scalar; pass seed="):
        rg.grad(x * 2.0, x)


@pytest.mark.parametrize("call, says", [
    (lambda x, v: rg.hessian(x * 2.0, x), r"rg.hessian: output 'mul_\d+' has shape \(3,\); a Hessian is of a scalar"),
    (lambda x, v: rg.jacobian(x, v), r"all graph Tensors or all dynamic Variables"),
    (lambda x, v: rg.hvp(rg.sum(x), v, V), r"all graph Tensors or all dynamic Variables"),
])
def test_errors_name_the_output_and_the_fix(call, says):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    with pytest.raises(rg.GraphError, match=says):
        call(x, dy.Variable(XV))


def test_jacobian_needs_a_declared_output_shape():
    g = rg.Graph()
    x = g.input("x", shape=(None,))
    with pytest.raises(rg.GraphError, match=r"shape \(\?,\).*declare the output's shape"):
        rg.jacobian(rg.sin(x), x)
