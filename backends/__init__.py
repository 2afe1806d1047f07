"""Where a program goes: ``numpy`` executes it, ``dask`` executes it on chunked or distributed
arrays (``graphviz`` draws it). Backends register themselves with the compiler when imported."""

from . import numpy  # noqa: F401
from . import dask  # noqa: F401  (imports dask itself only when a graph is compiled for it)
from . import graphviz  # noqa: F401  (registers the notebook drawer)
