"""Fuzzing the values fed to compiled programs: wrong shapes and dtypes, object arrays,
strings, None, NaN, ragged lists, unknown and missing names. Each call raises FeedError
or computes what NumPy computes on the converted values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import revgraph as rg
from revgraph import demos

# No deadline: a test must not assert a time (a loaded machine trips one); bounded time for hostile input
# is tests/test_hostile_scale.py's job, each case forked under a CPU-time limit.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 and friends

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8, np.bool_, np.complex128]

arrays = st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements=hnp.from_dtype(np.dtype(dt), allow_nan=True, allow_infinity=True) if np.dtype(dt).kind in "fc" else None))

values = st.one_of(
    arrays,
    st.none(), st.text(max_size=5), st.binary(max_size=5), st.booleans(), st.complex_numbers(),
    st.integers(-(2 ** 100), 2 ** 100), st.floats(),
    st.lists(st.floats(), max_size=4), st.lists(st.lists(st.floats(), max_size=4), max_size=3),  # may be ragged
    st.sampled_from([np.array([1, "a"], dtype=object), np.array([1.0, 2.0], dtype=object), {"a": 1}, {1.0},
                     np.float32(np.nan), np.int64(7), np.array(["x"]), np.datetime64("2020-01-01"), [[1.0], [2.0, 3.0]]]),
)


def _graph():
    g = rg.Graph("feeds")
    x = g.input("x", shape=(None, 3))
    w = g.input("w", shape=(3,), dtype="float32")
    n = g.input("n", dtype="int64")
    y = (rg.sum(x * w) * n).rename("y")
    return g, y


G, Y = _graph()
F = rg.compile(Y)
DECLARED = {"x": np.float64, "w": np.float32, "n": np.int64}
GOOD = {"x": np.ones((2, 3)), "w": np.ones(3, np.float32), "n": 2}


def _reference(feeds):
    a = {k: np.asarray(v).astype(DECLARED[k]) for k, v in feeds.items() if k in DECLARED}
    return np.sum(a["x"] * a["w"]) * a["n"]


@FUZZ
@given(st.sampled_from(["x", "w", "n"]), values)
def test_one_random_feed_raises_feed_error_or_computes(name, value):
    feeds = {**GOOD, name: value}
    try:
        got = F(**feeds)
    except rg.FeedError:
        return
    np.testing.assert_array_equal(got, _reference(feeds))


@FUZZ
@given(st.fixed_dictionaries({}, optional={"x": values, "w": values, "n": values,
                                           "extra": values, "X": values, "": values}))
def test_any_set_of_feeds_raises_feed_error_or_computes(feeds):
    try:
        got = F(**feeds)
    except rg.FeedError:
        return
    assert set(feeds) == {"x", "w", "n"}
    np.testing.assert_array_equal(got, _reference(feeds))


MLP_G, MLP_LOSS, MLP_WRT, MLP_FEEDS = demos.mlp()
STEP = rg.compile(MLP_LOSS, wrt=MLP_WRT)
# Loss and gradients in one program, seeded by an input, so even a NaN or infinite dout flows exactly as in
# the step (scaling the gradients for dout = 1 afterwards would not: relu's zeros stay zeros, NaN * 0 is not).
JOINT = rg.compile([MLP_LOSS, *rg.grad(MLP_LOSS, MLP_WRT, seed=MLP_G.input("seed_dout"))])
labels = st.one_of(hnp.arrays(np.int64, st.integers(0, 4), elements=st.integers(-2, 4)), values)


def _mlp_reference(feeds):
    """The two-layer net's loss in plain NumPy, or None when the feeds are not a valid batch."""
    try:
        a = {k: np.asarray(feeds[k]).astype(MLP_G.tensor(k).dtype) for k in MLP_FEEDS}
    except (TypeError, ValueError):
        return None
    x, t = a["x"], a["t"]
    shapes_ok = (x.ndim == 2 and x.shape[1] == 4 and t.shape == (x.shape[0],)
                 and all(a[k].shape == MLP_FEEDS[k].shape for k in ("W1", "b1", "W2", "b2")))
    if not shapes_ok or (t.size and not 0 <= t.min() <= t.max() < 3):
        return None
    z = np.maximum(x @ a["W1"] + a["b1"], 0) @ a["W2"] + a["b2"]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(t)), t].sum() / len(t)


@FUZZ
@given(st.sampled_from(sorted(MLP_FEEDS)), st.one_of(values, labels), st.one_of(st.none(), values))
def test_training_step_raises_feed_error_or_computes(name, value, dout):
    feeds = {**MLP_FEEDS, name: value}
    try:
        got = STEP.value_and_grad(**feeds, dout=dout)
    except rg.FeedError:
        return
    want = _mlp_reference(feeds)
    assert want is not None, f"{name}={value!r} is no valid batch, yet the step computed {got[0]}"
    np.testing.assert_allclose(got[0], want, rtol=1e-9, equal_nan=True)
    # The gradients agree with a separately generated program computing loss and gradients at once.
    joint = JOINT(**feeds, seed_dout=np.asarray(dout if dout is not None else 1.0, dtype=np.float64))
    for a, b in zip(got[1], joint[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


@FUZZ
@given(st.integers(0, 4), st.integers(0, 4), st.data())
def test_batch_sizes_fed_for_none_dimensions_must_agree(n_x, n_t, data):
    x = data.draw(hnp.arrays(np.float64, (n_x, 4), elements=st.floats(-10, 10)))
    t = data.draw(hnp.arrays(np.int64, (n_t,), elements=st.integers(0, 2)))
    feeds = {**MLP_FEEDS, "x": x, "t": t}
    if n_x != n_t:
        with pytest.raises(rg.FeedError, match="labels of shape"):
            STEP.value_and_grad(**feeds)
        return
    value, _ = STEP.value_and_grad(**feeds)
    np.testing.assert_allclose(value, _mlp_reference(feeds), rtol=1e-9, equal_nan=True)
