"""Out of core: the textbook two-layer net on a data set 4x larger than each worker's memory.

A local dask.distributed cluster (2 worker processes on 127.0.0.1, ``--memory-limit`` each) computes
the loss and the parameter gradients of the textbook net (784 -> 50 -> 10, ReLU, softmax
cross-entropy) over a data set generated lazily by chunks (``da.random`` with a seed: no chunk exists
before a task makes it, and none is kept after its last reader), with the same compiled graph the
numpy backend runs. The result is checked against the numpy backend computed slice by slice in this
process (rtol 1e-10). Then data-parallel SGD over the data set: one compiled Dask gradient per
mini-batch of chunks, the chunks spread over the workers, with a tqdm bar.

    pip install -e ".[dask,examples]"
    python examples/big_batch.py                  # 2 workers x 512 MiB, a 2 GiB data set: a few minutes
    python examples/big_batch.py --smoke          # tiny (CI): the same steps on 4 chunks of 256 rows

``run(...)`` returns the figures it prints (for tests).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per worker process
    os.environ.setdefault(_var, "1")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from dask.utils import format_bytes, parse_bytes  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from tqdm import tqdm  # noqa: E402

import revgraph as rg  # noqa: E402

FEATURES, HIDDEN, CLASSES = 784, 50, 10
ROW_BYTES = FEATURES * 8 + 8  # one float64 sample and its int64 label


def build_net() -> tuple:
    """The textbook two-layer net as a graph: its loss and the parameters to differentiate."""
    g = rg.Graph("two_layer_net")
    x, t = g.input("x", shape=(None, FEATURES)), g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(FEATURES, HIDDEN)), g.input("b1", shape=(HIDDEN,))
    W2, b2 = g.input("W2", shape=(HIDDEN, CLASSES)), g.input("b2", shape=(CLASSES,))
    loss = rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t)
    return loss, [W1, b1, W2, b2]


def init_params(seed: int) -> dict:
    """He initialisation (suits ReLU); zero biases."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(FEATURES, HIDDEN)) * np.sqrt(2 / FEATURES), "b1": np.zeros(HIDDEN),
            "W2": rng.normal(size=(HIDDEN, CLASSES)) * np.sqrt(2 / HIDDEN), "b2": np.zeros(CLASSES)}


def dataset(rows: int, chunk: int, seed: int) -> tuple:
    """Lazily generated samples and labels, chunked along the batch: x uniform in [0, 1) like pixel
    intensities, labels from a fixed random linear teacher (so SGD has something to learn)."""
    x = da.random.default_rng(seed).random((rows, FEATURES), chunks=(chunk, FEATURES))
    teacher = np.random.default_rng(seed + 1).normal(size=(FEATURES, CLASSES))
    t = da.argmax((x - 0.5) @ teacher, axis=1)
    return x, t


def numpy_by_slices(loss, wrt, x, t, params: dict, chunk: int) -> tuple:
    """The same loss and gradients with the numpy backend, one slice of ``chunk`` rows at a time in this
    process (each slice generated on its own): a mean over the data set is the size-weighted mean of
    the slices' means."""
    step = rg.compile(loss, wrt=wrt)
    rows = x.shape[0]
    value, grads = 0.0, [np.zeros_like(params[w.name]) for w in wrt]
    for start in tqdm(range(0, rows, chunk), desc="numpy, by slices", unit="slice", leave=False):
        xs, ts = dask.compute(x[start:start + chunk], t[start:start + chunk], scheduler="threads")
        v, gs = step.value_and_grad(x=xs, t=ts, **params)
        share = len(xs) / rows
        value += share * v
        grads = [g + share * gi for g, gi in zip(grads, gs)]
    return value, grads


def peak_rss(client: Client) -> dict:
    """The peak resident memory of each worker process so far (bytes)."""
    return client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def sgd(step, x, t, params: dict, chunk: int, chunks_per_batch: int, lr: float, epochs: int) -> list:
    """Data-parallel SGD: one compiled Dask gradient per mini-batch of ``chunks_per_batch`` chunks (the
    chunks computed where the scheduler puts them, the gradient summed as a tree); returns the losses."""
    rows, batch = x.shape[0], chunk * chunks_per_batch
    starts = list(range(0, rows, batch))
    losses = []
    for epoch in range(epochs):
        bar = tqdm(starts, desc=f"SGD epoch {epoch + 1}/{epochs}", unit="batch")
        for start in bar:
            value, grads = step.value_and_grad(x=x[start:start + batch], t=t[start:start + batch], **params)
            for w, g in zip(("W1", "b1", "W2", "b2"), grads):
                params[w] = params[w] - lr * g
            losses.append(float(value))
            bar.set_postfix(loss=f"{value:.4f}")
    return losses


def run(smoke: bool = False, workers: int = 2, memory_limit: str = "512MiB", chunk: int = 4096, times: float = 4.0,
        seed: int = 0, lr: float = 0.1, epochs: int = 1, chunks_per_batch: int = 8) -> dict:
    """Start the cluster, check the out-of-core gradient against the numpy slices, train; returns the figures."""
    limit = parse_bytes(memory_limit)
    if smoke:
        chunk, rows, chunks_per_batch = 256, 4 * 256, 2
    else:  # at least ``times`` x one worker's memory limit, in whole chunks
        rows = -(-int(times * limit) // (ROW_BYTES * chunk)) * chunk
    loss, wrt = build_net()
    step = rg.compile(loss, wrt=wrt, backend="dask")
    x, t = dataset(rows, chunk, seed)
    params = init_params(seed)
    data_bytes = rows * ROW_BYTES
    print(f"data set: {rows} samples x {FEATURES} features = {format_bytes(data_bytes)} "
          f"({data_bytes / limit:.1f}x each worker's memory_limit of {format_bytes(limit)}), chunks of {chunk} rows")
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=limit) as cluster, Client(cluster) as client:
        start = time.perf_counter()
        value, grads = step.value_and_grad(x=x, t=t, **params)
        seconds = time.perf_counter() - start
        print(f"Dask, {workers} workers: loss {value:.6f}, gradients of {', '.join(w.name for w in wrt)} "
              f"in {seconds:.1f} s ({rows / seconds:,.0f} samples/s)")
        peaks = peak_rss(client)
        losses = sgd(step, x, t, params, chunk, chunks_per_batch, lr, epochs)
    print("peak memory per worker: " + ", ".join(format_bytes(p) for p in peaks.values())
          + f" (memory_limit {format_bytes(limit)}; one chunk of x: {format_bytes(chunk * FEATURES * 8)})")
    want_value, want_grads = numpy_by_slices(loss, wrt, x, t, init_params(seed), chunk)
    worst = max(float(np.max(np.abs(g - w) / np.maximum(np.abs(w), 1e-300))) for g, w in zip(grads, want_grads))
    np.testing.assert_allclose(value, want_value, rtol=1e-10)
    for w, g, want in zip(wrt, grads, want_grads):
        np.testing.assert_allclose(g, want, rtol=1e-10, err_msg=f"gradient of {w.name}")
    print(f"numpy backend, slice by slice: loss {want_value:.6f}; the Dask gradients agree (rtol 1e-10; "
          f"worst relative difference {worst:.1e})")
    print(f"SGD over {len(losses)} mini-batches of {chunk * chunks_per_batch} samples: "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return {"rows": rows, "data_bytes": data_bytes, "memory_limit": limit, "peak_rss": list(peaks.values()),
            "loss": value, "numpy_loss": want_value, "worst": worst, "losses": losses, "seconds": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes (CI): 4 chunks of 256 rows")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="512MiB", help="per worker (default 512MiB)")
    p.add_argument("--chunk", type=int, default=4096, help="rows per chunk (default 4096: 25 MiB of x)")
    p.add_argument("--times", type=float, default=4.0, help="data set size in worker memory limits (default 4)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    run(smoke=a.smoke, workers=a.workers, memory_limit=a.memory_limit, chunk=a.chunk, times=a.times, seed=a.seed,
        epochs=a.epochs)


if __name__ == "__main__":
    main()
