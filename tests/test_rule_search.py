"""Shape rules against odd attribute values and against the kernels (issue 11 item 9).

A small systematic search over every registered op: each attribute of each op gets ~70 odd
values (None, floats, huge ints, arrays, slices, nested tuples, dtypes, objects ...). Declaring
must either succeed or raise GraphError -- never TypeError/ValueError from inside a rule -- and
whatever a rule accepts, the op's NumPy kernel must compute, with the declared shape and dtype
(a rule that accepts what the kernel then refuses moves the error from declaration to run time).
The same check runs over operand shapes with empty and unit axes and over dtypes."""

from __future__ import annotations

import collections
import itertools
import warnings

import numpy as np
import pytest

import revgraph as rg
from revgraph.backends.numpy.kernels import evaluate
from revgraph.ir.apply import declare
from revgraph.ir.registry import Aval, all_ops, get
from optable import OP_CASES

ODD = [None, True, False, 0, 1, -1, 2, 3, 100, -100, 2 ** 63, -(2 ** 63) - 1, 2 ** 100, 1.0, -0.0, 0.5,
       float("nan"), float("inf"), "", "a", "float64", "int64", "f8", b"x", (), (0,), (0, 0), (1, 0), (-1,), (None,),
       (1.0,), ((0,),), (True,), [0], [], [0, 1], slice(None), slice(0, 1), slice(None, None, 0), slice(1.5, None),
       slice(2 ** 70, None), Ellipsis, (Ellipsis, Ellipsis), (None, Ellipsis, 0), np.int64(1), np.float64(1.0),
       np.bool_(True), np.array(1), np.array([1, 2]), np.array([]), {}, {"a": 1}, object(), complex(1, 1),
       np.dtype("float64"), np.dtype("complex128"), np.dtype("O"), float, np.float32, range(2), (2 ** 63,),
       (slice(2 ** 63, None),), (0,) * 6, tuple(range(70)), (-(2 ** 63),), (1, -1), (-1, -1), (2 ** 62, 2 ** 62)]


def _examples() -> dict:
    """Up to three (operand avals, attributes) per op, from a graph holding every op-table row,
    run-time-sized operands and the gradients of it all (which use the internal ops)."""
    g = rg.Graph()
    terms = []
    for cid, fn, specs in OP_CASES:
        terms.append(rg.sum(fn(*[g.input(f"{cid}_{i}", shape=s) for i, (s, _) in enumerate(specs)])))
    d, w = g.input("dyn", shape=(None, 3)), g.input("w", shape=(3,))
    terms += [rg.mean(rg.concatenate([d * w, d], axis=0).reshape((-1,))), rg.sum(rg.argmax(d, axis=1)),
              rg.sum(rg.stop_gradient(d) * w), rg.sum(rg.ir.apply("ones_like", d) * d),
              rg.sum(rg.where(rg.greater_equal(d, 0.0), d, 0.0)),
              rg.sum(rg.where(rg.less_equal(d, 1.0), d, 0.0)), rg.sum(rg.where(rg.not_equal(d, 2.0), d, 0.0))]
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    inputs = [rg.ir.Tensor(g, n) for n, nd in g.nx.nodes(data=True) if nd["op"] == "input"]
    rg.grad(loss, inputs + [g.input("unused", shape=(None,))])
    for op, opdef in sorted(all_ops().items()):  # an op no table row uses: plain float operands
        if not any(nd["op"] == op for nd in g.nx._node.values()):
            try:
                rg.ir.apply(op, *[g.input(f"{op}_{i}", shape=(2, 3)) for i in range(opdef.arity or 2)])
            except rg.GraphError:
                pass
    out = collections.defaultdict(list)
    for n, nd in g.nx.nodes(data=True):
        if nd["op"] not in ("input", "constant") and len(out[nd["op"]]) < 3:
            avals = []
            for o in g.operands(n):
                od = g.nx.nodes[o]
                avals.append(Aval(od["shape"], od["dtype"], od["value"] if od.get("weak") else None))
            out[nd["op"]].append((avals, dict(nd["attrs"])))
    return out


EXAMPLES = _examples()



def _value(a: Aval, rng) -> np.ndarray:
    if a.weak:
        return a.weak_value  # a Python number, as the program holds it
    shape = a.shape
    if a.dtype.kind in "iu":  # labels: class 0 is valid for any class axis (their values are data, not shapes)
        return np.zeros(shape, a.dtype)
    return rng.uniform(0.5, 1.5, size=shape).astype(a.dtype)


def _check(op: str, avals: list, attrs: dict, failures: list, rng) -> bool:
    """Declare; if accepted, compute with the kernel. Returns whether the rule accepted."""
    names = [f"operand{i}" for i in range(len(avals))]
    try:
        nattrs, shape, dtype = declare(get(op), avals, dict(attrs), names)
    except rg.GraphError:
        return False
    except Exception as exc:
        failures.append(f"declare {op} {attrs!r:.80}: {type(exc).__name__}: {exc}")
        return False
    if any(None in a.shape for a in avals):
        return True  # sizes fixed at run time are the kernel's to check (a FeedError when they disagree)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = evaluate(op, [_value(a, rng) for a in avals], nattrs)
    except (np.linalg.LinAlgError, IndexError) as exc:
        if isinstance(exc, IndexError) and "out of bounds" not in str(exc):
            failures.append(f"kernel {op} {attrs!r:.80}: {type(exc).__name__}: {exc}")
        return True  # depends on the values (a singular matrix, an index the data holds), not on shapes
    except Exception as exc:
        failures.append(f"kernel {op} {attrs!r:.80} on {[(a.shape, str(a.dtype)) for a in avals]}: "
                        f"{type(exc).__name__}: {exc}")
        return True
    if np.shape(out) != tuple(shape) or np.asarray(out).dtype != dtype:
        failures.append(f"{op} {attrs!r:.80}: declares {shape} {dtype}, "
                        f"computes {np.shape(out)} {np.asarray(out).dtype}")
    return True


def test_every_registered_op_has_an_example():
    assert sorted(set(all_ops()) - set(EXAMPLES)) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # cast(dtype="a"): NumPy's deprecated alias, refused
def test_odd_attribute_values_are_graph_errors_or_computable():
    rng = np.random.default_rng(0)
    failures, tries = [], 0
    for op, examples in sorted(EXAMPLES.items()):
        names = list(get(op).attrs) or ["not_an_attribute"]
        for (avals, attrs), name, value in itertools.product(examples, names, ODD):
            tries += 1
            _check(op, avals, {**attrs, name: value}, failures, rng)
    assert tries > 2000
    assert not failures, f"{len(failures)} of {tries}:\n" + "\n".join(failures[:20])


def _shape_variants(shape: tuple) -> list:
    """The shape itself, with each known size replaced by 0, 1 and None, and with an axis dropped or added."""
    out = [shape, shape[1:], (1,) + shape, (0,) + shape]
    for i, d in enumerate(shape):
        out += [shape[:i] + (v,) + shape[i + 1:] for v in (0, 1, None) if v != d]
    return out


# Small integers and bools too: NumPy computes exp(int8) as float16, exp(int16) as float32, square(bool) as
# int8, and refuses negative(bool); the rules ask NumPy the same question (docs/ARCHITECTURE.md).
DTYPES = [np.dtype(t) for t in ("float64", "float32", "int64", "int8", "uint8", "int16", "bool")]


def test_shape_rules_refuse_what_kernels_refuse():
    """Operand shapes with empty and unit axes, and other dtypes: accepted means computable."""
    rng = np.random.default_rng(1)
    failures, tries = [], 0
    for op, examples in sorted(EXAMPLES.items()):
        for avals, attrs in examples:
            for i, a in enumerate(avals):
                if a.weak:
                    continue
                variants = [Aval(s, a.dtype) for s in _shape_variants(a.shape)]
                variants += [Aval(a.shape, dt) for dt in DTYPES if dt != a.dtype]
                for v in variants:
                    tries += 1
                    _check(op, avals[:i] + [v] + avals[i + 1:], attrs, failures, rng)
            for dt in DTYPES:  # every operand of one dtype (int8 + int8 is int8, exp of it float16)
                tries += 1
                _check(op, [a if a.weak else Aval(a.shape, dt) for a in avals], attrs, failures, rng)
    assert tries > 1000
    assert not failures, f"{len(failures)} of {tries}:\n" + "\n".join(failures[:20])


# -- the verdict cache keys values by type --------------------------------------------------------------
@pytest.mark.parametrize("good, bad", [(1, 1.0), (1, True), ((0, 1), (0.0, 1)), (0, False)])
def test_an_accepted_attribute_does_not_let_an_equal_value_of_another_type_through(good, bad):
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    rg.sum(x, axis=good)
    with pytest.raises(rg.GraphError, match="is not an int"):
        rg.sum(x, axis=bad)


def test_odd_attributes_of_the_report_are_graph_errors():
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    for call in (lambda: rg.expand_dims(x, None), lambda: rg.sum(x, axis=np.array([0, 1])),
                 lambda: rg.reshape(x, None), lambda: rg.transpose(x, (0.5, 1)), lambda: rg.reshape(x, (2.5, 3)),
                 lambda: rg.concatenate([x, x], axis=0.7), lambda: rg.softmax(x, axis=1.5),
                 lambda: rg.sum(x, axis=2 ** 64)):
        with pytest.raises(rg.GraphError):
            call()


def test_labels_never_broadcast_against_logits():
    g = rg.Graph()
    logits = g.input("logits", shape=(4, 5))
    with pytest.raises(rg.GraphError, match=r"must have shape \(4, 5\), got \(1, 5\)"):
        rg.softmax_cross_entropy(logits, g.input("t", shape=(1, 5)))
    with pytest.raises(rg.GraphError, match=r"must have shape \(4,\), got \(1,\)"):
        rg.softmax_cross_entropy(logits, g.input("k", shape=(1,), dtype="int64"))
    rg.softmax_cross_entropy(logits, g.input("run_time", shape=(None, 5)))  # checked when it runs


def test_argmax_over_an_empty_axis_is_a_graph_error():
    g = rg.Graph()
    e = g.input("e", shape=(0, 3))
    with pytest.raises(rg.GraphError, match="argmax over an axis of size 0"):
        rg.argmax(e, axis=0)
    with pytest.raises(rg.GraphError, match="argmax over an axis of size 0"):
        rg.argmax(e)
    assert rg.argmax(e, axis=1).shape == (0,)


# -- the conv family's internal ops (the search's last known gaps) ----------------------------------------
def _refused(op, shapes, dtypes=None, **attrs):
    g = rg.Graph()
    xs = [g.input(f"t{i}", shape=s, dtype=(dtypes or ["float64"] * len(shapes))[i]) for i, s in enumerate(shapes)]
    with pytest.raises(rg.GraphError) as info:
        rg.ir.apply(op, *xs, **attrs)
    return str(info.value)


@pytest.mark.parametrize("op", ["max_pool2d_grad", "avg_pool2d_grad"])
def test_a_pooling_gradient_of_another_batch_or_channel_count_is_refused(op):
    msg = _refused(op, [(1, 2, 2, 2), (2, 2, 4, 4)], kernel_size=2)
    assert f"{op} with operands (t0: shape (1, 2, 2, 2) float64, t1: shape (2, 2, 4, 4) float64)" in msg
    assert "which has shape (2, 2, 2, 2). Fix: pass the pooling's output gradient" in msg
    assert "(2, 3, 2, 2)" in _refused(op, [(2, 3, 2, 2), (2, 2, 4, 4)], kernel_size=2)


def test_max_pool2d_gather_reads_a_tensor_of_the_images_shape():
    msg = _refused("max_pool2d_gather", [(2, 4, 4), (2, 2, 4, 4)], kernel_size=2)
    assert "the values gathered from have shape (2, 4, 4), not the images' (2, 2, 4, 4)" in msg and "Fix:" in msg


def test_col2im_like_needs_one_row_per_window_of_every_image():
    msg = _refused("col2im_like", [(18, 18), (2, 2, 5, 5)], kernel_size=3, stride=1, pad=1)
    assert "columns of shape (18, 18) are not im2col's (50, 18) for images (2, 2, 5, 5)" in msg


def test_conv2d_grad_w_needs_one_gradient_per_image():
    msg = _refused("conv2d_grad_w", [(0, 2, 5, 5), (2, 3, 3, 3)], kernel_size=3, stride=2, pad=1)
    assert "output gradient of shape (2, 3, 3, 3) does not match the windows of (0, 2, 5, 5)" in msg


def test_reshape_like_needs_as_many_elements_as_the_reference():
    msg = _refused("reshape_like", [(2, 6), (2, 1, 1, 2, 2, 3)])
    assert "x of shape (2, 6) (12 elements) cannot be reshaped to the reference shape (2, 1, 1, 2, 2, 3) (24 elements)" in msg
    g = rg.Graph()
    assert rg.ir.apply("reshape_like", g.input("a", shape=(None, 6)), g.input("r", shape=(5, 2))).shape == (5, 2)


@pytest.mark.parametrize("op, shapes", [("max_pool2d_grad", [(2, 2, 2, 2), (2, 2, 4, 4)]),
                                        ("avg_pool2d_grad", [(2, 2, 2, 2), (2, 2, 4, 4)]),
                                        ("max_pool2d_gather", [(2, 2, 4, 4), (2, 2, 4, 4)]),
                                        ("batch_norm", [(4, 3), (3,), (3,)])])
def test_mixed_float_operands_compute_the_promoted_dtype_they_declare(op, shapes):
    g = rg.Graph()
    xs = [g.input(f"t{i}", shape=s, dtype="float32" if i == 0 else "float64") for i, s in enumerate(shapes)]
    attrs = {} if op == "batch_norm" else {"kernel_size": 2}
    y = rg.ir.apply(op, *xs, **attrs)
    rng = np.random.default_rng(0)
    out = rg.compile(y)(**{x.name: rng.uniform(0.5, 1.5, x.shape).astype(x.dtype) for x in xs})
    assert y.dtype == np.float64 and out.dtype == np.float64


# -- small ints and bools: the declared dtype is the one NumPy computes (issue 11's leftover) --------------
SHIFTED = [lambda x: rg.logsumexp(x, axis=-1)]


@pytest.mark.parametrize("dtype, want", [("int8", "float16"), ("uint8", "float16"), ("int16", "float32"),
                                         ("bool", "float16"), ("int64", "float64")])
@pytest.mark.parametrize("fn", [rg.exp, rg.sin, rg.sqrt, rg.tanh, rg.log1p, rg.softmax, rg.log_softmax, SHIFTED[0],
                                lambda x: rg.arctan2(x, x)])
def test_transcendental_ops_of_small_ints_declare_what_numpy_computes(fn, dtype, want):
    if dtype == "bool" and fn in (rg.softmax, rg.log_softmax, SHIFTED[0]):
        pytest.skip("x - max(x) of bools: NumPy refuses it, tested below")
    g = rg.Graph()
    x = g.input("x", shape=(2, 3), dtype=dtype)
    y = fn(x)
    value = rg.compile(y)(x=np.ones((2, 3), dtype))
    assert y.dtype == np.dtype(want) == np.asarray(value).dtype
    from revgraph import dynamic as dy
    assert fn(dy.Variable(np.ones((2, 3), dtype))).data.dtype == np.dtype(want)  # the dynamic engine agrees


@pytest.mark.parametrize("fn, what", [(lambda x: -x, "negative"), (rg.sign, "sign"), (lambda x: x - x, "subtract"),
                                      (rg.softmax, "subtract"), (lambda x: rg.round(x, 2), "round"), (SHIFTED[0], "subtract")])
def test_what_numpy_refuses_for_bools_is_a_graph_error(fn, what):
    g = rg.Graph()
    x = g.input("flag", shape=(3,), dtype=bool)
    with pytest.raises(rg.GraphError, match=rf"flag: shape \(3,\) bool.*NumPy.s {what}[^ ]* is not defined for bool"):
        fn(x)


def test_small_int_arithmetic_keeps_numpy_dtypes():
    g = rg.Graph()
    b = g.input("b", shape=(2,), dtype=bool)
    k = g.input("k", shape=(2,), dtype="int8")
    cases = {"square": (rg.square(b), "int8"), "pow2": (b ** 2, "int8"),
             "relu": (rg.relu(b), "int64"), "reciprocal": (rg.reciprocal(b), "int8"), "round": (rg.round(b), "float16"),
             "div": (k / k, "float64"), "add": (k + 1, "int8")}
    f = rg.compile({name: y for name, (y, _) in cases.items()})
    out = f(b=np.array([True, False]), k=np.array([1, 2], np.int8))
    for name, (y, want) in cases.items():
        assert y.dtype == np.dtype(want) == out[name].dtype, name
    with pytest.raises(rg.GraphError, match="negative integer powers"):
        k ** -1
