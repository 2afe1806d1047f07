"""ir/ops/math.py where the op table cannot look (it keeps central differences clear of these
points): the gradient conventions at kinks, jumps, poles and NaNs, in both engines; NumPy's
dtypes; and the loader refusing bad attributes."""

import json
import math

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import serialize


def grads_both(fn, *values):
    """Gradients of sum(fn(*xs)) w.r.t. every operand: (static, dynamic)."""
    g = rg.Graph()
    xs = [g.input(f"x{i}", shape=np.shape(v)) for i, v in enumerate(values)]
    static = rg.compile(rg.grad(rg.sum(fn(*xs)), xs))(**{x.name: v for x, v in zip(xs, values)})
    vs = [dy.Variable(np.asarray(v, dtype=float)) for v in values]
    rg.sum(fn(*vs)).backward()
    dynamic = [v.grad.data if v.grad is not None else np.zeros_like(v.data) for v in vs]
    return static, dynamic


def assert_grads(fn, values, expected):
    static, dynamic = grads_both(fn, *[np.asarray(v, dtype=float) for v in values])
    for engine, got in (("static", static), ("dynamic", dynamic)):
        for i, (a, e) in enumerate(zip(got, expected)):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15, err_msg=f"{engine}: d/dx{i}")


def test_clip_passes_the_gradient_to_x_at_the_bounds():
    x = [-1.0, -0.5, 0.0, 0.7, 2.0]
    assert_grads(lambda x: rg.clip(x, -0.5, 0.7), [x], [[0.0, 1.0, 1.0, 1.0, 0.0]])
    # array bounds get the gradient where they are the result, never where x sits on them
    lo, hi = [-0.5] * 5, [0.7] * 5
    assert_grads(rg.clip, [x, lo, hi], [[0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]])


def test_clip_with_crossed_bounds_gives_a_max_as_numpy():
    x, lo, hi = [0.0, 3.0], [2.0, 2.0], [1.0, 1.0]
    g = rg.Graph()
    t = [g.input(n, shape=(2,)) for n in "xlh"]
    np.testing.assert_array_equal(rg.compile(rg.clip(*t))(x=x, l=lo, h=hi), np.clip(x, lo, hi))
    assert_grads(rg.clip, [x, lo, hi], [[0, 0], [0, 0], [1, 1]])


def test_clip_needs_a_bound():
    g = rg.Graph()
    with pytest.raises(rg.GraphError, match="a_min or a_max"):
        rg.clip(g.input("x", shape=(2,)))


@pytest.mark.parametrize("op", ["floor", "ceil", "round"])
def test_rounding_has_zero_gradient_also_at_the_jumps(op):
    x = [-1.5, -1.0, 0.0, 0.5, 2.0, 2.5]
    assert_grads(lambda x: getattr(rg, op)(x) * 3.0 + x, [x], [[1.0] * 6])


def test_round_halves_to_even_and_decimals_as_numpy():
    v = np.array([0.5, 1.5, 2.5, -0.5, 1.25, 1.35])
    g = rg.Graph()
    x = g.input("x", shape=(6,))
    f = rg.compile([rg.round(x), rg.round(x, 1), rg.round(x, decimals=-1)])
    for got, want in zip(f(x=v * 10), [np.round(v * 10), np.round(v * 10, 1), np.round(v * 10, -1)]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op,q", [("mod", np.floor), ("fmod", np.trunc)])
def test_remainder_gradients_between_and_at_the_jumps(op, q):
    x = np.array([5.5, -5.5, 6.0, -6.0])   # 6.0 / 3.0 sits on a jump
    y = np.array([3.0, 3.0, 3.0, -3.0])
    assert_grads(getattr(rg, op), [x, y], [np.ones(4), -q(x / y)])


@pytest.mark.parametrize("op,np_op", [("fmax", np.fmax), ("fmin", np.fmin)])
def test_fmax_fmin_ties_share_and_nans_are_ignored(op, np_op):
    x = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
    y = np.array([1.0, np.nan, 4.0, 0.0, np.nan])
    g = rg.Graph()
    a, b = g.input("a", shape=(5,)), g.input("b", shape=(5,))
    np.testing.assert_array_equal(rg.compile(getattr(rg, op)(a, b))(a=x, b=y), np_op(x, y))
    pick_x = 1.0 if op == "fmax" else 0.0
    assert_grads(getattr(rg, op), [x, y], [[0.5, 1, 0, pick_x, 0.5], [0.5, 0, 1, 1 - pick_x, 0.5]])


def test_hypot_at_the_origin_has_zero_gradient_and_finite_second_order():
    assert_grads(rg.hypot, [[0.0, 3.0], [0.0, 4.0]], [[0.0, 0.6], [0.0, 0.8]])
    g = rg.Graph()
    x = g.input("x", shape=(2,))
    dx = rg.grad(rg.sum(rg.hypot(x, 0.0 * x + 0.0)), x)
    d2 = rg.compile(rg.grad(rg.sum(dx), x))(x=np.array([0.0, 2.0]))
    assert np.all(np.isfinite(d2))


def test_sinc_at_zero_first_and_second_derivative():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    dx = rg.grad(rg.sum(rg.sinc(x)), x)
    d2 = rg.grad(rg.sum(dx), x)
    first, second = rg.compile([dx, d2])(x=np.array([0.0, 0.5, -0.01]))
    h = 1e-4  # the derivatives of np.sinc by central differences
    want1 = (np.sinc(np.array([0.0, 0.5, -0.01]) + h) - np.sinc(np.array([0.0, 0.5, -0.01]) - h)) / (2 * h)
    np.testing.assert_allclose(first, want1, atol=1e-7)
    assert second[0] == pytest.approx(-math.pi ** 2 / 3, rel=1e-12)
    v = dy.Variable(np.array(0.0))
    rg.sinc(v).backward(create_graph=True)
    gx = v.grad
    v.cleargrad()
    gx.backward()
    assert v.grad.data == pytest.approx(-math.pi ** 2 / 3, rel=1e-12)


def test_nan_to_num_values_and_gradient():
    v = np.array([np.nan, np.inf, -np.inf, 1.5])
    g = rg.Graph()
    x = g.input("x", shape=(4,))
    f = rg.compile([rg.nan_to_num(x), rg.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0)])
    for got, want in zip(f(x=v), [np.nan_to_num(v), np.nan_to_num(v, nan=-1.0, posinf=9.0, neginf=-9.0)]):
        np.testing.assert_array_equal(got, want)
    assert_grads(rg.nan_to_num, [v], [[0.0, 0.0, 0.0, 1.0]])


def test_leaky_relu_at_zero_takes_the_slope():
    assert_grads(lambda x: rg.leaky_relu(x, slope=0.1), [[-1.0, 0.0, 2.0]], [[0.1, 0.1, 1.0]])


def test_softplus_does_not_overflow():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    y = rg.softplus(x)
    value, grad = rg.compile([y, rg.grad(rg.sum(y), x)])(x=np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(value, [0.0, math.log(2.0), 1000.0])
    np.testing.assert_allclose(grad, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("op,dtype", [("floor", "int64"), ("ceil", "int32"), ("round", "int64"), ("reciprocal", "int64"),
                                      ("mod", "int64"), ("fmax", "int32"), ("arcsin", "int64"), ("hypot", "int64"),
                                      ("nan_to_num", "int64"), ("sinc", "int32"), ("isnan", "float32")])
def test_dtypes_are_numpys(op, dtype):
    v = np.array([1, -1, 1], dtype=dtype)
    fn = getattr(rg, op)
    binary = op in ("mod", "fmax", "hypot")
    g = rg.Graph()
    x = g.input("x", shape=(3,), dtype=dtype)
    out = fn(x, x) if binary else fn(x)
    expected = (getattr(np, op)(v, v) if binary else getattr(np, op)(v))
    assert out.dtype == expected.dtype, f"{op}({dtype}) declares {out.dtype}, NumPy gives {expected.dtype}"
    assert rg.compile(out)(x=v).dtype == expected.dtype


def _saved_with(op_name, mutate):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    {"round": lambda: rg.round(x, 2), "clip": lambda: rg.clip(x, 0.0, 1.0), "leaky_relu": lambda: rg.leaky_relu(x),
     "nan_to_num": lambda: rg.nan_to_num(x, posinf=5.0)}[op_name]()
    data = json.loads(serialize.dumps(g))
    node = next(n for n in data["graph"]["nodes"] if n["op"] == op_name)
    mutate(node["attrs"])
    return json.dumps(data)


@pytest.mark.parametrize("op,mutate,message", [
    ("round", lambda a: a.update(decimals=1.5), "decimals"),
    ("clip", lambda a: a.update(has_min=False), "operands"),
    ("clip", lambda a: a.update(has_max=1), "has_max"),
    ("leaky_relu", lambda a: a.update(slope="0.1"), "slope"),
    ("nan_to_num", lambda a: a.update(posinf="inf"), "posinf"),
])
def test_loader_refuses_bad_attributes(op, mutate, message):
    text = _saved_with(op, lambda a: None)
    assert rg.ir.serialize.loads(text) is not None  # the untouched file loads
    with pytest.raises(rg.GraphError, match=message):
        rg.ir.serialize.loads(_saved_with(op, mutate))


def test_save_load_round_trip_of_math_attributes():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    outs = [rg.round(x, 2), rg.clip(x, None, 1.0), rg.leaky_relu(x, 0.3), rg.nan_to_num(x, nan=1.0, neginf=-2.0)]
    g.outputs = outs
    back = rg.ir.serialize.loads(serialize.dumps(g))
    v = np.array([np.nan, -np.inf, 1.234])
    for a, b in zip(rg.compile(outs)(x=v), rg.compile(list(back.outputs))(x=v)):
        np.testing.assert_array_equal(a, b)


def test_numpy_calls_on_tensors_build_the_new_ops():
    g = rg.Graph()
    t = g.input("t", shape=(2, 3))
    built = [np.tan(t), np.hypot(t, t), np.cumsum(t, axis=1), np.prod(t), np.fmax(t, 0.5), np.logaddexp(t, t)]
    assert [b.op for b in built] == ["tan", "hypot", "cumsum", "prod", "fmax", "logaddexp"]
    v = np.arange(6.0).reshape(2, 3) / 7
    for b, want in zip(built, [np.tan(v), np.hypot(v, v), np.cumsum(v, axis=1), np.prod(v), np.fmax(v, 0.5),
                               np.logaddexp(v, v)]):
        np.testing.assert_allclose(rg.compile(b)(t=v), want, rtol=1e-13)


def test_the_new_ops_are_drawn_with_their_names():
    from optable_math import MATH_CASES
    from optable_reduce import REDUCE_CASES

    g = rg.Graph("drawn")
    loss, xs = 0.0, []
    for cid, fn, specs in MATH_CASES + REDUCE_CASES:
        ins = [g.input(f"{cid}_{i}", shape=s) for i, (s, _) in enumerate(specs)]
        xs += ins
        loss = loss + rg.sum(fn(*ins))
    step = rg.compile(loss, wrt=xs)
    source = rg.to_dot(step, which="joint").source
    from revgraph.ir.ops import math as math_ops

    new = set(math_ops.__all__) | {"min", "prod", "var", "std", "cumsum", "logsumexp"}
    ops = {d["op"] for _, d in step.graph.nx.nodes(data=True) if not d.get("adjoint")} & new  # forward ones
    assert {"tan", "clip", "mod", "fmax", "sinc", "prod", "cumsum", "logsumexp", "std"} <= ops
    for op in ops:
        assert op in source, f"{op} is not in the drawing"
