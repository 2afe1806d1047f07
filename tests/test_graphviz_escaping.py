"""Hostile names render through the real `dot`, appear intact in the SVG text, and
never inject DOT (no extra nodes, edges or attributes)."""

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import revgraph as rg
from revgraph.backends.graphviz.text import short
from graphviz_svg import edges, nodes, svg

HOSTILE = ['say "hi"', '"; ] n0 [label="pwned', "back\\slash \\N \\G \\l", "<b>bold</b>", "<<html>>",
           "{a|b}", "사과", "x > y < z & w", "trailing\\"]


def build():
    g = rg.Graph('graph "<evil>"\\N')
    xs = [g.input(name) for name in HOSTILE]
    total = xs[0]
    for i, x in enumerate(xs[1:]):
        total = (total + x).rename(f"op {i} {HOSTILE[i]}")
    out = (total * 2.0).rename("line one\nline two")
    step = rg.compile(out, wrt=xs)
    step.forward(**{name: 1.0 for name in HOSTILE})
    step.backward()
    return step, xs, out


def all_text(svg_text: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg_text).iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("which", ["forward", "adjoint", "joint"])
def test_hostile_names_render_intact(which):
    step, xs, out = build()
    text = svg(step, which, values=(which == "forward"))
    ns = nodes(text)
    G = step.graph.nx
    # nothing injected: the drawn nodes are exactly the graph's nodes of this view, edges join drawn nodes
    forward = {n for n in G if G.nodes[n]["adjoint"] == 0}
    adjoint = set(G) - forward
    want = {"forward": forward, "joint": set(G), "adjoint": adjoint | {u for n in adjoint for u in G.pred[n]}}
    small = {n for n in G if G.nodes[n]["op"] == "constant" and G.nodes[n]["shape"] == ()}  # written in their readers
    want = {k: v - small for k, v in want.items()}
    assert {int(n[1:]) for n in ns if n.startswith("n")} == want[which]
    assert all(e.title.split("->")[0] in ns and e.title.split("->")[1] in ns for e in edges(text))
    lines = all_text(text)
    joined = "".join(lines).replace(HOSTILE[1], "")
    for i in (0, 1):  # or inside a name shortened for display ("op 1 "; ] n0…pwned (26 chars)")
        for limit in (20, 48):
            joined = joined.replace(short(f"op {i} {HOSTILE[i]}", limit), "").replace(short(HOSTILE[1], limit), "")
    assert "pwned" not in joined  # only inside the intact (or visibly shortened) name
    if which != "adjoint":
        for x, name in zip(xs, HOSTILE):
            assert ns[f"n{x.id}"].texts == [name]
        for i in range(len(HOSTILE) - 1):
            assert f"op {i} {HOSTILE[i]}" in lines
        assert ns[f"n{out.id}"].texts == ["× 2", "line one", "line two"]  # a newline is a line break; 2 inside
    if which != "forward":  # gradient outputs name the wrt tensor, intact
        for name in HOSTILE:
            assert f"line two/∂{name}" in lines


def test_graph_title_and_control_characters_are_escaped():
    g = rg.Graph('title "<evil>" \\N')
    x = g.input("bell\x07 tab\tcr\r")
    y = rg.exp(x)
    text = svg(g)
    assert 'title "<evil>" \\N: forward graph' in all_text(text)
    assert nodes(text)[f"n{x.id}"].texts == ["bell\\x07 tab\\x09cr\\x0d"]  # shown, not raw (invalid in SVG)
    assert nodes(text)[f"n{y.id}"].texts == ["exp", "exp_1"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=16))
@example("  ")  # dot writes the second of two spaces as a no-break space
@example(" a\\N  \"b\" ")
def test_any_printable_name_renders_intact(name):
    g = rg.Graph(name)
    x = g.input(name)
    rg.exp(x).rename(name + "|2")
    text = svg(g)
    spaced = lambda lines: [t.replace("\xa0", " ") for t in lines]  # noqa: E731  (dot keeps runs of spaces as no-break spaces)
    name = name.replace("\xa0", " ")
    ns = nodes(text)
    assert spaced(ns["n0"].texts) == [name]
    assert spaced(ns["n1"].texts) == ["exp", name + "|2"]
    assert f"{name}: forward graph" in spaced(all_text(text))
