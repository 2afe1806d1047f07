"""Python numbers in graphs (issue 11 items 6 and 8): they compute as NumPy values of their dtypes
wherever they are evaluated -- declaration, constant folding, generated code, plain eager calls --
and an int no supported dtype holds is refused where it is declared, never saved as an object array."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import serialize
import hostile


def _plain_calls():
    with np.errstate(all="ignore"):
        return [rg.pow(10, 2 ** 62), rg.mul(2 ** 62, 4), rg.pow(-8.0, 1 / 3), rg.div(1, 0), rg.pow(1e308, 2.0)]


def test_python_numbers_alone_compute_as_numpy_values():
    # in a child with a time limit: Python's own 10 ** 2**62 would never return (and cannot be interrupted)
    outcome = hostile.run_bounded(_plain_calls, timeout=10)
    assert outcome[0] == "ok", outcome
    with np.errstate(all="ignore"):
        pow_, mul, root, div, big = _plain_calls()
    assert pow_ == np.int64(10) ** np.int64(2 ** 62)  # at once: no huge Python int
    assert mul == 0  # int64 wraps, as in NumPy (no OverflowError)
    assert np.isnan(root)  # NumPy's nan, not a complex number
    assert div == np.inf and big == np.inf


def test_numpy_warns_as_usual_for_python_numbers():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        rg.div(1, 0)
    assert any("divide by zero" in str(w.message) for w in seen)


@pytest.mark.parametrize("case", sorted(hostile.WEAK_CASES))
@pytest.mark.parametrize("optimize", [True, False], ids=["folded", "generated"])
def test_weak_pairs_compile_and_run_as_numpy_computes_them(case, optimize):
    op, a, b = hostile.WEAK_CASES[case]
    outcome = hostile.run_bounded(_compile_and_run, op, a, b, optimize, timeout=10)
    assert outcome[0] == "ok", outcome
    out = _compile_and_run(op, a, b, optimize)
    np.testing.assert_array_equal(out, 1.0 + hostile.numpy_value(op, a, b))


def _compile_and_run(op, a, b, optimize):
    with np.errstate(all="ignore"):
        return rg.compile(hostile.weak_pair_graph(op, a, b).outputs, optimize=optimize)(x=1.0)


def test_a_fold_that_overflows_is_left_to_run_time_where_check_finite_names_it():
    g = hostile.weak_pair_graph("pow", 1e308, 2.0)
    f = rg.compile(g.outputs, check_finite=True)
    assert "xp.asarray" in f.source, "the weak pair is computed by the program, as NumPy values"
    with pytest.raises(FloatingPointError, match="'c'"), np.errstate(over="ignore"):
        f(x=1.0)


def test_declared_weak_pairs_keep_weak_promotion():
    g = rg.Graph()
    x = g.input("x", dtype="float32")
    c = rg.sub(g.constant(3.0), g.constant(1.0))  # folded at declaration (with NumPy) into a weak 2.0
    assert g.nx.nodes[c.id]["value"] == 2.0 and type(g.nx.nodes[c.id]["value"]) is float
    assert (x * c).dtype == np.float32


def test_fold_work_is_bounded():
    from revgraph.compiler.passes.fold import WORK

    g = rg.Graph()
    a = g.constant(np.ones((1024, 1024)))
    y = rg.sum(a @ a)  # operands of 2**20 elements each: 2**40 > WORK, left to run time
    f = rg.compile(y)
    assert "@" in f.source, "the product was not folded at compile time"
    assert WORK < (1024 * 1024) ** 2
    assert f() == 1024 ** 3


# -- item 8: ints beyond int64 ------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 5000],
                         ids=["2e63", "2e64", "-2e63-1", "1e5000"])
def test_a_python_int_beyond_int64_is_refused_where_it_is_declared(value):
    g = rg.Graph()
    x = g.input("x")
    with pytest.raises(rg.GraphError, match="does not fit int64"):
        x * value
    with pytest.raises(rg.GraphError, match="does not fit int64"):
        g.constant(value)
    with pytest.raises(rg.GraphError, match="does not fit int64"):
        rg.add(value, 1)
    v = dy.Variable(np.ones(2))
    v * 3, 3 * v, rg.add(v, 3)  # plans for (float64, int) are kept: a huge int must still be refused
    for call in (lambda: v * value, lambda: value * v, lambda: rg.add(v, value)):
        with pytest.raises(rg.GraphError, match="does not fit int64"):
            call()


def test_a_python_int_must_fit_the_integer_dtype_it_meets():
    g = rg.Graph()
    i8 = g.input("i", shape=(3,), dtype="int8")
    assert (i8 * 127).dtype == np.int8
    with pytest.raises(rg.GraphError, match="1000 does not fit the result dtype int8"):
        i8 * 1000
    with pytest.raises(rg.GraphError, match="-1 does not fit the result dtype uint8"):
        g.input("u", dtype="uint8") + (-1)
    v = dy.Variable(np.ones(3, np.int8))
    v * 1  # a plan for (int8, int) is kept; a value that does not fit must still be refused
    with pytest.raises(rg.GraphError, match="1000"):
        v * 1000


def test_save_never_writes_an_object_array(tmp_path):
    g = rg.Graph()
    g.input("x")
    g.constant(1.0).rename("k")
    g.nx.nodes[1]["value"] = np.array([object()])  # past every check: save itself refuses it
    g.nx.nodes[1]["shape"] = (1,)
    with pytest.raises(rg.GraphError, match="cannot save a value of dtype object"):
        g.save(tmp_path / "g.json")
    assert not (tmp_path / "g.json").exists()


def test_largest_int64_round_trips_exactly():
    g = rg.Graph()
    x = g.input("x", dtype="int64")
    y = (x * (2 ** 63 - 1) + (-(2 ** 63))).rename("y")
    doc = json.loads(serialize.dumps(g))
    assert all(n.get("value", {}).get("dtype", "int64") in ("int64",) for n in doc["graph"]["nodes"])
    g2 = serialize.loads(serialize.dumps(g))
    assert serialize.dumps(g2) == serialize.dumps(g)
    assert rg.compile(rg.ir.Tensor(g2, y.id))(x=1) == -1
