"""tanh and sigmoid pass their gradient back through one op each (tanh_grad, sigmoid_grad) read from
the forward result; their own VJPs give second derivatives."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


@pytest.mark.parametrize("op, fused", [(rg.tanh, "tanh_grad"), (rg.sigmoid, "sigmoid_grad")])
def test_the_adjoint_of_one_activation_is_one_node(op, fused):
    g = rg.Graph()
    x = g.input("x", shape=(4,))
    y = op(x)
    before = len(g)
    (dx,) = rg.grad(y, [x], seed=g.input("dy", shape=(4,)))
    added = [g.node(n)["op"] for n in range(before, len(g) + 10) if n in g.nx]
    assert added.count(fused) == 1 and dx.op == fused
    assert not {"mul", "sub"} & set(added)


def test_second_derivatives_of_tanh_and_sigmoid():
    g = rg.Graph()
    x = g.input("x")
    t, s = rg.tanh(x), rg.sigmoid(x)
    d2t = rg.grad(rg.grad(t, x), x)
    d2s = rg.grad(rg.grad(s, x), x)
    got_t, got_s = rg.compile([d2t, d2s])(x=0.7)
    tv, sv = np.tanh(0.7), 1 / (1 + np.exp(-0.7))
    assert got_t == pytest.approx(-2 * tv * (1 - tv**2), rel=1e-12)
    assert got_s == pytest.approx(sv * (1 - sv) * (1 - 2 * sv), rel=1e-12)


def test_dynamic_engine_uses_the_same_fused_rules():
    x = dy.Variable(np.array([0.3, -1.2]))
    y = rg.tanh(x)
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.creator.op == "tanh_grad"
    np.testing.assert_allclose(gx.data, 1 - np.tanh([0.3, -1.2]) ** 2, rtol=1e-12)


# -- softmax_cross_entropy with integer labels: one gather/scatter kernel for the logits' gradient ----------
def _two_layer(batch=20, classes=10):
    rng = np.random.default_rng(3)
    feeds = {"x": rng.standard_normal((batch, 30)), "t": rng.integers(0, classes, batch),
             "W": 0.1 * rng.standard_normal((30, classes)), "b": np.zeros(classes)}
    g = rg.Graph()
    v = {k: g.input(k, shape=a.shape, dtype=a.dtype) for k, a in feeds.items()}
    loss = rg.softmax_cross_entropy(v["x"] @ v["W"] + v["b"], v["t"])
    return loss, [v["W"], v["b"]], feeds


def _numpy_two_layer(x, t, W, b):  # the textbook's SoftmaxWithLoss, written by hand
    a = x @ W + b
    e = np.exp(a - a.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    n = len(t)
    loss = -np.log(y[np.arange(n), t]).sum() / n
    dy = y.copy()
    dy[np.arange(n), t] -= 1
    dy /= n
    return loss, [x.T @ dy, dy.sum(axis=0)]


def test_integer_label_gradient_is_one_fused_op_with_no_onehot():
    loss, wrt, feeds = _two_layer()
    step = rg.compile(loss, wrt=wrt)
    for program in ("forward", "backward"):
        ops = [step.graph.node(n)["op"] for n in step.plan.programs[program].body]
        assert "onehot" not in ops and "softmax" not in ops, (program, ops)
    assert "softmax_cross_entropy_grad" in step.source
    value, grads = step.forward(**feeds), step.backward()
    vg = step.value_and_grad(**feeds)
    assert np.array_equal(value, vg[0]) and all(np.array_equal(a, b) for a, b in zip(grads, vg[1]))
    ref_value, ref_grads = _numpy_two_layer(**feeds)
    np.testing.assert_allclose(value, ref_value, rtol=1e-13)
    for a, b in zip(grads, ref_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    step.forward(**feeds)
    twice = step.backward(np.array(2.0))
    for a, b in zip(twice, grads):
        np.testing.assert_allclose(a, 2 * b, rtol=1e-13)


def test_integer_label_gradient_differentiates_again():
    g = rg.Graph()
    x = g.input("x", shape=(3, 5))
    t = np.array([2, 0, 4])
    (dx,) = rg.grad(rg.softmax_cross_entropy(x, t), [x])
    assert dx.op == "softmax_cross_entropy_grad"
    w = np.linspace(-1, 1, 15).reshape(3, 5)
    (ddx,) = rg.grad(rg.sum(dx * w), [x])  # a Hessian-vector product, through the fused op's own VJP
    f = rg.compile([dx, ddx])
    x0 = np.random.default_rng(0).standard_normal((3, 5))
    d1, d2 = f(x=x0)

    def first(xv):
        e = np.exp(xv - xv.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        y[np.arange(3), t] -= 1
        return y / 3

    np.testing.assert_allclose(d1, first(x0), rtol=1e-12)
    h = 1e-6
    numeric = np.zeros_like(x0)
    for i in np.ndindex(*x0.shape):
        xp_, xm = x0.copy(), x0.copy()
        xp_[i] += h
        xm[i] -= h
        numeric[i] = (np.sum(first(xp_) * w) - np.sum(first(xm) * w)) / (2 * h)
    np.testing.assert_allclose(d2, numeric, rtol=1e-6, atol=1e-9)


def test_integer_label_gradient_refuses_bad_labels_like_the_loss():
    g = rg.Graph()
    x = g.input("x", shape=(3, 5))
    (dx,) = rg.grad(rg.softmax_cross_entropy(x, g.input("t", shape=(3,), dtype=np.int64)), [x])
    f = rg.compile(dx)
    with pytest.raises((rg.FeedError, ValueError), match="labels"):
        f(x=np.zeros((3, 5)), t=np.array([0, 5, 1]))
