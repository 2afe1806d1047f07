"""A fed value that does not fit the declared dtype is a FeedError naming the input, the values and the
dtype's range, raised before anything runs (issue 11, item 4): no silent wrap-around of integers, no
float overflowing to inf on the way in."""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg


def _program(dtype, shape=()):
    g = rg.Graph()
    x = g.input("counts", shape, dtype=dtype)
    return g, x


@pytest.mark.parametrize("dtype, value, shown", [
    ("int32", 2**40, "1099511627776"),
    ("int32", np.int64(2**31), "2147483648"),
    ("int32", [1, -2**31 - 1], "-2147483649"),
    ("int32", 2**70, "1180591620717411303424"),   # beyond int64 too
    ("int64", 2**64, "18446744073709551616"),
    ("uint8", -1, "-1"),
    ("uint8", [3, -1], "-1 to 3"),
    ("uint16", 70000, "70000"),
    ("float32", 1e300, "1e+300"),
    ("float32", np.array([1.0, -1e39]), "-1e+39"),
    ("float16", 70000.0, "70000"),
])
def test_a_value_outside_the_declared_dtype_is_a_feed_error(dtype, value, shown):
    shape = np.shape(value)
    g, x = _program(dtype, shape)
    f = rg.compile(x * 2)
    with pytest.raises(rg.FeedError) as err:
        f(counts=value)
    text = str(err.value)
    assert "'counts'" in text and dtype in text and shown in text, text
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    assert str(info.max) in text, "the message gives the dtype's range"


def test_steps_check_ranges_too():
    g, x = _program("float32", (2,))
    step = rg.compile(rg.sum(x * x), wrt=x)
    for call in (lambda: step.forward(counts=[1.0, 1e300]), lambda: step.value_and_grad(counts=[1.0, 1e300])):
        with pytest.raises(rg.FeedError, match="float32"):
            call()
    step.forward(counts=[1.0, 2.0])
    with pytest.raises(rg.FeedError, match="'dout'"):
        step.backward(1e300)


@pytest.mark.parametrize("dtype, value", [
    ("int32", 2**31 - 1), ("int32", -2**31), ("int32", np.int64(7)), ("uint8", [0, 255]), ("uint64", 2**64 - 1),
    ("float32", 3e38), ("float32", np.array([np.inf, -np.inf, np.nan])), ("float32", 1e-300),  # underflow: 0
    ("float64", 2**70), ("float16", 65504.0),
])
def test_values_that_fit_are_converted(dtype, value):
    g, x = _program(dtype, np.shape(value))
    got = rg.compile(x)(counts=value)
    want = np.asarray(value).astype(dtype)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)


def test_a_feed_of_the_declared_dtype_is_taken_as_it_is():
    g, x = _program("int32", (3,))
    fed = np.array([1, 2, 3], dtype=np.int32)
    assert rg.compile(x * 1)(counts=fed).tolist() == [1, 2, 3]
