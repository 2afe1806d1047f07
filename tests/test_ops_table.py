"""Every row of the op table (tests/optable.py and its family files), in the static engine: values
against NumPy, first and second derivatives against central differences in float64, and float32
results against float64 ones (tests/test_dynamic_ops.py holds the dynamic engine to these)."""

import numpy as np
import pytest

import revgraph as rg
from optable import OP_CASES, option, numeric_grad
from opcheck import labels, row_inputs, scaled_close, static_graph, static_results

IDS = [c[0] for c in OP_CASES]
SECOND = [c for c in OP_CASES if not option(c, "no_second")]
FLOAT32 = [c for c in OP_CASES if not option(c, "no_float32")]


def _feeds(xs, values):
    return {x.name: v for x, v in zip(xs, values)}


@pytest.mark.parametrize("case", OP_CASES, ids=IDS)
def test_values_match_numpy(case):
    """The compiled graph agrees with NumPy itself (the row's ``numpy=``) and with the op applied
    to plain arrays (eager), in value, shape and dtype."""
    name, fn, specs = case
    values, _, _ = row_inputs(fn, specs, 1)
    g, xs, out = static_graph(fn, specs)
    compiled = rg.compile(out)(**_feeds(xs, values))
    eager = fn(*values)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, err_msg=f"{name}: compiled vs eager")
    assert np.shape(compiled) == out.shape and np.asarray(compiled).dtype == out.dtype
    reference = option(case, "numpy")
    if reference is not None:
        expected = reference(*values)
        np.testing.assert_allclose(compiled, expected, rtol=1e-12, atol=1e-15, err_msg=f"{name}: vs NumPy")
        assert np.asarray(expected).dtype == out.dtype, f"{name}: NumPy gives {np.asarray(expected).dtype}"


@pytest.mark.parametrize("case", OP_CASES, ids=IDS)
def test_gradient_matches_central_differences(case):
    name, fn, specs = case
    values, proj, _ = row_inputs(fn, specs, 0)
    g, xs, out = static_graph(fn, specs)
    loss = rg.sum(out * proj)
    f = rg.compile(loss)
    analytic = rg.compile(rg.grad(loss, xs))(**_feeds(xs, values))
    numeric = numeric_grad(lambda *vs: f(**_feeds(xs, vs)), values, option(case, "eps"))
    for x, a, n in zip(xs, analytic, numeric):
        assert np.shape(a) == x.shape, f"{name}: gradient of {x.name} has shape {np.shape(a)}"
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8, err_msg=f"{name}: d/d{x.name}")


@pytest.mark.parametrize("case", SECOND, ids=[c[0] for c in SECOND])
def test_second_derivative_matches_central_differences(case):
    """d/dx <grad f(x), r> (rg.grad of the gradient) against central differences of the compiled gradient."""
    name, fn, specs = case
    values, proj, second = row_inputs(fn, specs, 2)
    g, xs, out = static_graph(fn, specs)
    grads = rg.grad(rg.sum(out * proj), xs)
    directional = sum(rg.sum(d * r) for d, r in zip(grads, second))
    analytic = rg.compile(rg.grad(directional, xs))(**_feeds(xs, values))
    f = rg.compile(directional)
    numeric = numeric_grad(lambda *vs: f(**_feeds(xs, vs)), values, option(case, "eps"))
    for x, a, n in zip(xs, analytic, numeric):
        assert np.shape(a) == x.shape, f"{name}: second derivative w.r.t. {x.name} has shape {np.shape(a)}"
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg=f"{name}: d2/d{x.name}")


@pytest.mark.parametrize("case", FLOAT32, ids=[c[0] for c in FLOAT32])
def test_float32_matches_float64(case):
    """The float32 program computes in float32 (every result float32) and agrees with float64 on the
    same numbers: value, first and (unless the row says why not) second derivatives."""
    name, fn, specs = case
    second = not option(case, "no_second")
    v32, p32, r32 = row_inputs(fn, specs, 6, np.float32)
    up = lambda a: a if isinstance(a, float) else a.astype(np.float64)
    single = static_results(fn, specs, v32, p32, r32 if second else None, np.float32)
    double = static_results(fn, specs, [up(v) for v in v32], up(p32), [up(r) for r in r32] if second else None)
    for what, s, d in zip(labels(len(specs), second), single, double):
        assert np.asarray(s).dtype == np.float32, f"{name} {what}: computed in {np.asarray(s).dtype}"
        scaled_close(s, d, option(case, "f32_tol"), f"{name}: {what}")


def test_every_public_op_has_a_row():
    from revgraph.ir.ops import PUBLIC
    from revgraph.ir.registry import all_ops

    covered = " ".join(c[0] for c in OP_CASES)
    registry = all_ops()
    non_differentiable = {op for op in PUBLIC if op in registry and registry[op].vjp is None}  # comparisons, argmax...
    missing = [op for op in PUBLIC if op not in covered and op not in non_differentiable]
    assert not missing, f"ops without a gradient row in OP_CASES: {missing}"


def test_row_ids_are_unique():
    assert len(set(IDS)) == len(IDS), sorted(i for i in IDS if IDS.count(i) > 1)


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
