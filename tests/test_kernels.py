"""The NumPy kernels the eager path and the dynamic engine call (backends/numpy/kernels.kernel)."""

import operator

import numpy as np
import pytest

from revgraph.backends.numpy import kernels as K


OPERATOR_OPS = sorted(op for op, t in K.TEMPLATES.items() if isinstance(t, str) and t in K.OPERATOR_TEMPLATES)


def test_every_operator_template_has_its_shortcut():
    assert {"add", "sub", "mul", "div", "pow", "neg", "matmul", "less", "equal", "not_equal"} <= set(OPERATOR_OPS)


@pytest.mark.parametrize("op", OPERATOR_OPS)
def test_operator_kernels_compute_their_template(op):
    text = K.TEMPLATES[op]
    fn = K.OPERATOR_TEMPLATES[text]
    arity = text.count("{")
    fast = K.kernel(op, arity, {})
    assert fast is fn
    args = [f"a{i}" for i in range(arity)]
    ns = K.namespace()
    exec(f"def slow({', '.join(args)}):\n    return {K.expression(op, args, {})}\n", ns)
    rng = np.random.default_rng(0)
    values = [rng.uniform(0.5, 2.0, size=(3, 3)) for _ in range(arity)]
    np.testing.assert_array_equal(fast(*values), ns["slow"](*values))
    if op != "matmul":  # and on NumPy scalars, as 0-d values run (matmul takes no scalars)
        scalars = [v[0, 0] for v in values]
        np.testing.assert_array_equal(fast(*scalars), ns["slow"](*scalars))


def test_ops_with_attributes_or_other_templates_get_generated_kernels():
    k = K.kernel("sum", 1, {"axis": (0,), "keepdims": False})
    assert k not in (operator.add,) and k.__name__ == "k_sum"
    np.testing.assert_array_equal(k(np.ones((2, 3))), [2.0, 2.0, 2.0])
