"""The schedule: the same order networkx's lexicographical topological sort gives (keyed on creation order),
over only what the outputs need."""

import networkx as nx
from hypothesis import given, settings, strategies as st

import revgraph as rg
from revgraph.compiler.schedule import ancestors, schedule, topological


@st.composite
def random_dags(draw):
    g = rg.Graph("random")
    nodes = [g.input(f"x{i}") for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 30))):
        a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        nodes.append(a * b if draw(st.booleans()) else rg.sin(a) + b)
    roots = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3))
    return g, [t.id for t in roots]


@settings(max_examples=100, deadline=None)
@given(random_dags())
def test_order_equals_networkx_lexicographical_topological_sort(case):
    g, roots = case
    needed = ancestors(g, roots)
    expected = list(nx.lexicographical_topological_sort(g.nx.subgraph(needed), key=lambda n: n))
    assert topological(g, needed) == expected
    assert schedule(g, roots) == expected
    assert needed == set().union(*(nx.ancestors(g.nx, r) | {r} for r in roots))
