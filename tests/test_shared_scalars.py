"""Python scalar operands share one constant node per value, type and tag set (Graph._scalar)."""

import numpy as np

import revgraph as rg


def _op_of_operand(t, slot):
    return rg.Tensor(t.graph, t.graph.operands(t.id)[slot])


def test_repeated_scalar_operands_read_one_constant():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    a, b = x * 0.99, (x + 1.0) * 0.99
    assert _op_of_operand(a, 1) == _op_of_operand(b, 1)
    assert sum(1 for _, op in g.nx.nodes(data="op") if op == "constant") == 2  # 0.99 and 1.0


def test_equal_but_different_scalars_stay_apart():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    ids = {_op_of_operand(x * v, 1).id for v in (1, 1.0, True, 0.0, -0.0)}
    assert len(ids) == 5, "1, 1.0, True and 0.0, -0.0 are different constants (type, sign)"


def test_explicit_constants_are_never_shared_and_a_renamed_one_is_not_reused():
    g = rg.Graph()
    x = g.input("x")
    assert g.constant(2.0) != g.constant(2.0)
    c = _op_of_operand(x * 3.0, 1)
    c.rename("three")
    assert _op_of_operand(x * 3.0, 1) != c


def test_adjoint_constants_are_not_shared_with_the_forward():
    g = rg.Graph()
    x = g.input("x", shape=(4,))
    y = rg.sum(1.0 - rg.tanh(x) * 1.0)
    rg.grad(y, x)
    tagged = {(d["value"], d["adjoint"]) for _, d in g.nx.nodes(data=True) if d["op"] == "constant" and d.get("weak")}
    counts = {}
    for _, d in g.nx.nodes(data=True):
        if d["op"] == "constant" and d.get("weak"):
            counts[(d["value"], d["adjoint"])] = counts.get((d["value"], d["adjoint"]), 0) + 1
    assert all(n == 1 for n in counts.values()) and (1.0, 0) in tagged


def test_copies_and_loaded_graphs_grow_like_the_original(tmp_path):
    g = rg.Graph()
    x = g.input("x", shape=(2,))
    y = rg.sum(rg.tanh(x * 0.5 + 0.5) * 0.5)
    g.save(tmp_path / "g.json")
    g2 = rg.load(tmp_path / "g.json")
    g3 = g.copy()
    for h in (g, g2, g3):
        rg.grad(rg.Tensor(h, y.id), rg.Tensor(h, x.id))
    assert g2.nx.number_of_nodes() == g3.nx.number_of_nodes() == g.nx.number_of_nodes()
    s = [rg.compile(rg.Tensor(h, y.id), wrt=rg.Tensor(h, x.id)).source for h in (g, g2, g3)]
    assert s[0] == s[1] == s[2]
    np.testing.assert_allclose(rg.compile(y)(x=np.ones(2)), np.sum(np.tanh(np.ones(2)) * 0.5))
