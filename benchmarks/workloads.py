"""The workloads: seeded data, the hand-written NumPy forward/backward (the reference every
implementation is checked against before it is timed), and a graph/model per implementation.

Every implementation of a workload returns ``make(size) -> (step, value_and_grads)``:
``step()`` runs one forward+backward and returns ``(value, [gradients])`` as NumPy-convertible
values; building the model (graph, compile, jit) happens inside ``make``.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------------
# data


def w1_data(size: int) -> dict:
    """The textbook apple-and-orange prices (0-d float64 arrays, as hand-written NumPy would hold them)."""
    return {k: np.array(v) for k, v in dict(apple=100.0, apple_num=2.0, orange=150.0, orange_num=3.0, tax=1.1).items()}


def w2_data(batch: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784))
    t = np.eye(10)[rng.integers(0, 10, batch)]
    return dict(x=x, t=t, W1=0.01 * rng.standard_normal((784, 50)), b1=np.zeros(50),
                W2=0.01 * rng.standard_normal((50, 10)), b2=np.zeros(10))


def w3_data(size: tuple) -> dict:
    layers, width, batch = size
    rng = np.random.default_rng(0)
    d = {"x": rng.standard_normal((batch, width))}
    for i in range(layers):
        d[f"W{i}"] = rng.standard_normal((width, width)) / np.sqrt(width)
        d[f"b{i}"] = 0.1 * rng.standard_normal(width)
    return d


W4_WIDTH = 8


def w4_data(n: int) -> dict:
    return {"x": np.random.default_rng(0).uniform(-1, 1, W4_WIDTH)}


DATA = {"W1": w1_data, "W2": w2_data, "W3": w3_data, "W4": w4_data}
PARAMS = {  # what the gradients are taken with respect to
    "W1": lambda d: ["apple", "apple_num", "orange", "orange_num", "tax"],
    "W2": lambda d: ["W1", "b1", "W2", "b2"],
    "W3": lambda d: [k for k in d if k != "x"],
    "W4": lambda d: ["x"],
}

# W4's chain: op i is CHAIN[i % 4] -- small elementwise ops no simplification removes.
CHAIN = ("sin", "scale", "shift", "tanh")
SCALE, SHIFT = 0.99, 0.01

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
    x, t, W1, b1, W2, b2 = (d[k] for k in ("x", "t", "W1", "b1", "W2", "b2"))
    batch = x.shape[0]

    def step():
        z1 = x @ W1 + b1
        h = np.maximum(z1, 0)
        a2 = h @ W2 + b2
        shifted = a2 - a2.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.sum(t * (shifted - np.log(s))) / batch
        da2 = (e / s - t) / batch
        dh = da2 @ W2.T
        dz1 = dh * (z1 > 0)
        return loss, [x.T @ dz1, dz1.sum(axis=0), h.T @ da2, da2.sum(axis=0)]

    return step


def numpy_w3(d: dict):
    x = d["x"]
    layers = [(d[f"W{i}"], d[f"b{i}"]) for i in range(len(d) // 2)]

    def step():
        hs = [x]
        for W, b in layers:
            hs.append(np.tanh(hs[-1] @ W + b))
        loss = hs[-1].sum()
        g = np.ones_like(hs[-1])
        grads = []
        for i in reversed(range(len(layers))):
            gz = g * (1 - hs[i + 1] ** 2)
            grads = [hs[i].T @ gz, gz.sum(axis=0)] + grads
            g = gz @ layers[i][0].T
        return loss, grads

    return step


def numpy_w4(d: dict, n: int):
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
    if workload == "W4":
        return numpy_w4(d, size)
    return {"W1": numpy_w1, "W2": numpy_w2, "W3": numpy_w3}[workload](d)


# ---------------------------------------------------------------------------------------------
# one model definition, written against a namespace of functions (revgraph, autograd, JAX, torch)


def model(workload: str, size, ns, v: dict):
    """The loss of ``workload`` written with ``ns`` (an object with tanh, sin, relu, exp, log, max, sum)."""
    if workload == "W1":
        return (v["apple"] * v["apple_num"] + v["orange"] * v["orange_num"]) * v["tax"]
    if workload == "W2":
        h = ns.relu(v["x"] @ v["W1"] + v["b1"])
        a2 = h @ v["W2"] + v["b2"]
        return ns.softmax_cross_entropy(a2, v["t"])
    if workload == "W3":
        h = v["x"]
        for i in range(size[0]):
            h = ns.tanh(h @ v[f"W{i}"] + v[f"b{i}"])
        return ns.sum(h)
    h = v["x"]
    for i in range(size):
        kind = CHAIN[i % 4]
        h = ns.sin(h) if kind == "sin" else h * SCALE if kind == "scale" else h + SHIFT if kind == "shift" else ns.tanh(h)
    return ns.sum(h)
