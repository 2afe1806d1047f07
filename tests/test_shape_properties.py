"""The random-graph properties of tests/test_properties.py, drawn from the shape/combination and
advanced-indexing generators (tests/randgraph_shape.py) mixed with a few elementwise ops, so each of
them is drawn often: gradients and second derivatives equal central differences, sizes declared None
give the same values and gradients, the optimising pipeline and the memory plan change nothing,
float32 stays float32, and the dynamic engine agrees."""

import numpy as np
from hypothesis import given, settings

import revgraph as rg
from revgraph import dynamic as dy
from randgraph import graph_specs
from randgraph_shape import SHAPE_GENERATORS

OPS = sorted(SHAPE_GENERATORS) + ["add", "mul", "tanh", "sum"]
TOL = dict(rtol=1e-4, atol=1e-7)
specs = graph_specs(max_ops=8, ops=OPS)


@settings(max_examples=60)
@given(specs)
def test_gradients_match_central_differences(spec):
    g, xs, out = spec.build()
    assert rg.gradcheck(out, xs, spec.feeds, **TOL).ok


@settings(max_examples=60)
@given(specs)
def test_sizes_fixed_only_at_run_time_give_the_same_values_and_gradients(spec):
    g, xs, out = spec.build(unknown_sizes=True)
    np.testing.assert_allclose(rg.compile(out)(**spec.feeds), spec.replay(*spec.feeds.values()), rtol=1e-12, atol=1e-14)
    assert rg.gradcheck(out, xs, spec.feeds, **TOL).ok


@settings(max_examples=40)
@given(graph_specs(max_ops=6, ops=OPS))
def test_second_derivatives_match_differences(spec):
    g, xs, out = spec.build()
    y = rg.sum(rg.tanh(out) * g.constant(np.random.default_rng(0).normal(size=out.shape)))
    assert rg.gradcheck(rg.grad(y, xs), xs, spec.feeds, **TOL).ok


@settings(max_examples=60)
@given(specs)
def test_optimised_and_planned_programs_equal_the_raw_ones(spec):
    g, xs, out = spec.build()
    dout = np.random.default_rng(1).normal(size=out.shape)
    fast = rg.compile(out, wrt=xs).value_and_grad(**spec.feeds, dout=dout)
    raw = rg.compile(out, wrt=xs, optimize=False).value_and_grad(**spec.feeds, dout=dout)
    np.testing.assert_allclose(fast[0], raw[0], rtol=1e-12, atol=1e-14)
    for a, b in zip(fast[1], raw[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@settings(max_examples=40)
@given(specs)
def test_float32_stays_float32_and_the_dynamic_engine_agrees(spec):
    spec32 = spec.astype(np.float32)
    g, xs, out = spec32.build(dtype="float32")
    value, grads = rg.compile(out, wrt=xs).value_and_grad(**spec32.feeds, dout=np.ones(out.shape, np.float32))
    assert np.asarray(value).dtype == np.float32 and all(np.asarray(d).dtype == np.float32 for d in grads)
    vs = [dy.Variable(v) for v in spec.feeds.values()]
    y = spec.replay(*vs)
    rg.sum(y).backward()
    g64, xs64, out64 = spec.build()
    want = rg.compile(rg.grad(rg.sum(out64), xs64))(**spec.feeds)
    for v, w in zip(vs, want):
        np.testing.assert_allclose(v.grad.data if v.grad is not None else 0.0, w, rtol=1e-10, atol=1e-12)
