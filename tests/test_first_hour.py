"""The first hour's frictions (issue 15 items 8, 11, 12): clear advice for an input declared without a
shape, pictures that say "scalar" and "2×5", attributes in the generated comments, `revgraph --version`."""

import subprocess
import sys

import pytest

import revgraph as rg
from graphviz_svg import edges, svg


def test_an_input_declared_without_shape_is_named_as_a_scalar_with_the_fix():
    g = rg.Graph()
    A, B = g.input("A"), g.input("B", shape=(2, 3))
    with pytest.raises(rg.GraphError) as err:
        A @ B
    msg = str(err.value)
    assert "input 'A' was declared as a scalar" in msg and "g.input('A', shape=(...))" in msg
    with pytest.raises(rg.GraphError, match="'A' was declared as a scalar"):
        rg.sum(A, axis=1)


def test_a_shape_error_without_a_scalar_input_has_no_such_note():
    g = rg.Graph()
    A, B = g.input("A", shape=(2, 4)), g.input("B", shape=(2, 3))
    with pytest.raises(rg.GraphError) as err:
        A @ B
    assert "declared as a scalar" not in str(err.value)


def test_edge_labels_say_scalar_and_shapes_as_rows_by_columns():
    g = rg.Graph()
    a = g.input("a")
    M = g.input("M", shape=(2, 5))
    v = g.input("v", shape=(None, 4), dtype="float32")
    rg.exp(a), rg.exp(M), rg.exp(v)
    texts = sorted(t for e in edges(svg(g)) for t in e.texts)
    assert texts == ["2×5", "?×4 float32", "scalar"]


def test_generated_comments_show_the_attributes():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    s = rg.sum(x * x, axis=1)
    r = rg.reshape(s, (2, 1))
    src = rg.compile(rg.sum(r, keepdims=True)).source
    assert "sum_1 = sum(mul_1, axis=(1,))" in src
    assert "reshape_1 = reshape(sum_1, shape=(2, 1))" in src
    assert "sum_2 = sum(reshape_1, keepdims=True)" in src  # defaults (axis=None) left out


def test_revgraph_version():
    out = subprocess.run([sys.executable, "-m", "revgraph", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"revgraph {rg.__version__}"
