"""``step.forward`` / ``step.backward`` of a scalar-output step are generated functions (feed check,
residual hand-over and output packing in one piece of code). They must behave exactly like the
methods they stand in for, and give value_and_grad's numbers bit for bit where the same program runs."""

import numpy as np
import pytest

import revgraph as rg
from revgraph.compiler.runtime import CompiledStep


def apple_step(names=("apple", "apple_num", "orange", "orange_num", "tax")):
    g = rg.Graph("apples")
    a, an, o, on, tax = (g.input(n) for n in names)
    return rg.compile((a * an + o * on) * tax, wrt=[a, an, o, on, tax]), names


FEEDS = dict(apple=100.0, apple_num=2.0, orange=150.0, orange_num=3.0, tax=1.1)


def feeds_of(names):
    return {n: np.array(v) for n, v in zip(names, FEEDS.values())}


def two_layer(labels_kind: str):
    rng = np.random.default_rng(3)
    g = rg.Graph("net")
    x, W1, b1 = g.input("x", shape=(8, 6)), g.input("W1", shape=(6, 5)), g.input("b1", shape=(5,))
    W2, b2 = g.input("W2", shape=(5, 4)), g.input("b2", shape=(4,))
    if labels_kind == "int":
        t = g.input("t", shape=(8,), dtype="int64")
        tv = rng.integers(0, 4, 8)
    else:
        t = g.input("t", shape=(8, 4))
        tv = np.eye(4)[rng.integers(0, 4, 8)]
    loss = rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t)
    feeds = dict(x=rng.standard_normal((8, 6)), W1=rng.standard_normal((6, 5)), b1=rng.standard_normal(5),
                 W2=rng.standard_normal((5, 4)), b2=rng.standard_normal(4), t=tv)
    return rg.compile(loss, wrt=[W1, b1, W2, b2]), feeds


@pytest.mark.parametrize("names", [("apple", "apple_num", "orange", "orange_num", "tax"),
                                   ("a b", "class", "x-1", "fn", "state")])
def test_entries_are_installed_and_equal_value_and_grad_bit_for_bit(names):
    step, names = apple_step(names)
    assert "forward" in vars(step) and "backward" in vars(step)
    feeds = feeds_of(names)
    value = step.forward(**feeds)
    grads = step.backward()
    v2, g2 = step.value_and_grad(**feeds)
    assert value == v2 and type(value) is type(v2)
    assert [g.tobytes() for g in map(np.asarray, grads)] == [g.tobytes() for g in map(np.asarray, g2)]
    v3 = CompiledStep.forward(step, **feeds)
    g3 = CompiledStep.backward(step)
    assert v3 == value and all(np.asarray(a).tobytes() == np.asarray(b).tobytes() for a, b in zip(g3, grads))


@pytest.mark.parametrize("labels", ["int", "onehot"])
def test_two_layer_net_entries_match_the_methods_bit_for_bit(labels):
    step, feeds = two_layer(labels)
    value, grads = step.forward(**feeds), step.backward()
    v2 = CompiledStep.forward(step, **feeds)
    g2 = CompiledStep.backward(step)
    assert np.asarray(value).tobytes() == np.asarray(v2).tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(grads, g2))
    v3, g3 = step.value_and_grad(**feeds)
    np.testing.assert_allclose(v3, value, rtol=1e-12)
    for a, b in zip(g3, grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_entries_record_what_drawing_reads():
    step, names = apple_step()
    feeds = feeds_of(names)
    assert step.last_feeds is None and step.last_dout is None
    step.forward(**feeds)
    assert step.last_feeds == feeds and step.last_dout is None
    step.backward()
    assert step.last_dout == 1.0 and step.last_dout.shape == ()
    step.forward(**feeds)
    step.backward(np.array(2.0))
    assert step.last_dout == 2.0
    svg = rg.to_dot(step, which="joint", values=True).source
    assert "220" in svg  # the forward value drawn from the recorded feeds


def test_backward_rules_hold_on_the_fast_path():
    step, names = apple_step()
    with pytest.raises(RuntimeError, match="call step.forward"):
        step.backward()
    step.forward(**feeds_of(names))
    step.backward()
    with pytest.raises(RuntimeError, match="each forward allows one backward"):
        step.backward()
    step.forward(**feeds_of(names))
    assert step.backward(np.array(2.0))[4] == 2 * 650.0  # a dout takes the method's path, same result


@pytest.mark.parametrize("bad", [{"tax": np.ones(2)}, {"tax": "x"}, {"pear": 1.0}])
def test_forward_entry_raises_the_methods_feed_error_and_keeps_the_last_forward(bad):
    step, names = apple_step()
    feeds = feeds_of(names)
    step.forward(**feeds)
    with pytest.raises(rg.FeedError) as fast:
        step.forward(**{**feeds, **bad})
    with pytest.raises(rg.FeedError) as slow:
        CompiledStep.forward(step, **{**feeds, **bad})
    assert str(fast.value) == str(slow.value)
    assert step.backward()[4] == 650.0  # the good forward's residuals are still there


def test_converted_feeds_take_the_full_path_and_give_the_same_result():
    step, names = apple_step()
    value = step.forward(**FEEDS)  # Python floats: converted by the method
    assert value == pytest.approx(715.0) and step.backward()[0] == pytest.approx(2.2)
    assert step.last_feeds == FEEDS


def test_sizes_fixed_at_run_time_take_the_full_check_and_the_fast_backward():
    g = rg.Graph("sized")
    x = g.input("x", shape=(None,))
    y = g.input("y", shape=(None,))
    step = rg.compile(rg.sum(x * 2.0) + rg.sum(y * 3.0), wrt=[x])
    assert "backward" in vars(step)
    assert step.forward(x=np.ones(3), y=np.ones(2)) == 12.0
    (dx,) = step.backward()
    assert dx.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(rg.FeedError, match="'x'"):
        step.forward(x=np.ones((2, 2)), y=np.ones(2))


def test_names_clashing_with_the_entries_locals_keep_the_methods():
    step, names = apple_step(("apple", "apple_num", "orange", "res", "tax"))
    assert "forward" not in vars(step)
    assert step.forward(**feeds_of(names)) == pytest.approx(715.0)
    assert step.backward()[4] == 650.0
