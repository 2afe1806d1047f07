"""The backward-pass player: ``rg.explain(step, "backprop.html", **feeds)`` writes one self-contained
page that steps through the backward pass node by node (steps.py: the walk; texts.py: what it says,
in English and Korean; page.py: the HTML around Graphviz's SVG; player.js/.css: the page's script)."""

from .page import explain, page
from .steps import walkthrough

__all__ = ["explain", "page", "walkthrough"]
