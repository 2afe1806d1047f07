"""NumPy-style methods and operators shared by symbolic Tensors and dynamic
Variables. Each is one op through ``apply``, so it builds a node on a Tensor and
computes (and records) on a Variable; an engine may override an operator with a
faster path to the same op."""

from __future__ import annotations

from typing import Any

from .apply import apply
from .numpy_dispatch import array_function, array_ufunc


_BASIC = frozenset({int, slice, type(None), type(Ellipsis)})  # index items that are certainly basic slicing


class ArrayMethods:
    """``x.T``, ``x.reshape``, ``x.sum``/``mean``/``max``/``min``/``prod``/``var``/``std``/``cumsum``/``clip``,
    ``x.transpose``, ``x[...]`` (basic and advanced),
    ``x.dot``/``ravel``/``flatten``/``astype``/``swapaxes``/``repeat``/``diagonal``/``real``/``imag``/``conj`` and ``+ - * / % ** @ < <= > >=``.

    >>> (x.T @ x).sum(axis=0)
    """

    __slots__ = ()

    @property
    def T(self) -> Any:
        return apply("transpose", self)

    @property
    def real(self) -> Any:
        return apply("real", self)

    @property
    def imag(self) -> Any:
        return apply("imag", self)

    def conj(self) -> Any:
        return apply("conj", self)

    conjugate = conj

    def reshape(self, *shape: Any) -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply("reshape", self, shape=shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply("sum", self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply("mean", self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply("max", self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply("min", self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply("prod", self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
        return apply("var", self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis: Any = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
        return apply("std", self, axis=axis, keepdims=keepdims, ddof=ddof)

    def cumsum(self, axis: Any = None) -> Any:
        return apply("cumsum", self, axis=axis)

    def clip(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002  (NumPy's ndarray.clip names)
        bounds = [b for b in (min, max) if b is not None]
        return apply("clip", self, *bounds, has_min=min is not None, has_max=max is not None)

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,):
            axes = axes[0]
        return apply("transpose", self, axes=tuple(axes) if axes else None)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(x)``, ``np.add(x, 1)``, ``ndarray + x``: the op of the ufunc's name (ir/numpy_dispatch.py)."""
        return array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """``np.sum(x)``, ``np.concatenate([x, x])``, ``np.linalg.inv(x)``: the rg function of that name."""
        return array_function(self, func, types, args, kwargs)

    # NumPy's ndarray methods for the shape ops (the functions live in ir/ops, which imports this module)
    def dot(self, b: Any) -> Any:
        from .ops.combine import dot

        return dot(self, b)

    def ravel(self) -> Any:
        return apply("reshape", self, shape=(-1,))

    def flatten(self) -> Any:  # a copy in NumPy; values are never shared in a graph, so the same as ravel
        return apply("reshape", self, shape=(-1,))

    def astype(self, dtype: Any) -> Any:
        from .dtypes import as_dtype

        return apply("cast", self, dtype=as_dtype(dtype).name)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        from .ops.combine import swapaxes

        return swapaxes(self, axis1, axis2)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return apply("repeat", self, repeats=repeats, axis=axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return apply("diagonal", self, offset=offset, axis1=axis1, axis2=axis2)

    def __getitem__(self, index: Any) -> Any:
        if type(index) in _BASIC or type(index) is tuple and all(type(i) in _BASIC for i in index):
            return apply("getitem", self, index=index)
        from .ops.indexing import getitem  # arrays, lists, masks: advanced indexing (NumPy's rules)

        return getitem(self, index)

    def __add__(self, o): return apply("add", self, o)
    def __radd__(self, o): return apply("add", o, self)
    def __sub__(self, o): return apply("sub", self, o)
    def __rsub__(self, o): return apply("sub", o, self)
    def __mul__(self, o): return apply("mul", self, o)
    def __rmul__(self, o): return apply("mul", o, self)
    def __truediv__(self, o): return apply("div", self, o)
    def __rtruediv__(self, o): return apply("div", o, self)
    def __pow__(self, o): return apply("pow", self, o)
    def __rpow__(self, o): return apply("pow", o, self)
    def __mod__(self, o): return apply("mod", self, o)
    def __rmod__(self, o): return apply("mod", o, self)
    def __matmul__(self, o): return apply("matmul", self, o)
    def __rmatmul__(self, o): return apply("matmul", o, self)
    def __neg__(self): return apply("neg", self)
    def __pos__(self): return self
    def __abs__(self): return apply("abs", self)
    def __lt__(self, o): return apply("less", self, o)
    def __le__(self, o): return apply("less_equal", self, o)
    def __gt__(self, o): return apply("greater", self, o)
    def __ge__(self, o): return apply("greater_equal", self, o)
