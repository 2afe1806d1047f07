"""Op-table rows for complex numbers (appended to OP_CASES by tests/optable.py; see tests/opcase.py).

A complex row's function takes real arrays -- a real and an imaginary part per complex operand, built
into ``z = x + 1j * y`` inside the graph -- and returns a real array (a complex result as
``stack([real, imag])``). So every check the table makes runs on it unchanged: values against NumPy,
first and second derivatives against central differences perturbing the real and the imaginary parts
separately, in complex128 (float64 parts) and complex64 (float32 parts), and the dynamic engine
against the static one. The derivatives reach x and y through z, so they hold revgraph to HIPS
autograd's convention: with g the complex gradient of z, dL/dx = Re(g) and dL/dy = -Im(g).
Complex inputs fed directly, constants, save/load and the conventions are tested in tests/test_complex.py.
"""

from __future__ import annotations

import numpy as np

import revgraph as rg
from opcase import ANY, NONZERO, POS, UNIT, case


def _parts_out(out):
    """A complex result as its stacked real and imaginary parts (a real result as it is)."""
    if np.dtype(out.dtype).kind != "c":
        return out
    return rg.stack([rg.real(out), rg.imag(out)])


def _np_parts_out(out):
    out = np.asarray(out)
    return np.stack([out.real, out.imag]) if out.dtype.kind == "c" else out


def _operands(kinds, parts, make):
    """The operands from real arrays: ``c`` takes two (real, imaginary), ``r`` one."""
    out, i = [], 0
    for k in kinds:
        if k == "c":
            out.append(make(parts[i], parts[i + 1]))
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


def cx(id, fn, kinds, specs, npfn, **options):
    """A row for ``fn`` on complex operands (``kinds``: one letter per operand, ``c`` complex, ``r`` real);
    ``specs`` gives (shape, real-part domain, imaginary-part domain) for ``c``, (shape, domain) for ``r``."""
    flat = []
    for k, spec in zip(kinds, specs):
        flat += [(spec[0], spec[1]), (spec[0], spec[2])] if k == "c" else [spec]

    def f(*parts):
        return _parts_out(fn(*_operands(kinds, parts, lambda x, y: x + y * 1j)))

    def reference(*parts):
        return _np_parts_out(npfn(*_operands(kinds, parts, lambda x, y: x + y * 1j)))

    return case(id, f, flat, numpy=reference, **options)


def _unary(name, re=ANY, im=ANY, shape=(2, 3), **options):
    return cx(f"complex_{name}", getattr(rg, name), "c", [(shape, re, im)], getattr(np, name), **options)


Z = ((2, 3), ANY, ANY)

COMPLEX_CASES = [
    # the complex ops themselves
    _unary("real"),
    _unary("imag"),
    _unary("conj"),
    _unary("angle", POS),          # clear of the cut along the negative real axis
    cx("complex_angle_deg", lambda z: rg.angle(z, deg=True), "c", [Z], lambda z: np.angle(z, deg=True)),
    cx("complex_angle_of_real", lambda x: rg.angle(x) + x, "r", [((3,), NONZERO)], lambda x: np.angle(x) + x),
    cx("complex_imag_of_real", lambda x: rg.imag(x) + rg.real(x) * 2.0, "r", [((3,), ANY)],
       lambda x: np.imag(x) + np.real(x) * 2.0),
    _unary("abs", NONZERO, NONZERO),
    cx("complex_abs_squared", lambda z: rg.abs(z) * rg.abs(z), "c", [Z], lambda z: np.abs(z) * np.abs(z)),
    # arithmetic, holomorphic functions, and real operands meeting complex ones
    cx("complex_add", rg.add, "cc", [((3, 1), ANY, ANY), ((1, 4), ANY, ANY)], np.add),
    cx("complex_sub_real", rg.sub, "rc", [((3,), ANY), ((2, 3), ANY, ANY)], np.subtract),
    cx("complex_mul", rg.mul, "cc", [((3, 1), ANY, ANY), ((1, 4), ANY, ANY)], np.multiply),
    cx("complex_mul_real", rg.mul, "cr", [((2, 3), ANY, ANY), ((3,), ANY)], np.multiply),
    cx("complex_mul_scalar", lambda z: z * (2 - 1j), "c", [Z], lambda z: z * (2 - 1j)),
    cx("complex_div", rg.div, "cc", [((3, 1), ANY, ANY), ((1, 4), NONZERO, NONZERO)], np.divide),
    cx("complex_div_real", rg.div, "rc", [((2, 3), ANY), ((2, 3), NONZERO, NONZERO)], np.divide),
    cx("complex_neg", rg.neg, "c", [Z], np.negative),
    cx("complex_pow_const", lambda z: z ** 3.0, "c", [Z], lambda z: z ** 3.0),
    cx("complex_pow", rg.pow, "cc", [((2, 3), POS, UNIT), ((2, 3), UNIT, UNIT)], np.power),
    _unary("exp"),
    _unary("log", POS),
    _unary("sqrt", POS),
    _unary("square"),
    _unary("sin"),
    _unary("cos"),
    _unary("tanh", UNIT, UNIT),
    _unary("tan", UNIT, UNIT),
    _unary("sinh"),
    _unary("cosh"),
    _unary("arcsin", UNIT, UNIT),
    _unary("arccos", UNIT, UNIT),
    _unary("arctan", UNIT, UNIT),
    _unary("arcsinh", UNIT, UNIT),
    _unary("arctanh", UNIT, UNIT),
    _unary("log1p", POS),
    _unary("expm1"),
    _unary("log2", POS),
    _unary("log10", POS),
    _unary("exp2"),
    _unary("reciprocal", NONZERO, NONZERO),
    cx("complex_where", lambda z, w: rg.where(rg.real(z) > 0, z, w), "cc", [((2, 3), NONZERO, ANY), Z],
       lambda z, w: np.where(z.real > 0, z, w)),
    cx("complex_equal", lambda z: rg.where(rg.equal(z, z), z, 0), "c", [Z], lambda z: np.where(z == z, z, 0)),
    # matmul, reductions and scans
    cx("complex_matmul", rg.matmul, "cc", [((2, 3), ANY, ANY), ((3, 4), ANY, ANY)], np.matmul),
    cx("complex_matmul_real", rg.matmul, "rc", [((2, 3), ANY), ((3,), ANY, ANY)], np.matmul),
    cx("complex_sum", lambda z: rg.sum(z, axis=0), "c", [Z], lambda z: np.sum(z, axis=0)),
    cx("complex_mean", lambda z: rg.mean(z, axis=1), "c", [Z], lambda z: np.mean(z, axis=1)),
    cx("complex_prod", lambda z: rg.prod(z, axis=1), "c", [Z], lambda z: np.prod(z, axis=1)),
    cx("complex_cumsum", lambda z: rg.cumsum(z, axis=1), "c", [Z], lambda z: np.cumsum(z, axis=1)),
    cx("complex_einsum", lambda a, b: rg.einsum("ij,kj->ik", a, b), "cc", [Z, Z], lambda a, b: np.einsum("ij,kj->ik", a, b)),
    # shape ops move complex values as they move real ones
    cx("complex_transpose", rg.transpose, "c", [Z], np.transpose),
    cx("complex_reshape", lambda z: rg.reshape(z, (3, 2)), "c", [Z], lambda z: np.reshape(z, (3, 2))),
    cx("complex_getitem", lambda z: z[1, 1::2], "c", [Z], lambda z: z[1, 1::2]),  # (a negative step fails on Dask, also real)
    cx("complex_index", lambda z: z[:, [0, 2, 0]], "c", [Z], lambda z: z[:, [0, 2, 0]]),
    cx("complex_concatenate", lambda z, w: rg.concatenate([z, w], axis=0), "cc", [Z, Z],
       lambda z, w: np.concatenate([z, w], axis=0)),
    cx("complex_broadcast_to", lambda z: rg.broadcast_to(z, (2, 2, 3)), "c", [Z], lambda z: np.broadcast_to(z, (2, 2, 3))),
    cx("complex_roll_flip", lambda z: rg.flip(rg.roll(z, 1, axis=1), axis=0), "c", [Z],
       lambda z: np.flip(np.roll(z, 1, axis=1), axis=0)),
    cx("complex_pad_tile", lambda z: rg.tile(rg.pad(z, 1), 2), "c", [Z], lambda z: np.tile(np.pad(z, 1), 2)),
]

# -- rg.fft: every transform, with n/s padding and cutting, each norm, real and complex inputs -------------
def _fft(id, fn, npfn, kinds="c", specs=(Z,), **options):
    return cx(f"fft_{id}", fn, kinds, list(specs), npfn, **options)


X4 = ((3, 4), ANY)          # a real input
Z34 = ((3, 4), ANY, ANY)    # a complex one
FFT_CASES = [
    _fft("fft", rg.fft.fft, np.fft.fft),
    _fft("fft_real_input", rg.fft.fft, np.fft.fft, "r", [X4]),
    _fft("fft_pad_axis0_ortho", lambda z: rg.fft.fft(z, n=4, axis=0, norm="ortho"),
         lambda z: np.fft.fft(z, n=4, axis=0, norm="ortho")),
    _fft("fft_cut_forward", lambda z: rg.fft.fft(z, n=2, norm="forward"), lambda z: np.fft.fft(z, n=2, norm="forward")),
    _fft("ifft", rg.fft.ifft, np.fft.ifft),
    _fft("ifft_pad_ortho", lambda z: rg.fft.ifft(z, n=5, norm="ortho"), lambda z: np.fft.ifft(z, n=5, norm="ortho")),
    _fft("ifft_cut_axis0", lambda z: rg.fft.ifft(z, n=1, axis=0), lambda z: np.fft.ifft(z, n=1, axis=0)),
    _fft("rfft", rg.fft.rfft, np.fft.rfft, "r", [X4]),
    _fft("rfft_odd", rg.fft.rfft, np.fft.rfft, "r", [((2, 5), ANY)]),
    _fft("rfft_pad_axis0_ortho", lambda x: rg.fft.rfft(x, n=5, axis=0, norm="ortho"),
         lambda x: np.fft.rfft(x, n=5, axis=0, norm="ortho"), "r", [X4]),
    _fft("rfft_cut_forward", lambda x: rg.fft.rfft(x, n=3, norm="forward"),
         lambda x: np.fft.rfft(x, n=3, norm="forward"), "r", [X4]),
    _fft("irfft", rg.fft.irfft, np.fft.irfft, "c", [Z34]),
    _fft("irfft_odd_n", lambda z: rg.fft.irfft(z, n=7), lambda z: np.fft.irfft(z, n=7), "c", [Z34]),
    _fft("irfft_cut_axis0_ortho", lambda z: rg.fft.irfft(z, n=2, axis=0, norm="ortho"),
         lambda z: np.fft.irfft(z, n=2, axis=0, norm="ortho"), "c", [Z34]),
    _fft("irfft_pad_forward", lambda z: rg.fft.irfft(z, n=10, norm="forward"),
         lambda z: np.fft.irfft(z, n=10, norm="forward"), "c", [Z34]),
    _fft("irfft_of_rfft", lambda x: rg.fft.irfft(rg.fft.rfft(x) * (1 + 0.5j), n=4),
         lambda x: np.fft.irfft(np.fft.rfft(x) * (1 + 0.5j), n=4), "r", [X4]),
    _fft("fft2", rg.fft.fft2, np.fft.fft2),
    _fft("fft2_s_ortho", lambda z: rg.fft.fft2(z, s=(3, 2), norm="ortho"), lambda z: np.fft.fft2(z, s=(3, 2), norm="ortho")),
    _fft("ifft2", rg.fft.ifft2, np.fft.ifft2),
    _fft("ifft2_s_forward", lambda z: rg.fft.ifft2(z, s=(1, 4), norm="forward"),
         lambda z: np.fft.ifft2(z, s=(1, 4), norm="forward")),
    _fft("fftn", rg.fft.fftn, np.fft.fftn, "c", [((2, 3, 2), ANY, ANY)]),
    _fft("fftn_axes_s", lambda z: rg.fft.fftn(z, s=(3, 2), axes=(2, 0)), lambda z: np.fft.fftn(z, s=(3, 2), axes=(2, 0)),
         "c", [((2, 3, 2), ANY, ANY)]),
    _fft("ifftn", rg.fft.ifftn, np.fft.ifftn, "r", [((2, 3, 2), ANY)]),
    _fft("ifftn_axes_ortho", lambda z: rg.fft.ifftn(z, axes=(1,), norm="ortho"),
         lambda z: np.fft.ifftn(z, axes=(1,), norm="ortho")),
    _fft("fftshift", rg.fft.fftshift, np.fft.fftshift, "r", [((3, 4), ANY)]),
    _fft("fftshift_axis_complex", lambda z: rg.fft.fftshift(z, axes=1), lambda z: np.fft.fftshift(z, axes=1)),
    _fft("fftshift_of_fft", lambda x: rg.fft.fftshift(rg.fft.fft(x)), lambda x: np.fft.fftshift(np.fft.fft(x)),
         "r", [((5,), ANY)]),
]
COMPLEX_CASES += FFT_CASES
