"""0-d values are computed on NumPy scalars (backends/numpy/codegen._as_scalars): fed 0-d arrays
and 0-d constants become scalars of the same dtype, so results and dtypes are those of 0-d arrays."""

import numpy as np
import pytest

import revgraph as rg


def _apple():
    g = rg.Graph("apple")
    apple, num, tax = g.input("apple"), g.input("num"), g.input("tax")
    return (apple * num * tax).rename("price"), [apple, num, tax]


def test_fed_scalars_are_converted_once_in_the_programs_that_take_feeds():
    price, wrt = _apple()
    step = rg.compile(price, wrt=wrt)
    forward, backward = step.source.split("def backward")
    assert "v0, v1, v2 = v0[()], v1[()], v2[()]" in forward
    # The backward program is fed only dout; the residuals come from the forward, already scalars.
    assert backward.count("[()]") == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_graph_keeps_values_and_dtypes(dtype):
    g = rg.Graph()
    x, y = g.input("x", dtype=dtype), g.input("y", dtype=dtype)
    c = g.constant(np.array(3.0, dtype))
    z = rg.sin(x * y) * c + x / y
    step = rg.compile(z, wrt=[x, y])
    xv, yv = np.array(0.7, dtype), np.array(1.3, dtype)
    value, (gx, gy) = step.value_and_grad(x=xv, y=yv)
    want = np.sin(xv * yv) * np.array(3.0, dtype) + xv / yv  # NumPy on 0-d arrays
    assert value == want and np.asarray(value).dtype == dtype
    assert np.asarray(gx).dtype == dtype and np.asarray(gy).dtype == dtype
    assert gx == np.cos(xv * yv) * yv * np.array(3.0, dtype) + 1 / yv


def test_scalar_feeds_mix_with_arrays_and_are_left_untouched():
    g = rg.Graph()
    s, m = g.input("s"), g.input("m", shape=(2, 3))
    out = rg.sum(rg.tanh(m * s) + s)
    step = rg.compile(out, wrt=[s, m])
    sv, mv = np.array(0.5), np.arange(6.0).reshape(2, 3)
    value, (gs, gm) = step.value_and_grad(s=sv, m=mv)
    assert value == pytest.approx(np.sum(np.tanh(mv * sv) + sv))
    t = np.tanh(mv * 0.5)
    assert gs == pytest.approx(np.sum((1 - t**2) * mv) + 6)
    np.testing.assert_allclose(gm, (1 - t**2) * 0.5)
    assert isinstance(sv, np.ndarray) and sv.shape == () and sv == 0.5  # the caller's array is its own


def test_a_scalar_output_that_is_an_input_returns_its_value():
    g = rg.Graph()
    x = g.input("x")
    f = rg.compile([x, x * 2.0])
    got = f(x=np.array(4.0))
    assert got[0] == 4.0 and got[1] == 8.0 and np.asarray(got[0]).dtype == np.float64
