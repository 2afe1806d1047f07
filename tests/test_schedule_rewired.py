"""The schedule after a pass rewired an edge to a later-made node (so ids are no longer a dependency
order): still networkx's lexicographical topological sort, and a cycle is still a GraphError."""

import networkx as nx
import pytest

import revgraph as rg
from revgraph.compiler.passes.rewrite import Rewriter
from revgraph.compiler.schedule import ancestors, topological


def test_order_after_rewiring_to_a_later_node_is_networkx_order():
    g = rg.Graph("rewired")
    x = g.input("x")
    a = rg.sin(x)
    b = rg.cos(a) * x
    y = rg.exp(b) + a
    late = rg.tanh(x) * 1.0  # made last: its id is above every node reading a
    rw = Rewriter(g, [y.id])
    rw.replace(a.id, late.id, "test")
    needed = ancestors(g, [y.id])
    assert topological(g, needed) == list(nx.lexicographical_topological_sort(g.nx.subgraph(needed), key=lambda n: n))
    assert topological(g, needed).index(late.id) < topological(g, needed).index(b.id)


def test_a_cycle_is_still_reported():
    g = rg.Graph("cycle")
    x = g.input("x")
    a = rg.sin(x)
    b = rg.cos(a)
    Rewriter(g, [b.id]).set_operand(a.id, 0, b.id)
    with pytest.raises(rg.GraphError, match="cycle"):
        topological(g, {a.id, b.id})
