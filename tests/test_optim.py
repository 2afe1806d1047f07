"""rg.optim: the book's update rules (chapter 6), checked against the formulas written out here, in place."""

import numpy as np
import pytest

import revgraph as rg


def book_reference(name, steps, grad_fn, start, **hp):
    """The book's optimizers, written out independently of revgraph's (common/optimizer.py's formulas)."""
    p = np.array(start, dtype=float)
    v = np.zeros_like(p)
    h = np.zeros_like(p)
    m = np.zeros_like(p)
    path = [p.copy()]
    for it in range(1, steps + 1):
        g = grad_fn(p)
        lr = hp.get("lr")
        if name == "SGD":
            p = p - lr * g
        elif name == "Momentum":
            v = hp["momentum"] * v - lr * g
            p = p + v
        elif name == "Nesterov":
            v = v * hp["momentum"] - lr * g
            p = p + hp["momentum"] ** 2 * v - (1 + hp["momentum"]) * lr * g
        elif name == "AdaGrad":
            h = h + g * g
            p = p - lr * g / (np.sqrt(h) + 1e-7)
        elif name == "RMSprop":
            h = hp["decay_rate"] * h + (1 - hp["decay_rate"]) * g * g
            p = p - lr * g / (np.sqrt(h) + 1e-7)
        elif name == "Adam":
            lr_t = lr * np.sqrt(1 - hp["beta2"] ** it) / (1 - hp["beta1"] ** it)
            m = m + (1 - hp["beta1"]) * (g - m)
            v = v + (1 - hp["beta2"]) * (g * g - v)
            p = p - lr_t * m / (np.sqrt(v) + 1e-7)
        path.append(p.copy())
    return np.array(path)


def grad_f(p):  # f(x, y) = x²/20 + y², the book's figure 6-8
    return np.array([p[0] / 10.0, 2.0 * p[1]])


CASES = [("SGD", dict(lr=0.95)), ("Momentum", dict(lr=0.1, momentum=0.9)), ("Nesterov", dict(lr=0.1, momentum=0.9)),
         ("AdaGrad", dict(lr=1.5)), ("RMSprop", dict(lr=0.1, decay_rate=0.99)),
         ("Adam", dict(lr=0.3, beta1=0.9, beta2=0.999))]


@pytest.mark.parametrize("name,hp", CASES, ids=[c[0] for c in CASES])
def test_paths_on_the_books_function_follow_the_books_formulas(name, hp):
    opt = getattr(rg.optim, name)(**hp)
    params = {"xy": np.array([-7.0, 2.0])}
    live = params["xy"]
    path = [live.copy()]
    for _ in range(30):
        opt.update(params, {"xy": grad_f(live)})
        path.append(live.copy())
    assert params["xy"] is live, "updated in place"
    np.testing.assert_allclose(np.array(path), book_reference(name, 30, grad_f, [-7.0, 2.0], **hp), rtol=1e-12, atol=1e-14)


def test_defaults_are_the_books():
    assert rg.optim.SGD().lr == 0.01 and rg.optim.Adam().lr == 0.001
    m = rg.optim.Momentum()
    assert (m.lr, m.momentum) == (0.01, 0.9)
    a = rg.optim.Adam()
    assert (a.beta1, a.beta2) == (0.9, 0.999) and rg.optim.RMSprop().decay_rate == 0.99


def test_state_is_kept_per_parameter():
    opt = rg.optim.Momentum(lr=0.1)
    params = {"a": np.zeros(2), "b": np.zeros(3)}
    opt.update(params, {"a": np.ones(2), "b": np.full(3, 2.0)})
    opt.update(params, {"a": np.ones(2), "b": np.full(3, 2.0)})
    np.testing.assert_allclose(params["a"], [-0.29, -0.29])   # v1 = -0.1; v2 = 0.9 v1 - 0.1 = -0.19; sum -0.29
    np.testing.assert_allclose(params["b"], np.full(3, -0.58))


def test_weight_decay_and_clipping():
    params = {"W": np.array([1.0, -2.0])}
    rg.optim.SGD(lr=0.1, weight_decay=0.5).update(params, {"W": np.zeros(2)})
    np.testing.assert_allclose(params["W"], [0.95, -1.9])     # grad + 0.5 W
    params = {"a": np.zeros(2), "b": np.zeros(2)}
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}   # global norm 5
    rg.optim.SGD(lr=1.0, clip_norm=1.0).update(params, grads)
    np.testing.assert_allclose(np.sqrt(np.sum(params["a"] ** 2) + np.sum(params["b"] ** 2)), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])        # the caller's gradients are left alone


def test_mistakes_are_graph_errors_naming_the_parameter():
    opt = rg.optim.SGD()
    with pytest.raises(rg.GraphError, match="no gradient for parameter.*'b'"):
        opt.update({"a": np.zeros(2), "b": np.zeros(2)}, {"a": np.zeros(2)})
    with pytest.raises(rg.GraphError, match="'a' has shape \\(3,\\)"):
        opt.update({"a": np.zeros(2)}, {"a": np.zeros(3)})
    with pytest.raises(rg.GraphError, match="writable NumPy array"):
        opt.update({"a": [0.0, 1.0]}, {"a": np.zeros(2)})
    with pytest.raises(rg.GraphError, match="dtype int64"):
        opt.update({"a": np.zeros(2, np.int64)}, {"a": np.zeros(2)})
    with pytest.raises(rg.GraphError, match="lr=-1"):
        rg.optim.Adam(lr=-1)
