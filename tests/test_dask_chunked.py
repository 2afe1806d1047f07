"""Batch-separable graphs on the Dask backend (backends/dask/chunks.py): a loss that is a mean or a sum over
the rows of the fed dask arrays runs the numpy backend's fused program once per chunk, the chunks' results
weighted and tree-summed. Values and gradients equal the numpy backend's (rtol 1e-10) on chunked feeds,
even ones, an uneven last chunk, one chunk, lazily and not, on dask's schedulers and on a LocalCluster
(1 worker process on 127.0.0.1, started and closed here); graphs that are not separable (a weight penalty
added to the mean, a normalisation over the batch, a gradient with respect to the batch, random draws)
take the op-by-op lowering and agree too. compiler/batch.py's verdicts are checked directly."""

import dask
import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback
from distributed import Client, LocalCluster

import revgraph as rg
from revgraph.backends.dask import chunks
from revgraph.compiler.batch import output_kind
from test_dask_net import RTOL, params, two_layer_net

N, CHUNK = 1003, 250  # 5 chunks, the last of 3 rows


def assert_same(got, want, what):
    """rtol 1e-10, and an atol of 1e-10 of the array's largest entry: the chunks' partial sums are added in
    another order than one product over the whole batch, so an entry that cancels to ~1e-7 of the others
    keeps the rounding of the others (an absolute error), as any reordering of the sum would."""
    for i, (a, b) in enumerate(zip(got, want)):
        assert not isinstance(a, da.Array), f"{what}[{i}] is a dask array, not NumPy"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * np.max(np.abs(b)), err_msg=f"{what}[{i}]")


class Tasks(Callback):
    """The layers (key names without their token) of the tasks dask ran."""

    def __init__(self):
        super().__init__()
        self.layers = []

    def _pretask(self, key, dsk, state):
        name = key[0] if isinstance(key, tuple) else key
        self.layers.append(str(name).rsplit("-", 1)[0])


def _make_x(block_id=None, block_info=None):
    rows = block_info[None]["chunk-shape"][0]
    return np.random.default_rng([1, block_id[0]]).standard_normal((rows, 784))


def _make_t(block_id=None, block_info=None):
    return np.random.default_rng([2, block_id[0]]).integers(0, 10, block_info[None]["chunk-shape"][0])


def data(n=N, chunk=CHUNK):
    """x and t generated lazily, chunk by chunk (map_blocks), and the same as NumPy arrays."""
    chunks = tuple(min(chunk, n - s) for s in range(0, n, chunk))
    x = da.map_blocks(_make_x, dtype=float, chunks=(chunks, (784,)), meta=np.empty((0, 0)))
    t = da.map_blocks(_make_t, dtype=np.int64, chunks=(chunks,), meta=np.empty((0,), np.int64))
    return x, t, *dask.compute(x, t, scheduler="sync")


@pytest.fixture(scope="module")
def net():
    loss, wrt = two_layer_net()
    x, t, x_np, t_np = data()
    p = params(np.random.default_rng(0))
    value, grads = rg.compile(loss, wrt=wrt).value_and_grad(x=x_np, t=t_np, **p)
    return loss, wrt, p, (x, t, x_np, t_np), [value, *grads]


def test_each_chunk_runs_the_numpy_program_in_one_task(net, monkeypatch):
    loss, wrt, p, (x, t, x_np, t_np), want = net
    rows = []
    run = chunks._run_chunk
    monkeypatch.setattr(chunks, "_run_chunk", lambda *blocks, **kw: rows.append(len(blocks[0])) or run(*blocks, **kw))
    step = rg.compile(loss, wrt=wrt, backend="dask")
    with dask.config.set(scheduler="sync"), Tasks() as tasks:
        value, grads = step.value_and_grad(x=x, t=t, **p)
    assert_same([value, *grads], want, "value_and_grad by chunks (uneven last chunk)")
    assert isinstance(value, np.floating) and all(isinstance(g, np.ndarray) for g in grads)
    assert rows == list(x.chunks[0]), "the numpy program runs once on each chunk of rows"
    # a task per chunk (its making by map_blocks fused in) and the tree of partial sums; no op is a task of its own
    assert len(tasks.layers) <= 2 * len(rows) + 4, tasks.layers
    assert not any(name.startswith(("_make", "make", "matmul", "maximum", "where")) for name in tasks.layers)


@pytest.mark.parametrize("chunks", [(CHUNK, 784), (500, 392), -1])
def test_chunked_unchunked_and_numpy_feeds_agree(net, chunks):
    loss, wrt, p, (x, t, x_np, t_np), want = net
    step = rg.compile(loss, wrt=wrt, backend="dask")
    xs = da.from_array(x_np, chunks=chunks)  # (500, 392): chunked along the features too
    value, grads = step.value_and_grad(x=xs, t=da.from_array(t_np, chunks=xs.chunks[0]), **p)
    assert_same([value, *grads], want, f"value_and_grad with x chunks {chunks}")
    # t's chunks need not match x's: dask unifies them
    value, grads = step.value_and_grad(x=xs, t=da.from_array(t_np, chunks=300), **p)
    assert_same([value, *grads], want, "value_and_grad with t chunked otherwise")
    value, grads = step.value_and_grad(x=x_np, t=t_np, **p)  # NumPy feeds: nothing is batched
    assert_same([value, *grads], want, "value_and_grad of NumPy feeds")


def test_lazy_results_are_dask_arrays_computed_on_demand(net):
    loss, wrt, p, (x, t, x_np, t_np), want = net
    step = rg.compile(loss, wrt=wrt, backend="dask", lazy=True)
    with Tasks() as tasks:
        value, grads = step.value_and_grad(x=x, t=t, **p)
    assert not tasks.layers, "lazy=True must not compute anything"
    assert all(isinstance(v, da.Array) for v in [value, *grads])
    assert [v.shape for v in grads] == [(784, 50), (50,), (50, 10), (10,)]
    assert_same(dask.compute(value, *grads), want, "lazy value_and_grad by chunks")


def test_a_sum_over_the_batch_weighs_each_chunk_by_one():
    g = rg.Graph()
    x, w = g.input("x", shape=(None, 3)), g.input("w", shape=(3, 2))
    loss = rg.sum(rg.tanh(x @ w)) * 0.5 + rg.mean(rg.sum(x * x, axis=1)) * 0.0 + rg.sum(rg.exp(x @ w))
    assert output_kind(g, loss.id, {x.id}) is None  # sum + mean: weights differ, so not separable
    loss = rg.sum(rg.tanh(x @ w)) * 0.5 + rg.sum(rg.exp(x @ w))
    assert output_kind(g, loss.id, {x.id}) == "sum"
    rng = np.random.default_rng(3)
    xv, wv = rng.normal(size=(101, 3)), rng.normal(size=(3, 2))
    want = rg.compile(loss, wrt=[w]).value_and_grad(x=xv, w=wv)
    got = rg.compile(loss, wrt=[w], backend="dask").value_and_grad(x=da.from_array(xv, chunks=20), w=wv)
    assert_same([got[0], *got[1]], [want[0], *want[1]], "a batch sum by chunks")


def _not_separable():
    """(name, graph builder) of losses the chunked path must refuse: each reads across the batch rows."""
    def penalty(x, t, W1, b1, W2, b2):  # mean + a term independent of the batch: the chunks would add it 5 times
        return rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t) + 0.01 * rg.sum(W1 * W1)

    def normalised(x, t, W1, b1, W2, b2):  # x - mean over the batch: each row reads every row
        return rg.softmax_cross_entropy(rg.relu((x - rg.mean(x, axis=0)) @ W1 + b1) @ W2 + b2, t)

    def squared(x, t, W1, b1, W2, b2):  # a mean squared is not a mean of per-row terms
        return rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t) ** 2

    return [("penalty", penalty), ("normalised", normalised), ("squared", squared)]


@pytest.mark.parametrize("name,build", _not_separable())
def test_graphs_that_are_not_separable_fall_back_and_agree(net, name, build):
    _, _, p, (x, t, x_np, t_np), _ = net
    g = rg.Graph(name)
    xi, ti = g.input("x", shape=(None, 784)), g.input("t", shape=(None,), dtype="int64")
    ws = [g.input(k, shape=v.shape) for k, v in p.items()]
    loss = build(xi, ti, *ws)
    assert output_kind(g, loss.id, {xi.id, ti.id}) is None
    want = rg.compile(loss, wrt=ws).value_and_grad(x=x_np, t=t_np, **p)
    step = rg.compile(loss, wrt=ws, backend="dask")
    with dask.config.set(scheduler="sync"), Tasks() as tasks:
        got = step.value_and_grad(x=x, t=t, **p)
    assert_same([got[0], *got[1]], [want[0], *want[1]], f"{name}: value_and_grad (op by op)")
    assert any(n.startswith("matmul") for n in tasks.layers), "the op-by-op lowering ran"


def test_a_gradient_with_respect_to_the_batch_falls_back(net):
    loss, wrt, p, (x, t, x_np, t_np), want = net
    xi = loss.graph.tensor("x")
    want_x = rg.compile(loss, wrt=[xi, *wrt]).value_and_grad(x=x_np, t=t_np, **p)
    with dask.config.set(scheduler="sync"), Tasks() as tasks:
        got = rg.compile(loss, wrt=[xi, *wrt], backend="dask").value_and_grad(x=x, t=t, **p)
    assert_same([got[0], *got[1]], [want_x[0], *want_x[1]], "gradient with respect to x")
    assert any(n.startswith("matmul") for n in tasks.layers), "the op-by-op lowering ran"


def test_the_verdicts_of_the_analysis():
    g = rg.Graph()
    x, y = g.input("x", shape=(None, 4)), g.input("y", shape=(None,), dtype="int64")
    fixed = g.input("f", shape=(8, 4))
    W = g.input("W", shape=(4, 3))
    logits = rg.tanh(x @ W) * 2.0 + 1.0
    assert output_kind(g, rg.softmax_cross_entropy(logits, y).id, {x.id, y.id}) == "mean"
    assert output_kind(g, rg.mean(rg.log_softmax(logits)).id, {x.id}) == "mean"
    assert output_kind(g, rg.sum(rg.softmax(logits, axis=0)).id, {x.id}) is None  # softmax over the batch
    assert output_kind(g, rg.sum(logits.T @ logits).id, {x.id}) is None  # x.T @ x: rows meet
    assert output_kind(g, rg.mean(rg.max(logits, axis=1)).id, {x.id}) == "mean"
    assert output_kind(g, rg.sum(fixed @ W).id, {fixed.id}) is None  # a batch of a declared size
    assert output_kind(g, rg.softmax_cross_entropy(logits, y).id, {x.id}) is None  # labels not batched with x
    assert output_kind(g, rg.mean(rg.dropout(x, p=0.5)).id, {x.id}) is None  # random: drawn anew per chunk


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      memory_limit="1GiB") as cluster, Client(cluster) as client:
        yield client


def test_by_chunks_on_a_worker_process(client, net):
    """The numpy program travels to the worker (pickled) and runs there; the chunks are made there."""
    loss, wrt, p, (x, t, x_np, t_np), want = net
    step = rg.compile(loss, wrt=wrt, backend="dask")
    value, grads = step.value_and_grad(x=x, t=t, **p)
    assert_same([value, *grads], want, "value_and_grad by chunks on a LocalCluster")
    with pytest.raises(ValueError, match=r"integer labels must lie in \[0, 10\)"):
        step.value_and_grad(x=x, t=t + 5, **p)
