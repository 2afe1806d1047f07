"""Dask kernels: the numpy backend's templates and helpers with ``xp = dask.array``.

Most NumPy templates are right on dask arrays as written (``xp.exp({0})``, ``{0} @ {1}``,
``xp.sum({0}, axis=...)``: dask.array mirrors NumPy's API, and its reductions are tree reductions
over the chunks); those ops are listed in ``SAME_AS_NUMPY`` and lowered from the numpy backend's
own table. Pure-``xp`` helpers (softmax, log_softmax, mse, sum_to_like, ...) are the numpy
backend's functions re-bound to this module's globals, so ``xp`` in their code is dask.array. What
NumPy writes with ``out=``, in-place assignment or value-dependent checks is written here
(``OWN_HELPERS``). ``xp`` is dask.array except where its functions accept less than NumPy's
(reshape across chunks, repeat without an axis, nan_to_num's replacement values, triu/tril of a
NumPy operand). An op in neither table is not available on Dask (rg.linalg, advanced indexing,
diagonal's gradient, for now): lowering it is a GraphError naming the op
(tests/test_dask_registry.py walks the registry so no op goes unnoticed).
"""

from __future__ import annotations

import math
import types
from typing import Any, Optional

import dask.array as da
import numpy as np

from ...ir.errors import GraphError
from ..numpy import kernels as numpy_kernels


# Ops whose NumPy template (backends/numpy/kernels.TEMPLATES) computes the same values on dask arrays.
SAME_AS_NUMPY = frozenset({
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh",
    "sigmoid", "relu", "maximum", "minimum", "where", "sign", "stop_gradient",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "sum", "mean", "max", "argmax", "min", "argmin", "prod", "std", "var", "cumsum", "logsumexp",
    "matmul", "transpose", "reshape", "broadcast_to", "concatenate", "getitem", "expand_dims", "squeeze",
    "softmax", "log_softmax", "softmax_cross_entropy", "nll", "mse",
    "sum_to_like", "reshape_like", "size_of", "zeros_like", "ones_like", "cast", "onehot", "getitem_grad",
    "concat_part", "accumulate", "tanh_grad", "sigmoid_grad", "softmax_cross_entropy_grad",
    # ir/ops/math.py
    "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2",
    "log10", "exp2", "reciprocal", "floor", "ceil", "sinc", "deg2rad", "rad2deg", "isnan", "isinf", "isfinite",
    "arctan2", "mod", "fmod", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "round", "clip", "nan_to_num",
    "leaky_relu", "softplus",
    # ir/ops/combine.py
    "stack", "tile", "tile_grad", "repeat", "repeat_grad", "roll", "flip", "pad", "diag", "diagonal", "triu", "tril",
    "einsum",
    # ir/ops/complex.py (rg.fft is not available on Dask: its transforms need one chunk along each axis)
    "real", "imag", "conj", "angle",
})

# Ops written differently on Dask (template text as in the numpy backend's table).
TEMPLATES = {
    # A gradient broadcast to a chunked value's shape takes that value's chunks (no rechunk later).
    "broadcast_like": "broadcast_like({0}, {1})",
}


# -- helpers NumPy writes with out=, in-place assignment or value-dependent checks ---------------------
def tanh_grad(g: Any, y: Any, out: Any = None) -> Any:
    """g * (1 - y²), in the numpy kernel's order of operations."""
    return g * (1 - y * y)


def sigmoid_grad(g: Any, y: Any, out: Any = None) -> Any:
    """g * ((1 - y) * y), in the numpy kernel's order of operations."""
    return g * ((1 - y) * y)


def _labels_in_range(block: np.ndarray, classes: int) -> np.ndarray:
    """One chunk of integer labels, checked where it is computed (on a worker): the same error as
    the numpy kernel's, raised by the dask computation."""
    if block.size and (block.min() < 0 or block.max() >= classes):
        raise ValueError(f"integer labels must lie in [0, {classes}), got values from {block.min()} to {block.max()}")
    return block


def _check_labels(labels: Any, classes: int) -> Any:
    """``labels`` with a range check in each chunk's task (reading values here would compute them)."""
    return da.map_blocks(_labels_in_range, da.asarray(labels), classes, dtype=labels.dtype)


def _take_label(logp: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.take_along_axis(logp, labels, axis=-1)


def nll(logp: Any, labels: Any) -> Any:
    """Mean over the batch of -log p of the labels; the sum over the batch is a tree reduction."""
    logp, labels = da.asarray(logp), da.asarray(labels)
    batch = logp.size // logp.shape[-1]
    _check_label_shape(labels, logp.shape)
    if labels.dtype.kind in "iu":
        whole = logp.rechunk({logp.ndim - 1: -1})  # each class row in one chunk (no-op when it already is)
        rows = _check_labels(labels, logp.shape[-1]).rechunk(whole.chunks[:-1])  # the label chunks match logp's
        picked = da.map_blocks(_take_label, whole, rows[..., None], dtype=logp.dtype)
        return -da.sum(picked) / batch
    return -da.sum(labels * logp) / batch


def onehot(labels: Any, ref: Any) -> Any:
    """One-hot rows of ``ref``'s dtype, chunked as the labels are along the batch."""
    _check_label_shape(labels, np.shape(ref))
    classes = np.shape(ref)[-1]
    return (_check_labels(labels, classes)[..., None] == np.arange(classes)).astype(ref.dtype)


def softmax_cross_entropy_grad(logits: Any, labels: Any, scale: Any) -> Any:
    """(softmax(logits) - onehot(labels)) * scale: dask arrays take no in-place scatter, so the one-hot is built."""
    if np.dtype(logits.dtype).kind != "f":
        logits = logits.astype(np.float64)
    return (HELPERS["softmax"](logits, -1) - onehot(labels, logits)) * scale


def getitem_grad(g: Any, x: Any, index: tuple) -> Any:
    """Zeros shaped like x with g written at x[index] (dask's assignment takes no ``None`` in an
    index: those axes of g have size 1 and are dropped from both)."""
    chunks = x.chunks if isinstance(x, da.Array) else "auto"
    out = da.zeros(np.shape(x), dtype=g.dtype, chunks=chunks)
    index, g = _without_new_axes(index, g, np.ndim(x))
    index, g = _positive_steps(index, da.asarray(g), np.shape(x))
    if 0 not in g.shape:  # an empty selection writes nothing (dask's assignment refuses an empty value)
        out[index] = g
    return out


def _positive_steps(index: tuple, g: Any, shape: tuple) -> tuple:
    """``index`` (no ``None`` in it) with each negative-step slice written as the positive-step slice of the
    same elements, and ``g`` flipped along those axes (dask's assignment mishandles negative steps: x[1, ::-2]
    raised "tuple index out of range", an empty ::-1 range a shape mismatch)."""
    if not any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in index):
        return index, g
    spanned = len(shape) - sum(1 for i in index if i is not Ellipsis)  # axes an Ellipsis covers
    out, flips, axis, g_axis = [], [], 0, 0
    for i in index:
        if i is Ellipsis:
            out.append(i)
            axis, g_axis = axis + spanned, g_axis + spanned
            continue
        if isinstance(i, slice) and i.step is not None and i.step < 0:
            picked = range(*i.indices(shape[axis]))
            out.append(slice(picked[-1], picked[0] + 1, -i.step) if picked else slice(0, 0))
            flips.append(g_axis)
        else:
            out.append(i)
        axis += 1
        g_axis += isinstance(i, slice)  # an integer drops its axis from g
    for a in flips:
        g = da.flip(g, a)
    return tuple(out), g


def _without_new_axes(index: tuple, g: Any, ndim: int) -> tuple:
    """``index`` without its ``None`` entries, and ``g`` without the size-1 axes they made."""
    if None not in index:
        return index, g
    spanned = ndim - sum(1 for i in index if i is not None and i is not Ellipsis)  # axes an Ellipsis covers
    axis, dropped = 0, []
    for i in index:
        if i is None:
            dropped.append(axis)
            axis += 1
        elif i is Ellipsis:
            axis += spanned
        elif isinstance(i, slice):
            axis += 1
    return tuple(i for i in index if i is not None), da.squeeze(g, axis=tuple(dropped))


def reshape(x: Any, shape: tuple) -> Any:
    """x reshaped; where dask cannot (it only merges or splits whole axes evenly across chunks, so
    (2, 3, 2) -> (3, 4) is refused), x is first made one chunk, which reshapes as NumPy does."""
    x = da.asarray(x)
    try:
        return da.reshape(x, shape)
    except NotImplementedError:
        return da.reshape(x.rechunk(-1), shape)


def logsumexp(x: Any, axis: tuple, keepdims: bool) -> Any:
    """log(sum(exp(x))) shifted by the maximum, as the numpy kernel computes it (a maximum of +-inf is not
    subtracted); the max and the sum over chunked axes are tree reductions."""
    m = da.max(x, axis=axis, keepdims=True)
    m = da.where(da.isfinite(m), m, 0)
    out = da.log(da.sum(da.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else da.squeeze(out, axis=axis)


def broadcast_like(x: Any, ref: Any) -> Any:
    """x broadcast to ref's shape; new and size-1 axes take ref's chunks."""
    shape = np.shape(ref)
    if not isinstance(ref, da.Array):
        return da.broadcast_to(x, shape)
    x = da.asarray(x)
    lead = len(shape) - x.ndim
    chunks = tuple(ref.chunks[i] if i < lead or x.shape[i - lead] == 1 else x.chunks[i - lead]
                   for i in range(len(shape)))
    return da.broadcast_to(x, shape, chunks=chunks)


OWN_HELPERS = {f.__name__: f for f in (tanh_grad, sigmoid_grad, nll, onehot, getitem_grad, logsumexp, broadcast_like,
                                       _check_labels, softmax_cross_entropy_grad)}


def _nan_to_num(x: Any, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """NumPy's nan_to_num on each chunk (dask's takes no replacement values)."""
    return da.asarray(x).map_blocks(np.nan_to_num, nan=nan, posinf=posinf, neginf=neginf, dtype=x.dtype)


def _size(x: Any) -> int:
    """The number of elements, from the shape (np.size on a dask array warns)."""
    return math.prod(np.shape(x))


def _repeat(x: Any, repeats: int, axis: Any = None) -> Any:
    """np.repeat: without an axis, of the flattened array (dask's needs an axis)."""
    return da.repeat(reshape(x, (-1,)), repeats, axis=0) if axis is None else da.repeat(x, repeats, axis=axis)


# -- the array namespace: dask.array, where its functions differ from NumPy's in what they accept ----------------
xp = types.SimpleNamespace(**{**{name: getattr(da, name) for name in dir(da) if not name.startswith("_")},
                              "reshape": reshape, "size": _size, "nan_to_num": _nan_to_num, "repeat": _repeat,
                              "triu": lambda x, k=0: da.triu(da.asarray(x), k),
                              "tril": lambda x, k=0: da.tril(da.asarray(x), k)})


# -- the numpy backend's pure-xp helpers, with xp = dask.array -------------------------------------------
def _rebound(fn: Any, globals_: dict) -> Any:
    """The same function code, reading its globals (``xp``, other helpers) from ``globals_``."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, **globals_}, fn.__name__, fn.__defaults__,
                              fn.__closure__)


# Helpers read ``xp`` as a global, or as ``K.xp`` (the numpy kernels module) in the per-family kernel files.
_GLOBALS: dict = {"xp": xp, "K": types.SimpleNamespace(xp=xp, literal=numpy_kernels.literal), **OWN_HELPERS}
REBOUND = {name: _rebound(fn, _GLOBALS) for name, fn in numpy_kernels.HELPERS.items() if name not in OWN_HELPERS}
_GLOBALS.update(REBOUND)
_check_label_shape = _rebound(numpy_kernels._check_label_shape, _GLOBALS)
_GLOBALS["_check_label_shape"] = _check_label_shape
for _fn in REBOUND.values():  # each rebound helper sees the others (softmax_cross_entropy calls nll, log_softmax)
    _fn.__globals__.update(_GLOBALS)
HELPERS = {**REBOUND, **OWN_HELPERS}


def available(op: str) -> bool:
    """Whether ``op`` has a Dask kernel."""
    return op in TEMPLATES or op in SAME_AS_NUMPY


def unavailable_error(op: str, where: str = "") -> GraphError:
    """The error for an op with no Dask kernel (``where`` describes the node)."""
    at = f" ({where})" if where else ""
    return GraphError(f"op {op!r}{at} is not available on the Dask backend (backends/dask/kernels.py has no kernel "
                      f"for it); compile this graph with backend='numpy', or add a Dask kernel for {op!r}")


def expression(op: str, args: list, attrs: dict) -> str:
    """The Python expression computing ``op`` on dask arrays named ``args``."""
    if op in TEMPLATES:
        template = TEMPLATES[op]
        if callable(template):
            return template(args, attrs)
        return template.format(*args, **{k: numpy_kernels.literal(v) for k, v in attrs.items()})
    if op in SAME_AS_NUMPY:
        return numpy_kernels.expression(op, args, attrs)
    raise unavailable_error(op)


def inplace_expression(op: str, args: list, attrs: dict, out: str) -> Optional[str]:
    """None: dask arrays are immutable, so the memory plan's in-place entries are ignored (the
    scheduler frees each chunk when its last reader has run)."""
    return None


def namespace() -> dict:
    """Globals of generated code on Dask: ``xp`` is dask.array; no builtins but slice."""
    return {"__builtins__": {"slice": slice}, "xp": xp, **HELPERS}
