"""What a program IS: the Graph, Tensor handles, the op registry and the ops.
Knows nothing of the compiler or of any backend."""

from .errors import FeedError, GradcheckError, GraphError
from .graph import Graph
from .tensor import Tensor
from .registry import Aval, OpDef, all_ops, get, register, unregister
from .apply import apply, set_eager_evaluator
from . import ops
from .trace import trace

__all__ = ["FeedError", "GradcheckError", "GraphError", "Graph", "Tensor", "Aval", "OpDef", "all_ops", "get",
           "register", "unregister", "apply", "set_eager_evaluator", "ops", "trace"]
