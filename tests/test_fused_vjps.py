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
