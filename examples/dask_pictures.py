"""The two pictures of docs/dask.md: the textbook two-layer net as revgraph draws it (forward and
adjoint graph, ``rg.render(step, ..., which="joint")``) and the Dask task graph of one call of the
same step on a batch in 2 chunks (``step.dask_graph(...).visualize(...)``).

    pip install -e ".[dask]"
    python examples/dask_pictures.py            # writes docs/img/dask/joint.png and docs/img/dask/tasks.png
"""

from __future__ import annotations

import os

import dask.array as da
import numpy as np

import revgraph as rg

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "img", "dask")


def main() -> None:
    g = rg.Graph("two_layer_net")
    x, t = g.input("x", shape=(None, 784)), g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(784, 50)), g.input("b1", shape=(50,))
    W2, b2 = g.input("W2", shape=(50, 10)), g.input("b2", shape=(10,))
    loss = rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t)
    step = rg.compile(loss, wrt=[W1, b1, W2, b2], backend="dask")
    rng = np.random.default_rng(0)
    feeds = {"x": da.random.default_rng(1).random((200, 784), chunks=(100, 784)),
             "t": da.random.default_rng(2).integers(0, 10, 200, chunks=100),
             "W1": rng.normal(size=(784, 50)) * 0.05, "b1": np.zeros(50), "W2": rng.normal(size=(50, 10)) * 0.1,
             "b2": np.zeros(10)}
    os.makedirs(OUT, exist_ok=True)
    print(rg.render(step, os.path.join(OUT, "joint.png"), which="joint"))
    tasks = step.dask_graph(**feeds)
    tasks.visualize(filename=os.path.join(OUT, "tasks.png"), rankdir="LR")
    print(os.path.join(OUT, "tasks.png"), f"({len(tasks.dask)} tasks)")


if __name__ == "__main__":
    main()
