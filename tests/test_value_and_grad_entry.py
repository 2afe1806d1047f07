"""``step.value_and_grad`` of a scalar-output step is a generated function taking the inputs as
keyword parameters (less per-call work for small graphs). It must behave exactly like the method
it stands in for: the same values, the same FeedError messages, any input names."""

import inspect

import numpy as np
import pytest

import revgraph as rg
from revgraph.compiler.runtime import CompiledStep


def general(step, *args, **feeds):
    """The method's full path, bypassing the generated entry."""
    return CompiledStep.value_and_grad(step, *args, **feeds)


def build(names):
    g = rg.Graph("entry")
    a, b, c = (g.input(n) for n in names)
    return rg.compile((a * b + c) * a, wrt=[a, b, c])


@pytest.mark.parametrize("names", [("apple", "apple_num", "tax"), ("a b", "class", "x-1"), ("r0", "extra", "dout_1")])
def test_entry_gives_the_methods_values_for_any_input_names(names):
    step = build(names)
    feeds = {n: np.array(v) for n, v in zip(names, (2.0, 3.0, 5.0))}
    value, grads = step.value_and_grad(**feeds)
    v2, g2 = general(step, **feeds)
    assert value == v2 == 22.0
    np.testing.assert_array_equal(grads, g2)
    np.testing.assert_allclose(grads, [2 * 2.0 * 3.0 + 5.0, 4.0, 2.0])
    assert str(inspect.signature(step.value_and_grad)) == "(dout: 'Any' = None, /, **feeds: 'Any') -> 'tuple[Any, Any]'"
    assert step.value_and_grad.__doc__ == CompiledStep.value_and_grad.__doc__


def test_entry_is_installed_for_plain_names_and_left_out_when_names_clash_with_its_locals():
    assert "value_and_grad" in vars(build(("x", "y", "z")))
    clashing = build(("x", "y", "extra"))  # clashes with the entry's own **extra: the method serves
    assert "value_and_grad" not in vars(clashing)
    assert clashing.value_and_grad(x=np.array(1.0), y=np.array(2.0), extra=np.array(3.0))[0] == 5.0


BAD = [
    ("missing", lambda f: {k: v for k, v in f.items() if k != "tax"}),
    ("unknown", lambda f: {**f, "pear": np.array(1.0), "plum": 2.0}),
    ("shape", lambda f: {**f, "tax": np.ones(2)}),
    ("dtype", lambda f: {**f, "tax": np.array(1 + 1j)}),
    ("string", lambda f: {**f, "apple": "1.0"}),
    ("none", lambda f: {**f, "apple": None}),
    ("subclass", lambda f: {**f, "apple": np.ma.masked_array(np.array([1.0, 2.0]))}),
]


@pytest.mark.parametrize("kind, make", BAD, ids=[b[0] for b in BAD])
def test_entry_raises_the_methods_feed_error(kind, make):
    step = build(("apple", "apple_num", "tax"))
    feeds = make({n: np.array(v) for n, v in zip(("apple", "apple_num", "tax"), (2.0, 3.0, 5.0))})
    with pytest.raises(rg.FeedError) as fast:
        step.value_and_grad(**feeds)
    with pytest.raises(rg.FeedError) as full:
        general(step, **feeds)
    assert str(fast.value) == str(full.value)


def test_entry_converts_what_the_full_check_accepts():
    step = build(("x", "y", "z"))
    value, grads = step.value_and_grad(x=2, y=np.float64(3.0), z=np.array(5.0, np.float32))
    assert value == 22.0 and type(grads) is list and len(grads) == 3


def test_entry_with_dout_runs_forward_and_backward():
    step = build(("x", "y", "z"))
    feeds = dict(x=np.array(2.0), y=np.array(3.0), z=np.array(5.0))
    for value, grads in (step.value_and_grad(np.array(2.0), **feeds), step.value_and_grad(dout=2.0, **feeds)):
        assert value == 22.0
        np.testing.assert_allclose(grads, [34.0, 8.0, 4.0])


def test_entry_single_wrt_returns_one_gradient():
    g = rg.Graph()
    x = g.input("x")
    step = rg.compile(x * x, wrt=x)
    value, grad = step.value_and_grad(x=np.array(3.0))
    assert value == 9.0 and grad == 6.0 and np.ndim(grad) == 0


def test_entry_lets_inputs_no_program_reads_be_fed():
    g = rg.Graph()
    x, z = g.input("x"), g.input("z")
    step = rg.compile(x * 3.0, wrt=[x, z])
    value, grads = step.value_and_grad(x=np.array(2.0), z=np.array(1.0))
    assert value == 6.0
    np.testing.assert_allclose(grads, [3.0, 0.0])
    assert step.value_and_grad(x=np.array(2.0))[0] == 6.0


def test_entry_explains_sizes_declared_none_that_disagree():
    g = rg.Graph()
    x, y = g.input("x", (None,)), g.input("y", (None,))
    step = rg.compile(rg.sum(x * y), wrt=[x, y])
    value, grads = step.value_and_grad(x=np.ones(3), y=np.full(3, 2.0))
    assert value == 6.0
    with pytest.raises(rg.FeedError, match="disagree") as fast:
        step.value_and_grad(x=np.ones(3), y=np.ones(4))
    with pytest.raises(rg.FeedError) as full:
        general(step, x=np.ones(3), y=np.ones(4))
    assert str(fast.value) == str(full.value)


def test_a_failure_inside_the_fused_program_is_explained_by_the_full_path():
    step = build(("x", "y", "z"))
    feeds = dict(x=np.array(2.0), y=np.array(3.0), z=np.array(5.0))
    step.value_and_grad(**feeds)  # compiles the fused program

    def broken(*values):
        raise ValueError("inside generated code")

    ns = step.value_and_grad.fn_namespace
    ns["fn"], real = broken, ns["fn"]
    assert step.value_and_grad(**feeds)[0] == 22.0  # the full path runs the program again
    ns["fn"] = real


def test_a_fused_program_taking_its_inputs_in_another_order_is_fed_by_name():
    def step_of(order):
        g = rg.Graph()
        made = {n: g.input(n) for n in order}
        a, b = made["a"], made["b"]
        return rg.compile(a * b * b, wrt=[a, b])

    step, reordered = step_of("ab"), step_of("ba")
    step._make_fused = reordered._make_fused  # its fused program's parameters are (b, a)
    value, grads = step.value_and_grad(a=np.array(2.0), b=np.array(3.0))
    assert value == 18.0
    np.testing.assert_allclose(grads, [9.0, 12.0])
    with pytest.raises(rg.FeedError, match="missing feed for input 'b'"):
        step.value_and_grad(a=np.array(2.0))
