"""Complex numbers beyond the op table (tests/optable_complex.py): complex inputs, feeds and constants,
NumPy 2's promotion, save/load, drawing, the refusals, and HIPS autograd's gradient convention checked
directly on complex inputs -- for a real loss L of z = x + iy, rg.grad gives dL/dx - i dL/dy (central
differences perturbing the real and the imaginary parts separately), to second order, in both engines;
a complex output is seeded with 1, so rg.grad of a holomorphic f is f'(z)."""

import numpy as np
import pytest

import revgraph as rg
from revgraph import dynamic as dy

Z = np.array([[1.0 + 2.0j, 0.5 - 1.0j, -1.0 + 0.3j], [0.2 + 0.1j, -0.7 - 0.4j, 1.5 + 0.0j]])
R = np.array([[0.3 - 0.2j, 1.0 + 0.5j, -0.4 + 0.9j], [0.8 + 0.0j, -0.1 - 0.6j, 0.2 + 0.3j]])


def loss_of(z):
    """A real loss mixing holomorphic ops with abs, conj, real, imag and angle."""
    w = rg.exp(z * 0.5) * z + rg.conj(z) * 2.0 - z / (z + 3.0)
    return rg.sum(rg.abs(w) + rg.real(w * w) * 0.1 + rg.imag(rg.sin(z)) + rg.angle(z + 4.0) * 0.3)


def numeric(f, z, eps=1e-6):
    """dL/dx - i dL/dy by central differences of the real function f at z."""
    out = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[idx] = eps
        dx = (f(z + step) - f(z - step)) / (2 * eps)
        dy = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
        out[idx] = dx - 1j * dy
    return out


def test_real_loss_of_complex_input_gradient_is_autograds_convention_in_both_engines():
    g = rg.Graph()
    z = g.input("z", shape=Z.shape, dtype="complex128")
    loss = loss_of(z)
    dz = rg.grad(loss, z)
    assert dz.dtype == np.complex128
    value = rg.compile(loss)
    want = numeric(lambda v: value(z=v), Z)
    np.testing.assert_allclose(rg.compile(dz)(z=Z), want, rtol=1e-6, atol=1e-8)
    v = dy.Variable(Z.copy())
    loss_of(v).backward()
    np.testing.assert_allclose(v.grad.data, want, rtol=1e-6, atol=1e-8)


def test_second_derivatives_of_a_real_loss_of_complex_input_match_central_differences():
    """phi(z) = Re <grad L(z), r>: rg.grad(phi) against central differences of the compiled phi."""
    g = rg.Graph()
    z = g.input("z", shape=Z.shape, dtype="complex128")
    phi = rg.sum(rg.real(rg.grad(loss_of(z), z) * R))
    value = rg.compile(phi)
    want = numeric(lambda v: value(z=v), Z)
    np.testing.assert_allclose(rg.compile(rg.grad(phi, z))(z=Z), want, rtol=1e-5, atol=1e-7)
    v = dy.Variable(Z.copy())
    loss_of(v).backward(create_graph=True)
    gz = v.grad
    v.cleargrad()
    rg.sum(rg.real(gz * R)).backward()
    np.testing.assert_allclose(v.grad.data, want, rtol=1e-5, atol=1e-7)


def test_a_complex_output_is_seeded_with_one_so_a_holomorphic_gradient_is_the_derivative():
    g = rg.Graph()
    z = g.input("z", dtype="complex128")
    y = z ** 3.0 + rg.exp(z)
    dz = rg.grad(y, z)
    z0 = 0.4 - 1.3j
    np.testing.assert_allclose(rg.compile(dz)(z=z0), 3 * z0 ** 2 + np.exp(z0), rtol=1e-12)
    v = dy.Variable(np.array(z0))
    (v ** 3.0 + rg.exp(v)).backward()
    np.testing.assert_allclose(v.grad.data, 3 * z0 ** 2 + np.exp(z0), rtol=1e-12)


def test_a_real_input_meeting_complex_values_gets_the_real_part_of_its_gradient():
    g = rg.Graph()
    x = g.input("x", shape=(3,))
    loss = rg.sum(rg.abs(x * (1 + 2j) + 1j) ** 2.0)
    dx = rg.grad(loss, x)
    assert dx.dtype == np.float64
    xv = np.array([0.5, -1.0, 2.0])
    want = 2 * (5 * xv + 2)  # |x(1+2i) + i|^2 = x^2 + (2x + 1)^2
    np.testing.assert_allclose(rg.compile(dx)(x=xv), want, rtol=1e-12)


@pytest.mark.parametrize("a,b", [("float32", 1j), ("float32", "complex128"), ("int64", 1j), ("complex64", "float64"),
                                 ("complex64", 2.0), ("int8", "complex64"), ("float64", "complex64")])
def test_dtypes_promote_as_numpy_2(a, b):
    g = rg.Graph()
    x = g.input("x", shape=(2,), dtype=a)
    scalar = not isinstance(b, str)
    other = b if scalar else g.input("y", shape=(2,), dtype=b)
    out = x * other
    expected = np.result_type(np.ones(2, a), b if scalar else np.ones(2, b))
    assert out.dtype == expected
    feeds = {"x": np.ones(2, a)} | ({} if scalar else {"y": np.ones(2, b)})
    assert np.asarray(rg.compile(out)(**feeds)).dtype == expected


def test_complex_feeds_and_their_refusals():
    g = rg.Graph()
    z = g.input("z", shape=(2,), dtype="complex64")
    x = g.input("x", shape=(2,))
    f = rg.compile(rg.real(z) * x)
    np.testing.assert_allclose(f(z=np.array([1 + 1j, 2 - 1j]), x=np.ones(2)), [1.0, 2.0])
    np.testing.assert_allclose(f(z=np.array([3.0, 4.0]), x=np.ones(2)), [3.0, 4.0])  # a real feed becomes complex
    with pytest.raises(rg.FeedError, match="input 'x' has dtype float64.*complex128"):
        f(z=np.ones(2), x=np.array([1 + 1j, 2j]))


@pytest.mark.parametrize("build", [lambda z: rg.maximum(z, z), lambda z: z < 0, lambda z: rg.relu(z),
                                   lambda z: z.astype("float64"), lambda z: rg.floor(z), lambda z: rg.max(z),
                                   lambda z: rg.sign(z)])
def test_ops_without_a_complex_meaning_refuse_complex_operands_by_name(build):
    g = rg.Graph()
    z = g.input("z", shape=(2,), dtype="complex128")
    with pytest.raises(rg.GraphError, match=r"complex128.*(not defined for complex|imaginary part).*rg\.real"):
        build(z)
    assert len(g.nx) == 1  # nothing was built


def test_complex_constants_and_weak_complex_scalars_survive_save_and_load(tmp_path):
    g = rg.Graph()
    z = g.input("z", shape=(2,), dtype="complex128")
    c = g.constant(np.array([1 - 2j, 0.5j], dtype=np.complex64), name="c")
    out = z * c + 2j
    path = tmp_path / "complex.json"
    g.save(path)
    back = rg.load(path)
    assert back.tensor("c").dtype == np.complex64
    zv = np.array([0.3 + 1j, -2.0 + 0.25j])
    want = zv * np.array([1 - 2j, 0.5j], dtype=np.complex64) + 2j
    np.testing.assert_allclose(rg.compile(back.tensor(out.name))(z=zv), want, rtol=1e-7)
    np.testing.assert_allclose(rg.compile(out)(z=zv), want, rtol=1e-7)


def test_tensor_and_variable_have_numpys_real_imag_and_conj():
    g = rg.Graph()
    z = g.input("z", shape=Z.shape, dtype="complex128")
    out = z.real * z.imag + (z.conj() * z.conjugate()).real
    want = Z.real * Z.imag + (Z.conj() * Z.conj()).real
    np.testing.assert_allclose(rg.compile(out)(z=Z), want, rtol=1e-12)
    v = dy.Variable(Z)
    np.testing.assert_allclose((v.real * v.imag + (v.conj() * v.conjugate()).real).data, want, rtol=1e-12)
    np.testing.assert_allclose(rg.compile(np.conj(z) + np.real(z) + np.angle(z))(z=Z), Z.conj() + Z.real + np.angle(Z))


def test_drawings_show_the_complex_dtype():
    g = rg.Graph()
    z = g.input("z", shape=(2,), dtype="complex64")
    out = rg.abs(z * 1j) * 2.0  # edges: complex64 into abs, float32 out of it
    source = rg.to_dot(out, "forward").source
    assert "complex64" in source and "float32" in source


@pytest.mark.parametrize("build,message", [
    (lambda x: rg.fft.rfft(x * 1j), "rfft takes a real input, got complex128"),
    (lambda x: rg.fft.fftn(x, axes=()), "axes is empty"),
    (lambda x: rg.fft.fft(x, n=0), "not a positive number of points"),
    (lambda x: rg.fft.fft(x, norm="half"), "norm 'half' is not one of"),
    (lambda x: rg.fft.fft2(x, s=(2,), axes=(0, 1)), "one size for each of the 2 axes"),
    (lambda x: rg.fft.irfft(x[:, :1]), "gives an output of 0 points"),
    (lambda x: rg.fft.fft(rg.reshape(x, (-1,)) * rg.sum(x), axis=1), "axis 1 is out of range"),
])
def test_fft_refusals_name_the_op_and_the_fix(build, message):
    g = rg.Graph()
    x = g.input("x", shape=(2, 3))
    with pytest.raises(rg.GraphError, match=message):
        build(x)


def test_fft_sizes_fixed_at_run_time_unless_a_transform_needs_them():
    g = rg.Graph()
    x = g.input("x", shape=(None, 4))
    y = rg.fft.fft(x, axis=0)  # no n: the size may stay unknown
    dx = rg.grad(rg.sum(rg.real(y * (1 + 2j))), x)
    xv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(rg.compile(y)(x=xv), np.fft.fft(xv, axis=0))
    np.testing.assert_allclose(rg.compile(dx)(x=xv), np.real(np.fft.fft(np.full((3, 4), 1 + 2j), axis=0)))
    with pytest.raises(rg.GraphError, match="axis 0 is not declared.*n/s resizes it"):
        rg.fft.fft(x, n=4, axis=0)
    with pytest.raises(rg.GraphError, match="axis 0 is not declared.*rfft's output size"):
        rg.fft.rfft(x, axis=0)
