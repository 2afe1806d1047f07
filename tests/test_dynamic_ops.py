"""Every row of the op table: the dynamic engine's values and gradients equal the static
compiler's -- first and second order (create_graph), in float64 and float32."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from optable import OP_CASES, ZERO_GRAD_CASES, option
from opcheck import dynamic_results, labels, row_inputs, scaled_close, static_results

# float64: the engines run the same kernels and rules; float32: the passes may reorder a little rounding
RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _rows(second):
    """(row, dtype) pairs: a row that says why not is left out of float32 or of second order."""
    return [pytest.param(c, d, id=f"{c[0]}-{d.__name__}") for c in OP_CASES for d in (np.float64, np.float32)
            if not (second and option(c, "no_second")) and not (d is np.float32 and option(c, "no_float32"))]


def _check(name, dtype, static, dynamic, n_inputs, second):
    for what, s, d in zip(labels(n_inputs, second), static, dynamic):
        assert np.shape(s) == np.shape(d) and np.asarray(s).dtype == np.asarray(d).dtype, f"{name} {what}: shape/dtype"
        if dtype is np.float64:
            np.testing.assert_allclose(d, s, rtol=RTOL[dtype], atol=1e-12, err_msg=f"{name}: {what}")
        else:
            scaled_close(d, s, RTOL[dtype], f"{name}: {what}")


@pytest.mark.parametrize("case,dtype", _rows(second=False))
def test_dynamic_value_and_gradient_equal_static(case, dtype):
    name, fn, specs = case
    values, proj, _ = row_inputs(fn, specs, 3, dtype)
    static = static_results(fn, specs, values, proj, None, dtype)
    _check(name, dtype, static, dynamic_results(fn, values, proj, None), len(specs), False)


@pytest.mark.parametrize("case,dtype", _rows(second=True))
def test_dynamic_second_order_equals_static(case, dtype):
    """create_graph: differentiate <grad, r> again; the static engine does the same with rg.grad twice."""
    name, fn, specs = case
    values, proj, second = row_inputs(fn, specs, 4, dtype)
    static = static_results(fn, specs, values, proj, second, dtype)
    _check(name, dtype, static, dynamic_results(fn, values, proj, second), len(specs), True)


@pytest.mark.parametrize("case", ZERO_GRAD_CASES, ids=[c[0] for c in ZERO_GRAD_CASES])
def test_non_differentiable_ops_give_zero_gradient(case):
    name, fn = case
    x = dy.Variable(np.array([-1.0, 0.5, 2.0]))
    y = rg.sum(fn(x)) + rg.sum(x * 0.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, 0.0)


def test_stop_gradient_blocks_only_its_path():
    x = dy.Variable(np.array([1.0, -2.0, 3.0]))
    rg.sum(rg.stop_gradient(x) * x).backward()
    np.testing.assert_allclose(x.grad.data, x.data)
