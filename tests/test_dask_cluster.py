"""The Dask backend on a dask.distributed cluster started here: a LocalCluster of 2 worker
processes on 127.0.0.1 (no dashboard), one for the whole module, closed at its end. With a Client
active, compiled programs run on it: the textbook net's value and gradients equal the numpy
backend's, computed by both workers; forward keeps its residuals on the workers; a few op-table
graphs whose Dask kernels ship functions of their own to the workers (labels, scatter); an error
raised on a worker reaches the caller."""

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

import revgraph as rg
from optable import OP_CASES
from test_dask_net import CHUNK, N, RTOL, assert_same, two_layer_net, params
from test_dask_ops import build, chunked


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      memory_limit="1GiB") as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def net():
    loss, wrt = two_layer_net()
    x = da.random.default_rng(1).standard_normal((N, 784), chunks=(CHUNK, 784))
    t = da.random.default_rng(2).integers(0, 10, size=N, chunks=CHUNK)
    p = params(np.random.default_rng(0))
    x_np, t_np = x.compute(scheduler="threads"), t.compute(scheduler="threads")
    want_value, want_grads = rg.compile(loss, wrt=wrt).value_and_grad(x=x_np, t=t_np, **p)
    return loss, wrt, dict(x=x, t=t, **p), [want_value, *want_grads]


def test_the_net_runs_on_both_workers(client, net):
    loss, wrt, feeds, want = net
    step = rg.compile(loss, wrt=wrt, backend="dask")
    with get_task_stream(client) as stream:
        value, grads = step.value_and_grad(**feeds)
    assert_same([value, *grads], want, "value_and_grad on the cluster")
    workers = {task["worker"] for task in stream.data}
    assert workers == set(client.scheduler_info()["workers"]), f"tasks ran on {workers}"


def test_forward_keeps_the_residuals_on_the_workers(client, net):
    loss, wrt, feeds, want = net
    step = rg.compile(loss, wrt=wrt, backend="dask")
    value = step.forward(**feeds)
    held = sum(len(keys) for keys in client.has_what().values())
    assert held >= N // CHUNK, f"the workers hold {held} chunks after forward(); the residuals should stay there"
    assert_same([value, *step.backward()], want, "forward/backward on the cluster")
    lazy = rg.compile(loss, wrt=wrt, backend="dask", lazy=True)
    value, grads = lazy.value_and_grad(**feeds)
    assert_same(client.compute([value, *grads], sync=True), want, "lazy results computed by the client")


@pytest.mark.parametrize("name", ["softmax_cross_entropy_int", "getitem", "reshape", "matmul_batch_broadcast"])
def test_op_table_graphs_on_the_cluster(client, name):
    case = next(c for c in OP_CASES if c[0] == name)
    xs, out, loss, feeds = build(case, np.random.default_rng(0))
    grads = rg.grad(loss, xs)
    want = rg.compile([out, loss, *grads])(**feeds)
    got = rg.compile([out, loss, *grads], backend="dask")(**chunked(feeds))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)


def test_an_error_on_a_worker_reaches_the_caller(client, net):
    loss, wrt, feeds, want = net
    step = rg.compile(loss, wrt=wrt, backend="dask")
    with pytest.raises(ValueError, match=r"integer labels must lie in \[0, 10\)"):
        step.value_and_grad(**{**feeds, "t": feeds["t"] - 1})
