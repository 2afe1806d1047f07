"""Defects found while porting autograd/DeZero test suites (issue 13, part 10), each with its regression
test: pow's gradients at 0, the dtype of a sum of bools, and rg.trace of partials and defaults."""

import functools

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


def _both(fn, values):
    """Gradients of sum(fn(*xs)) in both engines: (static list, dynamic list)."""
    g = rg.Graph()
    xs = [g.input(f"x{i}", shape=np.shape(v)) for i, v in enumerate(values)]
    static = rg.compile(rg.grad(rg.sum(fn(*xs)), xs))(**{x.name: v for x, v in zip(xs, values)})
    vs = [dy.Variable(np.asarray(v, dtype=float)) for v in values]
    rg.sum(fn(*vs)).backward()
    return static, [v.grad.data for v in vs]


@pytest.mark.parametrize("fn", [lambda x: x ** 0.0, lambda x: rg.pow(x, 0), lambda x: x ** rg.stop_gradient(x * 0.0)],
                         ids=["python_zero", "int_zero", "tensor_zero"])
def test_gradient_of_x_to_the_zero_at_zero_is_zero(fn):
    static, dynamic = _both(fn, [np.array([0.0, 2.0, -1.5])])
    np.testing.assert_array_equal(static[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(dynamic[0], [0.0, 0.0, 0.0])


def test_second_derivative_of_x_to_a_zero_tensor_exponent_is_finite():
    g = rg.Graph()
    x, y = g.input("x", shape=(2,)), g.input("y", shape=(2,))
    dx = rg.grad(rg.sum(x ** y), x)
    d2 = rg.compile(rg.grad(rg.sum(dx), [x, y]))(x=np.array([0.0, 2.0]), y=np.array([0.0, 0.0]))
    np.testing.assert_array_equal(d2[0], [0.0, 0.0])
    assert np.all(np.isfinite(d2[1])) and d2[1][1] == 0.5  # d/dy (y x^(y-1)) at y = 0 is 1/x (x = 2)


def test_gradient_of_zero_to_the_y_wrt_y_is_zero_for_positive_y():
    y = np.array([0.5, 1.0, 3.0])
    static, dynamic = _both(lambda y: rg.pow(0.0, y), [y])
    np.testing.assert_array_equal(static[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(dynamic[0], [0.0, 0.0, 0.0])
    static, dynamic = _both(lambda x, y: x ** y, [np.array([0.0, 2.0, 0.0]), y])  # a tensor base, 0 in places
    np.testing.assert_allclose(static[1], [0.0, 2.0 * np.log(2.0), 0.0])
    np.testing.assert_allclose(dynamic[1], static[1])


def test_pow_keeps_its_gradients_elsewhere():
    x, y = np.array([0.5, 2.0]), np.array([1.5, -2.0])
    static, dynamic = _both(lambda x, y: x ** y, [x, y])
    for got in (static, dynamic):
        np.testing.assert_allclose(got[0], y * x ** (y - 1))
        np.testing.assert_allclose(got[1], x ** y * np.log(x))


def test_sum_of_bools_is_int64_as_numpy_and_passes_keep_the_answer():
    g = rg.Graph()
    c = g.constant(np.array([True, True, False]))
    x = g.input("x")
    y = rg.sum(c) + x
    s = rg.sum(c)
    assert s.dtype == np.sum(np.array([True, True, False])).dtype == np.int64
    assert rg.compile(y)(x=0.0) == 2.0 == rg.compile(y, optimize=False)(x=0.0)
    b = g.input("b", shape=(3,), dtype="bool")
    assert rg.compile(rg.sum(b) + x)(b=[True, True, False], x=0.0) == 2.0


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8", "uint32", "int64", "float32"])
def test_sum_dtype_is_numpys(dtype):
    g = rg.Graph()
    x = g.input("x", shape=(3,), dtype=dtype)
    v = np.array([1, 0, 1], dtype=dtype)
    assert rg.sum(x).dtype == np.sum(v).dtype == rg.compile(rg.sum(x))(x=v).dtype
    assert rg.sum(dy.Variable(v)).data.dtype == np.sum(v).dtype


def _model(x, W, scale=2.0):
    return rg.sum(x @ W) * scale


def test_trace_accepts_functools_partial():
    x0, W0 = np.ones((2, 3)), np.ones((3, 4))
    g = rg.trace(functools.partial(_model, scale=1.0), x=x0, W=W0)
    assert sorted(t.name for t in g.inputs) == ["W", "x"] and g.name == "_model"
    assert rg.compile(g.outputs)(x=x0, W=W0) == 24.0
    g = rg.trace(functools.partial(lambda x, y: rg.sum(x * y), y=1), x=x0)   # the partial(f, y=1)
    assert rg.compile(g.outputs)(x=x0) == 6.0


def test_trace_keeps_defaults_unless_given_an_example():
    x0, W0 = np.ones((2, 3)), np.ones((3, 4))
    g = rg.trace(_model, x=x0, W=W0)
    assert rg.compile(g.outputs)(x=x0, W=W0) == 48.0 and "scale" not in [t.name for t in g.inputs]
    g = rg.trace(_model, x=x0, W=W0, scale=3.0)   # given: an input like the others
    assert rg.compile(g.outputs)(x=x0, W=W0, scale=0.5) == 12.0
    with pytest.raises(rg.GraphError, match=r"missing \['W'\].*"):
        rg.trace(_model, x=x0)
    with pytest.raises(rg.GraphError, match="optionally"):
        rg.trace(_model, x=x0, W=W0, nope=1.0)
