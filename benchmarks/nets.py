"""W5 (the book's SimpleConvNet, ch. 7) and W6 (an LSTM with truncated BPTT): seeded data, the model written
once against a namespace of functions, and the hand-written NumPy steps every implementation is checked
against and timed relative to.

W5's hand-written step is the book's own layers (Convolution, Relu, Pooling, Affine, SoftmaxWithLoss on
im2col/col2im), written tight: im2col fills its (N, OH, OW, C, KH, KW) buffer one kernel offset at a time (the
book's loop, straight into the layout the matrix needs, so the reshape copies nothing), ReLU is in place,
nothing is computed that the parameter gradients do not need (no input gradient of the first layer, which the
book computes and throws away).

W6's hand-written step is the usual hand-written LSTM (fused gate weights, forward caches per step, backward
step by step, the weight gradients accumulated in place per step).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------------
# W5: SimpleConvNet, conv 30 filters 5x5 (pad 0, stride 1) -> ReLU -> max pool 2x2 -> Affine 100 -> ReLU
#     -> Affine 10 -> softmax with loss, on (N, 1, 28, 28) float64 with integer labels.

W5_FILTERS, W5_K, W5_HIDDEN, W5_CLASSES, W5_IMAGE = 30, 5, 100, 10, 28


def w5_data(batch: int) -> dict:
    rng = np.random.default_rng(0)
    pooled = W5_FILTERS * ((W5_IMAGE - W5_K + 1) // 2) ** 2
    return dict(x=rng.standard_normal((batch, 1, W5_IMAGE, W5_IMAGE)), t=rng.integers(0, W5_CLASSES, batch),
                W1=0.01 * rng.standard_normal((W5_FILTERS, 1, W5_K, W5_K)), b1=np.zeros(W5_FILTERS),
                W2=0.01 * rng.standard_normal((pooled, W5_HIDDEN)), b2=np.zeros(W5_HIDDEN),
                W3=0.01 * rng.standard_normal((W5_HIDDEN, W5_CLASSES)), b3=np.zeros(W5_CLASSES))


W5_PARAMS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def w5_model(ns, v: dict):
    """The loss of SimpleConvNet written with ``ns`` (conv2d, relu, max_pool2d, reshape, softmax_cross_entropy)."""
    n = v["x"].shape[0]
    h = ns.max_pool2d(ns.relu(ns.conv2d(v["x"], v["W1"], v["b1"])), 2)
    h = ns.relu(ns.reshape(h, (n, -1)) @ v["W2"] + v["b2"])
    return ns.softmax_cross_entropy(h @ v["W3"] + v["b3"], v["t"])


def book_im2col(img: np.ndarray, kh: int, kw: int, stride: int = 1) -> np.ndarray:
    """The book's im2col (pad 0): rows (n, oh, ow), columns (c, kh, kw), filled one kernel offset at a time."""
    n, c, h, w = img.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    col = np.empty((n, oh, ow, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            col[:, :, :, :, i, j] = img[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride].transpose(0, 2, 3, 1)
    return col.reshape(n * oh * ow, c * kh * kw)


def book_col2im(col: np.ndarray, shape: tuple, kh: int, kw: int, stride: int = 1) -> np.ndarray:
    """The book's col2im (pad 0): each kernel offset's column block added back into the image."""
    n, c, h, w = shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    col = col.reshape(n, oh, ow, c, kh, kw)
    img = np.zeros(shape)
    for i in range(kh):
        for j in range(kw):
            img[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += col[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return img


def numpy_w5(d: dict):
    """The book's SimpleConvNet step on its own layers, tight (see the module docstring)."""
    x, t, W1, b1, W2, b2, W3, b3 = (d[k] for k in ("x", "t", *W5_PARAMS))
    n = x.shape[0]
    fn, _, kh, kw = W1.shape
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    ph, pw = oh // 2, ow // 2
    rows = np.arange(n)
    col_W = W1.reshape(fn, -1).T

    def step():
        # Convolution (forward): the im2col matrix times the filters, back to NCHW
        col = book_im2col(x, kh, kw)
        y = col @ col_W
        y += b1
        y = y.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)
        # Relu, in place: its mask is what backward needs
        mask = y <= 0
        y[mask] = 0
        # Pooling 2x2 stride 2: im2col of the activations, one row per window, the max and its argmax
        pcol = book_im2col(y, 2, 2, 2).reshape(-1, 4)
        arg_max = pcol.argmax(axis=1)
        p = pcol.max(axis=1).reshape(n, ph, pw, fn).transpose(0, 3, 1, 2)
        del pcol
        # Affine -> Relu -> Affine -> SoftmaxWithLoss
        p2 = p.reshape(n, -1)
        z2 = p2 @ W2
        z2 += b2
        mask2 = z2 <= 0
        z2[mask2] = 0
        a3 = z2 @ W3
        a3 += b3
        a3 -= a3.max(axis=1, keepdims=True)
        e = np.exp(a3)
        s = e.sum(axis=1, keepdims=True)
        loss = np.log(s).sum() / n - a3[rows, t].sum() / n
        e /= s
        e[rows, t] -= 1
        e /= n
        # backward
        dW3, db3 = z2.T @ e, e.sum(axis=0)
        dz2 = e @ W3.T
        dz2[mask2] = 0
        dW2, db2 = p2.T @ dz2, dz2.sum(axis=0)
        dp = (dz2 @ W2.T).reshape(n, fn, ph, pw)
        # Pooling backward: the gradient at each window's argmax, col2im back to the activations
        dout = dp.transpose(0, 2, 3, 1)
        dmax = np.zeros((dout.size, 4))
        dmax[np.arange(arg_max.size), arg_max] = dout.ravel()
        dy = book_col2im(dmax, y.shape, 2, 2, 2)
        dy[mask] = 0
        # Convolution backward: the filters' and bias's gradients (x is data: no col2im for it)
        dout = dy.transpose(0, 2, 3, 1).reshape(-1, fn)
        db1 = dout.sum(axis=0)
        dW1 = (col.T @ dout).T.reshape(W1.shape)
        return loss, [dW1, db1, dW2, db2, dW3, db3]

    return step


def w5_tight_minimum(batch: int) -> float:
    """The least a W5 step must hold at its fullest point, in bytes (float64): every parameter gradient, plus
    the largest set of arrays that must be alive at once -- pooling's input (the ReLU'd convolution output,
    N x 30 x 24 x 24) while its output (N x 30 x 12 x 12) is written, which is also the size of the convolution
    output's gradient the filter gradient is taken from. Any im2col matrix, index array or copy is above it."""
    d = w5_data(1)
    grads = sum(d[k].size for k in W5_PARAMS)
    conv = W5_FILTERS * (W5_IMAGE - W5_K + 1) ** 2
    return 8.0 * (grads + batch * (conv + conv // 4))


# ---------------------------------------------------------------------------------------------
# W6: an LSTM step with truncated BPTT: T time steps from a fed (h0, c0), fused gate weights
#     (Wx (I, 4H), Wh (H, 4H), b (4H), gates f, i, o, u), a linear read-out of the last h, MSE loss.

W6_GATES = 4


def w6_data(size: tuple) -> dict:
    steps, batch, hidden, inputs = size
    rng = np.random.default_rng(0)
    s_in, s_h = 1 / np.sqrt(inputs), 1 / np.sqrt(hidden)
    return dict(xs=rng.standard_normal((steps, batch, inputs)), target=rng.standard_normal((batch, 1)),
                h0=0.5 * rng.standard_normal((batch, hidden)), c0=0.5 * rng.standard_normal((batch, hidden)),
                Wx=s_in * rng.standard_normal((inputs, W6_GATES * hidden)),
                Wh=s_h * rng.standard_normal((hidden, W6_GATES * hidden)), b=np.zeros(W6_GATES * hidden),
                Wy=s_h * rng.standard_normal((hidden, 1)), by=np.zeros(1))


W6_PARAMS = ["Wx", "Wh", "b", "Wy", "by"]


def w6_model(ns, v: dict, steps: int):
    """The LSTM's loss with ``ns`` (sigmoid, tanh, sum); ``xs[t]`` is step t's input, (h0, c0) the fed state."""
    hidden = v["Wh"].shape[0]
    h, c = v["h0"], v["c0"]
    for t in range(steps):
        a = v["xs"][t] @ v["Wx"] + h @ v["Wh"] + v["b"]
        f, i, o = (ns.sigmoid(a[:, k * hidden:(k + 1) * hidden]) for k in range(3))
        u = ns.tanh(a[:, 3 * hidden:])
        c = f * c + i * u
        h = o * ns.tanh(c)
    err = h @ v["Wy"] + v["by"] - v["target"]
    return ns.sum(err * err) / err.shape[0]


def numpy_w6(d: dict):
    """The hand-written LSTM: forward caching each step's gates, backward step by step."""
    xs, target, h0, c0, Wx, Wh, b, Wy, by = (d[k] for k in ("xs", "target", "h0", "c0", *W6_PARAMS))
    steps, batch = xs.shape[:2]
    hidden = Wh.shape[0]
    H, H3 = hidden, 3 * hidden

    def step():
        hs, cs, gates, tcs = [h0], [c0], [], []
        h, c = h0, c0
        for t in range(steps):
            a = xs[t] @ Wx
            a += h @ Wh
            a += b
            sg = a[:, :H3]  # sigmoid of the f, i, o gates and tanh of u, in place
            np.negative(sg, out=sg)
            np.exp(sg, out=sg)
            sg += 1
            np.reciprocal(sg, out=sg)
            np.tanh(a[:, H3:], out=a[:, H3:])
            f, i, o, u = a[:, :H], a[:, H:2 * H], a[:, 2 * H:H3], a[:, H3:]
            c = f * c
            c += i * u
            tc = np.tanh(c)
            h = o * tc
            gates.append(a)
            tcs.append(tc)
            hs.append(h)
            cs.append(c)
        err = h @ Wy
        err += by
        err -= target
        loss = (err * err).sum() / batch
        derr = err * (2.0 / batch)
        dWy, dby = h.T @ derr, derr.sum(axis=0)
        dh = derr @ Wy.T
        dc = np.zeros_like(c0)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        da = np.empty((batch, 4 * H))
        for t in reversed(range(steps)):
            a, tc = gates[t], tcs[t]
            f, i, o, u = a[:, :H], a[:, H:2 * H], a[:, 2 * H:H3], a[:, H3:]
            np.multiply(dh, tc, out=da[:, 2 * H:H3])          # d o
            dh *= o
            np.square(tc, out=tc)                             # d c += dh * o * (1 - tanh(c)^2)
            np.subtract(1, tc, out=tc)
            dh *= tc
            dc += dh
            np.multiply(dc, cs[t], out=da[:, :H])             # d f
            np.multiply(dc, u, out=da[:, H:2 * H])            # d i
            np.multiply(dc, i, out=da[:, H3:])                # d u
            dc *= f                                           # d c_prev
            s = a[:, :H3]                                     # sigmoid' = s (1 - s); tanh' = 1 - u^2
            da[:, :H3] *= s
            np.subtract(1, s, out=s)
            da[:, :H3] *= s
            np.square(u, out=u)
            np.subtract(1, u, out=u)
            da[:, H3:] *= u
            dWx += xs[t].T @ da
            dWh += hs[t].T @ da
            db += da.sum(axis=0)
            dh = da @ Wh.T
        return loss, [dWx, dWh, db, dWy, dby]

    return step
