"""The objects ``rg.compile(..., backend="dask")`` returns: the numpy backend's, plus
``dask_graph(**feeds)`` (the task graph of one call) and a ``value_and_grad`` that computes the
forward and backward programs together when it cannot run the fused program."""

from __future__ import annotations

from typing import Any, Optional

from ...compiler.runtime import CompiledFunction, CompiledStep


class DaskFunction(CompiledFunction):
    """A compiled function on Dask: ``f(**feeds)`` computes every output in one ``dask.compute``.

    >>> f = rg.compile([y, z], backend="dask"); f(x=x_dask)      # -> [y_value, z_value]
    """

    def dask_graph(self, /, **feeds: Any) -> Any:
        """The dask task graph of ``f(**feeds)``, nothing computed: a ``dask.delayed`` object
        (``.dask`` is the graph; ``.visualize("tasks.png")`` or ``dask.visualize`` draws it).

        >>> f.dask_graph(x=x_dask).visualize("tasks.png")      # doctest: +SKIP
        """
        import dask

        values = self._fns["call"].build(self._spec.bind(feeds))
        return dask.delayed(list(values), traverse=True)

    def by_chunks(self, feeds: dict, wrt: list[int]) -> Optional[Any]:
        """The results computed chunk by chunk of the batch (backends/dask/chunks.py) when the first is a
        batch sum or mean of the fed dask arrays and the others its gradients with respect to ``wrt``
        (inputs that are not batched); None when the graph is not batch-separable on these feeds."""
        import dask

        from .chunks import ChunkedProgram

        chunked = self.__dict__.get("_chunked")
        if chunked is None:
            chunked = self._chunked = ChunkedProgram(self.plan, "call", wrt)
        args = self._spec.bind(feeds)
        kind = chunked.kind(args)
        if kind is None:
            return None
        total = chunked.run(args, kind)
        if not self.plan.options.get("backend_options", {}).get("lazy", False):
            (total,) = dask.compute(total)  # one vector back; the results are cut from it here
        return self._rebuild(chunked.split(total))


class DaskStep(CompiledStep):
    """A forward/backward program on Dask. ``value_and_grad(**feeds)`` computes the value and the
    gradients in one ``dask.compute`` -- for a loss that is a mean or a sum over the rows of the fed dask
    arrays, by running the numpy backend's fused program once per chunk and adding up (chunks.py); ``forward`` keeps the residuals persisted (on the workers,
    under a Client) for ``backward``, so for data larger than memory use ``value_and_grad``.

    >>> step = rg.compile(loss, wrt=[W1, b1], backend="dask")
    >>> value, (dW1, db1) = step.value_and_grad(x=x_chunked, t=t_chunked, W1=W1, b1=b1)
    """

    def value_and_grad(self, dout: Any = None, /, **feeds: Any) -> tuple[Any, Any]:
        dout, feeds = self._seed_and_feeds(dout, feeds)
        if dout is None and self._make_fused is not None:
            fused = self._fused_function()
            out = fused.by_chunks(feeds, self.plan.options["wrt"])  # a batch mean or sum: numpy per chunk
            return fused.call_with(feeds) if out is None else out
        value, grads = self._build(dout, feeds)
        finish = self._fns["backward"].finish
        results = finish((value, *grads))  # one compute: the forward work the gradients read runs once
        return results[0], results[1] if self._single else list(results[1:])

    value_and_grad.__doc__ = CompiledStep.value_and_grad.__doc__

    def dask_graph(self, dout: Any = None, /, **feeds: Any) -> Any:
        """The dask task graph of one forward and backward on ``feeds`` (the programs ``rg.to_dot(step)``
        draws), nothing computed: a ``dask.delayed`` of ``[value, *gradients]`` (``.dask`` is the graph;
        ``.visualize("tasks.png")`` or ``dask.visualize`` draws it).

        >>> step.dask_graph(x=x_chunked, t=t_chunked, W1=W1, b1=b1).visualize("tasks.png")   # doctest: +SKIP
        """
        import dask

        dout, feeds = self._seed_and_feeds(dout, feeds)
        value, grads = self._build(dout, feeds)
        return dask.delayed([value, *grads], traverse=True)

    def _build(self, dout: Any, feeds: dict) -> tuple[Any, list]:
        """The value and the gradients as dask arrays: the forward and backward programs' task graphs, joined."""
        value, *residuals = self._run_built("forward", self._spec.bind(feeds))
        args = [self._dout(dout), *residuals]
        residuals.clear()
        return value, list(self._run_built("backward", args))

    def _run_built(self, name: str, args: list) -> tuple:
        """Program ``name``'s results as dask arrays; a failure while building points at its node."""
        try:
            return self._fns[name].build(args)
        except (ValueError, IndexError, TypeError) as exc:
            raise self._explain(name, exc) from exc
