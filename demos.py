"""The textbook's example graphs, ready to compile, draw and print (`revgraph demo NAME`).

Each builder returns ``(graph, output, wrt, feeds)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .ir import Graph
from .ir import ops as F


def apple() -> tuple:
    """Buying two apples with tax: 100 × 2 × 1.1 = 220."""
    g = Graph("buy_apple")
    apple, num, tax = g.input("apple"), g.input("apple_num"), g.input("tax")
    price = (apple * num * tax).rename("price")
    return g, price, [apple, num, tax], {"apple": 100.0, "apple_num": 2.0, "tax": 1.1}


def apple_orange() -> tuple:
    """Apples and oranges with tax: (100 × 2 + 150 × 3) × 1.1 = 715."""
    g = Graph("buy_apple_orange")
    apple, apple_num, orange, orange_num, tax = (g.input(n) for n in
                                                  ["apple", "apple_num", "orange", "orange_num", "tax"])
    price = ((apple * apple_num + orange * orange_num) * tax).rename("price")
    feeds = {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1}
    return g, price, [apple, apple_num, orange, orange_num, tax], feeds


def abc() -> tuple:
    """z = (a + b) · c at a=50, b=70, c=2: 240."""
    g = Graph("abc")
    a, b, c = g.input("a"), g.input("b"), g.input("c")
    z = ((a + b) * c).rename("z")
    return g, z, [a, b, c], {"a": 50.0, "b": 70.0, "c": 2.0}


def sigmoid() -> tuple:
    """y = sigmoid(x) at x = 0.5; dy/dx = y (1 - y)."""
    g = Graph("sigmoid")
    x = g.input("x")
    return g, F.sigmoid(x).rename("y"), [x], {"x": 0.5}


def mlp() -> tuple:
    """A small two-layer net: Affine → ReLU → Affine → softmax with cross-entropy."""
    rng = np.random.default_rng(0)
    g = Graph("two_layer_net")
    x = g.input("x", shape=(None, 4))
    t = g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(4, 5)), g.input("b1", shape=(5,))
    W2, b2 = g.input("W2", shape=(5, 3)), g.input("b2", shape=(3,))
    h = F.relu(x @ W1 + b1)
    loss = F.softmax_cross_entropy(h @ W2 + b2, t).rename("loss")
    feeds = {"x": rng.normal(size=(2, 4)), "t": np.array([0, 2]), "W1": rng.normal(size=(4, 5)) * 0.5,
             "b1": np.zeros(5), "W2": rng.normal(size=(5, 3)) * 0.5, "b2": np.zeros(3)}
    return g, loss, [W1, b1, W2, b2], feeds


DEMOS: dict[str, Callable[[], tuple]] = {"apple_orange": apple_orange, "apple": apple, "abc": abc,
                                         "sigmoid": sigmoid, "mlp": mlp}


def run(name: str) -> tuple[Any, Any, list]:
    """Compile demo ``name``, run forward and backward: ``(step, value, grads)``."""
    from .compiler import compile

    graph, out, wrt, feeds = DEMOS[name]()
    step = compile(out, wrt=wrt)
    value = step.forward(**feeds)
    return step, value, step.backward()
