"""`revgraph compare FILE.py[:FUNCTION]`: the table, the Markdown file, the exit codes."""

from pathlib import Path

import pytest

from revgraph.cli import main

ROOT = Path(__file__).resolve().parent.parent

TINY = '''
import numpy as np
import revgraph as rg

WRT = ["w"]

def loss(x, w):
    return rg.sum(rg.tanh(x * w))

def feeds():
    return {"x": np.arange(3.0), "w": np.array(0.5)}
'''


def test_compare_prints_the_table_and_writes_markdown(tmp_path, capsys):
    src = tmp_path / "tiny.py"
    src.write_text(TINY)
    md = tmp_path / "out.md"
    assert main(["compare", f"{src}:loss", "--repeat", "2", "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "revgraph compare: tiny.py:loss (wrt w)" in out and "values and gradients agree" in out
    assert "| step (forward + backward), median |" in md.read_text()


def test_compare_chain_example_runs(capsys):
    assert main(["compare", str(ROOT / "examples" / "compare_chain.py"), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "op nodes: forward / adjoint" in out and "1000 /" in out and "1000 recorded" in out


def test_compare_mistakes(tmp_path, capsys):
    src = tmp_path / "tiny.py"
    src.write_text(TINY)
    assert main(["compare", str(src)]) == 2  # no function named model
    assert "no function 'model'" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing.py")]) == 2
    assert "no file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare"])


def test_markdown_section_is_replaced_in_place(tmp_path):
    src = tmp_path / "tiny.py"
    src.write_text(TINY)
    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n\nbefore\n")
    assert main(["compare", f"{src}:loss", "--repeat", "1", "--markdown", str(doc)]) == 0
    first = doc.read_text()
    assert first.startswith("# Title\n\nbefore\n\n<!-- revgraph compare tiny.py:loss -->")
    doc.write_text(first + "\nafter\n")
    assert main(["compare", f"{src}:loss", "--repeat", "1", "--markdown", str(doc)]) == 0
    second = doc.read_text()
    assert second.count("<!-- revgraph compare tiny.py:loss -->") == 1 and second.endswith("\nafter\n")
    assert second.count("| step (forward + backward), median |") == 1


def test_compare_feeds_a_parameter_named_like_an_option(tmp_path, capsys):
    src = tmp_path / "opts.py"
    src.write_text(TINY.replace('WRT = ["w"]', 'WRT = ["repeat"]').replace("(x, w)", "(x, repeat, wrt)")
                   .replace("x * w", "x * repeat + wrt")
                   .replace('"w": np.array(0.5)', '"repeat": np.array(0.5), "wrt": np.array(1.0)'))
    assert main(["compare", f"{src}:loss", "--repeat", "1"]) == 0
    assert "revgraph compare: opts.py:loss (wrt repeat)" in capsys.readouterr().out
