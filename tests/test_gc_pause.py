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


# -- threads (issue 11, item 3): the pause is counted process-wide --------------------------------------
def _hammer(path, rounds=30, threads=8):
    """``threads`` threads each loading ``rounds`` times (and compiling every tenth); the errors they met.
    Threads switch every microsecond meanwhile, so that they interleave inside the pause's bookkeeping."""
    import sys
    import threading

    errors = []
    start = threading.Barrier(threads)

    def work():
        try:
            start.wait()
            for i in range(rounds):
                g = rg.load(path)
                if i % 10 == 0:
                    rg.compile(g.outputs[0])
        except Exception as exc:  # noqa: BLE001  (reported by the test)
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


def _small_file(tmp_path):
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    g.outputs = [rg.sum(rg.tanh(x) * 2.0)]
    path = tmp_path / "small.json"
    g.save(path)
    return path


class _SlowSwitch:
    """The gc module as the pause sees it, except that reading a switched-off collector takes a
    millisecond (as it may when the thread is descheduled right then): wide enough a window for
    another thread's pause to end in between."""

    def __init__(self):
        import time

        self.sleep = time.sleep

    def isenabled(self):
        on = gc.isenabled()
        if not on:
            self.sleep(0.001)
        return on

    def enable(self):
        gc.enable()

    def disable(self):
        gc.disable()


def test_concurrent_loads_and_compiles_leave_the_collector_enabled(tmp_path, monkeypatch):
    from revgraph.ir import gcpause

    path = _small_file(tmp_path)
    assert gc.isenabled()
    assert _hammer(path, rounds=100) == []
    assert gc.isenabled(), "threads pausing the collector left it disabled"
    monkeypatch.setattr(gcpause, "gc", _SlowSwitch())
    for _ in range(3):
        assert _hammer(path) == []
        assert gc.isenabled(), "threads pausing the collector left it disabled"


def test_concurrent_pauses_keep_a_collector_the_user_disabled_disabled(tmp_path, monkeypatch):
    from revgraph.ir import gcpause

    path = _small_file(tmp_path)
    monkeypatch.setattr(gcpause, "gc", _SlowSwitch())
    gc.disable()
    try:
        assert _hammer(path, rounds=30) == []
        assert not gc.isenabled(), "a collector the user had disabled was switched on"
    finally:
        gc.enable()


def test_nested_pauses_resume_only_when_the_outermost_ends():
    from revgraph.ir.gcpause import cyclic_gc_paused

    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


# -- big compiles promote what they leave alive (ir/gcpause.py, PROMOTE_AT) ------------------------------
def test_a_big_compile_leaves_its_objects_in_the_oldest_generation(monkeypatch):
    """No young collection has to scan them after the pause: they are old when the compile returns."""
    from revgraph.ir import gcpause

    monkeypatch.setattr(gcpause, "PROMOTE_AT", 1000)
    gc.collect()
    step = _compile_chain(300)
    nodes = step.plan.graph.nx._node  # one of the many dicts the compile made
    assert any(o is nodes for o in gc.get_objects(generation=2))
    assert not any(o is nodes for o in gc.get_objects(generation=0) + gc.get_objects(generation=1))
    assert gc.isenabled()


def test_objects_the_user_froze_stay_frozen(monkeypatch):
    from revgraph.ir import gcpause

    monkeypatch.setattr(gcpause, "PROMOTE_AT", 1000)
    mine = [[]]  # tracked, and frozen below: in no generation the collector scans
    gc.freeze()
    try:
        _compile_chain(300)
        assert not any(o is mine for gen in range(3) for o in gc.get_objects(generation=gen)), \
            "compiling unfroze objects the user had frozen"
    finally:
        gc.unfreeze()


def test_programs_dropped_in_a_loop_of_big_compiles_do_not_pile_up():
    """Promoted programs wait for a full collection; the next big compile starts with one once they
    exceed a quarter of what the last left. Run in a fresh process, so the heap is small and known."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import gc, weakref
        import revgraph as rg
        from revgraph.ir import gcpause
        gcpause.PROMOTE_AT = 1000
        plans = []
        for _ in range(30):
            g = rg.Graph()
            x = g.input("x", shape=(3,))
            h = x
            for _ in range(300):
                h = rg.tanh(h) * 0.5
            step = rg.compile(rg.sum(h), wrt=[x])
            plans.append(weakref.ref(step.plan))
            del step, g, x, h
        print(sum(p() is not None for p in plans[:-1]), gcpause._promoted > 0)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    alive, promoted = out.stdout.split()
    assert promoted == "True"  # the compiles were big enough to be promoted
    assert int(alive) <= 5, f"{alive} of 29 dropped programs still alive"
