"""opt.compile(loss, model): the fused training step (loss, gradients and the optimizer's in-place update in
one generated program) against value_and_grad + opt.update, step for step.

The comparison is bit for bit (assert_array_equal): the fused step's program is the one value_and_grad
runs with the update lines appended, and those lines are the NumPy expressions of ``opt.update`` in the
same order, so every array op rounds alike. Only BatchNorm's running averages are compared with rtol
1e-12: there the reference is NumPy's own mean/var on eagerly computed activations (calibrate), not the
same program.
"""

import numpy as np
import pytest

import revgraph as rg

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("Momentum", dict(lr=0.05, momentum=0.9)),
    ("Nesterov", dict(lr=0.05, momentum=0.9)),
    ("AdaGrad", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, decay_rate=0.99)),
    ("Adam", dict(lr=0.01, beta1=0.9, beta2=0.999)),
]
EXTRAS = [dict(), dict(weight_decay=1e-2), dict(clip_norm=0.05), dict(weight_decay=1e-2, clip_norm=0.05)]
EXTRA_IDS = ["plain", "decay", "clip", "decay+clip"]


def mlp(seed=0):
    rng = np.random.default_rng(seed)
    return rg.nn.Sequential(rg.nn.Linear(6, 10, rng=rng), rg.nn.ReLU(), rg.nn.Linear(10, 4, rng=rng))


def cnn(seed=0):
    rng = np.random.default_rng(seed)
    return rg.nn.Sequential(rg.nn.Conv2d(1, 3, 3, pad=1, rng=rng), rg.nn.ReLU(), rg.nn.MaxPool2d(2),
                            rg.nn.Flatten(), rg.nn.Linear(3 * 3 * 3, 4, rng=rng))


MODELS = {"mlp": (mlp, (6,)), "cnn": (cnn, (1, 6, 6))}


def loss_of(model, sample_shape):
    g = rg.Graph("fused")
    x, t = g.input("x", shape=(None, *sample_shape)), g.input("t", shape=(None,), dtype="int64")
    return g, rg.softmax_cross_entropy(model(x), t)


def batches(sample_shape, n=4, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, *sample_shape)), rng.integers(0, 4, 8)) for _ in range(n)]


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("extra", EXTRAS, ids=EXTRA_IDS)
@pytest.mark.parametrize("name,hp", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_fused_steps_equal_value_and_grad_plus_update(kind, extra, name, hp):
    make, shape = MODELS[kind]
    fused_model, ref_model = make(), make()
    fused_opt, ref_opt = getattr(rg.optim, name)(**hp, **extra), getattr(rg.optim, name)(**hp, **extra)
    _, loss = loss_of(fused_model, shape)
    step = fused_opt.compile(loss, fused_model)
    g, ref_loss = loss_of(ref_model, shape)
    ref = rg.compile(ref_loss, wrt=list(ref_model.inputs(g).values()))
    names = list(ref_model.params)
    live = dict(fused_model.params)
    for xb, tb in batches(shape):
        value = step(x=xb, t=tb)
        ref_value, grads = ref.value_and_grad(x=xb, t=tb, **ref_model.params)
        ref_opt.update(ref_model.params, dict(zip(names, grads)))
        assert value == ref_value
        for k in names:
            np.testing.assert_array_equal(fused_model.params[k], ref_model.params[k], err_msg=k)
            assert fused_model.params[k] is live[k], "the live arrays are updated in place"
    for k in names:  # the state too (and it is the optimizer's own)
        for slot, arr in ref_opt.state.get(k, {}).items():
            np.testing.assert_array_equal(fused_opt.state[k][slot], arr)
    if name == "Adam":
        assert fused_opt.iter == ref_opt.iter == 4


LINES = {
    "SGD": ["W0 -= lr * dW0"],
    "Momentum": ["v_W0 *= momentum", "v_W0 -= lr * dW0", "W0 += v_W0"],
    "Nesterov": ["W0 += momentum * momentum * v_W0", "W0 -= (1 + momentum) * lr * dW0"],
    "AdaGrad": ["h_W0 += dW0 * dW0", "W0 -= lr * dW0 / (xp.sqrt(h_W0) + 1e-07)"],
    "RMSprop": ["h_W0 *= decay_rate", "h_W0 += (1 - decay_rate) * dW0 * dW0"],
    "Adam": ["lr_t = lr * xp.sqrt(1.0 - beta2 ** opt.iter) / (1.0 - beta1 ** opt.iter)",
             "m_W0 += (1 - beta1) * (dW0 - m_W0)", "W0 -= lr_t * m_W0 / (xp.sqrt(v_W0) + 1e-07)"],
}


@pytest.mark.parametrize("name,hp", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_the_update_lines_are_in_the_source(name, hp):
    model = mlp()
    _, loss = loss_of(model, (6,))
    source = getattr(rg.optim, name)(**hp, weight_decay=1e-3, clip_norm=1.0).compile(loss, model).source
    for line in LINES[name] + ["dW0 = dW0 + weight_decay * W0", "if norm > clip_norm:"]:
        assert f"    {line}" in source, line
    assert source.rstrip().splitlines()[-1].strip().startswith("return (v"), "only the loss comes back"
    assert source.rstrip().splitlines()[-1].count(",") == 1


def test_feeds_are_untouched_and_gradients_come_back_only_when_asked():
    model, ref_model = mlp(), mlp()
    _, loss = loss_of(model, (6,))
    step = rg.optim.SGD(lr=0.1).compile(loss, model, grads=True)
    g, ref_loss = loss_of(ref_model, (6,))
    ref = rg.compile(ref_loss, wrt=list(ref_model.inputs(g).values()))
    xb, tb = batches((6,), n=1)[0]
    x0, t0 = xb.copy(), tb.copy()
    ref_value, ref_grads = ref.value_and_grad(x=xb, t=tb, **ref_model.params)
    value, grads = step(x=xb, t=tb)
    np.testing.assert_array_equal(xb, x0)
    np.testing.assert_array_equal(tb, t0)
    assert value == ref_value and list(grads) == list(ref_model.params)
    for k, g_ref in zip(grads, ref_grads):
        np.testing.assert_array_equal(grads[k], g_ref)
    assert isinstance(rg.optim.SGD().compile(loss, model)(x=xb, t=tb), (float, np.floating))


def test_hyperparameters_are_read_at_every_call():
    """A learning-rate schedule: setting opt.lr between steps changes the next update."""
    model = mlp()
    _, loss = loss_of(model, (6,))
    opt = rg.optim.SGD(lr=0.1)
    step = opt.compile(loss, model)
    xb, tb = batches((6,), n=1)[0]
    opt.lr = 0.0
    before = {k: v.copy() for k, v in model.params.items()}
    step(x=xb, t=tb)
    assert all(np.array_equal(before[k], v) for k, v in model.params.items())
    opt.lr = 0.1
    step(x=xb, t=tb)
    assert not np.array_equal(before["0.W"], model.params["0.W"])


def test_a_gradient_that_is_a_parameter_is_copied_before_any_update():
    """loss = sum(A * B): dA is B itself and dB is A. Updating A first must not move B's gradient."""
    g = rg.Graph("alias")
    a, b = g.input("A", shape=(3,)), g.input("B", shape=(3,))
    A, B = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0])
    A0, B0 = A.copy(), B.copy()
    step = rg.optim.SGD(lr=0.1).compile(rg.sum(a * b), {"A": (a, A), "B": (b, B)})
    step()
    np.testing.assert_array_equal(A, A0 - 0.1 * B0)
    np.testing.assert_array_equal(B, B0 - 0.1 * A0)


def test_batch_norm_running_averages_follow_each_fused_step():
    def model_with_bn():
        rng = np.random.default_rng(0)
        return rg.nn.Sequential(rg.nn.Linear(6, 10, rng=rng), rg.nn.BatchNorm(10), rg.nn.ReLU(),
                                rg.nn.Linear(10, 4, rng=rng))

    model, ref_model = model_with_bn(), model_with_bn()
    _, loss = loss_of(model, (6,))
    step = rg.optim.Momentum(lr=0.05).compile(loss, model)
    assert "running_mean_1[...] = 0.9 * running_mean_1 + (1 - 0.9) * v" in step.source
    g, ref_loss = loss_of(ref_model, (6,))
    ref = rg.compile(ref_loss, wrt=list(ref_model.inputs(g).values()))
    ref_opt, names = rg.optim.Momentum(lr=0.05), list(ref_model.params)
    for xb, tb in batches((6,)):
        step(x=xb, t=tb)
        ref_model.calibrate([xb])  # the running averages from this batch, with the parameters before the update
        ref_opt.update(ref_model.params, dict(zip(names, ref.value_and_grad(x=xb, t=tb, **ref_model.params)[1])))
    bn, ref_bn = model.layers[1], ref_model.layers[1]
    assert not np.array_equal(bn.running_mean, np.zeros(10))
    np.testing.assert_allclose(bn.running_mean, ref_bn.running_mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bn.running_var, ref_bn.running_var, rtol=1e-12)


def test_mistakes_are_errors_naming_what_to_do():
    model = mlp()
    g, loss = loss_of(model, (6,))
    step = rg.optim.SGD().compile(loss, model)
    xb, tb = batches((6,), n=1)[0]
    with pytest.raises(rg.FeedError, match="'0.W' is a parameter of this training step"):
        step(x=xb, t=tb, **{"0.W": model.params["0.W"]})
    with pytest.raises(rg.GraphError, match="must be a float scalar"):
        rg.optim.SGD().compile(model(g.input("z", shape=(2, 6))), model)
    with pytest.raises(rg.GraphError, match="params must be an rg.nn model"):
        rg.optim.SGD().compile(loss, [1, 2])
    with pytest.raises(rg.GraphError, match="none of the model's parameters"):
        rg.optim.SGD().compile(loss, mlp())
