"""What the compiler hands a backend: the graph and one or more straight-line
programs over it (which nodes are parameters, which are computed in what
order, which are returned). Backends turn a Plan into callables; nothing here
knows how."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..ir.graph import Graph


@dataclass
class Program:
    """One straight-line function: ``name(*params) -> results``."""

    name: str
    params: list[int]
    body: list[int]  # computed in this order (inputs and constants are never in the body)
    results: list[int]
    boxed: bool = False  # takes its arguments as one list, which it empties (so each is freed at its last use)
    fed: int = -1  # how many leading params the caller feeds (-1: all); the rest another program of the plan returned
    # Lines run after the body, before the return (rg.optim's fused step: the in-place update of the parameters
    # from the gradients among the results), and what the return gives when not every result (None: all).
    epilogue: tuple = ()
    returns: Optional[list[int]] = None


@dataclass
class Plan:
    """A graph plus the programs to generate for it, and what the runtime needs to know."""

    graph: Graph
    programs: dict[str, Program]
    options: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)  # program name -> compiler.memory.ProgramMemory

    def constants_of(self, name: str) -> list[int]:
        """Constant nodes program ``name`` reads (they reach the code through its namespace)."""
        G = self.graph.nx
        p = self.programs[name]
        used = {u for n in p.body for u in G._pred[n] if G._node[u]["op"] == "constant"}
        used.update(r for r in p.results if G._node[r]["op"] == "constant")
        return sorted(used)


@dataclass
class Lowered:
    """What a backend returns for a Plan."""

    functions: dict[str, Any]  # program name -> callable
    source: str  # the generated code, all programs
    line_map: dict[tuple[str, int], int]  # (program name, line number) -> node id
    # Array types the functions take as fed (a dask array, say): checked by shape and dtype, cast
    # lazily, never converted to NumPy (which would compute them).
    array_types: tuple = ()
