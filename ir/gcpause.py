"""Pausing the cyclic garbage collector while building large graphs (compile, load)."""

from __future__ import annotations

import contextlib
import gc
import threading
from gc import collect, freeze, get_count, get_freeze_count, unfreeze
from typing import Iterator

# The collector's switch is process-wide, so pauses are counted process-wide: the first pauser turns it
# off (remembering whether it was on), the last one to leave turns it back on -- only if it was on.
_lock = threading.Lock()
_pausers = 0
_resume = False

# A pause that leaves at least this many new objects alive promotes them, unscanned, to the oldest
# generation (see ``cyclic_gc_paused``). Below it the young collection that follows is cheap anyway.
PROMOTE_AT = 100_000
_promoted = 0  # objects promoted since the last full collection a pause asked for
_old = 0  # tracked objects after that collection (or before the first promotion)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic collector around work that makes millions of small objects, none of
    them garbage in cycles (compiling or loading a graph of 10^5 nodes): the collector would rescan
    them all again and again (about a sixth of compile time). Reference counting still frees
    everything; the collector resumes afterwards.

    A pause that leaves ``PROMOTE_AT`` or more new objects alive (a compiled program of 10^4 layers
    holds a million) promotes them straight to the oldest generation (``gc.freeze()`` then
    ``gc.unfreeze()``: two list splices), sparing the young and middle collections that would
    otherwise scan every one of them right after the pause (0.3 s at 10^4 layers). Programs dropped
    later wait in that generation for a full collection, so the next big pause starts with one when
    what was promoted since exceeds a quarter of what the last one left (CPython's own rule for full
    collections): a loop compiling big programs holds at most about one dropped program. Nothing is
    promoted while the user holds objects frozen (``gc.freeze()``: ours would unfreeze theirs).

    Safe under threads and nesting: the collector stays off while any thread is inside a pause and is
    switched back on when the last one leaves, and only if it was on when the first one entered (a
    collector the user disabled stays disabled).

    >>> with cyclic_gc_paused():
    ...     graph = loads(text)
    """
    global _pausers, _resume
    with _lock:
        if _pausers == 0:
            _resume = gc.isenabled()
            gc.disable()
            if _resume:
                _collect_promoted()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _resume:
                _promote_young()
                gc.enable()


def _collect_promoted() -> None:
    """One full collection when promoted objects (dropped programs among them) have piled up."""
    global _promoted, _old
    if _promoted and _promoted > _old // 4:
        collect()
        _promoted, _old = 0, _tracked()


def _promote_young() -> None:
    """Move what the pause left in the young generation to the oldest one, unscanned (if it is big)."""
    global _promoted, _old
    young = get_count()[0]  # (tracked objects made minus freed since the last young collection)
    if young < PROMOTE_AT or get_freeze_count():
        return
    freeze()
    if not _promoted:
        _old = max(get_freeze_count() - young, 0)
    unfreeze()
    _promoted += young


def _tracked() -> int:
    """How many objects the collector tracks (counted by the freeze splice: no list of them is made)."""
    freeze()
    n = get_freeze_count()
    unfreeze()
    return n
