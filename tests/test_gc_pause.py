"""Compiling leaves the cyclic collector as it found it, and a dropped program is freed by the
ordinary young-generation collections (compiler/pipeline.py, ir/gcpause.py), its source text too."""

import gc
import linecache
import weakref

import revgraph as rg


def _compile_chain(n=300):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    h = x
    for _ in range(n):
        h = rg.tanh(h) * 0.5
    return rg.compile(rg.sum(h), wrt=[x])


def test_a_disabled_collector_stays_disabled_and_an_enabled_one_enabled():
    assert gc.isenabled()
    _compile_chain(20)
    assert gc.isenabled()
    gc.disable()
    try:
        _compile_chain(20)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_programs_dropped_in_a_compile_loop_do_not_pile_up():
    """No full collection is asked for: the collector's own young and middle collections must free them."""
    plans = []
    for _ in range(40):
        step = _compile_chain(100)
        plans.append(weakref.ref(step.plan))
    alive = sum(p() is not None for p in plans[:-1])
    assert alive < 20, f"{alive} of 39 dropped programs still alive: they wait for a full collection"


def test_a_dropped_program_takes_its_source_text_along():
    before = set(linecache.cache)
    step = _compile_chain()
    files = [f for f in linecache.cache if f.startswith("<revgraph ") and f not in before]
    assert files  # this step's programs
    del step
    gc.collect()
    assert not [f for f in files if f in linecache.cache], "the source of a dropped program stays in linecache"
