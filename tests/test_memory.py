"""Memory planning (compiler/memory.py): values are dropped after their last use, elementwise
ops write into dying operands' buffers only when that is safe, cheap values are recomputed in
the backward instead of kept, and step.memory_plan() reports residuals and planned peaks."""

import re

import numpy as np
import pytest

import revgraph as rg

X = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def both(y, wrt, feeds):
    """(optimised step, its value and grads) after checking it against the unoptimised program."""
    raw = rg.compile(y, wrt=wrt, optimize=False).value_and_grad(**feeds)
    step = rg.compile(y, wrt=wrt)
    got = step.value_and_grad(**feeds)
    np.testing.assert_allclose(got[0], raw[0], rtol=1e-12, err_msg="value changed by the memory plan")
    for a, b in zip(got[1], raw[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg="gradient changed by the memory plan")
    return step


def line_of(step, name):
    """The generated line computing node ``name``."""
    return next(line for line in step.source.splitlines() if f"# {name} = " in line)


def in_place(line):
    """Whether a generated line writes into an existing buffer (``out=``, or ``v1 *= v2``)."""
    return "out=" in line or re.match(r"\s*v\d+ (\+|-|\*|/|\*\*)= ", line) is not None


def test_intermediates_are_dropped_right_after_their_last_use():
    g = rg.Graph()
    x = g.input("x", (30, 40))  # 9600 bytes: values under memory.FREE_MIN_BYTES are not worth a del line
    a = rg.exp(x).rename("a")
    b = rg.sin(a).rename("b")
    y = rg.sum(rg.cos(b) * 2.0)
    f = rg.compile(y)
    lines = f.source.splitlines()
    i = lines.index(line_of(f, "b"))
    assert re.fullmatch(r"\s+del .*\bv%d\b.*" % a.id, lines[i + 1]), "exp(x) is not dropped after sin reads it"
    X2 = np.linspace(-1.0, 1.0, 1200).reshape(30, 40)
    assert f(x=X2) == pytest.approx(float(np.sum(np.cos(np.sin(np.exp(X2))) * 2.0)))
    small = rg.Graph()
    s = small.input("s", (3,))
    assert "del " not in rg.compile(rg.sum(rg.cos(rg.sin(s)))).source, "24-byte values got del lines"


def test_elementwise_ops_write_into_a_dying_operand_but_never_into_feeds_views_or_shared_values():
    g = rg.Graph()
    x = g.input("x", (3, 4))
    e = rg.exp(x).rename("e")
    t = rg.transpose(e).rename("t")        # a view of e, read after e's last elementwise use
    s = (e * 3.0).rename("s")              # e dies here -- but t still reads its memory
    u = (s + 1.0).rename("u")              # s dies here and owns its buffer: reuse it
    v = (x * 2.0).rename("v")              # x is a feed: never written
    y = rg.sum(u) + rg.sum(rg.sin(t)) + rg.sum(v)
    step = both(y, x, {"x": X})
    assert in_place(line_of(step, "u")), "u = s + 1 did not reuse s's buffer"
    assert not in_place(line_of(step, "s")), "s wrote into e while its transpose is still to be read"
    assert not in_place(line_of(step, "v")), "v wrote into the fed array"
    x0 = X.copy()
    step.value_and_grad(x=x0)
    np.testing.assert_array_equal(x0, X, err_msg="running the program changed the caller's array")


def test_inplace_is_off_without_optimisation_and_reported_in_the_plan():
    g = rg.Graph()
    x = g.input("x", (3, 4))
    y = rg.sum(rg.tanh(rg.exp(x) + 1.0))
    assert not any(in_place(ln) for ln in rg.compile(y, wrt=x, optimize=False).source.splitlines())
    plan = rg.compile(y, wrt=x).memory_plan()
    assert plan["programs"]["forward"]["inplace"], plan


def test_cheap_residual_is_recomputed_in_the_backward_instead_of_kept():
    g = rg.Graph()
    x, w = g.input("x", (3, 4)), g.input("w", (3, 4))
    r = (x * w).rename("r")                # cheap, from inputs: no need to keep it
    y = rg.sum(rg.sin(r))                  # sin's VJP reads r (cos r)
    step = both(y, [x, w], {"x": X, "w": X[::-1].copy()})
    plan = step.memory_plan()
    assert plan["recomputed"] == ["r"], plan
    assert "r" not in plan["residuals"] and plan["residual_bytes"] == 0, plan
    raw_plan = rg.compile(y, wrt=[x, w], optimize=False).memory_plan()
    assert "r" in raw_plan["residuals"] and raw_plan["residual_bytes"] == X.nbytes, raw_plan


def test_memory_plan_reports_residuals_and_the_planned_peak():
    g = rg.Graph()
    x = g.input("x", (100, 10))
    h = rg.tanh(x).rename("h")
    y = rg.sum(h * h)
    step = rg.compile(y, wrt=x)
    plan = step.memory_plan()
    assert plan["residuals"] == ["h"] and plan["residual_bytes"] == 8000, plan
    fwd = plan["programs"]["forward"]
    # forward: h (kept), h*h and the 8-byte sum alive together at the peak
    assert fwd["peak_bytes"] == 16008, fwd
    back = plan["programs"]["backward"]
    assert 8000 <= back["peak_bytes"] <= 3 * 8000 and back["unknown_sizes"] == 0, back
    assert plan["peak_bytes"] == max(fwd["peak_bytes"], back["peak_bytes"])


def test_backward_takes_its_arguments_boxed_and_empties_the_list():
    g = rg.Graph()
    x = g.input("x", (3, 4))
    step = rg.compile(rg.sum(rg.exp(x)), wrt=x)
    value, residuals = step._forward({"x": X})
    grads = step._backward(None, residuals)
    assert residuals == [], "the residual list still holds its arrays after the backward"
    np.testing.assert_allclose(grads, np.exp(X))
    step.forward(x=X)
    step.backward()
    with pytest.raises(RuntimeError, match="forward"):
        step.backward()


def test_check_finite_turns_off_inplace_writes_so_the_error_can_show_the_operands():
    g = rg.Graph()
    x = g.input("x", (30, 40))
    y = rg.sum(rg.log(rg.exp(x) - 1.0))  # log(0) at x = 0
    step = rg.compile(y, wrt=x, check_finite=True)
    assert all(not p["inplace"] for p in step.memory_plan()["programs"].values()), step.memory_plan()
    assert not any(in_place(ln) for ln in step.source.splitlines())
    with np.errstate(divide="ignore"), pytest.raises(FloatingPointError):
        step.forward(x=np.zeros((30, 40)))


def test_arguments_are_deleted_only_where_the_program_owns_them():
    g = rg.Graph()
    x = g.input("x", (30, 40))
    y = rg.sum(rg.tanh(x) * rg.sin(x))
    step = rg.compile(y, wrt=[x])
    forward, backward = step.source.split("def backward")
    # The caller keeps its feed alive anyway: no line deleting x in the forward program...
    assert not re.search(r"del .*\bv%d\b" % x.id, forward)
    # ...while the backward program empties its argument list and drops each residual after its last use.
    assert re.search(r"del .*\bv%d\b" % x.id, backward)
    f = rg.compile(y)
    assert not re.search(r"del .*\bv%d\b" % x.id, f.source)


# -- taking over dead buffers (memory.REUSE_MIN_BYTES is lowered so small graphs exercise it) -----
from unittest import mock  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402

from revgraph.compiler import memory  # noqa: E402
from randgraph import graph_specs  # noqa: E402


def _mlp(layers=3, width=40, batch=4):  # values over memory.FREE_MIN_BYTES, so they get del lines
    g = rg.Graph("mlp")
    h = g.input("x", (batch, width))
    params = []
    for i in range(layers):
        W, b = g.input(f"W{i}", (width, width)), g.input(f"b{i}", (width,))
        params += [W, b]
        h = rg.tanh(h @ W + b)
    rng = np.random.default_rng(0)
    feeds = {t.name: rng.standard_normal(t.shape) / 3 for t in [g.tensor("x"), *params]}
    return rg.sum(h), params, feeds


def test_a_matrix_product_takes_over_a_buffer_that_died_earlier():
    loss, params, feeds = _mlp()
    with mock.patch.object(memory, "REUSE_MIN_BYTES", 0):
        step = both(loss, params, feeds)
    reused = [line for line in step.source.splitlines() if re.search(r"xp\.matmul\(v\d+, v\d+, out=v\d+\)", line)]
    assert reused, "no matrix product wrote into a dead buffer"
    assert any(p["reused"] for p in step.memory_plan()["programs"].values())  # and the plan says so
    # The value holding the buffer is dropped right after the product that took it over, not before.
    lines = step.source.splitlines()
    taker = lines.index(reused[0])
    holder = re.search(r"out=(v\d+)", reused[0]).group(1)
    assert not any(re.search(rf"del .*\b{holder}\b", ln) for ln in lines[:taker])
    assert re.search(rf"del .*\b{holder}\b", lines[taker + 1])


def test_buffers_are_taken_over_only_when_the_planned_peak_does_not_grow():
    loss, params, feeds = _mlp()
    with mock.patch.object(memory, "REUSE_MIN_BYTES", 0):
        with_reuse = rg.compile(loss, wrt=params).memory_plan()
    without = rg.compile(loss, wrt=params).memory_plan()  # below the default size: nothing taken over
    for name, prog in with_reuse["programs"].items():
        assert prog["peak_bytes"] <= without["programs"][name]["peak_bytes"]


def test_taking_over_buffers_across_parts_of_a_long_program(monkeypatch):
    from revgraph.backends.numpy import codegen

    monkeypatch.setattr(codegen, "PART_OPS", 7)  # parts of 7 ops: holders must cross part boundaries
    loss, params, feeds = _mlp(layers=6)
    with mock.patch.object(memory, "REUSE_MIN_BYTES", 0):
        step = both(loss, params, feeds)
    assert "def backward_2(args)" in step.source or "def call_2(args)" in step.source
    assert re.search(r"xp\.matmul\(v\d+, v\d+, out=v\d+\)", step.source)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph_specs())
def test_taking_over_dead_buffers_keeps_values_and_gradients(spec):
    g, xs, out = spec.build()
    loss = rg.sum(out * out)
    raw = rg.compile(loss, wrt=xs, optimize=False).value_and_grad(**spec.feeds)
    with mock.patch.object(memory, "REUSE_MIN_BYTES", 0):
        step = rg.compile(loss, wrt=xs)
        opt = step.value_and_grad(**spec.feeds)  # (the fused program compiles here, under the same plan)
    for a, b in zip([opt[0], *opt[1]], [raw[0], *raw[1]]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# -- the backward writes into the residuals the forward made for it alone -----------------------------
def _forward_backward(step, feeds):
    value = step.forward(**feeds)
    return value, step.backward()


def test_the_backward_writes_into_residuals_the_forward_made_for_it_alone():
    loss, params, feeds = _mlp()
    step = rg.compile(loss, wrt=params)
    back = step.memory_plan()["programs"]["backward"]["inplace"]
    # tanh's gradient is computed in the buffer of the activation it reads (a residual, dying there),
    # as hand-written code does (dy = 1 - y*y in y's buffer), not in a new array
    assert {back.get(f"tanh_grad_{i}") for i in (2, 3)} == {"tanh_2", "tanh_1"}, back
    value, grads = _forward_backward(step, feeds)
    fused = step.value_and_grad(**feeds)
    assert np.array_equal(value, fused[0]) and all(np.array_equal(a, b) for a, b in zip(grads, fused[1]))
    raw = rg.compile(loss, wrt=params, optimize=False).value_and_grad(**feeds)
    for a, b in zip(grads, raw[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_residuals_shared_with_the_output_a_gradient_or_each_other_are_never_overwritten():
    g = rg.Graph()
    x, w = g.input("x", (30, 40)), g.input("w", (30, 40))
    e = rg.exp(x)  # a residual that is also d loss / d w
    h = rg.tanh(x * 2.0)  # a residual read through its transpose too: two residuals sharing one buffer
    loss = rg.sum(e * w) + rg.sum(rg.tanh(rg.transpose(h) * 3.0)) + rg.sum(h * h)
    feeds = {"x": X.repeat(10, 0).repeat(10, 1)[:30, :40] / 2, "w": np.full((30, 40), 0.5)}
    step = rg.compile(loss, wrt=[x, w])
    value, (gx, gw) = _forward_backward(step, feeds)
    xv = feeds["x"]
    hv = np.tanh(2 * xv)
    dh = 3 * (1 - np.tanh(3 * hv) ** 2) + 2 * hv
    np.testing.assert_allclose(gw, np.exp(xv), rtol=1e-13)
    np.testing.assert_allclose(gx, np.exp(xv) * 0.5 + dh * 2 * (1 - hv ** 2), rtol=1e-12)
    fused = step.value_and_grad(**feeds)
    np.testing.assert_allclose(value, fused[0], rtol=1e-13)


def test_a_program_fed_its_arguments_unboxed_owns_none_of_them():
    g = rg.Graph()
    x = g.input("x", (30, 40))
    f = rg.compile(rg.tanh(rg.exp(x)) * 2.0)
    (program,) = f.plan.programs.values()
    plan = memory.plan_program(f.graph, program, owned_params=frozenset(program.params))
    assert not plan.inplace or all(o not in program.params for o in plan.inplace.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph_specs())
def test_forward_then_backward_into_owned_residuals_keeps_values_and_gradients(spec):
    g, xs, out = spec.build()
    loss = rg.sum(out * out)
    raw = rg.compile(loss, wrt=xs, optimize=False).value_and_grad(**spec.feeds)
    with mock.patch.object(memory, "REUSE_MIN_BYTES", 0):
        step = rg.compile(loss, wrt=xs)
        value = step.forward(**spec.feeds)
        grads = step.backward()  # the program for dout = 1 (compiled here, under the same plan)
        value2 = step.forward(**spec.feeds)
        grads2 = step.backward(np.ones_like(value2))  # the general backward program
    for a, b, c in zip([value, *grads], [raw[0], *raw[1]], [value2, *grads2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c, b, rtol=1e-10, atol=1e-12)


def test_a_binary_op_written_into_its_operand_is_an_augmented_assignment():
    g = rg.Graph()
    x = g.input("x", (30, 40))
    e = rg.exp(x).rename("e")
    s = (e * 3.0).rename("s")  # e dies here: s is written into e's buffer
    d = (2.0 - rg.sin(s)).rename("d")  # the buffer is the second operand: a subtraction cannot be augmented
    xv = X.repeat(10, 0).repeat(10, 1)[:30, :40]
    step = rg.compile(rg.sum(d))
    assert step(x=xv) == np.sum(2.0 - np.sin(np.exp(xv) * 3.0))
    assert re.match(r"\s*v%d \*= v\d+ " % e.id, line_of(step, "s")), line_of(step, "s")
    assert "out=" in line_of(step, "d") or not in_place(line_of(step, "d"))
    lines = step.source.splitlines()
    assert lines[lines.index(line_of(step, "s")) + 1].strip() == f"v{s.id} = v{e.id}"


# -- a convolutional step at its tight minimum (benchmarks W5, smaller) ---------------------------------
def _convnet(batch=10, filters=30, image=28, k=5, hidden=100, classes=10):
    """The book's SimpleConvNet (conv -> relu -> max pool 2x2 -> affine -> relu -> affine -> softmax loss), W5's
    sizes on 10 images: small enough for a test, big enough that a kernel's fixed-size blocks do not count."""
    rng = np.random.default_rng(0)
    pooled = filters * ((image - k + 1) // 2) ** 2
    feeds = dict(x=rng.standard_normal((batch, 1, image, image)), t=rng.integers(0, classes, batch),
                 W1=0.3 * rng.standard_normal((filters, 1, k, k)), b1=0.1 * rng.standard_normal(filters),
                 W2=0.1 * rng.standard_normal((pooled, hidden)), b2=np.zeros(hidden),
                 W3=0.1 * rng.standard_normal((hidden, classes)), b3=np.zeros(classes))
    g = rg.Graph("convnet")
    v = {k: g.input(k, a.shape, a.dtype) for k, a in feeds.items()}
    h = rg.max_pool2d(rg.relu(rg.conv2d(v["x"], v["W1"], v["b1"])), 2)
    h = rg.relu(rg.reshape(h, (batch, -1)) @ v["W2"] + v["b2"])
    loss = rg.softmax_cross_entropy(h @ v["W3"] + v["b3"], v["t"])
    params = [v[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
    conv = batch * filters * (image - k + 1) ** 2
    tight = 8 * (sum(feeds[p.name].size for p in params) + conv + conv // 4)  # as benchmarks/nets.py counts
    return loss, params, feeds, tight


def test_a_convnet_step_holds_little_more_than_its_gradients_and_one_activation_with_its_pooling():
    loss, params, feeds, tight = _convnet()
    step = both(loss, params, feeds)
    plan = step.memory_plan()
    back = plan["programs"]["backward"]
    # The pooling gradient is computed over the ReLU'd images it was taken of (they die there: ReLU's mask is
    # read on the pooled values instead), so the backward never holds two arrays of the convolution's size.
    assert "relu_1" in back["inplace"].values(), back
    assert back["peak_bytes"] <= 1.10 * tight, (back["peak_bytes"], tight)
    import tracemalloc  # the arrays NumPy really allocates, kernels' temporaries included

    step.forward(**feeds)
    step.backward()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        step.forward(**feeds)
        grads = step.backward()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert peak <= 1.10 * tight, (peak, tight)
    raw = rg.compile(loss, wrt=params, optimize=False)
    raw.forward(**feeds)
    for a, b in zip(grads, raw.backward()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_view_of_a_kept_residual_is_rebuilt_in_the_backward_not_passed_as_a_second_residual():
    g = rg.Graph()
    x = g.input("x", (30, 40))
    h = rg.tanh(x).rename("h")
    r = rg.reshape(h, (40, 30)).rename("r")  # the same buffer as h, seen otherwise
    step = both(rg.sum(rg.sin(r)) + rg.sum(h * h), x, {"x": X.repeat(10, 0).repeat(10, 1)[:30, :40]})
    plan = step.memory_plan()
    assert plan["residuals"] == ["h"] and plan["recomputed"] == ["r"], plan
    assert plan["residual_bytes"] == 30 * 40 * 8, plan


def test_a_buffer_is_not_written_while_another_view_of_it_is_read_by_the_same_op():
    # where(c, m, m.T): m dies here, but the op also reads m through its transpose; a kernel writing m in slabs
    # would read columns already overwritten. (Ufuncs guard against overlap themselves; helpers need not.)
    g = rg.Graph()
    x = g.input("x", (256, 256))
    m = rg.exp(x)
    y = rg.where(x > 0.1, m, rg.transpose(m)) * 2.0
    f = rg.compile(y)
    xv = np.random.default_rng(4).standard_normal((256, 256))
    np.testing.assert_array_equal(f(x=xv), rg.compile(y, optimize=False)(x=xv))
    assert "where_into" not in f.source, f.source
