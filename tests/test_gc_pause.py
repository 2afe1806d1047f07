"""rg.compile pauses the cyclic collector and leaves it as it found it (compiler/pipeline._cyclic_gc_paused)."""

import gc

import revgraph as rg


def _compile_chain(n=300):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    h = x
    for _ in range(n):
        h = rg.tanh(h) * 0.5
    return rg.compile(rg.sum(h), wrt=[x])


def test_collector_is_on_again_with_the_compiles_objects_promoted_not_left_young():
    assert gc.isenabled()
    step = _compile_chain()
    assert gc.isenabled()
    node_data = [d for d in step.graph.nx._node.values() if gc.is_tracked(d)]
    assert len(node_data) > 300
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    # Without the promotion they would still be young (generation 0), awaiting a scan that finds them alive.
    assert all(id(d) in oldest for d in node_data)


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        _compile_chain(20)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_the_process_froze_stay_frozen():
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        _compile_chain(20)
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled()
    finally:
        gc.unfreeze()
