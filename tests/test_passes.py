"""Simplification passes (compiler/passes): each rewrite fires on a graph built to contain its
pattern, and no pass changes values or gradients (targeted graphs here, random graphs in
test_passes_property.py). The IR linter runs after every pass."""

import numpy as np
import pytest

import revgraph as rg
from revgraph.compiler.passes import PIPELINE, optimize
from revgraph.ir.tensor import Tensor


def checked_pipeline(tensors, pipeline=None):
    """Run the passes on a copy of the tensors' graph with Graph.check() after each one;
    returns the optimised copy's output tensors and the per-pass records."""
    work = tensors[0].graph.copy()
    roots = [t.id for t in tensors]
    roots, records = optimize(work, roots, pipeline=pipeline, after_each=lambda g: g.check())
    return [Tensor(work, r) for r in roots], records


def rewrites(step):
    """All rewrites a compile made, by name."""
    total = {}
    for rec in step.stats["passes"]:
        for k, v in rec["rewrites"].items():
            total[k] = total.get(k, 0) + v
    return total


def live_ops(step):
    """Op nodes (not inputs/constants) the programs compute."""
    return sum(len(p.body) for p in step.plan.programs.values())


def assert_same_step(y, wrt, feeds):
    """Optimised and raw compiles agree on value and gradients, and the optimised one computes less or the same."""
    wrt = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    raw, opt = rg.compile(y, wrt=wrt, optimize=False), rg.compile(y, wrt=wrt)
    v0, g0 = raw.value_and_grad(**feeds)
    v1, g1 = opt.value_and_grad(**feeds)
    np.testing.assert_allclose(v1, v0, rtol=1e-12, err_msg="optimised value differs from the raw program's")
    for a, b in zip(g1, g0):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg="optimised gradient differs from the raw program's")
        assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype, "gradient shape/dtype changed"
    assert live_ops(opt) <= live_ops(raw), "the optimised program computes more than the raw one"
    checked_pipeline([Tensor(y.graph, y.id)])  # the linter passes after each pass on the forward graph too
    return raw, opt


X3 = np.array([0.5, -1.25, 2.0])
M23 = np.arange(6.0).reshape(2, 3) / 7 - 0.3


@pytest.mark.parametrize("build, rule", [
    (lambda x: x * 1.0, "x*1"),
    (lambda x: 1.0 * x, "x*1"),
    (lambda x: x + 0.0, "x+0"),
    (lambda x: 0.0 + x, "x+0"),
    (lambda x: x - 0.0, "x-0"),
    (lambda x: x / 1.0, "x/1"),
    (lambda x: x ** 1, "x**1"),
    (lambda x: -(-x), "-(-x)"),
])
def test_algebraic_identity_rules_fire_and_shrink_the_graph(build, rule):
    g = rg.Graph()
    x = g.input("x", (3,))
    y = rg.sum(rg.tanh(build(rg.sin(x))))
    raw, opt = assert_same_step(y, x, {"x": X3})
    assert rewrites(opt).get(rule, 0) >= 1, f"rule {rule!r} did not fire: {rewrites(opt)}"
    assert len(opt.plan.programs["forward"].body) < len(raw.plan.programs["forward"].body), \
        "the forward program did not lose the identity op"


def test_identity_rules_keep_broadcasting_and_dtype_changes():
    g = rg.Graph()
    x = g.input("x")  # a scalar: x * ones((3,)) broadcasts, so it must stay
    i = g.input("i", (3,), dtype="int64")  # i * 1.0 changes the dtype, so it must stay
    y = rg.sum(x * np.ones(3)) + rg.sum(i * 1.0)
    _, opt = assert_same_step(y, x, {"x": 2.0, "i": np.array([1, 2, 3])})
    G = opt.graph.nx
    fwd_muls = [n for n in opt.plan.programs["forward"].body if G.nodes[n]["op"] == "mul"]
    assert len(fwd_muls) == 2, "x*1 fired in the forward where it changes the shape or dtype"


def test_transpose_of_transpose_and_reshape_of_reshape():
    g = rg.Graph()
    x = g.input("x", (2, 3, 4))
    t = rg.transpose(rg.transpose(x, (1, 0, 2)), (1, 0, 2))        # the identity: replaced by x
    u = rg.transpose(rg.transpose(x, (2, 0, 1)), (2, 0, 1))        # composes into one transpose
    r = rg.reshape(rg.reshape(x, (6, 4)), (4, 6))                  # one reshape of x
    y = rg.sum(rg.sin(t)) + rg.sum(rg.cos(u)) + rg.sum(rg.tanh(r))
    raw, opt = assert_same_step(y, x, {"x": np.linspace(-1, 1, 24).reshape(2, 3, 4)})
    got = rewrites(opt)
    assert got.get("transpose of transpose", 0) >= 2 and got.get("reshape of reshape", 0) >= 1, got
    fwd_ops = [opt.graph.nx.nodes[n]["op"] for n in opt.plan.programs["forward"].body]
    assert fwd_ops.count("transpose") == 1 and fwd_ops.count("reshape") == 1, fwd_ops


def test_sum_of_a_broadcast_becomes_a_multiplication():
    g = rg.Graph()
    x = g.input("x", (3,))
    y = rg.sum(rg.sin(rg.sum(rg.broadcast_to(x, (4, 3)), axis=0)))
    raw, opt = assert_same_step(y, x, {"x": X3})
    assert rewrites(opt).get("sum of a broadcast", 0) >= 1, rewrites(opt)
    ops = [opt.graph.nx.nodes[n]["op"] for n in opt.plan.programs["forward"].body]
    assert "broadcast_to" not in ops and "mul" in ops, ops


def test_multiplication_by_a_seed_of_ones_is_removed():
    g = rg.Graph()
    x = g.input("x", (3,))
    dx = rg.grad(rg.sum(rg.exp(x)), x)  # no seed: rg.grad makes a constant 1.0 seed
    raw, opt = rg.compile(dx, optimize=False), rg.compile(dx)
    np.testing.assert_allclose(opt(x=X3), raw(x=X3), rtol=1e-12)
    assert rewrites(opt).get("x*1", 0) + rewrites(opt).get("folded constant", 0) >= 1, rewrites(opt)
    assert len(opt.plan.programs["call"].body) < len(raw.plan.programs["call"].body)
    checked_pipeline([dx])


def test_constant_folding_uses_the_kernels_and_keeps_dtypes():
    g = rg.Graph()
    x = g.input("x", (3,), dtype="float32")
    c = rg.exp(g.constant(np.array([0.0, 1.0, 2.0], dtype="float32"))) * 2.0
    y = rg.sum(x * c)
    raw, opt = assert_same_step(y, x, {"x": X3.astype("float32")})
    assert rewrites(opt).get("folded constant", 0) >= 2, rewrites(opt)
    assert opt.value_and_grad(x=X3.astype("float32"))[0].dtype == np.float32
    assert "exp" not in opt.source.split("def forward")[1], "the constant expression is still computed at run time"


def test_cse_merges_duplicates_across_forward_and_adjoint():
    g = rg.Graph()
    x = g.input("x", (3,))
    # forward computes x**2; the adjoint of x**3 computes x**(3-1) = x**2 again
    y = rg.sum(x ** 3) + rg.sum(x ** 2) + rg.sum(rg.exp(x)) + rg.sum(rg.exp(x))
    raw, opt = assert_same_step(y, x, {"x": X3})
    assert rewrites(opt).get("common subexpression", 0) >= 2, rewrites(opt)
    G = opt.graph.nx
    pows = [n for n in opt.plan.programs["backward"].body if G.nodes[n]["op"] == "pow"]
    assert not pows, "the adjoint recomputes x**2 instead of reading the forward's"
    exps = [n for p in opt.plan.programs.values() for n in p.body if G.nodes[n]["op"] == "exp"]
    assert len(exps) == 1, "exp(x) is computed twice"


def test_dce_drops_what_no_output_needs_but_keeps_inputs():
    g = rg.Graph()
    x, unused = g.input("x", (3,)), g.input("unused")
    rg.exp(x) * 3.0  # dead
    y = rg.sum(x * x)
    f = rg.compile(y)
    assert f(x=X3, unused=1.0) == pytest.approx(float(np.sum(X3 * X3))), "feeding an input no output needs must stay allowed"
    assert "unused" in f.graph
    assert rewrites(f).get("dead node", 0) >= 2, rewrites(f)


def test_stats_report_counts_before_and_after_each_pass_in_order():
    g = rg.Graph()
    x = g.input("x", (3,))
    step = rg.compile(rg.sum(x * 1.0 + 0.0), wrt=x)
    recs = step.stats["passes"]
    assert step.stats["optimize"] is True
    assert [r["pass"] for r in recs] == [name for name, _ in PIPELINE]
    for a, b in zip(recs, recs[1:]):
        assert a["forward"][1] == b["forward"][0] and a["adjoint"][1] == b["adjoint"][0], "counts do not chain"
    assert recs[0]["forward"][0] > recs[-1]["forward"][1], "the forward graph did not shrink"
    assert rg.compile(rg.sum(x), wrt=x, optimize=False).stats == {"optimize": False, "passes": []}


def test_optimize_false_keeps_the_raw_graph_and_users_graph_is_never_edited():
    g = rg.Graph()
    x = g.input("x", (3,))
    y = rg.sum(x * 1.0)
    n, edges = len(g), g.nx.number_of_edges()
    rg.compile(y)
    rg.compile(y, wrt=x)
    assert (len(g), g.nx.number_of_edges()) == (n, edges), "compiling edited the user's graph"
    raw = rg.compile(y, wrt=x, optimize=False)
    assert any(raw.graph.nx.nodes[n]["op"] == "mul" for n in raw.plan.programs["forward"].body)


def test_surviving_nodes_keep_ids_names_tags_and_the_adjoint_book_is_remapped():
    g = rg.Graph()
    x = g.input("x", (3,))
    h = rg.exp(x).rename("h")
    y = rg.sum(h * 1.0 + h * 1.0)
    step = rg.compile(y, wrt=[x, h])
    G = step.graph.nx
    assert G.nodes[h.id]["name"] == "h" and G.nodes[h.id]["adjoint"] == 0
    book = G.graph["adjoint"]
    for rec in book.values():
        for (u, v, _), gid in rec["edges"].items():
            assert u in G and v in G and gid in G, "the adjoint book points at a removed node"
        for n, gid in rec["totals"].items():
            assert n in G and gid in G
    labelled = {w for n, d in G.nodes(data=True) for w in d.get("grad_of", ())}
    assert {x.id, h.id} <= labelled, "grad_of labels were lost"
    for n, d in G.nodes(data=True):
        assert d["adjoint"] or n <= y.id, "a forward-tagged node appeared"
    step.graph.check()


def test_graphs_with_argmax_pass_the_linter_after_every_pass():
    # argmax's attribute normaliser once refused its own normalised form (axis=(0,)), so
    # Graph.check() -- which re-declares every node -- failed on any graph holding an argmax.
    g = rg.Graph()
    x = g.input("x", (2, 3))
    labels = rg.argmax(rg.stop_gradient(x), axis=-1)
    loss = rg.softmax_cross_entropy(x * 1.0, labels)
    g.check()
    checked_pipeline([loss, *rg.grad(loss, [x])])


def _classifier(onehot=False):
    g = rg.Graph("clf")
    t = g.input("t", (4, 5)) if onehot else g.input("t", (4,), dtype="int64")
    x, W = g.input("x", (4, 3)), g.input("W", (3, 5))
    loss = rg.softmax_cross_entropy(x @ W, t)
    labels = np.array([0, 4, 2, 1])
    feeds = {"x": np.linspace(-1, 1, 12).reshape(4, 3), "W": np.linspace(-2, 1, 15).reshape(3, 5),
             "t": np.eye(5)[labels] if onehot else labels}
    return loss, W, feeds


def test_value_and_grad_shares_the_log_probabilities_of_the_loss_with_its_softmax():
    # (probability labels: with integer labels the gradient is one fused op, reading no softmax to share)
    loss, W, feeds = _classifier(onehot=True)
    step = rg.compile(loss, wrt=W)
    value, grad = step.value_and_grad(**feeds)
    fused = step._fused
    assert rewrites(fused)["cross-entropy from shared log-probabilities"] == 1
    assert rewrites(fused)["softmax from shared log-probabilities"] == 1
    assert "nll(" in fused.source and "softmax(" not in fused.source.replace("log_softmax(", "")
    # The step's own programs -- the ones drawn and read -- keep the layer op whole.
    assert "softmax_cross_entropy(" in step.source and "nll(" not in step.source
    value2 = step.forward(**feeds)
    np.testing.assert_allclose(value, value2, rtol=1e-14)
    np.testing.assert_allclose(grad, step.backward(), rtol=1e-13, atol=1e-16)
    raw_value, raw_grad = rg.compile(loss, wrt=W, optimize=False).value_and_grad(**feeds)
    np.testing.assert_allclose(grad, raw_grad, rtol=1e-13, atol=1e-16)


def test_softmax_reads_a_log_softmax_of_the_same_logits_when_there_is_one():
    g = rg.Graph()
    x = g.input("x", (2, 3))
    p, logp = rg.softmax(x), rg.log_softmax(x)
    f = rg.compile([p, logp])
    assert rewrites(f)["softmax from shared log-probabilities"] == 1
    xv = np.array([[0.1, 2.0, -1.0], [3.0, 3.0, -4.0]])
    got_p, got_logp = f(x=xv)
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got_p, e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(got_logp, np.log(e / e.sum(axis=1, keepdims=True)), rtol=1e-13)


def _backward_ops(step):
    return [step.graph.nx.nodes[n]["op"] for n in step.plan.programs["backward"].body]


def test_gradients_of_slices_tiling_an_axis_are_joined_by_one_concatenate():
    # An LSTM cuts its four gates from one product: their gradients go back as one concatenate,
    # not a zero array per gate added up.
    g = rg.Graph()
    a = g.input("a", (3, 8))
    f, i, o = rg.sigmoid(a[:, :2]), rg.tanh(a[:, 2:5]), a[:, 5:] * 2.0
    y = rg.sum(f) + rg.sum(i * i) + rg.sum(o * o)
    raw, opt = assert_same_step(y, a, {"a": np.random.default_rng(0).standard_normal((3, 8))})
    assert rewrites(opt).get("slice gradients joined by concatenate", 0) == 1, rewrites(opt)
    assert "concatenate" in _backward_ops(opt) and "getitem_grad" not in _backward_ops(opt), _backward_ops(opt)


@pytest.mark.parametrize("cut", [
    lambda a: (a[:, :2], a[:, 3:]),         # a gap: column 2 gets no gradient
    lambda a: (a[:, :5], a[:, 3:]),         # an overlap: columns 3, 4 get two
    lambda a: (a[:2, :4], a[:, 4:]),        # cut along two different axes
    lambda a: (a[:, 0:8:2], a[:, 1:8:2]),   # steps
])
def test_slice_gradients_that_do_not_tile_one_axis_stay_as_they_are(cut):
    g = rg.Graph()
    a = g.input("a", (3, 8))
    p, q = cut(a)
    y = rg.sum(rg.sin(p)) + rg.sum(q * q)
    raw, opt = assert_same_step(y, a, {"a": np.random.default_rng(1).standard_normal((3, 8))})
    assert rewrites(opt).get("slice gradients joined by concatenate", 0) == 0, rewrites(opt)


@pytest.mark.parametrize("window", [dict(kernel_size=2), dict(kernel_size=3, stride=2, pad=1), dict(kernel_size=2, stride=3)])
def test_relus_mask_is_read_on_the_pooled_values_before_max_pooling(window):
    # where(relu_out > 0, max_pool2d_grad(g, relu_out), 0): the pooling gradient is nonzero only at each window's
    # maximum, where relu_out is the pooled value, so the mask is read there (on the smaller output gradient).
    g = rg.Graph()
    x, w = g.input("x", (2, 3, 7, 7)), g.input("w", (2, 3, 7, 7))
    p = rg.max_pool2d(rg.relu(x * w), **window)
    y = rg.sum(p * p)
    rng = np.random.default_rng(2)
    feeds = {"x": np.round(rng.standard_normal((2, 3, 7, 7))), "w": np.round(rng.standard_normal((2, 3, 7, 7)))}
    raw, opt = assert_same_step(y, [x, w], feeds)  # rounded values: ties in windows, zeros, all-negative windows
    assert rewrites(opt).get("mask moved before max pooling's gradient", 0) == 1, rewrites(opt)
    over = window.get("stride", window["kernel_size"]) >= window["kernel_size"] and not window.get("pad")
    back = opt.memory_plan()["programs"]["backward"]["inplace"]
    assert any(k.startswith("max_pool2d_grad") for k in back) == over, back  # over relu's output when windows are apart
    value, grads = opt.forward(**feeds), opt.backward()
    for a, b in zip(grads, raw.value_and_grad(**feeds)[1]):
        np.testing.assert_array_equal(a, b)


def test_the_mask_stays_where_it_is_when_the_relu_output_feeds_more_than_the_pooling():
    g = rg.Graph()
    x = g.input("x", (2, 3, 4, 4))
    r = rg.relu(x)
    y = rg.sum(rg.max_pool2d(r, 2) ** 2) + rg.sum(r * 3.0)
    raw, opt = assert_same_step(y, x, {"x": np.random.default_rng(3).standard_normal((2, 3, 4, 4))})
    assert rewrites(opt).get("mask moved before max pooling's gradient", 0) == 0, rewrites(opt)
