"""The dynamic engine computes elementwise ops on 0-d float Variables with NumPy scalars (about eight
times cheaper per op than 0-d arrays). What users see must not change: ``.data`` a 0-d ndarray of the
same dtype, ``.grad`` a Variable, values equal to NumPy's on 0-d arrays bit for bit."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_textbook_loop_on_0d_variables_keeps_arrays_dtypes_and_values(dtype):
    vals = dict(apple=100.0, apple_num=2.0, orange=150.0, orange_num=3.0, tax=1.1)
    arrs = {k: np.array(v, dtype=dtype) for k, v in vals.items()}
    v = {k: dy.Variable(a) for k, a in arrs.items()}
    for _ in range(2):  # the DeZero loop: clear, build, backward, read
        for x in v.values():
            x.cleargrad()
        price = (v["apple"] * v["apple_num"] + v["orange"] * v["orange_num"]) * v["tax"]
        price.backward()
    a = arrs
    want = (a["apple"] * a["apple_num"] + a["orange"] * a["orange_num"]) * a["tax"]
    assert type(price.data) is np.ndarray and price.data.shape == () and price.data.dtype == dtype
    assert price.data.tobytes() == np.asarray(want).tobytes()
    d_apple = a["tax"] * a["apple_num"]
    for name, x in v.items():
        assert isinstance(x.grad, dy.Variable) and type(x.grad.data) is np.ndarray
        assert x.grad.data.shape == () and x.grad.data.dtype == dtype
    assert v["apple"].grad.data.tobytes() == np.asarray(np.ones((), dtype) * d_apple).tobytes()


@pytest.mark.parametrize("op", [lambda x, y: x * y, lambda x, y: x / y, lambda x, y: x - 2.5, lambda x, y: 3 ** x,
                                lambda x, y: rg.sin(x) * y, lambda x, y: rg.maximum(x, y), lambda x, y: rg.exp(-x)])
def test_scalar_ops_equal_numpy_on_0d_arrays(op):
    x0, y0 = np.array(0.7), np.array(-1.3)
    got = op(dy.Variable(x0), dy.Variable(y0))
    want = np.asarray(op(x0, y0))  # rg functions and operators on plain 0-d arrays: NumPy itself
    assert type(got.data) is np.ndarray and got.data.shape == ()
    assert got.data.tobytes() == want.tobytes()


def test_integer_and_non_0d_variables_keep_array_kernels():
    i = dy.Variable(np.array(2**62, dtype=np.int64))
    assert (i * 4).data.dtype == np.int64  # arrays wrap silently (no scalar overflow warning path)
    v = dy.Variable(np.array([1.0, 2.0]))
    y = rg.sum(v * v)
    y.backward()
    assert v.grad.data.tolist() == [2.0, 4.0]
