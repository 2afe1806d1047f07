"""Every op of the table: the dynamic engine's values and gradients equal the static
compiler's (float64, rtol 1e-10) -- first and second order."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from optable import OP_CASES, ZERO_GRAD_CASES, sample

RTOL = 1e-10


def _static(fn, specs, values, proj, second):
    g = rg.Graph("op")
    xs = [g.input(f"x{i}", shape=shape) for i, (shape, _) in enumerate(specs)]
    out = fn(*xs)
    loss = rg.sum(out * proj)
    grads = rg.grad(loss, xs)
    wanted = [out, *grads]
    if second is not None:
        wanted += rg.grad(sum(rg.sum(d * r) for d, r in zip(grads, second)), xs)
    return rg.compile(wanted)(**{x.name: v for x, v in zip(xs, values)})


def _dynamic(fn, values, proj, second):
    xs = [dy.Variable(v) for v in values]
    out = fn(*xs)
    loss = rg.sum(out * proj)
    loss.backward(create_graph=second is not None)
    grads = [x.grad for x in xs]
    result = [out.data, *[g.data for g in grads]]
    if second is not None:
        for x in xs:
            x.cleargrad()
        sum(rg.sum(d * r) for d, r in zip(grads, second)).backward()
        result += [x.grad.data if x.grad is not None else np.zeros_like(x.data) for x in xs]
    return result


def _inputs(fn, specs, seed):
    """Sampled operand values and a random projection of the op's output (1.0 for a scalar output)."""
    rng = np.random.default_rng(seed)
    values = [sample(shape, dom, rng) for shape, dom in specs]
    out_shape = fn(*values).shape
    return rng, values, (rng.normal(size=out_shape) if out_shape else 1.0)


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_dynamic_value_and_gradient_equal_static(case):
    name, fn, specs = case
    rng, values, proj = _inputs(fn, specs, 3)
    static = _static(fn, specs, values, proj, None)
    dynamic = _dynamic(fn, values, proj, None)
    for what, s, d in zip(["value"] + [f"d/dx{i}" for i in range(len(specs))], static, dynamic):
        assert np.shape(s) == np.shape(d) and np.asarray(s).dtype == d.dtype, f"{name} {what}: shape/dtype"
        np.testing.assert_allclose(d, s, rtol=RTOL, atol=1e-14, err_msg=f"{name}: {what}")


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_dynamic_second_order_equals_static(case):
    """create_graph: differentiate <grad, r> again; the static engine does the same with rg.grad twice."""
    name, fn, specs = case
    rng, values, proj = _inputs(fn, specs, 4)
    second = [rng.normal(size=shape) for shape, _ in specs]
    static = _static(fn, specs, values, proj, second)
    dynamic = _dynamic(fn, values, proj, second)
    for i, (s, d) in enumerate(zip(static, dynamic)):
        np.testing.assert_allclose(d, s, rtol=RTOL, atol=1e-12, err_msg=f"{name}: output {i}")


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
