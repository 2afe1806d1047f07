"""Any valid input name is feedable through every entry point (issue 11, item 12) -- ``self``, ``dout``,
``args``, ``kwargs``, ``feeds`` and the names the generated entries use for themselves -- and feed errors
speak of the graph's own inputs only, with a "did you mean" (issue 15, item 9)."""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg

NAMES = ["self", "dout", "args", "kwargs", "feeds", "extra", "fn", "res", "exc", "p0", "n0", "dout_1", "grads"]


def _graph(name: str, shape=()):
    g = rg.Graph("names")
    x = g.input(name, shape)
    w = g.input("w", shape)
    return g, x, w, rg.sum(x * w * 3.0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(), (2,)])
def test_an_input_of_any_name_is_fed_through_every_entry_point(name, shape):
    g, x, w, y = _graph(name, shape)
    xv, wv = np.full(shape, 2.0), np.full(shape, 5.0)
    feeds = {name: xv, "w": wv}
    want = float(np.sum(xv * wv * 3.0))
    assert rg.compile(y)(**feeds) == pytest.approx(want)
    for optimize in (True, False):
        step = rg.compile(y, wrt=[x, w], optimize=optimize)
        assert step.forward(**feeds) == pytest.approx(want)
        gx, gw = step.backward()
        np.testing.assert_allclose(gx, wv * 3.0)
        for _ in range(2):  # the fused program's first call, then its fast entry
            value, (gx, gw) = step.value_and_grad(**feeds)
            assert value == pytest.approx(want)
            np.testing.assert_allclose(gw, xv * 3.0)
        value, (gx, gw) = step.value_and_grad(2.0, **feeds)  # a seed, positionally
        np.testing.assert_allclose(gx, wv * 6.0)


def test_dout_is_the_seed_as_a_keyword_unless_an_input_is_named_dout():
    g, x, w, y = _graph("x")
    step = rg.compile(y, wrt=x)
    value, gx = step.value_and_grad(dout=2.0, x=1.0, w=5.0)  # the documented keyword form
    assert gx == pytest.approx(30.0)
    with pytest.raises(rg.FeedError, match="seed twice"):
        step.value_and_grad(2.0, dout=2.0, x=1.0, w=5.0)
    g, d, w, y = _graph("dout")
    step = rg.compile(y, wrt=d)
    value, gd = step.value_and_grad(dout=1.0, w=5.0)  # feeds the input named dout; the seed stays 1
    assert (value, gd) == (pytest.approx(15.0), pytest.approx(15.0))


def test_trace_takes_a_parameter_named_fn():
    def model(fn, x):
        return rg.sum(fn * x)

    g = rg.trace(model, fn=np.ones(2), x=np.full(2, 3.0))
    assert rg.compile(g.outputs)(fn=np.ones(2), x=np.full(2, 3.0)) == pytest.approx(6.0)


# -- issue 15, item 9: the step's own seed input is not an input the caller feeds ---------------------
def test_feed_errors_never_list_the_steps_seed_and_refuse_it_as_a_feed():
    g, x, w, y = _graph("x")
    step = rg.compile(y, wrt=x)
    internal = [d["name"] for _, d in step.graph.nx.nodes(data=True) if d.get("role") == "seed"]
    assert internal == ["dout_1"]
    with pytest.raises(rg.FeedError) as err:
        step.forward(x=1.0, w=2.0, dout_1=2.0)
    assert "'dout_1' is no input" in str(err.value)
    assert "its inputs are: 'w', 'x'" in str(err.value)
    with pytest.raises(rg.FeedError) as err:
        step.forward(x=1.0)
    assert "dout" not in str(err.value)


@pytest.mark.parametrize("call", ["f", "forward", "value_and_grad"])
def test_a_misspelled_feed_gets_a_did_you_mean(call):
    g = rg.Graph("typos")
    weights = g.input("weights", (2,))
    bias = g.input("bias")
    y = rg.sum(weights * bias)
    feeds = {"wieghts": np.ones(2), "bias": 1.0}
    run = rg.compile(y) if call == "f" else getattr(rg.compile(y, wrt=weights), call)
    with pytest.raises(rg.FeedError, match=r"'wieghts' is no input of graph 'typos' \(did you mean 'weights'\?\)"):
        run(**feeds)
    with pytest.raises(rg.FeedError) as err:
        run(zzz=1.0, weights=np.ones(2), bias=1.0)
    assert "did you mean" not in str(err.value) and "its inputs are: 'bias', 'weights'" in str(err.value)
