"""The reductions and scans beyond sum/mean/max where the op table cannot look: prod's gradient at exact
zeros, ties of min, std of equal entries, NumPy's dtypes and shapes, and attribute checks."""

import json

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import serialize


def first_and_second(fn, v):
    """(gradient of sum(fn(x)), gradient of sum(that gradient)) at v, in both engines."""
    g = rg.Graph()
    x = g.input("x", shape=v.shape)
    dx = rg.grad(rg.sum(fn(x)), x)
    static = rg.compile([dx, rg.grad(rg.sum(dx), x)])(x=v)
    xv = dy.Variable(v.copy())
    rg.sum(fn(xv)).backward(create_graph=True)
    d1 = xv.grad
    xv.cleargrad()
    rg.sum(d1).backward()
    return static, [d1.data, xv.grad.data]


@pytest.mark.parametrize("v,first", [
    (np.array([2.0, 0.0, 3.0]), [0.0, 6.0, 0.0]),                 # one zero: the product of the others
    (np.array([2.0, 0.0, 3.0, 0.0]), [0.0, 0.0, 0.0, 0.0]),       # two zeros: every product of others is 0
    (np.array([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0]),
    (np.array([2.0, -1.0, 3.0]), [-3.0, 6.0, -2.0]),
])
def test_prod_gradient_is_exact_with_zeros(v, first):
    # second derivative: sum_j d/dx_i prod_{k != j} x_k = sum_{j != i} prod_{k != i, j} x_k
    n = len(v)
    second = [sum(np.prod([v[k] for k in range(n) if k not in (i, j)]) for j in range(n) if j != i) for i in range(n)]
    for engine in first_and_second(rg.prod, v):
        np.testing.assert_allclose(engine[0], first, atol=1e-15)
        np.testing.assert_allclose(engine[1], second, atol=1e-15)


def test_min_ties_share_the_gradient():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    dx = rg.compile(rg.grad(rg.sum(rg.min(x, axis=1)), x))(x=np.array([[1.0, 1.0, 2.0], [0.0, 3.0, -1.0]]))
    np.testing.assert_allclose(dx, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])


def test_std_of_equal_entries_has_zero_gradient():
    for engine in first_and_second(lambda x: rg.std(x, axis=1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])):
        assert np.all(np.isfinite(engine[0])) and np.all(engine[0][0] == 0.0)


# (NumPy refuses the variance of bools; logsumexp is SciPy's, checked below)
@pytest.mark.parametrize("op,dtype", [(op, dt) for op in ["prod", "cumsum", "min", "var", "std", "argmin"]
                                      for dt in ["bool", "int32", "uint8", "float32"]
                                      if not (dt == "bool" and op in ("var", "std"))])
def test_dtypes_and_shapes_are_numpys(op, dtype):
    v = np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    g = rg.Graph()
    x = g.input("x", shape=v.shape, dtype=dtype)
    for kw in ({}, {"axis": 1}, {"axis": 0}):
        out = getattr(rg, op)(x, **kw)
        want = getattr(np, op)(v, **kw)
        got = rg.compile(out)(x=v)
        assert (out.shape, out.dtype) == (np.shape(want), want.dtype) == (np.shape(got), got.dtype), (op, kw)
        np.testing.assert_allclose(got, want)


def test_cumsum_of_a_scalar_and_of_sizes_known_at_run_time():
    g = rg.Graph()
    s, x = g.input("s"), g.input("x", shape=(None, 3))
    assert rg.cumsum(s).shape == (1,) and rg.cumsum(x).shape == (None,)
    v = np.arange(6.0).reshape(2, 3)
    dx = rg.grad(rg.sum(rg.cumsum(x) * np.arange(6.0)), x)
    np.testing.assert_allclose(rg.compile(dx)(x=v), np.cumsum(np.arange(6.0)[::-1])[::-1].reshape(2, 3))


def test_logsumexp_matches_scipy_when_available():
    special = pytest.importorskip("scipy.special")
    v = np.random.default_rng(0).normal(size=(3, 4)) * 50
    g = rg.Graph()
    x = g.input("x", shape=(3, 4))
    for kw in ({}, {"axis": 0}, {"axis": (0, 1), "keepdims": True}):
        np.testing.assert_allclose(rg.compile(rg.logsumexp(x, **kw))(x=v), special.logsumexp(v, **kw), rtol=1e-13)


def _saved(build, op, mutate):
    g = rg.Graph()
    build(g.input("x", shape=(2, 3)))
    data = json.loads(serialize.dumps(g))
    mutate(next(n for n in data["graph"]["nodes"] if n["op"] == op)["attrs"])
    return json.dumps(data)


@pytest.mark.parametrize("op,build,mutate,message", [
    ("var", lambda x: rg.var(x, ddof=1), lambda a: a.update(ddof="1"), "ddof"),
    ("std", lambda x: rg.std(x, axis=0), lambda a: a.update(ddof=True), "ddof"),
    ("cumsum", lambda x: rg.cumsum(x, axis=1), lambda a: a.update(axis={"tuple": [0, 1]}), "axis"),
    ("cumsum", lambda x: rg.cumsum(x, axis=1), lambda a: a.update(axis=5), "axis"),
])
def test_loader_refuses_bad_attributes(op, build, mutate, message):
    assert serialize.loads(_saved(build, op, lambda a: None)) is not None
    with pytest.raises(rg.GraphError, match=message):
        serialize.loads(_saved(build, op, mutate))


def test_tensor_and_variable_methods_as_numpy():
    v = np.array([[1.5, -2.0, 0.5], [3.0, 0.25, -1.0]])
    calls = [lambda a: a.min(axis=1), lambda a: a.prod(), lambda a: a.var(axis=0, ddof=1), lambda a: a.std(),
             lambda a: a.cumsum(axis=1), lambda a: a.clip(-1.0, 1.0), lambda a: a.clip(max=0.0), lambda a: a % 0.75,
             lambda a: 2.0 % a]
    g = rg.Graph()
    x = g.input("x", shape=v.shape)
    compiled = rg.compile([c(x) for c in calls])(x=v)
    for c, got in zip(calls, compiled):
        np.testing.assert_allclose(got, c(v), rtol=1e-13)
        np.testing.assert_allclose(c(dy.Variable(v)).data, c(v), rtol=1e-13)
