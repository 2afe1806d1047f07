"""dtypes: float32 computes in float32 end to end (values and gradients, no silent upcast), mixed dtypes
follow NumPy promotion, integer inputs are fine where nothing is differentiated w.r.t. them."""

import numpy as np
import pytest

import revgraph as rg
from optable import OP_CASES, option, sample

F32 = np.dtype(np.float32)


def assert_runtime_dtypes_are_declared(step, feeds, dout):
    """Every node the step computes, forward and adjoint, has at run time the dtype its node declares."""
    progs = step.plan.programs
    nodes = [rg.Tensor(step.graph, n) for n in progs["forward"].body + progs["backward"].body]
    dout_name = step.graph.nx.nodes[step.plan.options["dout"]]["name"]
    values = rg.compile(nodes)(**feeds, **{dout_name: dout})
    for t, v in zip(nodes, values):
        assert np.asarray(v).dtype == t.dtype, f"{t.name} ({t.op}) declares {t.dtype} but computes {np.asarray(v).dtype}"
    return nodes


# Rows that say why not (the one-hot labels of softmax_cross_entropy_onehot are a float64 constant:
# NumPy promotion makes the loss float64, tested below).
FLOAT32_CASES = [c for c in OP_CASES if not option(c, "no_float32")]


@pytest.mark.parametrize("case", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_float32_stays_float32_through_every_op_and_its_gradient(case):
    name, fn, specs = case
    rng = np.random.default_rng(0)
    g = rg.Graph(name)
    xs = [g.input(f"x{i}", shape=shape, dtype="float32") for i, (shape, _) in enumerate(specs)]
    out = fn(*xs)
    assert out.dtype == F32
    feeds = {x.name: sample(shape, dom, rng, np.float32) for x, (shape, dom) in zip(xs, specs)}
    step = rg.compile(out, wrt=xs)
    dout = np.ones(out.shape, F32)
    value, grads = step.value_and_grad(dout=dout, **feeds)
    assert np.asarray(value).dtype == F32
    assert [np.asarray(gr).dtype for gr in grads] == [F32] * len(xs)
    nodes = assert_runtime_dtypes_are_declared(step, feeds, dout)
    upcast = [t.name for t in nodes if t.dtype == np.float64]
    assert not upcast, f"{name}: float64 nodes in a float32 program: {upcast}"
    # and the float32 result is the float64 one, rounded
    np.testing.assert_allclose(value, fn(*[v.astype(np.float64) for v in feeds.values()]), rtol=2e-5, atol=2e-6)


def mlp(dtype):
    g = rg.Graph("mlp")
    x = g.input("x", shape=(None, 64), dtype=dtype)
    t = g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(64, 50), dtype=dtype), g.input("b1", shape=(50,), dtype=dtype)
    W2, b2 = g.input("W2", shape=(50, 10), dtype=dtype), g.input("b2", shape=(10,), dtype=dtype)
    loss = rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t)
    return g, loss, [W1, b1, W2, b2]


def mlp_feeds(dtype, rng=None):
    rng = rng or np.random.default_rng(0)
    f = {"x": rng.normal(size=(8, 64)), "W1": rng.normal(size=(64, 50)) * 0.2, "b1": rng.normal(size=50) * 0.1,
         "W2": rng.normal(size=(50, 10)) * 0.2, "b2": rng.normal(size=10) * 0.1}
    return {**{k: v.astype(dtype) for k, v in f.items()}, "t": rng.integers(0, 10, size=8)}


def test_float32_mlp_loss_and_every_gradient_are_float32():
    g, loss, params = mlp("float32")
    assert loss.dtype == F32
    step = rg.compile(loss, wrt=params)
    feeds = mlp_feeds(np.float32)
    value = step.forward(**feeds)
    grads = step.backward()
    assert np.asarray(value).dtype == F32
    assert [gr.dtype for gr in grads] == [F32] * 4
    assert [gr.shape for gr in grads] == [(64, 50), (50,), (50, 10), (10,)]
    nodes = assert_runtime_dtypes_are_declared(step, feeds, np.ones((), F32))
    assert all(t.dtype in (F32, np.dtype(bool), np.dtype(np.int64)) for t in nodes)
    # the same network in float64 gives the same numbers to float32 precision
    _, loss64, params64 = mlp("float64")
    value64, grads64 = rg.compile(loss64, wrt=params64).value_and_grad(**mlp_feeds(np.float64))
    np.testing.assert_allclose(value, value64, rtol=1e-5)
    for a, b in zip(grads, grads64):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert rg.gradcheck(loss, params, feeds).ok   # checked in a float64 replica


PROMOTIONS = [("float32", "float64"), ("int32", "float32"), ("int64", "float32"), ("int8", "float32"),
              ("uint8", "float32"), ("bool", "float32"), ("int32", "int64"), ("float32", "float32")]


@pytest.mark.parametrize("da,db", PROMOTIONS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "matmul", "concatenate", "where"])
def test_mixed_dtypes_follow_numpy_promotion(op, da, db):
    fns = {"concatenate": lambda a, b: rg.concatenate([a, b], axis=1),
           "where": lambda a, b: rg.where(rg.greater(b, 0), a, b)}
    fn = fns.get(op, getattr(rg, op))
    a0 = (np.arange(6).reshape(2, 3) % 3).astype(da)
    b0 = (np.arange(9).reshape(3, 3) % 2 + 1).astype(db) if op == "matmul" else (np.ones((2, 3)) * 2).astype(db)
    g = rg.Graph()
    a, b = g.input("a", shape=a0.shape, dtype=da), g.input("b", shape=b0.shape, dtype=db)
    out = fn(a, b)
    expected = np.asarray(fn(a0, b0)).dtype       # what NumPy itself gives on the same arrays
    numpy_itself = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
                    "maximum": np.maximum, "matmul": np.matmul}.get(op)
    if numpy_itself is not None and not (op == "sub" and "bool" in (da, db)):
        assert expected == numpy_itself(a0, b0).dtype
    assert out.dtype == expected
    assert rg.compile(out)(a=a0, b=b0).dtype == expected
    floats = [t for t in (a, b) if t.dtype.kind == "f"]
    if out.dtype.kind == "f" and floats:
        grads = rg.compile(rg.grad(rg.sum(out), floats))(a=a0, b=b0)
        assert [gr.dtype for gr in grads] == [t.dtype for t in floats]   # each gradient has its input's dtype


@pytest.mark.parametrize("dtype,scalar,expected", [("float32", 2.0, "float32"), ("float32", 2, "float32"),
                                                   ("int32", 2, "int32"), ("int32", 2.5, "float64"),
                                                   ("float64", 2, "float64")])
def test_python_scalars_promote_weakly(dtype, scalar, expected):
    g = rg.Graph()
    x = g.input("x", shape=(3,), dtype=dtype)
    for out in (x * scalar, scalar - x, x ** scalar if dtype.startswith("float") else x + scalar):
        assert out.dtype == np.dtype(expected)
        assert rg.compile(out)(x=np.arange(3).astype(dtype)).dtype == np.dtype(expected)


def test_float32_onehot_float64_labels_promote_the_loss_to_float64():
    g = rg.Graph()
    x = g.input("x", shape=(3, 5), dtype="float32")
    loss = rg.softmax_cross_entropy(x, np.eye(5)[[1, 4, 0]])        # float64 labels
    assert loss.dtype == np.float64
    step = rg.compile(loss, wrt=x)
    value, dx = step.value_and_grad(x=np.zeros((3, 5), np.float32))
    assert value.dtype == np.float64 and dx.dtype == np.float32
    np.testing.assert_allclose(value, np.log(5), rtol=1e-6)   # log_softmax ran in float32


def test_pow_gradient_with_a_python_exponent_stays_float32():
    # regression: `y - 1` on the weak exponent 2.0 used to become a float64 node (a strong dtype) in the
    # adjoint graph, declaring x ** (y - 1) float64 while the program computed float32
    g = rg.Graph()
    x = g.input("x", shape=(3,), dtype="float32")
    dx = rg.grad(rg.sum(x ** 2.0), x)
    assert all(d["dtype"] != np.float64 for _, d in g.nx.nodes(data=True) if not d.get("weak"))
    step = rg.compile(rg.sum(x ** 3.0), wrt=x)
    feeds = {"x": np.array([1.0, 2.0, 3.0], np.float32)}
    nodes = assert_runtime_dtypes_are_declared(step, feeds, np.ones((), F32))
    assert all(t.dtype == F32 for t in nodes)
    np.testing.assert_array_equal(rg.compile(dx)(**feeds), np.array([2.0, 4.0, 6.0], np.float32))


def test_integer_inputs_are_fine_where_nothing_is_differentiated_through_them():
    g = rg.Graph()
    x = g.input("x", shape=(4, 3))
    n = g.input("n", shape=(4, 1), dtype="int32")          # a count per row
    t = g.input("t", shape=(4,), dtype="int64")            # class labels
    loss = rg.softmax_cross_entropy(x * n, t) + rg.sum(rg.where(n > 1, x, 0.0))
    step = rg.compile(loss, wrt=x)
    xv, nv, tv = np.ones((4, 3)) * np.arange(3), np.array([[1], [2], [3], [1]], np.int32), np.array([0, 1, 2, 2])
    value, dx = step.value_and_grad(x=xv, n=nv, t=tv)
    assert dx.dtype == np.float64 and dx.shape == (4, 3)
    assert rg.gradcheck(loss, x, {"x": xv, "n": nv, "t": tv}).ok


def test_differentiating_with_respect_to_an_integer_input_is_a_graph_error():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    n = g.input("count", shape=(3,), dtype="int64")
    loss = rg.sum(x * n)
    with pytest.raises(rg.GraphError, match=r"'count' of dtype int64.*float"):
        rg.grad(loss, n)
    with pytest.raises(rg.GraphError, match=r"'count' of dtype int64.*float") as info:
        rg.compile(loss, wrt=[x, n])
    assert info.value.node == n.id
    with pytest.raises(rg.GraphError, match="'count'"):
        rg.compile(loss, wrt=n)
    with pytest.raises(rg.GraphError, match="'count'.*only float"):
        rg.gradcheck(loss, n, {"x": np.ones(3), "count": np.arange(3)})
