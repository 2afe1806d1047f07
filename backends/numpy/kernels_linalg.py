"""NumPy kernels of ``rg.linalg`` (ir/ops/linalg.py), merged into kernels.py's one table.

The ops with several outputs return them packed into one array (the layouts are in
ir/ops/linalg.py's docstring); the rest are NumPy's own functions. Helpers read the array
namespace from kernels.py at call time, so a backend that swaps ``kernels.xp`` swaps them too.
"""

from __future__ import annotations

from typing import Any


def _xp() -> Any:
    from . import kernels

    return kernels.xp


def slogdet_packed(a):
    xp = _xp()
    sign, logabs = xp.linalg.slogdet(a)
    return xp.stack([sign, logabs], axis=-1)


def eigh_packed(a):
    xp = _xp()
    w, v = xp.linalg.eigh(a)
    return xp.concatenate([w[..., None, :], v], axis=-2)


def svd_packed(a):
    xp = _xp()
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    return xp.concatenate([u, s[..., None, :], xp.swapaxes(vh, -1, -2)], axis=-2)


def qr_packed(a):
    xp = _xp()
    q, r = xp.linalg.qr(a, mode="reduced")
    return xp.concatenate([q, xp.swapaxes(r, -1, -2)], axis=-2)


def solve(a, b):
    """np.linalg.solve with NumPy 2's rule (a 1-D b is one vector, broadcast over a's batch)."""
    xp = _xp()
    if xp.ndim(b) == 1:
        return xp.linalg.solve(a, b[:, None])[..., 0]
    return xp.linalg.solve(a, b)


HELPERS = {f.__name__: f for f in (slogdet_packed, eigh_packed, svd_packed, qr_packed)}
HELPERS["linalg_solve"] = solve

TEMPLATES = {
    "inv": "xp.linalg.inv({0})", "det": "xp.linalg.det({0})", "cholesky": "xp.linalg.cholesky({0})",
    "slogdet": "slogdet_packed({0})", "eigh": "eigh_packed({0})", "svd": "svd_packed({0})", "qr": "qr_packed({0})",
    "solve": "linalg_solve({0}, {1})",
}
