"""A compiled program never writes into a buffer it does not own: the caller's feeds, the graph's
constants, and anything that may alias them, whatever op made the alias (issue 11, item 1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import revgraph as rg
from revgraph.ir import serialize
from revgraph.ir.ops import internal
from randgraph import PATTERN_FEEDS, graph_specs, pattern_models

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)

# Ops whose result may be their operand itself or a view of it.
ALIASES = {
    "accumulate_one": lambda x: internal.accumulate(x),
    "stop_gradient": rg.stop_gradient,
    "cast_same_dtype": lambda x: internal.cast(x, np.float64),
    "reshape": lambda x: rg.reshape(x, (3, 2)),
    "transpose": lambda x: rg.transpose(x),
    "getitem": lambda x: x[:, :],
    "squeeze": lambda x: rg.squeeze(rg.expand_dims(x, 0), 0),
    "sum_to_like_same_shape": lambda x: internal.sum_to_like(x, x),
    "reshape_like": lambda x: internal.reshape_like(x, x),
    "alias_of_alias": lambda x: rg.transpose(internal.accumulate(rg.stop_gradient(x))),
}


def _program(alias):
    g = rg.Graph()
    x = g.input("x", (2, 3))
    y = rg.exp(alias(x)) * 2.0  # elementwise ops on the alias: the first must not write into it
    return g, x, y


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_elementwise_ops_on_an_alias_of_a_feed_leave_the_feed_alone(name):
    g, x, y = _program(ALIASES[name])
    f = rg.compile(y)
    fed = X.copy()
    first = f(x=fed)
    np.testing.assert_array_equal(fed, X, err_msg=f"the feed was written through {name}")
    np.testing.assert_array_equal(f(x=fed), first, err_msg="a second call saw a different feed")
    step = rg.compile(rg.sum(y), wrt=x)
    step.forward(x=fed)
    step.backward()
    step.value_and_grad(x=fed)
    np.testing.assert_array_equal(fed, X)


def test_one_operand_accumulate_from_a_loaded_file_leaves_the_feed_alone(tmp_path):
    g, x, y = _program(ALIASES["accumulate_one"])
    g.outputs = [y]
    g.save(tmp_path / "acc.json")
    loaded = rg.load(tmp_path / "acc.json")
    f = rg.compile(loaded.outputs)
    fed = X.copy()
    (first,) = f(x=fed)
    np.testing.assert_array_equal(fed, X)
    np.testing.assert_allclose(first, np.exp(X) * 2.0)
    np.testing.assert_array_equal(f(x=fed)[0], first)


def test_constants_and_their_aliases_are_never_written():
    g = rg.Graph()
    x = g.input("x", (2, 3))
    c = g.constant(X.copy())
    same = internal.sum_to_like(c, x)  # c itself at run time (and not folded: x is fed)
    y = rg.exp(internal.accumulate(same)) * x + rg.sin(rg.reshape(same, (3, 2))).T
    f = rg.compile(y)
    first = f(x=X)
    np.testing.assert_array_equal(g.nx.nodes[c.id]["value"], X)
    np.testing.assert_array_equal(f(x=X), first)


# -- property: on random graphs of both generators, every entry point leaves every feed bit-identical ----------
def _untouched(feeds: dict, before: dict, where: str) -> None:
    for k, v in feeds.items():
        assert np.asarray(v).dtype == before[k].dtype and np.array_equal(v, before[k], equal_nan=True), \
            f"{where} modified the feed {k!r}"


def check_feeds_untouched(out, inputs, feeds: dict) -> int:
    """Run ``out`` through f(...), forward, backward and value_and_grad (twice: the fused program, then its
    fast entry), optimised and not; after each, every feed must equal a copy taken before. Returns the
    number of feed checks made."""
    before = {k: np.array(v, copy=True) for k, v in feeds.items()}
    loss = out if out.shape == () else rg.sum(out * out)
    checks = 0
    for optimize in (True, False):
        rg.compile(out, optimize=optimize)(**feeds)
        _untouched(feeds, before, f"f(...) (optimize={optimize})")
        step = rg.compile(loss, wrt=list(inputs), optimize=optimize)
        step.forward(**feeds)
        _untouched(feeds, before, f"forward (optimize={optimize})")
        step.backward()
        _untouched(feeds, before, f"backward (optimize={optimize})")
        for _ in range(2):
            step.value_and_grad(**feeds)
            _untouched(feeds, before, f"value_and_grad (optimize={optimize})")
        checks += 5 * len(feeds)
    return checks


PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(graph_specs(), st.sampled_from(["float64", "float32"]), st.booleans())
def test_random_graphs_leave_every_feed_untouched(spec, dtype, unknown_sizes):
    spec = spec.astype(dtype) if dtype != "float64" else spec
    g, xs, out = spec.build(dtype=dtype, unknown_sizes=unknown_sizes)
    feeds = {k: np.asarray(v) for k, v in spec.feeds.items()}  # arrays, 0-d included: each could be written
    check_feeds_untouched(out, xs, feeds)


@settings(PROPERTY, max_examples=40)
@given(pattern_models())
def test_pattern_graphs_with_aliases_leave_every_feed_untouched(model):
    g, loss, inputs = model
    feeds = {k: np.array(v, dtype=np.float64) for k, v in PATTERN_FEEDS.items()}
    check_feeds_untouched(loss, inputs, feeds)
    g.outputs = [loss]  # and the same graph read back from a file
    loaded = serialize.loads(serialize.dumps(g))
    check_feeds_untouched(loaded.outputs[0], loaded.inputs, feeds)
