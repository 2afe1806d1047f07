"""Every README snippet runs, and prints what the README says it prints (issue 15 items 7, 10, 12).

Conventions in README.md: each ```python block runs, in order, in one namespace, in a scratch folder. A block
right after an ``<!-- output -->`` comment is not code but what the code block before it printed; a line
``...`` in it stands for any number of lines, and a line ending in ``...`` for any rest of that line. A block
after ``<!-- not run: why -->`` is skipped (a reference card of calls with placeholder names)."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"(?:<!--\s*(?P<marker>[^>]*?)\s*-->\s*\n)?```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)\n```", re.S)


def blocks() -> list[tuple[str, str, str]]:
    """(language, marker, body) of every fenced block, in order."""
    return [(m["lang"], (m["marker"] or "").strip(), m["body"]) for m in FENCE.finditer(README.read_text("utf-8"))]


def matches(expected: str, got: str) -> bool:
    """``got`` equals ``expected`` where ``...`` lines match any lines and a trailing ``...`` any line end."""
    pattern = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        elif line.endswith("..."):
            pattern.append(re.escape(line[:-3]) + r"[^\n]*\n")
        else:
            pattern.append(re.escape(line) + r"\n")
    return re.fullmatch("".join(pattern), got.rstrip("\n") + "\n") is not None


def test_every_python_snippet_runs_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    printed: str | None = None
    ran = checked = 0
    for lang, marker, body in blocks():
        if marker == "output":
            assert printed is not None, f"an output block follows no code block:\n{body}"
            assert matches(body, printed), f"README shows:\n{body}\n\nbut the code printed:\n{printed}"
            checked += 1
            printed = None
            continue
        if lang != "python" or marker.startswith("not run"):
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, f"README.md block {ran + 1}", "exec"), namespace)  # noqa: S102  (our own README)
        printed = out.getvalue()
        ran += 1
    assert ran >= 6 and checked >= 4


def test_the_matcher_fails_on_a_difference():
    assert matches("a\n...\nd", "a\nb\nc\nd\n") and matches("x = ...", "x = 1 2 3")
    assert not matches("[2.2, 110.0]", "[np.float64(2.2), np.float64(110.00000000000001)]")


def test_the_apple_example_names_its_tensors_in_the_readme_and_the_script():
    text = README.read_text("utf-8")
    script = (README.parent / "examples" / "apple.py").read_text("utf-8")
    for line in ['apple_price = rg.mul(apple, apple_num, name="apple_price")', '.rename("price")']:
        assert line in text and line in script


@pytest.mark.parametrize("with_sudo", [True, False])
def test_the_quickstart_install_line_works_with_sudo_and_as_root_without_it(tmp_path, with_sudo):
    install = next(body for lang, _, body in blocks() if lang == "bash").split("&&")[0].strip()
    assert install.startswith("$(command -v sudo) apt-get install")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if with_sudo:  # a stand-in sudo that only says how it was called
        fake = bin_dir / "sudo"
        fake.write_text("#!/bin/sh\necho sudo \"$@\"\n")
        fake.chmod(0o755)
    apt = bin_dir / "apt-get"
    apt.write_text("#!/bin/sh\necho apt-get \"$@\"\n")
    apt.chmod(0o755)
    out = subprocess.run(["/bin/sh", "-c", install], capture_output=True, text=True, timeout=30,
                         env={"PATH": str(bin_dir)})
    assert out.returncode == 0, out.stderr
    want = "apt-get install -y graphviz"
    assert out.stdout.strip() == (f"sudo {want}" if with_sudo else want)
