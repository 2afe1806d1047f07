"""The textbook two-layer net (784 -> 50 -> 10, ReLU, softmax cross-entropy) on the Dask backend,
on dask's threaded scheduler: values and gradients equal to the numpy backend on a batch chunked
along its first axis, one computation per call (shared forward work done once), tree reductions
over the batch, the weights never rechunked, lazy results, the task graph, and the feed checks."""

import dask
import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback

import revgraph as rg

N, CHUNK = 512, 64  # 8 chunks along the batch
RTOL = 1e-10


def two_layer_net():
    g = rg.Graph("two_layer_net")
    x, t = g.input("x", shape=(None, 784)), g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(784, 50)), g.input("b1", shape=(50,))
    W2, b2 = g.input("W2", shape=(50, 10)), g.input("b2", shape=(10,))
    loss = rg.softmax_cross_entropy(rg.relu(x @ W1 + b1) @ W2 + b2, t)
    return loss, [W1, b1, W2, b2]


def params(rng):
    return {"W1": rng.normal(size=(784, 50)) * 0.05, "b1": rng.normal(size=50) * 0.1,
            "W2": rng.normal(size=(50, 10)) * 0.1, "b2": np.zeros(10)}


@pytest.fixture(scope="module")
def net():
    loss, wrt = two_layer_net()
    rng = np.random.default_rng(0)
    x = da.random.default_rng(1).standard_normal((N, 784), chunks=(CHUNK, 784))  # generated lazily, by chunk
    t = da.random.default_rng(2).integers(0, 10, size=N, chunks=CHUNK)
    p = params(rng)
    x_np, t_np = dask.compute(x, t)
    want_value, want_grads = rg.compile(loss, wrt=wrt).value_and_grad(x=x_np, t=t_np, **p)
    return dict(loss=loss, wrt=wrt, lazy_feeds=dict(x=x, t=t, **p), numpy_feeds=dict(x=x_np, t=t_np, **p),
                want=[want_value, *want_grads])


class Runs(Callback):
    """Counts dask computations (scheduler runs) and the tasks each layer ran."""

    def __init__(self):
        super().__init__()
        self.runs, self.tasks = 0, {}

    def _start(self, dsk):
        self.runs += 1

    def _pretask(self, key, dsk, state):
        name = key[0] if isinstance(key, tuple) else key
        layer = str(name).rsplit("-", 1)[0]
        self.tasks[layer] = self.tasks.get(layer, 0) + 1


def assert_same(got, want, what):
    for i, (a, b) in enumerate(zip(got, want)):
        assert not isinstance(a, da.Array), f"{what}[{i}] is a dask array, not NumPy"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=f"{what}[{i}]")


def test_value_and_grad_equals_numpy_in_one_computation_with_each_chunk_generated_once(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    with Runs() as runs:
        value, grads = step.value_and_grad(**net["lazy_feeds"])
    assert_same([value, *grads], net["want"], "value_and_grad")
    assert runs.runs == 1, "the value and all gradients must come from one dask computation"
    # x is read by the forward matmul and by the backward (dW1 = x.T @ dh): each chunk is still made once.
    assert runs.tasks["standard_normal"] == N // CHUNK



def test_value_and_grad_streams_over_the_batch_chunks(net):
    """One batch chunk of x is alive at a time on the op-by-op lowering (a seed given: the forward and
    backward programs joined): dask's order finishes a chunk's forward and backward before it makes the
    next (a task every chunk's backward shared, such as a dask `arange` in the one-hot of the labels, made
    it run every chunk's forward first and hold all of x in memory). The fused value_and_grad runs each
    chunk in one task (tests/test_dask_chunked.py)."""
    def make(block_id=None):
        return np.random.default_rng([1, block_id[0]]).standard_normal((CHUNK, 784))

    x = da.map_blocks(make, dtype=float, chunks=((CHUNK,) * (N // CHUNK), (784,)), meta=np.empty((0, 0)))
    feeds = {**net["lazy_feeds"], "x": x}
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    order = []

    class Order(Callback):
        def _pretask(self, key, dsk, state):
            order.append(key)

    with dask.config.set(scheduler="sync"), Order():
        step.value_and_grad(1.0, **feeds)
    made = [k[1] for k in order if isinstance(k, tuple) and str(k[0]).startswith("make")]
    assert sorted(made) == list(range(N // CHUNK))
    # between making chunk i and the next chunk, chunk i's backward (a matmul reading it) has run
    positions = [i for i, k in enumerate(order) if isinstance(k, tuple) and str(k[0]).startswith("make")]
    for here, nxt in zip(positions, positions[1:]):
        between = {str(k[0]).rsplit("-", 1)[0] for k in order[here:nxt] if isinstance(k, tuple)}
        assert "where" in between, f"chunk {order[here][1]}'s backward did not run before the next chunk was made"


def test_function_forward_backward_and_numpy_feeds(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    for feeds in (net["lazy_feeds"], net["numpy_feeds"]):
        value = step.forward(**feeds)
        assert_same([value, *step.backward()], net["want"], "forward/backward")
    grads = rg.grad(net["loss"], net["wrt"])
    f = rg.compile([net["loss"], *grads], backend="dask")
    with Runs() as runs:
        assert_same(f(**net["lazy_feeds"]), net["want"], "function")
    assert runs.runs == 1


def test_lazy_results_are_dask_arrays_and_nothing_runs_until_computed(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask", lazy=True)
    with Runs() as runs:
        value, grads = step.value_and_grad(**net["lazy_feeds"])
    assert runs.runs == 0, "lazy=True must not compute anything"
    assert all(isinstance(v, da.Array) for v in [value, *grads])
    assert_same(dask.compute(value, *grads), net["want"], "lazy value_and_grad")


def test_batch_reductions_are_trees_and_the_weights_are_not_rechunked(net):
    """The op-by-op lowering (a seed given: the forward and backward programs joined)."""
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask", lazy=True)
    value, grads = step.value_and_grad(1.0, **net["lazy_feeds"])
    layers = {name.rsplit("-", 1)[0] for v in [value, *grads] for name in v.dask.layers}
    assert not any(name.startswith("rechunk") for name in layers), sorted(layers)
    # 8 chunks, combined 4 at a time (dask's split_every): a level of partial sums below the aggregate.
    assert "sum-partial" in layers and "sum-aggregate" in layers, sorted(layers)
    dW1, db1, dW2, db2 = grads
    assert dW1.numblocks == (1, 1) and dW2.numblocks == (1, 1)  # the weights' gradients: one chunk, like the weights
    assert any(name.startswith("_chunk_sum-partial") for name in layers), "x.T @ dh sums over the batch chunks as a tree"


def test_dask_graph_is_one_call_and_computes_it(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    graph = step.dask_graph(**net["lazy_feeds"])
    assert dask.is_dask_collection(graph) and len(graph.dask) > N // CHUNK
    assert_same(graph.compute(), net["want"], "dask_graph().compute()")
    f = rg.compile(rg.grad(net["loss"], net["wrt"]), backend="dask")
    assert_same(f.dask_graph(**net["lazy_feeds"]).compute(), net["want"][1:], "function dask_graph")


def test_feeds_are_checked_without_computing_them(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    feeds = net["lazy_feeds"]
    with Runs() as runs:
        with pytest.raises(rg.FeedError, match=r"input 'x' expects shape \(\?, 784\).*got shape \(512, 783\)"):
            step.value_and_grad(**{**feeds, "x": feeds["x"][:, 1:]})
        with pytest.raises(rg.FeedError, match=r"input 't' has dtype int64, but an array of dtype float64 was fed"):
            step.value_and_grad(**{**feeds, "t": feeds["t"].astype(float)})
        with pytest.raises(rg.FeedError, match=r"input 'x'.*sizes not known.*compute_chunk_sizes"):
            step.value_and_grad(**{**feeds, "x": feeds["x"][feeds["x"][:, 0] > 0]})
    assert runs.runs == 0
    # a float32 dask array for a float64 input is cast (lazily), as NumPy feeds are
    value, _ = step.value_and_grad(**{**feeds, "x": feeds["x"].astype("float32")})
    assert np.isfinite(value)


def test_labels_out_of_range_fail_in_the_computation(net):
    step = rg.compile(net["loss"], wrt=net["wrt"], backend="dask")
    with pytest.raises(ValueError, match=r"integer labels must lie in \[0, 10\)"):
        step.value_and_grad(**{**net["lazy_feeds"], "t": net["lazy_feeds"]["t"] + 5})


def test_backend_options_and_check_finite_are_checked():
    loss, wrt = two_layer_net()
    with pytest.raises(rg.GraphError, match=r"unknown keyword 'lazzy' for backend 'dask' \(options of that backend: lazy\)"):
        rg.compile(loss, wrt=wrt, backend="dask", lazzy=True)
    with pytest.raises(rg.GraphError, match=r"unknown keyword 'lazy' for backend 'numpy'"):
        rg.compile(loss, wrt=wrt, lazy=True)
    with pytest.raises(rg.GraphError, match="check_finite=True is not available on the Dask backend"):
        rg.compile(loss, wrt=wrt, backend="dask", check_finite=True)
