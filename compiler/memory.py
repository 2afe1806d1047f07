"""Memory planning over a scheduled program: liveness, in-place reuse, and which forward
values the backward program keeps (residuals) or recomputes.

* **Liveness.** A value dies at the last body op that reads it; the generated code drops it
  right there (``frees``), so an intermediate lives only as long as it is needed. Results live
  to the end. The backward program takes its arguments *boxed* (one list it empties), so a
  residual is freed at its last use rather than when the caller lets go.
* **In place.** An elementwise op may write its result into the buffer of an operand that dies
  at that op (``out=``) when that buffer is a fresh array this program made (never a feed, a
  constant, or a view: ``reshape``/``transpose``/``broadcast_to``/``getitem`` results share
  memory), shapes are static and equal, dtypes equal, and no view of the buffer is read later.
* **Reuse.** An op whose result would be a new array of at least ``REUSE_MIN_BYTES`` (a matrix
  product, an elementwise op with no dying operand) may instead write into the buffer of a value
  that died earlier -- same static shape and dtype, a fresh array this program made, nothing
  sharing it read later. The value holding that buffer is then dropped after that op instead of
  at its last use. Kept only when the planned peak does not grow. It spares the allocation (page
  faults and zeroing of fresh memory), as XLA's buffer assignment does.
* **Residuals.** A cheap elementwise forward value whose operands the backward has anyway (inputs,
  constants, other residuals) is recomputed in the backward program instead of being saved: it
  then costs no memory between forward and backward, and is rebuilt just before its first use.
  This is the greedy special case of AOTAutograd's min-cut partition (the cut never grows).

The plan is backend-neutral: it names nodes, not kernels. A backend with no in-place kernel for
an op simply ignores that entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..ir import registry
from ..ir.graph import Graph
from ..ir.shapes import is_static, size
from .plan import Plan, Program

# Values smaller than this are not dropped early: the memory is negligible, and on long programs
# of small arrays the ``del`` lines would be a third of the code CPython has to compile.
FREE_MIN_BYTES = 1024

# What the planner knows of an op comes from its registry entry (OpDef: elementwise, fresh,
# recomputable, inplace_slot) and, for writing into a given buffer, from the backend (``writes_into``).
# The smallest buffer worth taking over from a dead value (below, allocation is cheap and ``out=`` only
# adds a keyword to compile).
REUSE_MIN_BYTES = 64 << 10

WritesInto = Callable[[str], bool]  # op name -> the backend can write its result into a given buffer


def never(op: str) -> bool:
    """The ``writes_into`` of a backend that declares no in-place forms."""
    return False


def fresh_values(graph: Graph, operands_of: dict[int, list[int]]) -> set[int]:
    """The body nodes whose value is a new array, by their op's ``fresh`` fact (OpDef): the only
    buffers a program owns. Anything else may be (a view of) a feed, a constant or an operand."""
    G = graph.nx
    return {nid for nid, operands in operands_of.items()
            if registry.get(G._node[nid]["op"]).returns_fresh(len(operands), G._node[nid]["attrs"])}


@dataclass
class ProgramMemory:
    """The memory plan of one program."""

    frees: dict[int, list[int]] = field(default_factory=dict)   # body node -> values dropped after it
    inplace: dict[int, int] = field(default_factory=dict)       # body node -> node whose buffer it writes
    reused: dict[int, int] = field(default_factory=dict)        # body node -> dead value whose buffer it takes
    peak_bytes: Optional[int] = None                            # planned peak of the values this program holds
    # Results whose buffer is a fresh array of this program's, shared with no other result: handed to a
    # program that owns them (a step's residuals, boxed), that program may overwrite them.
    exclusive: set[int] = field(default_factory=set)
    unknown_sizes: int = 0                                      # values whose size is fixed only at run time
    # Each body node's operands in slot order: read here anyway, and kept for the backend's code generator.
    operands: dict[int, list[int]] = field(default_factory=dict, repr=False)


def nbytes(graph: Graph, nid: int) -> Optional[int]:
    """Bytes of a node's value, or None when a size is fixed only at run time."""
    d = graph.nx._node[nid]  # the plain data dict: this runs for every value of every program
    n = size(d["shape"])
    return None if n is None else n * d["dtype"].itemsize


def last_uses(graph: Graph, program: Program) -> dict[int, int]:
    """Value -> index in ``program.body`` of the last op reading it (results: ``len(body)``)."""
    G = graph.nx
    last: dict[int, int] = {}
    for i, nid in enumerate(program.body):
        for u in G._pred[nid]:
            last[u] = i
    end = len(program.body)
    for r in program.results:
        last[r] = end
    return last


def plan_program(graph: Graph, program: Program, inplace: bool = True,
                 writes_into: WritesInto = never, owned_params: frozenset = frozenset()) -> ProgramMemory:
    """Liveness, frees and (when ``inplace``) in-place reuse for one scheduled program, writing
    into a buffer only for ops the backend says it can (``writes_into``). ``owned_params``: arguments
    whose buffers the program owns (a boxed program's residuals that the forward made for it alone),
    written into and reused like the arrays it computes. When ``inplace`` (optimising) and the program
    holds big values, its body may be put in a memory-aware order (``memory_order``) if that lowers the
    planned peak: ``program.body`` is then changed in place."""
    plan = _plan_in_order(graph, program, inplace, writes_into, owned_params)
    if not inplace or plan.peak_bytes is None or not _has_big_values(graph, program):
        return plan
    order = memory_order(graph, program, plan.operands)
    if order == program.body:
        return plan
    trial = Program(program.name, program.params, order, program.results, program.boxed, program.fed,
                    program.epilogue, program.returns)
    other = _plan_in_order(graph, trial, inplace, writes_into, owned_params)
    if other.peak_bytes is not None and other.peak_bytes < plan.peak_bytes:
        program.body[:] = order
        return other
    return plan


def _has_big_values(graph: Graph, program: Program) -> bool:
    """Whether two or more values are worth ordering the program around (``REUSE_MIN_BYTES`` or more)."""
    big = 0
    for v in program.body:
        big += (nbytes(graph, v) or 0) >= REUSE_MIN_BYTES
        if big > 1:
            return True
    return False


def memory_order(graph: Graph, program: Program, operands_of: dict[int, list[int]]) -> list[int]:
    """The body in a dependency order that keeps fewer bytes alive: list scheduling that runs, of the
    ops ready, the one adding the fewest bytes -- its new array's, less the buffers it is the last to read
    (a view reads its operand's buffer, so a buffer dies with the last reader of any view of it). Ties
    keep the given order. Greedy, so the planner keeps it only when the planned peak is lower."""
    import heapq

    G = graph.nx
    body = program.body
    position = {n: i for i, n in enumerate(body)}
    fresh = fresh_values(graph, operands_of)
    pinned: set[int] = set()  # buffers alive to the end anyway: results', and arguments the caller holds
    buffers: dict[int, frozenset] = {}
    size: dict[int, int] = {}
    for p in program.params:
        buffers[p] = frozenset((p,))
        size[p] = 0 if G._node[p]["op"] == "input" else (nbytes(graph, p) or 0)
        if not program.boxed:
            pinned.add(p)
    for n in body:
        if n in fresh:
            buffers[n], size[n] = frozenset((n,)), nbytes(graph, n) or 0
        else:  # may be a view of its operands' buffers
            buffers[n] = frozenset().union(*(buffers.get(o, frozenset()) for o in operands_of[n]))
    for r in program.results:
        pinned.update(buffers.get(r, ()))
    reads: dict[int, frozenset] = {n: frozenset().union(*(buffers.get(o, frozenset()) for o in operands_of[n]))
                                   - pinned for n in body}
    readers: dict[int, set[int]] = {}
    for n in body:
        for b in reads[n]:
            readers.setdefault(b, set()).add(n)

    def added(n: int) -> int:
        return (size[n] if n in fresh else 0) - sum(size[b] for b in reads[n] if len(readers[b]) == 1)

    waiting = {n: len({o for o in operands_of[n] if o in position}) for n in body}
    key = {n: (added(n), position[n]) for n in body if waiting[n] == 0}
    ready = [(k, n) for n, k in key.items()]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        k, n = heapq.heappop(ready)
        if key.get(n) != k:
            continue  # a stale entry: n was pushed again with a better key
        del key[n]
        order.append(n)
        for b in reads[n]:
            rest = readers[b]
            rest.discard(n)
            if len(rest) == 1:  # its last reader now frees it: that one may move up
                (last,) = rest
                if last in key:
                    key[last] = (added(last), position[last])
                    heapq.heappush(ready, (key[last], last))
        for c in G._succ[n]:
            if c in waiting:
                waiting[c] -= 1
                if waiting[c] == 0:
                    key[c] = (added(c), position[c])
                    heapq.heappush(ready, (key[c], c))
    return order if len(order) == len(body) else list(body)


def _plan_in_order(graph: Graph, program: Program, inplace: bool, writes_into: WritesInto,
                   owned_params: frozenset) -> ProgramMemory:
    last = last_uses(graph, program)
    # Which buffers each value may share memory with (itself, or its operands' for views).
    bases: dict[int, frozenset] = {p: frozenset((p,)) for p in program.params}
    readers_of_base: dict[int, int] = {}  # buffer -> last index any value sharing it is read
    plan = ProgramMemory()
    operands_of = {nid: graph.operands(nid) for nid in program.body}  # read twice here and in _simulate
    owned = fresh_values(graph, operands_of)  # the buffers this program may overwrite
    if program.boxed:  # (an unboxed program's caller still holds its arguments)
        for p in owned_params.intersection(program.params):
            owned.add(p)
            readers_of_base[p] = last.get(p, -1)
    for i, nid in enumerate(program.body):
        operands = operands_of[nid]
        if nid in owned:
            bases[nid] = frozenset((nid,))
        else:
            bases[nid] = frozenset((nid,)).union(*(bases.get(o, frozenset((o,))) for o in operands))
        for b in bases[nid]:
            readers_of_base[b] = max(readers_of_base.get(b, -1), last.get(nid, i))
        target = _reusable_operand(graph, nid, operands, i, last, bases, readers_of_base, owned,
                                   writes_into) if inplace else None
        if target is not None:
            plan.inplace[nid] = target
            bases[nid] = bases[target]  # the result *is* that buffer now
            for b in bases[nid]:
                readers_of_base[b] = max(readers_of_base.get(b, -1), last.get(nid, i))
    plan.operands = operands_of
    plan.exclusive = _exclusive_results(program, bases, owned)
    plan.frees = _frees(graph, program, last, {})
    plan.peak_bytes, plan.unknown_sizes = _simulate(graph, program, plan, operands_of, owned)
    if inplace:
        _reuse_dead_buffers(graph, program, plan, last, bases, readers_of_base, owned, writes_into)
    return plan


def _exclusive_results(program: Program, bases: dict, owned: set[int]) -> set[int]:
    """The results whose buffer is one fresh array of this program, shared with no other result (nor
    returned twice): whoever receives one of them alone may write into it."""
    sharing: dict[int, int] = {}
    for r in program.results:
        for b in bases.get(r, (r,)):
            sharing[b] = sharing.get(b, 0) + 1
    params = set(program.params)
    return {r for r in program.results if r not in params and len(bases.get(r, ())) == 1
            and next(iter(bases[r])) in owned and sharing[next(iter(bases[r]))] == 1}


def _frees(graph: Graph, program: Program, last: dict, held: dict[int, int]) -> dict[int, list[int]]:
    """Body node -> values dropped right after it: each at its last use, or where ``held`` says
    (a value kept until an op that takes over its buffer)."""
    results = set(program.results)
    position = {n: i for i, n in enumerate(program.body)}
    dead_after: dict[int, list[int]] = {}
    # Arguments are freed early only when the program owns them (boxed): otherwise the caller holds them
    # anyway, and a ``del`` would be a line that frees nothing.
    for v in (list(program.params) if program.boxed else []) + list(program.body):
        b = nbytes(graph, v)
        if v in results or (b is not None and b < FREE_MIN_BYTES):
            continue  # too small to be worth a line of code (and its compile time): it lives to the return
        at = held.get(v, last.get(v))
        if at is None:  # never read: drop right after it is made (params: after the first op)
            if not program.body:
                continue
            at = position.get(v, 0)
        dead_after.setdefault(program.body[at], []).append(v)
    return dead_after


def _reuse_dead_buffers(graph: Graph, program: Program, plan: ProgramMemory, last: dict, bases: dict,
                        readers_of_base: dict, owned: set[int], writes_into: WritesInto) -> None:
    """Let new results take over buffers of values that died earlier (see the module docstring).

    A buffer is known by the value that allocated it; it is dead after the last op reading anything
    that shares it. Its *holder* is the last value written into it in place (or the allocating value
    itself), never a view: the variable kept alive until the op that takes the buffer over."""
    G = graph.nx
    body = program.body

    def big_fresh(nid: int) -> bool:  # a new array this program allocates, worth reusing
        d = G._node[nid]
        return (nid in owned and len(bases[nid]) == 1 and d["shape"] != () and is_static(d["shape"])
                and (nbytes(graph, nid) or 0) >= REUSE_MIN_BYTES and nid in bases[nid])

    params = [p for p in program.params if p in owned]  # residuals handed over to this program alone
    big = [nid for nid in params + body if big_fresh(nid)]
    if not big:
        return
    holder = {b: b for b in big}  # then the last in-place result into each, in program order
    for nid in plan.inplace:
        (b,) = bases[nid] if len(bases[nid]) == 1 else (None,)
        if b in holder:
            holder[b] = nid
    free_after: dict[int, list[int]] = {}  # index -> buffers dead once the op at that index ran
    for nid in big:
        death = readers_of_base.get(nid, len(body))
        if death < len(body):  # (a result lives on)
            free_after.setdefault(death, []).append(nid)
    pool: dict[tuple, list[int]] = {}  # (shape, dtype) -> dead buffers
    held: dict[int, int] = {}  # holder -> index of the op that takes its buffer over
    for j, nid in enumerate(body):
        d = G._node[nid]
        dead = pool.get((d["shape"], d["dtype"]))
        # Any new array may be computed into a dead buffer instead, if the backend can write it there.
        if dead and nid in owned and nid in holder and writes_into(d["op"]):
            h = holder[dead.pop()]
            plan.inplace[nid] = plan.reused[nid] = h
            held[h] = j
        for b in free_after.get(j, ()):
            pool.setdefault((G._node[b]["shape"], G._node[b]["dtype"]), []).append(b)
    if not plan.reused:
        return
    frees, before = plan.frees, plan.peak_bytes
    plan.frees = _frees(graph, program, last, held)
    peak, _ = _simulate(graph, program, plan, plan.operands, owned)
    if before is not None and peak is not None and peak > before:  # holding the buffers cost more than it saved
        for nid in plan.reused:
            del plan.inplace[nid]
        plan.reused, plan.frees = {}, frees
    else:
        plan.peak_bytes = peak


def _reusable_operand(graph: Graph, nid: int, operands: list[int], i: int, last: dict, bases: dict,
                      readers_of_base: dict, owned: set[int], writes_into: WritesInto) -> Optional[int]:
    """An operand whose buffer ``nid`` (of an elementwise op the backend can write in place, or of an op
    declaring the operand it can be computed over) may overwrite: the operand dies here, its buffer is a
    fresh array this program made (possibly already reused in place) or a ``view`` of such buffers (a
    reshape of a product), nothing sharing them is read later (nor by another operand of this op), and
    shape (static) and dtype equal the result's."""
    G = graph.nx
    d = G._node[nid]
    if not d["shape"] or not is_static(d["shape"]) or not writes_into(d["op"]):
        return None
    opdef = registry.get(d["op"])
    read, shared = operands, None
    if opdef.elementwise:
        slot = opdef.inplace_slot
        if slot is not None and slot < len(operands):  # try that operand first
            operands = [operands[slot]] + operands[:slot] + operands[slot + 1:]
    else:  # only the operand the kernel can compute the result over, if any
        slot = opdef.overwritten_operand(d["attrs"])
        if slot is None or slot >= len(operands):
            return None
        operands = [operands[slot]]
    for o in operands:
        od, base = G._node[o], bases.get(o, frozenset())
        if not base or od["shape"] != d["shape"] or od["dtype"] != d["dtype"] or last.get(o) != i:
            continue
        if shared is None:  # buffer -> how many distinct operands of this op read it
            shared = {}
            for p in set(read):
                for pb in bases.get(p, (p,)):
                    shared[pb] = shared.get(pb, 0) + 1
        if any(shared[b] > 1 for b in base):
            continue  # the op reads that buffer through another operand too (m and m.T): a kernel may not write it
        if all(readers_of_base.get(b, -1) <= i and (b in owned or _is_view(G._node[b]["op"])) for b in base) \
                and any(b in owned for b in base):
            return o
    return None


def _is_view(op: str) -> bool:
    opdef = registry.lookup(op)  # (None for inputs and constants)
    return opdef is not None and opdef.view


def _simulate(graph: Graph, program: Program, plan: ProgramMemory,
              operands_of: dict[int, list[int]], owned: set[int]) -> tuple[Optional[int], int]:
    """Walk the program counting the bytes of live *buffers* it owns (residual arguments and the
    arrays it computes; fed inputs are the caller's). A view (reshape, transpose, ...) owns no
    buffer but keeps its operand's alive; an in-place result reuses its operand's. A buffer is
    released when the last value sharing it is dropped. Returns (peak, values of unknown size)."""
    G = graph.nx
    unknown = 0
    held = 0
    size_of: dict[int, int] = {}    # buffer -> bytes
    refs: dict[int, int] = {}       # buffer -> live values sharing it
    shares: dict[int, tuple] = {}   # value -> buffers it keeps alive

    def own(v: int, nbytes_: int) -> None:
        nonlocal held
        size_of[v], refs[v], shares[v] = nbytes_, 1, (v,)
        held += nbytes_

    for p in program.params:
        b = 0 if G._node[p]["op"] == "input" else nbytes(graph, p)
        unknown += b is None
        own(p, b or 0)
    peak = held
    for nid in program.body:
        operands = operands_of[nid]
        if nid in plan.inplace:
            shares[nid] = shares[plan.inplace[nid]]
        elif nid in owned:
            b = nbytes(graph, nid)
            unknown += b is None
            own(nid, b or 0)
        else:  # may be a view of its operands: keeps theirs alive (and is counted as new if it copies)
            shares[nid] = tuple(sorted({b for o in operands for b in shares.get(o, ())}))
        if nid not in size_of:
            for b in shares[nid]:
                refs[b] += 1
        peak = max(peak, held)
        for v in plan.frees.get(nid, ()):
            for b in shares.get(v, ()):
                refs[b] -= 1
                if refs[b] == 0:
                    held -= size_of[b]
    return peak, unknown


# -- the residual set ------------------------------------------------------------------------
def choose_residuals(graph: Graph, residuals: list[int], keep: set[int]) -> tuple[list[int], list[int]]:
    """Split ``residuals`` into (kept, recomputed): a cheap elementwise value, or a ``view`` (a reshape
    of a kept residual: the same buffer, passed twice), whose operands the backward has anyway (kept
    residuals, inputs, constants) is rebuilt there instead of saved.
    Inputs it reads become residuals (they are the caller's arrays: no memory). ``keep`` must stay
    residuals (values returned as gradients). Creation order, so chains of cheap ops collapse."""
    G = graph.nx
    kept = set(residuals)
    pinned: set[int] = set()  # operands of recomputed values: they must stay available
    recomputed: list[int] = []
    for r in sorted(residuals):
        op = G._node[r]["op"]
        opdef = registry.lookup(op)
        if r in keep or r in pinned or opdef is None or not (opdef.recomputable or opdef.view):
            continue
        ops = graph.operands(r)
        if all(o in kept or G._node[o]["op"] in ("input", "constant") for o in ops):
            kept.discard(r)
            recomputed.append(r)
            pinned.update(ops)
    inputs = {o for o in pinned if G._node[o]["op"] == "input"}
    return sorted(kept | inputs), recomputed


def place_late(graph: Graph, order: list[int], late: set[int]) -> list[int]:
    """``order`` with each node of ``late`` moved to just before its first consumer (so a
    recomputed value is not held from the start of the backward program)."""
    if not late:
        return order
    G = graph.nx
    rest = [n for n in order if n not in late]
    position = {n: i for i, n in enumerate(rest)}
    target: dict[int, int] = {}
    for n in reversed(order):  # consumers first, so a late consumer's target is known
        if n in late:
            spots = [position[c] if c in position else target.get(c, len(rest)) for c in G._succ[n]
                     if c in position or c in target]
            target[n] = min(spots, default=len(rest))
    before: dict[int, list[int]] = {}
    for n in order:  # in order: a late operand lands before its late consumer
        if n in late:
            before.setdefault(target[n], []).append(n)
    out: list[int] = []
    for i, n in enumerate(rest):
        out.extend(before.get(i, ()))
        out.append(n)
    return out + before.get(len(rest), [])


def report(plan: Plan) -> dict:
    """What ``step.memory_plan()`` shows: per program the planned peak bytes (of the values it
    holds: its arguments and what it computes), the values written in place (into a dying
    operand), those written into the buffer of a value that died earlier, and the values
    freed early; for a step, the residuals kept between forward and backward (with their bytes)
    and those recomputed instead. Sizes fixed only at run time count as 0 and are counted in
    ``unknown_sizes``."""
    G = plan.graph.nx
    name = lambda n: G._node[n]["name"]  # noqa: E731
    programs = {}
    for pname, mem in plan.memory.items():
        programs[pname] = {"peak_bytes": mem.peak_bytes, "unknown_sizes": mem.unknown_sizes,
                           "inplace": {name(n): name(o) for n, o in mem.inplace.items() if n not in mem.reused},
                           "reused": {name(n): name(o) for n, o in mem.reused.items()},
                           "freed_early": sum(len(v) for v in mem.frees.values())}
    out: dict = {"programs": programs, "peak_bytes": max((p["peak_bytes"] or 0 for p in programs.values()), default=0)}
    if "residuals" in plan.options:
        res = plan.options["residuals"]
        owned = [n for n in res if G._node[n]["op"] != "input"]  # inputs are the caller's arrays
        out["residuals"] = [name(n) for n in res]
        out["residual_bytes"] = sum(nbytes(plan.graph, n) or 0 for n in owned)
        out["recomputed"] = [name(n) for n in plan.options.get("recomputed", [])]
    return out
