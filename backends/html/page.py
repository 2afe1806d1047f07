"""``rg.explain``: write the backward-pass player for a compiled step as one self-contained HTML file.

The page holds the textbook figure (Graphviz's SVG of the forward graph with its values),
the generated backward code, the steps of the backward pass as JSON, and the script and
styles that step through them -- all inline, so the file opens offline from anywhere.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Optional, Union

from ...compiler.runtime import CompiledStep
from ...ir.errors import GraphError
from ..graphviz import to_dot
from .steps import walkthrough
from .texts import LANGUAGES, UI, rules_for

_HERE = Path(__file__).parent


def explain(step: CompiledStep, path: Union[str, Path], /, lang: Optional[str] = None, **feeds: Any) -> Path:
    """Write the backward-pass player of ``step`` to ``path`` (one HTML file, no network needed).

    With feeds, runs ``step.forward(**feeds)`` and ``step.backward()`` first; without, shows the
    step's last run. ``lang``: ``"en"`` or ``"ko"``; by default the reader's browser language
    chooses (and the page has a switch). An input named ``lang`` is fed by running the step first
    and calling ``rg.explain(step, path)`` without feeds.

    >>> step = rg.compile(price, wrt=[apple, tax])
    >>> rg.explain(step, "backprop.html", apple=100.0, apple_num=2.0, tax=1.1)
    PosixPath('backprop.html')
    """
    if not isinstance(step, CompiledStep):
        raise GraphError(f"rg.explain shows the backward pass of a compiled step, got a {type(step).__name__}: "
                         "compile one with rg.compile(loss, wrt=[...])")
    if lang is not None and lang not in LANGUAGES:
        raise GraphError(f"rg.explain: lang={lang!r} is not a language of the player; use one of {LANGUAGES}")
    if feeds:
        step.forward(**feeds)
        step.backward()
    path = Path(path)
    path.write_text(page(step, lang), encoding="utf-8")
    return path


def page(step: CompiledStep, lang: Optional[str] = None) -> str:
    """The player's HTML for ``step``'s last run (see :func:`explain`)."""
    data = walkthrough(step)
    higher = data["order"] > 1 or any(s["kind"] == "op" and not _in_forward_view(step, s) for s in data["steps"])
    dot = to_dot(step, "joint" if higher else "forward", values=True, expand="all")  # every node: the player steps them
    svg = _svg(dot.pipe(format="svg").decode("utf-8"))
    data.update(lang=lang, ui=UI, rules=rules_for({s["rule"] for s in data["steps"]}))
    code = "\n".join(f'<li data-line="{i}">{html.escape(line) or " "}</li>' for i, line in enumerate(data["code"], 1))
    return _TEMPLATE.format(
        lang=lang or "en", title=html.escape(f"{UI[lang or 'en']['title']} — {data['graph']}"), svg=svg, code=code,
        data=_script_json(data), css=(_HERE / "player.css").read_text(encoding="utf-8"),
        js=(_HERE / "player.js").read_text(encoding="utf-8"),
        options="".join(f'<option value="{code}">{name}</option>' for code, name in (("en", "English"), ("ko", "한국어"))))


def _in_forward_view(step: CompiledStep, s: dict) -> bool:
    return step.graph.nx.nodes[int(s["node"][1:])]["adjoint"] == 0


def _svg(text: str) -> str:
    """Graphviz's SVG without its XML prolog and doctype, ready to sit inside HTML."""
    start = text.find("<svg")
    return re.sub(r"<!--.*?-->", "", text[start:], flags=re.S)


def _script_json(data: dict) -> str:
    """JSON that cannot end its <script> element early, whatever the node names hold."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_TEMPLATE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1 id="title"></h1>
<p class="sub" id="graph-caption"></p>
</header>
<div class="controls" role="toolbar" aria-label="backward pass">
<button type="button" id="reset"></button>
<button type="button" id="prev"></button>
<button type="button" id="next"></button>
<button type="button" id="play"></button>
<span id="counter" aria-hidden="true"></span>
<label id="lang-label" for="lang"></label>
<select id="lang">{options}</select>
<span class="keys" id="keys"></span>
</div>
<div class="figure">{svg}</div>
<div class="layout">
<aside class="panel" id="step" aria-live="off"></aside>
<section class="code">
<h2 id="code-title"></h2>
<ol>{code}</ol>
</section>
</div>
<p id="live" class="sub" aria-live="polite" style="position:absolute;left:-9999px"></p>
<script type="application/json" id="rg-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
