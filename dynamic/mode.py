"""Whether the dynamic engine records the ops it runs (``dy.no_grad()`` turns it off).

The switch is per thread and is only ever changed by the context manager, which
restores the previous setting on the way out -- also when the block raises.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class _Mode(threading.local):
    recording = True


MODE = _Mode()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Run ops without recording them: results have no creator and cannot be differentiated.

    >>> with dy.no_grad():
    ...     y = x * 2.0          # y.creator is None
    """
    saved = MODE.recording
    MODE.recording = False
    try:
        yield
    finally:
        MODE.recording = saved


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Record ops again inside a ``no_grad`` block (``backward(create_graph=True)`` uses it)."""
    saved = MODE.recording
    MODE.recording = True
    try:
        yield
    finally:
        MODE.recording = saved


def is_recording() -> bool:
    """True when ops applied now are recorded for backward."""
    return MODE.recording
