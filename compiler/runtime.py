"""The objects ``rg.compile`` returns. They check feeds, call the backend's
generated functions, and turn a failure inside generated code into an error
that names the node it came from."""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, Callable, Optional

import numpy as np

from ..ir.errors import FeedError
from ..ir.graph import Graph, mimebundle
from ..ir.shapes import fmt
from .feeds import MISSING, FeedSpec
from .memory import report as memory_report
from .plan import Lowered, Plan


class _Compiled:
    def __init__(self, plan: Plan, lowered: Lowered) -> None:
        self.plan = plan
        self._lowered = lowered
        self._fns = lowered.functions

    @property
    def graph(self) -> Graph:
        """The graph the program was compiled from (with its adjoint nodes, for a step)."""
        return self.plan.graph

    @property
    def stats(self) -> dict:
        """What the compiler did: ``{"optimize": bool, "passes": [per-pass records]}``, each record
        naming the pass, how many rewrites it made (by kind) and the forward/adjoint node counts
        before and after it."""
        return self.plan.options.get("stats", {"optimize": False, "passes": []})

    def memory_plan(self) -> dict:
        """The memory plan: planned peak bytes per program, values written in place (``inplace``:
        into a dying operand; ``reused``: into the buffer of a value that died earlier), values freed
        early; for a step also the residuals kept (names, bytes) and those recomputed instead.

        >>> step.memory_plan()["residuals"]          # doctest: +SKIP
        ['x', 'tanh_1']
        """
        return memory_report(self.plan)

    @property
    def source(self) -> str:
        """The generated Python code, one function per program."""
        return self._lowered.source

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return mimebundle(self, include, exclude)  # Jupyter: the program's graphs as SVG

    def _repr_svg_(self) -> Optional[str]:
        return mimebundle(self).get("image/svg+xml")

    def _run(self, name: str, args: list) -> Any:
        try:
            if self.plan.programs[name].boxed:
                return self._fns[name](args)  # empties ``args``: values are freed at their last use
            return self._fns[name](*args)
        except (ValueError, IndexError, TypeError) as exc:
            raise self._explain(name, exc) from exc

    def _explain(self, program: str, exc: BaseException) -> BaseException:
        """Point a failure inside generated code at its node (sizes fed for None dims disagreeing, say)."""
        tb = exc.__traceback__
        frame_line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith("<revgraph"):
                frame_line = (tb.tb_frame, tb.tb_lineno)
            tb = tb.tb_next
        if frame_line is None:
            return exc
        frame, line = frame_line
        nid = self._lowered.line_map.get((program, line))
        if nid is None:
            return exc
        g = self.plan.graph
        operands, run_time_sized = [], False
        for o in g.operands(nid):
            val = frame.f_locals.get(f"v{o}")
            declared = g.nx.nodes[o]["shape"]
            run_time_sized |= None in declared
            got = f"shape {fmt(np.shape(val))}" if val is not None else "not computed"
            operands.append(f"{g.nx.nodes[o]['name']!r} ({got}, declared {fmt(declared)})")
        # Declared shapes were checked when the graph was built, so a shape clash here can only
        # come from sizes declared None; anything else (a label out of range, say) speaks for itself.
        shape_clash = run_time_sized and any(w in str(exc) for w in ("broadcast", "shape", "size", "align"))
        hint = " The sizes fed for dimensions declared None disagree; feed matching sizes." if shape_clash else ""
        return FeedError(f"{program}: computing {g.describe(nid)} from {', '.join(operands)} failed: {exc}.{hint}",
                         node=nid)


class CompiledFunction(_Compiled):
    """A compiled graph without gradients: call it with keyword feeds.

    >>> f = rg.compile([y, z]); f(x=1.0)      # -> [y_value, z_value]
    """

    def __init__(self, plan: Plan, lowered: Lowered, rebuild: Callable[[list], Any]) -> None:
        super().__init__(plan, lowered)
        self._spec = FeedSpec(plan.graph, plan.programs["call"].params, lowered.array_types)
        self._rebuild = rebuild
        self._call = self._spec.fast_caller(self._fns["call"])  # feeds -> checked call
        self.last_feeds: Optional[dict] = None

    def __call__(self, /, **feeds: Any) -> Any:  # self positional-only: an input may be named "self"
        result = self.call_with(feeds)
        self.last_feeds = dict(feeds)  # what the last call was fed, for drawing its values
        return result

    def call_with(self, feeds: dict) -> Any:
        """``f(**feeds)`` without repacking the keywords or remembering them (the per-call path of
        ``step.value_and_grad``)."""
        try:
            out = self._call(feeds)
        except FeedError:
            raise
        except (ValueError, IndexError, TypeError) as exc:
            raise self._explain("call", exc) from exc
        return self._rebuild(list(out))

    def __repr__(self) -> str:
        p = self.plan.programs["call"]
        return f"<revgraph.CompiledFunction of {self.graph.name!r}: {len(p.params)} input(s), {len(p.body)} op(s)>"


class CompiledStep(_Compiled):
    """A forward/backward program.

    ``forward(**feeds)`` computes the output and keeps the residuals (the forward
    values the backward program reads) -- one forward's residuals at a time;
    ``backward(dout=1.0)`` returns the gradients in ``wrt`` order and releases them.
    So the stateful pair is for one caller at a time: a second ``forward`` replaces
    the first one's residuals. ``value_and_grad(**feeds, dout=...)`` is the stateless
    one-shot form, safe to call from many threads at once (as is a function compiled
    without ``wrt``: its results depend only on its feeds).

    >>> value, grads = step.value_and_grad(x=xb, t=tb, W1=W1, b1=b1)
    """

    def __init__(self, plan: Plan, lowered: Lowered) -> None:
        super().__init__(plan, lowered)
        opts = plan.options
        G = plan.graph.nx
        self._spec = FeedSpec(plan.graph, plan.programs["forward"].params, lowered.array_types,
                              hidden=(opts["dout"],))  # the seed is backward's dout, never a feed
        out = G.nodes[opts["output"]]
        self._out_shape, self._out_dtype, self._out_name = out["shape"], out["dtype"], out["name"]
        self._single = opts["single"]
        # One forward's state: [residuals (the list the backward program empties) or None, what forward() was
        # fed (a dict, or the generated entry's tuple of values in parameter order) or None, the last dout
        # (True: the default 1)]. A list the generated entries share, so they keep it without attribute calls.
        self._state: list = [None, None, None]
        self._fused: Optional["CompiledFunction"] = None
        self._make_fused: Optional[Callable[[], "CompiledFunction"]] = None  # see enable_fused
        self._make_at_one: Optional[Callable[[], Optional[_Compiled]]] = None  # see enable_backward_at_one
        self._make_unoptimized: Optional[Callable[[], "CompiledStep"]] = None  # see unoptimized
        self._unoptimized: Optional["CompiledStep"] = None
        self._install_entries()

    def _install_entries(self) -> None:
        """``forward`` and ``backward`` as generated code (``FeedSpec.step_entries``): the feed check, the
        residual hand-over and the output packing happen there, once per call, not in these methods,
        which the entries fall back on for anything unusual."""
        if self._out_shape != ():
            return  # backward() then needs a dout: the methods convert and check it
        self._entry_namespace: dict = {}
        entries = self._spec.step_entries(
            self._fns["forward"], self._general_at_one(), self._state, self._forward_general,
            partial(CompiledStep.backward, self), partial(self._explain, "backward"), self._single)
        if entries is not None:
            forward, backward = entries
            self._entry_namespace = backward.__globals__  # where enable_backward_at_one installs its program
            forward.__doc__, backward.__doc__ = CompiledStep.forward.__doc__, CompiledStep.backward.__doc__
            self.forward, self.backward = forward, backward  # instance attributes shadow the methods

    def _general_at_one(self) -> Callable[[list], Any]:
        """``run(residuals)``: the general backward program with dout = 1 put in front of the residuals."""
        general, one = self._fns["backward"], np.ones((), self._out_dtype)

        def run(residuals: list) -> Any:
            residuals.insert(0, one)
            return general(residuals)

        return run

    def enable_backward_at_one(self, make: Callable[[], Optional[_Compiled]]) -> None:
        """Let ``backward()`` with dout left out run a backward program specialised to dout = 1, compiled by
        ``make`` on first use (None: keep the general one). Only where the generated entries are installed."""
        if "bfn" not in self._entry_namespace:
            return
        self._make_at_one = make
        self._entry_namespace["bfn"] = self._first_backward_at_one

    def _first_backward_at_one(self, residuals: list) -> Any:
        """The backward entry's program on its first call: compile the dout = 1 program, install it (and
        how to explain its failures) in the entry's namespace, and run it."""
        ns = self._entry_namespace
        made = self._make_at_one() if self._make_at_one is not None else None
        if made is None:
            ns["bfn"] = self._general_at_one()
        else:
            ns["bfn"], ns["explain"] = made._fns["backward"], partial(made._explain, "backward")
        return ns["bfn"](residuals)

    def _forward_general(self, extra: dict, values: tuple) -> Any:
        """The forward entry's way out: rebuild the keyword feeds and take the method's full path."""
        feeds = {n: v for (n, _, _), v in zip(self._spec.params, values) if v is not MISSING}
        feeds.update(extra)
        return CompiledStep.forward(self, **feeds)

    @property
    def last_feeds(self) -> Optional[dict]:
        """What the last ``forward()`` was fed (by input name), for drawing its values; None before."""
        fed = self._state[1]
        if isinstance(fed, tuple):
            return {n: v for (n, _, _), v in zip(self._spec.params, fed)}
        return fed

    @property
    def last_dout(self) -> Any:
        """The dout of the last ``backward()`` (None when none ran since the last forward)."""
        dout = self._state[2]
        return np.ones((), self._out_dtype) if dout is True else dout

    # -- the stateful pair ---------------------------------------------------------------
    def forward(self, /, **feeds: Any) -> Any:
        """Run the forward program; keep what backward needs. Returns the output value."""
        value, residuals = self._forward(feeds)
        self._state[:] = residuals, dict(feeds), None
        return value

    def backward(self, dout: Any = None) -> Any:
        """Run the adjoint program for the last forward; returns gradients in wrt order."""
        state = self._state
        if state[0] is None:
            raise RuntimeError("backward() needs the values of a forward pass: call step.forward(**feeds) first "
                               "(each forward allows one backward)")
        grads = self._backward(dout, state[0])  # empties the residual list as the backward runs
        state[0] = None
        state[2] = True if dout is None else dout
        return grads

    def value_and_grad(self, dout: Any = None, /, **feeds: Any) -> tuple[Any, Any]:
        """Forward and backward in one call, keeping no state: ``(value, grads)``.

        The seed goes first, positionally (``value_and_grad(seed, x=...)``), so that every keyword is free
        for the inputs, whatever they are named; ``dout=`` as a keyword is the seed too unless the graph
        has an input named ``dout`` (then it feeds that input).

        With ``dout`` left at 1 (a scalar output) this runs one fused program, compiled on first
        use, in which the seed is the constant 1 (so no work is spent multiplying by it) and a
        softmax_cross_entropy shares its log-probabilities with its gradient's softmax (so results
        may differ from ``forward`` + ``backward`` in the last bits)."""
        dout, feeds = self._seed_and_feeds(dout, feeds)
        if dout is None and self._make_fused is not None:
            return self._fused_function().call_with(feeds)
        value, residuals = self._forward(feeds)
        return value, self._backward(dout, residuals)

    def unoptimized(self) -> "CompiledStep":
        """The same step compiled with ``optimize=False`` (compiled on first use, then kept): its adjoint
        graph is the one the adjoint pass emitted, before simplification -- what pictures of the
        textbook's backward pass draw. A step compiled unoptimized returns itself.

        >>> rg.to_dot(step, "adjoint", simplified=False)    # draws step.unoptimized()
        """
        if self._make_unoptimized is None:
            return self
        if self._unoptimized is None:
            self._unoptimized = self._make_unoptimized()
        return self._unoptimized

    def _seed_and_feeds(self, dout: Any, feeds: dict) -> tuple[Any, dict]:
        """``dout=`` given as a keyword is the seed, unless an input of the graph is named so."""
        if "dout" in feeds and "dout" not in self._spec.known:
            if dout is not None:
                raise FeedError("value_and_grad got the seed twice (positionally and as dout=); pass it once")
            feeds = dict(feeds)
            dout = feeds.pop("dout")
        return dout, feeds

    def enable_fused(self, make: Callable[[], "CompiledFunction"]) -> None:
        """Let ``value_and_grad`` (with dout left at 1) run one fused program, compiled by ``make`` on first use.

        Per-call overhead matters for small graphs: ``step.value_and_grad`` becomes a generated
        function taking the inputs as keyword parameters, checking them with straight-line code and
        calling the fused program directly. Anything unusual goes through the method itself."""
        self._make_fused = make
        results = 1 + len(self.plan.options["wrt"])
        entry = self._spec.keyword_entry("value_and_grad", self._value_and_grad_general, results, self._single)
        if entry is not None:
            entry.fn_namespace["fn"] = partial(self._first_fused_call, entry.fn_namespace)
            entry.__doc__ = CompiledStep.value_and_grad.__doc__
            entry.__signature__ = _VALUE_AND_GRAD_SIGNATURE
            self.value_and_grad = entry  # the instance attribute shadows the method

    def _first_fused_call(self, namespace: dict, *values: Any) -> tuple:
        """The fast entry's program on its first call: compile the fused program, make it the
        entry's ``fn`` (in its ``namespace``; taking the step's inputs in order), and run it.
        Threads racing here may each compile an equivalent program; whichever is installed serves."""
        fused = self._fused_function()
        names = [n for n, _, _ in self._spec.params]
        if [n for n, _, _ in fused._spec.params] == names:
            fn = fused._fns["call"]
        else:  # the fused program reads other inputs: bind them by name (rare, so not generated)
            call = fused._call
            fn = lambda *vals: call(dict(zip(names, vals)))  # noqa: E731
        namespace["fn"] = fn
        return fn(*values)

    def _fused_function(self) -> "CompiledFunction":
        fused = self._fused
        if fused is None:
            fused = self._fused = self._make_fused()
        return fused

    def _value_and_grad_general(self, dout: Any, extra: dict, values: tuple) -> tuple[Any, Any]:
        """The fast entry's way out: rebuild the keyword feeds and take the method's full path."""
        feeds = {n: v for (n, _, _), v in zip(self._spec.params, values) if v is not MISSING}
        feeds.update(extra)
        return type(self).value_and_grad(self, dout, **feeds)  # the class's method (a backend's subclass may refine it)

    # -- views ----------------------------------------------------------------------------
    @property
    def forward_graph(self) -> Graph:
        """The forward half: what the forward program computes."""
        p = self.plan.programs["forward"]
        return self.graph.view(p.params + p.body + self.plan.constants_of("forward"), f"{self.graph.name} (forward)")

    @property
    def adjoint_graph(self) -> Graph:
        """The adjoint half: the seed, the residuals it reads and the nodes it computes."""
        p = self.plan.programs["backward"]
        return self.graph.view(p.params + p.body + self.plan.constants_of("backward"), f"{self.graph.name} (adjoint)")

    @property
    def residuals(self) -> list[str]:
        """Names of the forward values kept for the backward program."""
        G = self.graph.nx
        return [G.nodes[n]["name"] for n in self.plan.options["residuals"]]

    def __repr__(self) -> str:
        f, b = self.plan.programs["forward"], self.plan.programs["backward"]
        return (f"<revgraph.CompiledStep of {self.graph.name!r}: forward {len(f.body)} op(s), "
                f"backward {len(b.body)} op(s), {len(self.plan.options['residuals'])} residual(s)>")

    # -- internals --------------------------------------------------------------------------
    def _forward(self, feeds: dict) -> tuple[Any, list]:
        out = list(self._run("forward", self._spec.bind(feeds)))
        value = out.pop(0)
        return value, out  # the residuals, in a list the backward will empty

    def _dout(self, dout: Any) -> Any:
        """The seed checked and converted (1 when left out, for a scalar output only)."""
        if dout is None:
            if self._out_shape != ():
                raise FeedError(f"output {self._out_name!r} has shape {fmt(self._out_shape)}: pass dout with that "
                                "shape to backward() (it defaults to 1.0 only for a scalar output)")
            return np.ones((), self._out_dtype)
        return self._spec.convert(dout, "dout", self._out_shape, self._out_dtype)

    def _backward(self, dout: Any, residuals: list) -> Any:
        args = [self._dout(dout), *residuals]
        residuals.clear()  # hand the references over: the backward program frees each at its last use
        grads = list(self._run("backward", args))
        return grads[0] if self._single else grads


# What ``inspect.signature(step.value_and_grad)`` shows for the generated entry: the method's, without self.
_method_signature = inspect.signature(CompiledStep.value_and_grad)
_VALUE_AND_GRAD_SIGNATURE = _method_signature.replace(parameters=list(_method_signature.parameters.values())[1:])
