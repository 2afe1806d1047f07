"""The objects ``rg.compile`` returns. They check feeds, call the backend's
generated functions, and turn a failure inside generated code into an error
that names the node it came from."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ..ir.errors import FeedError
from ..ir.graph import Graph, mimebundle
from ..ir.shapes import fmt
from .feeds import FeedSpec, convert
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
    def source(self) -> str:
        """The generated Python code, one function per program."""
        return self._lowered.source

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return mimebundle(self, include, exclude)  # Jupyter: the program's graphs as SVG

    def _repr_svg_(self) -> Optional[str]:
        return mimebundle(self).get("image/svg+xml")

    def _run(self, name: str, args: list) -> Any:
        try:
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
        operands = []
        for o in g.operands(nid):
            val = frame.f_locals.get(f"v{o}")
            got = f"shape {fmt(np.shape(val))}" if val is not None else "not computed"
            operands.append(f"{g.nx.nodes[o]['name']!r} ({got}, declared {fmt(g.nx.nodes[o]['shape'])})")
        return FeedError(f"{program}: computing {g.describe(nid)} from {', '.join(operands)} failed: {exc}. "
                         "The sizes fed for dimensions declared None disagree; feed matching sizes.", node=nid)


class CompiledFunction(_Compiled):
    """A compiled graph without gradients: call it with keyword feeds.

    >>> f = rg.compile([y, z]); f(x=1.0)      # -> [y_value, z_value]
    """

    def __init__(self, plan: Plan, lowered: Lowered, rebuild: Callable[[list], Any]) -> None:
        super().__init__(plan, lowered)
        self._spec = FeedSpec(plan.graph, plan.programs["call"].params)
        self._rebuild = rebuild
        self.last_feeds: Optional[dict] = None

    def __call__(self, **feeds: Any) -> Any:
        result = self._rebuild(list(self._run("call", self._spec.bind(feeds))))
        self.last_feeds = dict(feeds)  # what the last call was fed, for drawing its values
        return result

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
        self._spec = FeedSpec(plan.graph, plan.programs["forward"].params)
        out = G.nodes[opts["output"]]
        self._out_shape, self._out_dtype, self._out_name = out["shape"], out["dtype"], out["name"]
        self._single = opts["single"]
        self._residuals: Optional[tuple] = None
        self.last_feeds: Optional[dict] = None  # what the last forward() was fed, for drawing its values
        self.last_dout: Any = None  # the dout of the last backward()

    # -- the stateful pair ---------------------------------------------------------------
    def forward(self, **feeds: Any) -> Any:
        """Run the forward program; keep what backward needs. Returns the output value."""
        value, residuals = self._forward(feeds)
        self._residuals = residuals
        self.last_feeds, self.last_dout = dict(feeds), None
        return value

    def backward(self, dout: Any = None) -> Any:
        """Run the adjoint program for the last forward; returns gradients in wrt order."""
        if self._residuals is None:
            raise RuntimeError("backward() needs the values of a forward pass: call step.forward(**feeds) first "
                               "(each forward allows one backward)")
        grads = self._backward(dout, self._residuals)
        self._residuals = None
        self.last_dout = np.ones((), self._out_dtype) if dout is None else dout
        return grads

    def value_and_grad(self, dout: Any = None, **feeds: Any) -> tuple[Any, Any]:
        """Forward and backward in one call, keeping no state: ``(value, grads)``."""
        value, residuals = self._forward(feeds)
        return value, self._backward(dout, residuals)

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
    def _forward(self, feeds: dict) -> tuple[Any, tuple]:
        out = self._run("forward", self._spec.bind(feeds))
        return out[0], tuple(out[1:])

    def _backward(self, dout: Any, residuals: tuple) -> Any:
        if dout is None:
            if self._out_shape != ():
                raise FeedError(f"output {self._out_name!r} has shape {fmt(self._out_shape)}: pass dout with that "
                                "shape to backward() (it defaults to 1.0 only for a scalar output)")
            dout = np.ones((), self._out_dtype)
        else:
            dout = convert(dout, "dout", self._out_shape, self._out_dtype)
        grads = list(self._run("backward", [dout, *residuals]))
        return grads[0] if self._single else grads


