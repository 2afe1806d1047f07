"""Adjoint pictures as the textbook draws them (issue 15 item 5) and dynamic pictures after a plain backward()
(item 6)."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from graphviz_svg import RED, edges, nodes, svg


def identity_step():
    g = rg.Graph("ids")
    x = g.input("x", shape=(3,))
    y = rg.sum(rg.tanh(x * 1.0 + 0.0) * 2.0)
    return rg.compile(y, wrt=[x])


def apple():
    g = rg.Graph("apple")
    a, n, t = g.input("apple"), g.input("num"), g.input("tax")
    o, m = g.input("orange"), g.input("onum")
    price = ((rg.mul(a, n, name="apple_price") + rg.mul(o, m, name="orange_price")) * t).rename("price")
    step = rg.compile(price, wrt=[a, n, o, m, t])
    step.forward(apple=100, num=2, orange=150, onum=3, tax=1.1)
    step.backward()
    return step


def title(dot):
    return next(line for line in dot.body if line.lstrip().startswith("label="))


# -- item 5 ---------------------------------------------------------------------------------------------
def test_a_simplified_adjoint_picture_says_what_was_simplified():
    step = identity_step()
    assert "3 identity nodes removed (x*1 ×2, x+0 ×1)" in title(rg.to_dot(step, "adjoint"))
    assert "identity" in title(rg.to_dot(step, "joint"))
    assert "identity" not in title(rg.to_dot(step, "forward"))


def test_simplified_false_draws_the_adjoint_graph_before_simplification():
    step = identity_step()
    raw = rg.to_dot(step, "adjoint", simplified=False)
    assert "before simplification" in title(raw)
    assert any('label="× 1' in line for line in raw.body)  # the multiplication by 1 the simplifier removes
    assert not any('label="× 1' in line for line in rg.to_dot(step, "adjoint").body)
    assert step.unoptimized().unoptimized() is step.unoptimized()
    assert step.unoptimized().stats["optimize"] is False


def test_add_passing_the_gradient_through_is_said_on_the_gradient_node():
    step = apple()
    text = svg(step, "adjoint", simplified=False, values=True)
    lines = [t for n in nodes(text).values() for t in n.texts]
    assert "+ (add_1) passes it on to apple_price, orange_price" in lines


def test_simplified_both_draws_the_two_side_by_side():
    step = identity_step()
    dot = rg.to_dot(step, "adjoint", simplified="both")
    src = dot.source
    assert "subgraph cluster_part0" in src and "subgraph cluster_part1" in src
    assert "before simplification" in src and "identity nodes removed" in src
    assert "\ttn" in src  # the unsimplified picture's ids are prefixed: no clash with the other's
    nodes(dot.pipe(format="svg").decode())
    with pytest.raises(rg.GraphError, match="simplified="):
        rg.to_dot(step, "adjoint", simplified="yes")


# -- item 6 ---------------------------------------------------------------------------------------------
def test_dynamic_textbook_figure_shows_gradients_after_a_plain_backward():
    a, n, t = (dy.Variable(np.array(v), name=k) for k, v in [("apple", 100.0), ("num", 2.0), ("tax", 1.1)])
    y = rg.mul(a * n, t, name="price")
    y.backward()  # no retain_grad, no create_graph
    text = svg(y, "forward", values=True)
    red = sorted(t for e in edges(text) if e.stroke == RED for t in e.texts)
    assert red == sorted(["2.2", "110", "1.1", "200", "1"])


def test_big_gradients_are_not_kept_and_the_picture_says_which_call_keeps_them():
    x = dy.Variable(np.ones(10), name="x")
    z = rg.sum(rg.tanh(x * 2.0))
    z.backward()
    h = z.creator.inputs[0]
    assert getattr(h.creator, "kept_grad", None) is None  # a 10-element gradient is not kept
    assert getattr(z.creator, "kept_grad", None) is not None  # the scalar seed is
    dot = rg.to_dot(z, "forward", values=True)
    assert "y.backward(retain_grad=True) keeps them" in title(dot)
    x.cleargrad()
    z2 = rg.sum(rg.tanh(x * 2.0))
    z2.backward(retain_grad=True)
    assert "not kept" not in title(rg.to_dot(z2, "forward", values=True))


def test_the_adjoint_view_of_a_dynamic_graph_gives_dynamic_advice():
    x = dy.Variable(np.array(3.0), name="x")
    y = x * x
    y.backward()
    with pytest.raises(rg.GraphError, match=r"backward\(create_graph=True\)") as err:
        rg.to_dot(y, "adjoint")
    assert "rg.compile" not in str(err.value)


# -- item 4: forward on top, adjoint below, in every graph -------------------------------------------------
def _cluster_extent(text):
    """The vertical extent (SVG: y grows downwards) of the forward and the adjoint clusters of a joint picture."""
    ns = "{http://www.w3.org/2000/svg}"
    ys = {"order0": [], "order1": []}
    for g in ET.fromstring(text).iter(ns + "g"):
        if g.get("class") == "cluster":
            which = g.find(ns + "title").text.replace("cluster_", "")
            if which in ys:
                ys[which].append(g)
    out = {}
    for which, (cluster,) in ys.items():
        shape = cluster.find(ns + "path") if cluster.find(ns + "path") is not None else cluster.find(ns + "polygon")
        nums = [float(v) for v in re.findall(r"-?\d+\.?\d*", shape.get("d") or shape.get("points"))]
        out[which] = (min(nums[1::2]), max(nums[1::2]))
    return out


def _demo_steps():
    from revgraph.demos import DEMOS

    for name, make in DEMOS.items():
        g, y, wrt, _ = make()
        yield name, rg.compile(y, wrt=wrt)
    g = rg.Graph("chain")
    x = h = g.input("x", shape=(3,))
    for _ in range(8):
        h = rg.tanh(h * 0.9 + 0.1)
    yield "chain", rg.compile(rg.sum(h), wrt=[x])


@pytest.mark.parametrize("name,step", list(_demo_steps()), ids=lambda v: v if isinstance(v, str) else "")
def test_joint_view_puts_the_forward_graph_above_the_adjoint(name, step):
    boxes = _cluster_extent(svg(step, "joint"))
    assert boxes["order0"][1] <= boxes["order1"][0] + 1, f"{name}: forward {boxes['order0']} adjoint {boxes['order1']}"


def test_long_residual_reads_are_drawn_as_reads_x_stubs_in_the_joint_view():
    g = rg.Graph("residual span")
    x = g.input("x", shape=(3,))
    h = x
    for _ in range(8):
        h = rg.tanh(h * 0.9 + 0.1)
    y = rg.sum(h * x)  # x read again at the far end of the chain
    step = rg.compile(y, wrt=[x])
    G = step.graph.nx
    far = next(n for n in G if G.nodes[n]["adjoint"] and G.nodes[n]["op"] == "mul" and x.id in G.pred[n])
    near = next(n for n in G if G.nodes[n]["op"] == "tanh_grad")
    src = rg.to_dot(step, "joint").source
    assert f"read{x.id}_{far} -> n{far}" in src and f"n{x.id} -> n{far}" not in src
    assert 'label="reads x"' in src
    tanh_read = next(u for u in G.pred[near] if G.nodes[u]["op"] == "tanh")
    assert f"n{tanh_read} -> n{near}" in src  # a read between neighbouring ranks stays an edge
    ET.fromstring(svg(step, "joint"))
