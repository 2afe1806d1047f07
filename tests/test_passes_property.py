"""Property: every simplification pass, alone and in the pipeline, leaves values and
gradients unchanged on random graphs (which are built to contain the patterns the passes
rewrite: identities, double transposes and reshapes, sums of broadcasts, constant
subexpressions and duplicates). The IR linter runs after every pass.

Two generators, both in tests/randgraph.py: ``pattern_models`` (rich in the rewrite patterns and in
aliases) and ``graph_specs`` (every op, random broadcast-compatible shapes)."""

import numpy as np
from hypothesis import HealthCheck, given, settings

import revgraph as rg
from revgraph.compiler.passes import PIPELINE, optimize
from revgraph.ir.tensor import Tensor
from randgraph import PATTERN_FEEDS as FEEDS, graph_specs, pattern_models as random_model


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
