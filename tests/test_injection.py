"""Names, graph names and string attributes are data, never code: hostile strings compile,
run, print and save/load intact, and nothing they contain is executed."""

from __future__ import annotations

import ast
import io
import json
import os
import tokenize

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy.kernels import literal
from revgraph.ir import serialize

HOSTILE = [
    'x"); import os; os.system("touch PWNED")#',
    "__import__('os').system('touch PWNED')",
    "a\nb",
    "</b><script>alert(1)</script>",
    "\u2028line separator\u2029",
    "'''", '"""', "\\", "#", "\r\n", "\x00nul", "{0}{args}", "v0", "", "é→😀", "x" * 500,
]


def hostile_graph():
    g = rg.Graph('g"); import os; os.system("touch PWNED_GRAPH")#\n</title>')
    xs = [g.input(name, shape=(2,)) for name in HOSTILE]
    total = g.constant(np.ones(2), name="c'; os.system('touch PWNED_CONST')")
    for i, x in enumerate(xs):
        total = (total + x * float(i)).rename(f"{HOSTILE[i]} (step {i})")
    loss = rg.sum(total).rename('loss"); os.system("touch PWNED_LOSS")#')
    return g, xs, loss


def _code_without_comments(source: str) -> str:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return " ".join(t.string for t in tokens if t.type != tokenize.COMMENT)


def test_hostile_names_compile_run_and_execute_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g, xs, loss = hostile_graph()
    feeds = {name: np.full(2, float(i)) for i, name in enumerate(HOSTILE)}
    expected = 2 * (1 + sum(i * i for i in range(len(HOSTILE))))
    f = rg.compile(loss)
    step = rg.compile(loss, wrt=xs, check_finite=True)
    assert f(**feeds) == expected
    assert step.forward(**feeds) == expected
    grads = step.backward()
    for i, gr in enumerate(grads):
        np.testing.assert_array_equal(gr, np.full(2, float(i)))
    vg = rg.compile([loss, *rg.grad(loss, xs)])(**feeds)
    assert vg[0] == expected
    for source in (f.source, step.source):
        ast.parse(source)  # still valid Python
        code = _code_without_comments(source)
        for name in HOSTILE + [g.name]:
            if len(name) > 3 and name not in ("v0",):
                assert name not in code, f"{name!r} reached the code outside comments"
        assert "PWNED" not in code and "os.system" not in code
    assert os.listdir(tmp_path) == [], "nothing was created"


def test_hostile_names_in_error_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g, xs, loss = hostile_graph()
    with pytest.raises(rg.FeedError, match="missing feed"):
        rg.compile(loss)()
    with pytest.raises(rg.FeedError) as info:
        rg.compile(loss)(**{name: np.ones(3) for name in HOSTILE})
    assert repr(HOSTILE[0]) in str(info.value)
    assert os.listdir(tmp_path) == []


def test_hostile_names_survive_save_and_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g, xs, loss = hostile_graph()
    g.save("hostile.json")
    raw = (tmp_path / "hostile.json").read_bytes()
    assert raw.isascii() and "\u2028" not in raw.decode("ascii"), "the file is ASCII: no raw line separators"
    g2 = rg.load("hostile.json")
    assert g2.name == g.name
    assert [t.name for t in g2.inputs] == HOSTILE
    assert {d["name"] for _, d in g2.nx.nodes(data=True)} == {d["name"] for _, d in g.nx.nodes(data=True)}
    assert rg.compile(g2.tensor(loss.name)).source == rg.compile(loss).source
    assert sorted(os.listdir(tmp_path)) == ["hostile.json"]


@pytest.mark.parametrize("text", HOSTILE)
def test_string_attributes_render_as_one_literal(text):
    """A string attribute value becomes one closed Python literal that evaluates back to itself."""
    assert ast.literal_eval(literal(text)) == text


def test_hostile_string_attributes_are_refused():
    g = rg.Graph("t")
    x = g.input("x", shape=(2,))
    with pytest.raises(rg.GraphError):
        rg.ir.apply("cast", x, dtype='float64"); import os; os.system("touch PWNED")#')
    with pytest.raises(rg.GraphError):
        rg.sum(x, axis="0); import os")
    y = rg.sum(x).rename("s")
    doc = json.loads(serialize.dumps(g))
    node = next(n for n in doc["graph"]["nodes"] if n["name"] == "s")
    node["attrs"]["axis"] = "None); __import__('os').system('touch PWNED')#"
    with pytest.raises(rg.GraphError, match=r"key 'attrs'"):
        serialize.loads(json.dumps(doc))
    assert y.name == "s"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hostile_names_render_to_dot_and_svg(tmp_path, monkeypatch):
    """The graphviz backend (issue 4) draws the same hostile graph, with values and a highlighted
    check_finite error, and writes nothing but the pictures asked for."""
    monkeypatch.chdir(tmp_path)
    g, xs, loss = hostile_graph()
    feeds = {name: np.full(2, float(i)) for i, name in enumerate(HOSTILE)}
    step = rg.compile(loss, wrt=xs)
    step.forward(**feeds)
    step.backward()
    for which in ("forward", "adjoint", "joint"):
        rg.render(step, f"{which}.svg", which=which, values=True)
        rg.render(step, f"{which}.dot", which=which)
    svg = (tmp_path / "joint.svg").read_text()
    assert "<script>" not in svg and "</b><script>" not in svg, "markup in names is escaped"
    assert "&lt;/b&gt;&lt;script&gt;" in svg, "the name is still shown"
    bad = rg.log(xs[0] - xs[0]).rename('log"); os.system("touch PWNED")#')
    with pytest.raises(FloatingPointError) as info:
        rg.compile(rg.sum(bad), check_finite=True)(**feeds)
    dot = rg.to_dot(info.value.node, highlight=info.value)
    rg.render(info.value.node, "error.svg", highlight=info.value)
    assert "PWNED" in dot.source  # as data, in a label
    expected = {f"{w}.{ext}" for w in ("forward", "adjoint", "joint") for ext in ("svg", "dot")} | {"error.svg"}
    assert set(os.listdir(tmp_path)) == expected, "only the pictures were written"
