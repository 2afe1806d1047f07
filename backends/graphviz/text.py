"""Label text for pictures: escaping user strings for DOT, and short forms of values and shapes.

Every label is a plain (non-HTML) DOT string that the ``graphviz`` package quotes.
User text (node names, graph names) passes through :func:`esc` first, so no name
can end the string, start an HTML label, or trigger a DOT escape such as ``\\N``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from graphviz import nohtml

from ...ir.shapes import fmt

# Textbook symbols for the common arithmetic ops; every other op shows its name.
OP_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "matmul": "@", "neg": "−x", "pow": "xʸ",
              "accumulate": "Σ"}


NAME_CHARS = 48  # a longer name is shortened in labels; the tooltip keeps it whole
TOOLTIP_CHARS = 8000  # dot refuses strings beyond 16 384 characters: tooltips stop well before


def esc(text: Any) -> str:
    r"""Escape user text for a plain DOT label: backslashes doubled (no ``\N``, ``\G``
    substitutions), newlines kept as line breaks, control characters and every character
    XML 1.0 does not allow (U+FFFE, U+FFFF, lone surrogates) shown as ``\xNN`` / ``\uNNNN``
    (an SVG holding them is not well-formed). Quotes are left to the ``graphviz`` package,
    which quotes every label.

    >>> print(esc(r"a\b"), esc("one\ntwo"), esc("\ufffe"))
    a\\b one\ntwo \\ufffe
    """
    text = str(text)
    shown = "".join(c if c == "\n" or _xml_ok(c) else _code(c) for c in text)
    return shown.replace("\\", "\\\\").replace("\n", "\\n")


def _xml_ok(c: str) -> bool:
    """Allowed in XML 1.0 and not a control character (those are invalid in SVG text)."""
    o = ord(c)
    if o < 0x20 or 0x7F <= o < 0xA0:
        return False
    return o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or 0x10000 <= o <= 0x10FFFF


def _code(c: str) -> str:
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def short(text: Any, limit: int = NAME_CHARS) -> str:
    """``text`` shortened for display (head … tail, with the length), unescaped.

    >>> short("a" * 100, 20)
    'aaaaaaaaaaaa…aaaaa (100 chars)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    tail = max(limit // 4, 1)
    return f"{text[:limit - tail - 3]}…{text[-tail:]} ({len(text)} chars)"


def tooltip(text: Any) -> str:
    """A name for a tooltip: whole up to TOOLTIP_CHARS, escaped like a label, never read as HTML."""
    return nohtml(esc(short(text, TOOLTIP_CHARS)))


def label(*lines: str) -> str:
    """Join already-escaped lines into one label that is never read as HTML."""
    return nohtml("\\n".join(line for line in lines if line))


def value_text(value: Any) -> str:
    """A value as it flows along an edge: scalars ``%.6g``; arrays of at most 6 elements
    in full; bigger arrays as shape plus a summary.

    >>> value_text(715.0000000000001)
    '715'
    >>> value_text(np.arange(8.0))
    '(8,) mean 3.5 in [0, 7]'
    """
    arr = np.asarray(value)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.ndim == 0:
        return _num(arr.item())
    if arr.size <= 6:
        short = lambda x: _num(x, 4)  # noqa: E731
        return np.array2string(arr, separator=", ", formatter={"all": short}, max_line_width=10**6).replace("\n", "")
    if arr.size == 0 or arr.dtype.kind not in "biuf":  # complex: no order, so no range
        return f"{fmt(arr.shape)} {arr.dtype}"
    return f"{fmt(arr.shape)} mean {_num(arr.mean(), 3)} in [{_num(arr.min(), 3)}, {_num(arr.max(), 3)}]"


def _num(x: Any, digits: int = 6) -> str:
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):  # 1-2j, as NumPy prints it
        return f"{complex(x):.{digits}g}".strip("()")
    return f"{float(x):.{digits}g}"


def type_text(shape: tuple, dtype: Any) -> str:
    """How an edge names what flows along it, for learners: ``scalar``, ``3-vector``, ``2×5``, ``?×4``
    (``?`` = fixed at run time), with the dtype only when it is not float64 (``2×5 float32``).

    >>> type_text((), "float64"), type_text((3,), "float64"), type_text((None, 4), "float32")
    ('scalar', '3-vector', '?×4 float32')
    """
    text = "scalar" if not shape else "×".join("?" if d is None else str(d) for d in shape)
    if len(shape) == 1:
        text = f"{text}-vector"
    dtype = np.dtype(dtype)
    return text if dtype == np.float64 else f"{text} {dtype.name}"


def attrs_text(attrs: dict, defaults: dict) -> str:
    """The attributes that differ from the op's defaults, short: ``axis=(0,) keepdims=True``."""
    parts = []
    for key, val in attrs.items():
        try:
            if key in defaults and bool(defaults[key] == val):
                continue
        except Exception:  # an ndarray default compared elementwise: show it
            pass
        text = repr(val)
        parts.append(f"{key}={text if len(text) <= 24 else text[:21] + '...'}")
    return " ".join(parts)
