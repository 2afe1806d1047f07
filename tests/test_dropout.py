"""Dropout: inverted, a fresh mask every run of a compiled program and every dynamic call, the backward pass
multiplying by the forward's own mask, reproducible under rg.seed, the identity when train=False."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


def _step(p=0.5):
    g = rg.Graph("drop")
    x = g.input("x", shape=(1000,))
    y = rg.dropout(x, p=p)
    return rg.compile(rg.sum(y * y), wrt=x), rg.compile(y)


def test_fresh_mask_per_call_and_reproducible_under_a_seed():
    _, f = _step()
    x = np.ones(1000)
    rg.seed(3)
    a, b = f(x=x), f(x=x)
    assert not np.array_equal(a, b)
    rg.seed(3)
    np.testing.assert_array_equal(f(x=x), a)
    assert set(np.unique(a)) == {0.0, 2.0}                # kept values scaled by 1 / (1 - p)
    assert 400 < np.count_nonzero(a) < 600


def test_backward_uses_the_forwards_mask():
    step, _ = _step(p=0.3)
    x = np.random.default_rng(0).uniform(1, 2, size=1000)
    for _ in range(3):  # d/dx sum((x m)^2) = 2 x m^2 with m in {0, 1/(1-p)}: zero exactly where x was dropped
        value = step.forward(x=x)
        dx = step.backward()
        kept = dx != 0
        np.testing.assert_allclose(value, np.sum((x[kept] / 0.7) ** 2))
        np.testing.assert_allclose(dx[kept], 2 * x[kept] / 0.49)
    value, dx = step.value_and_grad(x=x)
    kept = dx != 0
    np.testing.assert_allclose(value, np.sum((x[kept] / 0.7) ** 2))


def test_two_dropouts_of_one_tensor_are_two_draws():
    g = rg.Graph("two")
    x = g.input("x", shape=(500,))
    f = rg.compile([rg.dropout(x), rg.dropout(x)])
    a, b = f(x=np.ones(500))
    assert not np.array_equal(a, b), "common-subexpression elimination must not merge random draws"


def test_dynamic_dropout_and_eval_mode():
    rg.seed(0)
    x = dy.Variable(np.ones(200))
    y = rg.dropout(x, p=0.5)
    rg.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, y.data)      # the gradient is the mask itself
    assert rg.dropout(x, p=0.5, train=False) is x
    layer = rg.nn.Dropout(0.5).eval()
    assert layer(x) is x
    with pytest.raises(rg.GraphError, match="p=1.0"):
        rg.dropout(x, p=1.0)
