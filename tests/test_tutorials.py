"""The tutorials (docs/tutorial/en and ko): each notebook runs top to bottom, and every number its text states in
bold is one its own cells printed or drew -- so the prose cannot drift from the code."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
from nbclient import NotebookClient  # noqa: E402  (the test extra installs nbclient and ipykernel)

ROOT = Path(__file__).resolve().parent.parent / "docs" / "tutorial"
NAMES = sorted(p.name for p in (ROOT / "en").glob("[0-9][0-9]-*.md"))
BOLD_NUMBER = re.compile(r"\*\*(-?\d+(?:\.\d+)?)\*\*")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _code(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_both_languages_have_the_same_notebooks_with_the_same_code():
    assert len(NAMES) == 8
    assert NAMES == sorted(p.name for p in (ROOT / "ko").glob("[0-9][0-9]-*.md"))
    for name in NAMES:
        en, ko = (jupytext.read(ROOT / lang / name) for lang in ("en", "ko"))
        assert _code(en) == _code(ko), name
        assert re.search(r"[가-힣]", "".join(c.source for c in ko.cells if c.cell_type == "markdown")), name


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_matches_its_markdown_source(lang, name):
    md = jupytext.read(ROOT / lang / name)
    ipynb = nbformat.read(ROOT / lang / name.replace(".md", ".ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in md.cells] == [(c.cell_type, c.source) for c in ipynb.cells], \
        "run `python docs/tutorial/build.py` after editing the .md"
    assert all(not c.get("outputs") for c in ipynb.cells if c.cell_type == "code"), "commit notebooks without outputs"


def _outputs(nb):
    """Everything the cells printed or displayed, as text (SVG included: its labels are numbers too), and
    how many pictures they drew."""
    texts, pictures = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                texts.append(out.text)
            data = out.get("data", {})
            texts += [data[k] for k in ("text/plain", "image/svg+xml") if k in data]
            pictures += any(k in data for k in ("image/svg+xml", "image/png"))
    return "\n".join(texts), pictures


def _stated_numbers_appear(text_md, outputs):
    found = [float(x) for x in NUMBER.findall(outputs)]
    missing = []
    for stated in BOLD_NUMBER.findall(text_md):
        decimals = len(stated.split(".")[1]) if "." in stated else 0
        if not any(abs(x - float(stated)) <= 0.5 * 10 ** -decimals + 1e-12 for x in found):
            missing.append(stated)
    return missing


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_its_numbers_are_its_own(lang, name, tmp_path):
    nb = nbformat.read(ROOT / lang / name.replace(".md", ".ipynb"), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs, pictures = _outputs(nb)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert BOLD_NUMBER.search(prose) or name.startswith("07"), "each section states its numbers in bold"
    assert _stated_numbers_appear(prose, outputs) == []
    assert pictures >= 1, "each section draws at least one figure"
    if name.startswith("02"):
        assert (tmp_path / "backprop.html").is_file()  # the player page
    if name.startswith("07"):
        accuracy = float(re.search(r"test accuracy: ([0-9.]+)", outputs).group(1))
        assert accuracy > 0.95, "the text says the accuracy ends above 95%"
    if name.startswith("08"):
        assert "agree: True" in outputs
