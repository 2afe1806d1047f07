"""Advanced indexing (ir/ops/indexing.py): masks computed in the graph (run-time sizes), constant masks
(static sizes), repeated indices accumulating, the scatter-add kernel's fast path, integer tensors as
indices, sizes fixed at run time, save/load validation of the new attributes, drawing."""

import json

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.backends.numpy import kernels_shape
from revgraph.ir import serialize

X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])


def test_a_mask_computed_in_the_graph_has_a_run_time_size():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    picked = x[x > 0]
    assert picked.op == "index" and picked.shape == (None,)
    loss = rg.sum(picked * picked)
    dx = rg.grad(loss, x)
    value, grad = rg.compile([picked, dx])(x=X)
    np.testing.assert_array_equal(value, X[X > 0])
    np.testing.assert_array_equal(grad, np.where(X > 0, 2 * X, 0.0))
    # second order: d/dx <dx, r> = 2 r on the mask
    r = np.arange(6.0).reshape(2, 3)
    d2 = rg.compile(rg.grad(rg.sum(dx * r), x))(x=X)
    np.testing.assert_array_equal(d2, np.where(X > 0, 2 * r, 0.0))


def test_a_mask_in_the_dynamic_engine_agrees():
    x = dy.Variable(X.copy())
    y = x[x > 0]
    np.testing.assert_array_equal(y.data, X[X > 0])
    rg.sum(y * y).backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.data, np.where(X > 0, 2 * X, 0.0))


def test_a_constant_mask_gives_a_static_size():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    mask = X > 0
    assert x[mask].shape == (3,)
    assert x[g.constant(mask)].shape == (3,)       # a constant tensor is known too
    assert x[:, mask[0]].shape == (2, 2)
    np.testing.assert_array_equal(rg.compile(x[:, mask[0]])(x=X), X[:, mask[0]])


def test_repeated_indices_accumulate_in_the_gradient():
    g = rg.Graph()
    x = g.input("x", shape=(3, 2))
    dx = rg.grad(rg.sum(x[[0, 0, 2, 0]]), x)
    np.testing.assert_array_equal(rg.compile(dx)(x=np.ones((3, 2))), [[3, 3], [0, 0], [1, 1]])
    v = dy.Variable(np.ones((3, 2)))
    rg.sum(v[[0, 0, 2, 0]]).backward()
    np.testing.assert_array_equal(v.grad.data, [[3, 3], [0, 0], [1, 1]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, n", [((5, 3, 2), (4, 3)), ((7, 2), (100,)), ((7, 4, 5), (10, 10))],
                         ids=["few_indices", "narrow_rows", "wide_rows"])
def test_the_row_paths_equal_np_add_at(dtype, shape, n):
    rng = np.random.default_rng(0)
    x = np.zeros(shape, dtype)
    idx = rng.integers(-shape[0], shape[0], size=n)
    g = rng.normal(size=n + shape[1:]).astype(dtype)
    want = np.zeros_like(x)
    np.add.at(want, idx, g)
    got = kernels_shape.index_grad(g, x, idx, key=("array",))
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # a broadcast gradient (a scalar's) gives what the full one does
    np.testing.assert_allclose(kernels_shape.index_grad(np.asarray(2.0, dtype), x, idx, key=("array",)),
                               kernels_shape.index_grad(np.full(g.shape, 2.0, dtype), x, idx, key=("array",)))


def test_the_general_scatter_path_with_a_mask_next_to_an_integer_array():
    x = np.zeros((5, 3, 2))
    mask = np.array([True, False, True])
    got = kernels_shape.index_grad(np.ones((2, 2)), x, np.array([1, 1]), mask, key=("array", "array"))
    want = np.zeros_like(x)
    np.add.at(want, (np.array([1, 1]), np.nonzero(mask)[0]), np.ones((2, 2)))  # x[[1, 1], mask]: (2, 2)
    np.testing.assert_array_equal(got, want)


def test_an_integer_tensor_indexes_and_sizes_may_be_fixed_at_run_time():
    g = rg.Graph()
    x = g.input("x", shape=(None, 3))
    idx = g.input("idx", shape=(None,), dtype="int64")
    y = x[idx, 1:]
    assert y.shape == (None, 2)
    dx = rg.grad(rg.sum(y * y), x)
    iv = np.array([1, 1, 0])
    value, grad = rg.compile([y, dx])(x=X, idx=iv)
    np.testing.assert_array_equal(value, X[iv, 1:])
    want = np.zeros_like(X)
    np.add.at(want, (iv[:, None], np.arange(1, 3)), 2 * X[iv, 1:])
    np.testing.assert_array_equal(grad, want)


def test_numpy_placement_of_the_advanced_axes():
    a = np.arange(120.0).reshape(2, 3, 4, 5)
    g = rg.Graph()
    x = g.input("x", shape=a.shape)
    cases = [lambda t: t[[0, 1], :, 0], lambda t: t[:, 0, [0, 1]], lambda t: t[[0, 1], None, [0, 1]],
             lambda t: t[:, [0, 1], None, [1, 2]], lambda t: t[None, [0, 1], [0, 1]], lambda t: t[..., [1, 0]],
             lambda t: t[1, ..., np.array([[0], [4]])], lambda t: t[:, [[0, 2]], 1:3, [[1], [0]]]]
    for case in cases:
        want = case(a)
        assert case(x).shape == want.shape
        np.testing.assert_array_equal(rg.compile(case(x))(x=a), want)


def test_index_errors_name_the_tensor_and_the_fix():
    g = rg.Graph()
    x = g.input("xin", shape=(2, 3))
    with pytest.raises(rg.GraphError, match="'xin'.*boolean scalar"):
        x[np.True_]
    with pytest.raises(rg.GraphError, match="only one"):
        x[..., [0], ...]
    with pytest.raises(rg.GraphError, match="'xin'.*index -3 is out of bounds for axis 0 of size 2"):
        x[[0, -3]]
    f = g.input("f", shape=(2,))
    with pytest.raises(rg.GraphError, match="f: shape \\(2,\\) float64.*index array 0 has dtype float64.*integer or boolean"):
        x[f]


def _doc(g):
    return json.loads(serialize.dumps(g))


def test_save_load_round_trips_and_validates_index_keys():
    g = rg.Graph("idx")
    x = g.input("x", shape=(3, 4))
    y = x[:, [0, 2, 2]].rename("y")
    rg.grad(rg.sum(y * y), x)
    g2 = serialize.loads(serialize.dumps(g))
    xv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(rg.compile(g2.tensor("y"))(x=xv), xv[:, [0, 2, 2]])
    bad_keys = [({"tuple": [{"slice": [None, None, None]}, "import os"]}, "not an int, a slice"),
                ({"tuple": [{"slice": [None, None, None]}]}, "marks 0 array place"),
                ({"tuple": [{"ellipsis": True}, "array"]}, "normal form")]
    for key, match in bad_keys:
        doc = _doc(g)
        next(n for n in doc["graph"]["nodes"] if n["name"] == "y")["attrs"]["key"] = key
        with pytest.raises(rg.GraphError, match=match):
            serialize.loads(json.dumps(doc))
    # an index array must be an integer or boolean operand
    doc = _doc(g)
    const = next(n for n in doc["graph"]["nodes"] if n["op"] == "constant" and n["shape"] == [3])
    const["dtype"] = "float64"
    const["value"]["dtype"] = "float64"
    with pytest.raises(rg.GraphError, match="integer or boolean"):
        serialize.loads(json.dumps(doc))


def test_index_draws_as_one_node_with_its_index_array():
    g = rg.Graph()
    x = g.input("x", shape=(3, 4))
    y = x[:, [0, 2]]
    dot = rg.to_dot(rg.grad(rg.sum(y), x), which="joint").source
    assert "index" in dot and "index_grad" in dot
