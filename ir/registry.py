"""The op registry: one entry per op, holding everything revgraph knows about it
that does not depend on where the op runs.

An entry is the op's name, its arity, its attributes (with defaults and a
normaliser), its shape/dtype rule, its VJP rule and the facts compiler passes
need about it (``OpDef``'s docstring). VJP rules are written with
the public op functions, so the same rule builds adjoint *nodes* on symbolic
tensors and computes *values* on dynamic Variables. Kernels live in the
backends, keyed by the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import batch as batch_rules
from .errors import GraphError, ShapeRuleError  # ShapeRuleError: re-exported for the op files
from .shapes import Shape

# A VJP rule for one operand: rule(g, out, *inputs, **attrs) -> gradient (or None).
VjpRule = Callable[..., Any]


@dataclass(frozen=True)
class Aval:
    """What a shape rule sees of an operand: its shape, dtype and, for a Python
    scalar constant, the scalar itself (it promotes *weakly*, as in NumPy 2)."""

    shape: Shape
    dtype: np.dtype
    weak_value: Any = None

    @property
    def weak(self) -> bool:
        return self.weak_value is not None

    @property
    def ndim(self) -> int:
        return len(self.shape)


@dataclass
class OpDef:
    """One registry entry. See the module docstring.

    The facts passes need (the memory planner, the residual chooser) are declared here, once, so
    no pass keeps a list of op names. Each default is the safe choice; a wrong ``True`` is a bug
    (tests/test_op_facts.py runs every op's kernel and checks what can be checked):

    * ``elementwise`` -- result element ``i`` depends only on the operands' (broadcast) elements
      ``i``, so the result may be written into the buffer of an operand of the result's shape and
      dtype that dies at this op (if the backend has an in-place form: its kernel table says how).
    * ``fresh`` -- the kernel always returns a new array: never an operand, a view of one or a
      constant it holds. Only a fresh result is a buffer the program owns and may overwrite later;
      anything else is treated as possibly sharing its operands' memory (a feed's, a constant's).
      A bool, or ``fresh(n_operands, attrs) -> bool`` when it depends on the node
      (a one-operand ``accumulate`` is its operand itself).
    * ``recomputable`` -- cheap enough (about one pass over its operands) to be recomputed in the
      backward program rather than kept from the forward.
    * ``view`` -- the result is the operand's memory seen otherwise, each element once and writable
      (reshape, transpose), or else a new array: writing into the result is writing into the operand's
      buffer (or into a copy no one else holds), so a dying view of a buffer the program owns may be
      written into as that buffer itself. (Not a broadcast: one element seen at several places.)
    * ``random`` -- draws fresh random numbers every time it runs (dropout's mask): two such nodes are
      never merged, never folded into a constant, and never recomputed in place of a residual.
    * ``complex_ok`` -- complex operands are accepted: the rule, the kernel and the VJP hold for them, with
      HIPS autograd's convention (the VJP of a holomorphic op is ``g * f'(z)``, no conjugate; see
      docs/ops.md). False (the default) makes a complex operand a GraphError naming the op.
    * ``inplace_slot`` -- the operand whose buffer serves best when several die at the op
      (``tanh_grad`` forms ``1 - y²`` in ``y``'s own buffer without a temporary).
    * ``overwrites`` -- for an op that is not elementwise: ``overwrites(attrs) -> slot or None``, the
      operand (of the result's shape and dtype) whose buffer the kernel can compute the result over while
      it reads it, so the memory plan may write it there when that operand dies at the op (max pooling's
      gradient over the images it was taken of, when the windows do not overlap).
    * ``batch`` -- how the op acts on a batch (ir/batch.py): ``batch(kinds, avals, attrs)`` gives the result's
      kind (row-wise, a sum or a mean over the batch) from its operands', or None when running it chunk by
      chunk of the batch and adding up would be wrong. Elementwise ops (not random) are row-wise by default;
      other ops are not batch-separable unless they declare a rule.

    >>> register(OpDef("cube", 1, same_shape, vjp=(lambda g, out, x: g * 3.0 * x * x,),
    ...                elementwise=True, fresh=True, recomputable=True))
    """

    name: str
    arity: Optional[int]  # None: variadic (concatenate, accumulate)
    infer: Callable[..., tuple[Shape, np.dtype]]  # infer(*avals, **attrs) -> (shape, dtype)
    vjp: Any = None  # tuple of per-operand rules, or for variadic ops one rule taking index=
    # Variadic ops may instead give every operand's gradient in one call, vjp_all(g, out, *xs, **attrs) ->
    # list (None where none): the adjoint pass then spends time linear in the operand count, not quadratic
    # (a per-operand rule is handed all n operands n times; an accumulate may have 10^5).
    vjp_all: Optional[Callable[..., list]] = None
    attrs: dict[str, Any] = field(default_factory=dict)  # name -> default
    normalize: Optional[Callable[..., dict]] = None  # normalize(avals, **attrs) -> attrs
    internal: bool = False  # used by VJP rules; not re-exported as rg.<name>
    doc: str = ""
    grad_note: str = ""  # the gradient's convention at kinks, steps and poles, for docs/ops.md
    # -- facts for the compiler's passes (see above); every default is the safe one ----------------
    elementwise: bool = False
    fresh: Union[bool, Callable[[int, dict], bool]] = False
    recomputable: bool = False
    inplace_slot: Optional[int] = None
    overwrites: Optional[Callable[[dict], Optional[int]]] = None
    view: bool = False
    random: bool = False
    complex_ok: bool = False
    batch: Optional[batch_rules.BatchRule] = None

    def batch_kind(self, kinds: Sequence[Optional[str]], avals: Sequence[Aval], attrs: dict) -> Optional[str]:
        """The kind (ir/batch.py) of this op's result from its operands' kinds (at least one not None)."""
        rule = self.batch
        if rule is None:
            if not self.elementwise or self.random:
                return None
            rule = batch_rules.rowwise
        return rule(kinds, avals, attrs)

    def returns_fresh(self, n_operands: int, attrs: dict) -> bool:
        """Whether a node of this op with ``n_operands`` operands and ``attrs`` makes a new array."""
        return bool(self.fresh(n_operands, attrs) if callable(self.fresh) else self.fresh)

    def overwritten_operand(self, attrs: dict) -> Optional[int]:
        """The operand a node of this op with ``attrs`` may be computed over (``overwrites``), or None."""
        return None if self.overwrites is None else self.overwrites(attrs)

    def __post_init__(self) -> None:
        if self.vjp_all is not None and self.vjp is None:  # the per-operand rule others call, from the one rule
            every = self.vjp_all
            self.vjp = lambda g, out, *xs, index, **attrs: every(g, out, *xs, **attrs)[index]

    def vjp_rule(self, index: int) -> Optional[VjpRule]:
        """The VJP rule for operand ``index``, or None when the op passes no gradient to it."""
        if self.vjp is None:
            return None
        if callable(self.vjp):  # variadic: one rule for every operand
            rule = self.vjp
            return lambda g, out, *xs, **attrs: rule(g, out, *xs, index=index, **attrs)
        return self.vjp[index]

    def check_arity(self, n: int) -> None:
        if self.arity is not None and n != self.arity:
            raise GraphError(f"op {self.name!r} takes {self.arity} operand(s), got {n}")
        if self.arity is None and n < 1:
            raise GraphError(f"op {self.name!r} needs at least one operand")

    def prepare(self, avals: Sequence[Aval], attrs: dict) -> dict:
        """Fill defaults, refuse unknown attributes and normalise (e.g. axis -> sorted tuple)."""
        unknown = set(attrs) - set(self.attrs)
        if unknown:
            known = ", ".join(self.attrs) or "none"
            raise GraphError(f"op {self.name!r} got unknown attribute(s) {sorted(unknown)}; its attributes are: {known}")
        full = {**self.attrs, **attrs}
        return self.normalize(avals, **full) if self.normalize else full


_REGISTRY: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    """Add an op; a second entry with the same name is refused."""
    if opdef.name in _REGISTRY or opdef.name in ("input", "constant"):
        raise GraphError(f"op {opdef.name!r} is already registered; pick another name")
    _REGISTRY[opdef.name] = opdef
    return opdef


def unregister(name: str) -> None:
    """Remove an op (for tests that register a deliberately wrong rule)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> OpDef:
    """The entry for ``name``; an unknown op is a GraphError listing close names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise GraphError(f"unknown op {name!r}{hint} (an op made with rg.custom_vjp exists only in a process "
                         "that has run the code defining it: a graph file never carries code)") from None


def lookup(name: str) -> Optional[OpDef]:
    """The entry for ``name``, or None (no error, no copy: for callers probing many names)."""
    return _REGISTRY.get(name)


def all_ops() -> dict[str, OpDef]:
    """Every registered op, by name (a copy)."""
    return dict(_REGISTRY)
