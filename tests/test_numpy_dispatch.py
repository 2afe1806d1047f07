"""NumPy functions on Tensors and dynamic Variables build (or record) revgraph's ops
(__array_ufunc__ / __array_function__, ir/numpy_dispatch.py)."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import numpy_dispatch
from revgraph.ir.registry import OpDef, register, unregister

W = np.arange(12.0).reshape(3, 4) / 10
C = np.array([[True, False, True], [False, True, True]])
X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def numpy_model(x):
    """Plain NumPy code, as a user wrote it for arrays."""
    h = np.maximum(np.dot(x, W), 0.1) + np.matmul(x, W)
    y = np.concatenate([np.exp(x), np.where(C, x, 0)]) * 2.0
    return np.sum(h) + np.sum(np.tanh(y), axis=0).mean() - np.subtract(1.0, np.mean(x)) + np.sum(x ** 2)


def test_numpy_code_traces_unchanged_with_the_same_value_and_gradient():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    loss = numpy_model(x)
    assert isinstance(loss, rg.Tensor) and loss.shape == ()
    ops = {g.nx.nodes[n]["op"] for n in g.nx.nodes}
    assert {"matmul", "maximum", "concatenate", "where", "exp", "tanh", "sum", "sub"} <= ops
    value, dx = rg.compile([loss, rg.grad(loss, x)])(x=X)
    np.testing.assert_allclose(value, numpy_model(X), rtol=1e-12)
    eps = 1e-6
    numeric = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        d = np.zeros_like(X)
        d[i] = eps
        numeric[i] = (numpy_model(X + d) - numpy_model(X - d)) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


def test_numpy_code_records_on_variables():
    x = dy.Variable(X.copy())
    loss = numpy_model(x)
    assert isinstance(loss, dy.Variable)
    loss.backward()
    g = rg.Graph()
    xt = g.input("x", shape=(2, 3))
    lt = numpy_model(xt)
    np.testing.assert_allclose(loss.data, numpy_model(X), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, rg.compile(rg.grad(lt, xt))(x=X), rtol=1e-10)


def test_np_sum_of_a_tensor_is_the_sum_op():
    # the regression: np.sum(t) called t.sum(axis=None, dtype=None, out=None) and failed on out=
    g = rg.Graph()
    t = g.input("t", shape=(2, 3))
    s = np.sum(t)
    assert s.op == "sum" and s.shape == ()
    assert np.sum(t, axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_allclose(rg.compile(s)(t=X), X.sum())


def test_ndarray_on_the_left_builds_the_op():
    g = rg.Graph()
    t = g.input("t", shape=(3, 4))
    assert (np.ones((2, 3)) @ t).op == "matmul"
    assert (np.ones(4) + t).op == "add"
    assert (np.float64(2.0) * t).dtype == np.float64
    assert np.less(np.zeros(4), t).dtype == bool


def test_shape_facts():
    g = rg.Graph()
    t = g.input("t", shape=(2, 3))
    assert (t.size, t.ndim, len(t)) == (6, 2, 2)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6 and np.size(t, 1) == 3
    u = g.input("u", shape=(None, 3))
    with pytest.raises(rg.GraphError, match="'u'.*not known"):
        u.size
    v = dy.Variable(X)
    assert (v.size, v.ndim, len(v), np.shape(v)) == (6, 2, 2, (2, 3))


@pytest.mark.parametrize("call, says", [
    (lambda t: np.cumprod(t), r"np.cumprod has no revgraph op.*Tensor 't' shape \(2, 3\)"),
    (lambda t: np.sum(t, out=np.zeros(())), r"np.sum on Tensor 't'.*'out'.*sum\(x, axis=None, keepdims=False"),
    (lambda t: np.add.reduce(t), r"np.add.reduce on Tensor 't'.*rg.sum"),
    (lambda t: np.exp(t, out=np.zeros((2, 3))), r"np.exp\(\.\.\., out=\.\.\.\)"),
    (lambda t: np.sin(t, where=C), r"np.sin.*\['where'\]"),
    (lambda t: np.asarray(t), r"'t' has no value until the program runs"),
    (lambda t: np.linalg.matrix_power(t, 2), r"np.linalg.matrix_power has no revgraph op"),
])
def test_a_numpy_function_without_an_op_is_a_graph_error_naming_it(call, says):
    g = rg.Graph()
    t = g.input("t", shape=(2, 3))
    before = g.nx.number_of_nodes()
    with pytest.raises(rg.GraphError, match=says):
        call(t)
    assert g.nx.number_of_nodes() == before


def test_variables_report_the_same_errors():
    with pytest.raises(rg.GraphError, match="np.cumprod has no revgraph op"):
        np.cumprod(dy.Variable(X))


def test_a_new_op_with_a_numpy_name_joins_without_editing_the_table():
    """The mapping reads the registry: an op registered under a ufunc's name is what np.<ufunc> builds."""
    g = rg.Graph()
    t = g.input("t", shape=(3,))
    with pytest.raises(rg.GraphError, match="np.spacing has no revgraph op"):
        np.spacing(t)
    register(OpDef("spacing", 1, lambda x: (x.shape, x.dtype)))
    try:
        assert np.spacing(t).op == "spacing"
    finally:
        unregister("spacing")


def test_a_new_public_function_with_a_numpy_name_joins(monkeypatch):
    from revgraph.ir import ops

    g = rg.Graph()
    t = g.input("t", shape=(3,))
    monkeypatch.setattr(ops, "trapezoid", lambda y: rg.sum(y[1:] + y[:-1]) * 0.5, raising=False)
    monkeypatch.setattr(ops, "PUBLIC", [*ops.PUBLIC, "trapezoid"])
    y = np.trapezoid(t)
    np.testing.assert_allclose(rg.compile(y)(t=np.array([1.0, 2.0, 4.0])), np.trapezoid([1.0, 2.0, 4.0]))


def test_dot_adapter_matches_numpy_where_it_applies():
    g = rg.Graph()
    a, b, v = g.input("a", shape=(2, 3)), g.input("b", shape=(3, 4)), g.input("v", shape=(3,))
    av, bv, vv = X, W, np.array([1.0, -2.0, 0.5])
    f = rg.compile([np.dot(a, b), np.dot(a, v), np.dot(v, v), np.dot(a, 2.0)])
    for got, want in zip(f(a=av, b=bv, v=vv), [av @ bv, av @ vv, vv @ vv, av * 2.0]):
        np.testing.assert_allclose(got, want)
    if "dot" not in rg.__all__:  # until rg.dot exists, N-D dot (an outer product over batches) is refused
        with pytest.raises(rg.GraphError, match="np.dot of a 3-D and a 2-D operand"):
            np.dot(g.input("c", shape=(2, 2, 3)), b)


def test_aliases_name_registered_ops():
    from revgraph.ir.registry import all_ops

    ops = all_ops()
    for table in (numpy_dispatch.UFUNC_ALIASES, numpy_dispatch.FUNCTION_ALIASES):
        for numpy_name, op in table.items():
            assert op in ops, f"alias {numpy_name} -> {op}: no such op"
