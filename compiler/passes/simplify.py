"""Algebraic simplification, written as declarative rules.

Each rule is a row of ``RULES``: the op it looks at, a name (what ``step.stats`` reports)
and a small matcher ``(rw, nid, operands) -> node or None`` returning the node that computes
the same value more cheaply (an operand, a new node, or ``nid`` itself edited in place).
A replacement is taken only when it has the node's declared shape and dtype, so a rule can
never change what the program returns -- ``x * ones((3,))`` with ``x`` of shape ``()``
broadcasts, and stays.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np

from ...ir.registry import get
from ...ir.shapes import is_static
from .rewrite import Rewriter

Matcher = Callable[[Rewriter, int, list], Optional[int]]


class Rule(NamedTuple):
    op: str
    name: str
    match: Matcher
    splits_layer: bool = False  # rewrites a textbook layer op into parts: only where layers need not stay whole
    # drops the per-edge gradients the adjoint book records (what pictures and explain pages show on each edge):
    # likewise only in programs nobody draws (the fused value_and_grad program)
    merges_edges: bool = False


# -- matchers ---------------------------------------------------------------------------------
def drop_constant(value: float, slots: tuple) -> Matcher:
    """``x op c`` -> ``x`` when the constant ``c`` in one of ``slots`` is all ``value``."""

    def match(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
        for slot in slots:
            c = rw.constant_value(ops[slot])
            if c is None:
                continue
            # A Python scalar (most constants, e.g. `x * 0.99`) compares directly: np.all costs microseconds.
            if not (c == value if isinstance(c, (bool, int, float, complex)) else np.all(np.asarray(c) == value)):
                continue
            x = ops[1 - slot]
            if rw.same_type(x, nid) and is_static(rw.N[ops[slot]]["shape"]):
                return x
        return None

    return match


def _wrapped(rw: Rewriter, ops: list, op: str) -> Optional[tuple[int, int]]:
    """``(inner, x)`` when the first operand is ``inner = op(x)``, else None."""
    inner = ops[0]
    return (inner, rw.operands(inner)[0]) if rw.N[inner]["op"] == op else None


def unwrap_twice(op: str) -> Matcher:
    """``op(op(x))`` -> ``x`` for an involution (negation)."""

    def match(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
        found = _wrapped(rw, ops, op)
        return None if found is None else found[1]

    return match


def transpose_of_transpose(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    found = _wrapped(rw, ops, "transpose")
    if found is None:
        return None
    inner, x = found
    a1, a2 = rw.N[inner]["attrs"]["axes"], rw.N[nid]["attrs"]["axes"]
    axes = tuple(a1[a] for a in a2)
    if axes == tuple(range(len(axes))):
        return x
    return _edit(rw, nid, x, {"axes": axes})


def reshape_of_reshape(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    found = _wrapped(rw, ops, "reshape")
    return None if found is None else _edit(rw, nid, found[1], rw.N[nid]["attrs"])


def same_shape(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """A reshape (or sum_to_like) whose operand already has the result's static shape is a no-op."""
    x = ops[0]
    if is_static(rw.N[nid]["shape"]) and rw.same_type(x, nid):
        return x
    return None


def sum_of_broadcast(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """``sum(broadcast_to(x, S), axes)`` summing exactly the broadcast axes -> ``x * n``."""
    found = _wrapped(rw, ops, "broadcast_to")
    if found is None:
        return None
    inner, x = found
    xs, big = rw.N[x]["shape"], rw.N[inner]["shape"]
    out = rw.N[nid]["shape"]
    axis = rw.N[nid]["attrs"]["axis"]
    axes = range(len(big)) if axis is None else axis
    aligned = (1,) * (len(big) - len(xs)) + tuple(xs)
    if xs != out or not is_static(xs) or any(aligned[a] != 1 for a in axes):
        return None
    n = int(np.prod([big[a] for a in axes], dtype=np.int64))
    if n == 1:
        return x
    scale = rw.add_constant(nid, np.asarray(n, dtype=rw.N[x]["dtype"]))
    return rw.add_node(nid, "mul", [x, scale], {})


def _consumer(rw: Rewriter, x: int, op: str, axis: int) -> Optional[int]:
    """A node computing ``op(x, axis=axis)``, if there is one."""
    for c in rw.G._succ[x]:
        d = rw.N[c]
        if d["op"] == op and d["attrs"].get("axis") == axis:
            return c
    return None


def cross_entropy_via_log_softmax(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """``softmax_cross_entropy(x, t)`` when ``softmax(x)`` is computed too (its gradient) ->
    ``nll(log_softmax(x), t)``, so that the softmax can read the same log-probabilities (next rule)
    instead of exponentiating the logits a second time."""
    x, t = ops
    last = len(rw.N[x]["shape"]) - 1
    if _consumer(rw, x, "softmax", last) is None:
        return None
    logp = _consumer(rw, x, "log_softmax", last)
    if logp is None:
        logp = rw.add_node(nid, "log_softmax", [x], {"axis": last})
    return rw.add_node(nid, "nll", [logp, t], {})


def softmax_via_log_softmax(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """``softmax(x)`` when ``log_softmax(x)`` is computed anyway -> ``exp(log_softmax(x))``."""
    logp = _consumer(rw, ops[0], "log_softmax", rw.N[nid]["attrs"]["axis"])
    return None if logp is None else rw.add_node(nid, "exp", [logp], {})


def _slice_on_one_axis(index: tuple, shape: tuple) -> Optional[tuple[int, int, int]]:
    """``(axis, start, stop)`` when ``index`` is full slices but one unit-step slice (shape static there)."""
    if len(index) > len(shape) or not all(isinstance(i, slice) for i in index):
        return None
    cut = [a for a, i in enumerate(index) if i != slice(None)]
    if len(cut) != 1 or shape[cut[0]] is None:
        return None
    start, stop, step = index[cut[0]].indices(shape[cut[0]])
    return (cut[0], start, stop) if step == 1 and stop > start else None


def slice_grads_to_concatenate(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """``getitem_grad(g1, x, [:, a:b]) + getitem_grad(g2, x, [:, b:c]) + ...`` whose slices tile one axis of x
    -> ``concatenate([g1, g2, ...], axis)``: the gradient of the parts of an array (an LSTM's four gates
    cut from one product) in one copy, instead of a zero array per part and the sums of them."""
    if len(ops) < 2 or len(set(ops)) != len(ops):
        return None
    parts, x = [], None
    for o in ops:
        d = rw.N[o]
        if d["op"] != "getitem_grad":
            return None
        g, base = rw.operands(o)
        shape = rw.N[base]["shape"]
        cut = _slice_on_one_axis(d["attrs"]["index"], shape)
        if cut is None or (x is not None and (base != x or cut[0] != parts[0][0])):
            return None
        x = base
        part = tuple(cut[2] - cut[1] if a == cut[0] else n for a, n in enumerate(shape))
        if rw.N[g]["shape"] != part or rw.N[g]["dtype"] != rw.N[nid]["dtype"]:
            return None  # a broadcast or cast part: leave it to getitem_grad
        parts.append((cut[0], cut[1], cut[2], g))
    parts.sort(key=lambda p: p[1])
    axis = parts[0][0]
    edges = [p[1] for p in parts] + [parts[-1][2]]
    if edges[0] != 0 or edges[-1] != rw.N[x]["shape"][axis] or any(p[2] != q[1] for p, q in zip(parts, parts[1:])):
        return None
    return rw.add_node(nid, "concatenate", [p[3] for p in parts], {"axis": axis})


def mask_before_max_pool_grad(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """``where(p(x), max_pool2d_grad(gy, x), 0)``, ``p`` elementwise on x and scalar constants (relu's
    gradient mask before a max pooling) -> ``max_pool2d_grad(where(p(max_pool2d(x)), gy, 0), x)``. The
    pooling gradient is nonzero only at each window's maximum, where x is the pooled value: the mask is
    the same read on the pooled values, and is applied to the (smaller) output gradient. Then nothing but
    the pooling gradient reads x afterwards, which may be computed over x's own buffer (the memory plan)."""
    cond, pooled_grad, zero = ops
    G = rw.G
    if rw.N[pooled_grad]["op"] != "max_pool2d_grad" or len(G._succ[pooled_grad]) != 1 or pooled_grad in rw.roots:
        return None  # (read elsewhere too: it would be computed twice)
    z = rw.constant_value(zero)
    if z is None or rw.N[zero]["shape"] != () or z != 0:
        return None
    gy, x = rw.operands(pooled_grad)
    c = rw.N[cond]
    args, cond_op = rw.operands(cond), get(c["op"])
    if (not cond_op.elementwise or cond_op.random or c["shape"] != rw.N[x]["shape"] or args.count(x) != 1
            or any(a != x and (rw.constant_value(a) is None or rw.N[a]["shape"] != ()) for a in args)):
        return None
    window = rw.N[pooled_grad]["attrs"]
    pooled = next((p for p in G._succ[x] if rw.N[p]["op"] == "max_pool2d" and rw.N[p]["attrs"] == window), None)
    if pooled is None:
        pooled = rw.add_node(nid, "max_pool2d", [x], window)
    mask = rw.add_node(nid, c["op"], [pooled if a == x else a for a in args], c["attrs"])
    return rw.add_node(nid, "max_pool2d_grad", [rw.add_node(nid, "where", [mask, gy, zero], {}), x], window)
def _factors(rw: Rewriter, term: int, reader: int) -> Optional[list[int]]:
    """The factors of ``term`` when it is a product read by ``reader`` alone (one operand may itself be
    such a product: ``(g * a) * c`` gives ``[g, a, c]``), else None."""
    G = rw.G
    if rw.N[term]["op"] != "mul" or list(G._succ[term]) != [reader]:
        return None
    factors = []
    for o in rw.operands(term):
        nested = rw.N[o]["op"] == "mul" and list(G._succ[o]) == [term]
        factors.extend(rw.operands(o) if nested else [o])
    return factors if len(set(factors)) == len(factors) else None


def common_factor(rw: Rewriter, nid: int, ops: list) -> Optional[int]:
    """In the adjoint graph, ``g * b + (g * a) * c`` -> ``g * (b + a * c)``: the sum of two products
    with a factor ``g`` of the result's shape and dtype in common (what the adjoint pass emits for a
    value read twice, ``h * b`` and ``f(h) * a``) costs one array op less, and every op of the new form
    writes into a dying operand. Products read by other nodes stay (nothing would be saved). Floating
    point: distributing reorders the arithmetic, so gradients may move in the last bits; the rule is
    limited to gradients (the forward program computes what the user wrote) of float dtype, and to the
    fused program (the two products are the per-edge gradients a step's pictures show)."""
    if len(ops) != 2 or ops[0] == ops[1] or not rw.N[nid]["adjoint"] or rw.N[nid]["dtype"].kind not in "fc":
        return None
    terms = [_factors(rw, o, nid) for o in ops]
    if terms[0] is None or terms[1] is None:
        return None
    dtype = rw.N[nid]["dtype"]
    if any(rw.N[f]["dtype"] != dtype for t in terms for f in t if not rw.N[f].get("weak")):
        return None
    common = [f for f in terms[0] if f in terms[1] and rw.same_type(f, nid) and rw.N[f]["op"] != "constant"]
    if not common:
        return None
    g = common[0]
    rests = []
    for t in terms:
        rest = [f for f in t if f != g]
        if not rest:
            return None  # g itself is a term: g * (1 + ...) would add an op
        r = rest[0]
        for f in rest[1:]:
            r = rw.add_node(nid, "mul", [r, f], {})
        rests.append(r)
    total = rw.add_node(nid, "add", rests, {})
    return rw.add_node(nid, "mul", [g, total], {})


def _edit(rw: Rewriter, nid: int, operand: int, attrs: dict) -> Optional[int]:
    """Point ``nid`` at ``operand`` with ``attrs`` when the rules give the same shape and dtype."""
    d = rw.N[nid]
    new_attrs, shape, dtype = rw.infer(d["op"], [operand], attrs)
    if tuple(shape) != d["shape"] or dtype != d["dtype"]:
        return None
    rw.set_operand(nid, 0, operand)
    d["attrs"] = new_attrs
    return nid


RULES: list[Rule] = [
    Rule("mul", "x*1", drop_constant(1, (0, 1))),  # also the multiplication by a seed of ones
    Rule("add", "x+0", drop_constant(0, (0, 1))),
    Rule("accumulate", "x+0", lambda rw, nid, ops: drop_constant(0, (0, 1))(rw, nid, ops) if len(ops) == 2 else None),
    Rule("sub", "x-0", drop_constant(0, (1,))),
    Rule("div", "x/1", drop_constant(1, (1,))),
    Rule("pow", "x**1", drop_constant(1, (1,))),
    Rule("neg", "-(-x)", unwrap_twice("neg")),
    Rule("transpose", "transpose of transpose", transpose_of_transpose),
    Rule("reshape", "reshape of reshape", reshape_of_reshape),
    Rule("reshape", "reshape to its own shape", same_shape),
    Rule("sum_to_like", "sum_to_like to its own shape", same_shape),
    Rule("sum", "sum of a broadcast", sum_of_broadcast),
    Rule("softmax_cross_entropy", "cross-entropy from shared log-probabilities", cross_entropy_via_log_softmax,
         splits_layer=True),
    Rule("softmax", "softmax from shared log-probabilities", softmax_via_log_softmax),
    Rule("accumulate", "slice gradients joined by concatenate", slice_grads_to_concatenate),
    Rule("where", "mask moved before max pooling's gradient", mask_before_max_pool_grad),
    Rule("accumulate", "common factor of two products", common_factor, merges_edges=True),
    Rule("add", "common factor of two products", common_factor, merges_edges=True),
]

_BY_OP: dict[str, list[Rule]] = {}
for _rule in RULES:
    _BY_OP.setdefault(_rule.op, []).append(_rule)


def simplify(rw: Rewriter) -> None:
    """Apply the rules in execution order (so a rewritten operand is seen by its consumers)."""
    G = rw.G
    for nid in rw.order():
        for rule in _BY_OP.get(G._node[nid]["op"], ()):
            if nid not in G:
                break
            if (rule.splits_layer or rule.merges_edges) and rw.keep_layers:
                continue
            target = rule.match(rw, nid, rw.operands(nid))
            if target is None:
                continue
            if target == nid:
                rw.note(rule.name)
            elif rw.same_type(target, nid):
                rw.replace(nid, target, rule.name)
                break
