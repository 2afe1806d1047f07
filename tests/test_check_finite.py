"""rg.compile(..., check_finite=True): the first NaN/Inf names its op, node and operands."""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg
from revgraph import demos

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on log(0) and 1/0


def test_log_of_x_minus_x_names_log_as_the_first_op_producing_minus_inf():
    g = rg.Graph("t")
    x = g.input("x")
    d = (x - x).rename("diff")
    y = (rg.log(d) * 2.0).rename("y")  # mul of -inf is -inf too: only the first one is named
    for compiled, run in [(f := rg.compile(y, check_finite=True), lambda: f(x=1.0)),
                          (s := rg.compile(y, wrt=x, check_finite=True), lambda: s.forward(x=1.0))]:
        with pytest.raises(FloatingPointError) as info:
            run()
        err = info.value
        assert "op 'log'" in str(err) and "-inf" in str(err) and "'diff' (finite)" in str(err)
        assert err.node.op == "log" and err.node.graph is compiled.graph
        assert g.tensor(err.node.name).id == err.node.id, "node ids match the user's graph"


def test_backward_pass_is_checked_and_err_node_is_an_adjoint_node():
    g = rg.Graph("t")
    x = g.input("x")
    step = rg.compile(rg.sqrt(x), wrt=x, check_finite=True)
    assert step.forward(x=0.0) == 0.0  # sqrt(0) is finite; its gradient 1/(2 sqrt 0) is not
    with pytest.raises(FloatingPointError, match=r"backward.*produced inf") as info:
        step.backward()
    node = info.value.node
    assert node.graph is step.graph and step.graph.nx.nodes[node.id]["adjoint"] >= 1


def test_non_finite_feeds_are_named():
    g = rg.Graph("t")
    x = g.input("x", shape=(3,))
    f = rg.compile(rg.sum(x), check_finite=True)
    with pytest.raises(FloatingPointError, match=r"input 'x'.*nan \(1 of 3"):
        f(x=[1.0, np.nan, 2.0])


def test_finite_runs_give_the_same_numbers():
    g, y, wrt, feeds = demos.mlp()
    plain, checked = rg.compile(y, wrt=wrt), rg.compile(y, wrt=wrt, check_finite=True)
    assert checked.forward(**feeds) == plain.forward(**feeds)
    for a, b in zip(checked.backward(), plain.backward()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("with_wrt", [False, True])
def test_off_by_default_and_free_when_off(with_wrt):
    g, y, wrt, _ = demos.mlp()
    kw = {"wrt": wrt} if with_wrt else {}
    off, on = rg.compile(y, **kw).source, rg.compile(y, check_finite=True, **kw).source
    assert "_finite" not in off and "isfinite" not in off, "no checks in the default program"
    checks = [line for line in on.splitlines() if "_finite(" in line]
    assert len(checks) > 5
    assert "\n".join(line for line in on.splitlines() if "_finite(" not in line) == "\n".join(off.splitlines()), \
        "the checked program is the default one plus check lines"
