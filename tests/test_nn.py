"""rg.nn: one model object for both engines; parameters are the live arrays; save/load as .npz without pickle."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy


def _mlp(seed=0, init="he"):
    rng = np.random.default_rng(seed)
    return rg.nn.Sequential(rg.nn.Linear(4, 8, rng=rng, init=init), rg.nn.ReLU(), rg.nn.Linear(8, 3, rng=rng, init=init))


def _data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)


def test_same_model_static_and_dynamic_give_the_same_loss_and_gradients():
    model = _mlp()
    xb, tb = _data()
    g = rg.Graph("mlp")
    x, t = g.input("x", shape=(None, 4)), g.input("t", shape=(None,), dtype="int64")
    loss = rg.softmax_cross_entropy(model(x), t)
    inputs = model.inputs(g)
    assert list(inputs) == ["0.W", "0.b", "2.W", "2.b"] == list(model.params)
    step = rg.compile(loss, wrt=list(inputs.values()))
    static_loss = step.forward(x=xb, t=tb, **model.params)
    static_grads = dict(zip(model.params, step.backward()))
    dyn = rg.softmax_cross_entropy(model(dy.Variable(xb)), tb)
    dyn.backward()
    np.testing.assert_allclose(dyn.data, static_loss, rtol=1e-13)
    for k, v in model.grads().items():
        np.testing.assert_allclose(v, static_grads[k], rtol=1e-12, atol=1e-15, err_msg=k)
    # on plain arrays the model just computes
    np.testing.assert_allclose(model(xb), rg.compile(model(x))(x=xb, **model.params), rtol=1e-13)


def test_training_updates_the_live_arrays_for_both_engines():
    model = _mlp()
    params = model.params
    W = params["0.W"]
    xb, tb = _data()
    opt = rg.optim.SGD(lr=0.5)
    dyn_losses = []
    for _ in range(20):
        model.cleargrads()
        loss = rg.softmax_cross_entropy(model(dy.Variable(xb)), tb)
        loss.backward()
        opt.update(model.params, model.grads())
        dyn_losses.append(float(loss.data))
    assert model.params["0.W"] is W and dyn_losses[-1] < dyn_losses[0] * 0.5
    # the dynamic Variables wrap the same arrays, so the static step sees the trained values too
    g = rg.Graph("mlp")
    x = g.input("x", shape=(None, 4))
    f = rg.compile(rg.softmax_cross_entropy(model(x), tb))
    np.testing.assert_allclose(f(x=xb, **model.params), rg.softmax_cross_entropy(model(xb), tb))


def test_cleargrads_and_gradient_accumulation_as_dezero():
    model = _mlp()
    xb, tb = _data()
    for _ in range(2):
        rg.softmax_cross_entropy(model(dy.Variable(xb)), tb).backward()
    twice = model.grads()
    model.cleargrads()
    rg.softmax_cross_entropy(model(dy.Variable(xb)), tb).backward()
    once = model.grads()
    for k in once:
        np.testing.assert_allclose(twice[k], 2 * once[k], rtol=1e-12, atol=1e-15)


def test_reusing_a_module_in_one_graph_reads_the_same_weights():
    fc = rg.nn.Linear(3, 3, rng=np.random.default_rng(0))
    g = rg.Graph("unrolled")
    h = g.input("h", shape=(2, 3))
    for _ in range(3):
        h = rg.tanh(fc(h))
    assert list(fc.inputs(g)) == ["W", "b"]
    step = rg.compile(rg.sum(h), wrt=list(fc.inputs(g).values()))
    h0 = np.random.default_rng(1).normal(size=(2, 3))
    step.forward(h=h0, **fc.params)
    dW, db = step.backward()
    hv = dy.Variable(h0)
    for _ in range(3):
        hv = rg.tanh(fc(hv))
    rg.sum(hv).backward()
    np.testing.assert_allclose(fc.grads()["W"], dW, rtol=1e-12)


def test_he_and_xavier_scales():
    rng = np.random.default_rng(0)
    he = rg.nn.Linear(1000, 500, rng=rng).params["W"]
    xa = rg.nn.Linear(1000, 500, rng=rng, init="xavier").params["W"]
    assert abs(he.std() - np.sqrt(2 / 1000)) < 1e-3 and abs(xa.std() - np.sqrt(1 / 1000)) < 1e-3
    assert not rg.nn.Linear(2, 2, bias=True).params["b"].any()
    with pytest.raises(rg.GraphError, match="init='normal'"):
        rg.nn.Linear(2, 2, init="normal")


def test_train_eval_modes_reach_every_submodule():
    model = _mlp()
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_save_and_load_npz_in_place_without_pickle(tmp_path):
    model = _mlp(seed=0)
    model.save(tmp_path / "m.npz")
    other = _mlp(seed=5)
    W = other.params["0.W"]
    other.load(tmp_path / "m.npz")
    assert other.params["0.W"] is W
    for k, v in model.params.items():
        np.testing.assert_array_equal(other.params[k], v)
    np.savez(tmp_path / "evil.npz", **{"0.W": np.array([object()], dtype=object)})
    with pytest.raises(rg.GraphError, match="object array"):
        other.load(tmp_path / "evil.npz")
    np.savez(tmp_path / "small.npz", a=np.zeros(2))
    with pytest.raises(rg.GraphError, match="holds parameters"):
        other.load(tmp_path / "small.npz")


def test_module_mistakes_are_graph_errors():
    class Bad(rg.nn.Module):
        def __init__(self):
            self.fc = rg.nn.Linear(2, 2)

    with pytest.raises(rg.GraphError, match="super\\(\\).__init__"):
        Bad()
    m = rg.nn.Linear(2, 2)
    with pytest.raises(rg.GraphError, match="float NumPy array"):
        m.add_param("c", [1, 2])
    with pytest.raises(rg.GraphError, match="not an rg.nn.Module"):
        rg.nn.Sequential(rg.nn.ReLU(), np.tanh)
    g = rg.Graph("clash")
    g.input("W", shape=(3, 3))
    with pytest.raises(rg.GraphError, match="already has a node named 'W'"):
        m(g.input("x", shape=(1, 2)))
    g2 = rg.Graph("bound")
    W = g2.input("W", shape=(2, 2))
    m(g2.input("x", shape=(1, 2)))
    assert m.inputs(g2)["W"].id == W.id      # an input of the parameter's name and type is bound, not duplicated
    with pytest.raises(rg.GraphError, match="Flatten: the non-batch sizes"):
        rg.nn.Flatten()(rg.Graph().input("x", shape=(2, None)))


def test_batch_norm_layer_running_statistics_and_eval():
    rng = np.random.default_rng(0)
    bn = rg.nn.BatchNorm(3)
    x = rng.normal(5.0, 2.0, size=(256, 3))
    for _ in range(60):
        bn(dy.Variable(x))                                  # dynamic training steps update the averages
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0), rtol=1e-2)
    np.testing.assert_allclose(bn.running_var, x.var(axis=0), rtol=1e-2)
    bn.eval()
    y = bn(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=0.05)
    g = rg.Graph("bn_eval")
    xt = g.input("x", shape=(None, 3))
    np.testing.assert_allclose(rg.compile(bn(xt))(x=x, **bn.params), y, rtol=1e-12)


def test_calibrate_sets_running_statistics_after_static_training():
    rng = np.random.default_rng(1)
    model = rg.nn.Sequential(rg.nn.Linear(4, 6, rng=rng), rg.nn.BatchNorm(6))
    g = rg.Graph("static_bn")
    x = g.input("x", shape=(None, 4))
    step = rg.compile(rg.sum(model(x) ** 2), wrt=list(model.inputs(g).values()))
    data = rng.normal(size=(64, 4))
    step.forward(x=data, **model.params)
    bn = model.layers[1]
    assert np.array_equal(bn.running_mean, np.zeros(6))     # a compiled step does not touch them
    model.eval()
    model.calibrate([data] * 120)                          # 0.9 ** 120: the start is forgotten
    assert not model.layers[1].training                     # the mode is restored
    np.testing.assert_allclose(bn.running_mean, (data @ model.params["0.W"] + model.params["0.b"]).mean(axis=0),
                               rtol=1e-3, atol=1e-6)


def test_conv_net_layers_run_on_both_engines():
    rng = np.random.default_rng(2)
    model = rg.nn.Sequential(rg.nn.Conv2d(1, 3, 3, pad=1, rng=rng), rg.nn.ReLU(), rg.nn.MaxPool2d(2),
                             rg.nn.Flatten(), rg.nn.Linear(12, 2, rng=rng))
    xb, tb = rng.normal(size=(4, 1, 4, 4)), np.array([0, 1, 1, 0])
    g = rg.Graph("cnn")
    x, t = g.input("x", shape=(None, 1, 4, 4)), g.input("t", shape=(None,), dtype="int64")
    step = rg.compile(rg.softmax_cross_entropy(model(x), t), wrt=list(model.inputs(g).values()))
    value = step.forward(x=xb, t=tb, **model.params)
    grads = dict(zip(model.params, step.backward()))
    loss = rg.softmax_cross_entropy(model(dy.Variable(xb)), tb)
    loss.backward()
    np.testing.assert_allclose(loss.data, value, rtol=1e-13)
    for k, v in model.grads().items():
        np.testing.assert_allclose(v, grads[k], rtol=1e-11, atol=1e-14, err_msg=k)


def _sequence(T=12, batch=3, features=2, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, batch, features)), rng.normal(size=(batch, 1))


@pytest.mark.parametrize("cell", ["RNN", "LSTM"])
def test_recurrent_cells_unrolled_statically_equal_dynamic(cell):
    rng = np.random.default_rng(0)
    layer = getattr(rg.nn, cell)(2, 5, rng=rng)
    head = rg.nn.Linear(5, 1, rng=rng)
    xs, target = _sequence()

    def run(steps, make):
        h = c = None
        for x in steps:
            if cell == "RNN":
                h = layer(make(x), h)
            else:
                h, c = layer(make(x), h, c)
        return rg.mse(head(h), target)

    g = rg.Graph("unrolled")
    inputs = [g.input(f"x{t}", shape=x.shape) for t, x in enumerate(xs)]
    it = iter(inputs)
    loss = run(xs, lambda _: next(it))
    wrt = list(layer.inputs(g).values()) + list(head.inputs(g).values())
    step = rg.compile(loss, wrt=wrt)
    feeds = {f"x{t}": x for t, x in enumerate(xs)}
    value = step.forward(**feeds, **layer.params, **head.params)
    grads = step.backward()
    dyn = run(xs, dy.Variable)
    dyn.backward()
    np.testing.assert_allclose(dyn.data, value, rtol=1e-12)
    dyn_grads = list(layer.grads().values()) + list(head.grads().values())
    for a, b in zip(grads, dyn_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_truncated_bptt_with_unchain_backward():
    rng = np.random.default_rng(1)
    rnn, head = rg.nn.RNN(2, 4, rng=rng), rg.nn.Linear(4, 1, rng=rng)
    xs, target = _sequence(T=6)
    h = None
    for t, x in enumerate(xs):
        h = rnn(dy.Variable(x), h)
        if t == 2:
            rg.mse(head(h), target).backward()
            h.unchain_backward()
            assert h.creator is None
    rnn.cleargrads()
    head.cleargrads()
    rg.mse(head(h), target).backward()
    first = rnn.grads()
    # the same last three steps from a fresh leaf holding h's value: the same gradients (nothing flows past the cut)
    h2 = dy.Variable(_replay_hidden(rnn, xs[:3]))
    for x in xs[3:]:
        h2 = rnn(dy.Variable(x), h2)
    rnn.cleargrads()
    rg.mse(head(h2), target).backward()
    for k, v in rnn.grads().items():
        np.testing.assert_allclose(first[k], v, rtol=1e-12)


def _replay_hidden(rnn, xs):
    h = None
    for x in xs:
        h = rnn(x, h)
    return h


def test_bound_parameters_make_the_model_a_function_for_compare():
    model = _mlp()
    xb, tb = _data()

    def loss(x, t, **params):
        with model.bound(params):
            return rg.softmax_cross_entropy(model(x), t)

    report = rg.compare(loss, wrt=list(model.params), repeat=2, x=xb, t=tb, **model.params)
    assert report.agree
    with pytest.raises(rg.GraphError, match="not parameters of this model"):
        with model.bound({"nope": 1.0}):
            pass


def test_modules_name_scopes_in_the_graph():
    model = _mlp()
    g = rg.Graph("scoped")
    x = g.input("x", shape=(None, 4))
    y = model(x)
    scopes = {d.get("scope") for _, d in g.nx.nodes(data=True) if d["op"] != "input" or d["name"] != "x"}
    assert {"Sequential/0: Linear", "Sequential/1: ReLU", "Sequential/2: Linear"} <= scopes
    assert g.nx.nodes[model.inputs(g)["0.W"].id]["scope"] == "Sequential/0: Linear"
    assert "cluster" in rg.to_dot(y).source


def test_a_model_does_not_keep_the_graphs_it_was_called_on_alive():
    # Module remembers, per graph, the inputs its parameters became; a graph dropped by the user must be
    # freed (a model called on a new graph per experiment must not pile up every old graph).
    import gc
    import weakref

    model = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.ReLU(), rg.nn.BatchNorm(4), rg.nn.Linear(4, 2))
    refs = []
    for _ in range(3):
        g = rg.Graph()
        y = model(g.input("x", shape=(None, 3)))
        assert sorted(model.inputs(g)) == sorted(model.params)  # still found while the graph lives
        refs.append(weakref.ref(g))
        del g, y
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
