"""The NumPy fast paths of the table of measures (inputs below the blocked driver's size).

See :mod:`kullback.measures._fast` for the contract every fast path keeps.

One vector (the commonest call: ``kb.kl_divergence(p, q)`` on a few outcomes) takes a lean
kernel of four or five ufunc calls whose row arithmetic is done on Python floats: at that size
a call costs what its Python layer costs, and SciPy's own one-liners are the yardstick. Short
vectors use ``scipy.special.xlogy`` / ``entr`` (zeros handled, no warnings); longer ones the
SIMD ``np.log`` (a zero rejects the row: the general path takes it). Batches take the generic
formulas of :mod:`kullback.measures._fast` over :class:`Ops`.
"""

from __future__ import annotations

import math
from operator import mul as _MUL
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
        same operations for every row of a batch (one vector takes the lean kernels below:
        equal to rounding, within the acceptance rule)."""
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


# ----------------------------------------------------------------------------- one vector
#
# One set of kernels on three namespaces (a few outcomes as Python floats, short and long
# vectors); the value is kept by ``_fast.accept``'s rule: value * 2**-40 >= bound * 2**-52
# (2**-14 for a float32 result).

_ADD = np.add.reduce
_MIN = np.minimum.reduce
_LOW = 2.0**-512
_NORMAL = 2.0**-1000  # least/total above it: no scaled entry nor sum of two is 0
_HIGH = 2.0**1000  # larger totals: sum p log p could overflow (the general path scales)
_LN2 = math.log(2.0)
_Found = tuple[float, float] | None  # a kernel's (value, error bound in eps), or None
# a float32 vector up to this size is widened (its generic formulas' fixed cost, ~15 us, is
# more than widening costs); above, they run in float32, whose log is twice as fast
_F32_LEAN = 8192
_SHORT = 256  # below this, scipy.special's scalar loops cost less than np.log's errstate


def _special() -> Any:
    """``scipy.special``, imported on first use (``import kullback`` stays light)."""
    global _SPECIAL
    if _SPECIAL is None:
        from scipy import special

        _SPECIAL = special
    return _SPECIAL


_SPECIAL: Any = None


_FAR = {np.float64: 2.0**-12, np.float32: 2.0**-38}


class _Floats:
    """A few outcomes as Python floats: ``math.fsum`` (correctly rounded) beats any ufunc
    call. Every ``y`` goes under a log (a negative one raises ValueError: the general path
    serves); a zero ``y`` retries with the zero-``x`` terms skipped, ``y``'s signs checked."""

    total = staticmethod(math.fsum)
    least = staticmethod(lambda *xs: min(map(min, xs)))
    scale = staticmethod(lambda x, c: [a / c for a in x])
    add = staticmethod(lambda x, y: [a + b for a, b in zip(x, y, strict=True)])
    masked_checked = True  # a negative y where x = 0 raises here: no separate sign check

    @staticmethod
    def xlogy_sum(x: list[float], y: list[float], positive: bool = False) -> float:
        try:
            return math.fsum(map(_MUL, x, map(math.log, y)))
        except ValueError:  # a zero (or negative) y: 0 log 0 = 0, a negative one refused
            if min(y) < 0.0:
                raise
            return math.fsum([a * math.log(b) for a, b in zip(x, y, strict=True) if a != 0.0])


class _Short:
    """A short vector: the SIMD ``np.log`` and a dot product where every ``y`` is known to be
    positive (no warning can arise), else ``scipy.special.xlogy`` (0 log 0 = 0, no
    warnings)."""

    total = staticmethod(lambda x: float(_ADD(x)))
    least = staticmethod(lambda *xs: float(_MIN(xs[0] if len(xs) == 1 else np.minimum(*xs))))
    scale = staticmethod(np.divide)
    add = staticmethod(np.add)
    masked_checked = False  # xlogy(0, y) is 0 for a negative y too

    @staticmethod
    def xlogy_sum(x: Any, y: Any, positive: bool = False) -> float:
        if positive:
            return float(np.dot(x, np.log(y)))
        return float(_ADD(_special().xlogy(x, y)))


class _Long(_Short):
    """A long vector: ``np.log`` everywhere (0 log 0 is NaN here: the general path takes
    it; the caller silences the warnings)."""

    @staticmethod
    def xlogy_sum(x: Any, y: Any, positive: bool = False) -> float:
        return float(np.dot(x, np.log(y)) if positive else _ADD(x * np.log(y)))


# Each kernel takes two vectors in one of the namespaces above (``q`` None for entropy) and
# returns the measure in nats with its rounding-error bound in units of 2**-52, or None where
# the general path must serve: a total outside [2**-512, 2**1000] (NaN and infinite entries land
# here), a negative entry, or a non-finite result.

def _totals(ns: Any, p: Any, q: Any = None, bare: tuple = (), masked: tuple = ()
            ) -> tuple[float, float, float] | None:
    """The vectors' totals (``q``'s 1.0 if None) and the least entry of the checked operands
    (0.0 if none is checked), or None if a total is out of range or an entry negative that
    the logs cannot reveal: ``bare`` operands never go under a log, ``masked`` ones only
    where their partner is not 0 (an operand whose every entry is under a log needs no
    check: a negative one makes the sum NaN, or raises ValueError on Python floats)."""
    sp = ns.total(p)
    sq = 1.0 if q is None else ns.total(q)
    if not (_LOW <= sp <= _HIGH and _LOW <= sq <= _HIGH):
        return None
    checked = bare if ns.masked_checked else bare + masked
    if not checked:
        return sp, sq, 0.0
    least = ns.least(*checked)
    return None if least < 0.0 else (sp, sq, least)


def _entropy(ns: Any, p: Any, q: None) -> _Found:
    """``H = log S - (sum p log p)/S`` (no normalising pass); ``sum |p log p| / S <= H +
    |log S|``, so the bound is ``8 (H + |log S| + 1)``."""
    totals = _totals(ns, p)
    if totals is None:
        return None
    ls = math.log(totals[0])
    h = ls - ns.xlogy_sum(p, p) / totals[0]
    return (h, 8.0 * (h + abs(ls) + 1.0)) if h >= 0.0 else None


def _cross_entropy(ns: Any, p: Any, q: Any) -> _Found:
    """``H(P, Q) = log S_q - (sum p log q)/S_p``; bound ``4 (|H| + 2 |log S_q| + 1)``."""
    totals = _totals(ns, p, q, (p,), (q,))  # no log of p; q's skipped where p = 0
    if totals is None:
        return None
    lq = math.log(totals[1])
    ce = lq - ns.xlogy_sum(p, q, totals[2] > 0.0) / totals[0]
    return ce, 4.0 * (abs(ce) + 2.0 * abs(lq) + 1.0)


def _kl(ns: Any, p: Any, q: Any) -> _Found:
    """``KL = H(P, Q) - H(P)`` from two sums; nearly identical inputs fail the bound."""
    totals = _totals(ns, p, q, (), (q,))  # q's log is skipped where p = 0
    if totals is None:
        return None
    sp, sq, least = totals
    lp, lq = math.log(sp), math.log(sq)
    a = ns.xlogy_sum(p, p) / sp - lp
    b = ns.xlogy_sum(p, q, least > 0.0) / sp - lq
    return a - b, 4.0 * (abs(a) + abs(b) + abs(lp) + abs(lq) + 1.0)


def _js(ns: Any, p: Any, q: Any) -> _Found:
    """``JS = H(M) - (H(P) + H(Q))/2`` on the normalised vectors, ``H(M) = ln 2 - (sum R log
    R)/2`` with ``R = P + Q = 2M`` (one pass fewer than forming ``M``); bound ``8 (H(M) +
    1)``. Where the least entry is within ``2**-1000`` of a total, a scaled entry may
    underflow to 0, and the sums take ``xlogy``."""
    totals = _totals(ns, p, q, (p, q))  # scaling may round a tiny negative entry to -0.0
    if totals is None:
        return None
    sp, sq, least = totals
    P, Q = ns.scale(p, sp), ns.scale(q, sq)
    R = ns.add(P, Q)
    positive = least > max(sp, sq) * _NORMAL
    hp, hq = -ns.xlogy_sum(P, P, positive), -ns.xlogy_sum(Q, Q, positive)
    hm = _LN2 - ns.xlogy_sum(R, R, positive) * 0.5
    return min(hm - (hp + hq) * 0.5, _LN2), 8.0 * (hm + 1.0)  # JS is at most ln 2


_KERNELS = {
    "entropy": _entropy,
    "cross_entropy": _cross_entropy,
    "kl_divergence": _kl,
    "js_divergence": _js,
}
_FEW_MAX = 12
_F64 = np.dtype(np.float64)
# the output type of each input dtype the lean kernels take (float16 and longdouble: not)
_OUT = {np.dtype(t): np.float32 if t is np.float32 else np.float64
        for t in (np.float64, np.float32, np.int8, np.int16, np.int32, np.int64, np.uint8,
                  np.uint16, np.uint32, np.uint64)}


def _vector(name: str, p: Any, q: Any) -> Any:
    """The measure of one vector by its lean kernel (NumPy scalar in the output dtype), or
    None. Integers and float32 are computed in float64 (so a float32 result is accepted
    wherever the float64 error is within float32's contract)."""
    return _one(_KERNELS[name], p, q)


def _one(kernel: Any, p: Any, q: Any) -> Any:
    """:func:`_vector` by the kernel itself (the hot path: one look-up fewer)."""
    dtype = p.dtype
    out = _OUT.get(dtype)
    n = p.size
    if out is None or n == 0 or n >= _FAST_MAX or (q is not None and (
            type(q) is not np.ndarray or q.dtype != dtype or q.shape != p.shape)):
        return None
    if n <= _FEW_MAX:
        try:
            found = kernel(_Floats, p.tolist(), None if q is None else q.tolist())
        except (ValueError, OverflowError):  # log(0) where p > 0 (an infinite measure), or
            return None  # of a negative; fsum of infinities or beyond the float range
    elif out is np.float32 and n > _F32_LEAN:
        return None  # float32 logs are twice as fast: the generic formulas, in float32
    else:
        if dtype != _F64:
            p = p.astype(np.float64)
            q = None if q is None else q.astype(np.float64)
        if n <= _SHORT:
            found = kernel(_Short, p, q)
        else:
            with np.errstate(all="ignore"):
                found = kernel(_Long, p, q)
    if found is None:
        return None
    value, bound = found  # kept if finite and its float64 error (``bound`` units of 2**-52)
    # is under 2**-40 of it for a float64 result, 2**-14 for float32
    return out(value) if bound * _FAR[out] <= value < math.inf else None


def _path(formula: Any, kernel: Any) -> Any:
    """The fast path of one measure: a vector by its lean ``kernel``, a batch by the generic
    ``formula`` over :class:`Ops`."""

    def run(entry: Any, p: Any, q: Any, axis: int) -> Any:
        if type(p) is np.ndarray and p.ndim == 1:
            value = _one(kernel, p, q)
            if value is not None:
                return value
        if not Ops.accepts(*((p,) if q is None else (p, q))):
            return None
        return _fast.eager(formula, Ops, entry, p, q, axis)

    run.__name__ = run.__qualname__ = formula.__name__
    run.__doc__ = formula.__doc__
    return run


FAST = {
    "entropy": _path(_fast.entropy, _entropy),
    "cross_entropy": _path(_fast.cross_entropy, _cross_entropy),
    "kl_divergence": _path(_fast.kl, _kl),
    "js_divergence": _path(_fast.js, _js),
}
