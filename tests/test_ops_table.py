"""Every op of the minimum set: rg.grad matches central differences (float64, rtol 1e-6)."""

import numpy as np
import pytest

import revgraph as rg
from optable import OP_CASES, sample, numeric_grad


def build(fn, specs, rng):
    g = rg.Graph("op")
    xs = [g.input(f"x{i}", shape=shape) for i, (shape, _) in enumerate(specs)]
    out = fn(*xs)
    proj = g.constant(rng.normal(size=out.shape)) if out.shape else 1.0
    loss = rg.sum(out * proj)
    return g, xs, out, loss


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_gradient_matches_central_differences(case):
    name, fn, specs = case
    rng = np.random.default_rng(0)
    g, xs, out, loss = build(fn, specs, rng)
    values = [sample(shape, dom, rng) for shape, dom in specs]
    grads = rg.grad(loss, xs)
    f = rg.compile(loss)
    analytic = rg.compile(grads)(**{x.name: v for x, v in zip(xs, values)})
    numeric = numeric_grad(lambda *vs: f(**{x.name: v for x, v in zip(xs, vs)}), values)
    for x, a, n in zip(xs, analytic, numeric):
        assert np.shape(a) == x.shape, f"{name}: gradient of {x.name} has shape {np.shape(a)}"
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8, err_msg=f"{name}: d/d{x.name}")


@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_forward_matches_numpy_on_plain_arrays(case):
    """The compiled graph and the same op applied to plain arrays (eager NumPy) agree."""
    name, fn, specs = case
    rng = np.random.default_rng(1)
    g = rg.Graph("op")
    xs = [g.input(f"x{i}", shape=shape) for i, (shape, _) in enumerate(specs)]
    values = [sample(shape, dom, rng) for shape, dom in specs]
    compiled = rg.compile(fn(*xs))(**{x.name: v for x, v in zip(xs, values)})
    eager = fn(*values)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    assert np.shape(compiled) == fn(*xs).shape


def test_every_public_op_has_a_row():
    from revgraph.ir.ops import PUBLIC

    covered = " ".join(c[0] for c in OP_CASES)
    non_differentiable = {"less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "argmax", "sign", "stop_gradient"}
    missing = [op for op in PUBLIC if op not in covered and op not in non_differentiable]
    assert not missing, f"ops without a gradient row in OP_CASES: {missing}"


@pytest.mark.parametrize("op", ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "sign"])
def test_non_differentiable_ops_pass_zero_gradient(op):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    fn = getattr(rg, op)
    out = fn(x) if op == "sign" else fn(x, 0.5)
    loss = rg.sum(rg.where(out, 2.0, 1.0) * x) if out.dtype == bool else rg.sum(out * x)
    dx = rg.compile(rg.grad(loss, x))(x=np.array([-1.0, 0.5, 2.0]))
    # only the direct `* x` path contributes: the op itself passes no gradient
    xv = np.array([-1.0, 0.5, 2.0])
    direct = np.where(getattr(np, op)(xv, 0.5), 2.0, 1.0) if op != "sign" else np.sign(xv)
    np.testing.assert_allclose(dx, direct)


def test_argmax_values_and_no_gradient():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    idx = rg.argmax(x, axis=1)
    assert idx.dtype == np.int64 and idx.shape == (2,)
    v = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    np.testing.assert_array_equal(rg.compile(idx)(x=v), [1, 0])


def test_stop_gradient_blocks_only_its_path():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    loss = rg.sum(rg.stop_gradient(x) * x)    # d/dx = stop(x) only: the stopped path adds nothing
    xv = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(rg.compile(rg.grad(loss, x))(x=xv), xv)
