"""The hostile-input and fault campaign of issue 11, re-runnable: every case in a forked child under a
10 s limit (its CPU time, see hostile.run_bounded), counted by outcome.

    python tests/campaign.py                  # the full campaign (about 3 000 cases; 15-30 min on 2 busy cores)
    python tests/campaign.py --size smoke     # a few cases of each kind (tests/test_campaign.py runs this)
    python tests/campaign.py --only files,feeds --seed 3 --json out.json

Kinds of case: hostile and damaged graph files (the load fuzzers' strategies, the every-op seed's damaged
copies, duplicates, big integers, impossible shapes), weak Python numbers at their extremes, odd attribute
values on every op, save paths (FIFO, device, directory, links, bad names), bad feeds, threaded calls, and
random graphs whose feeds must stay bit-identical. What the issue's acceptance counts, all zero when done:

- escapes: an exception other than GraphError, FeedError or check_finite's FloatingPointError (or a rule
  accepting what its kernel refuses, a save that replaced a non-regular file, a threaded call giving
  another result than a serial one);
- hangs: a case over the limit;
- feeds modified: a feed array not bit-identical after the call.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import stat
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: the test helpers beside it

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import revgraph as rg  # noqa: E402
import hostile  # noqa: E402

LIMIT = 10.0
SIZES = {  # cases per kind
    "smoke": {"files": 12, "seed_damage": 0, "weak": 8, "attrs": 1, "attr_ops": 4, "feeds": 10, "threads": 1,
              "untouched": 3},
    "full": {"files": 900, "seed_damage": 70, "weak": 1200, "attrs": 3, "attr_ops": None, "feeds": 700,
             "threads": 4, "untouched": 300},
}


class Tally:
    """Counts per kind of case: cases, escapes, hangs, feeds modified; the first few failures kept."""

    def __init__(self) -> None:
        self.rows: dict[str, Counter] = {}
        self.failures: list[str] = []

    def add(self, kind: str, outcome: str, detail: str = "") -> None:
        row = self.rows.setdefault(kind, Counter())
        row["cases"] += 1
        if outcome != "ok":
            row[outcome] += 1
            if len(self.failures) < 30:
                self.failures.append(f"[{kind}] {outcome}: {detail[:1500]}")

    def totals(self) -> Counter:
        return sum(self.rows.values(), Counter())

    def table(self) -> str:
        cols = ["cases", "escapes", "hangs", "feeds_modified"]
        lines = [f"{'kind':12s}" + "".join(f"{c:>16s}" for c in cols)]
        for kind, row in [*self.rows.items(), ("total", self.totals())]:
            lines.append(f"{kind:12s}" + "".join(f"{row[c]:16d}" for c in cols))
        return "\n".join(lines)


def bounded(tally: Tally, kind: str, fn: Callable, *args: Any) -> None:
    """Run one case in a child; an allowed error or a normal end is fine, anything else is counted."""
    outcome = hostile.run_bounded(_quiet, fn, *args, timeout=LIMIT)
    if outcome[0] == "hang":
        tally.add(kind, "hangs", f"{fn.__name__}{_brief(args)}")
    elif outcome[0] == "raised" and not outcome[3]:
        verdict = "feeds_modified" if "modified the feed" in outcome[2] else "escapes"
        tally.add(kind, verdict, f"{outcome[1]}: {outcome[2]}\n{outcome[4]}")
    else:
        tally.add(kind, "ok")


def _quiet(fn: Callable, *args: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy's own warnings are documented behaviour, not under test here
        return fn(*args)


def _brief(args: tuple) -> str:
    return repr(args)[:200]


def examples(strategy: Any, n: int, seed: int) -> list:
    """``n`` examples drawn from a hypothesis strategy (no shrinking: they are cases, not failures)."""
    out: list = []

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    hypothesis_seed(seed)(collect)()
    return out[:n]


# -- graph files ----------------------------------------------------------------------------------------------
def run_files(tally: Tally, n: int, n_seed: int, seed: int) -> None:
    import test_fuzz_load as F  # the load fuzzers' strategies

    per = max(1, n // 5)
    texts = [json.dumps(d).encode() for d in examples(F.mutated_docs(), per, seed)]
    texts += [json.dumps(d).encode() for d in examples(F.structural_damage(), per, seed + 1)]
    texts += examples(F.hostile_files(), per, seed + 2)
    texts += [hostile.duplicated_keys(80_000), hostile.duplicated_edges(40_000), hostile.repeated_edge(100_000),
              hostile.many_operands(20_000), hostile.empty_huge_constant(), hostile.huge_concatenate(),
              hostile.terabyte_static_shapes(), hostile.padded_to(hostile.duplicated_keys(100), 10 << 20)]
    rng = np.random.default_rng(seed)
    for text in examples(st.sampled_from(F.SEED_TEXTS), per, seed + 3):  # damaged bytes
        at = int(rng.integers(0, len(text)))
        texts.append(text[:at] + bytes([int(rng.integers(0, 256))]) + text[at + 1:])
    for text in texts[:n + 8]:
        bounded(tally, "files", hostile.fuzz_pipeline, text)
    if not n_seed:
        return
    every_op = hostile.every_op_seed()
    bounded(tally, "seed_damage", hostile.fuzz_pipeline, every_op)
    for i in range(n_seed):
        kind = hostile.DAMAGES[i % len(hostile.DAMAGES)]
        bounded(tally, "seed_damage", hostile.fuzz_pipeline, hostile.damaged(every_op, kind, int(rng.integers(1 << 30))))


# -- weak Python numbers -------------------------------------------------------------------------------------
def run_weak(tally: Tally, n: int, seed: int) -> None:
    import test_fuzz_load as F

    numbers = F.EXTREME_INTS + F.EXTREME_FLOATS + [True, False]
    pairs = list(itertools.product(["add", "sub", "mul", "div", "pow", "maximum", "minimum", "less", "equal"],
                                   numbers, numbers))
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(pairs))[:n]:
        bounded(tally, "weak", _weak_case, *pairs[i])


def _weak_case(op: str, a: Any, b: Any) -> None:
    try:
        data = hostile.weak_pair_file(op, a, b)
    except rg.GraphError:  # refused where it is declared (e.g. no rule for these operand types)
        return
    for options in ({}, {"optimize": False, "check_finite": True}):
        try:
            hostile.load_and_run(data, **options)
        except hostile.ALLOWED:
            pass


# -- attribute values and operand dtypes: what a rule accepts, its kernel computes --------------------------------
def run_attrs(tally: Tally, per_op: int, n_ops: Any = None) -> None:
    import test_rule_search as R

    ops = sorted(R.EXAMPLES.items())
    step = 1 if n_ops is None else max(1, len(ops) // n_ops)
    for op, exs in ops[::step][:n_ops]:
        names = list(rg.ir.registry.get(op).attrs) or ["not_an_attribute"]
        cases = [(avals, {**attrs, name: value})
                 for (avals, attrs), name, value in itertools.product(exs[:per_op], names, R.ODD)]
        outcome = hostile.run_bounded(_quiet, _attr_cases, op, cases, timeout=LIMIT * 6)  # ~140 cases a child
        if outcome[0] == "ok":
            for _ in cases:
                tally.add("attrs", "ok")
        elif outcome[0] == "raised" and outcome[1] == "RuleGap":
            bad = int(outcome[2].split(" ", 1)[0])
            for i in range(len(cases)):
                tally.add("attrs", "escapes" if i < bad else "ok", outcome[2])
        else:
            for _ in cases:
                tally.add("attrs", "hangs" if outcome[0] == "hang" else "escapes", f"{op}: {outcome[:3]}")


class RuleGap(Exception):
    """A rule accepted what its kernel refused (or declared another shape or dtype than it computes)."""


def _attr_cases(op: str, cases: list) -> None:
    import test_rule_search as R

    failures: list = []
    rng = np.random.default_rng(0)
    for avals, attrs in cases:
        R._check(op, avals, attrs, failures, rng)
    if failures:
        raise RuleGap(f"{len(failures)} of {len(cases)} cases: " + "; ".join(failures[:3]))


# -- save paths ---------------------------------------------------------------------------------------------------
def run_saves(tally: Tally) -> None:
    with tempfile.TemporaryDirectory(prefix="rg-campaign-") as tmp:
        root = Path(tmp)
        (root / "file.json").write_text("{}")
        os.symlink(root / "file.json", root / "link.json")
        os.symlink(root / "absent.json", root / "dangling.json")
        os.mkfifo(root / "fifo")
        (root / "dir").mkdir()
        paths: dict[str, Any] = {"regular": root / "file.json", "new": root / "new.json", "link": root / "link.json",
                                 "dangling": root / "dangling.json", "fifo": root / "fifo", "directory": root / "dir",
                                 "missing_folder": root / "no" / "g.json", "nul": str(root / "a\0b.json"), "empty": "",
                                 "int": 3, "none": None, "long_name": root / ("n" * 300), "under_a_file":
                                 root / "file.json" / "g.json", "dot": root / ".", "bytes": os.fsencode(root / "b.json")}
        if os.geteuid() == 0:  # a character device of our own (never a system path)
            os.mknod(root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
            paths["char_device"] = root / "null"
        for name, path in paths.items():
            before = _kind(path)
            bounded(tally, "saves", _save_case, path, before)


def _kind(path: Any) -> str:
    try:
        return stat.filemode(os.lstat(path).st_mode)[0] if isinstance(path, (str, bytes, os.PathLike)) else "-"
    except (OSError, ValueError):
        return "absent"


def _save_case(path: Any, before: str) -> None:
    g = rg.Graph("save")
    x = g.input("x")
    g.outputs = (x * 2.0).rename("y")
    try:
        g.save(path)
    except rg.GraphError:
        if before in "pcsbd" and _kind(path) != before:
            raise AssertionError(f"a refused save changed {path!r} from {before!r} to {_kind(path)!r}")
        return
    if before in "pcsbd":
        raise AssertionError(f"saving over {path!r} (file type {before!r}) was not refused")
    assert "y" in rg.load(path), "the saved file does not load"


# -- bad feeds ------------------------------------------------------------------------------------------------------
def run_feeds(tally: Tally, n: int, seed: int) -> None:
    import test_fuzz_feeds as F

    names = st.sampled_from(sorted(F.MLP_FEEDS) + ["nope", "", "self", "dout"])
    for entry, (name, value) in enumerate(examples(st.tuples(names, F.values), n, seed)):
        bounded(tally, "feeds", _feed_case, entry % 4, name, value)


def _feed_case(entry: int, name: str, value: Any) -> None:
    import test_fuzz_feeds as F

    feeds = {**F.MLP_FEEDS, name: value}
    before = {k: np.array(v, copy=True) for k, v in feeds.items() if isinstance(v, np.ndarray)}
    try:
        if entry == 0:
            F.STEP.value_and_grad(**feeds)
        elif entry == 1:
            F.STEP.forward(**feeds)
            F.STEP.backward()
        elif entry == 2:
            F.JOINT(**feeds, seed_dout=np.float64(1.0))
        else:
            F.F(x=value, w=np.ones(3, np.float32), n=2)
    except (rg.FeedError, rg.GraphError):
        pass
    for k, v in before.items():
        if not (feeds[k].dtype == v.dtype and np.array_equal(feeds[k], v, equal_nan=v.dtype.kind in "fc")):
            raise AssertionError(f"the call modified the feed {k!r}")


# -- threads --------------------------------------------------------------------------------------------------------
def run_threads(tally: Tally, rounds: int, calls: int = 300, threads: int = 8) -> None:
    for r in range(rounds):
        bounded(tally, "threads", _thread_round, calls, threads, r)
        # every call is a case (a failed round is counted once, above): f(...), value_and_grad, some loads
        tally.rows["threads"]["cases"] += threads * (2 * calls + (calls + 49) // 50) - 1


def _thread_round(calls: int, threads: int, r: int) -> None:
    import gc

    from revgraph import demos

    g, loss, wrt, feeds = demos.mlp()
    rng = np.random.default_rng(r)
    per = [{**feeds, "x": rng.normal(size=(t + 1, 4)), "t": rng.integers(0, 3, size=t + 1)} for t in range(threads)]
    f = rg.compile([loss, *rg.grad(loss, wrt)])
    step = rg.compile(loss, wrt=wrt)
    text = rg.ir.serialize.dumps(g)
    want_f = [f(**p) for p in per]
    want_s = [step.value_and_grad(**p) for p in per]
    errors: list = []
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(calls):
                got = f(**per[t])
                assert all(np.array_equal(a, b) for a, b in zip(got, want_f[t])), "f(...) crossed threads"
                v, grads = step.value_and_grad(**per[t])
                assert v == want_s[t][0] and all(np.array_equal(a, b) for a, b in zip(grads, want_s[t][1]))
                if i % 50 == 0:
                    rg.ir.serialize.loads(text)  # loads pause the collector: it must come back on
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    if errors:
        raise AssertionError(f"{len(errors)} threads failed: {errors[0]!r}")
    if not gc.isenabled():
        raise AssertionError("the cyclic collector was left off by threaded loads")


# -- random graphs: every feed bit-identical after every entry point --------------------------------------------------
def run_untouched(tally: Tally, n: int, seed: int) -> None:
    from randgraph import graph_specs, pattern_models

    for i, spec in enumerate(examples(graph_specs(), n // 2, seed)):
        bounded(tally, "untouched", _spec_case, spec, ["float64", "float32"][i % 2], bool(i % 3 == 0))
    for model in examples(pattern_models(), n - n // 2, seed + 1):
        bounded(tally, "untouched", _pattern_case, model)


def _spec_case(spec: Any, dtype: str, unknown_sizes: bool) -> int:
    from test_feeds_untouched import check_feeds_untouched

    spec = spec.astype(dtype) if dtype != "float64" else spec
    g, xs, out = spec.build(dtype=dtype, unknown_sizes=unknown_sizes)
    return check_feeds_untouched(out, xs, {k: np.asarray(v) for k, v in spec.feeds.items()})


def _pattern_case(model: tuple) -> int:
    from randgraph import PATTERN_FEEDS
    from test_feeds_untouched import check_feeds_untouched

    g, loss, inputs = model
    feeds = {k: np.array(v, dtype=np.float64) for k, v in PATTERN_FEEDS.items()}
    checks = check_feeds_untouched(loss, inputs, feeds)
    g.outputs = [loss]
    loaded = rg.ir.serialize.loads(rg.ir.serialize.dumps(g))
    return checks + check_feeds_untouched(loaded.outputs[0], loaded.inputs, feeds)


# -- the campaign ----------------------------------------------------------------------------------------------------
KINDS = ["saves", "threads", "feeds", "weak", "untouched", "attrs", "files"]  # the slowest last


def campaign(size: str = "full", seed: int = 0, only: Iterable[str] = KINDS, log: Any = None) -> Tally:
    n = SIZES[size]
    tally = Tally()
    runners = {"files": lambda: run_files(tally, n["files"], n["seed_damage"], seed),
               "weak": lambda: run_weak(tally, n["weak"], seed), "attrs": lambda: run_attrs(tally, n["attrs"], n["attr_ops"]),
               "saves": lambda: run_saves(tally), "feeds": lambda: run_feeds(tally, n["feeds"], seed),
               "threads": lambda: run_threads(tally, n["threads"]),
               "untouched": lambda: run_untouched(tally, n["untouched"], seed)}
    for kind in only:
        start = time.perf_counter()
        runners[kind]()
        if log:
            print(f"{kind}: {time.perf_counter() - start:.0f} s\n{tally.table()}", file=log, flush=True)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=",".join(KINDS), help=f"comma-separated kinds of {KINDS}")
    parser.add_argument("--json", help="write the counts and failures there")
    args = parser.parse_args(argv)
    tally = campaign(args.size, args.seed, args.only.split(","), log=sys.stderr)
    print(tally.table())
    for f in tally.failures:
        print(f)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": tally.rows, "failures": tally.failures}, indent=1))
    t = tally.totals()
    return 1 if t["escapes"] or t["hangs"] or t["feeds_modified"] else 0


if __name__ == "__main__":
    sys.exit(main())
