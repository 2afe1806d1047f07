"""dy.record: the graph a Variable recorded, as an ordinary Graph with values and gradients by node id."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from optable import OP_CASES, sample


def test_record_rebuilds_ops_names_and_values():
    x = dy.Variable(np.array(2.0), name="x")
    h = rg.exp(x)
    y = h * x
    y.name = "y"
    rec = dy.record(y)
    G = rec.graph.nx
    assert [G.nodes[n]["op"] for n in sorted(G)] == ["input", "exp", "mul"]
    assert [G.nodes[n]["name"] for n in sorted(G)] == ["x", "exp_1", "y"]
    assert rec.outputs == [2] and rec.variables[1] is h and rec.node_of(h) == 1
    assert rec.values[2] == y.data
    assert rec.graph.operands(2) == [1, 0]
    rec.graph.check()
    assert rec.grads == {} and rec.edge_grads == {}


def test_record_holds_gradients_and_per_edge_gradients():
    x = dy.Variable(np.array(3.0), name="x")
    y = rg.add(x, x) * 2.0
    y.backward(retain_grad=True)
    rec = dy.record(y)
    add = rec.node_of(y.creator.inputs[0])
    assert rec.grads[0] == 4.0 and rec.grads[add] == 2.0
    assert rec.edge_grads[(0, add, 0)] == 2.0 and rec.edge_grads[(0, add, 1)] == 2.0
    const = rec.graph.operands(rec.outputs[0])[1]
    assert rec.graph.node(const)["op"] == "constant" and rec.values[const] == 2.0


def test_leaf_names_are_made_unique():
    a, b = dy.Variable(np.array(1.0), name="w"), dy.Variable(np.array(2.0), name="w")
    rec = dy.record(a * b)
    assert sorted(rec.graph.nx.nodes[n]["name"] for n in rec.graph.nx if rec.graph.node(n)["op"] == "input") == ["w", "w_1"]


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_recorded_graph_computes_what_the_dynamic_run_did(case):
    """Same ops as the static trace; compiling the recorded graph gives the dynamic values, and
    differentiating it statically gives the dynamic gradients."""
    name, fn, specs = case
    rng = np.random.default_rng(5)
    values = [sample(shape, dom, rng) for shape, dom in specs]
    xs = [dy.Variable(v, name=f"x{i}") for i, v in enumerate(values)]
    loss = rg.sum(fn(*xs))
    loss.backward(retain_grad=True)
    rec = dy.record(loss)
    rec.graph.check()
    ops = lambda g: sorted(d["op"] for _, d in g.nx.nodes(data=True) if d["op"] not in ("input", "constant"))
    static = rg.Graph("static")
    rg.sum(fn(*[static.input(f"x{i}", shape=v.shape) for i, v in enumerate(values)]))
    assert ops(rec.graph) == ops(static), name
    feeds = {x.name: v for x, v in zip(xs, values)}
    nodes = sorted(n for n in rec.graph.nx if rec.graph.node(n)["op"] != "input")
    computed = rg.compile([rec.graph.tensor(n) for n in nodes])(**feeds)
    for n, value in zip(nodes, computed):
        np.testing.assert_array_equal(value, rec.values[n], err_msg=f"{name}: node {rec.graph.node(n)['name']}")
    inputs = [rec.graph.tensor(x.name) for x in xs]
    static_grads = rg.compile(rg.grad(rec.graph.tensor(rec.outputs[0]), inputs))(**feeds)
    for x, node, g in zip(xs, inputs, static_grads):
        dynamic = rec.grads.get(node.id, np.zeros_like(g))  # none recorded where no gradient flows (floor)
        np.testing.assert_allclose(dynamic, g, rtol=1e-10, atol=1e-14, err_msg=f"{name}: d/d{x.name}")
