"""g.save / rg.load: exact round trips on every example graph, atomic saving, and
validation that names the offending entry."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import revgraph as rg
from revgraph import demos
from revgraph.ir import serialize
from revgraph.ir.registry import all_ops
from revgraph.ir.tensor import Tensor
from optable import OP_CASES, ZERO_GRAD_CASES, sample


# -- example graphs ----------------------------------------------------------------------------
def every_op_graph():
    """One graph holding every row of the op table, the ops only VJP rules emit, and their gradients."""
    g = rg.Graph("every_op")
    terms, ins = [], []
    for cid, fn, specs in OP_CASES:
        xs = [g.input(f"{cid}_{i}", shape=s) for i, (s, _) in enumerate(specs)]
        ins += xs
        terms.append(rg.sum(fn(*xs)))
    for cid, fn in ZERO_GRAD_CASES:
        x = g.input(f"{cid}_0", shape=(3,))
        ins.append(x)
        terms.append(rg.sum(fn(x)))
    # Sizes fixed at run time make the adjoint pass use the run-time shape ops.
    d = g.input("dyn", shape=(None, 3))
    w = g.input("w", shape=(3,))
    ins += [d, w]
    dyn = rg.concatenate([d * w, d], axis=0).reshape((-1,))
    terms += [rg.mean(dyn), rg.sum(rg.stop_gradient(d) * w), rg.sum(rg.argmax(d, axis=1)),
              rg.sum(rg.where(rg.greater_equal(d, 0.0), d, 0.0)),
              rg.sum(rg.where(rg.less_equal(d, 1.0), d, 0.0)), rg.sum(rg.where(rg.not_equal(d, 2.0), d, 0.0)),
              rg.sum(rg.ir.apply("ones_like", d) * d),
              rg.sum(rg.dropout(d, p=0.0))]  # the random op, at p = 0 so the values round-trip exactly
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    unused = g.input("unused", shape=(None,))  # y does not depend on it: zeros_like of a run-time shape
    grads = rg.grad(loss.rename("loss"), ins + [unused])
    g.outputs = {"loss": loss, "grads": tuple(grads)}
    g.wrt = list(ins)
    return g, loss, ins


def example_graphs():
    out = []
    for name, build in demos.DEMOS.items():
        g, y, wrt, feeds = build()
        out.append(pytest.param(g, y, wrt, feeds, id=name))
    g, y, ins = every_op_graph()
    rng = np.random.default_rng(0)
    feeds = {}
    domains = {f"{cid}_{i}": dom for cid, _, specs in OP_CASES for i, (_, dom) in enumerate(specs) if dom != "any"}
    for t in ins:
        shape = tuple(2 if d is None else d for d in t.shape)
        feeds[t.name] = sample(shape, domains.get(t.name, "nonzero"), rng)  # each row's domain (arcsin's...)
    out.append(pytest.param(g, y, ins, feeds, id="every_op"))
    return out


def test_every_op_graph_holds_every_registered_op():
    g, _, _ = every_op_graph()
    have = {d["op"] for _, d in g.nx.nodes(data=True)}
    missing = sorted(set(all_ops()) - have)
    assert not missing, f"add these ops to every_op_graph: {missing}"


def _node_view(g):
    """Everything a node holds, with constants as (dtype, shape, raw bytes, weak, Python type)."""
    rows = {}
    for nid, d in g.nx.nodes(data=True):
        row = {k: v for k, v in d.items() if k != "value"}
        row["attrs"] = repr(sorted(d["attrs"].items()))
        if "value" in d:
            v = np.asarray(d["value"])
            row["value"] = (v.dtype.str, v.shape, v.tobytes(), type(d["value"]).__name__)
        rows[nid] = row
    return rows


@pytest.mark.parametrize("g, y, wrt, feeds", example_graphs())
def test_round_trip_is_exact(tmp_path, g, y, wrt, feeds):
    path = tmp_path / "g.json"
    g.save(path)
    g2 = rg.load(path)
    assert g2.name == g.name
    assert _node_view(g2) == _node_view(g), "names, shapes, dtypes, attrs, constant bits and tags survive"
    assert sorted(g2.nx.edges(keys=True, data="slot")) == sorted(g.nx.edges(keys=True, data="slot"))
    assert g2.nx.graph.get("adjoint") == g.nx.graph.get("adjoint"), "the adjoint pass's per-edge book survives"
    assert g2._next_id == g._next_id and dict(g2._counters) == dict(g._counters)
    # Saving the loaded graph again gives the same bytes.
    g2.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
    # The compiled programs are the same code, and compute the same numbers.
    y2, wrt2 = Tensor(g2, y.id), [Tensor(g2, w.id) for w in wrt]
    s1, s2 = rg.compile(y, wrt=wrt), rg.compile(y2, wrt=wrt2)
    assert s2.source == s1.source
    assert rg.compile(y2).source == rg.compile(y).source
    np.testing.assert_array_equal(s2.forward(**feeds), s1.forward(**feeds))
    for a, b in zip(s2.backward(), s1.backward()):
        np.testing.assert_array_equal(a, b)


def test_outputs_and_wrt_structures_round_trip():
    g, loss, ins = every_op_graph()
    g2 = serialize.loads(serialize.dumps(g))
    assert set(g2.outputs) == {"loss", "grads"} and isinstance(g2.outputs["grads"], tuple)
    assert [t.id for t in g2.outputs["grads"]] == [t.id for t in g.outputs["grads"]]
    assert all(t.graph is g2 for t in g2.outputs["grads"])
    assert isinstance(g2.wrt, list) and [t.name for t in g2.wrt] == [t.name for t in g.wrt]


def test_traced_graph_outputs_round_trip():
    def model(x, W):
        return {"loss": rg.sum(rg.relu(x @ W)), "h": x @ W}

    x0, W0 = np.ones((2, 3)), np.ones((3, 4))
    g = rg.trace(model, x=x0, W=W0)
    g2 = serialize.loads(serialize.dumps(g))
    out = rg.compile(g2.outputs)(x=x0, W=W0)
    assert list(out) == ["loss", "h"] and out["loss"] == 24.0 and out["h"].shape == (2, 4)


def test_constants_keep_their_bits_dtype_and_weakness():
    g = rg.Graph("consts")
    x = g.input("x", shape=(3,), dtype="float32")
    specials = np.array([np.nan, -0.0, np.inf], dtype=np.float32)
    big_endian = np.array([1.5, -2.25, 3.0], dtype=">f8")
    parts = [x * 2.0, x + 3, x * True, x + g.constant(specials), x + g.constant(big_endian),
             x + g.constant(np.array([True, False, True])), x + g.constant(np.zeros((0, 3))).sum(axis=0),
             x * g.constant(np.int8(-7)), x + g.constant(np.arange(3, dtype=np.uint16))]
    y = parts[0]
    for p in parts[1:]:
        y = y + p
    g2 = serialize.loads(serialize.dumps(g))
    for nid, d in g.nx.nodes(data=True):
        if d["op"] != "constant":
            continue
        d2 = g2.nx.nodes[nid]
        assert type(d2["value"]) is type(d["value"]) and d2["weak"] == d["weak"]
        a, b = np.asarray(d["value"]), np.asarray(d2["value"])
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes())
    feeds = {"x": np.array([1, 2, 3], dtype=np.float32)}
    np.testing.assert_array_equal(rg.compile(Tensor(g2, y.id))(**feeds), rg.compile(y)(**feeds))


# -- atomic save ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch, fail_at):
    g, y, wrt, _ = demos.apple()
    path = tmp_path / "model.json"
    g.save(path)
    before = path.read_bytes()
    (y * 2.0).rename("bigger")  # the graph changes, so a completed save would change the file

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialize.os, fail_at, boom)
    with pytest.raises(rg.GraphError, match="simulated"):  # the OS's error, named, as a GraphError
        g.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before, "the old file is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"], "no temporary file is left behind"
    g.save(path)
    assert "bigger" in rg.load(path)


# -- validation -------------------------------------------------------------------------------------
def _doc(g=None):
    g = g if g is not None else demos.apple()[0]
    return json.loads(serialize.dumps(g))


def _node(doc, name):
    return next(n for n in doc["graph"]["nodes"] if n["name"] == name)


def _load(doc, **limits):
    return serialize.loads(json.dumps(doc), **limits)


def test_unknown_op_is_named_with_its_node_and_key():
    doc = _doc()
    _node(doc, "price")["op"] = "mull"
    with pytest.raises(rg.GraphError, match=r"node 4 'price', key 'op'.*'mull'.*did you mean mul"):
        _load(doc)


def test_wrong_operand_count():
    doc = _doc()
    doc["graph"]["edges"] = [e for e in doc["graph"]["edges"] if not (e["target"] == 4 and e["key"] == 1)]
    with pytest.raises(rg.GraphError, match=r"node 4 'price', key 'edges'.*takes 2 operand"):
        _load(doc)


def test_wrong_attribute_type():
    g = rg.Graph("t")
    x = g.input("x", shape=(2, 3))
    rg.sum(x, axis=1).rename("s")
    doc = _doc(g)
    _node(doc, "s")["attrs"]["keepdims"] = "yes"
    with pytest.raises(rg.GraphError, match=r"node 1 's', key 'attrs'.*normal form"):
        _load(doc)
    _node(doc, "s")["attrs"]["axis"] = {"tuple": ["1"]}
    with pytest.raises(rg.GraphError, match=r"node 1 's', key 'attrs'"):
        _load(doc)


def test_code_in_an_attribute_is_refused():
    g = rg.Graph("t")
    x = g.input("x", shape=(None, 2))
    y = rg.concatenate([x, x], axis=0)
    rg.grad(rg.sum(y), x)
    doc = _doc(g)
    part = next(n for n in doc["graph"]["nodes"] if n["op"] == "concat_part")
    part["attrs"]["part"] = "0); import os; os.system('touch PWNED')#"
    with pytest.raises(rg.GraphError, match=r"key 'attrs'.*part"):
        _load(doc)


def test_shapes_are_re_inferred():
    doc = _doc()
    _node(doc, "price")["shape"] = [3]
    with pytest.raises(rg.GraphError, match=r"node 4 'price', key 'shape'.*infers \(\)"):
        _load(doc)
    doc = _doc()
    _node(doc, "price")["dtype"] = "float32"
    with pytest.raises(rg.GraphError, match=r"key 'dtype'.*infers float64"):
        _load(doc)


def test_cycles_and_self_loops_are_refused():
    doc = _doc()
    doc["graph"]["edges"].append({"source": 4, "target": 4, "key": 2, "slot": 2})
    with pytest.raises(rg.GraphError, match=r"cycle"):
        _load(doc)
    doc = _doc()
    for e in doc["graph"]["edges"]:
        if e["target"] == 3 and e["key"] == 0:
            e["source"] = 4  # mul_1 now reads price, which reads mul_1
    with pytest.raises(rg.GraphError, match=r"cycle.*'mul_1'|cycle.*'price'"):
        _load(doc)


def test_duplicate_names_and_ids():
    doc = _doc()
    _node(doc, "tax")["name"] = "apple"
    with pytest.raises(rg.GraphError, match=r"node 2 'apple', key 'name'.*node 0 too"):
        _load(doc)
    doc = _doc()
    doc["graph"]["nodes"][1]["id"] = 0
    with pytest.raises(rg.GraphError, match=r"key 'id'.*used by node 0"):
        _load(doc)


def test_size_limits_are_enforced_and_overridable():
    doc = _doc()
    with pytest.raises(rg.GraphError, match=r"exceed max_nodes=4"):
        _load(doc, max_nodes=4)
    assert len(_load(doc, max_nodes=5)) == 5
    g = rg.Graph("c")
    (g.input("x", shape=(100,)) + g.constant(np.ones(100))).rename("y")
    doc = _doc(g)
    with pytest.raises(rg.GraphError, match=r"800 bytes of constants exceed max_constant_bytes"):
        _load(doc, max_constant_bytes=799)
    assert "y" in _load(doc, max_constant_bytes=800)
    with pytest.raises(rg.GraphError, match=r"unknown load limit"):
        _load(doc, max_nodez=1)
    assert serialize.DEFAULT_LIMITS["max_nodes"] == 100_000


@pytest.mark.parametrize("dtype", ["object", "O", "<U3", "S4", "V8", "f8,i4", "M8", "pickle"])
def test_only_numeric_dtypes_are_accepted(dtype):
    g = rg.Graph("c")
    g.constant(np.ones(2)).rename("k")
    doc = _doc(g)
    _node(doc, "k")["value"]["dtype"] = dtype
    with pytest.raises(rg.GraphError, match=r"node 0 'k', key 'value.dtype'"):
        _load(doc)


def test_constant_bytes_must_match_dtype_and_shape():
    g = rg.Graph("c")
    g.constant(np.ones(2)).rename("k")
    doc = _doc(g)
    _node(doc, "k")["value"]["shape"] = [3]
    with pytest.raises(rg.GraphError, match=r"key 'value.data'"):
        _load(doc)
    doc = _doc(g)
    _node(doc, "k")["value"]["data"] = "not base64!"
    with pytest.raises(rg.GraphError, match=r"key 'value.data'"):
        _load(doc)


def test_file_level_errors(tmp_path):
    g = demos.apple()[0]
    path = tmp_path / "g.json"
    g.save(path)
    text = path.read_bytes()
    for bad, pattern in [(text[: len(text) // 2], "not valid JSON"), (b"\xff\xfe" + text, "not UTF-8"),
                         (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not a revgraph graph"),
                         (b"{}", "not a revgraph graph"), (text.replace(b'"version": 1', b'"version": 99'), "newer"),
                         (b'{"format": "revgraph.graph", "version": 1, "version": 1}', "twice")]:
        path.write_bytes(bad)
        with pytest.raises(rg.GraphError, match=pattern):
            rg.load(path)
    with pytest.raises(rg.GraphError, match="cannot read"):
        rg.load(tmp_path / "missing.json")
    path.write_bytes(text)
    with pytest.raises(rg.GraphError, match="max_file_bytes"):
        rg.load(path, max_file_bytes=100)


_WATCHING = []


def _audit(event, args):
    if _WATCHING and event in ("exec", "compile", "import", "pickle.find_class", "os.system", "subprocess.Popen"):
        _WATCHING.append((event, str(args)[:80]))


def test_loading_never_executes_imports_or_unpickles():
    g, y, ins = every_op_graph()
    text = serialize.dumps(g)
    serialize.loads(text)  # warm up lazy imports inside the standard library
    sys.addaudithook(_audit)
    _WATCHING.append("on")
    try:
        g2 = serialize.loads(text)
    finally:
        events = _WATCHING[1:]
        _WATCHING.clear()
    assert events == [], f"loading ran code: {events}"
    assert len(g2) == len(g)


def test_argmax_attributes_re_normalise():
    """argmax's normaliser accepts its own output, so Graph.check() and rg.load pass on argmax graphs."""
    g = rg.Graph("a")
    rg.argmax(g.input("x", shape=(2, 3)), axis=1).rename("i")
    g.check()
    assert serialize.loads(serialize.dumps(g)).nx.nodes[1]["attrs"] == {"axis": (1,), "keepdims": False}


def test_unsaveable_data_is_an_error_not_a_silent_loss(tmp_path):
    g, y, wrt, _ = demos.apple()
    g.nx.nodes[y.id]["colour"] = "red"
    with pytest.raises(rg.GraphError, match=r"node 4 'price'.*'colour'"):
        g.save(tmp_path / "g.json")
    del g.nx.nodes[y.id]["colour"]
    g.outputs = {1: y}
    with pytest.raises(rg.GraphError, match=r"outputs.*key 1 is not a string"):
        g.save(tmp_path / "g.json")
    assert not (tmp_path / "g.json").exists()


def test_a_compiled_steps_graph_round_trips():
    g, y, wrt, feeds = demos.mlp()
    step = rg.compile(y, wrt=wrt)
    g2 = serialize.loads(serialize.dumps(step.graph))
    assert serialize.dumps(g2) == serialize.dumps(step.graph)
    grads = [Tensor(g2, n) for n in step.plan.programs["backward"].results]
    dout = g2.tensor(step.graph.nx.nodes[step.plan.options["dout"]]["name"])
    got = rg.compile(grads)(**feeds, **{dout.name: 1.0})
    step.forward(**feeds)
    for a, b in zip(got, step.backward()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_huge_constant_is_refused_before_anything_is_allocated():
    g = rg.Graph("c")
    g.constant(np.ones(2)).rename("k")
    doc = _doc(g)
    # 8 TiB (2**60 elements, as before, would not even be an array: refused for its shape)
    _node(doc, "k")["shape"] = _node(doc, "k")["value"]["shape"] = [2 ** 30, 2 ** 10]
    with pytest.raises(rg.GraphError, match=r"node 0 'k', key 'value.data'.*exceed max_constant_bytes"):
        _load(doc)


def test_the_file_is_networkx_node_link_data_of_the_graph():
    """to_document writes node-link data itself (for speed); it must be exactly what networkx writes."""
    import networkx as nx

    g, _, _ = every_op_graph()
    skeleton = nx.MultiDiGraph()
    for nid in sorted(g.nx):
        skeleton.add_node(nid, **serialize._encode_node(g, nid))
    for dst, slot, src in sorted((v, k, u) for u, v, k in g.nx.edges(keys=True)):
        skeleton.add_edge(src, dst, key=slot, slot=slot)
    skeleton.graph["adjoint"] = serialize._encode_book(g.nx.graph.get("adjoint", {}))
    want = nx.node_link_data(skeleton, edges="edges")
    assert serialize.to_document(g)["graph"] == want
    back = nx.node_link_graph(json.loads(serialize.dumps(g))["graph"], edges="edges")
    assert sorted(back.edges(keys=True)) == sorted(g.nx.edges(keys=True))
