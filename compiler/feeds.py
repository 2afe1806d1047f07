"""Checking and converting the values fed to a compiled program, before any of
it runs: every needed input present, no unknown names, numeric values of the
declared shape, converted to the declared dtype."""

from __future__ import annotations

import difflib
from typing import Any, Callable, Optional

import numpy as np

from ..ir.dtypes import NUMERIC_KINDS
from ..ir.errors import FeedError
from ..ir.graph import Graph
from ..ir.shapes import fmt


class FeedSpec:
    """The inputs a program takes, and how to check one value for each."""

    def __init__(self, graph: Graph, params: list[int], array_types: tuple = (), hidden: tuple = ()) -> None:
        G = graph.nx
        self.graph_name = graph.name
        self.array_types = array_types  # the backend's own arrays, taken as they are (see convert_native)
        self.params = [(G.nodes[n]["name"], G.nodes[n]["shape"], G.nodes[n]["dtype"]) for n in params]
        # The inputs a caller may feed; ``hidden`` ones are not (a step's own seed input: backward's dout).
        self.known = {d["name"] for n, d in G.nodes(data=True) if d["op"] == "input" and n not in hidden}

    def bind(self, feeds: dict[str, Any]) -> list[Any]:
        """The fed values in parameter order, checked and converted (nothing runs if one is bad)."""
        if not feeds.keys() <= self.known:
            raise self._unknown([k for k in feeds if k not in self.known][0])
        args = []
        ndarray = np.ndarray
        for name, shape, dtype in self.params:
            try:
                value = feeds[name]
            except KeyError:
                raise FeedError(f"missing feed for input {name!r} (shape {fmt(shape)}, dtype {dtype}); "
                                f"pass {name}=<value> (or **{{{name!r}: value}})") from None
            # Fast path (per-call overhead matters for small graphs): an array of exactly the declared
            # dtype and static shape is taken as it is; anything else goes through the full check.
            if type(value) is ndarray and value.dtype is dtype and value.shape == shape:
                args.append(value)
            else:
                args.append(self.convert(value, name, shape, dtype))
        return args

    def _unknown(self, name: Any) -> FeedError:
        """The error for a feed ``name`` that is no input: the inputs there are, and the closest ones."""
        names = ", ".join(repr(n) for n in sorted(self.known)) or "none"
        close = difflib.get_close_matches(str(name), sorted(self.known), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        return FeedError(f"{name!r} is no input of graph {self.graph_name!r}{hint}; its inputs are: {names}")

    def convert(self, value: Any, name: str, shape: tuple, dtype: np.dtype) -> Any:
        """One value checked and converted: the backend's own arrays lazily, anything else to NumPy."""
        if self.array_types and isinstance(value, self.array_types):
            return convert_native(value, name, shape, dtype)
        return convert(value, name, shape, dtype)


    def fast_caller(self, fn: Any) -> Any:
        """``caller(feeds)``: ``fn(*self.bind(feeds))``, with the common case checked by generated
        straight-line code (each feed an ndarray of exactly the declared dtype and static shape, no
        other keys) and everything else sent through ``bind``, which converts or raises.
        Input names reach the code only as bound constants ``n0, n1, ...``, never as text."""
        ns: dict[str, Any] = {"__builtins__": {}, "fn": fn, "bind": self.bind, "ndarray": np.ndarray,
                              "KeyError": KeyError, "len": len}
        args, checks = [], []
        for i, (name, shape, dtype) in enumerate(self.params):
            ns[f"n{i}"], ns[f"d{i}"], ns[f"s{i}"] = name, dtype, shape
            args.append(f"a{i}")
            checks.append(_not_exact(f"a{i}", i, shape))
        lines = ["def caller(feeds):",
                 "    if len(feeds) != %d:" % len(self.params),
                 "        return fn(*bind(feeds))",
                 "    try:"]
        lines += [f"        a{i} = feeds[n{i}]" for i in range(len(self.params))] or ["        pass"]
        lines += ["    except KeyError:", "        return fn(*bind(feeds))"]
        if checks:
            lines += [f"    if {' or '.join(f'({c})' for c in checks)}:", "        return fn(*bind(feeds))"]
        lines.append(f"    return fn({', '.join(args)})")
        exec(compile("\n".join(lines) + "\n", "<revgraph feeds>", "exec"), ns)
        return ns["caller"]

    def keyword_entry(self, name: str, slow: Callable, results: int, single: bool) -> Optional[Callable]:
        """``entry(dout=None, **feeds) -> (value, grads)`` taking the inputs as keyword parameters, so
        a call binds them without building a dict (the per-call path of ``step.value_and_grad``).

        The common case -- ``dout`` left out, every input fed as an ndarray of exactly the declared
        dtype and static shape, nothing else -- calls ``fn(*inputs)`` (the caller installs ``fn`` in
        ``entry.fn_namespace`` and may replace it later, e.g. once a program is compiled) and returns
        ``(r0, [r1, ...])`` (``(r0, r1)`` when ``single``). Anything else, and an error raised
        inside ``fn``, goes to ``slow(dout, extra_feeds, inputs)`` (inputs not fed are ``MISSING``),
        which checks, converts, explains or raises. None when the input names cannot be parameters.

        The code is written with parameters ``p0, p1, ...``; the input names replace them only in
        the code object's variable names, so they never appear in generated text."""
        names = [n for n, _, _ in self.params]
        n = len(names)
        locals_ = {"dout", "extra", "exc", *(f"r{i}" for i in range(results))}
        if len(set(names)) != n or locals_ & set(names) or not all(type(x) is str for x in names):
            return None
        ns: dict[str, Any] = {"__builtins__": {}, "fn": None, "slow": slow, "ndarray": np.ndarray, "MISSING": MISSING,
                              "ValueError": ValueError, "IndexError": IndexError, "TypeError": TypeError}
        params = [f"p{i}" for i in range(n)]
        checks = ["dout is not None", "extra"]
        for i, (_, shape, dtype) in enumerate(self.params):
            ns[f"d{i}"], ns[f"s{i}"] = dtype, shape
            checks.append(_not_exact(f"p{i}", i, shape))
        fed = f"({', '.join(params)}{',' if n == 1 else ''})"
        outs = [f"r{i}" for i in range(results)]
        value = f"r0, r1" if single else f"r0, [{', '.join(outs[1:])}]"
        keywords = "".join(f", {p}=MISSING" for p in params)
        lines = [f"def {name}(dout=None, /{', *' + keywords if params else ''}, **extra):",
                 f"    if {' or '.join(f'({c})' for c in checks)}:",
                 f"        return slow(dout, extra, {fed})",
                 "    try:",
                 f"        {', '.join(outs)}, = fn({', '.join(params)})",
                 "    except (ValueError, IndexError, TypeError):",
                 f"        return slow(dout, extra, {fed})  # the full path runs it again and explains the failure",
                 f"    return {value}"]
        exec(compile("\n".join(lines) + "\n", "<revgraph feeds>", "exec"), ns)
        entry = ns[name]
        rename = dict(zip(params, names))
        entry.__code__ = entry.__code__.replace(co_varnames=tuple(rename.get(v, v) for v in entry.__code__.co_varnames))
        entry.__kwdefaults__ = {x: MISSING for x in names}
        entry.fn_namespace = ns  # where the caller installs the program (``ns["fn"]``)
        return entry


    def step_entries(self, forward: Callable, backward: Callable, state: list, slow_forward: Callable,
                     slow_backward: Callable, explain: Callable, single: bool) -> Optional[tuple[Callable, Callable]]:
        """``(forward, backward)`` of a step as generated code (the per-call path of ``step.forward(**feeds)``
        and ``step.backward()``), or None when the input names cannot be parameters.

        ``forward`` takes the inputs as keyword parameters; when every input is fed as an ndarray of exactly
        the declared dtype and static shape and nothing else is, it calls the forward program, keeps the
        residuals in ``state[0]`` (the list the backward program empties), the fed values in ``state[1]``
        (a tuple in parameter order) and clears ``state[2]`` (the last dout), and returns the output value.
        ``backward()`` (dout left out) hands the residuals to ``backward`` (a program for dout = 1) and returns its
        gradients (a list, or the one gradient when ``single``); ``state[2] = True`` records that it ran
        with the default dout. Anything else -- a dout, no residuals, an unusual feed, an error inside the
        forward program -- goes to ``slow_forward(extra, inputs)`` / ``slow_backward(dout)``, which check,
        convert, explain or raise exactly as the methods do; a failure inside the backward program is raised
        as ``explain(exc)`` (the residuals are spent either way). The input names reach the code object's
        variable names only, never the generated text."""
        names = [n for n, _, _ in self.params]
        n = len(names)
        reserved = {"extra", "res", "r0", "grads", "exc", "err"}
        if len(set(names)) != n or reserved & set(names) or not all(type(x) is str for x in names):
            return None
        ns: dict[str, Any] = {"__builtins__": {}, "fn": forward, "bfn": backward, "state": state,
                              "slow": slow_forward, "bslow": slow_backward, "explain": explain, "ndarray": np.ndarray,
                              "MISSING": MISSING, "ValueError": ValueError, "IndexError": IndexError,
                              "TypeError": TypeError}
        params = [f"p{i}" for i in range(n)]
        checks = ["extra"]
        for i, (_, shape, dtype) in enumerate(self.params):
            ns[f"d{i}"], ns[f"s{i}"] = dtype, shape
            checks.append(_not_exact(f"p{i}", i, shape))
        fed = f"({', '.join(params)}{',' if n == 1 else ''})"
        keywords = "".join(f", {p}=MISSING" for p in params)
        lines = [f"def forward({'*' + keywords + ', ' if params else ''}**extra):",
                 f"    if {' or '.join(f'({c})' for c in checks)}:",
                 f"        return slow(extra, {fed})",
                 "    try:",
                 f"        r0, *res = fn({', '.join(params)})",
                 "    except (ValueError, IndexError, TypeError):",
                 f"        return slow(extra, {fed})  # the full path runs it again and explains the failure",
                 "    state[0] = res",
                 f"    state[1] = {fed}",
                 "    state[2] = None",
                 "    return r0",
                 "",
                 "def backward(dout=None):",
                 "    res = state[0]",
                 "    if dout is not None or res is None:",
                 "        return bslow(dout)",
                 "    state[0] = None",
                 "    state[2] = True",
                 "    try:",
                 "        grads = bfn(res)",
                 "    except (ValueError, IndexError, TypeError) as exc:",
                 "        err = explain(exc)",
                 "        if err is exc:",
                 "            raise",
                 "        raise err from exc",
                 "    return grads[0]" if single else "    return [*grads]"]
        # (not "<revgraph ...>": a failure explained by line must come from a program's own lines)
        exec(compile("\n".join(lines) + "\n", "<step entries>", "exec"), ns)
        entry = ns["forward"]
        rename = dict(zip(params, names))
        entry.__code__ = entry.__code__.replace(co_varnames=tuple(rename.get(v, v) for v in entry.__code__.co_varnames))
        entry.__kwdefaults__ = {x: MISSING for x in names}
        return entry, ns["backward"]


def _not_exact(var: str, i: int, shape: tuple) -> str:
    """Generated test: is ``var`` anything but an ndarray of exactly dtype ``d<i>`` and shape ``s<i>``?
    A size fixed at run time always takes the full check (which also explains the program's errors)."""
    if None in shape:
        return "True"
    return f"{var}.__class__ is not ndarray or {var}.dtype is not d{i} or {var}.shape != s{i}"


class _Missing:
    """The default of an input parameter of a keyword entry: that input was not fed."""

    def __repr__(self) -> str:
        return "<input not fed>"


MISSING = _Missing()


def convert_native(value: Any, name: str, shape: tuple, dtype: np.dtype) -> Any:
    """A backend's own array (a dask array, say) checked by its ``shape`` and ``dtype`` only and cast
    with its own ``astype`` (lazily): its values are never read, so a float may narrow (as ``convert``
    allows) but an integer must fit the declared dtype for every value (a ``safe`` cast)."""
    have = np.dtype(value.dtype)
    if have.kind not in NUMERIC_KINDS:
        raise FeedError(f"input {name!r} expects numbers ({dtype}), got an array of dtype {have}; feed a numeric array")
    if have != dtype:
        if not (np.can_cast(have, dtype, "safe") or have.kind == dtype.kind == "f"):
            raise FeedError(f"input {name!r} has dtype {dtype}, but an array of dtype {have} was fed; "
                            f"convert it first (e.g. value.astype({dtype.name!r})) or declare the input with that dtype")
        value = value.astype(dtype)
    got = tuple(value.shape)
    if not all(isinstance(a, (int, np.integer)) for a in got):
        raise FeedError(f"input {name!r}: the array fed has sizes not known yet {got} (chunks of unknown size); "
                        "compute them first (dask: x.compute_chunk_sizes())")
    if len(got) != len(shape) or any(d is not None and d != a for d, a in zip(shape, got)):
        raise FeedError(f"input {name!r} expects shape {fmt(shape)} ({dtype}), got shape {fmt(got)} "
                        f"({value.dtype}); reshape the value or declare the input with None for sizes that vary")
    return value


def convert(value: Any, name: str, shape: tuple, dtype: np.dtype) -> Any:
    """``value`` as an array of ``dtype`` and a shape matching ``shape`` (None = any size)."""
    if isinstance(value, np.ndarray) and value.dtype == dtype:
        arr = value
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise FeedError(f"input {name!r} expects a numeric value of shape {fmt(shape)} ({dtype}), "
                            f"got {type(value).__name__} {value!r:.40}")
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and other non-arrays
            raise FeedError(f"input {name!r}: cannot make an array of the value fed ({type(value).__name__}): {exc}") from None
        ints = _python_ints(value) if arr.dtype.kind == "O" else []  # Python ints beyond int64 and uint64
        if ints:
            try:
                if dtype.kind not in "f":
                    raise OverflowError
                arr = np.array(value, dtype=dtype)
            except OverflowError:
                raise _out_of_range(name, dtype, min(ints), max(ints)) from None
            if not np.isfinite(arr).all():
                raise _out_of_range(name, dtype, min(ints), max(ints))
        if arr.dtype.kind not in NUMERIC_KINDS:
            raise FeedError(f"input {name!r} expects numbers ({dtype}), got an array of dtype {arr.dtype}; "
                            "feed a numeric array")
        python_number = not isinstance(value, np.ndarray) and not isinstance(value, np.generic)
        # Python numbers take the declared dtype (ints into any int or float dtype); arrays may only narrow
        # within their kind. Either way every value must fit (_check_fits).
        safe = np.can_cast(arr.dtype, dtype, "same_kind") or (python_number and arr.dtype.kind in "biu"
                                                                and dtype.kind in "iuf")
        if not safe:
            raise FeedError(f"input {name!r} has dtype {dtype}, but a value of dtype {arr.dtype} was fed; "
                            f"convert it first (e.g. value.astype({dtype.name!r})) or declare the input with that dtype")
        if np.can_cast(arr.dtype, dtype, "safe"):  # every value fits (the common case: a float fed as float64)
            arr = arr.astype(dtype, copy=False)
        else:
            with np.errstate(over="ignore"):  # an overflow is reported by _check_fits, as a FeedError
                converted = arr.astype(dtype)
            _check_fits(arr, converted, name, dtype)
            arr = converted
    if arr.ndim != len(shape) or any(d is not None and d != a for d, a in zip(shape, arr.shape)):
        raise FeedError(f"input {name!r} expects shape {fmt(shape)} ({dtype}), got shape {fmt(arr.shape)} "
                        f"({arr.dtype}); reshape the value or declare the input with None for sizes that vary")
    return arr


def _check_fits(arr: np.ndarray, converted: np.ndarray, name: str, dtype: np.dtype) -> None:
    """A narrowing conversion must keep every value: integers within the declared dtype's range (no
    wrapping: 2**40 as int32 is 0, -1 as uint8 is 255), finite floats finite (1e300 as float32 is inf).
    Only run when a feed is converted to a narrower dtype; a feed already of the declared dtype is never
    looked at here."""
    if not arr.size:
        return
    if dtype.kind in "iu" and arr.dtype.kind in "iub":
        info = np.iinfo(dtype)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < info.min or hi > info.max:
            raise _out_of_range(name, dtype, lo, hi)
    elif dtype.kind == "f":
        overflow = np.isinf(converted) & np.isfinite(arr)
        if overflow.any():
            finite = arr[np.isfinite(arr)]
            raise _out_of_range(name, dtype, finite.min(), finite.max())


def _out_of_range(name: str, dtype: np.dtype, lo: Any, hi: Any) -> FeedError:
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    fed = f"the value {_short(lo)}" if lo == hi else f"values from {_short(lo)} to {_short(hi)}"
    wider = {"i": "int64", "u": "uint64, or int64 for negative values", "f": "float64"}[dtype.kind]
    fix = "feed values in range" if dtype.name == wider else f"declare the input with a wider dtype ({wider}) or feed values in range"
    return FeedError(f"input {name!r} ({dtype}) was fed {fed}, outside the range of {dtype} ({str(info.min)} to "
                     f"{str(info.max)}): converting would {'wrap around' if dtype.kind in 'iu' else 'give inf'}; {fix}")


def _short(v: Any) -> str:
    text = str(v)
    return text if len(text) <= 24 else f"{text[:8]}...({len(text.lstrip('-'))} digits)"


def _python_ints(value: Any) -> list:
    """The Python ints in ``value`` (a number or nested lists), when that is all it holds; else []."""
    stack, found = [value], []
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            found.append(v)
        else:
            return []
    return found
