"""A two-layer net (the textbook's MNIST sizes: 784 -> 50 -> 10, a batch of 100), both ways.

    revgraph compare examples/compare_mlp.py
    python examples/compare_mlp.py

The big matrix products dominate a step, so both engines spend most of their time in
NumPy and the static engine's advantage (no per-op bookkeeping) is small.
"""

import numpy as np

import revgraph as rg

WRT = ["W1", "b1", "W2", "b2"]  # differentiate the parameters, not the data


def model(x, t, W1, b1, W2, b2):
    h = rg.relu(x @ W1 + b1)
    return rg.softmax_cross_entropy(h @ W2 + b2, t)


def feeds():
    rng = np.random.default_rng(0)
    return {"x": rng.random((100, 784)), "t": rng.integers(0, 10, 100),
            "W1": rng.normal(size=(784, 50)) * 0.01, "b1": np.zeros(50),
            "W2": rng.normal(size=(50, 10)) * 0.01, "b2": np.zeros(10)}


if __name__ == "__main__":
    print(rg.compare(model, wrt=WRT, **feeds()))
