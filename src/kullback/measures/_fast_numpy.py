"""The NumPy fast paths of the table of measures (inputs below the blocked driver's size).

See :mod:`kullback.measures._fast` for the contract every fast path keeps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kullback.measures import _fast

__all__ = ["FAST", "Ops"]

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_FAST_MAX = 1 << 18  # the blocked driver serves larger NumPy inputs


class Ops:
    """Plain NumPy ufuncs (no namespace wrappers): the fast path is mostly call overhead."""

    name = "numpy"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        a = arrays[0]
        return (all(type(x) is np.ndarray for x in arrays) and a.dtype in _FLOATS
                and all(x.dtype == a.dtype and x.shape == a.shape for x in arrays)
                and 0 < a.size < _FAST_MAX and a.ndim > 0)

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return np.add.reduce(x, axis=axis, keepdims=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        """Row sums of ``x log x`` (NaN where any ``x <= 0``: the caller falls back). The
        same operations for one row as for a batch, so a batch equals its rows exactly."""
        return np.add.reduce(x * np.log(x), axis=axis)

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        return np.add.reduce(x * np.log(y), axis=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        return True  # x log x is NaN at 0 already

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(axis=axis)

    eps = staticmethod(lambda x: _fast._EPS[x.dtype])
    log = staticmethod(np.log)
    where = staticmethod(np.where)
    wide = staticmethod(lambda x: x.astype(np.float64) if x.dtype == np.float32 else x)
    narrow = staticmethod(lambda v, dtype: v.astype(dtype) if v.dtype != dtype else v)
    squeeze = staticmethod(lambda x, axis: np.squeeze(x, axis=axis))


def _path(formula: Any) -> Any:
    def run(entry: Any, p: Any, q: Any, axis: int) -> Any:
        if not Ops.accepts(*((p,) if q is None else (p, q))):
            return None
        return _fast.eager(formula, Ops, entry, p, q, axis)

    run.__name__ = run.__qualname__ = formula.__name__
    run.__doc__ = formula.__doc__
    return run


FAST = {
    "entropy": _path(_fast.entropy),
    "cross_entropy": _path(_fast.cross_entropy),
    "kl_divergence": _path(_fast.kl),
    "js_divergence": _path(_fast.js),
}
