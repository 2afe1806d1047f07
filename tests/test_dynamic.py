"""The dynamic (define-by-run) engine: the textbook's examples, accumulation, no_grad,
higher order, memory and deep chains."""

import gc
import sys
import weakref

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


def V(x, name=None):
    return dy.Variable(np.array(x), name=name)


def test_square_plus_square_value_and_gradients():
    x, y = V(2.0), V(3.0)
    z = rg.add(rg.square(x), rg.square(y))
    assert float(z.data) == 13.0
    z.backward()
    assert float(x.grad.data) == 4.0 and float(y.grad.data) == 6.0


def test_fan_out_accumulates_and_cleargrad_resets():
    x = V(3.0)
    y = rg.add(x, x)
    y.backward()
    assert float(x.grad.data) == 2.0
    x.cleargrad()
    y = rg.add(rg.add(x, x), x)
    y.backward()
    assert float(x.grad.data) == 3.0


def test_without_cleargrad_gradients_add_up_across_backward_calls():
    x = V(3.0)
    rg.add(x, x).backward()
    rg.add(rg.add(x, x), x).backward()
    assert float(x.grad.data) == 5.0


def test_diamond_gets_both_paths_exactly_once():
    # a -> b = a², c = a³ -> d = b + c: dd/da = 2a + 3a² = 16 at a = 2
    a = V(2.0)
    b = rg.square(a)
    c = a ** 3.0
    d = b + c
    d.backward()
    assert float(a.grad.data) == 16.0


def test_deep_diamond_chain_visits_each_op_once():
    # x_{k+1} = x_k + x_k, 60 times: d/dx0 = 2**60 exactly; a node visited twice would double it again
    x0 = V(1.0)
    x = x0
    for _ in range(60):
        x = x + x
    x.backward()
    assert float(x0.grad.data) == 2.0 ** 60


def test_100000_op_chain_runs_backward_without_recursion():
    x0 = V(0.5)
    x = x0
    for _ in range(100_000):
        x = x * 1.0
    assert sys.getrecursionlimit() < 100_000  # the walk must not rely on recursion
    x.backward()
    assert float(x0.grad.data) == 1.0
    del x
    gc.collect()


def test_second_derivative_with_create_graph():
    x = V(2.0)
    y = x ** 4.0 - 2 * x ** 2.0
    y.backward(create_graph=True)
    gx = x.grad
    assert float(gx.data) == 24.0   # 4x³ - 4x
    assert gx.creator is not None
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == 44.0  # 12x² - 4


def test_without_create_graph_the_gradient_is_not_recorded():
    x = V(2.0)
    (x * x).backward()
    assert x.grad.creator is None


def test_intermediate_gradients_are_freed_unless_retained():
    x = V(2.0)
    h = x * 3.0
    y = h * h
    y.backward()
    assert h.grad is None and y.grad is None and float(x.grad.data) == 36.0
    x.cleargrad()
    y = (x * 3.0) * 1.0
    h = y.creator.inputs[0]
    y.backward(retain_grad=True)
    assert float(h.grad.data) == 1.0 and float(y.grad.data) == 1.0


def test_no_grad_records_nothing_and_restores_on_exceptions():
    x = V(2.0)
    with dy.no_grad():
        y = x * 3.0
        assert not dy.is_recording()
    assert y.creator is None and float(y.data) == 6.0
    with pytest.raises(ZeroDivisionError):
        with dy.no_grad():
            raise ZeroDivisionError
    assert dy.is_recording()
    assert (x * 3.0).creator is not None


def test_graph_is_freed_when_the_user_drops_the_output():
    gc.disable()  # the graph must go by reference counting alone: no cycles
    try:
        x = V(2.0)
        h = rg.exp(x * 2.0)
        probe = weakref.ref(h)
        y = rg.sum(h + 1.0)
        del h
        assert probe() is not None  # y still reaches it through its creator
        y.backward()
        del y
        assert probe() is None
    finally:
        gc.enable()


def test_creator_and_generation_are_recorded():
    x = V(1.0, name="x")
    h = rg.exp(x)
    y = h * x
    assert x.creator is None and x.generation == 0
    assert h.creator.op == "exp" and h.generation == 1
    assert y.creator.op == "mul" and y.generation == 2 and y.creator.inputs == (h, x)
    assert y.creator.output is y


def test_plain_values_mix_on_either_side():
    v = V([1.0, 2.0, 3.0])
    arr = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    out = rg.sum(rg.matmul(arr, v) * 2.0) + rg.sum(arr * v) + rg.sum(1 - v / 2.0)
    assert isinstance(out, dy.Variable)
    expected = np.sum(arr @ v.data * 2.0) + np.sum(arr * v.data) + np.sum(1 - v.data / 2.0)
    np.testing.assert_allclose(out.data, expected)
    out.backward()
    np.testing.assert_allclose(v.grad.data, arr.T @ np.full(2, 2.0) + arr.sum(0) - 0.5)


def test_python_scalars_stay_weak():
    v = dy.Variable(np.ones(3, np.float32))
    assert (v * 2.0).dtype == np.float32 and (2 + v).dtype == np.float32
    (rg.sum(v * 2.0)).backward()
    assert v.grad.dtype == np.float32


def test_broadcast_gradients_are_summed_back():
    b = V([1.0, 2.0])
    W = V(np.ones((3, 2)))
    rg.sum(W * b).backward()
    np.testing.assert_allclose(b.grad.data, [3.0, 3.0])
    assert W.grad.shape == (3, 2)


def test_integer_operands_get_no_gradient():
    x = V([0.5, -1.0, 2.0])
    t = dy.Variable(np.array([0, 2, 1]))
    logits = rg.reshape(x, (1, 3))
    loss = rg.softmax_cross_entropy(logits, t[:1])
    loss.backward()
    assert t.grad is None and x.grad.shape == (3,)


def test_python_control_flow_on_values_works():
    x = V(-3.0)
    y = x * 2.0 if x > 0 else -x
    y.backward()
    assert float(x.grad.data) == -1.0


def test_errors():
    with pytest.raises(TypeError, match="NumPy array or a number"):
        dy.Variable("three")
    with pytest.raises(TypeError, match="np.array"):
        dy.Variable([1.0, 2.0])
    with pytest.raises(TypeError, match="dtype"):
        dy.Variable(np.array(["a"]))
    with pytest.raises(rg.GraphError, match=r"add .*\(3,\).*\(4,\)"):
        V(np.ones(3)) + np.ones(4)
    with pytest.raises(rg.GraphError, match="matmul"):
        rg.matmul(V(np.ones((2, 3))), np.ones((2, 3)))
    g = rg.Graph()
    with pytest.raises(rg.GraphError, match="Tensor and .*Variable|Variable and Tensor"):
        g.input("x") * V(1.0)
    with pytest.raises(rg.GraphError, match="Tensor and .*Variable|Variable and Tensor"):
        V(1.0) + g.input("y")
    with pytest.raises(rg.GraphError, match="only a float output"):
        dy.Variable(np.array(3)).backward()


def test_variable_basics():
    x = V([[1.0, 2.0], [3.0, 4.0]], name="x")
    assert x.shape == (2, 2) and x.ndim == 2 and x.size == 4 and len(x) == 2 and x.dtype == np.float64
    assert "x" in repr(x)
    np.testing.assert_array_equal(np.asarray(x), x.data)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    np.testing.assert_array_equal(x.sum(axis=0).data, [4.0, 6.0])
    np.testing.assert_array_equal(x.reshape(4).data, [1, 2, 3, 4])
    np.testing.assert_array_equal(x[1, :].data, [3.0, 4.0])
    np.testing.assert_array_equal(abs(-x).data, x.data)
    assert isinstance(x.data, np.ndarray) and isinstance(rg.sum(x).data, np.ndarray)
    assert dy.as_variable(x) is x and isinstance(dy.as_variable(1.0), dy.Variable)


def test_a_failure_inside_a_kernel_names_the_op():
    logits = dy.Variable(np.zeros((2, 3)), name="logits")
    with pytest.raises(rg.GraphError, match=r"softmax_cross_entropy with operands \(Variable 'logits': shape \(2, 3\)"
                                            r".*labels must lie in \[0, 3\)"):
        rg.softmax_cross_entropy(logits, np.array([0, 7]))


def test_iterating_over_rows_is_differentiable():
    x = V([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    total = sum(rg.sum(row * k) for k, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(TypeError):
        iter(V(1.0))
