"""docs/ops.md is what the registry generates (python -m revgraph.opdocs), so it cannot drift."""

import re

from revgraph import opdocs
from revgraph.ir.ops import PUBLIC, linalg
from revgraph.ir.registry import all_ops


def test_committed_ops_md_equals_the_generated_one():
    committed = opdocs.DOC_PATH.read_text(encoding="utf-8")
    assert committed == opdocs.generate(), "docs/ops.md is out of date: run python -m revgraph.opdocs"


def test_every_public_op_has_a_row_with_its_signature_and_gradient():
    text = opdocs.generate()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \| `(rg\.[^`]*)` \|.*$", text, re.M)}
    assert set(PUBLIC) | set(linalg.__all__) <= set(rows)
    registry = all_ops()
    for name in ("clip", "floor", "fmax", "prod", "std", "pow", "relu"):
        assert registry[name].grad_note and registry[name].grad_note in rows[name], name
    assert "rg.clip(a, a_min=None, a_max=None)" in rows["clip"] and "compiled, dynamic" in rows["clip"]


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "ops.md"
    stale.write_text("# Ops\n", encoding="utf-8")
    monkeypatch.setattr(opdocs, "DOC_PATH", stale)
    assert opdocs.main(["--check"]) == 1 and "out of date" in capsys.readouterr().err
    assert opdocs.main([]) == 0 and opdocs.main(["--check"]) == 0
