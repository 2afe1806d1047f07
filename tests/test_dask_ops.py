"""The Dask backend against the numpy backend on every op-table graph (tests/optable.py, plus a
few graphs of the ops the table has no gradient row for): the outputs, the loss and its gradients
(rtol 1e-10), through a compiled function, ``value_and_grad`` and ``forward``/``backward``, with
NumPy feeds and with feeds chunked in pieces of 2 along every axis, computed at once and with
``lazy=True``; each graph with its declared shapes and with the first size declared None (a batch
of any size: the gradients then read run-time shapes through sum_to_like, size_of, ...). A graph
using an op with no Dask kernel must be refused at compile time with a GraphError naming that op
(tests/test_dask_registry.py checks that every op is one or the other)."""

import re

import dask
import dask.array as da
import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.dask import kernels as dask_kernels
from revgraph.ir.ops.internal import ones_like
from optable import ANY, NONZERO, OP_CASES, sample

RTOL = 1e-10
UNAVAILABLE = re.compile(r"op '(\w+)' .*is not available on the Dask backend")

# Ops with no gradient row in the op table (comparisons, argmax, stop_gradient) and internal ops
# the table's graphs do not reach, in graphs that still have a gradient.
EXTRA_CASES = [
    ("comparisons", lambda x, y: rg.where(rg.greater_equal(x, y), x, y) * rg.where(rg.less_equal(x, 0.0), 2.0, 1.0)
     + rg.where(rg.not_equal(x, y), y, 0.0) + rg.where(rg.equal(x, y), 0.0, x), [((3, 4), NONZERO), ((4,), ANY)]),
    ("argmax", lambda x: rg.argmax(x, axis=1) * rg.max(x, axis=1), [((3, 4), ANY)]),
    ("argmin", lambda x: rg.argmin(x, axis=0) * rg.min(x, axis=0), [((3, 4), ANY)]),
    ("stop_gradient", lambda x: rg.stop_gradient(x) * x, [((3, 4), ANY)]),
    ("unused_input", lambda x, y: x * 2.0, [((3, 4), ANY), ((2,), ANY)]),  # y's gradient: zeros_like
    ("ones_like", lambda x: ones_like(x) * x, [((3, 4), ANY)]),
    ("isinf", lambda x: rg.where(rg.isinf(x / 0.0), x, 0.0), [((3, 4), NONZERO)]),
    ("concatenate_axis0", lambda x, y: rg.concatenate([x, y, x], axis=0), [((2, 3), ANY), ((1, 3), ANY)]),  # concat_part
]
CASES = OP_CASES + EXTRA_CASES


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These graphs are tiny: dask's synchronous scheduler computes them as the threaded one would,
    without a thread pool's hand-offs (tests/test_dask_net.py and the cluster tests use the others)."""
    with dask.config.set(scheduler="synchronous"):
        yield
DECLARED = ["static", "batch"]  # shapes as the case gives them, or with the first size declared None


def build(case, rng, declared="static"):
    """The case's graph: inputs, output, a scalar loss (a random projection of the output) and the feeds."""
    name, fn, specs = case[:3]
    g = rg.Graph(name)
    batch = declared == "batch"
    xs = [g.input(f"x{i}", shape=(None, *shape[1:]) if batch and shape else shape) for i, (shape, _) in enumerate(specs)]
    feeds = {x.name: sample(shape, dom, rng) for x, (shape, dom) in zip(xs, specs)}
    try:
        out = fn(*xs)
    except rg.GraphError:
        if not batch:
            raise
        return build(case, rng, "static")  # the op needs its sizes declared (rg.linalg): the graph as given
    shape = np.shape(rg.compile(out)(**feeds))  # the output's size, also where it is declared None
    loss = rg.sum(out * g.constant(rng.normal(size=shape))) if shape else rg.sum(out * 1.0)
    return xs, out, loss, feeds


def chunked(feeds):
    """The feeds as dask arrays in chunks of 2 along every axis."""
    return {k: da.from_array(v, chunks=2) for k, v in feeds.items()}


def computed(values, lazy):
    """``values`` as NumPy: lazy results are dask arrays (those depending on feeds) computed here;
    results that are not lazy must already be NumPy."""
    if lazy:
        assert any(isinstance(v, da.Array) for v in values), "lazy=True returned no dask array"
        return list(dask.compute(*values))
    assert not any(isinstance(v, da.Array) for v in values), "results should be NumPy arrays, not dask arrays"
    return list(values)


def assert_same(got, want, what):
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        assert np.shape(a) == np.shape(b), f"{what}[{i}]: shape {np.shape(a)} != {np.shape(b)}"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=f"{what}[{i}]")


def compile_or_refusal(outputs, wrt=None, **options):
    """The Dask program, or the op it was refused for (the GraphError must name an op with no kernel)."""
    try:
        return rg.compile(outputs, wrt=wrt, backend="dask", **options), None
    except rg.GraphError as exc:
        m = UNAVAILABLE.search(str(exc))
        if m is None:
            raise
        assert not dask_kernels.available(m.group(1)), f"refused {m.group(1)!r}, which has a Dask kernel: {exc}"
        return None, m.group(1)


@pytest.mark.parametrize("lazy", [False, True], ids=["computed", "lazy"])
@pytest.mark.parametrize("declared", DECLARED)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dask_matches_numpy(case, declared, lazy):
    rng = np.random.default_rng(0)
    xs, out, loss, feeds = build(case, rng, declared)
    grads = rg.grad(loss, xs)
    f_np = rg.compile([out, loss, *grads])
    step_np = rg.compile(loss, wrt=xs)
    want = f_np(**feeds)
    f, refused = compile_or_refusal([out, loss, *grads], lazy=lazy)
    step, refused_step = compile_or_refusal(loss, wrt=xs, lazy=lazy)
    if refused or refused_step:
        assert f is None and step is None, "one Dask program compiled and the other was refused"
        return  # the case's ops are not all available on Dask; the refusal named one of them
    for kind, fd in (("numpy feeds", feeds), ("chunked feeds", chunked(feeds))):
        assert_same(computed(f(**fd), lazy), want, f"{case[0]} function, {kind}")
        value, gs = step.value_and_grad(**fd)
        assert_same(computed([value, *gs], lazy), want[1:], f"{case[0]} value_and_grad, {kind}")
        value, gs = step.value_and_grad(dout=1.0, **fd)  # not the fused program: forward and backward joined
        assert_same(computed([value, *gs], lazy), want[1:], f"{case[0]} value_and_grad(dout), {kind}")
        value = step.forward(**fd)
        assert_same(computed([value, *step.backward()], lazy), want[1:], f"{case[0]} forward/backward, {kind}")
    np.testing.assert_allclose(step_np.value_and_grad(**feeds)[0], want[1], rtol=RTOL)


@pytest.mark.parametrize("index", [(1, slice(None, None, -2)), (0, slice(3, 0, -1)), (slice(None, None, -1), 2),
                                   (slice(None, None, -1), slice(4, None, -3)), (None, 1, slice(None, None, -2)),
                                   (Ellipsis, slice(0, 2, -1))])
def test_gradients_of_negative_step_slices(index):
    """getitem_grad writes g at x[index]; dask's assignment failed for an integer next to a negative step
    (x[1, ::-2]: "tuple index out of range"): negative steps are written as positive ones, g flipped."""
    g = rg.Graph()
    x = g.input("x", shape=(3, 5))
    y = rg.sum(x[index] * rg.cos(x[index]))
    xv = np.arange(15.0).reshape(3, 5) / 7
    want = rg.compile(y, wrt=[x]).value_and_grad(x=xv)
    got = rg.compile(y, wrt=[x], backend="dask").value_and_grad(x=da.from_array(xv, chunks=2))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-12, atol=0)
