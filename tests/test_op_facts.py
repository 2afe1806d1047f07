"""The facts passes need about each op are declared on its registry entry (OpDef: elementwise, fresh,
recomputable, inplace_slot), and they are true of its kernel. The test walks the whole registry: every
op must be exercised by the op table (or the extra cases below), and on every node of those graphs
(their gradients included) the NumPy kernel is run to check

* fresh -- the result is a new array: not an operand, sharing no memory with one;
* elementwise -- the result has the broadcast shape of the operands, and where the backend has an
  in-place form, writing into a copy of an operand of the result's shape and dtype (or into a dead
  buffer, for any fresh result) gives the same values;
* an in-place form the backend has is usable: its op is declared elementwise or fresh;
* inplace_slot names an operand of an elementwise op;
* overwrites -- the operand an op that is not elementwise declares it can be computed over: the backend's
  in-place form writing over a copy of it gives the same values;
* view -- the result is a writable view of the operand (each element once) or a new array.
"""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import kernels
from revgraph.ir import batch, registry
from revgraph.ir.ops import internal
from revgraph.ir.shapes import broadcast

from optable import OP_CASES, ZERO_GRAD_CASES, sample

# Ops the table reaches only in corners: a one-operand accumulate and a cast to the operand's own dtype
# (both return the operand itself), run-time shape ops (sizes declared None) and the rest of the internals.
EXTRA_CASES = [
    ("accumulate_one", lambda x: internal.accumulate(x), [((2, 3), "any")]),
    ("accumulate_three", lambda x, y: internal.accumulate(x, y, x * 2.0), [((2, 3), "any"), ((3,), "any")]),
    ("cast_same", lambda x: internal.cast(x, np.float64), [((2, 3), "any")]),
    ("cast_other", lambda x: internal.cast(x, np.float32), [((2, 3), "any")]),
    ("like_ops", lambda x, y: internal.sum_to_like(internal.broadcast_like(x, y), x)
     + internal.reshape_like(internal.ones_like(x) + internal.zeros_like(x), x), [((3, 1), "any"), ((2, 3, 4), "any")]),
    ("sum_to_like_same", lambda x: internal.sum_to_like(x, x), [((2, 3), "any")]),
    ("size_of", lambda x: x / internal.size_of(x, (0,)), [((2, 3), "any")]),
    ("stop_gradient", lambda x: rg.stop_gradient(x) * x, [((2, 3), "any")]),
    ("dropout", lambda x: rg.dropout(x, p=0.5), [((2, 3), "any")]),  # random: no op-table row (tests/test_dropout.py)
    ("comparisons", lambda x, y: sum(rg.where(cmp(x, y), x, y) for cmp in (rg.greater_equal, rg.less_equal, rg.equal,
                                                                         rg.not_equal, rg.greater, rg.less)),
     [((2, 3), "any"), ((3,), "any")]),
    ("argmax", lambda x: rg.argmax(x, axis=1) * 1.0, [((2, 3), "any")]),
    ("sum_empty_axes", lambda x: rg.sum(x, axis=()) + rg.mean(x, axis=()) + rg.max(x, axis=()), [((2, 3), "any")]),
    ("concatenate_one", lambda x: rg.concatenate([x]), [((2, 3), "any")]),
]


def _build(fn, specs, unknown: bool):
    g = rg.Graph()
    xs = [g.input(f"x{i}", tuple(None for _ in s) if unknown else s) for i, (s, _) in enumerate(specs)]
    out = fn(*xs)
    if out.dtype.kind == "f":
        rg.grad(rg.sum(out * out), xs)  # the adjoint nodes join the graph: internal ops get exercised
    return g, xs


def _nodes():
    """(case id, graph, node id, operand values, result) for every op node of every case."""
    rng = np.random.default_rng(0)
    cases = [*OP_CASES, *((cid, fn, [((2, 3), "nonzero")]) for cid, fn in ZERO_GRAD_CASES), *EXTRA_CASES]
    for cid, fn, specs in cases:
        for unknown in (False, True):
            try:
                g, xs = _build(fn, specs, unknown)
            except rg.GraphError:
                continue  # a case that needs static sizes
            values = {x.id: sample(s, dom, rng) for x, (s, dom) in zip(xs, specs)}
            G = g.nx
            for nid in sorted(G.nodes):  # ids follow creation, so operands come first
                d = G.nodes[nid]
                if d["op"] in ("input", "constant"):
                    values.setdefault(nid, d.get("value"))
                    continue
                args = [values[o] for o in g.operands(nid)]
                values[nid] = kernels.evaluate(d["op"], args, d["attrs"])
                yield cid, g, nid, args, values[nid]


NODES = list(_nodes())


def test_every_registered_op_is_exercised():
    seen = {g.nx.nodes[nid]["op"] for _, g, nid, _, _ in NODES}
    missing = sorted(set(registry.all_ops()) - seen)
    assert not missing, f"ops with no row in tests/optable.py (or EXTRA_CASES here): {missing}"


def test_declared_facts_are_well_formed():
    for name, op in registry.all_ops().items():
        assert isinstance(op.elementwise, bool) and isinstance(op.recomputable, bool), name
        assert isinstance(op.fresh, bool) or callable(op.fresh), name
        if op.inplace_slot is not None:
            assert op.elementwise, f"{name}: inplace_slot is only read for elementwise ops"
            assert op.arity is None or 0 <= op.inplace_slot < op.arity, f"{name}: inplace_slot names no operand"
        if op.overwrites is not None:
            assert not op.elementwise, f"{name}: overwrites is read only for ops that are not elementwise"
            assert callable(op.overwrites), name
        assert isinstance(op.view, bool) and not (op.view and op.fresh), f"{name}: a view is not fresh"


def test_every_inplace_form_of_the_backend_is_reachable():
    for name in [*kernels.INPLACE, *kernels.STATEMENTS]:
        op = registry.get(name)
        assert op.elementwise or op.fresh, (f"the numpy backend can write {name!r} in place, but the registry "
                                            "declares it neither elementwise nor fresh, so the planner never will")


def _shares(result, operand) -> bool:
    if result is operand:
        return True
    return isinstance(result, np.ndarray) and isinstance(operand, np.ndarray) and np.shares_memory(result, operand)


def test_fresh_ops_return_new_arrays():
    checked = 0
    for cid, g, nid, args, result in NODES:
        d = g.nx.nodes[nid]
        if registry.get(d["op"]).returns_fresh(len(args), d["attrs"]):
            checked += 1
            for a in args:
                assert not _shares(result, a), (f"{d['op']} is declared fresh, but its kernel returned (a view of) "
                                                f"an operand in case {cid!r}: declare fresh=False")
    assert checked > 100


def test_the_fresh_check_catches_an_aliasing_op():
    """The one-operand accumulate returns its operand: declared fresh, the check above would fail."""
    acc = [(args, result) for cid, g, nid, args, result in NODES if cid == "accumulate_one"
           and g.nx.nodes[nid]["op"] == "accumulate" and len(args) == 1]
    assert acc and all(_shares(result, args[0]) for args, result in acc)
    assert not registry.get("accumulate").returns_fresh(1, {})
    assert registry.get("accumulate").returns_fresh(2, {})


def _run_inplace(op: str, args: list, attrs: dict, out_index: int, out=None):
    """The backend's in-place form of ``op``, writing into a copy of operand ``out_index`` (or into ``out``);
    None when it has none for these operands."""
    names = [f"a{i}" for i in range(len(args))]
    target = names[out_index] if out is None else "buf"
    lines = kernels.statements(op, "r", names, attrs, target)
    if not any(f"out={target}" in line for line in lines):
        return None  # written as a new array after all
    ns = kernels.namespace()
    exec(f"def k({', '.join(names)}, buf=None):\n" + "".join(f"    {line}\n" for line in lines) + "    return r\n", ns)
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    return ns["k"](*copies, buf=out)


def test_elementwise_ops_and_their_inplace_forms():
    written = overwritten = 0
    for cid, g, nid, args, result in NODES:
        d = g.nx.nodes[nid]
        op = registry.get(d["op"])
        if op.elementwise:
            shapes = [np.shape(a) for a in args]
            assert np.shape(result) == broadcast(shapes), f"{d['op']} is declared elementwise ({cid})"
        if not kernels.writes_into(d["op"]) or not isinstance(result, np.ndarray) or result.ndim == 0:
            continue
        if op.elementwise:
            for i, a in enumerate(args):
                if isinstance(a, np.ndarray) and a.shape == result.shape and a.dtype == result.dtype:
                    got = _run_inplace(d["op"], args, d["attrs"], i)
                    if got is not None:
                        written += 1
                        np.testing.assert_allclose(got, result, rtol=1e-12, err_msg=f"{d['op']} in place ({cid})")
        slot = op.overwritten_operand(d["attrs"])
        if slot is not None:
            a = args[slot]
            assert a.shape == result.shape, f"{d['op']} declares it can be computed over operand {slot} ({cid})"
            if a.dtype == result.dtype:
                got = _run_inplace(d["op"], args, d["attrs"], slot)
                assert got is not None, f"{d['op']} declares overwrites, but the backend has no in-place form"
                overwritten += 1
                np.testing.assert_array_equal(got, result, err_msg=f"{d['op']} over operand {slot} ({cid})")
        if op.returns_fresh(len(args), d["attrs"]):
            got = _run_inplace(d["op"], args, d["attrs"], 0, out=np.empty_like(result))
            if got is not None:
                written += 1
                np.testing.assert_allclose(got, result, rtol=1e-12, err_msg=f"{d['op']} into a dead buffer ({cid})")
    assert written > 50 and overwritten > 0


def test_views_are_writable_views_or_new_arrays():
    checked = 0
    for cid, g, nid, args, result in NODES:
        d = g.nx.nodes[nid]
        if registry.get(d["op"]).view and isinstance(result, np.ndarray) and _shares(result, args[0]):
            checked += 1
            assert result.flags.writeable and result.size == args[0].size, f"{d['op']} is declared a view ({cid})"
            offsets = np.tensordot(np.indices(result.shape).reshape(result.ndim, -1).T, result.strides, axes=1)
            assert len(set(offsets.tolist())) == result.size, f"{d['op']}: a view seeing one element twice ({cid})"
    assert checked > 10


@pytest.mark.parametrize("name", ["reshape", "transpose", "getitem", "broadcast_to", "squeeze", "expand_dims",
                                  "stop_gradient", "cast", "sum_to_like", "broadcast_like", "reshape_like",
                                  "concat_part"])
def test_views_and_aliases_are_not_fresh(name):
    assert not registry.get(name).returns_fresh(1, {}) and not registry.get(name).returns_fresh(2, {})


def test_defaults_are_the_safe_choice():
    op = registry.OpDef("no_facts", 1, lambda x: (x.shape, x.dtype))
    assert (op.elementwise, op.returns_fresh(1, {}), op.recomputable, op.inplace_slot) == (False, False, False, None)


# -- batch: how an op acts on a batch (ir/batch.py) ------------------------------------------------------
def _kind_of(op, args, kinds, attrs):
    avals = [registry.Aval((None, *np.shape(a)[1:]) if k == batch.ROWS else np.shape(a), np.asarray(a).dtype)
             for a, k in zip(args, kinds)]
    return op.batch_kind(kinds, avals, attrs)


def _tolerance(result, slack=1):
    """Rounding of a sum split in two: float64 to ~1e-12, lower precisions to their own epsilon."""
    eps = np.finfo(result.dtype).eps if np.asarray(result).dtype.kind in "fc" else 0.0
    return {"rtol": max(eps, 1e-15) * 1e4 * slack, "atol": max(eps, 1e-15) * 1e3 * slack}


def _combined(kind, parts, share):
    """The whole's result from two chunks' results: rows stacked, sums added, means weighted by ``share``."""
    if kind == batch.ROWS:
        return np.concatenate(parts)
    return parts[0] + parts[1] if kind == batch.SUM else parts[0] * share + parts[1] * (1 - share)


def test_batch_rules_hold_for_the_kernels():
    """Every row-wise, sum or mean claim an op's batch rule makes for the operands of the op-table's nodes
    (batched: those whose axis 0 has the length of the others', split into a chunk of 1 row and the rest)
    gives the whole's result from the two chunks' results."""
    checked = 0
    for cid, g, nid, args, result in NODES:
        d = g.nx.nodes[nid]
        op = registry.get(d["op"])
        for n in {np.shape(a)[0] for a in args if np.ndim(a) >= 1 and np.shape(a)[0] >= 2}:
            kinds = [batch.ROWS if np.ndim(a) >= 1 and np.shape(a)[0] == n else None for a in args]
            kind = _kind_of(op, args, kinds, d["attrs"])
            if kind is None:
                continue
            parts = [kernels.evaluate(d["op"], [a[rows] if k else a for a, k in zip(args, kinds)], d["attrs"])
                     for rows in (slice(0, 1), slice(1, None))]
            np.testing.assert_allclose(_combined(kind, parts, 1 / n), result, **_tolerance(result),
                                       err_msg=f"{d['op']} is declared {kind} over the batch ({cid})")
            checked += 1
    assert checked > 100


def test_linear_batch_rules_hold_for_the_kernels():
    """An op a rule keeps a sum (a mean) through: its result from two parts of those operands (weighted
    halves, for a mean) equals the result from the whole operands."""
    rng = np.random.default_rng(0)
    checked = 0
    for cid, g, nid, args, result in NODES:
        d = g.nx.nodes[nid]
        op = registry.get(d["op"])
        floats = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
        for marked in {*((i,) for i in floats), tuple(floats)} if floats else ():
            for kind, share in ((batch.SUM, None), (batch.MEAN, 0.3)):
                kinds = [kind if i in marked else None for i in range(len(args))]
                if _kind_of(op, args, kinds, d["attrs"]) != kind:
                    continue
                first = {i: rng.normal(size=np.shape(args[i])).astype(np.asarray(args[i]).dtype) for i in marked}
                if kind == batch.SUM:
                    halves = [{i: first[i] for i in marked}, {i: args[i] - first[i] for i in marked}]
                else:  # a = share * a1 + (1 - share) * a2
                    halves = [{i: first[i] for i in marked},
                              {i: (args[i] - share * first[i]) / (1 - share) for i in marked}]
                parts = [kernels.evaluate(d["op"], [h.get(i, a) for i, a in enumerate(args)], d["attrs"])
                         for h in halves]
                np.testing.assert_allclose(_combined(kind, parts, share), result, **_tolerance(result, 100),
                                           err_msg=f"{d['op']} is declared to keep a {kind} ({cid})")
                checked += 1
    assert checked > 20


def test_a_wrong_batch_rule_is_caught():
    """The check above fails for a rule claiming a row-wise op where there is none (softmax over the batch)."""
    nodes = [(args, g.nx.nodes[nid]) for cid, g, nid, args, result in NODES if g.nx.nodes[nid]["op"] == "softmax"
             and np.ndim(args[0]) == 2 and np.shape(args[0])[0] >= 2]
    args, d = nodes[0]
    whole = kernels.evaluate("softmax", args, {**d["attrs"], "axis": 0})
    parts = [kernels.evaluate("softmax", [args[0][rows]], {**d["attrs"], "axis": 0})
             for rows in (slice(0, 1), slice(1, None))]
    assert not np.allclose(_combined(batch.ROWS, parts, None), whole)
    assert _kind_of(registry.get("softmax"), args, [batch.ROWS], {"axis": 0}) is None
