"""Property-based: on random graphs (tests/randgraph.py), the dynamic engine's values and gradients equal
the static compiler's (float64, rtol 1e-10), first and second order."""

import numpy as np
from hypothesis import given

import revgraph as rg
from revgraph import dynamic as dy
from randgraph import graph_specs

RTOL = 1e-10


def _projection(shape):
    return np.random.default_rng(0).normal(size=shape)


@given(graph_specs())
def test_dynamic_values_and_gradients_equal_static(spec):
    g, xs, out = spec.build()
    r = _projection(out.shape)
    static = rg.compile([out, *rg.grad(rg.sum(out * g.constant(r)), xs)])(**spec.feeds)
    vs = [dy.Variable(spec.feeds[n], name=n) for n in spec.input_names]
    dyn_out = spec.replay(*vs)
    rg.sum(dyn_out * r).backward()
    dynamic = [dyn_out.data] + [v.grad.data if v.grad is not None else np.zeros_like(v.data) for v in vs]
    for what, s, d in zip(["value", *spec.input_names], static, dynamic):
        assert np.shape(s) == np.shape(d), what
        np.testing.assert_allclose(d, s, rtol=RTOL, atol=1e-12, err_msg=f"{what}\n{spec}")


@given(graph_specs(max_ops=15, smooth=True))
def test_dynamic_second_order_equals_static(spec):
    g, xs, out = spec.build()
    r = _projection(out.shape)
    s2 = [np.random.default_rng(1).normal(size=spec.feeds[n].shape) for n in spec.input_names]
    first = rg.grad(rg.sum(out * g.constant(r)), xs)
    second = rg.grad(sum(rg.sum(d * g.constant(k)) for d, k in zip(first, s2)), xs)
    static = rg.compile(second)(**spec.feeds)
    vs = [dy.Variable(spec.feeds[n], name=n) for n in spec.input_names]
    rg.sum(spec.replay(*vs) * r).backward(create_graph=True)
    grads = [v.grad for v in vs]
    for v in vs:
        v.cleargrad()
    total = sum(rg.sum(d * k) for d, k in zip(grads, s2) if d is not None)
    if isinstance(total, dy.Variable):
        total.backward()
    dynamic = [v.grad.data if v.grad is not None else np.zeros_like(v.data) for v in vs]
    for n, s, d in zip(spec.input_names, static, dynamic):
        np.testing.assert_allclose(d, s, rtol=1e-9, atol=1e-10, err_msg=f"d2/d{n}\n{spec}")
