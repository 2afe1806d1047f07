"""rg.compare: both engines on one function -- agreement node by node, timings, memory, the report."""

import json

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import kernels
from revgraph.ir.ops import _rules as R


def mlp(x, W1, b1, W2, b2, t):
    h = rg.relu(x @ W1 + b1)
    return rg.softmax_cross_entropy(h @ W2 + b2, t)


def mlp_feeds():
    rng = np.random.default_rng(0)
    return dict(x=rng.normal(size=(8, 5)), W1=rng.normal(size=(5, 7)), b1=np.zeros(7),
                W2=rng.normal(size=(7, 3)), b2=np.zeros(3), t=rng.integers(0, 3, 8))


def test_mlp_engines_agree_and_the_report_is_complete():
    report = rg.compare(mlp, wrt=["W1", "b1", "W2", "b2"], repeat=3, **mlp_feeds())
    assert report.agree and report.divergence is None and report.rtol == 1e-10
    assert report.max_value_diff <= 1e-12 and report.max_grad_diff <= 1e-12
    assert report.static.samples == report.dynamic.samples == 3
    for t in (report.static, report.dynamic):
        assert 0 < t.min <= t.q1 <= t.median <= t.q3 <= t.max
    assert report.speedup == report.dynamic.median / report.static.median
    assert report.static_peak_bytes > 0 and report.dynamic_peak_bytes > 0
    fwd, back = report.step.plan.programs["forward"], report.step.plan.programs["backward"]
    assert (report.forward_ops, report.adjoint_ops) == (len(fwd.body), len(back.body)) == (6, len(back.body))
    assert report.dynamic_ops == 6  # matmul, add, relu, matmul, add, softmax_cross_entropy
    data = report.to_dict()
    assert json.loads(json.dumps(data))["wrt"] == ["W1", "b1", "W2", "b2"] and data["speedup"] == report.speedup
    text = str(report)
    assert "static" in text and "dynamic" in text and "agree" in text and "speedup" in text
    md = report.to_markdown()
    assert "| | static | dynamic |" in md and "| peak memory of a step |" in md


def test_wrt_defaults_to_every_float_input():
    report = rg.compare(mlp, repeat=1, **mlp_feeds())
    assert report.wrt == ["x", "W1", "b1", "W2", "b2"] and report.agree


def test_a_forward_divergence_names_the_first_node_that_differs():
    def scaled(x):
        k = 2.0 if isinstance(x, rg.Tensor) else 2.5   # the engines compute different things
        return rg.sum(rg.exp(x) * k)

    report = rg.compare(scaled, repeat=1, x=np.array([0.1, 0.2]))
    assert not report.agree
    assert report.divergence.startswith("forward: the value of node 'mul_1' (mul")


@pytest.fixture
def op_with_a_wrong_dynamic_rule():
    """An op whose VJP rule is right on Tensors and wrong on dynamic Variables."""
    def rule(g, out, x):
        return g * (2.0 if isinstance(g, rg.Tensor) else 3.0)

    rg.ir.register(rg.ir.OpDef("twice_test", 1, R.same, vjp=(rule,)))
    kernels.TEMPLATES["twice_test"] = "{0} * 2"
    yield lambda x: rg.ir.apply("twice_test", x)
    rg.ir.unregister("twice_test")
    del kernels.TEMPLATES["twice_test"]


def test_a_gradient_divergence_names_the_node_and_the_rule(op_with_a_wrong_dynamic_rule):
    twice = op_with_a_wrong_dynamic_rule

    def f(x):
        return rg.sum(rg.sin(twice(x)))

    report = rg.compare(f, repeat=1, x=np.array([0.3, 0.4]))
    assert not report.agree and report.max_value_diff == 0 and report.max_grad_diff > 0.1
    assert report.divergence.startswith("backward: the gradient of node 'x' (input")
    assert "'twice_test_1' (twice_test" in report.divergence.split("VJP rule(s) of")[1]


def test_different_structures_are_reported():
    def branchy(x):
        return rg.sum(x * 2.0) if isinstance(x, rg.Tensor) else rg.sum(x + 2.0)

    report = rg.compare(branchy, repeat=1, x=np.ones(3))
    assert not report.agree and "different things at node 'mul_1'" in report.divergence


def test_user_mistakes():
    with pytest.raises(rg.GraphError, match="one scalar float loss"):
        rg.compare(lambda x: x * 2.0, x=np.ones(3))
    with pytest.raises(rg.GraphError, match="not a parameter"):
        rg.compare(mlp, wrt=["W3"], **mlp_feeds())
    with pytest.raises(rg.GraphError, match="dtype int64"):
        rg.compare(mlp, wrt="t", **mlp_feeds())
    with pytest.raises(rg.GraphError, match="repeat"):
        rg.compare(mlp, repeat=0, **mlp_feeds())


def test_float32_models_compare_with_a_float32_tolerance():
    feeds = {k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in mlp_feeds().items()}
    report = rg.compare(mlp, wrt=["W1", "W2"], repeat=1, **feeds)
    assert report.agree and report.rtol == 1e-4


# -- inputs named like compare's own options (issue 11, item 12's leftover) --------------------------------
def test_inputs_named_like_the_options_are_fed_through_the_feeds_mapping():
    def model(wrt, repeat, feeds, fn, more_feeds):
        return rg.sum(rg.tanh(wrt * repeat) + feeds * fn * more_feeds)

    feeds = {"wrt": np.array([0.1, 0.2]), "repeat": np.array([0.5, 2.0]), "feeds": np.ones(2), "fn": np.full(2, 3.0),
             "more_feeds": np.full(2, 0.5)}
    report = rg.compare(model, feeds, wrt=["wrt", "repeat"], repeat=2)
    assert report.agree and report.wrt == ["wrt", "repeat"] and report.static.samples == 2
    _, (dwrt, drepeat) = report.step.value_and_grad(**feeds)
    np.testing.assert_allclose(dwrt, feeds["repeat"] * (1 - np.tanh(feeds["wrt"] * feeds["repeat"]) ** 2))
    # the mapping and keywords together; options stay keywords
    split = {k: v for k, v in feeds.items() if k in ("wrt", "repeat")}
    report = rg.compare(model, split, wrt="fn", repeat=1, feeds=feeds["feeds"], fn=feeds["fn"],
                        more_feeds=feeds["more_feeds"])
    assert report.agree and report.wrt == ["fn"]


def test_the_feeds_mapping_mistakes_are_graph_errors():
    with pytest.raises(rg.GraphError, match=r"\['x'\] fed twice"):
        rg.compare(lambda x: rg.sum(x), {"x": np.ones(2)}, x=np.ones(2))
    with pytest.raises(rg.GraphError, match="mapping of feeds"):
        rg.compare(lambda x: rg.sum(x), [np.ones(2)])
    with pytest.raises(rg.GraphError, match="an input named 'repeat' is fed through the feeds mapping"):
        rg.compare(lambda x, repeat: rg.sum(x * repeat), x=np.ones(2), repeat=np.ones(2))
