"""The textbook's numbers (Deep Learning from Scratch 1, ch. 5; 3, steps 1-33), relative tolerance 1e-12."""

import math

import numpy as np
import pytest

import revgraph as rg


def assert_close(actual, desired):
    np.testing.assert_allclose(actual, desired, rtol=1e-12)


def test_buy_apple():
    g = rg.Graph("buy_apple")
    apple, num, tax = g.input("apple"), g.input("apple_num"), g.input("tax")
    step = rg.compile(apple * num * tax, wrt=[apple, num, tax])
    assert_close(step.forward(apple=100, apple_num=2, tax=1.1), 220)
    for got, want in zip(step.backward(), [2.2, 110, 200]):
        assert_close(got, want)


def test_buy_apple_orange():
    g = rg.Graph("buy_apple_orange")
    apple, apple_num, orange, orange_num, tax = (g.input(n) for n in ["apple", "apple_num", "orange", "orange_num", "tax"])
    price = (apple * apple_num + orange * orange_num) * tax
    step = rg.compile(price, wrt=[apple, apple_num, orange, orange_num, tax])
    assert_close(step.forward(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1), 715)
    for got, want in zip(step.backward(), [2.2, 110, 3.3, 165, 650]):
        assert_close(got, want)


def test_a_plus_b_times_c():
    g = rg.Graph()
    a, b, c = g.input("a"), g.input("b"), g.input("c")
    step = rg.compile((a + b) * c, wrt=[a, b, c])
    assert_close(step.forward(a=50, b=70, c=2), 240)
    for got, want in zip(step.backward(), [2, 2, 120]):
        assert_close(got, want)


def test_sum_of_squares():
    g = rg.Graph()
    x, y = g.input("x"), g.input("y")
    step = rg.compile(rg.square(x) + rg.square(y), wrt=[x, y])
    assert_close(step.forward(x=2.0, y=3.0), 13)
    dx, dy = step.backward()
    assert_close(dx, 4)
    assert_close(dy, 6)


def test_reusing_a_variable_accumulates_and_graphs_stay_separate():
    g1 = rg.Graph("once")
    x1 = g1.input("x")
    dx1 = rg.grad(x1 + x1, x1)
    assert g1.nx.number_of_edges(x1.id, (x1 + x1).id) == 2  # one edge per operand
    g2 = rg.Graph("twice")
    x2 = g2.input("x")
    dx2 = rg.grad((x2 + x2) + x2, x2)
    assert_close(rg.compile(dx2)(x=3.0), 3)
    assert_close(rg.compile(dx1)(x=3.0), 2)  # unchanged by the second graph


def test_exp_reciprocal_sigmoid_relu():
    g = rg.Graph()
    x = g.input("x")
    assert_close(rg.compile(rg.grad(rg.exp(x), x))(x=2.0), math.e ** 2)
    assert_close(rg.compile(rg.grad(1.0 / x, x))(x=2.0), -0.25)
    y = rg.sigmoid(x)
    yv, dy = rg.compile([y, rg.grad(y, x)])(x=0.3)
    assert_close(dy, yv * (1 - yv))
    v = g.input("v", shape=(4,))
    dv = rg.grad(rg.sum(rg.relu(v) * np.array([1.0, 2.0, 3.0, 4.0])), v)
    np.testing.assert_array_equal(rg.compile(dv)(v=np.array([-1.0, 0.0, 2.0, 3.0])), [0.0, 0.0, 3.0, 4.0])


def test_affine_layer():
    rng = np.random.default_rng(0)
    g = rg.Graph()
    x, W, b = g.input("x", (2, 3)), g.input("W", (3, 4)), g.input("b", (4,))
    step = rg.compile(x @ W + b, wrt=[x, W, b])
    xv, Wv, bv, dout = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(2, 4))
    assert_close(step.forward(x=xv, W=Wv, b=bv), xv @ Wv + bv)
    dx, dW, db = step.backward(dout)
    assert_close(dx, dout @ Wv.T)
    assert_close(dW, xv.T @ dout)
    assert_close(db, dout.sum(axis=0))


@pytest.mark.parametrize("labels", ["integer", "onehot"])
def test_softmax_with_loss(labels):
    rng = np.random.default_rng(1)
    N, C = 4, 3
    logits = rng.normal(size=(N, C))
    idx = np.array([0, 2, 1, 2])
    onehot = np.eye(C)[idx]
    g = rg.Graph()
    x = g.input("x", (None, C))
    t = g.input("t", (None,), dtype="int64") if labels == "integer" else g.input("t", (None, C))
    step = rg.compile(rg.softmax_cross_entropy(x, t), wrt=x)
    loss = step.forward(x=logits, t=idx if labels == "integer" else onehot)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    assert_close(loss, -np.log(p[np.arange(N), idx]).mean())
    assert_close(step.backward(), (p - onehot) / N)


def test_second_derivatives():
    g = rg.Graph()
    x = g.input("x")
    assert_close(rg.compile(rg.grad(rg.grad(x ** 3.0, x), x))(x=2.0), 12)
    assert_close(rg.compile(rg.grad(rg.grad(rg.sin(x), x), x))(x=1.0), -math.sin(1.0))


def test_third_derivative_and_newton_step():
    g = rg.Graph()
    x = g.input("x")
    y = x ** 4.0 - 2.0 * x ** 2.0
    d1 = rg.grad(y, x)
    d2 = rg.grad(d1, x)
    d3 = rg.grad(d2, x)
    v1, v2, v3 = rg.compile([d1, d2, d3])(x=2.0)
    assert_close(v1, 4 * 8 - 4 * 2)   # 4x³ - 4x
    assert_close(v2, 12 * 4 - 4)      # 12x² - 4 = 44
    assert_close(v3, 24 * 2)          # 24x
