"""docs/ops.md, written from the op registry: every public op with its signature, its gradient's
convention (``OpDef.grad_note``) and the engines it runs in. The committed file is checked against
this output (tests/test_ops_doc.py), so it cannot drift from the code.

    python -m revgraph.opdocs            # rewrite docs/ops.md
    python -m revgraph.opdocs --check    # exit 1 when docs/ops.md is out of date
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from .backends.numpy import kernels as numpy_kernels
from .ir.ops import PUBLIC, fft, linalg
from .ir import ops as _ops
from .ir.registry import OpDef, all_ops

DOC_PATH = Path(__file__).resolve().parent / "docs" / "ops.md"

HEADER = """# Ops

Generated from the op registry by `python -m revgraph.opdocs` -- do not edit by hand:
tests/test_ops_doc.py fails when this file differs from what the registry gives. To document an op,
give its `OpDef` a `grad_note` (ir/registry.py) and its function a docstring, then rerun the command.

**Gradient** says what the VJP rule computes where the textbook derivative is missing or infinite
(kinks, jumps, poles, NaNs); "the derivative" means the op is differentiable wherever NumPy's value is
finite. Every rule is written with rg ops, so it differentiates again (second order and beyond).
**Engines**: `compiled` -- `rg.compile` with the numpy backend; `dynamic` -- `dy.Variable`
(define-by-run, the same kernels and rules); `dask` -- `rg.compile(..., backend="dask")`. A function
marked *composed* is built from the ops listed elsewhere in this file and runs where they do.

**Complex numbers** (complex64, complex128) follow HIPS autograd's convention, the one JAX documents for
real-valued outputs: for a real loss L of z = x + iy, `rg.grad(L, z)` is dL/dx - i dL/dy (so dL = Re(g dz);
step against its conjugate to descend). A holomorphic op's gradient is then g f'(z) -- the formula above,
unchanged, with no conjugate -- and a real operand of a complex op gets the real part of its gradient. A
complex output is seeded with 1 (`rg.grad(z ** 3, z)` is 3z^2, as autograd's `grad`); pass `seed=` for others.
Ops that order, round or split numbers (comparisons but ==/!=, maximum, relu, floor, max, sign, ...) refuse
complex operands with a GraphError; the rest of an op's row holds for complex operands where it is marked so in
the registry (`OpDef.complex_ok`).
"""


def _signature(qualname: str, fn: Callable) -> str:
    """``rg.clip(a, a_min=None, a_max=None)``: names and defaults only (``name=`` is on every op)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return f"{qualname}(...)"
    parts, star = [], False
    for p in sig.parameters.values():
        if p.name == "name" and p.kind is p.KEYWORD_ONLY:
            continue
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star = True
            continue
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{qualname}({', '.join(parts)})"


def _dask_available() -> Optional[Callable[[str], bool]]:
    try:
        from .backends.dask import kernels as dask_kernels
    except ImportError:
        return None
    return dask_kernels.available


def _engines(opdef: Optional[OpDef], dask: Callable[[str], bool]) -> str:
    if opdef is None:
        return "*composed*"
    engines = ["compiled", "dynamic"] if opdef.name in numpy_kernels.TEMPLATES else []
    if dask(opdef.name):
        engines.append("dask")
    return ", ".join(engines) or "none"


def _gradient(opdef: Optional[OpDef]) -> str:
    if opdef is None:
        return "that of the ops it is built from"
    if opdef.grad_note:
        return opdef.grad_note
    if opdef.vjp is None:
        return "none (a zero gradient)"
    return "the derivative"


def _summary(fn: Callable) -> str:
    doc = inspect.getdoc(fn) or ""
    line = doc.split("\n\n")[0].replace("\n", " ").strip()
    return re.sub(r"\s*``rg\.[^`]*``\s*$", "", line)  # a closing example stays in the docstring


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _families() -> list[tuple[str, str, list[tuple[str, Callable]]]]:
    """(title, source file, [(qualified name, function)]) in the order of ir/ops/__init__.py's PUBLIC."""
    families: dict[str, list] = {}
    for name in PUBLIC:
        fn = getattr(_ops, name)
        families.setdefault(fn.__module__, []).append((f"rg.{name}", fn, name))
    for namespace, short in ((linalg, "linalg"), (fft, "fft")):
        families.setdefault(namespace.__name__, []).extend(
            (f"rg.{short}.{name}", getattr(namespace, name), name) for name in namespace.__all__)
    out = []
    for module, rows in families.items():
        stem = module.rsplit(".", 1)[-1]
        out.append((TITLES.get(stem, stem), module.replace("revgraph.", "").replace(".", "/") + ".py", rows))
    return out


# Section titles per op family (a new family without one is titled by its module name).
TITLES = {"elementwise": "Elementwise", "reductions": "Reductions and scans", "shape_ops": "Shapes and matmul",
          "indexing": "Indexing", "nn": "Layers and losses", "combine": "Shape and combination",
          "math": "More elementwise math", "linalg": "rg.linalg", "conv": "Convolution, pooling, normalisation",
          "complex_ops": "Complex numbers", "fft": "rg.fft"}


def generate() -> str:
    """The text of docs/ops.md."""
    dask = _dask_available()
    if dask is None:
        raise RuntimeError("docs/ops.md lists the Dask backend's ops: install dask (pip install -e '.[test]')")
    registry = all_ops()
    lines = [HEADER]
    for title, path, rows in _families():
        lines += [f"## {title}", "", f"`{path}`", "", "| op | signature | gradient | engines | what it computes |",
                  "|---|---|---|---|---|"]
        for qualname, fn, name in rows:
            opdef = registry.get(name)
            opdef = opdef if opdef is not None and not opdef.internal else None
            lines.append(f"| `{name}` | `{_cell(_signature(qualname, fn))}` | {_cell(_gradient(opdef))} | "
                         f"{_engines(opdef, dask)} | {_cell(_summary(fn))} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revgraph.opdocs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/ops.md is up to date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python -m revgraph.opdocs", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
