"""rg.gradcheck: passes on every op of the table, fails on a wrong VJP rule and names the op that has it."""

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import kernels
from revgraph.ir import OpDef, register, unregister
from revgraph.ir.ops import _rules
from optable import OP_CASES, ZERO_GRAD_CASES, sample


def feeds_for(xs, specs, rng, dtype=np.float64):
    return {x.name: sample(shape, dom, rng, dtype) for x, (shape, dom) in zip(xs, specs)}


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_gradcheck_passes_on_every_op(case):
    name, fn, specs = case
    rng = np.random.default_rng(0)
    g = rg.Graph(name)
    xs = [g.input(f"x{i}", shape=shape) for i, (shape, _) in enumerate(specs)]
    report = rg.gradcheck(fn(*xs), xs, feeds_for(xs, specs, rng))
    assert report.ok
    assert set(report.inputs) == {x.name for x in xs}
    for x in xs:
        assert report[x.name].max_abs_error <= 1e-6, str(report)


@pytest.mark.parametrize("case", ZERO_GRAD_CASES, ids=[c[0] for c in ZERO_GRAD_CASES])
def test_gradcheck_passes_on_ops_with_a_documented_zero_gradient(case):
    name, fn = case
    g = rg.Graph(name)
    x = g.input("x", shape=(4,))
    report = rg.gradcheck(fn(x), x, {"x": np.array([-1.5, -0.5, 0.5, 2.0])})   # away from the steps
    assert report.ok and report["x"].max_abs_error == 0.0


@pytest.fixture
def wrong_sin():
    """An op `badsin` computing sin(x) whose VJP rule says -sin(x) (it should be cos(x))."""
    register(OpDef("badsin", 1, _rules.to_float, vjp=(lambda g, out, x: -g * rg.sin(x),)))
    kernels.TEMPLATES["badsin"] = "xp.sin({0})"
    yield lambda x: rg.ir.apply("badsin", x)
    unregister("badsin")
    del kernels.TEMPLATES["badsin"]


def ten_op_graph(badsin=None, dtype="float64"):
    """x (4,) and W (4, 3) through ten ops; the sixth is `badsin` when given, else sin."""
    g = rg.Graph("ten_ops")
    x = g.input("x", shape=(4,), dtype=dtype)
    W = g.input("W", shape=(4, 3), dtype=dtype)
    h = rg.tanh(x @ W)                               # 1 matmul, 2 tanh
    h = h * 2.0 + x[:3]                              # 3 mul, 4 getitem, 5 add
    s = (badsin or rg.sin)(h).rename("suspect")      # 6
    e = rg.exp(s * 0.5)                              # 7 mul, 8 exp
    loss = rg.sum(rg.square(e))                      # 9 square, 10 sum
    return g, x, W, loss


TEN_FEEDS = {"x": np.array([0.3, -0.2, 0.5, 0.1]), "W": np.linspace(-1, 1, 12).reshape(4, 3)}


def test_ten_op_graph_passes_with_correct_rules():
    g, x, W, loss = ten_op_graph()
    ops = [n for n, op in g.nx.nodes(data="op") if op not in ("input", "constant")]
    assert len(ops) == 10
    assert rg.gradcheck(loss, [x, W], TEN_FEEDS).ok


def test_wrong_vjp_rule_is_caught_and_localised(wrong_sin):
    g, x, W, loss = ten_op_graph(wrong_sin)
    with pytest.raises(rg.GradcheckError) as info:
        rg.gradcheck(loss, [x, W], TEN_FEEDS)
    err = info.value
    assert isinstance(err, AssertionError)
    message = str(err)
    assert "input 'x'" in message and "'suspect' (badsin" in message
    assert isinstance(err.node, rg.Tensor) and err.node.graph is g
    assert err.node.op == "badsin" and err.node.name == "suspect"
    report = err.report
    assert not report.ok and not report["x"].ok and not report["W"].ok
    worst = report["x"].worst_index
    assert message.count(str(worst)) >= 1 and report["x"].max_abs_error > 1e-3
    # the picture points at it
    marked = [line for line in rg.to_dot(loss, highlight=err).source.splitlines() if "GradcheckError" in line]
    assert len(marked) == 1 and "suspect" in marked[0]


def test_wrong_rule_in_a_float32_graph_points_at_the_users_node(wrong_sin):
    g, x, W, loss = ten_op_graph(wrong_sin, dtype="float32")
    feeds = {k: v.astype(np.float32) for k, v in TEN_FEEDS.items()}
    with pytest.raises(rg.GradcheckError) as info:
        rg.gradcheck(loss, [x, W], feeds)
    assert info.value.node.graph is g and info.value.node.name == "suspect"


def test_float32_graph_is_checked_in_float64_and_left_unchanged():
    g, x, W, loss = ten_op_graph(dtype="float32")
    before = len(g)
    feeds = {k: v.astype(np.float32) for k, v in TEN_FEEDS.items()}
    report = rg.gradcheck(loss, [x, W], feeds)   # float32 differences with eps=1e-6 would be noise
    assert report.ok and report["W"].max_rel_error < 1e-6
    assert len(g) == before and loss.dtype == np.float32


def test_non_scalar_outputs_are_checked_through_a_projection():
    g = rg.Graph()
    x = g.input("x", shape=(None, 3))
    outs = {"a": rg.softmax(x), "b": rg.sum(x * x, axis=1)}
    report = rg.gradcheck(outs, "x", {"x": np.arange(6.0).reshape(2, 3) / 7})
    assert report.ok and report.projected and report["x"].shape == (2, 3)
    assert "x" in str(report) and "ok" in str(report)


def test_function_form_traces_and_checks_every_float_input():
    def model(x, W, t):
        return rg.softmax_cross_entropy(rg.relu(x @ W), t)

    rng = np.random.default_rng(3)
    feeds = {"x": rng.normal(size=(5, 4)), "W": rng.normal(size=(4, 3)), "t": np.array([0, 2, 1, 1, 0])}
    report = rg.gradcheck(model, None, feeds)
    assert list(report.inputs) == ["x", "W"] and not report.projected


def test_a_gradient_no_single_rule_explains_is_reported_without_blaming_an_op():
    # stop_gradient hides one factor of x * x from rg.grad (by design): revgraph gives x, the true
    # derivative is 2x. Every op's own rule is right, so gradcheck fails but names no op.
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    with pytest.raises(rg.GradcheckError, match="input 'x'") as info:
        rg.gradcheck(rg.sum(rg.stop_gradient(x) * x), x, {"x": np.array([1.0, 2.0, 3.0])})
    assert info.value.node is None and "No single op" in str(info.value)
    assert info.value.report["x"].analytic * 2 == pytest.approx(info.value.report["x"].numeric)


def test_gradcheck_errors_are_graph_errors():
    g = rg.Graph()
    x = g.input("x", shape=(2,))
    n = g.input("n", shape=(2,), dtype="int64")
    y = rg.sum(x * n)
    with pytest.raises(rg.GraphError, match="'n'.*only float"):
        rg.gradcheck(y, n, {"x": np.ones(2), "n": np.array([1, 2])})
    with pytest.raises(rg.GraphError, match="not an input"):
        rg.gradcheck(y, x * 2.0, {"x": np.ones(2), "n": np.array([1, 2])})
    with pytest.raises(rg.GraphError, match="no output is a float"):
        rg.gradcheck(rg.argmax(x), x, {"x": np.ones(2)})
    with pytest.raises(rg.FeedError, match="missing feed"):
        rg.gradcheck(y, x, {"x": np.ones(2)})


@pytest.fixture
def wrong_second_derivative():
    """`cube` (right first derivative 3x², through an op `sq3`) whose `sq3` rule says 3x instead of 6x."""
    register(OpDef("cube", 1, _rules.same, vjp=(lambda g, out, x: g * rg.ir.apply("sq3", x),)))
    register(OpDef("sq3", 1, _rules.same, vjp=(lambda g, out, x: g * x * 3.0,)))
    kernels.TEMPLATES.update(cube="{0} ** 3", sq3="3 * {0} ** 2")
    yield lambda x: rg.ir.apply("cube", x)
    for name in ("cube", "sq3"):
        unregister(name)
        del kernels.TEMPLATES[name]


def test_a_wrong_rule_met_only_by_second_derivatives_is_localised_in_the_adjoint_graph(wrong_second_derivative):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    y = rg.sum(rg.sin(wrong_second_derivative(x * 0.5)))
    feeds = {"x": np.array([0.3, 0.5, 0.7])}
    assert rg.gradcheck(y, x, feeds).ok                     # first derivatives are right
    dx = rg.grad(y, x)
    with pytest.raises(rg.GradcheckError, match="input 'x'") as info:
        rg.gradcheck(dx, x, feeds)                          # second derivatives are not
    assert info.value.node.op == "sq3" and info.value.node.graph is g
    assert g.nx.nodes[info.value.node.id]["adjoint"] == 1   # a node the first rg.grad emitted
