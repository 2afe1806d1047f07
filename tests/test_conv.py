"""Convolution, pooling and batch norm: conventions, shapes, errors, the book's layers built on im2col, and (where
PyTorch is installed -- it is not a dependency) gradients equal to PyTorch's on a stride/pad grid."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from optable_conv import ref_col2im, ref_conv2d, ref_im2col


def _compile_grads(fn, values):
    g = rg.Graph("conv")
    xs = [g.input(f"x{i}", shape=v.shape) for i, v in enumerate(values)]
    out = fn(*xs)
    proj = np.random.default_rng(7).normal(size=[s for s in out.shape])
    loss = rg.sum(out * proj)
    step = rg.compile(loss, wrt=xs)
    step.forward(**{x.name: v for x, v in zip(xs, values)})
    return step.backward(), proj


def test_conv_built_on_im2col_as_the_book_does():
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    cols = rg.im2col(x, 3, stride=1, pad=1)                     # (N*OH*OW, C*KH*KW)
    assert cols.shape == (2 * 6 * 6, 3 * 3 * 3)
    np.testing.assert_allclose(cols, ref_im2col(x, 3, 1, 1))
    y = (cols @ W.reshape(4, -1).T + b).reshape(2, 6, 6, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, rg.conv2d(x, W, b, pad=1), rtol=1e-12)
    np.testing.assert_allclose(rg.col2im(cols, x.shape, 3, pad=1), ref_col2im(cols, x.shape, 3, 1, 1))


def test_max_pool_padding_never_wins_and_ties_go_to_the_first():
    x = -np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(rg.max_pool2d(x, 2, stride=1, pad=1), -np.ones((1, 1, 3, 3)))
    (gx,), _ = _compile_grads(lambda t: rg.max_pool2d(t, 2), [np.zeros((1, 1, 2, 2))])
    proj = np.random.default_rng(7).normal(size=(1, 1, 1, 1))
    np.testing.assert_allclose(gx, [[[[proj.item(), 0.0], [0.0, 0.0]]]])


def test_avg_pool_counts_padding_in_the_divisor():
    x = np.ones((1, 1, 2, 2))
    y = rg.avg_pool2d(x, 2, stride=2, pad=1)
    np.testing.assert_allclose(y, np.full((1, 1, 2, 2), 0.25))


def test_conv_transpose_is_conv2ds_input_gradient_and_outsize_picks_the_size():
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(1, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3))
    gy = rng.normal(size=(1, 3, 3, 3))
    g = rg.Graph("c")
    xt = g.input("x", shape=(1, 2, 6, 6))
    y = rg.conv2d(xt, W, stride=2, pad=1)
    assert y.shape == (1, 3, 3, 3)
    dx = rg.compile(rg.grad(y, xt, seed=gy))(x=x)
    np.testing.assert_allclose(dx, rg.conv_transpose2d(gy, W, stride=2, pad=1, outsize=(6, 6)), rtol=1e-12)
    assert rg.conv_transpose2d(gy, W, stride=2, pad=1).shape == (1, 2, 5, 5)
    with pytest.raises(rg.GraphError, match="outsize=\\(7, 7\\)"):
        rg.conv_transpose2d(rg.Graph().input("g", shape=(1, 3, 3, 3)), W, stride=2, pad=1, outsize=(7, 7))


def test_mistakes_are_graph_errors_naming_shapes_and_fix():
    g = rg.Graph("bad")
    x = g.input("x", shape=(None, 3, 8, 8))
    with pytest.raises(rg.GraphError, match="for 3 input channels they must be \\(out_channels, 3, KH, KW\\)"):
        rg.conv2d(x, g.input("W", shape=(4, 2, 3, 3)))
    with pytest.raises(rg.GraphError, match="\\(N, C, H, W\\)"):
        rg.max_pool2d(g.input("flat", shape=(3, 8)), 2)
    with pytest.raises(rg.GraphError, match="kernel_size=0"):
        rg.max_pool2d(x, 0)
    with pytest.raises(rg.GraphError, match="does not fit height size 8"):
        rg.conv2d(x, g.input("W2", shape=(4, 3, 9, 9)))
    with pytest.raises(rg.GraphError, match="gamma has shape \\(4,\\), not \\(3,\\)"):
        rg.batch_norm(x, g.input("gm", shape=(4,)), g.input("bt", shape=(3,)))
    with pytest.raises(rg.GraphError, match="bias has shape"):
        rg.conv2d(x, g.input("W3", shape=(4, 3, 3, 3)), g.input("b3", shape=(5,)))


def test_batch_norm_normalises_with_batch_statistics():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(64, 5))
    y = rg.batch_norm(x, np.ones(5), np.zeros(5))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-5)
    img = rng.normal(size=(4, 3, 2, 2))
    yi = rg.batch_norm(img, np.full(3, 2.0), np.full(3, 1.0))
    np.testing.assert_allclose(yi.mean(axis=(0, 2, 3)), 1.0, atol=1e-12)


def test_static_and_dynamic_agree_on_a_conv_net_step():
    rng = np.random.default_rng(3)
    x, W, b = rng.normal(size=(2, 1, 6, 6)), rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    g = rg.Graph("cnn")
    xs = [g.input(n, shape=v.shape) for n, v in (("x", x), ("W", W), ("b", b))]
    loss = rg.sum(rg.max_pool2d(rg.relu(rg.conv2d(*xs, pad=1)), 2) ** 2)
    step = rg.compile(loss, wrt=xs[1:])
    step.forward(x=x, W=W, b=b)
    dW, db = step.backward()
    Wv, bv = dy.Variable(W), dy.Variable(b)
    rg.sum(rg.max_pool2d(rg.relu(rg.conv2d(x, Wv, bv, pad=1)), 2) ** 2).backward()
    np.testing.assert_allclose(Wv.grad.data, dW, rtol=1e-12)
    np.testing.assert_allclose(bv.grad.data, db, rtol=1e-12)


GRID = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]


@pytest.mark.parametrize("stride,pad", GRID)
def test_gradients_match_pytorch(stride, pad):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the cross-check runs where it is")
    F = torch.nn.functional
    rng = np.random.default_rng(stride * 10 + pad)
    x, W, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    gamma, beta = rng.uniform(0.5, 2, size=4), rng.normal(size=4)
    k = max(2, 2 * pad)

    def ours(x, W, b, gamma, beta):
        y = rg.conv2d(x, W, b, stride=stride, pad=pad)
        y = rg.batch_norm(y, gamma, beta)
        return rg.max_pool2d(y, k, stride=stride, pad=pad) + rg.avg_pool2d(y, k, stride=stride, pad=pad)

    values = [x, W, b, gamma, beta]
    grads, proj = _compile_grads(ours, values)
    tx = [torch.tensor(v, requires_grad=True) for v in values]
    y = F.conv2d(tx[0], tx[1], tx[2], stride=stride, padding=pad)
    y = F.batch_norm(y, None, None, tx[3], tx[4], training=True, eps=1e-5)
    out = F.max_pool2d(y, k, stride=stride, padding=pad) + F.avg_pool2d(y, k, stride=stride, padding=pad)
    (out * torch.tensor(proj)).sum().backward()
    for ours_g, t in zip(grads, tx):
        np.testing.assert_allclose(ours_g, t.grad.numpy(), rtol=1e-10, atol=1e-10)
    # and the transposed convolution against torch's
    gy = rng.normal(size=(2, 3, 4, 4))
    Wt = rng.normal(size=(3, 2, 3, 3))
    theirs = F.conv_transpose2d(torch.tensor(gy), torch.tensor(Wt), stride=stride, padding=pad).numpy()
    np.testing.assert_allclose(rg.conv_transpose2d(gy, Wt, stride=stride, pad=pad), theirs, rtol=1e-10, atol=1e-12)


def test_reference_conv_matches_kernel_on_a_grid():
    rng = np.random.default_rng(4)
    for stride, pad in GRID:
        x, W = rng.normal(size=(2, 2, 7, 6)), rng.normal(size=(3, 2, 3, 2))
        np.testing.assert_allclose(rg.conv2d(x, W, stride=stride, pad=pad), ref_conv2d(x, W, stride=stride, pad=pad),
                                   rtol=1e-12)


def test_im2col_whose_windows_are_the_rows_is_still_a_fresh_array():
    """One window position per image (1x1 kernel on 1x1 images): the reshape of the windows is a read-only
    view of x, yet im2col is declared fresh, so the memory plan wrote the next op into it (found by the image
    generators of tests/randgraph_image.py: "output array is read-only")."""
    g = rg.Graph()
    x = g.input("x", shape=(4, 1, 1, 1))
    fed = np.arange(4.0).reshape(4, 1, 1, 1)
    np.testing.assert_array_equal(rg.compile(rg.im2col(x, 1) * 2.0)(x=fed).ravel(), [0.0, 2.0, 4.0, 6.0])
    np.testing.assert_array_equal(fed.ravel(), [0.0, 1.0, 2.0, 3.0])
