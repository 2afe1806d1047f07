"""The NumPy backend: generated straight-line Python over NumPy kernels."""

from ...compiler.pipeline import register_backend
from ...ir.apply import set_eager_evaluator
from .codegen import lower
from .kernels import evaluate, expression, kernel, writes_into

register_backend("numpy", lower, writes_into=writes_into)
set_eager_evaluator(evaluate)

__all__ = ["lower", "evaluate", "expression", "kernel"]
