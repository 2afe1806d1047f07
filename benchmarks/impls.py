"""One ``make(workload, size, data) -> step`` per implementation. Building (graphs, compile,
jit tracing) happens in ``make``; ``step()`` is one forward+backward returning
``(value, [gradients])``. A peer that is not installed raises ``Unavailable``."""

from __future__ import annotations

import types
from typing import Callable

import numpy as np

from .workloads import PARAMS, model, numpy_impl


class Unavailable(Exception):
    """The implementation's package is not installed (``pip install -e '.[bench]'``)."""


def make_numpy(workload, size, data):
    return numpy_impl(workload, size, data)


def make_numpy_scalars(workload, size, data):
    """W1 written on NumPy scalars instead of 0-d arrays: what revgraph's generated code computes on
    (context for the W1 row, not the baseline)."""
    if workload != "W1":
        raise Unavailable("W1 only")
    return numpy_impl(workload, size, {k: a[()] for k, a in data.items()})


def _revgraph_step(workload, size, data):
    import revgraph as rg

    g = rg.Graph(workload)
    v = {k: g.input(k, shape=np.shape(a), dtype=np.asarray(a).dtype) for k, a in data.items()}
    loss = model(workload, size, rg, v)
    return rg.compile(loss, wrt=[v[k] for k in PARAMS[workload](data)])


def make_revgraph(workload, size, data):
    """The README's path: ``step.forward(**feeds)`` then ``step.backward()``."""
    step = _revgraph_step(workload, size, data)
    forward, backward = step.forward, step.backward

    def run():
        return forward(**data), backward()

    return run


def make_revgraph_vg(workload, size, data):
    """The same step through ``step.value_and_grad(**feeds)`` (one fused program on small graphs)."""
    run = _revgraph_step(workload, size, data).value_and_grad
    return lambda: run(**data)


def make_dynamic(workload, size, data):
    """The DeZero-style loop: the parameters are ``dy.Variable(np.array(v))`` made once; each step clears
    their gradients, builds the loss, runs ``backward()`` and reads every ``.grad`` (a Variable)."""
    try:
        from revgraph import dynamic as dy
    except ImportError:
        raise Unavailable("revgraph.dynamic is not on this branch yet") from None
    import revgraph as rg

    params = PARAMS[workload](data)
    v = {k: (dy.Variable(np.array(a)) if k in params else a) for k, a in data.items()}
    variables = [v[k] for k in params]

    def step():  # only the parameters are Variables (as the peers differentiate only those)
        for p in variables:
            p.cleargrad()
        loss = model(workload, size, rg, v)
        loss.backward()
        return loss.data, [p.grad.data for p in variables]

    return step


def make_autograd(workload, size, data):
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        raise Unavailable("autograd is not installed") from None

    def sce(a, t):
        shifted = a - anp.max(a, axis=1, keepdims=True)
        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        if t.ndim == 1:  # integer labels
            return -anp.sum(logp[np.arange(a.shape[0]), t]) / a.shape[0]
        return -anp.sum(t * logp) / a.shape[0]

    if workload == "W5":
        raise Unavailable("autograd has no convolution or pooling")
    ns = types.SimpleNamespace(relu=lambda z: anp.maximum(z, 0), tanh=anp.tanh, sin=anp.sin, sum=anp.sum,
                               softmax_cross_entropy=sce, sigmoid=lambda z: 1 / (1 + anp.exp(-z)))
    params = PARAMS[workload](data)
    rest = {k: a for k, a in data.items() if k not in params}
    f = autograd.value_and_grad(lambda ps: model(workload, size, ns, {**rest, **dict(zip(params, ps))}))
    args = [data[k] for k in params]
    return lambda: f(args)


def make_jax(workload, size, data):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Unavailable("jax is not installed") from None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")

    def sce(a, t):
        logp = jax.nn.log_softmax(a, axis=1)
        if t.ndim == 1:  # integer labels
            return -jnp.sum(jnp.take_along_axis(logp, t[:, None], axis=1)) / a.shape[0]
        return -jnp.sum(t * logp) / a.shape[0]

    def conv2d(x, W, b):
        y = jax.lax.conv_general_dilated(x, W, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    def max_pool2d(x, k):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, k, k), (1, 1, k, k), "VALID")

    ns = types.SimpleNamespace(relu=jax.nn.relu, tanh=jnp.tanh, sin=jnp.sin, sum=jnp.sum, softmax_cross_entropy=sce,
                               sigmoid=jax.nn.sigmoid, conv2d=conv2d, max_pool2d=max_pool2d, reshape=jnp.reshape)
    params = PARAMS[workload](data)
    f = jax.jit(jax.value_and_grad(lambda ps, rest: model(workload, size, ns, {**rest, **dict(zip(params, ps))})))
    args = [jnp.asarray(data[k]) for k in params]
    rest = {k: jnp.asarray(a) for k, a in data.items() if k not in params}

    def step():
        value, grads = f(args, rest)
        value.block_until_ready()
        return value, grads

    return step


def make_torch(workload, size, data):
    try:
        import torch
    except ImportError:
        raise Unavailable("torch is not installed") from None
    torch.set_num_threads(1)

    def sce(a, t):
        if t.ndim == 1:  # integer labels
            return torch.nn.functional.cross_entropy(a, t)
        return -(t * torch.log_softmax(a, dim=1)).sum() / a.shape[0]

    F = torch.nn.functional
    ns = types.SimpleNamespace(relu=torch.relu, tanh=torch.tanh, sin=torch.sin, sum=torch.sum, softmax_cross_entropy=sce,
                               sigmoid=torch.sigmoid, conv2d=F.conv2d, max_pool2d=F.max_pool2d, reshape=torch.reshape)
    params = PARAMS[workload](data)
    tensors = {k: torch.from_numpy(np.asarray(a)) for k, a in data.items()}

    def step():
        v = {k: (t.detach().requires_grad_() if k in params else t) for k, t in tensors.items()}
        loss = model(workload, size, ns, v)
        grads = torch.autograd.grad(loss, [v[k] for k in params])
        return loss.detach(), list(grads)

    return step


def make_dezero(workload, size, data):
    """DeZero (the book's volume 3 framework, from PyPI): its Variables, functions and im2col convolution. Its
    last release (0.0.13) still names ``np.int`` at import, which NumPy 2 removed: the alias is restored for it."""
    if not hasattr(np, "int"):
        np.int = int  # dezero/transforms.py: `def __init__(self, dtype=np.int)`
    try:
        import dezero
        import dezero.functions as F
    except ImportError:
        raise Unavailable("dezero is not installed") from None

    if not hasattr(dezero.Variable, "__matmul__"):  # DeZero spells it F.matmul; the shared model writes `@`
        dezero.Variable.__matmul__ = lambda a, b: F.matmul(a, b)
        dezero.Variable.__rmatmul__ = lambda a, b: F.matmul(b, a)

    def sce(a, t):
        if t.ndim != 1:
            raise Unavailable("integer labels only")
        return F.softmax_cross_entropy(a, t)

    def conv2d(x, W, b):
        return F.conv2d(x, W, b, stride=1, pad=0)

    ns = types.SimpleNamespace(relu=F.relu, tanh=F.tanh, sin=F.sin, sum=F.sum, softmax_cross_entropy=sce,
                               sigmoid=F.sigmoid, conv2d=conv2d, max_pool2d=lambda x, k: F.pooling(x, k, k),
                               reshape=F.reshape)
    params = PARAMS[workload](data)
    v = {k: (dezero.Variable(np.array(a)) if k in params else a) for k, a in data.items()}
    variables = [v[k] for k in params]

    def step():
        for p in variables:
            p.cleargrad()
        loss = model(workload, size, ns, v)
        loss.backward()
        return loss.data, [p.grad.data for p in variables]

    return step


IMPLS: dict[str, Callable] = {
    "numpy": make_numpy,
    "numpy-scalars": make_numpy_scalars,
    "revgraph": make_revgraph,
    "revgraph-vg": make_revgraph_vg,
    "revgraph-dynamic": make_dynamic,
    "autograd": make_autograd,
    "jax": make_jax,
    "torch": make_torch,
    "dezero": make_dezero,
}

IMPORTS = {"revgraph": "revgraph", "revgraph-vg": "revgraph", "revgraph-dynamic": "revgraph", "autograd": "autograd", "jax": "jax",
           "torch": "torch", "dezero": "numpy"}
