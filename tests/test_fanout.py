"""Any fan-out compiles (issue 11, item 2): a tensor read by n ops gets a gradient that is an n-ary
``accumulate``, which is written as flat statements (lines of a few terms, or ``+=`` into a buffer),
never as one nested expression (Python refuses 200 nested parentheses and recurses once per ``+``),
and the adjoint pass hands a variadic VJP rule its operands once, not once per operand."""

from __future__ import annotations

import re

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import kernels
from revgraph.ir import serialize
from revgraph.ir.ops import internal

X = np.array([0.5, -1.0, 2.0, 0.25])


def _deepest_nesting(source: str) -> int:
    deepest = 0
    for line in source.splitlines():
        depth = 0
        for ch in line.split("#")[0]:
            depth += ch == "("
            deepest = max(deepest, depth)
            depth -= ch == ")"
    return deepest


def _accumulate_blocks(source: str) -> list[list[str]]:
    """The lines computing each accumulate: the commented one and the uncommented ones after it."""
    lines, blocks = source.splitlines(), []
    for i, line in enumerate(lines):
        if " = accumulate(" in line.partition("#")[2]:
            block = [line]
            for more in lines[i + 1:]:
                if "#" in more or not re.match(r"\s+v\d+ (\+)?= ", more):
                    break
                block.append(more)
            blocks.append(block)
    return blocks


@pytest.mark.parametrize("n", [202, 3000])
@pytest.mark.parametrize("optimize", [True, False])
def test_a_tensor_read_by_n_ops_compiles_and_gets_the_right_gradient(n, optimize):
    g = rg.Graph()
    x = g.input("x", (4,))
    c = np.arange(1.0, n + 1)
    y = rg.sum(internal.accumulate(*[rg.sin(x * float(k)) for k in c]))
    step = rg.compile(y, wrt=x, optimize=optimize)
    value, grad = step.value_and_grad(x=X)
    np.testing.assert_allclose(value, np.sum(np.sin(np.outer(c, X))), rtol=1e-10)
    np.testing.assert_allclose(grad, np.sum(c[:, None] * np.cos(np.outer(c, X)), axis=0), rtol=1e-10)
    assert step.forward(x=X) == pytest.approx(value) and np.allclose(step.backward(), grad)
    assert _deepest_nesting(step.source) < 8, "an n-ary sum was written as a nested expression"
    blocks = _accumulate_blocks(step.source)  # y's sum, and x's gradient (forward and backward programs)
    assert len(blocks) == 2
    for block in blocks:
        if optimize:  # the operands are fresh arrays that die at the sum: it runs in one of their buffers
            first, alias, *rest = block  # ``v1 += v2``, ``v9 = v1``, then ``v9 += ...``
            assert re.match(r"\s+(v\d+) \+= v\d+ ", first) and re.fullmatch(r"\s+v\d+ = v\d+", alias)
            assert all(" += " in line for line in rest) and len(block) == n
        else:
            assert all(line.count("+") <= kernels.TERMS_PER_LINE for line in block)
            assert len(block) == 1 + -(-(n - kernels.TERMS_PER_LINE) // (kernels.TERMS_PER_LINE - 1))


def test_a_loaded_accumulate_of_100_000_operands_compiles_in_place_and_out_of_place(tmp_path):
    n = 100_000
    g = rg.Graph()
    x = g.input("x", (4,))
    y = rg.sum(internal.accumulate(rg.exp(x), *[x] * (n - 1)))  # x read 99 999 times by one op
    g.outputs = [y]
    g.save(tmp_path / "wide.json")
    loaded = rg.load(tmp_path / "wide.json")
    want = np.sum(np.exp(X) + (n - 1) * X)
    for optimize in (True, False):  # in place: into exp(x)'s buffer; out of place: lines of a few terms
        f = rg.compile(loaded.outputs[0], optimize=optimize)
        assert f(x=X) == pytest.approx(want, rel=1e-12)
        assert _deepest_nesting(f.source) < 8
    step = rg.compile(loaded.outputs[0], wrt=loaded.inputs[0])
    value, grad = step.value_and_grad(x=X)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(grad, np.exp(X) + (n - 1), rtol=1e-12)


def test_an_accumulate_of_many_arrays_evaluates_eagerly():
    """Plain arrays (and the dynamic engine, and constant folding) run the kernel built from the same lines."""
    parts = [np.full(3, float(k)) for k in range(3000)]
    np.testing.assert_allclose(internal.accumulate(*parts), np.full(3, 3000 * 2999 / 2))


def test_small_sums_stay_one_readable_line():
    assert kernels.accumulate_statements("v9", ["v1", "v2", "v3"], {}) == ["v9 = v1 + v2 + v3"]
    assert kernels.accumulate_statements("v9", ["v1", "v2", "v3"], {}, out="v2") == [
        "v2 += v1", "v9 = v2", "v9 += v3"]  # into a dying operand: an augmented assignment
    assert kernels.accumulate_statements("v9", ["v1", "v2"], {}, out="v5") == ["v9 = xp.add(v1, v2, out=v5)"]
    assert kernels.accumulate_statements("v9", ["v1"], {}, out="v1") == ["v9 = v1"]


def test_the_loaded_file_round_trips_its_wide_node():
    g = rg.Graph()
    x = g.input("x", (2,))
    y = internal.accumulate(*[x] * 5000)
    g.outputs = [y]
    again = serialize.loads(serialize.dumps(g))
    np.testing.assert_allclose(rg.compile(again.outputs[0])(x=np.array([1.0, 2.0])), [5000.0, 10000.0])
