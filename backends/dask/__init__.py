"""The Dask backend: the numpy backend's lowering with ``xp = dask.array``, so one compiled graph
runs on chunked arrays larger than memory and on a ``dask.distributed`` cluster.

>>> step = rg.compile(loss, wrt=[W1, b1], backend="dask")            # or lazy=True: dask arrays back
>>> value, grads = step.value_and_grad(x=da.from_array(x, chunks=10_000), t=t, W1=W1, b1=b1)

dask is imported on the first compile for this backend (``pip install 'revgraph[dask]'``).
"""


from ...compiler.pipeline import register_backend
from ...compiler.plan import Lowered, Plan
from ...ir.errors import GraphError
from .runtime import DaskFunction, DaskStep


def lower(plan: Plan) -> Lowered:
    """Lower ``plan`` for Dask (see backends/dask/lower.py)."""
    try:
        from .lower import lower as lower_for_dask
    except ImportError as exc:
        raise GraphError(f"backend 'dask' needs dask.array ({exc}); install it with pip install 'revgraph[dask]' "
                         "(or pip install 'dask[array]' distributed)") from None
    return lower_for_dask(plan)


register_backend("dask", lower, function_class=DaskFunction, step_class=DaskStep, options=("lazy",))

__all__ = ["DaskFunction", "DaskStep", "lower"]
