"""Lower a Plan to plain, readable Python: one straight-line function per
program, ``v<node id>`` for every value (never a user's name), kernels inlined
from their templates, constants bound in the namespace, user names only in
escaped comments."""

from __future__ import annotations

import itertools
import linecache
import re
import sys
import types
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from ...compiler.finite import nonfinite_error
from ...compiler.plan import Lowered, Plan, Program
from ...ir.errors import GraphError
from ...ir.graph import Graph
from ...ir.registry import get as get_op
from ...ir.shapes import fmt
from . import kernels as numpy_kernels

COMMENT_COLUMN = 32
COMMENT_OPERANDS = 8  # operands named in an op's comment (an n-ary sum may have 10^5)
_PROGRAM_NUMBERS = itertools.count(1)  # each program's pseudo file name is unique (its linecache entry)


@dataclass(frozen=True)
class KernelSet:
    """How one array library writes each op: the expression of an op on named operands, its in-place
    form (None when there is none), and the namespace the generated code runs in (``xp`` and the
    helpers). NumPy's is the default; another backend (Dask) lowers with its own."""

    expression: Callable[[str, list, dict], str]
    inplace_expression: Callable[[str, list, dict, str], Optional[str]]
    namespace: Callable[[], dict]
    # Ops written as several lines, and how: statements(op, target, args, attrs, out) -> lines. By default
    # NumPy's (an n-ary sum as flat lines of ``+``, which any array library's operators run).
    multiline: frozenset = frozenset(numpy_kernels.STATEMENTS)
    statements: Callable[..., list] = numpy_kernels.statements
    # Ops that ``statements`` writes into a buffer as an augmented assignment (``v1 *= v2``; two lines).
    augmented: frozenset = frozenset(numpy_kernels.AUGMENTED)


NUMPY_KERNELS = KernelSet(numpy_kernels.expression, numpy_kernels.inplace_expression, numpy_kernels.namespace)


def lower(plan: Plan, kernels: KernelSet = NUMPY_KERNELS) -> Lowered:
    """Generate, compile and return the functions of ``plan``, written with ``kernels``."""
    graph = plan.graph
    ns = kernels.namespace()
    constants = sorted({c for name in plan.programs for c in plan.constants_of(name)})
    returned = {r for p in plan.programs.values() for r in (p.results if p.returns is None else p.returns)}
    for c in constants:
        ns[var(c)] = _bound_constant(graph, c, c in returned)
    functions, sources, line_map = {}, [], {}
    header = _constants_header(graph, constants)
    check = bool(plan.options.get("check_finite"))
    if check:
        ns["_finite"] = _finite_checker(graph)
    for name, program in plan.programs.items():
        lines, lines_nodes, parts = _function(graph, program, plan.memory.get(name), check, kernels)
        src = "\n".join(lines) + "\n"
        filename = f"<revgraph {name} {next(_PROGRAM_NUMBERS)}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)  # tracebacks show the code
        main = lines[:parts[0][0]] if parts else lines  # the program's own def (it calls the parts)
        exec(compile("\n".join(main) + "\n", filename, "exec"), ns)
        for first, part in parts:  # each part compiled on its own (see PART_OPS), or taken from the cache
            ns[part.name] = types.FunctionType(_part_code(part, filename, first), ns, part.name)
        functions[name] = ns[name]
        # The source stays readable for tracebacks as long as the program exists, and no longer (a process
        # compiling in a loop would otherwise keep every program's text).
        weakref.finalize(functions[name], linecache.cache.pop, filename, None)
        sources.append(src)
        line_map.update({(name, ln): nid for ln, nid in lines_nodes.items()})
    return Lowered(functions, header + "\n\n".join(sources), line_map)


# Compiled parts by their code with the value names left out (see ``_part_code``); bounded.
_PART_CODES: dict[tuple, tuple] = {}
_PART_CODES_MAX = 256
# A value's name ``v<id>`` (its digits captured) and not part of a longer identifier (``conv2d``); the
# lookbehind after the literal ``v`` keeps the regex's fast scan for that letter.
_VALUE_NAME = re.compile(r"v(?<![A-Za-z0-9_]v)([0-9]+)(?![A-Za-z0-9_])")


def _part_code(part: "_Part", filename: str, first: int) -> types.CodeType:
    """The code object of one part's function, as ``compile()`` makes it from the part's text placed at
    line ``first`` (0-based) of the program's source.

    Long programs repeat themselves (N layers of the same ops give parts that differ only in their
    value names), and CPython's compile() costs ~10 us a line, so a part whose code -- comments left
    out, every ``v<id>`` kept only as its length and its pattern of reuse -- matches one compiled
    before reuses that code object with its names substituted: the same bytecode, constants, line
    table and column positions; only the local and global names (``co_varnames``, ``co_names``) and
    the function's name, file and first line differ. Code holding a string literal is compiled as it
    is (a ``v<id>`` inside it would not be a name). tests/test_codegen_parts.py checks the result
    equals what compile() makes."""
    text = "\n".join(part.code) + "\n"
    pieces = _VALUE_NAME.split(text[4 + len(part.name):])  # (after "def <name>")
    index: dict[str, int] = {}
    pattern = tuple([index.setdefault(n, len(index)) for n in pieces[1::2]])
    key = ("v".join(pieces[0::2]), len(part.name), pattern, tuple(map(len, index)))
    literal = '"' in text or "'" in text
    cached = None if literal else _PART_CODES.get(key)
    if cached is None:
        module = compile(text, filename, "exec")
        (code,) = [c for c in module.co_consts if isinstance(c, types.CodeType)]
        if not literal and not any(isinstance(c, types.CodeType) for c in code.co_consts):  # (nested: not renamed)
            if len(_PART_CODES) >= _PART_CODES_MAX:
                _PART_CODES.clear()
            at = {f"v{i}": k for k, i in enumerate(index)}  # value name -> its place in the reuse pattern
            _PART_CODES[key] = (code, [at.get(n, -1) for n in code.co_varnames], [at.get(n, -1) for n in code.co_names])
        return _shifted(code, first)
    # This part's value names by first appearance, put where the cached code has its own (code objects
    # intern their names themselves).
    code, varnames_at, names_at = cached
    ours = ["v" + i for i in index]
    return code.replace(co_varnames=tuple([ours[k] if k >= 0 else n for k, n in zip(varnames_at, code.co_varnames)]),
                        co_names=tuple([ours[k] if k >= 0 else n for k, n in zip(names_at, code.co_names)]),
                        co_name=part.name, co_qualname=part.name, co_filename=filename,
                        co_firstlineno=first + 1)


def _shifted(code: types.CodeType, lines: int) -> types.CodeType:
    """``code`` (compiled from a slice of a program's source) with its line numbers moved down by
    ``lines``, so tracebacks, the line map and linecache agree with the whole program's source."""
    consts = tuple(_shifted(c, lines) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


def _bound_constant(graph: Graph, c: int, returned: bool) -> Any:
    """The value the generated code reads for constant ``c``. A single number is a NumPy scalar where
    scalars are computed on (see ``_as_scalars``), but one read only by elementwise ops on arrays is a
    0-d array of the dtype it computes in: NumPy takes a 0-d array operand about a third faster than a
    scalar (``x * c``: no scalar-to-array conversion per call), with the same loop and the same values.
    A Python number (weak: it takes the other operand's dtype) becomes such an array only where every
    reader computes in one float dtype the number converts to exactly, so nothing about the result can
    change."""
    G = graph.nx
    d = G._node[c]
    value = d["value"]
    scalar = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
    if returned or np.ndim(value) != 0:
        return scalar
    dtypes = set()
    for u in G._succ[c]:
        du = G._node[u]
        try:
            opdef = get_op(du["op"])
        except GraphError:
            return scalar
        if not du["shape"] or not opdef.elementwise or not opdef.returns_fresh(len(G._pred[u]), du["attrs"]):
            return scalar  # a scalar computation, or a reader whose result could be the constant itself
        dtypes.add(du["dtype"])
    if not d.get("weak"):
        return value if isinstance(value, np.ndarray) else scalar
    if len(dtypes) != 1 or type(value) not in (int, float):
        return scalar
    (dtype,) = dtypes
    if dtype.kind != "f" or any(G._node[o]["dtype"] != dtype for u in G._succ[c] for o in G._pred[u] if o != c):
        return scalar
    with np.errstate(all="ignore"):
        as_array = np.asarray(value, dtype)
    return as_array if as_array == value else scalar


def var(nid: int) -> str:
    return f"v{nid}"


def safe_text(text: Any, limit: int = 40) -> str:
    """User text made safe for a comment: escaped like repr (no newlines or control
    characters survive), and shortened."""
    text = str(text)
    # An identifier (every name the graph makes itself, like mul_12) has nothing to escape: skip repr.
    body = text if text.isidentifier() else repr(text)[1:-1]
    return body if len(body) <= limit else body[: limit - 3] + "..."


def _describe_operand(graph: Graph, nid: int) -> str:
    d = graph.nx._node[nid]
    if d["op"] == "constant" and d.get("weak"):
        return repr(d["value"])
    return safe_text(d["name"], 24)


def _attrs_comment(op: str, attrs: dict) -> str:
    """``, axis=(1,)``: the attributes that differ from the op's defaults, for the line's comment
    (plain data through repr, so nothing can leave the comment)."""
    try:
        defaults = get_op(op).attrs
    except GraphError:
        defaults = {}
    parts = []
    # In the op's declared order (a graph loaded from a file may hold its attributes in another order,
    # and identical graphs must give identical source).
    ordered = [k for k in defaults if k in attrs] + sorted(k for k in attrs if k not in defaults)
    for key in ordered:
        value = attrs[key]
        try:
            if key in defaults and bool(defaults[key] == value):
                continue
        except Exception:  # an array-valued attribute compared elementwise: show it
            pass
        parts.append(f"{key}={safe_text(repr(value), 40)}")
    return "".join(f", {p}" for p in parts)


def _function(graph: Graph, program: Program, memory: Any = None, check: bool = False,
              kernels: KernelSet = NUMPY_KERNELS) -> tuple[list[str], dict[int, int], list[tuple[int, "_Part"]]]:
    """One function: parameters (or a boxed argument list it empties), one line per op,
    ``del`` lines dropping each value after its last use (from the memory plan), and with
    ``check`` a finiteness check after each float result. A program of more than ``PART_OPS``
    ops is written as parts (see ``_parts``) that the function calls in order."""
    G = graph.nx
    params = ", ".join(var(p) for p in program.params)
    if program.boxed:  # the caller hands over its references: each value can be freed at its last use
        lines = [f"def {program.name}(args):"] + ([f"    ({params},) = args"] if params else []) + ["    args.clear()"]
    else:
        lines = [f"def {program.name}({params}):"]
    for p in program.params:
        d = G._node[p]
        lines.append(f"    # {var(p)}: {safe_text(d['name'])} {fmt(d['shape'])} {d['dtype']}")
    fed = program.params if program.fed < 0 else program.params[:program.fed]  # the rest were made by our code
    lines += _as_scalars([p for p in fed if G._node[p]["shape"] == ()])
    inplace = memory.inplace if memory is not None else {}
    frees = memory.frees if memory is not None else {}
    lines += [_finite_line(G, p) for p in program.params if check and _is_float(G, p)]
    line_nodes: dict[int, int] = {}
    write = _OpWriter(graph, inplace, check, memory.operands if memory is not None else {}, kernels)
    returned = program.results if program.returns is None else program.returns
    results = ", ".join(var(r) for r in returned)
    ending = [*program.epilogue, f"    return ({results},)" if len(returned) == 1 else f"    return ({results})"]
    if len(program.body) <= PART_OPS:
        for nid in program.body:
            write(lines, line_nodes, nid, frees.get(nid, ()))
        lines += ending
        return lines, line_nodes, []
    parts = _parts(graph, program, frees, inplace, write, line_nodes, lines)
    lines += ending
    placed = []
    for part in parts:  # after the function, so that its line numbers stay those of the lines above
        start = len(lines) + 2
        lines += ["", ""] + part
        placed.append((start, part))
        line_nodes.update({start + ln: nid for ln, nid in part.line_nodes.items()})
    return lines, line_nodes, placed


def _as_scalars(params: list[int]) -> list[str]:
    """The line turning 0-d array arguments into NumPy scalars: same dtype, same values and the same
    ufunc loops, but an op on scalars costs a fraction of one on 0-d arrays (which NumPy turns into
    scalars after the first op anyway). Scalar graphs, like the textbook's, are all per-op overhead."""
    if not params:
        return []
    names = [var(p) for p in params]
    return [f"    {', '.join(names)} = {', '.join(n + '[()]' for n in names)}  # 0-d arrays -> NumPy scalars"]


class _OpWriter:
    """Writes the line(s) of one op: the assignment with its comment, the finiteness check, the ``del``."""

    def __init__(self, graph: Graph, inplace: dict, check: bool, operands: dict,
                 kernels: KernelSet = NUMPY_KERNELS) -> None:
        self.graph, self.G, self.inplace, self.check = graph, graph.nx, inplace, check
        self.expression, self.inplace_expression = kernels.expression, kernels.inplace_expression
        self.multiline, self.statements = kernels.multiline, kernels.statements
        self.augmented = kernels.augmented
        self.operands = operands  # node -> operand ids, as the memory planner read them (else asked of the graph)
        self.shown: dict[int, str] = {}  # operand -> how comments show it (each value is read several times)
        self.forms: dict[tuple, str] = {}  # (op, operands, out of place) -> its line as a format string

    def describe(self, o: int) -> str:
        text = self.shown[o] = _describe_operand(self.graph, o)
        return text

    def __call__(self, lines: list[str], line_nodes: dict[int, int], nid: int, dropped: Any) -> None:
        # Runs once per op of every program (10^6 times for the largest graphs): kept lean.
        G = self.G
        d = G._node[nid]
        op, attrs, name = d["op"], d["attrs"], d["name"]
        operands = self.operands.get(nid)
        if operands is None:
            operands = self.graph.operands(nid)
        out = self.inplace.get(nid)
        more: list[str] = []
        first = G._node[operands[0]] if operands else None
        weak = first is not None and first["op"] == "constant" and first.get("weak") and _all_weak(G, operands)
        augmented = out is not None and op in self.augmented  # an in-place ``v1 *= v2``: two lines
        if not attrs and not weak and op not in self.multiline and not augmented:  # the common case: a template
            form = self.forms.get((op, len(operands), out is None))
            if form is None:
                form = self._form(op, len(operands), out is None)
            code = form.format(*operands, n=nid, o=out)
        else:
            args = [f"v{o}" for o in operands]
            if weak:
                # Python numbers only (a loaded file, or optimize=False): computed as NumPy values of their
                # dtypes, as the node declares -- Python's arithmetic would raise (1 / 0), go complex
                # ((-8.0) ** (1/3)) or build a huge int for minutes (10 ** 2**62).
                args = [f"xp.asarray({a})" for a in args]
            if op in self.multiline or augmented:  # several lines (an n-ary sum): the first carries the comment
                first_line, *more = self.statements(op, f"v{nid}", args, attrs, None if out is None else f"v{out}")
                code = f"    {first_line}"
            else:
                text = self.inplace_expression(op, args, attrs, f"v{out}") if out is not None else None
                code = f"    v{nid} = {text or self.expression(op, args, attrs)}"
        shown = self.shown
        if len(operands) <= COMMENT_OPERANDS:
            what = ", ".join([shown.get(o) or self.describe(o) for o in operands])
        else:
            what = ", ".join([shown.get(o) or self.describe(o) for o in operands[:COMMENT_OPERANDS]])
            what += f", ... {len(operands) - COMMENT_OPERANDS} more"
        if attrs:
            what += _attrs_comment(op, attrs)
        label = name if len(name) <= 40 and name.isidentifier() else safe_text(name)
        lines.append(f"{code:<{COMMENT_COLUMN}}  # {label} = {op}({what})")
        line_nodes[len(lines)] = nid
        code_only = getattr(lines, "code", None)  # a part keeps its lines without comments too
        if code_only is not None:
            code_only.append(code)
        if more or dropped or self.check:
            for line in more:
                lines.append(f"    {line}")
                line_nodes[len(lines)] = nid
            if self.check and _is_float(G, nid):
                lines.append(_finite_line(G, nid))
            if dropped:
                lines.append(f"    del {', '.join(var(v) for v in dropped)}")
            if code_only is not None:
                code_only += lines[len(code_only):]

    def _form(self, op: str, n: int, out_of_place: bool) -> str:
        """The line of an op without attributes on ``n`` operands as a format string of the node id
        (``n``), the operands' ids (``0``, ``1``, ...) and the buffer written into (``o``), made once
        from the kernel's template and kept (10^6 lines reuse a handful)."""
        mark = [f"\x00{i}\x00" for i in range(n)]
        text = self.inplace_expression(op, mark, {}, "\x00o\x00") if not out_of_place else None
        line = f"    v\x00n\x00 = {text or self.expression(op, mark, {})}"
        form = line.replace("{", "{{").replace("}", "}}")
        for i in range(n):
            form = form.replace(f"\x00{i}\x00", f"v{{{i}}}")
        form = self.forms[(op, n, out_of_place)] = form.replace("\x00n\x00", "{n}").replace("\x00o\x00", "v{o}")
        return form


def _all_weak(G: Any, operands: list) -> bool:
    for o in operands:  # a plain loop with an early exit: runs for every op (the first operand decides most)
        d = G._node[o]
        if d["op"] != "constant" or not d.get("weak"):
            return False
    return True


# CPython's compile() grows faster than linearly with the size of one function (it took 17 s for
# one function of a million lines here, and about twice as long per line on a 10^5-line function as
# on 2 000-line ones), so long programs are written as parts of at most this many ops.
PART_OPS = 1000


class _Part(list):
    """The source lines of one part, with the op each line computes (line numbers within the part), its
    function's name and the same lines without their comments (``code``, what ``_part_code`` keys on)."""

    line_nodes: dict[int, int]
    name: str
    code: list[str]


def _parts(graph: Graph, program: Program, frees: dict, inplace: dict, write: _OpWriter, line_nodes: dict,
           lines: list[str]) -> list[_Part]:
    """Split the body into parts of ``PART_OPS`` consecutive ops, each a function ``<program>_<k>(args)``
    taking the values it reads from earlier parts (boxed, as the backward program takes its arguments)
    and returning those later parts or the results read. The program's function (``lines``) calls them
    in order. Memory stays as planned: a value dropped inside a part is handed over (the caller deletes
    its own reference first); one the plan drops there that the part never sees is deleted by the caller
    right after the call."""
    G = graph.nx
    body = program.body
    chunks = [body[i:i + PART_OPS] for i in range(0, len(body), PART_OPS)]
    part_of = {nid: k for k, chunk in enumerate(chunks) for nid in chunk}

    def reads(nid: int) -> Any:  # its operands, and the buffer it writes into (a dead value's, maybe)
        return G._pred[nid] if nid not in inplace else [*G._pred[nid], inplace[nid]]

    last_reader: dict[int, int] = {}  # value -> last part reading it
    for k, chunk in enumerate(chunks):
        for nid in chunk:
            for u in reads(nid):
                last_reader[u] = k
    results = set(program.results)
    parts = []
    for k, chunk in enumerate(chunks):
        takes = sorted({u for nid in chunk for u in reads(nid)
                        if part_of.get(u) != k and G._node[u]["op"] != "constant"})
        gives = [nid for nid in chunk if nid in results or last_reader.get(nid, k) > k]
        seen = set(chunk).union(takes)
        dropped_here = {nid: [v for v in frees.get(nid, ()) if v in seen] for nid in chunk}
        handed_over = [v for nid in chunk for v in dropped_here[nid] if v in takes]
        dropped_after = [v for nid in chunk for v in frees.get(nid, ()) if v not in seen]
        name = f"{program.name}_{k + 1}"
        part = _Part([f"def {name}(args):"] + ([f"    ({', '.join(map(var, takes))},) = args", "    args.clear()"]
                                               if takes else []))
        part.line_nodes, part.name, part.code = {}, name, list(part)
        for nid in chunk:
            write(part, part.line_nodes, nid, dropped_here[nid])
        part.append(f"    return ({', '.join(map(var, gives))},)" if gives else "    return None")
        part.code.append(part[-1])
        parts.append(part)
        # The call, in the program's function.
        first, last = G._node[chunk[0]]["name"], G._node[chunk[-1]]["name"]
        lines.append(f"    # part {k + 1} of {len(chunks)}: {safe_text(first, 24)} ... {safe_text(last, 24)}")
        lines.append(f"    _args = [{', '.join(map(var, takes))}]")
        if handed_over:
            lines.append(f"    del {', '.join(map(var, handed_over))}")
        call = f"{name}(_args)"
        lines.append(f"    ({', '.join(map(var, gives))},) = {call}" if gives else f"    {call}")
        if dropped_after:
            lines.append(f"    del {', '.join(map(var, dropped_after))}")
    return parts


# -- check_finite: one call after each float result, only when the plan asks --------------------
def _is_float(G: Any, nid: int) -> bool:
    return G.nodes[nid]["dtype"].kind == "f"  # bool and int values cannot be NaN or Inf


def _finite_line(G: Any, nid: int) -> str:
    return f"    _finite({var(nid)}, {nid})"


def _finite_checker(graph: Graph) -> Any:
    def _finite(value: Any, nid: int) -> None:
        if not np.all(np.isfinite(value)):
            operands = sys._getframe(1).f_locals  # the generated function's v<id> values, to say which were finite
            values = {o: operands.get(var(o)) for o in graph.operands(nid)}
            for o in values:
                if values[o] is None and graph.nx.nodes[o]["op"] == "constant":
                    values[o] = graph.nx.nodes[o]["value"]
            raise nonfinite_error(graph, nid, value, values)

    return _finite


def _constants_header(graph: Graph, constants: list[int]) -> str:
    if not constants:
        return ""
    lines = ["# constants, bound in the namespace (never written into the code):"]
    for c in constants:
        d = graph.nx.nodes[c]
        value = d["value"]
        shown = repr(value) if d.get("weak") or np.size(value) == 1 else f"array {fmt(d['shape'])}"
        lines.append(f"#   {var(c)} = {safe_text(shown, 30)}  {d['dtype']}  ({safe_text(d['name'])})")
    return "\n".join(lines) + "\n\n"
