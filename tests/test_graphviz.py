"""Drawing through the real Graphviz `dot`: forward, adjoint and joint views, the
textbook figure, highlighting, notebooks and rendering to files."""

from pathlib import Path

import numpy as np
import pytest

import revgraph as rg
from revgraph import demos
from graphviz_svg import RED, edge_labels, edges, nodes, svg

BLACK = "#222222"


@pytest.fixture
def apple_orange():
    step, _, _ = demos.run("apple_orange")
    return step


@pytest.fixture
def mlp():
    step, _, _ = demos.run("mlp")
    return step


def test_forward_view_has_inputs_ops_and_typed_black_edges(apple_orange):
    out = svg(apple_orange, "forward")
    ns, es = nodes(out), edges(out)
    assert len(ns) == 9  # 5 inputs, 4 ops; no legend
    assert len(es) == 8 and all(e.stroke == BLACK for e in es)
    assert all(e.texts == ["scalar"] for e in es)  # learners read "scalar", not "() float64"
    assert ns["n0"].texts == ["apple"] and ns["n5"].texts == ["×", "mul_1"]
    assert ns["n8"].texts == ["×", "price"]


def test_adjoint_view_shows_seed_residuals_and_gradient_outputs(apple_orange):
    out = svg(apple_orange, "adjoint")
    ns, es = nodes(out), edges(out)
    assert len(ns) == 7 + 6 + 1  # adjoint nodes (seed + 6 muls), 6 residuals, the legend
    red = [e for e in es if e.stroke == RED]
    dashed = [e for e in es if e.dashed]
    assert len(red) == 6 and not any(e.dashed for e in red)
    assert len(es) == 12  # residuals are values read: no forward edges among them
    assert sorted(e.title for e in dashed) == sorted(["n4->n10", "n7->n11", "n3->n12", "n2->n13", "n1->n14", "n0->n15"])
    assert ns["n9"].texts == ["dout_1", "seed ∂price/∂price"]
    assert ns["n14"].texts[-1] == "= ∂price/∂apple" and ns["n11"].texts[-1] == "= ∂price/∂tax"
    assert ns["n7"].texts == ["add_1", "(forward value)"]


def test_joint_view_clusters_black_forward_red_adjoint_dashed_residuals(apple_orange):
    dot = rg.to_dot(apple_orange, "joint")
    assert "subgraph cluster_order0" in dot.source and "subgraph cluster_order1" in dot.source
    out = dot.pipe(format="svg").decode()
    ns, es = nodes(out), edges(out)
    assert len(ns) == 16 + 1
    assert len([e for e in es if e.stroke == BLACK]) == 8
    assert len([e for e in es if e.stroke == RED]) == 6
    assert len([e for e in es if e.dashed]) == 6
    assert out.count('class="cluster"') == 2


def test_textbook_figure_puts_values_and_gradients_on_the_right_edges(apple_orange):
    out = svg(apple_orange, "forward", values=True)
    value = lambda u, v: edge_labels(out, u, v, BLACK)  # noqa: E731
    grad = lambda u, v: edge_labels(out, u, v, RED)  # noqa: E731
    assert value(8, "out8") == ["715"] and grad(8, "out8") == ["1"]
    assert value(0, 5) == ["100"] and grad(0, 5) == ["2.2"]  # apple
    assert value(1, 5) == ["2"] and grad(1, 5) == ["110"]  # apple_num
    assert value(2, 6) == ["150"] and grad(2, 6) == ["3.3"]  # orange
    assert value(3, 6) == ["3"] and grad(3, 6) == ["165"]  # orange_num
    assert value(4, 8) == ["1.1"] and grad(4, 8) == ["650"]  # tax
    assert value(7, 8) == ["650"] and grad(7, 8) == ["1.1"]  # add_1
    assert value(5, 7) == ["200"] and value(6, 7) == ["450"]
    # each gradient edge points back: its arrowhead sits at the operand (tail end)
    assert "dir=back" in rg.to_dot(apple_orange, "forward", values=True).source


def test_values_on_adjoint_and_joint_views(apple_orange):
    out = svg(apple_orange, "adjoint", values=True)
    assert edge_labels(out, 9, 10, RED) == ["1"]  # the seed
    assert edge_labels(out, 10, 14, RED) == ["1.1"]  # mul_4 = dout * tax
    assert nodes(out)["n14"].texts[-1] == "= 2.2"
    joint = svg(apple_orange, "joint", values=True)
    assert edge_labels(joint, 0, 5, BLACK) == ["100"]
    assert edge_labels(joint, 14, 10, RED) == ["1.1"]  # drawn consumer -> operand, arrow reversed


def test_values_after_forward_only_label_values_without_gradients():
    graph, out, wrt, feeds = demos.apple()
    step = rg.compile(out, wrt=wrt)
    step.forward(**feeds)
    text = svg(step, "forward", values=True)
    assert not [e for e in edges(text) if e.stroke == RED]
    assert edge_labels(text, out.id, f"out{out.id}", BLACK) == ["220"]


def test_tensor_used_twice_shows_each_edges_own_contribution():
    g = rg.Graph("reuse")
    a, b = g.input("a"), g.input("b")
    m = a * b
    y = (m + a).rename("y")
    step = rg.compile(y, wrt=[a, b])
    step.forward(a=2.0, b=5.0)
    step.backward()
    out = svg(step, "forward", values=True)
    assert edge_labels(out, a.id, m.id, RED) == ["5"]  # d(a*b)/da = b
    assert edge_labels(out, a.id, y.id, RED) == ["1"]  # d(... + a)/da = 1
    assert "Σ∂ = 6" in nodes(out)[f"n{a.id}"].texts
    adj = svg(step, "adjoint")
    assert any(n.texts[:1] == ["Σ"] and "sum of 2 gradients" in n.texts for n in nodes(adj).values())


def test_same_operand_twice_gets_two_gradient_edges():
    g = rg.Graph("square")
    x = g.input("x")
    step = rg.compile(x * x, wrt=[x])
    step.forward(x=3.0)
    step.backward()
    out = svg(step, "forward", values=True)
    assert edge_labels(out, x.id, 1, RED) == ["3", "3"]  # one contribution per operand slot
    assert edge_labels(out, x.id, 1, BLACK) == ["3", "3"]


@pytest.mark.parametrize("which", ["forward", "adjoint", "joint"])
@pytest.mark.parametrize("values", [False, True])
def test_mlp_renders_every_view(mlp, which, values):
    out = svg(mlp, which, values=values)
    G = mlp.graph.nx
    ns, es = nodes(out), edges(out)
    if which == "forward":
        assert len([n for n in ns if n.startswith("n")]) == 12  # x, t, W1, b1, W2, b2 and six ops
        assert len([e for e in es if e.stroke == BLACK]) == 11 + (1 if values else 0)
        # gradients flow back along the 9 edges on paths from W1, b1, W2, b2 (not x, t), and out of the loss
        assert len([e for e in es if e.stroke == RED]) == (10 if values else 0)
    else:
        adjoint = {n for n in G if G.nodes[n]["adjoint"] == 1}
        small = {n for n in G if G.nodes[n]["op"] == "constant" and np.prod(G.nodes[n]["shape"]) <= 6}
        adj_edges = [(u, v) for u, v in G.edges() if u in adjoint and v in adjoint and u not in small]  # small
        # constants are written inside the node reading them, not drawn
        reads = [(u, v) for u, v in G.edges()
                 if v in adjoint and G.nodes[u]["adjoint"] == 0 and G.nodes[u]["op"] != "constant"]
        # > 15: the MLP's adjoint graph is not trivial (18 edges since the integer-label gradient became one
        # softmax_cross_entropy_grad node)
        assert len([e for e in es if e.stroke == RED]) == len(adj_edges) > 15
        assert len([e for e in es if e.dashed]) == len(reads) > 5
        assert len([e for e in es if e.stroke == BLACK]) == (11 if which == "joint" else 0)
        grads = [n for n in ns.values() if any(t.startswith("= ∂loss/∂") for t in n.texts)]
        assert sorted(t for n in grads for t in n.texts if t.startswith("= ∂")) == \
            ["= ∂loss/∂W1", "= ∂loss/∂W2", "= ∂loss/∂b1", "= ∂loss/∂b2"]
    if values:
        assert any("mean" in t for e in es for t in e.texts)  # arrays of more than 6 elements: a summary


def test_second_derivative_nodes_are_coloured_by_order_with_a_legend():
    g = rg.Graph("cube")
    x = g.input("x")
    y = (x * x * x).rename("y")
    dx = rg.grad(y, x).rename("dy_dx")
    d2x = rg.grad(dx, x)
    out = svg(g, "joint")  # the whole graph (d2x's ancestry lacks dy_dx: accumulate passes its seed on)
    labels = {t for item in nodes(out).values() for t in item.texts}
    assert {"= ∂y/∂x", "= ∂dy_dx/∂x", "seed ∂y/∂y", "seed ∂dy_dx/∂dy_dx"} <= labels  # each order names its y
    orders = {G_order for G_order in (g.nx.nodes[n]["adjoint"] for n in g.nx)}
    assert orders == {0, 1, 2}
    ns = nodes(out)
    purple = [n for n, item in ns.items() if n.startswith("n") and g.nx.nodes[int(n[1:])]["adjoint"] == 2]
    assert purple and all(ns[n].stroke == "#8e44ad" for n in purple)
    assert "2nd derivative (adjoint order 2)" in ns["legend"].texts
    assert "1st derivative (adjoint order 1)" in ns["legend"].texts
    assert out.count('class="cluster"') == 3


def test_graph_and_compiled_function_draw():
    g = rg.Graph("g")
    x = g.input("x", shape=(None, 3), dtype="float32")
    y = rg.sum(rg.exp(x), axis=1)
    assert nodes(svg(g))["n2"].texts == ["sum", "sum_1", "axis=(1,)"]
    assert edges(svg(g))[0].texts == ["?×3 float32"]
    dx = rg.grad(rg.sum(y), x)
    f = rg.compile(dx)
    assert nodes(svg(f, "adjoint"))
    with pytest.raises(rg.GraphError, match="no adjoint nodes"):
        rg.to_dot(rg.compile(y), "adjoint")
    with pytest.raises(rg.GraphError, match="not a view"):
        rg.to_dot(g, "backward")
    with pytest.raises(rg.GraphError, match="not a view"):  # before anything is computed
        rg.to_dot(rg.compile(rg.sum(y), wrt=[x]), "backward", values=True)


def test_values_need_a_run():
    graph, out, wrt, feeds = demos.apple()
    with pytest.raises(rg.GraphError, match="has not run"):
        rg.to_dot(rg.compile(out, wrt=wrt), values=True)
    with pytest.raises(rg.GraphError, match="has not run"):
        rg.to_dot(graph, values=True)


def test_highlight_by_tensor_name_id_list_and_error(apple_orange):
    graph, price, wrt, _ = demos.apple_orange()
    cases = [wrt[0], "apple", 0, [wrt[0]], rg.GraphError("boom", node=0), rg.GraphError("boom", node=wrt[0])]
    for item in cases:  # a tensor of the user's graph finds its node in the step's copy (same id)
        ns = nodes(svg(apple_orange, "forward", highlight=item))
        assert ns["n0"].stroke == "#e6a100" and ns["n0"].stroke_width == "3"
        assert ns["n0"].texts[-1].startswith("⚠")
        assert ns["n1"].stroke_width == "1"
    ns = nodes(svg(apple_orange, "joint", highlight=["tax", 14]))
    assert ns["n4"].stroke_width == ns["n14"].stroke_width == "3"
    with pytest.raises(rg.GraphError, match="no node named"):
        rg.to_dot(apple_orange, highlight="pear")
    with pytest.raises(rg.GraphError, match="adjoint or joint view"):
        rg.to_dot(apple_orange, "forward", highlight=14)
    with pytest.raises(rg.GraphError, match="not in graph"):
        rg.to_dot(apple_orange, highlight=rg.Graph("other").input("zz"))


def test_the_same_build_gives_the_same_dot():
    first = rg.to_dot(demos.run("mlp")[0], "joint", values=True).source
    second = rg.to_dot(demos.run("mlp")[0], "joint", values=True).source
    assert first == second


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".dot", b"digraph")])
def test_render_picks_the_format_from_the_suffix(apple_orange, tmp_path, suffix, magic):
    path = rg.render(apple_orange, tmp_path / "new dir" / f"joint{suffix}", which="joint")
    assert path.read_bytes().startswith(magic)


def test_render_refuses_an_unknown_suffix(apple_orange, tmp_path):
    with pytest.raises(rg.GraphError, match=r"\.svg"):
        rg.render(apple_orange, tmp_path / "picture.jpeg")


def test_render_without_dot_writes_the_dot_file_and_says_how_to_install(apple_orange, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as info:
        rg.render(apple_orange, tmp_path / "joint.svg", which="joint")
    assert "`dot` program was not found" in str(info.value)
    assert (tmp_path / "joint.dot").read_text().startswith("digraph")
    assert not (tmp_path / "joint.svg").exists()
    bundle = apple_orange._repr_mimebundle_()  # notebooks fall back to the text repr
    assert list(bundle) == ["text/plain"]


def test_notebooks_display_graphs_and_programs_as_svg(apple_orange):
    graph, price, wrt, feeds = demos.apple_orange()
    assert "<svg" in graph._repr_mimebundle_()["image/svg+xml"]
    assert "<svg" in graph._repr_svg_()
    assert "cluster" in apple_orange._repr_svg_()  # a step shows its joint view
    assert "<svg" in rg.compile(price)._repr_svg_()


def test_docs_hold_the_apple_orange_figures_the_readme_embeds():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "(docs/textbook.svg)" in readme and "(docs/joint.svg)" in readme
    textbook = (root / "docs" / "textbook.svg").read_text(encoding="utf-8")
    for u, v, value, grad in [(0, 5, "100", "2.2"), (1, 5, "2", "110"), (2, 6, "150", "3.3"), (3, 6, "3", "165"),
                              (4, 8, "1.1", "650"), (8, "out8", "715", "1")]:
        assert edge_labels(textbook, u, v, BLACK) == [value] and edge_labels(textbook, u, v, RED) == [grad]
    joint = (root / "docs" / "joint.svg").read_text(encoding="utf-8")
    assert len([e for e in edges(joint) if e.stroke == RED]) == 6 and joint.count('class="cluster"') == 2


def test_a_tensor_draws_its_ancestry_and_step_views_draw(apple_orange):
    g = rg.Graph("two heads")
    x = g.input("x")
    y, z = rg.exp(x).rename("y"), rg.sin(x).rename("z")
    assert set(nodes(svg(y))) == {f"n{x.id}", f"n{y.id}"}  # z is not y's ancestor
    assert nodes(svg(y))[f"n{y.id}"].texts == ["exp", "y"]
    assert len(nodes(svg(apple_orange.forward_graph))) == 9
    assert len([n for n in nodes(svg(apple_orange.adjoint_graph, "adjoint")) if n.startswith("n")]) == 13
    assert "<svg" in apple_orange.adjoint_graph._repr_svg_()


def test_joint_view_puts_each_gradient_under_its_forward_node(apple_orange):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg(apple_orange, "joint"))
    x, y = {}, {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "node":
            text = next(g.iter("{http://www.w3.org/2000/svg}text"))  # centred: its x is the node's centre
            title = g.find("{http://www.w3.org/2000/svg}title").text
            x[title], y[title] = float(text.get("x")), float(text.get("y"))
    assert x["n9"] == pytest.approx(x["n8"])  # the seed under price
    assert x["n10"] == pytest.approx(x["n7"])  # dprice/dadd_1 under add_1
    assert x["n14"] == pytest.approx(x["n0"])  # dprice/dapple under apple
    assert min(y[f"n{n}"] for n in range(9, 16)) > max(y[f"n{n}"] for n in range(9))  # adjoint below


def test_other_engines_draw_through_the_scene_protocol():
    class Recorded:  # what a define-by-run engine hands the drawing core: a Graph and its run
        def _rg_scene(self, values=False):
            g = rg.Graph("taped")
            x = g.input("x")
            y = (x * x).rename("y")
            run = {"values": {x.id: 3.0, y.id: 9.0}, "edge_grads": {(x.id, y.id, 0): 3.0, (x.id, y.id, 1): 3.0},
                   "output_grads": {y.id: 1.0}} if values else {}
            return {"graph": g, "outputs": [y.id], **run}

    out = svg(Recorded(), "forward", values=True)
    assert edge_labels(out, 0, 1, RED) == ["3", "3"] and edge_labels(out, 1, "out1", BLACK) == ["9"]
    assert "Σ∂ = 6" in nodes(out)["n0"].texts
    assert edge_labels(svg(Recorded()), 0, 1, BLACK) == ["scalar", "scalar"]


def test_a_compiled_function_of_rg_grad_tensors_draws_the_textbook_figure():
    graph, price, wrt, feeds = demos.apple_orange()
    f = rg.compile([price, *rg.grad(price, wrt)])
    with pytest.raises(rg.GraphError, match="not been called"):
        rg.to_dot(f, values=True)
    f(**feeds)
    out = svg(f, "forward", values=True)
    for u, v, value, grad in [(0, 5, "100", "2.2"), (1, 5, "2", "110"), (2, 6, "150", "3.3"), (3, 6, "3", "165"),
                              (4, 8, "1.1", "650"), (8, "out8", "715", "1")]:
        assert edge_labels(out, u, v, BLACK) == [value] and edge_labels(out, u, v, RED) == [grad]
    plain = rg.compile(price)
    plain(**feeds)
    out = svg(plain, "forward", values=True)
    assert edge_labels(out, 8, "out8", BLACK) == ["715"] and not [e for e in edges(out) if e.stroke == RED]
