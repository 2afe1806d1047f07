"""Where a program goes: ``numpy`` executes it (``graphviz`` draws it). Backends
register themselves with the compiler when imported."""

from . import numpy  # noqa: F401
from . import graphviz  # noqa: F401  (registers the notebook drawer)
