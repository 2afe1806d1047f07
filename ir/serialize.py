"""Saving graphs as JSON, and loading them back (``g.save(path)``, ``rg.load(path)``).

The file is networkx's node-link form (``nx.node_link_data``) wrapped in a small
versioned envelope. Everything in it is plain data: each node's op, name, shape,
dtype, attributes (a tagged encoding for tuples, slices and ``...``), its
adjoint bookkeeping, and for constants the dtype, shape and base64 of the raw
bytes. Keys are sorted and nothing varies between runs, so saving the same graph
twice gives the same bytes. Loading is ``ir/validate.py``: nothing in a file is
ever unpickled, evaluated or imported.

>>> g.save("model.json")
>>> g2 = rg.load("model.json")          # validated: ops, attributes, shapes, limits
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
import stat
from typing import Any, Union

import numpy as np

from .dtypes import NUMERIC_KINDS
from .errors import GraphError
from .gcpause import cyclic_gc_paused
from .graph import Graph
from .tensor import Tensor
from .validate import DEFAULT_LIMITS, FORMAT, NODE_KEYS, VERSION, build_graph, parse_document

PathLike = Union[str, "os.PathLike[str]"]


# -- plain data -> JSON ---------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def encode_dtype(dtype: np.dtype) -> str:
    """``float64`` for native dtypes; ``>f8`` when the byte order is not the machine's."""
    dtype = np.dtype(dtype)
    return dtype.name if np.dtype(dtype.name) == dtype else dtype.str


def encode_attr(value: Any, where: str) -> Any:
    """An attribute value as JSON: scalars as themselves, tuples, slices and ``...`` tagged."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode_attr(v, where) for v in value]}
    if isinstance(value, slice):
        return {"slice": [encode_attr(v, where) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    raise GraphError(f"{where}: cannot save attribute value {value!r} of type {type(value).__name__}; "
                     "attributes must be plain data (None, bool, int, float, str, tuple, slice, ...)")


def encode_structure(obj: Any, graph: Graph, where: str) -> Any:
    """``g.outputs`` / ``g.wrt``: a tensor, a list/tuple or a dict (str keys) of them, as node ids."""
    if obj is None:
        return None
    if isinstance(obj, Tensor):
        if obj.graph is not graph:
            raise GraphError(f"{where}: tensor {obj.name!r} belongs to graph {obj.graph.name!r}, not {graph.name!r}")
        return {"tensor": obj.id}
    if isinstance(obj, list):
        return {"list": [encode_structure(o, graph, where) for o in obj]}
    if isinstance(obj, tuple):  # a namedtuple is saved as a plain tuple
        return {"tuple": [encode_structure(o, graph, where) for o in obj]}
    if isinstance(obj, dict):
        bad = [k for k in obj if not isinstance(k, str)]
        if bad:
            raise GraphError(f"{where}: dict key {bad[0]!r} is not a string; only string keys can be saved")
        return {"dict": [[k, encode_structure(v, graph, where)] for k, v in obj.items()]}
    raise GraphError(f"{where}: cannot save {type(obj).__name__}; give a Tensor, a list/tuple or a dict of Tensors")


def encode_constant(value: Any, where: str = "constant") -> dict:
    """dtype, shape and base64 of the raw bytes; only bool, integer and float dtypes (the raw bytes of an
    object array would be memory addresses)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in NUMERIC_KINDS:
        raise GraphError(f"{where}: cannot save a value of dtype {arr.dtype}; only bool, integer and float "
                         "constants can be saved")
    return {"dtype": encode_dtype(arr.dtype), "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes(order="C")).decode("ascii")}


def _encode_node(graph: Graph, nid: int) -> dict:
    d = graph.nx._node[nid]
    where = f"node {nid} {d['name']!r}"
    unknown = sorted(set(d) - NODE_KEYS)
    if unknown:
        raise GraphError(f"{where}: cannot save node data key(s) {unknown}; the file format knows {sorted(NODE_KEYS)}",
                         node=nid)
    out = {"op": d["op"], "name": d["name"], "shape": list(d["shape"]), "dtype": encode_dtype(d["dtype"]),
           "attrs": {k: encode_attr(v, f"{where} attribute {k!r}") for k, v in d["attrs"].items()},
           "adjoint": d["adjoint"]}
    if "role" in d:
        out["role"] = d["role"]
    if "grad_of" in d:
        out["grad_of"] = list(d["grad_of"])
    if d.get("scope"):
        out["scope"] = d["scope"]
    if d["op"] == "constant":
        out["weak"] = bool(d.get("weak"))
        out["value"] = encode_constant(d["value"], where)
        if d.get("weak"):
            out["value"]["scalar"] = type(d["value"]).__name__  # bool, int or float: it promotes weakly
    return out


def _encode_book(book: dict) -> list:
    """The adjoint pass's per-edge records ``{order: {"edges": {(x, n, slot): g}, "totals": {n: g}}}``."""
    return [{"order": order,
             "edges": sorted([x, n, slot, g] for (x, n, slot), g in rec.get("edges", {}).items()),
             "totals": sorted([n, t] for n, t in rec.get("totals", {}).items())}
            for order, rec in sorted(book.items())]


def to_document(graph: Graph) -> dict:
    """The graph as a JSON-ready dict: the envelope around networkx's node-link form (what
    ``nx.node_link_data`` writes for a MultiDiGraph: nodes by id, edges by source, target and slot),
    built directly -- through a networkx copy it was most of the time saving a large graph took."""
    G = graph.nx
    nodes = [{"id": nid, **_encode_node(graph, nid)} for nid in sorted(G)]
    edges = [{"source": u, "target": v, "key": k, "slot": k}
             for u, v, k in sorted((u, v, k) for u, succ in G._succ.items() for v, keys in succ.items() for k in keys)]
    # Only the adjoint book is saved from graph-level data; other notes (caches) are not part of the program.
    skeleton = {"directed": True, "multigraph": True, "graph": {"adjoint": _encode_book(G.graph.get("adjoint", {}))},
                "nodes": nodes, "edges": edges}
    return {"format": FORMAT, "version": VERSION, "name": graph.name, "next_id": graph._next_id,
            "counters": {op: n for op, n in sorted(graph._counters.items())},
            "outputs": encode_structure(graph.outputs, graph, "outputs"),
            "wrt": encode_structure(graph.wrt, graph, "wrt"),
            "graph": skeleton}


def dumps(graph: Graph) -> str:
    """The file's text: sorted keys, ASCII only (so no line separator or control character survives raw).
    One line (the standard library's fast encoder); ``python -m json.tool model.json`` pretty-prints it."""
    with cyclic_gc_paused():
        return json.dumps(to_document(graph), sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n"


def save(graph: Graph, path: PathLike) -> None:
    """Write ``graph`` to ``path`` atomically: a temporary file in the same folder, then a rename,
    so a failure part-way leaves any previous file untouched.

    * An existing file keeps its permission bits; a new one gets ``0o666`` minus the umask (as
      ``open(path, "w")`` would).
    * A symbolic link is followed: the file it points to is replaced and the link stays a link.
    * Only regular files are written: a directory, FIFO, device or socket at the path is a GraphError
      (and is left alone), as is a path that cannot be written (missing folder, no permission, NUL).
    * The temporary file is ``.<name>.rgsave-<pid>-<random>.tmp``; a save that was killed leaves it
      behind, and the next save of the same path removes it (when process <pid> no longer runs).

    >>> g.save("model.json")
    """
    text = dumps(graph).encode("ascii")
    target = _save_target(path)
    folder, base = os.path.split(target)
    prefix = _temp_prefix(base)
    _remove_leftovers(folder, prefix)
    tmp = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _save_error(path, exc) from None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        raise _save_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:  # the old file's bits (os.open applied the umask, which may have cleared some)
                os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _save_error(path, exc) from None
        raise


def _save_target(path: PathLike) -> str:
    """The regular file ``save`` replaces: ``path`` with symbolic links followed; anything else at
    that path, or a path the OS refuses, is a GraphError."""
    try:
        text = os.fspath(path)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if "\0" in text or not text:
            raise GraphError(f"cannot save graph to {text!r}: a path must be a non-empty string without NUL characters")
        target = os.path.realpath(text)
        st = os.stat(target)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(target)):
            raise GraphError(f"cannot save graph to {text!r}: folder {os.path.dirname(target)!r} does not exist; "
                             "create it first") from None
        return target
    except GraphError:
        raise
    except TypeError:
        raise GraphError(f"cannot save graph to {path!r}: give a path (a str or os.PathLike), not "
                         f"{type(path).__name__}") from None
    except (OSError, ValueError) as exc:
        raise _save_error(path, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise GraphError(f"cannot save graph to {text!r}: {_kind(st.st_mode)} is there, not a regular file; "
                         "save to a file path (nothing was written)")
    return target


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "something other than a file"


def _save_error(path: Any, exc: BaseException) -> GraphError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return GraphError(f"cannot save graph to {os.fspath(path) if isinstance(path, (str, os.PathLike)) else path!r}: "
                      f"{reason}")


def _temp_prefix(base: str) -> str:
    """The temporary files' common start for target ``base``, short enough for any file system
    (a long name is shortened and told apart by a hash)."""
    if len(base.encode("utf-8", "surrogateescape")) > 120:
        digest = hashlib.sha1(base.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        base = base[:40] + "~" + digest
    return f".{base}.rgsave-"


def _remove_leftovers(folder: str, prefix: str) -> None:
    """Delete temporary files of earlier saves of this path whose process is gone (killed mid-save)."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for e in entries:
        pid = e.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or _running(int(pid)):
            continue
        try:
            if e.is_file(follow_symlinks=False):
                os.unlink(e.path)
        except OSError:
            pass


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of ours may be saving the same path right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # it exists (another user's) or cannot be asked: leave its file alone
    return True


# -- JSON -> Graph ----------------------------------------------------------------------------
def loads(data: Union[bytes, str], **limits: int) -> Graph:
    """A Graph from the text of a saved file, validated (see ``load``)."""
    with cyclic_gc_paused():
        return build_graph(parse_document(data, _limits(limits)), _limits(limits))


def load(path: PathLike, **limits: int) -> Graph:
    """Load a graph saved with ``g.save``. Every node is checked: registered op, operand count,
    attribute types, shapes and dtypes re-inferred by the op's rules, names unique, no cycle,
    constants' bytes matching their dtype and shape. Anything else is a GraphError naming the
    node (index and name) and the key. Nothing is unpickled, evaluated or imported.

    Limits (keyword arguments, defaults in ``DEFAULT_LIMITS``): ``max_nodes`` (100 000),
    ``max_edges`` (1 000 000), ``max_constant_bytes`` (256 MiB in all), ``max_file_bytes`` (512 MiB),
    ``max_static_bytes`` (64 GiB: the bytes every node's static shape asks for, summed). Only regular files
    are read.

    >>> g = rg.load("model.json", max_nodes=10_000)
    """
    lim = _limits(limits)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it (and devices)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise GraphError(f"cannot read graph file {os.fspath(path)!r}: {_kind(mode)} is there, not a "
                                 "regular file")
            data = f.read(lim["max_file_bytes"] + 1)
    except (OSError, ValueError, TypeError) as exc:
        if isinstance(exc, GraphError):
            raise
        raise GraphError(f"cannot read graph file {path!r}: {getattr(exc, 'strerror', None) or exc}") from None
    if len(data) > lim["max_file_bytes"]:
        raise GraphError(f"graph file {os.fspath(path)!r} is larger than max_file_bytes={lim['max_file_bytes']}; "
                         "pass a larger max_file_bytes= to rg.load if you trust it")
    with cyclic_gc_paused():
        return build_graph(parse_document(data, lim), lim)


def _limits(given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULT_LIMITS))
    if unknown:
        raise GraphError(f"unknown load limit(s) {unknown}; the limits are {sorted(DEFAULT_LIMITS)}")
    for k, v in given.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise GraphError(f"load limit {k}={v!r} must be a non-negative int")
    return {**DEFAULT_LIMITS, **given}
