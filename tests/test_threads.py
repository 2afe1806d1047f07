"""A function compiled without wrt, and ``step.value_and_grad``, keep no state between calls:
8 threads x 1 000 calls each, every result checked against a serial run."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import revgraph as rg
from revgraph import demos

THREADS, CALLS = 8, 1000


@pytest.fixture
def fast_switching():
    """Switch threads as often as possible, so any shared state in the call path would be hit."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(2e-5)
    yield
    sys.setswitchinterval(old)


def _feeds_per_thread():
    g, loss, wrt, feeds = demos.mlp()
    rng = np.random.default_rng(1)
    per_thread = []
    for t in range(THREADS):  # each thread its own batch size and values, so crossed results cannot pass
        n = t + 1
        per_thread.append({**feeds, "x": rng.normal(size=(n, 4)), "t": rng.integers(0, 3, size=n)})
    return g, loss, wrt, per_thread


def _hammer(call, per_thread, expected, check):
    errors, start = [], threading.Barrier(THREADS)

    def worker(t):
        try:
            start.wait()
            for _ in range(CALLS):
                check(call(per_thread[t]), expected[t])
        except BaseException as exc:  # reported below, with the thread
            errors.append((t, exc))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]


def test_compiled_function_is_safe_from_many_threads(fast_switching):
    g, loss, wrt, per_thread = _feeds_per_thread()
    f = rg.compile([loss, *rg.grad(loss, wrt)])
    expected = [f(**feeds) for feeds in per_thread]
    assert len({float(e[0]) for e in expected}) == THREADS

    def check(got, want):
        assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want)), (got, want)

    _hammer(lambda feeds: f(**feeds), per_thread, expected, check)


def test_value_and_grad_is_safe_from_many_threads(fast_switching):
    g, loss, wrt, per_thread = _feeds_per_thread()
    step = rg.compile(loss, wrt=wrt)
    expected = [step.value_and_grad(**feeds) for feeds in per_thread]
    # The stateful pair gives the same numbers when used serially (to the last bits: the fused program
    # value_and_grad runs shares the loss's log-probabilities with the softmax of its gradient).
    step.forward(**per_thread[3])
    for a, b in zip(step.backward(), expected[3][1]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)

    def check(got, want):
        assert got[0] == want[0] and all(np.array_equal(a, b) for a, b in zip(got[1], want[1])), (got, want)

    _hammer(lambda feeds: step.value_and_grad(**feeds), per_thread, expected, check)
