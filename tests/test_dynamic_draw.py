"""rg.to_dot / rg.render on a dynamic Variable: the recorded graph, drawn like the static one."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.cli import main


def f(x, w):
    return rg.sum(rg.exp(x * w) + x)


X, W = np.array([1.0, 2.0]), np.array(0.5)


def _body(source):
    return [line for line in source.splitlines() if not line.strip().startswith("label=")]


def test_the_recorded_graph_draws_like_the_traced_one():
    static = rg.to_dot(rg.trace(f, x=X, w=W)).source
    dynamic = rg.to_dot(f(dy.Variable(X, name="x"), dy.Variable(W, name="w"))).source
    assert _body(static) == _body(dynamic)
    assert 'label="dynamic: forward graph"' in dynamic


def test_values_and_gradients_on_every_edge_after_retain_grad():
    x, w = dy.Variable(X, name="x"), dy.Variable(W, name="w")
    y = f(x, w)
    y.name = "loss"
    y.backward(retain_grad=True)
    source = rg.to_dot(y, values=True).source
    assert 'label="loss (dynamic): forward values and gradients"' in source
    gradient_edges = [line for line in source.splitlines() if "dir=back" in line]
    assert len(gradient_edges) == 7  # six forward edges and the output's seed
    assert "label=7.08528" in source  # dloss/dw = sum(x * exp(x w)) = e^0.5 + 2e
    np.testing.assert_allclose(w.grad.data, np.sum(X * np.exp(X * W)))


def test_render_writes_an_svg(tmp_path):
    y = f(dy.Variable(X, name="x"), dy.Variable(W, name="w"))
    out = rg.render(y, tmp_path / "dynamic.svg")
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()


def test_compare_cli_draws_both_engines(tmp_path, capsys):
    src = tmp_path / "m.py"
    src.write_text("import numpy as np\nimport revgraph as rg\n"
                   "def model(x, w):\n    return rg.sum(rg.exp(x * w) + x)\n"
                   "def feeds():\n    return {'x': np.array([1.0, 2.0]), 'w': np.array(0.5)}\n")
    assert main(["compare", str(src), "--repeat", "1", "--svg", str(tmp_path / "pics")]) == 0
    for name in ("static-forward.svg", "static-adjoint.svg", "dynamic.svg"):
        assert "<svg" in (tmp_path / "pics" / name).read_text(), name


def _adjoint_ops(graph):
    return sorted(d["op"] for _, d in graph.nx.nodes(data=True) if d["adjoint"] and d["op"] not in ("input", "constant"))


def test_a_create_graph_backward_is_recorded_as_the_adjoint_graph():
    """The dynamic backward pass, recorded, is the static adjoint graph: the same rules make the same nodes
    (the static pass sums a fan-out's contributions in one `accumulate` node, the dynamic one with `add`)."""
    x, w = dy.Variable(X, name="x"), dy.Variable(W, name="w")
    y = f(x, w)
    y.backward(create_graph=True)
    rec = dy.record(y)
    G = rec.graph.nx
    seed = [n for n, d in G.nodes(data=True) if d.get("role") == "seed"]
    assert len(seed) == 1 and G.nodes[seed[0]]["adjoint"] == 1 and G.nodes[seed[0]]["name"] == "dout"
    grads = {G.nodes[n]["name"]: d["grad_of"] for n, d in G.nodes(data=True) if d.get("grad_of")}
    assert sorted(grads.values()) == [[rec.node_of(x)], [rec.node_of(w)]]
    g = rg.trace(f, x=X, w=W)
    step = rg.compile(g.outputs, wrt=[g.tensor("x"), g.tensor("w")])
    static = ["add" if op == "accumulate" else op for op in _adjoint_ops(step.graph)]
    assert _adjoint_ops(rec.graph) == sorted(static)
    adjoint = rg.to_dot(y, which="adjoint").source
    assert "seed" in adjoint and "∂sum_1/∂w" in adjoint
    assert _body(rg.to_dot(y).source) == _body(rg.to_dot(g).source)  # the forward view is unchanged


def test_without_create_graph_there_is_no_adjoint_to_draw():
    y = f(dy.Variable(X, name="x"), dy.Variable(W, name="w"))
    y.backward()
    with pytest.raises(rg.GraphError, match="no adjoint nodes"):
        rg.to_dot(y, which="adjoint")
