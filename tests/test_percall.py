"""Per-call fast paths (issue 12): what the generated code runs per call must compute what it did before.

- a constant read only by elementwise ops on arrays is bound as a 0-d array (NumPy takes one faster than a
  scalar), with values equal bit for bit to NumPy on the scalar;
- a sum of two products with a factor in common, in the fused program's adjoint, is factored (``g*b + (g*a)*c``
  -> ``g*(b + a*c)``): gradients equal the unfactored ones within rounding, second derivatives still work;
- a two-operand accumulate into a dying operand is ``+=``;
- the integer-label cross-entropy of a batch of rows is computed as the hand-written SoftmaxWithLoss does.
"""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy import kernels

RNG = np.random.default_rng(12)


def _w4(n: int):
    """N layers of h = sin(h) * 1.0001 + h * 0.5 (benchmarks' W4): every h is read twice."""
    g = rg.Graph()
    x = g.input("x", shape=(16,))
    h = x
    for _ in range(n):
        h = rg.sin(h) * 1.0001 + h * 0.5
    return x, rg.sum(h)


def _rewrites(step) -> dict:
    total: dict = {}
    for rec in step.stats["passes"]:
        for k, v in rec["rewrites"].items():
            total[k] = total.get(k, 0) + v
    return total


def test_array_constants_are_bound_as_0d_arrays_and_give_numpys_bits():
    x, loss = _w4(3)
    step = rg.compile(loss, wrt=x)
    ns = step._fns["forward"].__globals__
    consts = [n for n in step.plan.constants_of("forward")]
    assert consts and all(type(ns[f"v{c}"]) is np.ndarray and ns[f"v{c}"].ndim == 0 for c in consts)
    x0 = RNG.uniform(-1, 1, 16)
    h = x0
    for _ in range(3):
        h = np.sin(h) * 1.0001 + h * 0.5  # NumPy with Python floats: the bits the program must give
    assert step.forward(x=x0) == np.sum(h)


def test_scalar_programs_keep_scalar_constants():
    g = rg.Graph()
    a = g.input("a", shape=())
    step = rg.compile(a * 1.1 + 2.0, wrt=a)
    ns = step._fns["forward"].__globals__
    assert all(type(ns[f"v{c}"]) is not np.ndarray for c in step.plan.constants_of("forward"))
    assert step.forward(a=np.array(3.0)) == 3.0 * 1.1 + 2.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weak_constants_keep_the_other_operands_dtype_and_values(dtype):
    g = rg.Graph()
    x = g.input("x", shape=(5,), dtype=dtype)
    f = rg.compile([x * 0.1 + 3, x * 0.5])  # 0.1 is not exact in float32: that constant stays a Python float
    x0 = RNG.standard_normal(5).astype(dtype)
    got = f(x=x0)
    for value, want in zip(got, [x0 * 0.1 + 3, x0 * 0.5]):
        assert value.dtype == dtype and np.array_equal(value, want)


def test_common_factor_in_the_fused_program_keeps_gradients_and_the_step_keeps_edge_gradients():
    x, loss = _w4(40)
    step, plain = rg.compile(loss, wrt=x), rg.compile(loss, wrt=x, optimize=False)
    x0 = RNG.uniform(-1, 1, 16)
    vg_value, vg_grad = step.value_and_grad(x=x0)  # the fused program: factored
    # every layer but the last, whose g is the seed (the constant 1 in the fused program, folded)
    assert _rewrites(step._fused_function()).get("common factor of two products") == 39
    assert vg_value == plain.forward(x=x0)  # forward values are what the user wrote, bit for bit
    want = plain.backward()
    np.testing.assert_allclose(vg_grad, want, rtol=1e-13, atol=0)  # reordered: within rounding
    # the step's programs (drawn, explained) keep each edge's gradient: no factoring there
    assert "common factor of two products" not in _rewrites(step)
    assert step.forward(x=x0) == vg_value and np.array_equal(step.backward(), want)


def test_common_factor_keeps_second_derivatives():
    g = rg.Graph()
    x = g.input("x", shape=(4,))
    h = rg.sin(x) * 1.5 + x * 0.25
    y = rg.sum(rg.sin(h) * 2.0 + h * 0.5)
    (dx,) = rg.grad(y, [x])
    w = np.linspace(-1, 1, 4)
    second = rg.compile(rg.sum(dx * w), wrt=x)  # its gradient is a Hessian-vector product
    x0 = RNG.uniform(-1, 1, 4)
    value, hvp = second.value_and_grad(x=x0)
    # (the passes rewrite the compile's own copy: rg.grad differentiates the graph as written either way)
    plain = rg.compile(rg.sum(dx * w), wrt=x, optimize=False)
    np.testing.assert_allclose(value, plain.forward(x=x0), rtol=1e-13)
    np.testing.assert_allclose(hvp, plain.backward(), rtol=1e-12, atol=1e-15)
    f = rg.compile(dx, optimize=False)
    eps = 1e-6
    numeric = [(np.sum(f(x=x0 + eps * e) * w) - np.sum(f(x=x0 - eps * e) * w)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(hvp, numeric, rtol=1e-6)


def test_common_factor_leaves_the_forward_program_and_shared_products_alone():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    p = x * 2.0
    y = rg.sum(x * 2.0 + x * 3.0) + rg.sum(p * x + p * 3.0) + rg.sum(p)  # p is read three times
    step = rg.compile(y, wrt=x)
    x0 = RNG.standard_normal(3)
    value, grad = step.value_and_grad(x=x0)
    assert value == rg.compile(y, optimize=False)(x=x0)  # the forward program is not factored
    np.testing.assert_allclose(grad, 4 * x0 + 13, rtol=1e-13)


def test_a_two_operand_accumulate_into_a_dying_operand_is_an_augmented_assignment():
    g = rg.Graph()
    x = g.input("x", shape=(16,))
    src = rg.compile(rg.sum(rg.tanh(x) + rg.sigmoid(x)), wrt=x).source  # x's gradient: two fused terms
    accumulates = [line for line in src.splitlines() if "= accumulate(" in line]
    assert accumulates and all(" += " in line.partition("#")[0] for line in accumulates)


@pytest.mark.parametrize("labels_dtype", [np.int64, np.int32, np.uint8])
def test_integer_label_cross_entropy_of_rows_matches_log_softmax(labels_dtype):
    logits = RNG.standard_normal((50, 7)) * 30
    labels = RNG.integers(0, 7, 50).astype(labels_dtype)
    want = kernels.nll(kernels.log_softmax(logits, -1), labels)
    got = kernels.softmax_cross_entropy(logits, labels)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-14)
    f32 = kernels.softmax_cross_entropy(logits.astype(np.float32), labels)
    assert f32.dtype == np.float32


@pytest.mark.parametrize("bad", [[0, 7, 1], [0, -1, 1]])
def test_integer_label_cross_entropy_refuses_labels_out_of_range(bad):
    with pytest.raises(ValueError, match=r"integer labels must lie in \[0, 7\)"):
        kernels.softmax_cross_entropy(np.zeros((3, 7)), np.array(bad))
    with pytest.raises(ValueError, match=r"integer labels must lie in \[0, 7\)"):
        kernels.softmax_cross_entropy_grad(np.zeros((3, 7)), np.array(bad), 1.0)


def test_integer_label_gradient_of_transposed_logits_subtracts_the_labels():
    """Found by the property tests: logits that are a transposed view (an einsum's result) made the scatter of
    -1 at the labels write into a copy, so the gradient lost it (the loss's gradient through tied logits was 2.09,
    not 0)."""
    base = RNG.standard_normal((2, 3, 4))
    logits = base.transpose(1, 0, 2)  # (3, 2, 4), not C-contiguous
    labels = RNG.integers(0, 4, (3, 2))
    got = kernels.softmax_cross_entropy_grad(logits, labels, 0.5)
    want = kernels.softmax(np.ascontiguousarray(logits), -1)
    np.put_along_axis(want, labels[..., None], np.take_along_axis(want, labels[..., None], -1) - 1, -1)
    np.testing.assert_allclose(got, want * 0.5, rtol=1e-14)
