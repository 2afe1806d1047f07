import numpy as np
import pytest

import revgraph as rg


def test_trace_captures_a_function_with_shapes_and_dtypes():
    def model(x, W, t):
        return rg.softmax_cross_entropy(x @ W, t)

    x0, W0, t0 = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.array([1, 3])
    g = rg.trace(model, x=x0, W=W0, t=t0)
    assert [(i.name, i.shape, i.dtype) for i in g.inputs] == [
        ("x", (2, 3), np.float32), ("W", (3, 4), np.float32), ("t", (2,), np.int64)]
    assert g.name == "model"
    np.testing.assert_allclose(rg.compile(g.outputs)(x=x0, W=W0, t=t0), np.log(4), rtol=1e-6)


def test_trace_structures_and_errors():
    g = rg.trace(lambda a, b: {"s": a + b, "p": a * b}, a=1.0, b=2.0)
    assert rg.compile(g.outputs)(a=1.0, b=2.0) == {"s": 3.0, "p": 2.0}
    with pytest.raises(rg.GraphError, match="missing"):
        rg.trace(lambda a, b: a + b, a=1.0)
    with pytest.raises(rg.GraphError, match="returned float"):
        rg.trace(lambda a: 3.0, a=1.0)


def test_python_control_flow_is_evaluated_once_at_trace_time():
    def f(x, n):
        if n.shape == ():          # a static property: fine, decided while tracing
            x = x * 2.0
        return x

    g = rg.trace(f, x=1.0, n=3)
    assert rg.compile(g.outputs)(x=5.0, n=7) == 10.0

    def g_value_branch(x):
        if x > 0:                  # depends on a value only known when the program runs
            return x
        return -x

    with pytest.raises(rg.GraphError, match="rg.where"):
        rg.trace(g_value_branch, x=1.0)


def test_trace_of_a_function_taking_keyword_arguments():
    def model(x, **params):
        return rg.sum(x @ params["W"] + params["b"])

    import numpy as np
    g = rg.trace(model, x=np.ones((2, 3)), W=np.ones((3, 4)), b=np.zeros(4))
    names = sorted(d["name"] for _, d in g.nx.nodes(data=True) if d["op"] == "input")
    assert names == ["W", "b", "x"]
    assert rg.compile(g.outputs)(x=np.ones((2, 3)), W=np.ones((3, 4)), b=np.zeros(4)) == 24.0
