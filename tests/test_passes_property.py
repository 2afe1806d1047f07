"""Property: every simplification pass, alone and in the pipeline, leaves values and
gradients unchanged on random graphs (which are built to contain the patterns the passes
rewrite: identities, double transposes and reshapes, sums of broadcasts, constant
subexpressions and duplicates). The IR linter runs after every pass.

Two generators: a local one rich in the rewrite patterns, and the shared tests/randgraph.py
(every op, random broadcast-compatible shapes)."""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import revgraph as rg
from revgraph.compiler.passes import PIPELINE, optimize
from revgraph.ir.tensor import Tensor
from randgraph import graph_specs

UNARY = [rg.tanh, rg.sin, rg.sigmoid, lambda x: -x, lambda x: x * x, lambda x: rg.exp(rg.tanh(x))]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, rg.maximum]
IDENTITY = [lambda x: x * 1.0, lambda x: 1.0 * x, lambda x: x + 0.0, lambda x: x - 0.0, lambda x: x / 1.0,
            lambda x: x ** 1, lambda x: -(-x)]


def _shape_pattern(x, pick):
    if x.ndim == 2:
        return [lambda t: t.T.T, lambda t: rg.reshape(rg.reshape(t, (3, 2)), (2, 3)),
                lambda t: rg.transpose(rg.transpose(t, (1, 0)) * 2.0, (1, 0))][pick % 3](x)
    if x.shape == (3,):
        return rg.sum(rg.broadcast_to(x, (2, 3)), axis=0) if pick % 2 else rg.reshape(rg.reshape(x, (1, 3)), (3,))
    return rg.sum(rg.broadcast_to(x, (4,)))


@st.composite
def random_model(draw):
    """A graph over inputs a (3,), b (2, 3), s () and a scalar loss."""
    g = rg.Graph("random")
    nodes = [g.input("a", (3,)), g.input("b", (2, 3)), g.input("s")]
    made = []  # (kind, index, operands) already built, replayed for CSE to find
    for _ in range(draw(st.integers(3, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "identity", "shape", "constant", "again"]))
        if kind == "again" and made:
            kind, i, ops = made[draw(st.integers(0, len(made) - 1))]
        else:
            kind = "unary" if kind == "again" else kind
            n = 2 if kind == "binary" else 1
            ops = [draw(st.integers(0, len(nodes) - 1)) for _ in range(n)]
            i = draw(st.integers(0, 5))
            made.append((kind, i, ops))
        xs = [nodes[o] for o in ops]
        if kind == "unary":
            out = UNARY[i % len(UNARY)](xs[0])
        elif kind == "binary":
            out = BINARY[i % len(BINARY)](xs[0], xs[1])
        elif kind == "identity":
            out = IDENTITY[i % len(IDENTITY)](xs[0])
        elif kind == "shape":
            out = _shape_pattern(xs[0], i)
        else:
            out = xs[0] * (g.constant(np.array([0.5, -1.0, 2.0])) * 2.0 + 1.0)
        nodes.append(out)
    tail = nodes[3:][-3:]
    loss = tail[0].sum() if tail else nodes[0].sum()
    for t in tail[1:]:
        loss = loss + rg.sum(t)
    return g, loss, nodes[:3]


FEEDS = {"a": np.array([0.3, -0.7, 1.1]), "b": np.array([[0.2, -0.4, 0.9], [1.3, -1.5, 0.05]]), "s": 0.6}


def run_all(tensors):
    """Values of ``tensors`` (compiled without passes)."""
    return rg.compile(list(tensors), optimize=False)(**FEEDS)


def assert_close(got, want, what):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=what)
        assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype, what


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(random_model())
def test_each_pass_alone_and_the_pipeline_keep_values_and_gradients(model):
    g, loss, inputs = model
    grads = rg.grad(loss, inputs)
    want = run_all([loss, *grads])
    for pipeline in [[p] for p in PIPELINE] + [PIPELINE]:
        work = g.copy()
        roots, _ = optimize(work, [loss.id] + [d.id for d in grads], protected=[loss.id],
                            pipeline=pipeline, after_each=lambda gr: gr.check())
        got = run_all([Tensor(work, r) for r in roots])
        assert_close(got, want, f"passes {[n for n, _ in pipeline]} changed a value or gradient")


@SETTINGS
@given(random_model())
def test_compiled_steps_agree_with_and_without_optimisation(model):
    g, loss, inputs = model
    raw = rg.compile(loss, wrt=inputs, optimize=False).value_and_grad(**FEEDS)
    opt_step = rg.compile(loss, wrt=inputs)
    opt = opt_step.value_and_grad(**FEEDS)
    assert_close([opt[0], *opt[1]], [raw[0], *raw[1]], "the optimised step differs from the raw one")
    opt_step.graph.check()


def check_every_pass(loss, inputs, feeds):
    """Each pass alone, and the pipeline, on a copy of the graph (linted after every pass),
    give the raw program's value and gradients."""
    grads = rg.grad(loss, inputs)
    want = rg.compile([loss, *grads], optimize=False)(**feeds)
    runs = [([p], True) for p in PIPELINE] + [(PIPELINE, True), (PIPELINE, False)]  # False: layers may split
    for pipeline, keep_layers in runs:
        work = loss.graph.copy()
        roots, _ = optimize(work, [loss.id] + [d.id for d in grads], protected=[loss.id],
                            pipeline=pipeline, after_each=lambda gr: gr.check(), keep_layers=keep_layers)
        got = rg.compile([Tensor(work, r) for r in roots], optimize=False)(**feeds)
        assert_close(got, want, f"passes {[n for n, _ in pipeline]} changed a value or gradient")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph_specs())
def test_passes_keep_values_and_gradients_on_the_shared_random_graphs(spec):
    g, xs, out = spec.build()
    loss = rg.sum(out * out)
    check_every_pass(loss, xs, spec.feeds)
    raw = rg.compile(loss, wrt=xs, optimize=False).value_and_grad(**spec.feeds)
    opt = rg.compile(loss, wrt=xs).value_and_grad(**spec.feeds)
    assert_close([opt[0], *opt[1]], [raw[0], *raw[1]], "the optimised step differs from the raw one")
