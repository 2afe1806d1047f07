"""Pausing the cyclic garbage collector while building large graphs (compile, load)."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic collector around work that makes millions of small objects, none of
    them garbage in cycles (compiling or loading a graph of 10^5 nodes): the collector would rescan
    them all again and again (about a sixth of compile time). Reference counting still frees
    everything; the collector resumes afterwards.

    On resuming, the collector would first scan everything made meanwhile as young objects (half
    a second for 2 million objects) only to find them alive and promote them. They are the
    new graph's long-lived objects, so they are promoted at once: ``gc.freeze()`` then
    ``gc.unfreeze()`` moves every tracked object to the oldest generation without a scan (skipped
    when the process keeps objects frozen itself, e.g. a server before fork)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
