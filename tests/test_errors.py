"""Every mistake a user can make gets GraphError/FeedError naming the node or input."""

import numpy as np
import pytest

import revgraph as rg


def test_broadcast_mismatch_names_both_operands_and_shapes():
    g = rg.Graph()
    x, W = g.input("x", (2, 3)), g.input("W", (3, 4))
    with pytest.raises(rg.GraphError) as e:
        x * W
    msg = str(e.value)
    assert "'x'" in msg or "x:" in msg
    assert "W" in msg and "(2, 3)" in msg and "(3, 4)" in msg and "Fix" in msg
    assert isinstance(e.value, ValueError)


def test_matmul_inner_size_mismatch():
    g = rg.Graph()
    a, b = g.input("a", (2, 3)), g.input("b", (4, 5))
    with pytest.raises(rg.GraphError, match=r"matmul.*a: shape \(2, 3\).*b: shape \(4, 5\).*inner sizes differ"):
        a @ b


@pytest.mark.parametrize("build, match", [
    (lambda x: rg.sum(x, axis=2), "axis 2 is out of range"),
    (lambda x: rg.reshape(x, (5, 5)), "cannot reshape 6 elements"),
    (lambda x: x[3], "out of bounds"),
    (lambda x: x[np.array([0.0, 1.0])], "index with integer or boolean arrays"),
    (lambda x: x[:, [0, 3]], "index 3 is out of bounds for axis 1 of size 3"),
    (lambda x: x[np.ones((2, 2), bool)], "mask of shape \\(2, 2\\) does not match axes 0.. of sizes \\(2, 3\\)"),
    (lambda x: x[[0, 1], [0, 1, 2]], "cannot broadcast together"),
    (lambda x: rg.stack([x, x.T]), "sizes along axis 0 differ"),
    (lambda x: rg.einsum("ij,jk->ik", x, x), "letter 'j' stands for sizes 3 and 2"),
    (lambda x: rg.einsum("ijk", x), "3 letter\\(s\\) for an operand of 2"),
    (lambda x: rg.repeat(x, [1, 2], axis=1), "2 repeat counts for an axis of size 3"),
    (lambda x: rg.pad(x, ((1, 2, 3),)), "pad_width"),
    (lambda x: rg.diagonal(x, axis1=1, axis2=-1), "axis1 and axis2 are both 1"),
    (lambda x: rg.transpose(x, (0, 0)), "not a permutation"),
    (lambda x: rg.squeeze(x, 0), "cannot squeeze"),
    (lambda x: rg.broadcast_to(x, (3, 2)), "cannot broadcast"),
    (lambda x: rg.softmax_cross_entropy(x, np.array([1, 2, 0])), "shape"),
])
def test_bad_declarations_name_the_operand(build, match):
    g = rg.Graph()
    x = g.input("xin", (2, 3))
    with pytest.raises(rg.GraphError, match=match) as e:
        build(x)
    assert "xin" in str(e.value)


def test_duplicate_names_and_bad_dtypes_and_mixing_graphs():
    g = rg.Graph("one")
    g.input("x")
    with pytest.raises(rg.GraphError, match="'x' is already used"):
        g.input("x")
    with pytest.raises(rg.GraphError, match="not supported"):
        g.input("c", dtype="U3")  # complex64/complex128 are supported (tests/test_complex.py); strings are not
    with pytest.raises(rg.GraphError, match="not a NumPy dtype"):
        g.input("d", dtype="floaty")
    with pytest.raises(rg.GraphError, match="negative"):
        g.input("e", shape=(-1, 3))
    other = rg.Graph("two")
    with pytest.raises(rg.GraphError, match="different graphs"):
        g.tensor("x") + other.input("y")


def test_grad_errors():
    g = rg.Graph()
    x = g.input("x", (3,))
    n = g.input("n", dtype="int64")
    with pytest.raises(rg.GraphError, match=r"'mul_1'.*shape \(3,\).*seed="):
        rg.grad(x * 2.0, x)
    with pytest.raises(rg.GraphError, match="'n' of dtype int64"):
        rg.grad(rg.sum(x) * n, n)
    with pytest.raises(rg.GraphError, match="seed"):
        rg.grad(x * 2.0, x, seed=np.ones(4))


def test_truth_value_of_a_tensor_is_an_error():
    g = rg.Graph()
    x = g.input("x")
    with pytest.raises(rg.GraphError, match="rg.where"):
        if x > 0:
            pass


def test_cycle_is_reported_with_its_nodes():
    g = rg.Graph()
    x = g.input("x")
    a = x + 1.0
    b = a * 2.0
    g.nx.add_edge(b.id, a.id, key=1, slot=1)  # a hand-edited graph: a <- b <- a
    with pytest.raises(rg.GraphError, match=r"cycle: .*'add_1'.*'mul_1'"):
        rg.compile(b)
    with pytest.raises(rg.GraphError, match="cycle"):
        g.check()


class TestFeeds:
    def setup_method(self):
        g = rg.Graph("feeds")
        self.x = g.input("x", (None, 3))
        self.n = g.input("n", dtype="int64")
        self.unused = g.input("unused", (2,))
        self.f = rg.compile(rg.sum(self.x) * self.n)

    def test_missing_feed(self):
        with pytest.raises(rg.FeedError, match=r"missing feed for input 'n' \(shape \(\), dtype int64\)"):
            self.f(x=np.ones((2, 3)))

    def test_unknown_name(self):
        with pytest.raises(rg.FeedError, match=r"'y' is no input of graph 'feeds'.*'x'"):
            self.f(x=np.ones((2, 3)), n=1, y=3)

    def test_wrong_shape(self):
        with pytest.raises(rg.FeedError, match=r"'x' expects shape \(\?, 3\).*got shape \(2, 4\)"):
            self.f(x=np.ones((2, 4)), n=1)

    def test_non_numeric(self):
        for bad in ["abc", None, np.array(["a", "b", "c"]), [[object()] * 3]]:
            with pytest.raises(rg.FeedError, match="'x'"):
                self.f(x=bad, n=1)

    def test_float_into_int_input(self):
        with pytest.raises(rg.FeedError, match=r"'n' has dtype int64.*float64"):
            self.f(x=np.ones((1, 3)), n=np.float64(2.5))

    def test_unused_feeds_are_ignored_and_lists_accepted(self):
        assert self.f(x=[[1, 2, 3], [4, 5, 6]], n=2, unused=np.zeros(2)) == 42.0

    def test_runtime_size_mismatch_names_the_node(self):
        g = rg.Graph()
        a, b = g.input("a", (None,)), g.input("b", (None,))
        f = rg.compile((a + b).rename("total"))
        with pytest.raises(rg.FeedError, match=r"'total'.*'a' \(shape \(3,\).*'b' \(shape \(4,\)"):
            f(a=np.ones(3), b=np.ones(4))


def test_backward_before_forward_and_twice():
    g = rg.Graph()
    x = g.input("x")
    step = rg.compile(x * x, wrt=x)
    with pytest.raises(RuntimeError, match="call step.forward"):
        step.backward()
    step.forward(x=3.0)
    assert step.backward() == 6.0
    with pytest.raises(RuntimeError, match="forward"):
        step.backward()  # residuals were released


def test_non_scalar_backward_needs_dout():
    g = rg.Graph()
    x = g.input("x", (3,))
    step = rg.compile(x * 2.0, wrt=x)
    step.forward(x=np.ones(3))
    with pytest.raises(rg.FeedError, match=r"shape \(3,\).*dout"):
        step.backward()
    np.testing.assert_allclose(step.backward(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])


def test_mixing_tensor_and_foreign_objects():
    g = rg.Graph()
    x = g.input("x")
    with pytest.raises(rg.GraphError, match="operand"):
        x + "text"
    with pytest.raises(rg.GraphError, match="unknown attribute"):
        rg.ir.apply("sum", x, axes=0)
    with pytest.raises(rg.GraphError, match="unknown op 'summ'.*sum"):
        rg.ir.apply("summ", x)


def test_a_run_time_failure_that_is_no_size_clash_gets_no_size_hint():
    g = rg.Graph()
    x = g.input("logits", (2, 3))
    t = g.input("labels", (2,), dtype="int64")
    f = rg.compile(rg.softmax_cross_entropy(x, t))
    with pytest.raises(rg.FeedError, match=r"softmax_cross_entropy.*labels must lie in \[0, 3\)") as e:
        f(logits=np.zeros((2, 3)), labels=np.array([0, 7]))
    assert "declared None" not in str(e.value)


def test_fresh_names_skip_names_the_user_took():
    g = rg.Graph()
    x = g.input("x")
    g.input("neg_1")  # a user's node called neg_1
    assert g.fresh_name("neg") == "neg_2"
    assert rg.neg(x).name == "neg_3"  # each call takes the next unused name
