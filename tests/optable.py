"""The op test table: one row per op (and per interesting shape case). Each row: an id, a function
of tensors (or Variables, or arrays) and the input specs (shape, domain); tests/opcase.py says
what a row may add and what every row is checked for. Families of ops keep their rows in their own
files (tests/optable_<family>.py), appended to OP_CASES at the end of this file, one line each."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from revgraph.ir.ops.internal import sigmoid_grad, tanh_grad
from revgraph.ir.ops.nn import nll, softmax_cross_entropy_grad
from opcase import ANY, GT1, NONZERO, OFFGRID, POS, UNIT, case, option, sample  # noqa: F401  (re-exported)

LABELS = np.array([2, 0, 3])
ONEHOT = np.eye(5)[[1, 4, 0]]

# (id, function, [(shape, domain), ...])
OP_CASES = [
    ("add", rg.add, [((3, 1), ANY), ((1, 4), ANY)]),
    ("add_vec_mat", rg.add, [((4,), ANY), ((3, 4), ANY)]),
    ("add_scalar_mat", rg.add, [((), ANY), ((3, 4), ANY)]),
    ("add_same", lambda x: x + x, [((3,), ANY)]),
    ("sub", rg.sub, [((3, 1), ANY), ((1, 4), ANY)]),
    ("sub_scalar_mat", rg.sub, [((), ANY), ((3, 4), ANY)]),
    ("mul", rg.mul, [((3, 1), ANY), ((1, 4), ANY)]),
    ("mul_vec_mat", rg.mul, [((4,), ANY), ((3, 4), ANY)]),
    ("div", rg.div, [((3, 1), ANY), ((1, 4), NONZERO)]),
    ("div_scalar", lambda x, y: x / y, [((3, 4), ANY), ((), NONZERO)]),
    ("rdiv_const", lambda x: 1.0 / x, [((3,), NONZERO)]),
    ("neg", rg.neg, [((2, 3), ANY)]),
    ("pow", rg.pow, [((3, 1), POS), ((1, 4), ANY)]),
    ("pow_const", lambda x: x ** 3.0, [((2, 3), ANY)]),
    ("exp", rg.exp, [((2, 3), ANY)]),
    ("log", rg.log, [((2, 3), POS)]),
    ("sqrt", rg.sqrt, [((2, 3), POS)]),
    ("square", rg.square, [((2, 3), ANY)]),
    ("abs", rg.abs, [((2, 3), NONZERO)]),
    ("sin", rg.sin, [((2, 3), ANY)]),
    ("cos", rg.cos, [((2, 3), ANY)]),
    ("tanh", rg.tanh, [((2, 3), ANY)]),
    ("sigmoid", rg.sigmoid, [((2, 3), ANY)]),
    # the fused VJPs of tanh and sigmoid (their own VJPs are the second derivatives)
    ("tanh_grad", tanh_grad, [((2, 3), ANY), ((2, 3), ANY)]),
    ("tanh_grad_broadcast", tanh_grad, [((3,), ANY), ((2, 3), ANY)]),
    ("sigmoid_grad", sigmoid_grad, [((2, 3), ANY), ((2, 3), ANY)]),
    ("sigmoid_grad_broadcast", sigmoid_grad, [((2, 3), ANY), ((3,), ANY)]),
    ("relu", rg.relu, [((2, 3), NONZERO)]),
    ("maximum", rg.maximum, [((3, 1), ANY), ((1, 4), ANY)]),
    ("minimum", rg.minimum, [((3, 4), ANY), ((4,), ANY)]),
    ("where", lambda x, y: rg.where(x > 0, x, y), [((3, 4), NONZERO), ((4,), ANY)]),
    ("sum_all", lambda x: rg.sum(x), [((3, 4), ANY)]),
    ("sum_axis0", lambda x: rg.sum(x, axis=0), [((3, 4), ANY)]),
    ("sum_axis1_keepdims", lambda x: rg.sum(x, axis=1, keepdims=True), [((3, 4), ANY)]),
    ("sum_neg_axis", lambda x: rg.sum(x, axis=-1), [((2, 3, 4), ANY)]),
    ("sum_tuple_axes", lambda x: rg.sum(x, axis=(0, 2)), [((2, 3, 4), ANY)]),
    ("sum_tuple_keepdims", lambda x: rg.sum(x, axis=(0, 2), keepdims=True), [((2, 3, 4), ANY)]),
    ("mean_all", lambda x: rg.mean(x), [((3, 4), ANY)]),
    ("mean_axis0", lambda x: rg.mean(x, axis=0), [((3, 4), ANY)]),
    ("mean_axis1_keepdims", lambda x: rg.mean(x, axis=1, keepdims=True), [((3, 4), ANY)]),
    ("mean_tuple_axes", lambda x: rg.mean(x, axis=(-1, 0)), [((2, 3, 4), ANY)]),
    ("max_all", lambda x: rg.max(x), [((3, 4), ANY)]),
    ("max_axis0", lambda x: rg.max(x, axis=0), [((3, 4), ANY)]),
    ("max_axis1_keepdims", lambda x: rg.max(x, axis=1, keepdims=True), [((3, 4), ANY)]),
    ("max_tuple_axes", lambda x: rg.max(x, axis=(0, 2)), [((2, 3, 4), ANY)]),
    ("matmul", rg.matmul, [((2, 3), ANY), ((3, 4), ANY)]),
    ("matmul_1d_2d", rg.matmul, [((3,), ANY), ((3, 4), ANY)]),
    ("matmul_2d_1d", rg.matmul, [((2, 3), ANY), ((3,), ANY)]),
    ("matmul_1d_1d", rg.matmul, [((3,), ANY), ((3,), ANY)]),
    ("matmul_batched", rg.matmul, [((2, 3, 4), ANY), ((4, 5), ANY)]),
    ("matmul_batch_broadcast", rg.matmul, [((2, 1, 3, 4), ANY), ((5, 4, 2), ANY)]),
    ("matmul_1d_batched", rg.matmul, [((4,), ANY), ((2, 4, 3), ANY)]),
    ("transpose", lambda x: rg.transpose(x), [((2, 3), ANY)]),
    ("transpose_axes", lambda x: rg.transpose(x, (1, 2, 0)), [((2, 3, 4), ANY)]),
    ("reshape", lambda x: rg.reshape(x, (3, -1)), [((2, 3, 2), ANY)]),
    ("broadcast_to", lambda x: rg.broadcast_to(x, (2, 3, 4)), [((3, 1), ANY)]),
    ("concatenate", lambda x, y: rg.concatenate([x, y, x], axis=1), [((2, 3), ANY), ((2, 1), ANY)]),
    ("getitem", lambda x: x[1:, None, ::2], [((3, 5), ANY)]),
    ("getitem_int", lambda x: x[..., 1], [((2, 3, 4), ANY)]),
    ("expand_dims", lambda x: rg.expand_dims(x, 1), [((2, 3), ANY)]),
    ("squeeze", lambda x: rg.squeeze(x, 0), [((1, 3), ANY)]),
    ("softmax", lambda x: rg.softmax(x), [((3, 5), ANY)]),
    ("softmax_axis0", lambda x: rg.softmax(x, axis=0), [((3, 5), ANY)]),
    ("log_softmax", lambda x: rg.log_softmax(x), [((3, 5), ANY)]),
    ("softmax_cross_entropy_int", lambda x: rg.softmax_cross_entropy(x, LABELS), [((3, 5), ANY)]),
    case("softmax_cross_entropy_onehot", lambda x: rg.softmax_cross_entropy(x, ONEHOT), [((3, 5), ANY)],
         no_float32="the one-hot labels are a float64 constant: NumPy promotion makes the loss float64 (test_dtypes)"),
    ("softmax_cross_entropy_probs", lambda x, t: rg.softmax_cross_entropy(x, rg.softmax(t)), [((3, 5), ANY), ((3, 5), ANY)]),
    ("mse", rg.mse, [((3, 4), ANY), ((4,), ANY)]),
    # what softmax_cross_entropy becomes in a fused value_and_grad program (from log-probabilities)
    ("nll_int", lambda x: nll(rg.log_softmax(x), LABELS), [((3, 5), ANY)]),
    ("nll_probs", lambda x, t: nll(x, rg.softmax(t)), [((3, 5), ANY), ((3, 5), ANY)]),
    # softmax_cross_entropy's gradient to the logits for integer labels (so second order goes through it)
    ("softmax_cross_entropy_grad", lambda x, c: softmax_cross_entropy_grad(x, LABELS, c), [((3, 5), ANY), ((), ANY)]),
]

# -- per-family case files: one line each ------------------------------------------------------------
# (e.g. ``from optable_math import MATH_CASES; OP_CASES += MATH_CASES``)
from optable_linalg import LINALG_CASES; OP_CASES += LINALG_CASES  # noqa: E402,E702
from optable_shape import SHAPE_CASES; OP_CASES += SHAPE_CASES  # noqa: E402,E702  (shape ops, indexing)
from optable_math import MATH_CASES, MATH_ZERO_GRAD_CASES; OP_CASES += MATH_CASES  # noqa: E402,E702
from optable_reduce import REDUCE_CASES, REDUCE_ZERO_GRAD_CASES; OP_CASES += REDUCE_CASES  # noqa: E402,E702
from optable_custom import CUSTOM_CASES; OP_CASES += CUSTOM_CASES  # noqa: E402,E702

# Ops with no gradient: checked to give zeros, not differences.
ZERO_GRAD_CASES = [
    ("less", lambda x: rg.where(rg.less(x, 0.0), 1.0, 2.0) * 1.0),
    ("sign", lambda x: rg.sign(x)),
    *MATH_ZERO_GRAD_CASES,
    *REDUCE_ZERO_GRAD_CASES,
]


def numeric_grad(f, values, eps=1e-6):
    """Central differences of the scalar function f(*values) w.r.t. each value."""
    grads = []
    for i, v in enumerate(values):
        g = np.zeros_like(v, dtype=np.float64)
        for idx in np.ndindex(v.shape):
            plus = [a.copy() for a in values]
            minus = [a.copy() for a in values]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        grads.append(g)
    return grads
from optable_conv import CONV_CASES; OP_CASES += CONV_CASES  # noqa: E402,E702  (conv, pooling, batch norm)
from optable_complex import COMPLEX_CASES; OP_CASES += COMPLEX_CASES  # noqa: E402,E702  (complex numbers, rg.fft)
