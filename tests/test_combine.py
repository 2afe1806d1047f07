"""Shape and combination ops (ir/ops/combine.py) beyond the op table: sizes fixed at run time, split as
getitem nodes, how the composed functions are drawn (one node or two), einsum's implicit output and VJPs,
NumPy's errors as GraphErrors, save/load of the new attributes, Tensor.astype."""

import json

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import serialize

RNG = np.random.default_rng(0)

# (id, function, input shapes): every case is built twice, with static sizes and with every size None
RUN_TIME_CASES = [
    ("stack", lambda x: rg.stack([x, x * 2.0], axis=1), [(2, 3)]),
    ("vstack", lambda x: rg.vstack([x, x]), [(3,)]),
    ("hstack", lambda x: rg.hstack([x, x]), [(2, 3)]),
    ("split_points", lambda x: rg.split(x, [1, 2], axis=1)[2] * 3.0, [(2, 4)]),
    ("tile", lambda x: rg.tile(x, (2, 1, 3)), [(2, 3)]),
    ("repeat_axis", lambda x: rg.repeat(x, 3, axis=0), [(2, 3)]),
    ("repeat_each", lambda x: rg.repeat(x, [2, 0, 1], axis=1), [(2, 3)]),
    ("repeat_flat", lambda x: rg.repeat(x, 2), [(2, 3)]),
    ("roll", lambda x: rg.roll(x, (1, 2), axis=(0, 1)), [(2, 3)]),
    ("flip", lambda x: rg.flip(x, 1), [(2, 3)]),
    ("pad", lambda x: rg.pad(x, ((1, 0), (2, 1)), constant_values=2.0), [(2, 3)]),
    ("diag", lambda x: rg.diag(x, 1), [(3,)]),
    ("diagonal", lambda x: rg.diagonal(x, 1, 0, 2), [(3, 2, 4)]),
    ("triu", lambda x: rg.triu(x, -1), [(3, 4)]),
    ("einsum", lambda a, b: rg.einsum("...ij,jk->...ik", a, b), [(2, 2, 3), (3, 4)]),
    ("einsum_diagonal", lambda a: rg.einsum("ii->i", a), [(3, 3)]),
    ("kron_1d", rg.kron, [(2,), (3,)]),
    ("kron_2d", rg.kron, [(2, 3), (2, 2)]),
    ("vstack_2d", lambda x, y: rg.vstack([x, y]), [(2, 3), (3,)]),
    ("outer", rg.outer, [(2,), (3,)]),
    ("index_columns", lambda x: x[:, [0, 2, 2]], [(2, 3)]),
    ("index_rows", lambda x: x[np.array([1, 0, 1])], [(2, 3)]),
]


@pytest.mark.parametrize("case", RUN_TIME_CASES, ids=[c[0] for c in RUN_TIME_CASES])
def test_sizes_fixed_at_run_time_give_the_static_values_and_gradients(case):
    name, fn, shapes = case
    values = [RNG.normal(size=s) for s in shapes]
    results = []
    for unknown in (False, True):
        g = rg.Graph()
        xs = [g.input(f"x{i}", shape=(None,) * len(s) if unknown else s) for i, s in enumerate(shapes)]
        out = fn(*xs)
        loss = rg.sum(rg.tanh(out))
        grads = rg.grad(loss, xs)
        second = rg.grad(sum(rg.sum(d * d) for d in grads), xs)
        results.append(rg.compile([out, *grads, *second])(**{x.name: v for x, v in zip(xs, values)}))
    for s, d in zip(*results):
        np.testing.assert_allclose(d, s, rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(results[0][0], fn(*values), rtol=1e-12)


def test_split_returns_getitem_nodes_and_refuses_what_numpy_refuses():
    g = rg.Graph()
    x = g.input("x", shape=(4, 6))
    parts = rg.split(x, 3, axis=1)
    assert [p.op for p in parts] == ["getitem"] * 3 and [p.shape for p in parts] == [(4, 2)] * 3
    assert [p.shape for p in rg.array_split(x, 4, axis=1)] == [(4, 2), (4, 2), (4, 1), (4, 1)]
    with pytest.raises(rg.GraphError, match="does not divide into 4 equal sections.*array_split"):
        rg.split(x, 4, axis=1)
    y = g.input("y", shape=(None, 2))
    with pytest.raises(rg.GraphError, match="run-time size along axis 0.*split points"):
        rg.split(y, 2)
    assert [p.shape for p in rg.split(y, [1])] == [(None, 2), (None, 2)]
    with pytest.raises(rg.GraphError, match="names one result"):
        rg.split(x, 2, name="halves")


def test_composed_functions_are_one_or_two_readable_nodes():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3, 4))
    assert rg.moveaxis(x, 0, -1).op == "transpose" and rg.moveaxis(x, 0, -1).shape == (3, 4, 2)
    assert rg.swapaxes(x, 0, 2).op == "transpose"
    assert rg.ravel(x).op == x.flatten().op == "reshape"
    assert rg.fliplr(x).op == rg.flipud(x).op == "flip"
    assert rg.tensordot(x, x, axes=([0, 1], [0, 1])).op == "einsum"
    assert rg.dot(x, g.input("w", shape=(4, 5))).op == "einsum"
    m = g.input("m", shape=(3, 4))
    assert rg.dot(m, m.T).op == "matmul"


def test_einsum_normal_form_and_vjps_are_einsums():
    g = rg.Graph()
    a = g.input("a", shape=(2, 3))
    b = g.input("b", shape=(3, 4))
    y = rg.einsum(" ij , jk ", a, b)
    assert y.graph.nx.nodes[y.id]["attrs"] == {"subscripts": "ij,jk->ik"}
    assert rg.einsum("Ba,aC", g.input("c", shape=(2, 3)), b).shape == np.einsum("Ba,aC", np.ones((2, 3)),
                                                                                 np.ones((3, 4))).shape
    da, db = rg.grad(rg.sum(y), [a, b])
    assert {da.op, db.op} == {"einsum"}
    with pytest.raises(rg.GraphError, match="no \\.\\.\\."):
        rg.einsum("...i->i", g.input("e", shape=(2, 3)))
    with pytest.raises(rg.GraphError, match="output letter 'z' is on no operand"):
        rg.einsum("ij->z", a)


def test_numpy_errors_become_graph_errors_with_the_fix():
    g = rg.Graph()
    x = g.input("xin", shape=(2, 3))
    cases = [(lambda: rg.tile(x, (-1,)), "negative"), (lambda: rg.roll(x, (1, 2)), "no axis"),
             (lambda: rg.pad(x, 1, mode="reflect"), "only mode='constant'"),
             (lambda: rg.pad(x, -1), "negative width"), (lambda: rg.triu(g.input("v", shape=(3,))), "matrix"),
             (lambda: rg.moveaxis(x, 0, 5), "distinct axes"), (lambda: rg.swapaxes(x, 0, 3), "out of range"),
             (lambda: rg.tensordot(x, x, axes=([0], [1])), "stands for sizes"),
             (lambda: rg.diag(g.input("t", shape=(2, 2, 2))), "1-D"),
             (lambda: rg.stack([x, g.input("z", shape=(3, 2))]), "one shape")]
    for build, match in cases:
        with pytest.raises(rg.GraphError, match=match):
            build()


def test_save_load_validates_the_new_attributes():
    g = rg.Graph("shape_ops")
    x = g.input("x", shape=(2, 3))
    rg.pad(x, ((1, 0), (0, 2))).rename("p")
    rg.einsum("ij->ji", x).rename("e")
    rg.roll(x, 1, axis=0).rename("r")
    g2 = serialize.loads(serialize.dumps(g))
    assert g2.nx.nodes[g2.tensor("p").id]["attrs"]["pad_width"] == ((1, 0), (0, 2))
    tampered = [("p", "pad_width", 1, "normal form"),
                ("e", "subscripts", "ij->ji'); import os; ('", "subscripts"),
                ("e", "subscripts", "ij", "normal form"),
                ("r", "shift", {"tuple": [1, 2]}, "shifts for 1 axes")]
    for name, key, value, match in tampered:
        doc = json.loads(serialize.dumps(g))
        next(n for n in doc["graph"]["nodes"] if n["name"] == name)["attrs"][key] = value
        with pytest.raises(rg.GraphError, match=match):
            serialize.loads(json.dumps(doc))


def test_astype_converts_and_the_gradient_comes_back_in_the_operand_dtype():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    y = x.astype("float32")
    assert y.dtype == np.float32
    dx = rg.grad(rg.sum(y * y), x)
    assert dx.dtype == np.float64
    np.testing.assert_allclose(rg.compile(dx)(x=np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])
    assert x.astype(np.int64).dtype == np.int64
    v = dy.Variable(np.array([1.5, 2.5]))
    assert v.astype("float32").data.dtype == np.float32
