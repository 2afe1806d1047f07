"""rg.custom_vjp: a NumPy function with a user-written VJP is one op in both engines, under rg.grad
(to second order), compiled, drawn, saved -- and a graph file naming it cannot define it."""

import json
import subprocess
import sys

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir import custom

X = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])


@pytest.fixture
def defined():
    """Custom ops a test defines are removed afterwards (the registry is the process's)."""
    made = []
    yield made.append
    for op in made:
        custom.forget(op.name)


def make_softclip(defined, name="softclip"):
    @rg.custom_vjp(name=name)
    def softclip(x):
        return np.tanh(x) * 2.0

    @softclip.defvjp
    def _(g, out, x):
        return g * (2.0 - out * out * 0.5)   # d/dx 2 tanh(x) = 2 (1 - tanh²) = 2 - out²/2

    defined(softclip)
    return softclip


def numeric(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        out[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return out


def test_one_node_first_and_second_derivatives(defined):
    softclip = make_softclip(defined)
    g = rg.Graph()
    x = g.input("x", shape=(None, 3))
    y = softclip(x)
    assert y.op == "softclip" and y.shape == (None, 3)
    assert [d["op"] for _, d in g.nx.nodes(data=True)].count("softclip") == 1
    loss = rg.sum(y * y)
    dx = rg.grad(loss, x)
    d2 = rg.grad(rg.sum(dx), x)
    v, gx, hx = rg.compile([loss, dx, d2])(x=X)
    f = lambda z: np.sum((2 * np.tanh(z)) ** 2)
    np.testing.assert_allclose(v, f(X))
    np.testing.assert_allclose(gx, numeric(f, X), rtol=1e-6)
    np.testing.assert_allclose(hx, numeric(lambda z: numeric(f, z, 1e-5).sum(), X, 1e-4), rtol=1e-4, atol=1e-6)


def test_dynamic_engine_records_it_and_agrees(defined):
    softclip = make_softclip(defined)
    x = dy.Variable(X.copy())
    y = softclip(x)
    assert y.creator.op == "softclip"
    rg.sum(y * y).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    rg.sum(gx).backward()
    g = rg.Graph()
    xt = g.input("x", shape=(2, 3))
    dt = rg.grad(rg.sum(softclip(xt) ** 2.0), xt)
    want_g, want_h = rg.compile([dt, rg.grad(rg.sum(dt), xt)])(x=X)
    np.testing.assert_allclose(gx.data, want_g, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, want_h, rtol=1e-12)
    assert isinstance(softclip(X), np.ndarray)            # plain arrays: it just computes


def test_several_inputs_return_a_tuple_and_none_means_no_gradient(defined):
    @rg.custom_vjp
    def scaled(x, s):
        return x * s

    @scaled.defvjp
    def _(g, out, x, s):
        return g * s, None                                   # no gradient to s

    defined(scaled)
    g = rg.Graph()
    x, s = g.input("x", shape=(3,)), g.input("s", shape=())
    dx, ds = rg.grad(rg.sum(scaled(x, s)), [x, s])
    gx, gs = rg.compile([dx, ds])(x=np.ones(3), s=2.5)
    np.testing.assert_allclose(gx, np.full(3, 2.5))
    assert gs == 0.0


def test_the_vjp_runs_once_per_node(defined):
    calls = []

    @rg.custom_vjp
    def both(x, y):
        return x * y

    @both.defvjp
    def _(g, out, x, y):
        calls.append(1)
        return g * y, g * x

    defined(both)
    g = rg.Graph()
    a, b = g.input("a", shape=(2,)), g.input("b", shape=(2,))
    rg.grad(rg.sum(both(a, b)), [a, b])
    assert len(calls) == 1


def test_drawn_as_one_node_and_compiled_code_calls_the_function(defined):
    softclip = make_softclip(defined)
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    step = rg.compile(rg.sum(softclip(x)), wrt=[x])
    assert "custom_softclip(v0)" in step.source
    dot = rg.to_dot(step, which="joint").source
    assert dot.count("softclip") >= 1
    step.forward(x=np.zeros(3))
    np.testing.assert_allclose(step.backward()[0], np.full(3, 2.0))


def test_saved_graph_names_the_op_and_loading_without_it_is_refused(defined, tmp_path):
    softclip = make_softclip(defined)
    g = rg.Graph("c")
    x = g.input("x", shape=(3,))
    g.outputs = [softclip(x)]
    path = tmp_path / "c.json"
    g.save(path)
    ops = [n["op"] for n in json.loads(path.read_text())["graph"]["nodes"]]
    assert "softclip" in ops
    np.testing.assert_allclose(rg.compile(rg.load(path).outputs)(x=X[0])[0], 2 * np.tanh(X[0]))
    # a fresh process that never defined softclip: the file cannot bring it along
    code = ("import revgraph as rg, sys\n"
            "try:\n    rg.load(sys.argv[1])\nexcept rg.GraphError as e:\n    print('GraphError:', e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert "GraphError:" in out.stdout and "unknown op 'softclip'" in out.stdout, out.stdout + out.stderr
    assert "rg.custom_vjp" in out.stdout and "never carries code" in out.stdout
    custom.forget("softclip")                                 # and in this process, once it is gone
    with pytest.raises(rg.GraphError, match="unknown op 'softclip'"):
        rg.load(path)


def test_redefining_replaces_the_op_in_both_engines(defined):
    first = make_softclip(defined, "twice")
    x = dy.Variable(np.array([0.5]))
    np.testing.assert_allclose(first(x).data, 2 * np.tanh(0.5))

    @rg.custom_vjp(name="twice")
    def second(x):
        return x * 2.0

    second.defvjp(lambda g, out, x: g * 2.0)
    defined(second)
    np.testing.assert_allclose(second(x).data, [1.0])
    g = rg.Graph()
    t = g.input("t", shape=(1,))
    np.testing.assert_allclose(rg.compile(second(t))(t=np.array([0.5])), [1.0])


def test_shape_rule_replaces_sampling(defined):
    @rg.custom_vjp(shape_rule=lambda a: (a.shape[:-1], a.dtype))
    def rowdet(a):
        return np.linalg.det(a @ np.swapaxes(a, -1, -2) - 1e9)   # sampling would be fine; the rule is used

    defined(rowdet)
    g = rg.Graph()
    a = g.input("a", shape=(4, 2, 2))
    assert rowdet(a).shape == (4, 2)


@pytest.mark.parametrize("make, says", [
    (lambda: rg.custom_vjp(lambda x: x), r"op name '<lambda>' is not an identifier; pass name="),
    (lambda: rg.custom_vjp(name="exp")(lambda x: x), r"'exp' is already a revgraph op; pass another name="),
    (lambda: rg.custom_vjp(name="f")(lambda *xs: xs[0]), r"fixed number .* positional array operands"),
])
def test_definition_mistakes(make, says):
    with pytest.raises(rg.GraphError, match=says):
        make()
    assert "f" not in custom.implementations()


def test_use_mistakes_are_graph_errors_naming_the_op(defined):
    @rg.custom_vjp
    def pair(x, y):
        return x + y

    defined(pair)
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    with pytest.raises(rg.GraphError, match=r"'pair' has no VJP: define one with @pair.defvjp"):
        rg.grad(rg.sum(pair(x, x)), x)
    pair.defvjp(lambda g, out, x, y: g)
    with pytest.raises(rg.GraphError, match=r"VJP of custom op 'pair' returned a .*tuple of 2 gradients"):
        rg.grad(rg.sum(pair(x, x * 2.0)), x)
    with pytest.raises(rg.GraphError, match=r"'pair' takes its operands positionally"):
        pair(x, y=x)

    @rg.custom_vjp
    def needs_square(a):
        return np.linalg.inv(a)

    defined(needs_square)
    with pytest.raises(rg.GraphError, match=r"needs_square.*sample arrays.*failed.*shape_rule="):
        needs_square(g.input("m", shape=(2, 3)))
