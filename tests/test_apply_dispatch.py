"""``ir.apply`` picks the frontend from the operand types, wherever the Tensor or Variable sits
among the operands (plain types are skipped by identity before any attribute lookup)."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import apply


class MyVariable(dy.Variable):
    """A subclass inherits its base's frontend."""


@pytest.mark.parametrize("plain", [2.0, 2, True, np.float32(2.0), np.array(2.0), np.ma.masked_array(2.0)])
def test_the_frontend_is_found_in_any_position(plain):
    x = dy.Variable(np.array(3.0))
    assert isinstance(apply("mul", plain, x), dy.Variable)
    assert isinstance(apply("mul", x, plain), dy.Variable)
    t = rg.Graph().input("t")
    assert isinstance(apply("mul", plain, t), rg.Tensor)
    assert isinstance(apply("mul", t, plain), rg.Tensor)


def test_a_subclass_of_variable_is_dynamic():
    y = apply("mul", 2.0, MyVariable(np.array(3.0)))
    assert isinstance(y, dy.Variable) and float(y) == 6.0


def test_plain_operands_compute_at_once():
    out = apply("add", np.array([1.0, 2.0]), 1.0)
    assert type(out) is np.ndarray and out.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("first_tensor", [True, False])
def test_mixing_a_tensor_and_a_variable_names_both(first_tensor):
    t, x = rg.Graph().input("t"), dy.Variable(np.array(1.0))
    operands = (t, 2.0, x) if first_tensor else (x, 2.0, t)
    with pytest.raises(rg.GraphError, match="concatenate: cannot mix Tensor and Variable operands"):
        apply("concatenate", *operands)


def test_arity_is_checked_for_fixed_and_variadic_ops():
    x = dy.Variable(np.array(1.0))
    with pytest.raises(rg.GraphError, match="op 'mul' takes 2 operand"):
        apply("mul", x)
    with pytest.raises(rg.GraphError, match="op 'concatenate' needs at least one operand"):
        apply("concatenate")


def test_eager_calls_repeat_their_checks_and_results_for_each_signature():
    a32, a64 = np.ones(3, np.float32), np.ones(3)
    for _ in range(2):  # the second round reuses the kept shape-rule verdicts
        assert rg.mul(a32, 2.0).dtype == np.float32
        assert rg.mul(a32, a64).dtype == np.float64
        assert rg.mul(np.arange(3), 2).dtype.kind == "i"
        assert rg.sum(np.ones((2, 3)), axis=1).shape == (2,)
        assert rg.sum(np.ones((2, 3)), axis=0).shape == (3,)
        with pytest.raises(rg.GraphError, match="add with operands"):
            rg.add(np.ones(3), np.ones(4))
    assert rg.getitem(np.arange(5.0), index=slice(1, 3)).tolist() == [1.0, 2.0]  # unhashable before 3.12


def test_kept_verdicts_tell_true_one_and_one_point_zero_apart():
    """Shape-rule verdicts are kept per signature; a weak scalar's type is part of it."""
    g = rg.Graph()
    x = g.input("x", shape=(3,), dtype="int8")
    for _ in range(2):
        assert (x * True).dtype == np.int8
        assert (x * 1).dtype == np.int8
        assert (x * 1.0).dtype == np.float64
        assert rg.mul(np.ones(3, np.int8), 1.0).dtype == np.float64


def test_a_re_registered_op_is_not_judged_by_the_old_entry():
    from revgraph.ir.registry import OpDef, register, unregister

    g = rg.Graph()
    x = g.input("x", shape=(2,))
    register(OpDef("probe_op", 1, lambda a: (a.shape, a.dtype)))
    try:
        assert apply("probe_op", x).shape == (2,)
        unregister("probe_op")
        register(OpDef("probe_op", 1, lambda a: ((1,) + a.shape, a.dtype)))
        assert apply("probe_op", x).shape == (1, 2)
    finally:
        unregister("probe_op")
