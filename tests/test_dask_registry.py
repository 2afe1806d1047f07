"""Every op of the registry either has a Dask kernel that an op-table graph exercises (so
tests/test_dask_ops.py checks it against the numpy backend), or is refused on Dask with a
GraphError naming it -- an op added without a Dask kernel cannot slip through unnoticed."""

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.dask import kernels as dask_kernels
from revgraph.backends.numpy import kernels as numpy_kernels
from revgraph.ir.registry import all_ops
from test_dask_ops import CASES, DECLARED, build


def ops_run(compiled):
    """The ops of every program a compiled function or step runs (a step's fused program too)."""
    programs = [compiled]
    if getattr(compiled, "_make_fused", None) is not None:
        programs.append(compiled._fused_function())
    return {p.plan.graph.nx.nodes[n]["op"] for p in programs for prog in p.plan.programs.values() for n in prog.body}


def exercised_ops():
    """op -> ids of the op-table cases whose programs (as the Dask tests compile them) run it."""
    seen = {}
    for case in CASES:
        for declared in DECLARED:
            xs, out, loss, feeds = build(case, np.random.default_rng(0), declared)
            for compiled in (rg.compile([out, loss, *rg.grad(loss, xs)]), rg.compile(loss, wrt=xs)):
                for op in ops_run(compiled):
                    seen.setdefault(op, set()).add((case[0], declared))
    return seen


def test_every_op_has_a_dask_kernel_or_is_refused_by_name():
    exercised = exercised_ops()
    untested = []
    for op in sorted(all_ops()):
        if dask_kernels.available(op):
            if op not in exercised:
                untested.append(op)
        else:
            with pytest.raises(rg.GraphError, match=rf"op '{op}' .*not available on the Dask backend"):
                dask_kernels.expression(op, ["v0", "v1"], {})
    assert not untested, f"ops with a Dask kernel that no op-table graph runs (add a row to tests/optable.py or EXTRA_CASES): {untested}"


def test_unavailable_ops_of_the_op_table_are_refused_at_compile_time():
    """A graph holding an op with no Dask kernel is refused by rg.compile, before anything runs."""
    for op, cases in sorted(exercised_ops().items()):
        if dask_kernels.available(op):
            continue
        name, declared = min(cases)
        case = next(c for c in CASES if c[0] == name)
        xs, out, loss, feeds = build(case, np.random.default_rng(0), declared)
        with pytest.raises(rg.GraphError, match="not available on the Dask backend"):
            rg.compile([out, loss, *rg.grad(loss, xs)], backend="dask")


def test_the_dask_tables_name_only_registered_ops_with_numpy_templates():
    registered = set(all_ops())
    assert not (dask_kernels.SAME_AS_NUMPY | set(dask_kernels.TEMPLATES)) - registered
    assert not dask_kernels.SAME_AS_NUMPY - set(numpy_kernels.TEMPLATES)
    assert not dask_kernels.SAME_AS_NUMPY & set(dask_kernels.TEMPLATES), "an op is in both tables"


def test_the_refusal_names_the_node(monkeypatch):
    """The compile-time error names the op and the node holding it, and says what to do."""
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    y = rg.exp(x)
    monkeypatch.setattr(dask_kernels, "SAME_AS_NUMPY", dask_kernels.SAME_AS_NUMPY - {"exp"})
    with pytest.raises(rg.GraphError, match=r"op 'exp' \('exp_1' \(exp, shape \(3,\) float64\)\) is not available "
                                            r"on the Dask backend.*backend='numpy'"):
        rg.compile(y, backend="dask")
