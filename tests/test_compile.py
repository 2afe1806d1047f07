"""rg.compile: output structures, the forward/backward split, generated code, schedules."""

import re

import numpy as np
import pytest

import revgraph as rg
from revgraph.compiler.schedule import schedule


def apple_orange():
    g = rg.Graph("buy_apple_orange")
    ins = [g.input(n) for n in ["apple", "apple_num", "orange", "orange_num", "tax"]]
    apple, apple_num, orange, orange_num, tax = ins
    return g, ins, (apple * apple_num + orange * orange_num) * tax


FEEDS = dict(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1)


def test_output_structures():
    g = rg.Graph()
    x = g.input("x")
    a, b = x * 2.0, x + 1.0
    assert rg.compile(a)(x=3.0) == 6.0
    assert rg.compile([a, b])(x=3.0) == [6.0, 4.0]
    assert rg.compile((a, b))(x=3.0) == (6.0, 4.0)
    assert rg.compile({"double": a, "next": b})(x=3.0) == {"double": 6.0, "next": 4.0}


def test_source_is_deterministic_and_uses_only_generated_names():
    sources = []
    for _ in range(2):
        g, ins, price = apple_orange()
        sources.append(rg.compile(price, wrt=ins).source)
    assert sources[0] == sources[1]
    code = "\n".join(line.split("#")[0] for line in sources[0].splitlines())
    # "args"/"clear"/"del": the backward takes its arguments boxed and frees values after their last use
    idents = set(re.findall(r"[A-Za-z_]\w*", code)) - {"def", "return", "forward", "backward", "xp", "args", "clear", "del"}
    assert all(re.fullmatch(r"v\d+", i) for i in idents), idents


def test_compile_leaves_the_users_graph_alone_and_only_schedules_what_is_needed():
    g, ins, price = apple_orange()
    extra = rg.exp(ins[0])  # not needed by price
    n = len(g)
    step = rg.compile(price, wrt=ins)
    assert len(g) == n  # the adjoint nodes went into the step's own copy
    assert extra.id not in schedule(g, [price.id])
    assert "exp" not in step.source


def test_residuals_are_exactly_what_backward_reads():
    g = rg.Graph()
    x = g.input("x", (3,))
    y = rg.sum(rg.exp(x) * 2.0)
    step = rg.compile(y, wrt=x)
    # d/dx sum(2 e^x) = 2 e^x: backward reads exp(x) only
    assert step.residuals == ["exp_1"]
    step.forward(x=np.zeros(3))
    np.testing.assert_allclose(step.backward(), 2 * np.ones(3))


def test_constants_reach_the_code_through_the_namespace():
    g = rg.Graph()
    x = g.input("x", (2,))
    c = g.constant(np.array([12345.5, 678.25]))
    f = rg.compile(x * c + 9876.125)
    assert "12345.5" not in f.source.split("# constants")[-1].split("def call")[1]
    assert "9876.125" not in f.source.split("def call")[1].split("\n", 2)[2].split("#")[0]
    np.testing.assert_allclose(f(x=np.ones(2)), [12345.5 + 9876.125, 678.25 + 9876.125])


def test_intermediate_wrt_and_unreached_wrt_gets_zeros():
    g = rg.Graph()
    x, z = g.input("x", (2,)), g.input("z", (3,))
    h = x * 3.0
    y = rg.sum(h * h)
    dh, dz = rg.grad(y, [h, z])
    vh, vz = rg.compile([dh, dz])(x=np.array([1.0, 2.0]), z=np.ones(3))
    np.testing.assert_allclose(vh, [6.0, 12.0])
    np.testing.assert_array_equal(vz, np.zeros(3))
    w = g.input("w", (None,))
    dw = rg.grad(y, w)
    np.testing.assert_array_equal(rg.compile(dw)(w=np.ones(5)), np.zeros(5))


def test_sizes_fixed_at_run_time():
    g = rg.Graph()
    x = g.input("x", (None, 3))
    b = g.input("b", (None,))
    W = g.input("W", (3, None))
    y = rg.mean(rg.tanh(x @ W + b) * 2.0, axis=0)
    loss = rg.sum(y)
    step = rg.compile(loss, wrt=[x, W, b])
    rng = np.random.default_rng(0)
    for n, m in [(2, 4), (5, 1)]:
        xv, Wv, bv = rng.normal(size=(n, 3)), rng.normal(size=(3, m)), rng.normal(size=m)
        step.forward(x=xv, W=Wv, b=bv)
        dx, dW, db = step.backward()
        t = np.tanh(xv @ Wv + bv)
        gz = 2 * (1 - t * t) / n
        np.testing.assert_allclose(dx, gz @ Wv.T)
        np.testing.assert_allclose(dW, xv.T @ gz)
        np.testing.assert_allclose(db, gz.sum(0))


def test_float32_stays_float32():
    g = rg.Graph()
    x = g.input("x", (4, 3), dtype="float32")
    W = g.input("W", (3, 2), dtype=np.float32)
    t = g.input("t", (4,), dtype="int64")
    loss = rg.softmax_cross_entropy(rg.sigmoid(x @ W) * 2.0 + 1.0, t)
    assert loss.dtype == np.float32
    step = rg.compile(loss, wrt=[x, W])
    v = step.forward(x=np.ones((4, 3), np.float32), W=np.ones((3, 2), np.float32), t=np.array([0, 1, 0, 1]))
    assert v.dtype == np.float32
    assert all(d.dtype == np.float32 for d in step.backward())


def test_mixed_dtypes_promote_and_gradients_keep_the_operand_dtype():
    g = rg.Graph()
    a = g.input("a", (2,), dtype="float32")
    b = g.input("b", (2,), dtype="float64")
    y = rg.sum(a * b)
    assert y.dtype == np.float64
    da, db = rg.compile(rg.grad(y, [a, b]))(a=np.ones(2, np.float32), b=np.ones(2))
    assert da.dtype == np.float32 and db.dtype == np.float64


def test_graph_views_split_forward_and_adjoint():
    g, ins, price = apple_orange()
    step = rg.compile(price, wrt=ins)
    fwd, adj = step.forward_graph, step.adjoint_graph
    assert {fwd.nx.nodes[n]["op"] for n in fwd.nx} == {"input", "mul", "add"}
    assert all(fwd.nx.nodes[n]["adjoint"] == 0 for n in fwd.nx)
    ops = [adj.nx.nodes[n] for n in adj.nx]
    assert sum(d["role"] == "seed" for d in ops if "role" in d) == 1
    assert {d["name"] for d in ops if d["adjoint"] == 0} == set(step.residuals)
    with pytest.raises(rg.GraphError, match="read-only"):
        adj.tensor("apple") * 2.0


def test_value_and_grad_is_stateless():
    g, ins, price = apple_orange()
    step = rg.compile(price, wrt=ins)
    value, grads = step.value_and_grad(**FEEDS)
    np.testing.assert_allclose(value, 715)
    np.testing.assert_allclose(grads, [2.2, 110, 3.3, 165, 650])
    with pytest.raises(RuntimeError):
        step.backward()


def test_plain_arrays_compute_eagerly():
    out = rg.relu(np.array([-1.0, 2.0])) + rg.sum(np.ones((2, 2)), axis=0)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [2.0, 4.0])


def test_fan_out_accumulates_in_one_node():
    g = rg.Graph()
    x = g.input("x")
    y = x * x + rg.exp(x) + x
    dx = rg.grad(y, x)
    acc = [d for _, d in g.nx.nodes(data=True) if d.get("role") == "accumulate"]
    assert len(acc) == 1 and acc[0]["op"] == "accumulate"
    assert g.nx.in_degree(next(n for n, d in g.nx.nodes(data=True) if d.get("role") == "accumulate")) == 4
    np.testing.assert_allclose(rg.compile(dx)(x=0.5), 2 * 0.5 + np.exp(0.5) + 1)
    g.check()


def test_apply_names_the_node_it_builds():
    from revgraph import dynamic as dy
    from revgraph.ir import apply

    g = rg.Graph()
    x = g.input("x")
    y = apply("add", x, 1.0, name="x_plus_one")
    assert y.name == "x_plus_one" and g.tensor("x_plus_one") == y
    v = apply("add", dy.Variable(np.array(2.0)), 1.0, name="ignored")
    assert float(v.data) == 3.0
    assert apply("add", np.array(2.0), 1.0, name="ignored") == 3.0
    with pytest.raises(rg.GraphError, match="add: cannot mix"):
        apply("add", x, dy.Variable(np.array(1.0)))
