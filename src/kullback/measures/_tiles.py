"""Tile kernels of the blocked driver: the measures' terms on one cache-sized tile.

:class:`TileNamespace` is the slice of the array API the probability kernels use, writing every
result into a reusable per-thread buffer (allocation per operation was the first bottleneck).
Each ``tile_*`` function returns the row sums of one measure's terms on a tile: a fast path of
a few in-place operations for the common tile (every entry positive and normal) and the
generic kernel of :mod:`kullback.measures._kernels` for any other tile, so the result is always
the generic one's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback.measures import _kernels

__all__ = [
    "NORMALISED",
    "RawTotals",
    "TileNamespace",
    "extremes",
    "finish_raw_cross_entropy",
    "finish_raw_entropy",
    "finish_raw_kl",
    "normalised_cross_entropy",
    "normalised_entropy",
    "one_sign_rejects",
    "rowsum",
    "tile_cross_entropy",
    "tile_entropy",
    "tile_js",
    "tile_kl",
    "tile_log_ratio",
]


class TileNamespace:
    """The slice of the array API the probability kernels use, writing into reusable buffers.

    Every result has the current tile's shape, in the compute dtype or bool. Each call takes
    the next slot of a per-thread pool of buffers; :meth:`reset` rewinds the pool before each
    tile. A kernel never reads a value computed for an earlier tile, and a slot is never
    reused within one tile, so no live value is overwritten. ``guard_gradients`` is False:
    nothing here is differentiated, so the kernels may skip the guards that exist only to keep
    gradients finite (the values are the same).
    """

    guard_gradients = False
    float32 = np.float32
    float64 = np.float64

    def __init__(self, dtype: Any) -> None:
        self._dtype = np.dtype(dtype)
        self._float: list[np.ndarray] = []
        self._bool: list[np.ndarray] = []
        self._nf = self._nb = 0
        self._shape: tuple[int, int] = (0, 0)
        self._columns = False

    def reset(self, shape: tuple[int, int], columns: bool = False) -> None:
        """Rewind the pool for a tile of ``shape``; ``columns``: the tile is stored outcome
        by outcome (Fortran order, an input reduced along its first axis), and so are the
        buffers, so that every operation runs along memory."""
        self._nf = self._nb = 0
        self._shape = shape
        self._columns = columns

    def _take(self, pool: list[np.ndarray], i: int, dtype: Any) -> np.ndarray:
        size = self._shape[0] * self._shape[1]
        if i == len(pool):
            pool.append(np.empty(size, dtype=dtype))
        elif pool[i].size < size:
            pool[i] = np.empty(size, dtype=dtype)
        if self._columns:
            return pool[i][:size].reshape(self._shape[::-1]).T
        return pool[i][:size].reshape(self._shape)

    def _f(self) -> np.ndarray:
        self._nf += 1
        return self._take(self._float, self._nf - 1, self._dtype)

    def _b(self) -> np.ndarray:
        self._nb += 1
        return self._take(self._bool, self._nb - 1, np.bool_)

    finfo = staticmethod(np.finfo)

    def log(self, x: Any) -> np.ndarray:
        return np.log(x, out=self._f())

    def log1p(self, x: Any) -> np.ndarray:
        return np.log1p(x, out=self._f())

    def negative(self, x: Any) -> np.ndarray:
        return np.negative(x, out=self._f())

    def abs(self, x: Any) -> np.ndarray:
        return np.abs(x, out=self._f())

    def multiply(self, a: Any, b: Any) -> np.ndarray:
        return np.multiply(a, b, out=self._f())

    def divide(self, a: Any, b: Any) -> np.ndarray:
        return np.divide(a, b, out=self._f())

    def add(self, a: Any, b: Any) -> np.ndarray:
        return np.add(a, b, out=self._f())

    def subtract(self, a: Any, b: Any) -> np.ndarray:
        return np.subtract(a, b, out=self._f())

    def maximum(self, a: Any, b: Any) -> np.ndarray:
        return np.maximum(a, b, out=self._f())

    def greater(self, a: Any, b: Any) -> np.ndarray:
        return np.greater(a, b, out=self._b())

    def less(self, a: Any, b: Any) -> np.ndarray:
        return np.less(a, b, out=self._b())

    def less_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.less_equal(a, b, out=self._b())

    def greater_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.greater_equal(a, b, out=self._b())

    def logical_not(self, a: Any) -> np.ndarray:
        return np.logical_not(a, out=self._b())

    def not_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.not_equal(a, b, out=self._b())

    def logical_and(self, a: Any, b: Any) -> np.ndarray:
        return np.logical_and(a, b, out=self._b())

    def where(self, cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
        out = self._f()
        np.copyto(out, b)
        np.copyto(out, a, where=cond)
        return out

    @staticmethod
    def any(x: np.ndarray) -> bool:
        return bool(x.any())

    @staticmethod
    def all(x: np.ndarray) -> bool:
        return bool(x.all())

    @staticmethod
    def min(x: np.ndarray) -> Any:
        """The minimum ignoring NaN (here NaN marks an element a later ``where`` replaces)."""
        return np.fmin.reduce(x, axis=None)




def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product; ``b`` is a scratch buffer (which may be overwritten).

    Not ``np.vecdot``: that calls BLAS, whose own thread pool fights the driver's threads for
    the cores (2x slower with two threads). Short rows multiply in place and add columns (a
    reduction along a short last axis is several times slower than a log). float32 rows
    stored along memory multiply in place and add by NumPy's pairwise summation
    (``np.add.reduce`` along memory), whose error is at most about ``(16 + log2 n) eps`` of
    the terms' magnitude: within a few times the ``8 eps`` the finishing bounds allow, so
    within float32's contract (1e-4) with their 2**-16 tolerance, whatever the rounding;
    ``einsum`` adds the products in an order of its own, with no such bound (``n eps``:
    65536 terms could err by 4e-3). Outcome-major float32 tiles keep ``einsum``: a reduction
    across memory is sequential anyway (and 30 % slower).
    """
    if a.shape[-1] <= _SHORT or (a.dtype == np.float32 and a.strides[-1] == a.itemsize):
        return rowsum(np.multiply(a, b, out=b))
    return np.einsum("ij,ij->i", a, b)


_SHORT = 16


def rowsum(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sums along the last axis of a 2-D tile (into ``out`` if given); rows of at most 16
    entries add columns."""
    n = a.shape[-1]
    if n > _SHORT or n == 1:
        return np.add.reduce(a, axis=-1, out=out)
    out = np.add(a[:, 0], a[:, 1], out=out)
    for j in range(2, n):
        out += a[:, j]
    return out


_TINY = {np.dtype(np.float64): 5e-324, np.dtype(np.float32): 1e-45}


def tile_entropy(ns: TileNamespace, A: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of ``A log A`` (0 log 0 = 0): one log and one fused multiply-sum."""
    L = ns.log(ns.maximum(A, _TINY[A.dtype]) if has_zero else A)
    return _rowdot(A, L)


_EPS = {np.dtype(np.float64): 2.0**-52, np.dtype(np.float32): 2.0**-23}
_HALF = {np.dtype(np.float64): 512, np.dtype(np.float32): 64}
# the fast paths' accepted rounding error, relative to the tile's sum: far inside the accuracy
# contract (1e-10 in float64, 1e-4 in float32) since the tiles' errors add up
_TOL = {np.dtype(np.float64): 2.0**-36, np.dtype(np.float32): 2.0**-16}


def _phi_dot(ns: TileNamespace, W: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row sums of ``W (u - log1p(u))`` (overwrites ``u``'s buffer with nothing it reads)."""
    L = ns.log1p(u)
    np.subtract(u, L, out=L)  # in place: the tile buffers stay in cache
    return _rowdot(W, L)


def _rows_ok(s: np.ndarray, bound: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Rows whose fast sum ``s`` is finite with a rounding error (``bound`` units of eps)
    far inside the contract (1e-10 relative in float64, 1e-4 in float32)."""
    return np.isfinite(s) & (_EPS[dtype] * bound <= _TOL[dtype] * s)


def _checked(s: np.ndarray, bound: np.ndarray, kernel: Any, A: np.ndarray,
             B: np.ndarray) -> np.ndarray:
    """``s`` with the rows that :func:`_rows_ok` refuses recomputed by the generic
    ``kernel``. Every row is usually fine, which two reductions show (``s - (eps/tol) bound
    >= 0`` on every row, and ``s`` finite) instead of a mask of the rows."""
    dtype = np.dtype(s.dtype)
    margin = bound * (-_EPS[dtype] / _TOL[dtype])
    margin += s
    if float(np.minimum.reduce(margin, axis=None)) >= 0.0 \
            and float(np.maximum.reduce(s, axis=None)) < math.inf:  # (NaN fails both)
        return s
    return _fix_rows(s, _rows_ok(s, bound, dtype), kernel, A, B)


def _fix_rows(s: np.ndarray, ok: np.ndarray, kernel: Any, A: np.ndarray,
              B: np.ndarray) -> np.ndarray:
    """``s`` with the rows that are not ``ok`` recomputed by the generic ``kernel``."""
    if ok.all():
        return s
    bad = np.flatnonzero(~ok)
    s[bad] = np.sum(kernel(np, A[bad], B[bad]), axis=-1)
    return s


def tile_kl(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of the Bregman KL terms ``A (x - 1 - log x)``, ``x = B/A``.

    The common tile (every ``A > 0``, no ratio near the float range) takes five operations;
    their rounding error is at most a few ``eps (A + B)`` per element, so a row is accepted
    when ``eps sum(A + B)`` is far below its sum. The other rows (nearly identical inputs,
    whose KL is below that) and any tile with a zero or an extreme ratio go to the generic
    kernel (series near ``x = 1``, every edge case): the result is always within the contract.
    """
    if has_zero:
        return rowsum(_kernels.kl_terms(ns, A, B))
    x = ns.divide(B, A)
    if ns.min(x) < 2.0 ** -_HALF[A.dtype]:
        return rowsum(_kernels.kl_terms(ns, A, B))
    phi = ns.log(x)
    np.subtract(x, phi, out=phi)  # in place: two tile buffers stay in cache, not four
    np.subtract(phi, 1.0, out=phi)
    s = _rowdot(A, phi)
    ok = _rows_ok(s, 8.0 * (rowsum(A) + rowsum(B)), A.dtype)
    return _fix_rows(s, ok, _kernels.kl_terms, A, B)


def tile_js(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of four times the JS terms, ``2 A phi(M/A) + 2 B phi(M/B)``, ``M = (A+B)/2``.

    ``M/A - 1 = (B - A)/(2A)`` is formed from the exact difference ``B - A``, never from a
    rounded midpoint; the ratios are at least 1/2, and ``u - log1p(u)`` errs by about
    ``2 eps |u|`` per unit of weight, so a row's error is at most ``4 eps sum|B - A|``. Rows
    beyond the tolerance (nearly identical) and tiles with a zero or subnormal entry go to the
    generic kernel.
    """
    if has_zero:  # every entry normal and positive below
        return rowsum(_kernels.js_terms(ns, A, B))
    D = ns.subtract(B, A)
    spread = rowsum(ns.abs(D))
    sums = []
    for V, sign in ((A, 0.5), (B, -0.5)):
        u = ns.divide(D, V)
        np.multiply(u, sign, out=u)
        sums.append(_phi_dot(ns, V, u))
    s = sums[0]
    s += sums[1]
    s *= 2.0
    spread *= 8.0
    return _checked(s, spread, _kernels.js_terms, A, B)


def tile_cross_entropy(ns: TileNamespace, A: np.ndarray, B: np.ndarray,
                       has_zero: bool) -> np.ndarray:
    """Row sums of ``A log B`` (0 where ``A = 0``, -inf where ``A > 0 = B``): one log and one
    fused multiply-sum; a tile with a zero takes the generic kernel (``0 log 0 = 0``)."""
    if has_zero:
        return rowsum(_kernels.cross_entropy_terms(ns, A, B))
    return _rowdot(A, ns.log(B))


@dataclass(frozen=True)
class RawTotals:
    """What the single pass knows of each row besides the raw sums: the totals ``sp`` (and
    ``sq``), and where the caller has them already, their extremes ``ranges`` (``(min, max)``
    of ``sp``, then of ``sq``) and ``out``, the rows' slice of the output (a finish writes
    its value there when every row is accepted, and returns it: no copy)."""

    sp: Any
    sq: Any = None
    ranges: tuple[tuple[float, float], ...] | None = None
    out: Any = None

    def extremes(self, i: int) -> tuple[float, float]:
        """``(min, max)`` of ``sp`` (``i = 0``) or ``sq`` (``i = 1``); NaN if any total is."""
        if self.ranges is not None:
            return self.ranges[i]
        return extremes((self.sp, self.sq)[i])


def extremes(s: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of ``s`` (NaN if any entry is; the ufuncs' own reductions: the
    ``np.min`` wrapper costs as much again on a tile's rows)."""
    return float(np.minimum.reduce(s, axis=None)), float(np.maximum.reduce(s, axis=None))


def _normal(s: np.ndarray) -> np.ndarray:
    """Totals from which products of the masses with logarithms stay normal numbers (a
    subnormal term keeps few bits; 2**-half leaves room for any row length)."""
    return s >= 2.0 ** -_HALF[s.dtype]


def _threshold(fixed: float, dtype: np.dtype) -> float:
    """The smallest value accepted when its error bound is ``8 (value + fixed)`` units of
    eps: ``8 eps (v + fixed) <= tol v`` (NaN if ``fixed`` is)."""
    eps, tol = _EPS[dtype], _TOL[dtype]
    return 8.0 * eps * fixed / (tol - 8.0 * eps)


def _above(v: np.ndarray, sign: float, log_s: np.ndarray, big: float, weight: float,
           fixed: float, dtype: np.dtype) -> np.ndarray:
    """``v = sign * value`` where ``value`` is at least its threshold for an error bound of
    ``8 (value + weight |log_s| + fixed)`` units of eps (+inf included), NaN elsewhere: one
    threshold from ``big >= max |log_s|`` decides when every row passes it (one reduction),
    the rows' own thresholds otherwise (short rows' totals, and so ``log_s``, vary widely)."""
    worst = -float(np.maximum.reduce(v, axis=None)) if sign < 0 \
        else float(np.minimum.reduce(v, axis=None))  # NaN if any v is
    one = _threshold(weight * big + fixed, dtype)
    if worst >= one:
        return v
    if not (isinstance(v, np.ndarray) and v.ndim and v.flags.writeable):
        low = _threshold(1.0, dtype) * (weight * np.abs(log_s) + fixed)
        return np.where(sign * v >= low, v, np.nan)
    # only the rows below the one threshold (NaN included) need their own: usually a few
    few = np.nonzero(~(v >= one) if sign > 0 else ~(v <= -one))
    low = _threshold(1.0, dtype) * (weight * np.abs(log_s[few]) + fixed)
    below = v[few]
    v[few] = np.where(sign * below >= low, below, np.nan)
    return v


def _accepted(value: np.ndarray, bound: Any, fine: Any, dtype: np.dtype) -> np.ndarray:
    """``value`` on the rows where it is within the contract (see :func:`_rows_ok`), NaN on
    the others (the caller recomputes them)."""
    return np.where(_rows_ok(value, bound, dtype) & fine, value, np.nan)


def _room(lo: float, hi: float, dtype: np.dtype) -> bool:
    """Whether totals from ``lo`` to ``hi`` are all normal enough (``>= 2**-half``) and
    leave room for a product with a logarithm (``|log x| < 2**11``) below the overflow."""
    return 2.0 ** -_HALF[dtype] <= lo and hi <= float(np.finfo(dtype).max) * 2.0**-11


def _log_extent(lo: float, hi: float) -> float:
    """``max |log s|`` over totals from ``lo > 0`` to ``hi``."""
    return max(abs(math.log(lo)), abs(math.log(hi)))


def finish_raw_entropy(raw: np.ndarray, tot: RawTotals) -> np.ndarray:
    """The sum of the normalised terms (``-H``) from the raw sum ``sum p log p`` of
    unnormalised ``p``: ``-H = raw/S - log S``; NaN on rows where that is not within the
    contract (the caller recomputes them with the exact normalisers).

    The raw sum errs by a few ``eps sum |p log p|``, and ``sum |p log p| <= |raw| + 2 S
    log+(max p)`` (the entries above 1, counts, are the terms of the other sign; ``max p``
    is at most ``S``), so with ``|raw/S| <= H + |log S|`` the error is a few
    ``eps (H + 4 |log S| + 1)``: one threshold from the largest ``|log S|`` decides.
    """
    sp = tot.sp
    dtype = np.dtype(sp.dtype)
    log_s = np.log(sp)
    v = raw / sp if tot.out is None else np.divide(raw, sp, out=tot.out)
    v -= log_s  # in place (a new scalar for one row)
    lo, hi = tot.extremes(0)
    if _room(lo, hi, dtype):
        return _above(v, -1.0, log_s, _log_extent(lo, hi), 4.0, 1.0, dtype)
    h = -v
    return -_accepted(h, 8.0 * (h + 4.0 * np.abs(log_s) + 1.0), _normal(sp), dtype)


def finish_raw_cross_entropy(raw: np.ndarray, tot: RawTotals) -> np.ndarray:
    """The sum of the normalised terms (``-H(P, Q)``) from the raw ``sum p log q``:
    ``-H(P, Q) = raw/S_p - log S_q``; NaN where that is not within the contract.

    The terms ``-P log Q`` are of one sign, so the value is far above its rounding (a few
    ``eps (H(P, Q) + 4 |log S_q| + 1)``, as for the entropy) except for a nearly one-hot
    pair whose cross-entropy is nearly 0; those rows are NaN (the caller takes ``H + KL``
    there). A raw sum of -inf (``p > 0 = q``) is a cross-entropy of +inf, when no product
    can have overflowed (``S_p`` leaves room); otherwise NaN too.
    """
    sp, sq = tot.sp, tot.sq
    dtype = np.dtype(sp.dtype)
    log_s = np.log(sq)
    v = raw / sp if tot.out is None else np.divide(raw, sp, out=tot.out)
    v -= log_s  # in place (a new scalar for one row)
    (lo_p, hi_p), (lo_q, hi_q) = tot.extremes(0), tot.extremes(1)
    if _room(lo_p, hi_p, dtype) and _room(lo_q, hi_q, dtype):
        return _above(v, -1.0, log_s, _log_extent(lo_q, hi_q), 4.0, 1.0, dtype)
    ce = -v
    big = 4.0 * np.abs(log_s) + 1.0
    fits = sp <= np.finfo(dtype).max * 2.0**-11  # |log q| < 2**11: no product overflows
    ce = np.where((raw == -np.inf) & fits, np.inf,
                  _accepted(ce, 8.0 * (ce + big), _normal(sp) & fits, dtype))
    return -ce


def finish_raw_kl(raw: np.ndarray, tot: RawTotals) -> np.ndarray:
    """KL from the raw ``sum p log(q/p)`` of unnormalised ``(p, q)``:
    ``KL = log(S_q/S_p) - raw/S_p``; NaN where that is not within the contract.

    Each term errs by a few ``eps p (1 + |log(q/p)|)``, and ``sum P |log(Q/P)| <= KL + 2``
    (the terms with ``Q > P`` add at most ``2 sum (Q - P)^+ <= 2``), so the error is a few
    ``eps (KL + 3 + 2 |log(S_q/S_p)|)``: a row is accepted where that is far below its KL.
    Nearly identical inputs (KL below about ``2**-12`` in float64, ``0.2`` in float32) are
    NaN: the caller recomputes them with the Bregman terms (a series near ``q = p``). A raw
    sum of -inf (``p > 0 = q``) is a KL of +inf, unless a product may have overflowed.
    """
    sp, sq = tot.sp, tot.sq
    dtype = np.dtype(sp.dtype)
    log_c = np.log(sq / sp)  # the caller checked that the totals are within 2**half
    kl = log_c - raw / sp
    lo, hi = tot.extremes(0)
    if _room(lo, hi, dtype):  # |log c| is at most the log of the totals' extreme ratio
        lo_q, hi_q = tot.extremes(1)
        big = max(abs(math.log(hi_q) - math.log(lo)), abs(math.log(lo_q) - math.log(hi))) \
            if lo_q > 0 and hi_q < math.inf else math.inf  # (NaN: inf)
        return _above(kl, 1.0, log_c, big, 2.0, 3.0, dtype)
    fits = sp <= np.finfo(dtype).max * 2.0**-11
    bound = 8.0 * (kl + 3.0 + 2.0 * np.abs(log_c))
    return np.where((raw == -np.inf) & fits, np.inf,
                    _accepted(kl, bound, _normal(sp) & fits, dtype))


def one_sign_rejects(s: np.ndarray, n: int, roundings: int = 0) -> np.ndarray:
    """The rows of ``s`` (row sums of terms ``<= 0`` of ``n`` normalised entries, see
    :func:`normalised_entropy`) whose rounding error, at most ``eps (n + roundings + (2 n + 4)
    |s|)`` (``roundings``: more roundings of each normalised entry), is not far inside the
    contract (``tol |s|``), or that are not finite (an entry of ``Q`` below the float range):
    set to NaN in place, their indices returned. Two reductions decide for the whole tile; a
    mask only when one fails."""
    dtype = np.dtype(s.dtype)
    eps = _EPS[dtype]
    least = (n + roundings) * eps / (_TOL[dtype] - (2 * n + 4) * eps)
    if -float(np.maximum.reduce(s, axis=None)) >= least \
            and float(np.minimum.reduce(s, axis=None)) > -math.inf:  # (NaN fails both)
        return _NONE
    bad = np.flatnonzero(~((s <= -least) & (s > -math.inf)))
    s[bad] = np.nan
    return bad


_NONE = np.empty(0, dtype=np.intp)


def normalised_entropy(ns: TileNamespace, tiles: list[np.ndarray], totals: list[np.ndarray],
                       out: np.ndarray | None = None) -> np.ndarray:
    """``-H`` of each row of a tile of short rows, normalised first: ``sum P log P`` with
    ``P = A/S`` (into ``out`` if given); NaN on the rows it does not vouch for.

    For float32, where the raw sum's finish (``raw/S - log S``) cancels: here every term is
    of one sign. ``P`` errs by ``n eps`` (the total's rounding), so ``log P`` by ``n eps +
    4 eps |log P|`` (NumPy's float32 log is within 2.3 ulp), and with the product's and the
    ``n - 1`` additions' rounding the sum by at most ``eps (n + (2 n + 4) H)``.
    A zero or negative entry gives NaN (``0 log 0``, ``log`` of a negative).
    """
    A = tiles[0]
    P = ns.divide(A, totals[0][:, None])
    L = ns.log(P)
    np.multiply(L, P, out=L)  # in place: the tile buffers stay in cache
    s = rowsum(L, out)
    one_sign_rejects(s, A.shape[-1])
    return s


def normalised_cross_entropy(ns: TileNamespace, tiles: list[np.ndarray],
                             totals: list[np.ndarray],
                             out: np.ndarray | None = None) -> np.ndarray:
    """``-H(P, Q)`` of each row of a tile of short rows with every entry positive and ``Q``
    normal: ``sum p log Q / S_p`` with ``Q = q/S_q`` (terms of one sign; the error bound of
    :func:`normalised_entropy`, ``Q`` in place of ``P`` in the logarithm); NaN on the rows it
    does not vouch for."""
    A, B = tiles[0], tiles[1]
    L = ns.log(ns.divide(B, totals[1][:, None]))
    np.multiply(L, A, out=L)
    s = rowsum(L, out)
    s /= totals[0]
    one_sign_rejects(s, A.shape[-1])
    return s


# measures whose short rows are normalised before the logarithm, by name: (the dtypes where
# that is faster or needed, the kernel). float32 needs it (the raw finish cancels); float64
# entropy gains (one division a row instead of a log and a finish), cross-entropy does not.
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
NORMALISED = {"entropy": ((_F32, _F64), normalised_entropy),
              "cross_entropy": ((_F32,), normalised_cross_entropy)}


def tile_log_ratio(ns: TileNamespace, A: np.ndarray, B: np.ndarray,
                   careful: bool) -> np.ndarray:
    """Row sums of ``A log(B/A)`` (0 where ``A = 0``, -inf where ``A > 0 = B``): a division,
    a log and a fused multiply-sum. A ``careful`` tile (a zero, or a ratio that may leave the
    normal range) takes ``log B - log A`` instead, on the positive entries."""
    if not careful:
        return _rowdot(A, ns.log(ns.divide(B, A)))
    pos = ns.greater(A, 0.0)
    lb = ns.log(ns.where(pos, B, 1.0))   # B = 0 under A > 0: -inf, an infinite KL
    la = ns.log(ns.where(pos, A, 1.0))
    return rowsum(ns.where(pos, ns.multiply(A, ns.subtract(lb, la)), 0.0))
