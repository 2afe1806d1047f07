"""step.value_and_grad() with the default seed runs one fused program in which the seed is a
constant 1, so the simplification passes remove the multiplications by it; its feed checks
take a generated fast path for exact arrays and the full checks for everything else."""

import numpy as np
import pytest

import revgraph as rg


def apple_orange():
    g = rg.Graph("buy_apple_orange")
    ins = [g.input(n) for n in ["apple", "apple_num", "orange", "orange_num", "tax"]]
    apple, apple_num, orange, orange_num, tax = ins
    return ins, (apple * apple_num + orange * orange_num) * tax


FEEDS = dict(apple=100.0, apple_num=2.0, orange=150.0, orange_num=3.0, tax=1.1)


def test_fused_value_and_grad_matches_forward_backward_and_drops_the_seed():
    ins, price = apple_orange()
    step = rg.compile(price, wrt=ins)
    value, grads = step.value_and_grad(**FEEDS)
    assert value == pytest.approx(step.forward(**FEEDS))
    np.testing.assert_allclose(grads, step.backward(), rtol=1e-15)
    np.testing.assert_allclose(grads, [2.2, 110.0, 3.3, 165.0, 650.0], rtol=1e-12)
    fused = step._fused
    body = fused.plan.programs["call"].body
    assert len(body) == 8, "fused program should be the 4 forward ops and the 4 gradient products"
    assert "dout" not in "".join(fused.source.split("def call")[1].splitlines()[6:]), "the seed is still multiplied"


def test_fused_program_checks_feeds_like_the_step():
    ins, price = apple_orange()
    step = rg.compile(price, wrt=ins)
    exact = {k: np.array(v) for k, v in FEEDS.items()}
    v1, g1 = step.value_and_grad(**exact)        # the generated fast path
    v2, g2 = step.value_and_grad(**FEEDS)        # Python floats: converted by the full check
    assert v1 == v2 and np.allclose(g1, g2)
    with pytest.raises(rg.FeedError, match="missing feed for input 'tax'"):
        step.value_and_grad(**{k: v for k, v in exact.items() if k != "tax"})
    with pytest.raises(rg.FeedError, match="'pear' is no input"):
        step.value_and_grad(pear=1.0, **{k: v for k, v in exact.items() if k != "tax"})
    with pytest.raises(rg.FeedError, match="expects shape"):
        step.value_and_grad(**{**exact, "tax": np.ones(2)})
    with pytest.raises(rg.FeedError, match="dtype"):
        step.value_and_grad(**{**exact, "tax": np.array(1.1 + 0j)})


def test_non_scalar_output_and_explicit_dout_keep_the_two_programs():
    g = rg.Graph()
    x = g.input("x", (3,))
    step = rg.compile(rg.exp(x), wrt=x)
    value, grad = step.value_and_grad(dout=np.ones(3), x=np.zeros(3))
    np.testing.assert_allclose(grad, np.ones(3))
    assert step._fused is None
