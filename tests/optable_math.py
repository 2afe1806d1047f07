"""Op-table rows of ir/ops/math.py (appended to OP_CASES by tests/optable.py; see tests/opcase.py).
Domains keep central differences clear of poles, jumps and kinks; the conventions there are
tested in tests/test_math_ops.py."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from opcase import ANY, GT1, NONZERO, OFFGRID, POS, UNIT, case


def _np(name):
    return getattr(np, name)


def _unary(name, domain, shape=(2, 3), **kw):
    return case(name, getattr(rg, name), [(shape, domain)], numpy=_np(name), **kw)


def _binary(name, d1=ANY, d2=ANY, shapes=((3, 1), (1, 4)), **kw):
    return case(name, getattr(rg, name), [(shapes[0], d1), (shapes[1], d2)], numpy=_np(name), **kw)


MATH_CASES = [
    _unary("tan", (-1.2, 1.2)),
    _unary("sinh", ANY),
    _unary("cosh", ANY),
    _unary("arcsin", UNIT),
    _unary("arccos", UNIT),
    _unary("arctan", ANY),
    _binary("arctan2", ANY, NONZERO),
    case("arctan2_scalar_x", lambda y: rg.arctan2(y, -0.5), [((3,), ANY)], numpy=lambda y: np.arctan2(y, -0.5)),
    _unary("arcsinh", ANY),
    _unary("arccosh", GT1),
    _unary("arctanh", UNIT),
    _unary("log1p", (-0.5, 2.0)),
    _unary("expm1", ANY),
    _unary("log2", POS),
    _unary("log10", POS),
    _unary("exp2", ANY),
    _unary("reciprocal", NONZERO),
    _unary("floor", OFFGRID),
    _unary("ceil", OFFGRID),
    _unary("round", OFFGRID),
    case("round_decimals", lambda x: rg.round(x * 0.1, 1), [((2, 3), OFFGRID)], numpy=lambda x: np.round(x * 0.1, 1)),
    case("clip", lambda x: rg.clip(x, -0.5, 0.7), [((3, 4), ANY)], numpy=lambda x: np.clip(x, -0.5, 0.7)),
    case("clip_max_only", lambda x: rg.clip(x, None, 0.2), [((3, 4), ANY)], numpy=lambda x: np.clip(x, None, 0.2)),
    case("clip_min_only", lambda x: rg.clip(x, a_min=0.1), [((3, 4), ANY)], numpy=lambda x: np.clip(x, 0.1, None)),
    case("clip_array_bounds", rg.clip, [((3, 4), ANY), ((4,), (-1.0, -0.2)), ((3, 1), (0.2, 1.0))], numpy=np.clip),
    _binary("mod", ANY, NONZERO),
    _binary("fmod", ANY, NONZERO),
    case("mod_operator_free_scalar", lambda x: rg.mod(x, 0.75), [((2, 3), ANY)], numpy=lambda x: np.mod(x, 0.75)),
    _binary("hypot", ANY, ANY),
    _binary("logaddexp", ANY, ANY),
    _binary("logaddexp2", ANY, ANY),
    _binary("fmax", ANY, ANY),
    _binary("fmin", ANY, ANY, shapes=((3, 4), (4,))),
    _unary("sinc", ANY),
    case("sinc_near_zero", rg.sinc, [((2, 3), (-0.005, 0.005))], numpy=np.sinc),
    _unary("deg2rad", ANY),
    _unary("rad2deg", ANY),
    case("nan_to_num", rg.nan_to_num, [((2, 3), ANY)], numpy=np.nan_to_num),
    case("leaky_relu", rg.leaky_relu, [((2, 3), NONZERO)], numpy=lambda x: np.where(x > 0, x, 0.01 * x)),
    case("leaky_relu_slope", lambda x: rg.leaky_relu(x, slope=0.2), [((2, 3), NONZERO)],
         numpy=lambda x: np.where(x > 0, x, 0.2 * x)),
    case("softplus", rg.softplus, [((2, 3), (-30.0, 30.0))], numpy=lambda x: np.logaddexp(0, x)),
]

# Bool-valued ops (zero gradient), as in optable.ZERO_GRAD_CASES.
MATH_ZERO_GRAD_CASES = [
    ("isnan", lambda x: rg.where(rg.isnan(x), 1.0, 2.0) * 1.0),
    ("isinf", lambda x: rg.where(rg.isinf(x), 1.0, 2.0) * 1.0),
    ("isfinite", lambda x: rg.where(rg.isfinite(x), 1.0, 2.0) * 1.0),
]
