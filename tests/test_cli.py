"""The command line: `revgraph demo` (value, gradients, four pictures) and `revgraph render`."""

import subprocess
import sys
import textwrap

import pytest

from revgraph.cli import main
from graphviz_svg import RED, edge_labels, edges, nodes

PICTURES = ["forward.svg", "adjoint.svg", "joint.svg", "textbook.svg"]


def test_demo_subprocess_prints_the_table_and_writes_four_svgs(tmp_path):
    out = tmp_path / "pics"
    run = subprocess.run([sys.executable, "-m", "revgraph", "demo", "--out", str(out)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "dprice/dtax        = 650" in run.stdout
    for name in PICTURES:
        assert str(out / name) in run.stdout
        assert nodes((out / name).read_text())  # a parseable SVG with nodes
    textbook = (out / "textbook.svg").read_text()
    assert edge_labels(textbook, 0, 5, RED) == ["2.2"] and edge_labels(textbook, 4, 8, RED) == ["650"]
    assert len([e for e in edges((out / "joint.svg").read_text()) if e.stroke == RED]) == 6


@pytest.mark.parametrize("name", ["apple", "abc", "sigmoid", "mlp"])
def test_every_demo_writes_its_pictures_to_revgraph_out(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", name]) == 0
    for picture in PICTURES:
        assert (tmp_path / "revgraph-out" / picture).read_text().lstrip().startswith("<?xml")
    assert "revgraph-out" in capsys.readouterr().out


def test_demo_without_dot_writes_dot_files_and_says_how_to_get_svg(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert main(["demo", "--out", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "apt-get install graphviz" in said and "dot -Tsvg" in said
    for picture in PICTURES:
        dot = tmp_path / picture.replace(".svg", ".dot")
        assert dot.read_text().startswith("digraph") and str(dot) in said
        assert not (tmp_path / picture).exists()


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["render", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: revgraph" in capsys.readouterr().out


MODEL = textwrap.dedent('''
    import revgraph as rg

    def build():
        g = rg.Graph("model")
        x, w = g.input("x"), g.input("w")
        y = rg.sigmoid(x * w).rename("y")
        return y, [w]
''')


def test_render_a_python_model(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    assert main(["render", str(model), "-o", str(tmp_path / "adj.svg"), "--which", "adjoint"]) == 0
    adj = (tmp_path / "adj.svg").read_text()
    assert any("= ∂y/∂w" in t for n in nodes(adj).values() for t in n.texts)
    assert main(["render", str(model), "-o", str(tmp_path / "j.svg"), "--which", "joint", "--wrt", "x", "w"]) == 0
    joint = (tmp_path / "j.svg").read_text()
    assert {"= ∂y/∂x", "= ∂y/∂w"} <= {t for n in nodes(joint).values() for t in n.texts}
    assert main(["render", str(model), "-o", str(tmp_path / "f.dot")]) == 0
    assert (tmp_path / "f.dot").read_text().startswith("digraph")
    assert str(tmp_path / "f.dot") in capsys.readouterr().out


def test_render_reports_mistakes(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    assert main(["render", str(model), "-o", str(tmp_path / "a.svg"), "--wrt", "nope"]) == 1
    assert "no node named 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no such file"):
        main(["render", str(tmp_path / "missing.py"), "-o", str(tmp_path / "a.svg")])
    with pytest.raises(SystemExit, match="cannot read"):
        main(["render", str(tmp_path / "model.onnx"), "-o", str(tmp_path / "a.svg")])
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(SystemExit, match="defines no build"):
        main(["render", str(tmp_path / "empty.py"), "-o", str(tmp_path / "a.svg")])


def test_render_a_saved_json_graph(tmp_path, capsys):
    import revgraph as rg
    from revgraph import demos

    g, price, wrt, _ = demos.apple_orange()
    g.outputs, g.wrt = price, wrt
    g.save(tmp_path / "apple.json")
    assert main(["render", str(tmp_path / "apple.json"), "-o", str(tmp_path / "adj.svg"), "--which", "adjoint"]) == 0
    svg = (tmp_path / "adj.svg").read_text()
    assert RED in svg and "price" in svg and "tax" in svg

    bare = rg.Graph("bare")                      # saved without outputs: its final nodes are drawn
    x = bare.input("x")
    (rg.exp(x) * 2.0).rename("twice_exp")
    bare.save(tmp_path / "bare.json")
    assert main(["render", str(tmp_path / "bare.json"), "-o", str(tmp_path / "f.svg"), "--which", "adjoint",
                 "--wrt", "x"]) == 0
    assert "twice_exp" in (tmp_path / "f.svg").read_text()
    capsys.readouterr()
    assert main(["render", str(tmp_path / "bare.json"), "-o", str(tmp_path / "g.svg"), "--wrt", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
