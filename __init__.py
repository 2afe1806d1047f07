"""revgraph: declare a static graph, emit its adjoint graph, run it on NumPy, draw both.

>>> import revgraph as rg
>>> g = rg.Graph("apple")
>>> apple, num, tax = g.input("apple"), g.input("apple_num"), g.input("tax")
>>> step = rg.compile(apple * num * tax, wrt=[apple, num, tax])
>>> step.forward(apple=100, apple_num=2, tax=1.1)
>>> step.backward()          # [2.2, 110.0, 200.0]
"""

from .ir import FeedError, GradcheckError, Graph, GraphError, Tensor, trace
from .ir.serialize import load
from .ir.ops import *  # noqa: F401,F403  (the public op functions)
from .ir.ops import PUBLIC as _OPS
from .compiler import compile, grad
from .compiler.gradcheck import GradcheckReport, gradcheck
from . import backends  # noqa: F401  (registers the numpy backend)
from .backends.graphviz import render, to_dot
from .backends.html import explain
from . import dynamic  # noqa: F401  (define-by-run Variables: `from revgraph import dynamic as dy`)
from .compare import ComparisonReport, compare
globals().pop("nn", None)  # the op star import brings ir.ops' module of that name; rg.nn is the layers package
from . import nn, optim  # noqa: E402,F401  (layers and optimizers: rg.nn, rg.optim)
from .transforms import hessian, hvp, jacobian
from .ir.custom import custom_vjp
from .ir.ops import linalg  # noqa: F401  (rg.linalg.inv, ...; rg.trace stays the function tracer)
from .ir.ops import fft  # noqa: F401  (rg.fft.fft, ...: NumPy's numpy.fft)

from .backends.numpy.kernels_conv import seed  # noqa: E402  (dropout's masks: rg.seed(n) makes them reproducible)

__version__ = "0.1.0"

__all__ = ["Graph", "Tensor", "GraphError", "FeedError", "GradcheckError", "compile", "grad", "trace", "gradcheck",
           "GradcheckReport", *_OPS]
__all__ += ["to_dot", "render", "explain"]
__all__ += ["load"]
__all__ += ["compare", "ComparisonReport"]
__all__ += ["seed"]
__all__ += ["jacobian", "hessian", "hvp", "linalg", "custom_vjp", "fft"]
