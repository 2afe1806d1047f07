"""What is done to a program: scheduling, the adjoint pass, the compile pipeline.
Knows no backend's kernels: backends register themselves."""

from .autodiff import grad
from .pipeline import compile, register_backend
from .schedule import schedule

__all__ = ["grad", "compile", "register_backend", "schedule"]
