"""The error types users see. Both are ValueError subclasses so callers that
already catch ValueError keep working; the message always names the node or
input, the shapes/dtypes involved and what to do."""

from __future__ import annotations

from typing import Any


class GraphError(ValueError):
    """A mistake in a graph: declaration, differentiation, load or compile time.

    ``err.node`` (when set) is the offending node's id, so the graph can be
    drawn with it highlighted.
    """

    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.node = node


class FeedError(ValueError):
    """A bad value fed to a compiled program at run time (missing, unknown,
    wrong shape or dtype, non-numeric)."""

    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.node = node


class GradcheckError(AssertionError):
    """Raised by ``rg.gradcheck`` when analytic and numeric gradients disagree."""

    def __init__(self, message: str, node: Any = None, report: Any = None):
        super().__init__(message)
        self.node = node
        self.report = report


class ShapeRuleError(Exception):
    """Raised by shape rules (and the dtype promotion they call); ``ir.apply.declare`` turns it into
    a GraphError naming the node and its operands. Defined here so ``ir/dtypes.py`` can raise it."""

    def __init__(self, detail: str, fix: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
