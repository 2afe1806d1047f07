"""Replace one marked section of a markdown file (the benchmark suites that write a part of docs/benchmarks.md)."""

from __future__ import annotations

import os
import tempfile


def replace_section(path: str, body: str, begin: str, end: str) -> None:
    """Put ``body`` (which starts with ``begin`` and ends with ``end``) where the file's section between those
    markers was, or append it; written atomically."""
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + body + rest.split(end, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + body
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=os.path.dirname(os.path.abspath(path)),
                                     delete=False) as f:
        f.write(new)
    os.replace(f.name, path)
