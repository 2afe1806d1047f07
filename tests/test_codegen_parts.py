"""Long programs are generated as parts (bounded-size functions, so CPython's compile() stays linear):
same values, gradients, memory frees and error messages as one straight-line function."""

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import codegen


def _chain(n):
    g = rg.Graph("chain")
    x = g.input("x", shape=(300,))  # 2400 bytes: big enough for the memory plan to free values early
    h = x
    for i in range(n):
        h = rg.sin(h) if i % 4 == 0 else h * 0.99 if i % 4 == 1 else h + 0.01 if i % 4 == 2 else rg.tanh(h)
    return g, x, rg.sum(h * h)


def _reference(x, n):
    h, hs = x, []
    for i in range(n):
        hs.append(h)
        h = np.sin(h) if i % 4 == 0 else h * 0.99 if i % 4 == 1 else h + 0.01 if i % 4 == 2 else np.tanh(h)
    return h


@pytest.mark.parametrize("part_ops", [1, 3, 7])
def test_programs_in_parts_compute_what_one_function_computes(monkeypatch, part_ops):
    xv = np.linspace(-1, 1, 300)
    g, x, y = _chain(13)
    whole = rg.compile(y, wrt=x)
    v1, d1 = whole.value_and_grad(x=xv)
    monkeypatch.setattr(codegen, "PART_OPS", part_ops)
    g, x, y = _chain(13)
    parted = rg.compile(y, wrt=x)
    assert "def backward_2(args):" in parted.source and "def backward_2" not in whole.source
    v2, d2 = parted.value_and_grad(x=xv)
    np.testing.assert_allclose(v2, np.sum(_reference(xv, 13) ** 2), rtol=1e-12)
    np.testing.assert_allclose(v2, v1, rtol=1e-12)
    np.testing.assert_allclose(d2, d1, rtol=1e-12)
    # Memory: every value the plan drops early is still dropped (by its part or by the caller).
    assert whole.memory_plan()["peak_bytes"] == parted.memory_plan()["peak_bytes"]
    f = rg.compile(y, check_finite=True)
    np.testing.assert_allclose(f(x=xv), v1, rtol=1e-12)


def test_a_failure_inside_a_part_names_its_node(monkeypatch):
    monkeypatch.setattr(codegen, "PART_OPS", 2)
    g = rg.Graph("sizes")
    a, b = g.input("a", shape=(None,)), g.input("b", shape=(None,))
    h = rg.tanh(rg.sin(a) * 2.0) + 1.0
    out = rg.sum((rg.exp(h) + b).rename("the_sum"))
    f = rg.compile(out)
    assert "def call_2(args):" in f.source
    with pytest.raises(rg.FeedError, match="computing 'the_sum'"):
        f(a=np.ones(3), b=np.ones(4))
    bad = rg.compile(rg.log(rg.sin(a) - 2.0).rename("bad_log") * 3.0, check_finite=True)
    with pytest.raises(FloatingPointError, match="bad_log"), np.errstate(invalid="ignore"):
        bad(a=np.ones(3), b=np.ones(3))


def _layers(n, width=16):
    g = rg.Graph("layers")
    x = g.input("x", shape=(width,))
    h = x
    for _ in range(n):
        h = rg.sin(h) * 1.0001 + h * 0.5
    return x, rg.sum(h)


def test_repeated_parts_reuse_compiled_code_that_equals_what_compile_makes(monkeypatch):
    """Parts that differ only in their value names share one compile(): the code object each part's
    function runs is exactly the one compile() makes from that part's text (bytecode, names, line
    table and columns, file, first line)."""
    import linecache
    import types

    monkeypatch.setattr(codegen, "PART_OPS", 8)
    compiled = []
    real_compile = compile
    monkeypatch.setattr(codegen, "compile", lambda *a: compiled.append(a) or real_compile(*a), raising=False)
    codegen._PART_CODES.clear()
    x, y = _layers(60)
    step = rg.compile(y, wrt=x)
    parts = [fn for prog in ("forward", "backward") for k, fn in sorted(step._lowered.functions[prog].__globals__.items())
             if isinstance(fn, types.FunctionType) and k.startswith(prog + "_")]
    assert len(parts) > 40 and len(compiled) < len(parts) / 2, (len(parts), len(compiled))  # most parts reused code
    for fn in parts:
        code = fn.__code__
        all_lines = "".join(linecache.getlines(code.co_filename)).split("\n")  # the program's whole source
        first = code.co_firstlineno - 1
        last = next((i for i in range(first + 1, len(all_lines)) if all_lines[i].startswith("def ")), len(all_lines))
        module = real_compile("\n".join(all_lines[first:last]).rstrip("\n") + "\n", code.co_filename, "exec")
        (fresh,) = [c for c in module.co_consts if isinstance(c, types.CodeType)]
        fresh = fresh.replace(co_firstlineno=fresh.co_firstlineno + first)
        assert code == fresh and list(code.co_positions()) == list(fresh.co_positions()), code.co_name
        assert (code.co_filename, code.co_name, code.co_qualname, code.co_varnames, code.co_names) == (
            fresh.co_filename, fresh.co_name, fresh.co_qualname, fresh.co_varnames, fresh.co_names)
    xv = np.linspace(-1, 1, 16)
    value, dx = step.value_and_grad(x=xv)
    monkeypatch.setattr(codegen, "PART_OPS", 1000)
    whole = rg.compile(y, wrt=x)
    v2, d2 = whole.value_and_grad(x=xv)
    assert value == v2 and np.array_equal(dx, d2)
