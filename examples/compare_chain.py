"""A 1 000-op chain of small elementwise ops, both ways.

    revgraph compare examples/compare_chain.py
    python examples/compare_chain.py

Each op works on 16 numbers, so NumPy's own work is tiny and what a step costs is
the engine's per-op bookkeeping: the dynamic engine records every op and walks the
record backwards in Python, the static engine runs two straight-line functions.
"""

import numpy as np

import revgraph as rg

STEPS = 333  # three ops per step, plus the final sum: 1 000 ops


def model(x, a):
    h = x
    for _ in range(STEPS):
        h = rg.tanh(h * a + 0.1)
    return rg.sum(h)


def feeds():
    return {"x": np.linspace(-1.0, 1.0, 16), "a": np.array(0.9)}


if __name__ == "__main__":
    print(rg.compare(model, **feeds()))
