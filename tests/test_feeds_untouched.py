"""A compiled program never writes into a buffer it does not own: the caller's feeds, the graph's
constants, and anything that may alias them, whatever op made the alias (issue 11, item 1)."""

from __future__ import annotations

import numpy as np
import pytest

import revgraph as rg
from revgraph.ir.ops import internal

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
