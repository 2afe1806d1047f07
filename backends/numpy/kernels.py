"""NumPy kernels, one per op name: an expression template (the code the
generated program inlines) or a helper function it calls. The same table
serves the generated code, eager evaluation of plain arrays and the dynamic
engine, so each op's NumPy semantics are written once.

Templates take operands as ``{0}``, ``{1}``, ``{args}`` (all, comma-joined) and
attributes by name, rendered as Python literals by ``literal``.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Optional, Union

import numpy as np

from ...ir import custom

xp = np  # the array namespace generated code is written against


# -- helpers the generated code calls -----------------------------------------------------
def sigmoid(x, out=None):
    if out is None:
        return 0.5 * (xp.tanh(0.5 * x) + 1)  # = 1/(1+e^-x), without overflow for large |x|
    y = xp.multiply(x, 0.5, out=out)  # the same, written into a dying operand's buffer
    xp.tanh(y, out=y)
    y += 1
    y *= 0.5
    return y


def tanh_grad(g, y, out=None):
    """g * (1 - y²) with one temporary (none when writing into y's buffer)."""
    t = xp.multiply(y, y, out=y) if out is y else y * y
    if type(t) is not xp.ndarray:  # 0-d operands are NumPy scalars (see codegen._as_scalars)
        return g * (1 - t)
    xp.subtract(1, t, out=t)
    return g * t if out is None else xp.multiply(g, t, out=out)


def sigmoid_grad(g, y, out=None):
    """g * y * (1 - y) with one temporary."""
    t = 1 - y
    if type(t) is not xp.ndarray:
        return g * y * t
    xp.multiply(t, y, out=t)
    return g * t if out is None else xp.multiply(g, t, out=out)


_WHERE_ROWS = 1 << 15  # elements per slab of where_into: a slab's result stays in cache before it is copied out


def where_into(c, x, y, out):
    """where(c, x, y) written into ``out`` (the buffer of ``x`` or ``y``, dying there, or a dead buffer of the
    result's shape), slab by slab along the first axis: each slab's ``where`` is read before its places in
    ``out`` are written, and no temporary of the whole result's size is made. A result of one slab or less
    is a new array instead (NumPy's where has no ``out=``: the copy into ``out`` would cost more than the
    small allocation it spares)."""
    n = out.shape[0] if out.ndim else 1
    rows = max(1, _WHERE_ROWS // max(1, out.size // max(1, n)))
    if out.ndim == 0 or rows >= n:
        return xp.where(c, x, y)

    def part(a, s):  # the slab of an operand that runs along the first axis (others broadcast whole)
        return a[s] if xp.ndim(a) == out.ndim and xp.shape(a)[0] == n else a

    for start in range(0, n, rows):
        s = slice(start, start + rows)
        out[s] = xp.where(part(c, s), part(x, s), part(y, s))
    return out


def softmax(x, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _check_label_shape(labels, logits_shape):
    # Sizes declared None are checked here: take_along_axis and * would silently broadcast a short batch.
    want = logits_shape[:-1] if labels.dtype.kind in "iu" else logits_shape
    if xp.shape(labels) != want:
        raise ValueError(f"labels of shape {xp.shape(labels)} do not match logits of shape {logits_shape} "
                         f"(expected labels of shape {want})")


def _check_labels(labels, classes):
    if not labels.size:
        return
    if type(labels) is np.ndarray and labels.dtype.kind == "i":  # one pass: a negative label is a huge unsigned one
        if labels.view(labels.dtype.str.replace("i", "u")).max() < classes:
            return
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"integer labels must lie in [0, {classes}), got values from {labels.min()} to {labels.max()}")


def softmax_cross_entropy(logits, labels):
    if (type(logits) is np.ndarray and type(labels) is np.ndarray and logits.ndim == 2 and logits.dtype.kind == "f"
            and labels.dtype.kind in "iu"):  # (integer logits: the log-probabilities' float dtype, as below)
        return _cross_entropy_rows(logits, labels)
    return nll(log_softmax(logits, -1), labels)


def _cross_entropy_rows(logits, labels):
    """A batch of rows with integer labels, as the hand-written SoftmaxWithLoss computes it: the mean over
    rows of log(sum(exp(shifted))) - shifted[label] (shifted = logits - the row's max), so no array of
    log-probabilities is made and the labels' logits are picked by one gather."""
    _check_label_shape(labels, logits.shape)
    batch, classes = logits.shape
    _check_labels(labels, classes)
    shifted = logits - logits.max(axis=1, keepdims=True)
    sums = np.exp(shifted).sum(axis=1)
    return (np.log(sums).sum() - shifted[np.arange(batch), labels].sum()) / batch


def nll(logp, labels):
    """Mean over the batch of -log p of the labels, from log-probabilities."""
    batch = logp.size // logp.shape[-1]
    _check_label_shape(labels, logp.shape)
    if labels.dtype.kind in "iu":
        _check_labels(labels, logp.shape[-1])
        picked = xp.take_along_axis(logp, labels[..., None], axis=-1)
        return -xp.sum(picked) / batch
    return -xp.sum(labels * logp) / batch


def mse(a, b):
    d = a - b
    return xp.mean(d * d)


def sum_to_like(x, ref):
    """Sum x down to ref's shape (the un-broadcast of a gradient)."""
    shape = xp.shape(ref)
    if xp.shape(x) == shape:
        return x
    lead = xp.ndim(x) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and xp.shape(x)[lead + i] != 1)
    return xp.reshape(xp.sum(x, axis=axes, keepdims=True), shape) if axes or lead else xp.reshape(x, shape)


def size_of(x, axis):
    dims = xp.shape(x) if axis is None else [xp.shape(x)[a] for a in axis]
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return dtype.type(int(np.prod(dims, dtype=np.int64)))


def softmax_cross_entropy_grad(logits, labels, scale):
    """(softmax(logits) - onehot(labels)) * scale in one new array: 1 subtracted at each row's label."""
    _check_label_shape(labels, logits.shape)
    classes = logits.shape[-1]
    _check_labels(labels, classes)
    if logits.dtype.kind != "f":  # integer logits: the float64 the rule declares
        logits = logits.astype(np.float64)
    # C order whatever the logits' layout (an einsum's result may be a transposed view; the ufunc would keep
    # its strides), so that the reshape below is a view and the scatter writes into e, not into a copy
    e = xp.subtract(logits, xp.max(logits, axis=-1, keepdims=True), order="C")
    xp.exp(e, out=e)
    e /= xp.sum(e, axis=-1, keepdims=True)
    rows = e.reshape(-1, classes)  # a view (e is C-contiguous): the scatter writes into e
    rows[xp.arange(rows.shape[0]), labels.reshape(-1)] -= 1
    e *= scale
    return e


def onehot(labels, ref):
    _check_label_shape(labels, ref.shape)
    _check_labels(labels, ref.shape[-1])
    out = xp.zeros(ref.shape, ref.dtype)
    xp.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def getitem_grad(g, x, index):
    out = xp.zeros(xp.shape(x), dtype=xp.result_type(g))
    out[index] = g
    return out


def concat_part(g, *xs, part, axis):
    start = sum(xp.shape(x)[axis] for x in xs[:part])
    return g[(slice(None),) * axis + (slice(start, start + xp.shape(xs[part])[axis]),)]


HELPERS = {f.__name__: f for f in (sigmoid, tanh_grad, sigmoid_grad, where_into, softmax, log_softmax,
                                   softmax_cross_entropy, nll, softmax_cross_entropy_grad, mse, sum_to_like, size_of, onehot, getitem_grad, concat_part)}


from . import kernels_linalg as _linalg  # noqa: E402  (rg.linalg's kernels join the one table)

HELPERS.update(_linalg.HELPERS)


# -- rendering attributes as literals -----------------------------------------------------------
def literal(v: Any) -> str:
    """A Python literal for an attribute value; only plain data is accepted (never code)."""
    if v is None or isinstance(v, (bool, int)):
        return repr(v)
    if isinstance(v, str):
        return repr(v)  # repr of a str is always one closed string literal
    if isinstance(v, float) and np.isfinite(v):
        return repr(v)
    if isinstance(v, float):  # still plain literals: 1e999 parses as inf (the code has no float() to call)
        return "(1e999 * 0)" if v != v else "1e999" if v > 0 else "-1e999"
    if v is Ellipsis:
        return "..."
    if isinstance(v, slice):
        return f"slice({literal(v.start)}, {literal(v.stop)}, {literal(v.step)})"
    if isinstance(v, tuple):
        inner = ", ".join(literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    raise TypeError(f"attribute value {v!r} cannot be rendered as a literal")


def subscript(index: tuple) -> str:
    """``(slice(1, None), None, 0)`` -> ``1:, None, 0``."""
    def item(i: Any) -> str:
        if isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            return text + (f":{i.step}" if i.step is not None else "")
        return literal(i)

    if not index:
        return "()"
    return ", ".join(item(i) for i in index)


def _axis_kw(attrs: dict) -> str:
    axis = attrs.get("axis")
    text = "" if axis is None else f", axis={literal(axis[0]) if isinstance(axis, tuple) and len(axis) == 1 else literal(axis)}"
    return text + (", keepdims=True" if attrs.get("keepdims") else "")


def _transpose(args: list[str], attrs: dict) -> str:
    axes = attrs["axes"]
    if axes == tuple(reversed(range(len(axes)))) and len(axes) == 2:
        return f"{args[0]}.T"
    return f"xp.transpose({args[0]}, {literal(axes)})"


Template = Union[str, Callable[[list, dict], str]]

TEMPLATES: dict[str, Template] = {
    # elementwise
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}", "neg": "-{0}",
    "pow": "{0} ** {1}", "exp": "xp.exp({0})", "log": "xp.log({0})", "sqrt": "xp.sqrt({0})",
    "square": "xp.square({0})", "abs": "xp.abs({0})", "sin": "xp.sin({0})", "cos": "xp.cos({0})",
    "tanh": "xp.tanh({0})", "sigmoid": "sigmoid({0})", "relu": "xp.maximum({0}, 0)",
    "maximum": "xp.maximum({0}, {1})", "minimum": "xp.minimum({0}, {1})", "where": "xp.where({0}, {1}, {2})",
    "sign": "xp.sign({0})", "stop_gradient": "{0}",
    "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}", "greater_equal": "{0} >= {1}",
    "equal": "{0} == {1}", "not_equal": "{0} != {1}",
    # reductions
    "sum": lambda a, k: f"xp.sum({a[0]}{_axis_kw(k)})",
    "mean": lambda a, k: f"xp.mean({a[0]}{_axis_kw(k)})",
    "max": lambda a, k: f"xp.max({a[0]}{_axis_kw(k)})",
    "argmax": lambda a, k: f"xp.argmax({a[0]}{_axis_kw(k)})",
    # shapes and linear algebra
    "matmul": "{0} @ {1}", "transpose": _transpose,
    "reshape": lambda a, k: f"xp.reshape({a[0]}, {literal(k['shape'])})",
    "broadcast_to": lambda a, k: f"xp.broadcast_to({a[0]}, {literal(k['shape'])})",
    "concatenate": lambda a, k: f"xp.concatenate(({', '.join(a)},), axis={literal(k['axis'])})",
    "getitem": lambda a, k: f"{a[0]}[{subscript(k['index'])}]",
    "expand_dims": lambda a, k: f"xp.expand_dims({a[0]}, {literal(k['axis'])})",
    "squeeze": lambda a, k: f"xp.squeeze({a[0]}, {literal(k['axis'])})",
    # layers
    "softmax": "softmax({0}, axis={axis})", "log_softmax": "log_softmax({0}, axis={axis})",
    "softmax_cross_entropy": "softmax_cross_entropy({0}, {1})", "nll": "nll({0}, {1})", "mse": "mse({0}, {1})",
    "softmax_cross_entropy_grad": "softmax_cross_entropy_grad({0}, {1}, {2})",
    # internal
    "sum_to_like": "sum_to_like({0}, {1})", "broadcast_like": "xp.broadcast_to({0}, xp.shape({1}))",
    "reshape_like": "xp.reshape({0}, xp.shape({1}))",
    "size_of": lambda a, k: f"size_of({a[0]}, {literal(k['axis'])})",
    "zeros_like": "xp.zeros_like({0})", "ones_like": "xp.ones_like({0})",
    "cast": lambda a, k: f"xp.asarray({a[0]}, dtype={literal(k['dtype'])})",
    "onehot": "onehot({0}, {1})",
    "getitem_grad": lambda a, k: f"getitem_grad({a[0]}, {a[1]}, {literal(k['index'])})",
    "concat_part": lambda a, k: f"concat_part({', '.join(a)}, part={literal(k['part'])}, axis={literal(k['axis'])})",
    "accumulate": lambda a, k: " + ".join(a),  # as an expression only for a few operands: see STATEMENTS
    "tanh_grad": "tanh_grad({0}, {1})", "sigmoid_grad": "sigmoid_grad({0}, {1})",
}


TEMPLATES.update(_linalg.TEMPLATES)


# In-place forms: how this backend writes an op's result into ``out`` (the buffer of an operand that
# dies here, or of a value that died earlier; the compiler's memory plan picks it, from the facts the
# registry declares: elementwise, fresh). Ufunc names, so ``out=`` is NumPy's own.
UFUNCS = {"add": "xp.add", "sub": "xp.subtract", "mul": "xp.multiply", "div": "xp.true_divide",
          "neg": "xp.negative", "pow": "xp.power", "exp": "xp.exp", "log": "xp.log", "sqrt": "xp.sqrt",
          "square": "xp.square", "abs": "xp.absolute", "sin": "xp.sin", "cos": "xp.cos", "tanh": "xp.tanh",
          "maximum": "xp.maximum", "minimum": "xp.minimum"}

# Op families keep their kernels in their own modules, merged here into the one table.
from . import kernels_math  # noqa: E402

TEMPLATES.update(kernels_math.TEMPLATES)
UFUNCS.update(kernels_math.UFUNCS)
HELPERS.update(kernels_math.HELPERS)
from . import kernels_complex  # noqa: E402

TEMPLATES.update(kernels_complex.TEMPLATES)
UFUNCS.update(kernels_complex.UFUNCS)
HELPERS.update(kernels_complex.HELPERS)


# An n-ary sum is written as flat statements, never as one nested expression: CPython's parser refuses
# more than 200 nested parentheses and its compiler recurses once per ``+``, and a fan-out can be 10^5.
TERMS_PER_LINE = 8


def accumulate_statements(target: str, args: list[str], attrs: dict, out: Optional[str] = None) -> list[str]:
    """``target = args[0] + args[1] + ...`` as a left fold over lines of at most ``TERMS_PER_LINE`` terms;
    into ``out`` (a dying operand's buffer, where the sum then starts so it is read before it is
    overwritten, or a dead buffer of the result's shape) the first sum writes there and each further
    term is added in place.

    Into a dying operand the first sum is an augmented assignment (``v1 += v2``: the in-place ufunc call
    without the keyword parsing of ``out=``, a tenth of an op on small arrays).

    >>> accumulate_statements("v9", ["v1", "v2", "v3"], {}, out="v1")
    ['v1 += v2', 'v9 = v1', 'v9 += v3']
    """
    if out is not None and args.count(out) <= 1 and (out in args or len(args) > 1):
        rest = list(args)
        if out in args:
            rest.remove(out)
            if not rest:
                return [f"{target} = {out}"]
            return [f"{out} += {rest[0]}", f"{target} = {out}"] + [f"{target} += {a}" for a in rest[1:]]
        first, rest = args[:2], args[1:]
        return [f"{target} = xp.add({first[0]}, {first[1]}, out={out})"] + [f"{target} += {a}" for a in rest[1:]]
    lines = [f"{target} = {' + '.join(args[:TERMS_PER_LINE])}"]
    for i in range(TERMS_PER_LINE, len(args), TERMS_PER_LINE - 1):
        lines.append(f"{target} = {' + '.join([target, *args[i:i + TERMS_PER_LINE - 1]])}")
    return lines


# Ops written as several statements: form(target, args, attrs, out) -> lines (``out``: as in INPLACE, or None).
STATEMENTS: dict[str, Callable[..., list]] = {"accumulate": accumulate_statements}


# A binary op written into its (first, or for these commutative ones either) operand's buffer as an
# augmented assignment, ``v1 *= v2``: NumPy's same in-place ufunc call, reached without the keyword
# parsing of ``xp.multiply(v1, v2, out=v1)`` (a tenth of the cost of an op on small arrays).
AUGMENTED = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
COMMUTATIVE = {"add", "mul"}

InplaceForm = Callable[[list, dict, str], Union[str, None]]
INPLACE: dict[str, InplaceForm] = {
    **{op: (lambda ufunc: lambda a, k, out: f"{ufunc}({', '.join(a)}, out={out})")(ufunc) for op, ufunc in UFUNCS.items()},
    "relu": lambda a, k, out: f"xp.maximum({a[0]}, 0, out={out})",
    "matmul": lambda a, k, out: f"xp.matmul({a[0]}, {a[1]}, out={out})",  # ``out`` is a dead buffer, never an operand
    "sigmoid": lambda a, k, out: f"sigmoid({a[0]}, out={out})",
    "tanh_grad": lambda a, k, out: f"tanh_grad({a[0]}, {a[1]}, out={out})",  # ``out`` may be either operand
    "sigmoid_grad": lambda a, k, out: f"sigmoid_grad({a[0]}, {a[1]}, out={out})",
    "where": lambda a, k, out: f"where_into({', '.join(a)}, out={out})",  # ``out`` may be either value operand
}


def writes_into(op: str) -> bool:
    """Whether this backend can write ``op``'s result into a given buffer (the memory plan asks)."""
    return op in INPLACE or op in STATEMENTS


def statements(op: str, target: str, args: list[str], attrs: dict, out: Optional[str] = None) -> list[str]:
    """The lines (unindented) computing ``op`` on the variables ``args`` into the variable ``target``,
    written into the buffer ``out`` when given and this backend can (else as a new array)."""
    form = STATEMENTS.get(op)
    if form is not None:
        return form(target, args, attrs, out)
    if out is not None and op in AUGMENTED and len(args) == 2 and out in args:
        if out == args[0] or (op in COMMUTATIVE and args.count(out) == 1):
            other = args[1] if out == args[0] else args[0]
            return [f"{out} {AUGMENTED[op]}= {other}", f"{target} = {out}"]
    text = inplace_expression(op, args, attrs, out) if out is not None else None
    return [f"{target} = {text or expression(op, args, attrs)}"]


def inplace_expression(op: str, args: list[str], attrs: dict, out: str) -> Union[str, None]:
    """The expression computing ``op`` into the buffer ``out`` (one of ``args``), or None when
    this backend has no in-place kernel for ``op``."""
    form = INPLACE.get(op)
    return form(args, attrs, out) if form is not None else None


def expression(op: str, args: list[str], attrs: dict) -> str:
    """The Python expression computing ``op`` on the variables named ``args``."""
    try:
        template = TEMPLATES[op]
    except KeyError:
        if custom.implementation(op) is not None:  # an rg.custom_vjp op: its own NumPy function
            return f"custom_{op}({', '.join(args)})"
        raise NotImplementedError(f"the numpy backend has no kernel for op {op!r}; add one to TEMPLATES") from None
    if callable(template):
        return template(args, attrs)
    return template.format(*args, **{k: literal(v) for k, v in attrs.items()})


def namespace() -> dict:
    """Globals of generated code: the array namespace and the helpers; no builtins but slice."""
    customs = {f"custom_{name}": fn for name, fn in custom.implementations().items()}
    return {"__builtins__": {"slice": slice}, "xp": xp, **HELPERS, **customs}


_EAGER_CACHE: dict[tuple, Callable] = {}

# Templates that are exactly one Python operator: the operator module's function computes the same
# expression without a Python frame (the dynamic engine calls a kernel per op, so this is per-op overhead).
# Keyed by the template text itself, so a shortcut can never disagree with its template.
OPERATOR_TEMPLATES: dict[str, Callable] = {
    "{0} + {1}": operator.add, "{0} - {1}": operator.sub, "{0} * {1}": operator.mul, "{0} / {1}": operator.truediv,
    "{0} ** {1}": operator.pow, "{0} @ {1}": operator.matmul, "-{0}": operator.neg, "{0} < {1}": operator.lt,
    "{0} <= {1}": operator.le, "{0} > {1}": operator.gt, "{0} >= {1}": operator.ge, "{0} == {1}": operator.eq,
    "{0} != {1}": operator.ne,
}


def kernel(op: str, arity: int, attrs: dict) -> Callable:
    """A callable computing ``op`` (compiled once per op, arity and attributes, from the same template)."""
    impl = custom.implementation(op)
    if impl is not None:  # not cached: redefining a custom op replaces its function
        return impl
    key = (op, arity, repr(sorted(attrs.items())))
    fn = _EAGER_CACHE.get(key)
    if fn is None:
        fn = _EAGER_CACHE[key] = _operator_kernel(op, arity) or _compiled_kernel(op, arity, attrs)
    return fn


def _operator_kernel(op: str, arity: int) -> Union[Callable, None]:
    """The operator module's function for ``op``, when its template is exactly that operator."""
    text = TEMPLATES.get(op)
    fn = OPERATOR_TEMPLATES.get(text) if isinstance(text, str) else None
    return fn if fn is not None and text.count("{") == arity else None


def _compiled_kernel(op: str, arity: int, attrs: dict) -> Callable:
    args = [f"a{i}" for i in range(arity)]
    if op in STATEMENTS:
        body = "".join(f"    {line}\n" for line in statements(op, "r", args, attrs)) + "    return r\n"
    else:
        body = f"    return {expression(op, args, attrs)}\n"
    src = f"def k_{op}({', '.join(args)}):\n{body}"
    ns = namespace()
    exec(compile(src, f"<revgraph kernel {op}>", "exec"), ns)
    return ns[f"k_{op}"]


def evaluate(op: str, values: list, attrs: dict) -> Any:
    """Compute ``op`` on concrete values (plain NumPy calls and the dynamic engine use this)."""
    return kernel(op, len(values), attrs)(*values)


# Op families with their kernels in their own modules, merged into the one table.
from . import kernels_shape as _shape  # noqa: E402  (it reads this module's helpers)

TEMPLATES.update(_shape.TEMPLATES)
HELPERS.update(_shape.HELPERS)

from . import kernels_conv as _conv  # noqa: E402

TEMPLATES.update(_conv.TEMPLATES)
HELPERS.update(_conv.HELPERS)
INPLACE.update(_conv.INPLACE)
