"""Random computation graphs for property-based tests. Two generators:

* ``graph_specs`` (below): engine-agnostic recipes over every public op;
* ``pattern_models()`` (at the end): Graphs over three fixed inputs (``PATTERN_FEEDS``), rich in what the
  simplification passes rewrite and in aliases of feeds and constants (ops whose result may be the
  operand itself or a view of it), for the passes' and the memory planner's properties.

``graph_specs(min_ops=1, max_ops=40, smooth=False, max_inputs=3)`` is a hypothesis
strategy drawing a ``GraphSpec``: a DAG of 1-40 op nodes drawn from the whole op
set, over 1-3 inputs of random broadcast-compatible shapes. Operands are kept in
each op's domain (log, sqrt, a divisor, a non-integer power get positive
operands; exp and big values are squashed) by evaluating every step on the
feeds while drawing. ``smooth=True`` leaves out the ops with kinks or steps
(relu, abs, max, maximum, minimum, where, sign), for second derivatives.

A GraphSpec holds no Tensor, only the recipe, so every engine can run it:

* ``spec.input_names``  -- the inputs, in order; ``spec.feeds`` -- name -> float64 array
* ``spec.steps``        -- ``Step(fn, args, kwargs)``: ``fn`` names a public ``rg`` function;
  ``args`` hold ``Ref(i)`` (value ``i``: the inputs first, then one value per step), lists of
  Refs (concatenate), or constants (numbers, arrays).
* ``spec.replay(*operands)`` -- the output, by calling ``rg.<fn>`` on the operands given in
  input order: Tensors (builds a static graph), dynamic Variables, or plain arrays (NumPy).
* ``spec.values(*operands)`` -- every value (inputs, then one per step).
* ``spec.build(dtype="float64", unknown_sizes=False)`` -> ``(graph, inputs, output)``: a static Graph
  (``unknown_sizes``: every input size declared None, so run-time shape ops are exercised).
* ``spec.astype("float32")`` -- the same recipe with float feeds and float constants converted.
* ``str(spec)`` -- a readable listing, one ``%k = rg.fn(...)`` line per step; ``spec.n_ops``.

stop_gradient changes gradients on purpose, so the specs use it only where no gradient flows (on the
values whose argmax gives softmax_cross_entropy's labels): rg.grad equals the true derivative everywhere.

>>> @given(graph_specs())
... def test_static_equals_eager(spec):
...     g, xs, out = spec.build()
...     np.testing.assert_allclose(rg.compile(out)(**spec.feeds), spec.replay(*spec.feeds.values()))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import strategies as st

import revgraph as rg
from revgraph.ir.ops.internal import accumulate, cast, sum_to_like

LIMIT = 20.0  # values are kept within +-LIMIT (finite, well-conditioned differences)
MAX_SIZE = 64  # elements per value
MAX_NDIM = 4


@dataclass(frozen=True)
class Ref:
    """Value number ``i`` of a spec: inputs first, then one per step."""

    i: int

    def __repr__(self) -> str:
        return f"%{self.i}"


@dataclass
class Step:
    fn: str  # a public rg function
    args: tuple
    kwargs: dict = field(default_factory=dict)
    part: Optional[int] = None  # for a function returning several tensors (split): the one this step keeps


@dataclass
class GraphSpec:
    """A random graph as a recipe: see the module docstring."""

    input_names: list[str]
    feeds: dict[str, np.ndarray]
    steps: list[Step]

    @property
    def n_ops(self) -> int:
        return len(self.steps)

    def values(self, *operands: Any) -> list:
        """Every value, replaying the steps through ``rg.*`` on ``operands`` (one per input)."""
        if len(operands) != len(self.input_names):
            raise ValueError(f"replay needs {len(self.input_names)} operands ({self.input_names}), got {len(operands)}")
        vals = list(operands)
        for step in self.steps:
            v = op_function(step.fn)(*[_resolve(a, vals) for a in step.args], **step.kwargs)
            vals.append(v if step.part is None else v[step.part])
        return vals

    def replay(self, *operands: Any) -> Any:
        """The output (the last step's value) computed from ``operands`` in any engine."""
        return self.values(*operands)[-1]

    def astype(self, dtype: Any) -> "GraphSpec":
        """The same recipe with float feeds and float array constants converted to ``dtype``."""
        def conv(a: Any) -> Any:
            if isinstance(a, list):
                return [conv(x) for x in a]
            return a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        steps = [Step(s.fn, tuple(conv(a) for a in s.args), dict(s.kwargs), s.part) for s in self.steps]
        return GraphSpec(list(self.input_names), {k: v.astype(dtype) for k, v in self.feeds.items()}, steps)

    def build(self, dtype: Any = "float64", unknown_sizes: bool = False) -> tuple:
        """A static graph of the spec: ``(graph, input tensors, output tensor)``. ``unknown_sizes``
        declares every input size None (fixed only when the program runs)."""
        g = rg.Graph("random")
        xs = [g.input(n, shape=(None,) * self.feeds[n].ndim if unknown_sizes else self.feeds[n].shape, dtype=dtype)
              for n in self.input_names]
        return g, xs, self.replay(*xs)

    def __str__(self) -> str:
        lines = [f"GraphSpec: {self.n_ops} op(s)"]
        for i, n in enumerate(self.input_names):
            lines.append(f"  %{i} = input {n!r} shape {self.feeds[n].shape}")
        base = len(self.input_names)
        for k, s in enumerate(self.steps):
            args = ", ".join(_show(a) for a in s.args)
            kw = "".join(f", {k2}={v!r}" for k2, v in s.kwargs.items())
            lines.append(f"  %{base + k} = rg.{s.fn}({args}{kw})" + ("" if s.part is None else f"[{s.part}]"))
        return "\n".join(lines)

    __repr__ = __str__


def function(fn: str) -> Callable:
    """The public function a step names: ``"tanh"`` is ``rg.tanh``, ``"fft.rfft"`` is ``rg.fft.rfft``."""
    target: Any = rg
    for part in fn.split("."):
        target = getattr(target, part)
    return target


def _resolve(a: Any, vals: list) -> Any:
    if isinstance(a, Ref):
        return vals[a.i]
    if isinstance(a, list):
        return [_resolve(x, vals) for x in a]
    return a


def _show(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"array{a.shape}"
    if isinstance(a, list):
        return "[" + ", ".join(_show(x) for x in a) + "]"
    return repr(a)


# -- the builder: appends steps, evaluating each on the feeds to stay in range -------------------------
class _Builder:
    def __init__(self, draw: Callable, rng: np.random.Generator, feeds: list[np.ndarray]) -> None:
        self.draw, self.rng = draw, rng
        self.vals: list[np.ndarray] = list(feeds)
        self.n_inputs = len(feeds)
        self.steps: list[Step] = []
        self.used: set[int] = set()
        self.hidden: set[int] = set()  # values no later op may pick (stop_gradient's)

    def add(self, fn: str, *args: Any, part: Optional[int] = None, **kwargs: Any) -> Optional[Ref]:
        """Append a step if its value is finite, in range and small; else None (nothing appended).
        ``part``: keep that one of the tensors ``fn`` returns (split)."""
        try:
            with np.errstate(all="ignore"):  # an out-of-range value is refused below, not warned about
                v = op_function(fn)(*[_resolve(a, self.vals) for a in args], **kwargs)
            v = np.asarray(v if part is None else v[part])
        except rg.GraphError:
            return None
        if v.size > MAX_SIZE or v.ndim > MAX_NDIM or v.size == 0:
            return None
        if v.dtype.kind in "fc" and (not np.all(np.isfinite(v)) or np.max(np.abs(v)) > LIMIT):
            return None
        self.steps.append(Step(fn, tuple(args), kwargs, part))
        self.vals.append(v)
        for a in args:
            for r in (a if isinstance(a, list) else [a]):
                if isinstance(r, Ref):
                    self.used.add(r.i)
        return Ref(len(self.vals) - 1)

    def rollback(self, n_steps: int) -> None:
        """Drop the steps after the first ``n_steps`` (a generator that failed half-way leaves nothing)."""
        del self.steps[n_steps:]
        del self.vals[self.n_inputs + n_steps:]
        self.hidden = {i for i in self.hidden if i < len(self.vals)}
        self.used = {r.i for s in self.steps for a in s.args for r in (a if isinstance(a, list) else [a])
                     if isinstance(r, Ref)}

    def pick(self, ok: Callable[[np.ndarray], bool] = lambda v: True) -> Optional[Ref]:
        """A float value satisfying ``ok``, preferring ones nothing consumes yet (so few nodes are dead)."""
        cands = [i for i, v in enumerate(self.vals) if v.dtype.kind == "f" and i not in self.hidden and ok(v)]
        if not cands:
            return None
        fresh = [i for i in cands if i not in self.used]
        pool = fresh if fresh and self.draw(st.integers(0, 3)) else cands
        return Ref(self.draw(st.sampled_from(pool[::-1])))  # shrinks towards the newest value

    def compatible(self, a: Ref) -> Optional[Ref]:
        """A value whose shape broadcasts with ``a``'s (``a`` itself qualifies)."""
        sa = self.vals[a.i].shape
        return self.pick(lambda v: _broadcasts(sa, v.shape))

    def positive(self, r: Ref) -> Optional[Ref]:
        """``r`` when all its values are >= 0.2, else sigmoid(r) + 0.5 (in (0.5, 1.5))."""
        if np.min(self.vals[r.i]) >= 0.2:
            return r
        s = self.add("sigmoid", r)
        return s and self.add("add", s, 0.5)

    def bounded(self, r: Ref, bound: float) -> Optional[Ref]:
        """``r`` when |r| <= bound, else tanh(r)."""
        return r if np.max(np.abs(self.vals[r.i])) <= bound else self.add("tanh", r)

    def shape(self, r: Ref) -> tuple:
        return self.vals[r.i].shape

    def choice(self, options: list) -> Any:
        return self.draw(st.sampled_from(options))


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


# -- one generator per op family: each appends its steps (or nothing) --------------------------------
def _unary(fn: str) -> Callable[[_Builder], Any]:
    def gen(b: _Builder) -> Any:
        x = b.pick()
        if fn in UNARY_DOMAINS:
            x = x and UNARY_DOMAINS[fn](b, x)
        elif fn in KINKED:  # central differences straddling the kink would disagree with the subgradient
            x = b.pick(_clear_of_zero)
        return x and b.add(fn, x)
    return gen


def _binary(fn: str) -> Callable[[_Builder], Any]:
    def gen(b: _Builder) -> Any:
        x = b.pick()
        y = x and b.compatible(x)
        if y and fn == "div":
            y = b.positive(y) if b.choice([True, False]) else _away_from_zero(b, y)
        if y and fn in KINKED and not _clear_of_zero(b.vals[x.i] - b.vals[y.i]):
            return None  # a tie (or near-tie) of maximum/minimum: the same kink as abs at 0
        return y and b.add(fn, *((x, y) if b.choice([True, False]) or fn == "div" else (y, x)))
    return gen


def _clear_of_zero(v: np.ndarray) -> bool:
    """No value within a hair (1e-3, far above the differences' eps) of a kink at 0."""
    return v.size == 0 or float(np.min(np.abs(v))) > 1e-3


def _away_from_zero(b: _Builder, y: Ref) -> Optional[Ref]:
    return y if np.min(np.abs(b.vals[y.i])) >= 0.2 else b.positive(y)


def _pow(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    kind = b.choice(["int", "real", "tensor"])
    if kind == "int":  # an integer power is defined for any base
        return b.add("pow", x, b.choice([2.0, 3.0]))
    base = b.positive(x)
    if kind == "real":
        return base and b.add("pow", base, b.choice([0.5, -1.0, 1.5]))
    e = base and b.compatible(base)
    e = e and b.bounded(e, 2.0)
    return e and b.add("pow", base, e)


COMPARISONS = ["greater", "less", "greater_equal", "less_equal", "equal", "not_equal"]
TESTS = ["isnan", "isinf", "isfinite"]


def _where(b: _Builder) -> Any:
    c = b.pick(lambda v: np.min(np.abs(v)) > 1e-3)  # no value within a hair of the step
    cond = c and b.add(b.choice(COMPARISONS), c, 0.0)
    x = cond and b.compatible(c)
    y = x and b.pick(lambda v: _broadcasts(np.broadcast_shapes(b.shape(c), b.shape(x)), v.shape))
    return y and b.add("where", cond, x, y)


def _axes(b: _Builder, ndim: int) -> Any:
    kind = b.choice(["none", "int", "tuple"]) if ndim else "none"
    if kind == "none":
        return None
    if kind == "int":
        return b.draw(st.integers(-ndim, ndim - 1))
    return tuple(sorted(b.draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))))


def _reduction(fn: str) -> Callable[[_Builder], Any]:
    def gen(b: _Builder) -> Any:
        # max: distinct values, so no tie of maxima meets the differences (ties share the gradient)
        x = b.pick(lambda v: v.size < 2 or _clear_of_zero(np.diff(np.sort(v.ravel())))) if fn in ("max", "min") else b.pick()
        return x and b.add(fn, x, axis=_axes(b, len(b.shape(x))), keepdims=b.choice([False, True]))
    return gen


def _matmul(b: _Builder) -> Any:
    a = b.pick(lambda v: v.ndim >= 1)
    if a is None:
        return None
    k = b.shape(a)[-1]
    other = b.pick(lambda v: (v.ndim >= 2 and v.shape[-2] == k) or (v.ndim == 1 and v.shape[0] == k))
    if other is None or b.choice([True, False]):
        other = b.rng.normal(size=(k, b.draw(st.integers(1, 4)))) / np.sqrt(k)  # a constant matrix
    return b.add("matmul", a, other)


def _transpose(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 2)
    if x is None:
        return None
    axes = b.choice([None, tuple(b.draw(st.permutations(range(len(b.shape(x))))))])
    return b.add("transpose", x, axes)


def _reshape(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    s = b.shape(x)
    return b.add("reshape", x, b.choice([(-1,), tuple(reversed(s)), (1,) + s, s[:1] + (-1,) if s else (1,)]))


def _broadcast_to(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    s = tuple(d if d != 1 else b.draw(st.integers(1, 3)) for d in b.shape(x))
    return b.add("broadcast_to", x, (b.draw(st.integers(1, 2)),) + s if b.choice([True, False]) else s)


def _concatenate(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    s = b.shape(x)
    axis = b.draw(st.integers(0, len(s) - 1))
    y = b.pick(lambda v: v.ndim == len(s) and all(d == e for i, (d, e) in enumerate(zip(v.shape, s)) if i != axis))
    parts = [x, y] if b.choice([True, False]) else [x, y, x]
    return b.add("concatenate", parts, axis=b.choice([axis, axis - len(s)]))


def _getitem(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    index = []
    for d in b.shape(x)[: b.draw(st.integers(1, len(b.shape(x))))]:
        kind = b.choice(["slice", "int", "all", "new"])
        if kind == "int":
            index.append(b.draw(st.integers(-d, d - 1)))
        elif kind == "slice":
            start = b.draw(st.integers(0, d - 1))
            index.append(slice(start, b.draw(st.integers(start + 1, d)), b.choice([None, 1, 2])))
        elif kind == "new":
            index += [None, slice(None)]
        else:
            index.append(slice(None))
    return b.add("getitem", x, tuple(index))


def _expand_dims(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim < MAX_NDIM)
    return x and b.add("expand_dims", x, b.draw(st.integers(0, len(b.shape(x)))))


def _squeeze(b: _Builder) -> Any:
    x = b.pick(lambda v: 1 in v.shape)
    if x is None:
        return None
    ones = [i for i, d in enumerate(b.shape(x)) if d == 1]
    # an explicit axis: squeeze(x, None) removes only the axes *known* to be 1 when sizes are declared None
    return b.add("squeeze", x, b.choice([tuple(ones), b.choice(ones)]))


def _softmax(fn: str) -> Callable[[_Builder], Any]:
    def gen(b: _Builder) -> Any:
        x = b.pick(lambda v: v.ndim >= 1)
        return x and b.add(fn, x, axis=b.draw(st.integers(-len(b.shape(x)), len(b.shape(x)) - 1)))
    return gen


def _softmax_cross_entropy(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    s = b.shape(x)
    kind = b.choice(["argmax", "probs", "onehot"])
    if kind == "onehot":
        labels = np.eye(s[-1])[b.rng.integers(0, s[-1], size=s[:-1])]
    else:
        y = b.pick(lambda v: v.shape == s)
        labels = b.add(b.choice(["argmax", "argmin"]), y, axis=-1) if kind == "argmax" else b.add("softmax", y)
    return labels is not None and b.add("softmax_cross_entropy", x, labels)


def op_function(fn: str) -> Callable:
    """rg.<fn> (``"fft.rfft"``: rg.fft.rfft), or the function of an internal op the random graphs draw too."""
    from revgraph.ir.ops import nn

    return {"softmax_cross_entropy_grad": nn.softmax_cross_entropy_grad}.get(fn) or function(fn)


def _softmax_cross_entropy_grad(b: _Builder) -> Any:
    # the fused integer-label gradient (internal), with labels from an argmax and a 0-d scale when one is there
    x = b.pick(lambda v: v.ndim >= 1)
    y = x and b.pick(lambda v: v.shape == b.shape(x))
    labels = y and b.add(b.choice(["argmax", "argmin"]), y, axis=-1)
    scale = b.pick(lambda v: v.ndim == 0) or 0.5
    return labels and b.add("softmax_cross_entropy_grad", x, labels, scale)


def _mse(b: _Builder) -> Any:
    x = b.pick()
    y = x and b.compatible(x)
    return y and b.add("mse", x, y)


def _sign(b: _Builder) -> Any:
    x, y = b.pick(), b.pick()
    s = x and y and _away_from_zero_sign(b, y)
    return s and _binary_with(b, "mul", x, s)


def _away_from_zero_sign(b: _Builder, y: Ref) -> Optional[Ref]:
    # sign is a step function: only use it where no value sits within a hair of the step
    return b.add("sign", y) if np.min(np.abs(b.vals[y.i])) > 1e-3 else None


def _binary_with(b: _Builder, fn: str, x: Ref, y: Ref) -> Optional[Ref]:
    return b.add(fn, x, y) if _broadcasts(b.shape(x), b.shape(y)) else None


def _stop_gradient(b: _Builder) -> Any:
    # stop_gradient changes the gradient on purpose (rg.grad then differs from the true derivative), so
    # the random graphs use it where no gradient flows anyway: on the value whose argmax gives the labels
    y = b.pick(lambda v: v.ndim >= 1)
    x = y and b.pick(lambda v: v.shape == b.shape(y))
    s = x and b.add("stop_gradient", y)
    if s:
        b.hidden.add(s.i)
    labels = s and b.add("argmax", s, axis=-1)
    return labels and b.add("softmax_cross_entropy", x, labels)


# -- ir/ops/math.py ---------------------------------------------------------------------------------------
def _in_unit(b: _Builder, r: Ref) -> Optional[Ref]:
    """``r`` when |r| <= 0.9, else 0.9 tanh(r): inside arcsin's, arccos's and arctanh's domain, clear of the poles."""
    t = b.bounded(r, 0.9)
    return t if t is r else t and b.add("mul", t, 0.9)


def _above_one(b: _Builder, r: Ref) -> Optional[Ref]:
    """A value >= 1.2 (arccosh's domain, clear of its pole at 1)."""
    p = b.positive(r)
    return p and b.add("add", p, 1.0)


UNARY_DOMAINS: dict[str, Callable[[_Builder, Ref], Optional[Ref]]] = {
    "exp": lambda b, r: b.bounded(r, 2.5), "log": lambda b, r: b.positive(r), "sqrt": lambda b, r: b.positive(r),
    "tan": lambda b, r: b.bounded(r, 1.2), "sinh": lambda b, r: b.bounded(r, 2.5),
    "cosh": lambda b, r: b.bounded(r, 2.5), "expm1": lambda b, r: b.bounded(r, 2.5),
    "exp2": lambda b, r: b.bounded(r, 2.5), "arcsin": _in_unit, "arccos": _in_unit, "arctanh": _in_unit,
    "arccosh": _above_one, "log1p": lambda b, r: b.positive(r), "log2": lambda b, r: b.positive(r),
    "log10": lambda b, r: b.positive(r), "reciprocal": lambda b, r: _away_from_zero(b, r),
}


def _rounding(fn: str) -> Callable[[_Builder], Any]:
    # floor, ceil, round jump at integers (round at halves): only where no value is within a hair of one
    def gen(b: _Builder) -> Any:
        x = b.pick(lambda v: _clear_of_zero(v * 2 - np.round(v * 2)))
        return x and b.add(fn, x)
    return gen


def _clip(b: _Builder) -> Any:
    lo, hi = b.choice([-1.0, -0.3, None]), b.choice([0.2, 1.0, None])
    if lo is None and hi is None:
        return None
    x = b.pick(lambda v: all(_clear_of_zero(v - c) for c in (lo, hi) if c is not None))
    return x and b.add("clip", x, lo, hi)


def _remainder(fn: str) -> Callable[[_Builder], Any]:
    # x - k y jumps where x / y is an integer
    def gen(b: _Builder) -> Any:
        x = b.pick()
        y = x and b.compatible(x)
        y = y and _away_from_zero(b, y)
        if y is None:
            return None
        q = b.vals[x.i] / b.vals[y.i]
        return b.add(fn, x, y) if _clear_of_zero(q - np.round(q)) else None
    return gen


def _hypot(b: _Builder) -> Any:
    x = b.pick()
    y = x and b.compatible(x)
    if y is None or np.min(b.vals[x.i] ** 2 + b.vals[y.i] ** 2) < 0.04:  # its kink at the origin
        return None
    return b.add("hypot", x, y)


def _arctan2(b: _Builder) -> Any:
    y = b.pick()
    x = y and b.compatible(y)
    x = x and b.positive(x)  # x > 0: clear of the branch cut on the negative x axis
    return x and b.add("arctan2", y, x)


def _leaky_relu(b: _Builder) -> Any:
    x = b.pick(_clear_of_zero)
    return x and b.add("leaky_relu", x, b.choice([0.01, 0.2]))


def _moments(fn: str) -> Callable[[_Builder], Any]:
    def gen(b: _Builder) -> Any:
        x = b.pick(lambda v: v.size >= 2)
        if x is None:
            return None
        shape = b.shape(x)
        axis = _axes(b, len(shape))
        # ddof=1 only where at least 2 entries are reduced: N - ddof = 0 is a division by zero (NumPy warns)
        count = int(np.prod([shape[a] for a in np.atleast_1d(axis)])) if axis is not None else int(np.prod(shape))
        ddof = b.choice([0, 1]) if count >= 2 else 0
        made = b.add(fn, x, axis=axis, ddof=ddof, keepdims=b.choice([False, True]))
        # std has a kink where all entries are equal (std = 0): keep clear of it
        return made if made is None or fn == "var" or np.min(b.vals[made.i]) > 0.05 else None
    return gen


def _cumsum(b: _Builder) -> Any:
    x = b.pick()
    ndim = x and len(b.shape(x))
    return x and b.add("cumsum", x, axis=b.draw(st.integers(-ndim, ndim - 1)) if ndim and b.choice([True, False]) else None)


def _bool_int(b: _Builder) -> Any:
    """bool and int values inside the float graph: a comparison (or isfinite...), maybe its sum (int64, as
    NumPy) with int arithmetic and a threshold, then the bool times, plus or selecting float values. Ints
    meet floats only through bools, so float32 graphs stay float32 (int64 + float32 is float64 in NumPy)."""
    x = b.pick(lambda v: v.ndim >= 1 and _clear_of_zero(v))
    test = x and b.choice(COMPARISONS + TESTS)
    c = x and (b.add(test, x) if test in TESTS else b.add(test, x, 0.0))
    if c is not None and b.choice([True, False]):
        n = b.add("sum", c, axis=b.choice([None, -1]), keepdims=b.choice([False, True]))
        if n is not None and b.choice([True, False]):
            n = b.add(b.choice(["add", "mul", "sub"]), n, b.choice([n, 2, True]))
        c = n and b.add(b.choice(["greater", "less_equal"]), n, b.choice([0, 1, 2]))
    y = c and b.pick(lambda w: _broadcasts(b.shape(c), w.shape))
    if y is None:
        return None
    kind = b.choice(["mul", "add", "where"])
    return b.add("where", c, y, 0.5) if kind == "where" else b.add(kind, *((c, y) if b.choice([True, False]) else (y, c)))


SMOOTH = {
    "add": _binary("add"), "sub": _binary("sub"), "mul": _binary("mul"), "div": _binary("div"),
    "neg": _unary("neg"), "pow": _pow, "exp": _unary("exp"), "log": _unary("log"), "sqrt": _unary("sqrt"),
    "square": _unary("square"), "sin": _unary("sin"), "cos": _unary("cos"), "tanh": _unary("tanh"),
    "sigmoid": _unary("sigmoid"), "sum": _reduction("sum"), "mean": _reduction("mean"), "matmul": _matmul,
    "transpose": _transpose, "reshape": _reshape, "broadcast_to": _broadcast_to, "concatenate": _concatenate,
    "getitem": _getitem, "expand_dims": _expand_dims, "squeeze": _squeeze, "softmax": _softmax("softmax"),
    "log_softmax": _softmax("log_softmax"), "softmax_cross_entropy": _softmax_cross_entropy,
    "softmax_cross_entropy_grad": _softmax_cross_entropy_grad, "mse": _mse,
    "stop_gradient": _stop_gradient,
    **{fn: _unary(fn) for fn in ("tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
                                 "log1p", "expm1", "log2", "log10", "exp2", "reciprocal", "sinc", "deg2rad",
                                 "rad2deg", "nan_to_num", "softplus")},
    "arctan2": _arctan2, "hypot": _hypot, "logaddexp": _binary("logaddexp"), "logaddexp2": _binary("logaddexp2"),
    "prod": _reduction("prod"), "logsumexp": _reduction("logsumexp"), "var": _moments("var"), "std": _moments("std"),
    "cumsum": _cumsum,
}
KINKED = {
    "abs": _unary("abs"), "relu": _unary("relu"), "maximum": _binary("maximum"), "minimum": _binary("minimum"),
    "max": _reduction("max"), "where": _where, "sign": _sign,
    "floor": _rounding("floor"), "ceil": _rounding("ceil"), "round": _rounding("round"), "clip": _clip,
    "mod": _remainder("mod"), "fmod": _remainder("fmod"), "fmax": _binary("fmax"), "fmin": _binary("fmin"),
    "leaky_relu": _leaky_relu, "min": _reduction("min"), "bool_int": _bool_int,  # bool_int: not an op, the bool/int paths
}
from randgraph_shape import SHAPE_GENERATORS  # noqa: E402  (shape/combination ops, advanced indexing)

from randgraph_image import IMAGE_KINKED, IMAGE_SMOOTH  # noqa: E402  (image ops, embedding, dropout)

SMOOTH.update(SHAPE_GENERATORS)
SMOOTH.update(IMAGE_SMOOTH)
KINKED.update(IMAGE_KINKED)
from randgraph_complex import COMPLEX_GENERATORS  # noqa: E402  (complex numbers, rg.fft, rg.linalg)

SMOOTH.update(COMPLEX_GENERATORS)
GENERATORS = {**SMOOTH, **KINKED}
HELPER_OPS = set(COMPARISONS) | set(TESTS) | {"argmax", "argmin"}  # drawn inside where, bool_int and softmax_cross_entropy


@st.composite
def input_shapes(draw: Callable, n: int) -> list[tuple]:
    """``n`` shapes that broadcast together: suffixes of one base shape, some sizes set to 1."""
    base = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    shapes = []
    for _ in range(n):
        rank = draw(st.integers(0, len(base)))
        shapes.append(tuple(d if draw(st.booleans()) else 1 for d in base[len(base) - rank:]))
    return shapes


@st.composite
def graph_specs(draw: Callable, min_ops: int = 1, max_ops: int = 40, smooth: bool = False,
                max_inputs: int = 3, ops: Optional[list] = None, generators: Optional[dict] = None) -> GraphSpec:
    """A hypothesis strategy drawing a random GraphSpec (see the module docstring); ``ops`` limits the
    generators drawn from to those names; ``generators`` replaces the table (name -> generator)."""
    n_inputs = draw(st.integers(1, max_inputs))
    shapes = draw(input_shapes(n_inputs))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    names = [f"x{i}" for i in range(n_inputs)]
    feeds = {n: rng.normal(size=s) for n, s in zip(names, shapes)}
    b = _Builder(draw, rng, list(feeds.values()))
    table = generators if generators is not None else SMOOTH if smooth else GENERATORS
    if ops is not None:
        table = {k: table[k] for k in ops if k in table}
    n_ops = draw(st.integers(min_ops, max_ops))
    for _ in range(4 * n_ops):
        if len(b.steps) >= n_ops:
            break
        mark = len(b.steps)
        made = table[draw(st.sampled_from(sorted(table)))](b)
        if made is None or made is False or len(b.steps) > max_ops:
            b.rollback(mark)  # each generator's steps land whole or not at all
    if not b.steps:
        b.add("tanh", Ref(0))
    return GraphSpec(names, feeds, list(b.steps))


# -- the second generator: rewrite patterns and aliases over three fixed inputs ------------------
UNARY = [rg.tanh, rg.sin, rg.sigmoid, lambda x: -x, lambda x: x * x, lambda x: rg.exp(rg.tanh(x))]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, rg.maximum]
# Results that may be the operand itself or a view of it, each read by one elementwise op (which the memory
# planner must then not let write into it: the operand may be a feed or a constant).
ALIAS = [lambda x: accumulate(x), lambda x: rg.stop_gradient(x) * 1.5 + x, lambda x: cast(x, x.dtype),
         lambda x: x[...], lambda x: rg.squeeze(rg.expand_dims(x, 0), 0), lambda x: sum_to_like(x, x),
         lambda x: rg.reshape(rg.tanh(rg.reshape(x, (-1,))), x.shape), lambda x: rg.sin(x.T).T,
         lambda x: rg.sum(rg.exp(rg.broadcast_to(x, (2,) + tuple(x.shape))), axis=0)]
IDENTITY = [lambda x: x * 1.0, lambda x: 1.0 * x, lambda x: x + 0.0, lambda x: x - 0.0, lambda x: x / 1.0,
            lambda x: x ** 1, lambda x: -(-x)]


def _shape_pattern(x, pick):
    if x.ndim == 2:
        return [lambda t: t.T.T, lambda t: rg.reshape(rg.reshape(t, (3, 2)), (2, 3)),
                lambda t: rg.transpose(rg.transpose(t, (1, 0)) * 2.0, (1, 0))][pick % 3](x)
    if x.shape == (3,):
        return rg.sum(rg.broadcast_to(x, (2, 3)), axis=0) if pick % 2 else rg.reshape(rg.reshape(x, (1, 3)), (3,))
    return rg.sum(rg.broadcast_to(x, (4,)))


@st.composite
def pattern_models(draw: Callable) -> tuple:
    """The second generator: ``(graph, loss, [a, b, s])``, a graph over inputs a (3,), b (2, 3), s ()
    (fed ``PATTERN_FEEDS``) and a scalar loss, rich in what the passes rewrite (identities, double
    transposes and reshapes, sums of broadcasts, constant subexpressions, repeated subexpressions
    for CSE) and in aliases (ops whose result may be the operand itself or a view of it)."""
    g = rg.Graph("random")
    nodes = [g.input("a", (3,)), g.input("b", (2, 3)), g.input("s")]
    made = []  # (kind, index, operands) already built, replayed for CSE to find
    aliased = []
    for _ in range(draw(st.integers(3, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "identity", "shape", "constant", "alias", "alias", "again"]))
        if kind == "again" and made:
            kind, i, ops = made[draw(st.integers(0, len(made) - 1))]
        else:
            kind = "unary" if kind == "again" else kind
            n = 2 if kind == "binary" else 1
            ops = [draw(st.integers(0, len(nodes) - 1)) for _ in range(n)]
            i = draw(st.integers(0, 5))
            made.append((kind, i, ops))
        xs = [nodes[o] for o in ops]
        if kind == "unary":
            out = UNARY[i % len(UNARY)](xs[0])
        elif kind == "binary":
            out = BINARY[i % len(BINARY)](xs[0], xs[1])
        elif kind == "identity":
            out = IDENTITY[i % len(IDENTITY)](xs[0])
        elif kind == "shape":
            out = _shape_pattern(xs[0], i)
        elif kind == "alias":  # of a feed (a or b) or a constant, mostly: the buffers no program owns
            pick = draw(st.integers(0, 3))
            base = g.constant(np.linspace(-1.0, 1.0, 6).reshape(2, 3)) if pick == 2 else [nodes[0], nodes[1], 0, xs[0]][pick]
            out = UNARY[i % len(UNARY)](ALIAS[draw(st.integers(0, len(ALIAS) - 1))](base))
            aliased.append(out)  # always read by the loss
        else:
            out = xs[0] * (g.constant(np.array([0.5, -1.0, 2.0])) * 2.0 + 1.0)
        nodes.append(out)
    tail = nodes[3:][-3:] + [t for t in aliased if t not in nodes[3:][-3:]]
    loss = tail[0].sum() if tail else nodes[0].sum()
    for t in tail[1:]:
        loss = loss + rg.sum(t)
    return g, loss, nodes[:3]


PATTERN_FEEDS = {"a": np.array([0.3, -0.7, 1.1]), "b": np.array([[0.2, -0.4, 0.9], [1.3, -1.5, 0.05]]), "s": 0.6}
