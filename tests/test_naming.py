"""Naming (issue 15 item 7): ``name=`` on every public op function, ``t.rename`` and ``t.name = ...``."""

import inspect

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy
from revgraph.ir.ops import PUBLIC


@pytest.mark.parametrize("fn_name", sorted(PUBLIC))
def test_every_public_op_function_takes_name(fn_name):
    fn = getattr(rg, fn_name)
    assert "name" in inspect.signature(fn).parameters, f"rg.{fn_name} has no name= keyword"


def test_name_keyword_names_the_node_and_the_generated_comment():
    g = rg.Graph("named")
    x = g.input("x", shape=(2, 3))
    h = rg.tanh(x, name="hidden")
    s = rg.sum(h, axis=1, name="row_sums")
    assert (h.name, s.name) == ("hidden", "row_sums")
    assert g.tensor("row_sums") == s
    assert "row_sums = sum(hidden" in rg.compile(s).source


def test_composite_function_names_its_final_result():
    g = rg.Graph()
    x, t = g.input("x", shape=(4,)), g.input("t", shape=(4,))
    loss = rg.mse(x, t, name="loss")
    assert loss.name == "loss" and loss.op == g.tensor("loss").op


def test_a_taken_name_is_refused_before_anything_is_built():
    g = rg.Graph()
    x = g.input("x")
    n = len(g)
    with pytest.raises(rg.GraphError, match="'x' is already used"):
        rg.exp(x, name="x")
    assert len(g) == n
    with pytest.raises(rg.GraphError, match="must be a string"):
        rg.exp(x, name=3)


def test_rename_and_name_assignment():
    g = rg.Graph()
    a, b = g.input("a"), g.input("b")
    price = (a * b).rename("price")
    assert price.name == "price"
    price.name = "total"
    assert g.tensor("total") == price and "price" not in g
    with pytest.raises(rg.GraphError, match="already used"):
        price.name = "a"


def test_name_keyword_on_dynamic_variables_and_plain_arrays():
    v = rg.tanh(dy.Variable(np.ones(2)), name="h")
    assert v.name == "h"
    out = rg.exp(np.zeros(2), name="ignored")  # plain arrays compute at once; there is no node to name
    np.testing.assert_array_equal(out, np.ones(2))
