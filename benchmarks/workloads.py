"""The workloads: seeded data, the hand-written NumPy forward/backward (the reference every
implementation is checked against before it is timed), and a graph/model per implementation.

Every implementation of a workload returns ``make(size) -> (step, value_and_grads)``:
``step()`` runs one forward+backward and returns ``(value, [gradients])`` as NumPy-convertible
values; building the model (graph, compile, jit) happens inside ``make``.
"""

from __future__ import annotations

import numpy as np

from .nets import W5_PARAMS, W6_PARAMS, numpy_w5, numpy_w6, w5_data, w5_model, w6_data, w6_model

# ---------------------------------------------------------------------------------------------
# data


def w1_data(size: int) -> dict:
    """The textbook apple-and-orange prices (0-d float64 arrays, as hand-written NumPy would hold them)."""
    return {k: np.array(v) for k, v in dict(apple=100.0, apple_num=2.0, orange=150.0, orange_num=3.0, tax=1.1).items()}


def w2_data(batch: int) -> dict:
    """The two-layer net's data with integer labels (``t``: int64 class indices, as the book's MNIST loader
    gives them without ``one_hot_label=True``)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784))
    t = rng.integers(0, 10, batch).astype(np.int64)
    return dict(x=x, t=t, W1=0.01 * rng.standard_normal((784, 50)), b1=np.zeros(50),
                W2=0.01 * rng.standard_normal((50, 10)), b2=np.zeros(10))


def w2_onehot_data(batch: int) -> dict:
    """W2 with the same labels one-hot encoded (``t``: float64, shape (batch, 10))."""
    d = w2_data(batch)
    return {**d, "t": np.eye(10)[d["t"]]}


def w3_data(size: tuple) -> dict:
    layers, width, batch = size
    rng = np.random.default_rng(0)
    d = {"x": rng.standard_normal((batch, width))}
    for i in range(layers):
        d[f"W{i}"] = rng.standard_normal((width, width)) / np.sqrt(width)
        d[f"b{i}"] = 0.1 * rng.standard_normal(width)
    return d


# W4: N layers of h = sin(h) * A + h * B on 16 values, loss sum(h). Every h feeds two ops (a fan-out
# of two in every layer's gradient) and the two constants are shared by all N layers (10^5 readers):
# 4 forward and about 5 adjoint nodes per layer.
W4_WIDTH = 16
W4_A, W4_B = 1.0001, 0.5
# W4-chain (the earlier W4, kept as an extra row): a chain of N single ops, op i is CHAIN[i % 4].
CHAIN_WIDTH = 8
CHAIN = ("sin", "scale", "shift", "tanh")
SCALE, SHIFT = 0.99, 0.01


def w4_data(n: int) -> dict:
    return {"x": np.random.default_rng(0).uniform(-1, 1, W4_WIDTH)}


def chain_data(n: int) -> dict:
    return {"x": np.random.default_rng(0).uniform(-1, 1, CHAIN_WIDTH)}


DATA = {"W1": w1_data, "W2": w2_data, "W2-onehot": w2_onehot_data, "W3": w3_data, "W4": w4_data,
        "W4-chain": chain_data, "W5": w5_data, "W6": w6_data}
PARAMS = {  # what the gradients are taken with respect to
    "W1": lambda d: ["apple", "apple_num", "orange", "orange_num", "tax"],
    "W2": lambda d: ["W1", "b1", "W2", "b2"],
    "W2-onehot": lambda d: ["W1", "b1", "W2", "b2"],
    "W3": lambda d: [k for k in d if k != "x"],
    "W4": lambda d: ["x"],
    "W4-chain": lambda d: ["x"],
    "W5": lambda d: list(W5_PARAMS),
    "W6": lambda d: list(W6_PARAMS),
}

# ---------------------------------------------------------------------------------------------
# hand-written NumPy: the practical limit, and the reference values


def numpy_w1(d: dict):
    apple, apple_num, orange, orange_num, tax = (d[k] for k in PARAMS["W1"](d))

    def step():
        a = apple * apple_num
        o = orange * orange_num
        s = a + o
        price = s * tax
        ds = tax  # d price / d s
        return price, [ds * apple_num, ds * apple, ds * orange_num, ds * orange, s]

    return step


def numpy_w2(d: dict):
    """The book's TwoLayerNet step with integer labels: SoftmaxWithLoss gathers the true class's
    log-probability (``y[arange(n), t]``) and its backward subtracts 1 there -- no one-hot anywhere."""
    x, t, W1, b1, W2, b2 = (d[k] for k in ("x", "t", "W1", "b1", "W2", "b2"))
    batch = x.shape[0]
    rows = np.arange(batch)

    def step():
        z1 = x @ W1
        z1 += b1
        h = np.maximum(z1, 0)
        a2 = h @ W2
        a2 += b2
        a2 -= a2.max(axis=1, keepdims=True)  # shifted logits, in place
        e = np.exp(a2)
        s = e.sum(axis=1, keepdims=True)
        loss = np.log(s).sum() / batch - a2[rows, t].sum() / batch
        e /= s  # softmax, in place; then its gradient
        e[rows, t] -= 1
        e /= batch
        dh = e @ W2.T
        dh *= z1 > 0
        return loss, [x.T @ dh, dh.sum(axis=0), h.T @ e, e.sum(axis=0)]

    return step


def numpy_w2_onehot(d: dict):
    """W2 with one-hot labels: the cross-entropy as a sum over ``t * log_softmax``."""
    x, t, W1, b1, W2, b2 = (d[k] for k in ("x", "t", "W1", "b1", "W2", "b2"))
    batch = x.shape[0]

    def step():
        z1 = x @ W1
        z1 += b1
        h = np.maximum(z1, 0)
        a2 = h @ W2
        a2 += b2
        a2 -= a2.max(axis=1, keepdims=True)
        e = np.exp(a2)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.sum(t * (a2 - np.log(s))) / batch
        e /= s
        e -= t
        e /= batch
        dh = e @ W2.T
        dh *= z1 > 0
        return loss, [x.T @ dh, dh.sum(axis=0), h.T @ e, e.sum(axis=0)]

    return step


def numpy_w3(d: dict):
    """16 tanh layers, written as a careful person would: bias and tanh in place, each activation
    dropped once its layer's gradient is taken, tanh's derivative formed in the activation's buffer."""
    x = d["x"]
    layers = [(d[f"W{i}"], d[f"b{i}"]) for i in range(len(d) // 2)]

    def step():
        hs = [x]
        for W, b in layers:
            z = hs[-1] @ W
            z += b
            hs.append(np.tanh(z, out=z))
        loss = hs[-1].sum()
        g = None
        grads = []
        for i in reversed(range(len(layers))):
            gz = hs.pop()  # tanh'(z) = 1 - y², in y's buffer
            np.square(gz, out=gz)
            np.subtract(1.0, gz, out=gz)
            if g is not None:
                gz *= g
            grads = [hs[-1].T @ gz, gz.sum(axis=0)] + grads
            g = gz @ layers[i][0].T if i else None
        return loss, grads

    return step


def numpy_w4(d: dict, n: int):
    """h = sin(h)*A + h*B, N times; the gradient through each layer is g * (cos(h)*A + B)."""
    x = d["x"]

    def step():
        hs = [x]
        h = x
        for _ in range(n):
            h = np.sin(h) * W4_A + h * W4_B
            hs.append(h)
        g = np.ones_like(h)
        for i in reversed(range(n)):
            g = g * (np.cos(hs[i]) * W4_A + W4_B)
        return h.sum(), [g]

    return step


def numpy_chain(d: dict, n: int):
    x = d["x"]

    def step():
        hs = [x]
        h = x
        for i in range(n):
            kind = CHAIN[i % 4]
            h = np.sin(h) if kind == "sin" else h * SCALE if kind == "scale" else h + SHIFT if kind == "shift" else np.tanh(h)
            hs.append(h)
        g = np.ones_like(h)
        for i in reversed(range(n)):
            kind = CHAIN[i % 4]
            if kind == "sin":
                g = g * np.cos(hs[i])
            elif kind == "scale":
                g = g * SCALE
            elif kind == "tanh":
                g = g * (1 - hs[i + 1] ** 2)
        return h.sum(), [g]

    return step


def numpy_impl(workload: str, size, d: dict):
    if workload in ("W4", "W4-chain"):
        return (numpy_w4 if workload == "W4" else numpy_chain)(d, size)
    return {"W1": numpy_w1, "W2": numpy_w2, "W2-onehot": numpy_w2_onehot, "W3": numpy_w3, "W5": numpy_w5,
            "W6": numpy_w6}[workload](d)


# ---------------------------------------------------------------------------------------------
# one model definition, written against a namespace of functions (revgraph, autograd, JAX, torch)


def model(workload: str, size, ns, v: dict):
    """The loss of ``workload`` written with ``ns`` (an object with tanh, sin, relu, exp, log, max, sum; for W5
    and W6 also conv2d, max_pool2d, reshape, sigmoid)."""
    if workload == "W5":
        return w5_model(ns, v)
    if workload == "W6":
        return w6_model(ns, v, size[0])
    if workload == "W1":
        return (v["apple"] * v["apple_num"] + v["orange"] * v["orange_num"]) * v["tax"]
    if workload in ("W2", "W2-onehot"):  # softmax_cross_entropy tells integer labels from one-hot by shape
        h = ns.relu(v["x"] @ v["W1"] + v["b1"])
        a2 = h @ v["W2"] + v["b2"]
        return ns.softmax_cross_entropy(a2, v["t"])
    if workload == "W3":
        h = v["x"]
        for i in range(size[0]):
            h = ns.tanh(h @ v[f"W{i}"] + v[f"b{i}"])
        return ns.sum(h)
    h = v["x"]
    if workload == "W4":
        for _ in range(size):
            h = ns.sin(h) * W4_A + h * W4_B
        return ns.sum(h)
    for i in range(size):
        kind = CHAIN[i % 4]
        h = ns.sin(h) if kind == "sin" else h * SCALE if kind == "scale" else h + SHIFT if kind == "shift" else ns.tanh(h)
    return ns.sum(h)


def w4_build(rg, n: int):
    """W4's graph with revgraph: ``(graph, x, loss)`` (what benchmarks/phases.py times)."""
    g = rg.Graph("W4")
    x = g.input("x", shape=(W4_WIDTH,))
    return g, x, model("W4", n, rg, {"x": x})
