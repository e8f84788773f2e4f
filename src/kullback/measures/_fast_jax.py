"""The JAX fast paths of the table of measures: traceable under ``jit`` and ``grad``.

See :mod:`kullback.measures._fast` for the contract every fast path keeps. Each measure here is
one fused formula on the raw (unnormalised) operands whose every sum is a single reduction that
XLA fuses with its elementwise producer, with no normalised copy of an operand: on CPU each
extra reduction is one more pass over the data, so the formulas use as few as the
normalisation allows (entropy 2, cross-entropy and KL 3, JS 3: the totals, then one sum of
terms). Beside its value each row gets a rounding-error bound, and the row is kept (as in
:func:`kullback.measures._fast.accept`) only where that bound is far inside the contract; a
negative, NaN or infinite entry, or a zero whose log a formula takes, makes its row NaN, that is
not vouched for.

Under ``jit`` (traced operands) one ``lax.cond`` on a single flag for the whole call runs the
exact general path when any row is not vouched for, and only then, on the chunks of rows that
hold such a row (``lax.map`` over chunks of a bounded size: XLA reserves the buffers of a
branch that does not run, so they must not grow with the operands). Concrete (eager) operands
get the value and the flag, and the caller's general path serves (and validates, with its
messages) when the flag is down.

The formulas are as lean as XLA on CPU allows: each sum is its own pass over the data (XLA
fuses a sum with its elementwise producer, but not sums over different arrays into one loop;
a variadic ``lax.reduce``, a stacked or sliced operand, ``einsum`` row dots and ``lax.map``
over row blocks all measured slower), so a measure of normalised rows costs the passes of its
row totals beside the naive expression's one.

Derivatives are written out with ``custom_jvp``: on the fast branch the closed-form slope of
each entry, on the exact branch the general path's own gradient, times the operands' tangents.
Reverse mode (``jax.grad``) transposes that linear rule; forward mode (``jax.jvp``,
``jacfwd``) and second derivatives (``jax.hessian``) differentiate it.

JAX is imported only when a JAX array arrives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from kullback._xp import is_lazy
from kullback.measures import _fast

__all__ = ["FAST", "Ops"]


class Ops:
    """The operands this backend serves: JAX arrays (concrete or traced) of one float dtype and
    one shape, not empty."""

    name = "jax"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        import jax
        import jax.numpy as jnp

        a = arrays[0]
        return (all(isinstance(x, jax.Array) for x in arrays)
                and a.dtype in (jnp.float32, jnp.float64)
                and all(x.dtype == a.dtype and x.shape == a.shape for x in arrays)
                and a.size > 0 and a.ndim > 0)

    @staticmethod
    def where(ok: Any, value: Any, other: float) -> Any:
        import jax.numpy as jnp

        return jnp.where(ok, value, other)


def _eps(x: Any) -> float:
    return _fast._EPS[np.dtype(x.dtype)]


def _fine(dtype: Any, *totals: Any) -> Any:
    """Rows whose totals are finite and far from the subnormal range (``_fast.masses``)."""
    floor = _fast.low(dtype)
    fine: Any = True
    for s in totals:
        fine = fine & (s >= floor) & (s < math.inf)
    return fine


def _keep(value: Any, bound: Any, x: Any, fine: Any) -> Any:
    """``value`` on the rows whose error bound (``bound`` units of eps) is far inside the
    contract, NaN on the others (:func:`kullback.measures._fast.accept`). Every bound grows
    with ``|value|``: a sum that overflowed (``-inf``) is refused, never accepted."""
    return _fast.accept(Ops, value, bound, _eps(x), fine)


# --------------------------------------------------------------------------- the formulas
# Each returns (value with NaN on rows not vouched for, row scalars for the slopes); its slopes
# function returns d value / d operand, one array per operand, from the operands and those rows.


def _entropy(p: Any, q: Any, axis: int, check: bool) -> tuple[Any, tuple]:
    """``H = log S - (sum p log p) / S``. Rounding: ``sum |p log p| <= S (H + |log S|)``
    (``|log p| <= -log P + |log S|``), so the error is below ``8 (H + 2 |log S| + 1)`` eps; a
    nearly one-hot row (small ``H``) takes the general path, which compensates its top entry.
    A zero gives ``0 * -inf``: NaN, not vouched for (the general path's convention serves)."""
    import jax.numpy as jnp

    s = p.sum(axis)
    ls = jnp.log(s)
    h = ls - (p * jnp.log(p)).sum(axis) / s
    return _keep(h, 8.0 * (abs(h) + 2.0 * abs(ls) + 1.0), p, _fine(p.dtype, s)), (s, ls, h)


def _entropy_slopes(p: Any, q: Any, rows: tuple, axis: int) -> tuple:
    import jax.numpy as jnp

    s, ls, h = (jnp.expand_dims(r, axis) for r in rows)
    return ((ls - h - jnp.log(p)) / s,)  # -(log P + H) / S


def _kl(p: Any, q: Any, axis: int, check: bool) -> tuple[Any, tuple]:
    """``KL = (sum p log(p/q)) / S_p + log(S_q/S_p)``: one log per entry, of the ratio.

    Rounding: each term is off by ``eps p (1/2 + 2 |log(p/q)|)``, and
    ``sum P |log(P/Q)| = KL + 2 sum_{P<Q} P log(Q/P) <= KL + 2 TV <= KL + sqrt(2 KL)``
    (``P log(Q/P) <= Q - P``, Pinsker), so the error is below
    ``4 (KL + sqrt(2 KL) + 1 + 2 |log(S_q/S_p)|)`` eps. Nearly identical inputs (a KL below
    that) take the general path. A zero on either side makes its row NaN or infinite."""
    import jax.numpy as jnp

    sp, sq = p.sum(axis), q.sum(axis)
    lr = jnp.log(sq / sp)
    kl = (p * jnp.log(p / q)).sum(axis) / sp + lr
    bound = 4.0 * (abs(kl) + jnp.sqrt(2.0 * abs(kl)) + 1.0 + 2.0 * abs(lr))
    return _keep(kl, bound, p, _fine(p.dtype, sp, sq)), (sp, sq, lr, kl)


def _kl_slopes(p: Any, q: Any, rows: tuple, axis: int) -> tuple:
    import jax.numpy as jnp

    sp, sq, lr, kl = (jnp.expand_dims(r, axis) for r in rows)
    ratio = p / q
    return (jnp.log(ratio) + lr - kl) / sp, 1.0 / sq - ratio / sp  # (log(P/Q) - KL)/S_p, ...


def _cross_entropy(p: Any, q: Any, axis: int, check: bool) -> tuple[Any, tuple]:
    """``H(P, Q) = log S_q - (sum p log q) / S_p``; error below ``4 (H + 2 |log S_q| + 1)``
    eps (a nearly one-hot pair, small ``H``, takes the general path). No log of ``p`` is
    taken: concrete operands have their signs checked (one more pass; invalid values then go
    to the general path, which reports them); traced ones are not validated, as on the general
    path. ``p = 0`` is served (its term is 0, its slope finite)."""
    import jax.numpy as jnp

    sp, sq = p.sum(axis), q.sum(axis)
    lq = jnp.log(sq)
    ce = lq - (p * jnp.log(q)).sum(axis) / sp
    fine = _fine(p.dtype, sp, sq)
    if check:
        fine = fine & (p.min(axis) >= 0)
    return _keep(ce, 4.0 * (abs(ce) + 2.0 * abs(lq) + 1.0), p, fine), (sp, sq, lq, ce)


def _cross_entropy_slopes(p: Any, q: Any, rows: tuple, axis: int) -> tuple:
    import jax.numpy as jnp

    sp, sq, lq, ce = (jnp.expand_dims(r, axis) for r in rows)
    return (lq - ce - jnp.log(q)) / sp, 1.0 / sq - (p / q) / sp  # (-log Q - H)/S_p, ...


def _js_parts(p: Any, q: Any, axis: int, sp: Any, sq: Any) -> tuple[Any, ...]:
    """With the totals (``keepdims``) and ``w = q S_p / S_q`` (``w / S_p = Q``): ``w`` and the
    logs of ``P/M`` and ``Q/M``, ``2p / (p + w)`` and ``2w / (p + w)``."""
    import jax.numpy as jnp

    w = q * (sp / sq)
    d = 2.0 / (p + w)
    return w, jnp.log(p * d), jnp.log(w * d)


def _js_totals(p: Any, q: Any, axis: int) -> tuple[Any, Any]:
    return p.sum(axis, keepdims=True), q.sum(axis, keepdims=True)


def _js_kept(js: Any, p: Any, sp: Any, sq: Any) -> Any:
    return _keep(js, 8.0 * (abs(js) + 1.0), p, _fine(p.dtype, sp, sq))


def _js(p: Any, q: Any, axis: int, check: bool) -> tuple[Any, tuple]:
    """``JS = sum (p log(2p/(p+w)) + w log(2w/(p+w))) / (2 S_p)``, in the input dtype (no
    difference of entropies: each entry's pair of terms is ``>= 0``).

    Rounding: ``2p/(p+w)`` carries 1.5 eps, its log adds ``eps |log|``, and
    ``t |log 2t| <= log 2`` for the share ``t = p/(p+w)`` (each term on its own, so the bound
    also holds for the two halves summed apart, as :func:`_js_halves` does), so the whole sum is
    off by at most ``8 (1 + JS)`` eps (absolute, as the row is normalised); nearly identical
    inputs take the general path."""
    sp, sq = _js_totals(p, q, axis)
    w, lp, lw = _js_parts(p, q, axis, sp, sq)
    sp, sq = sp.squeeze(axis), sq.squeeze(axis)
    js = (p * lp + w * lw).sum(axis) / (2.0 * sp)
    return _js_kept(js, p, sp, sq), ()


def _js_halves(p: Any, q: Any, axis: int, check: bool) -> tuple[Any, tuple]:
    """JS as ``(KL(P||M) + KL(Q||M)) / 2``, the two halves summed apart: what the slopes need
    (one more pass than :func:`_js`, taken only when differentiating)."""
    sp, sq = _js_totals(p, q, axis)
    w, lp, lw = _js_parts(p, q, axis, sp, sq)
    kp = (p * lp).sum(axis, keepdims=True) / sp
    kq = (w * lw).sum(axis, keepdims=True) / sp
    js = ((kp + kq) / 2.0).squeeze(axis)
    return _js_kept(js, p, sp.squeeze(axis), sq.squeeze(axis)), (sp, sq, kp, kq)


def _js_slopes(p: Any, q: Any, rows: tuple, axis: int) -> tuple:
    """``dJS/dP = log(P/M) / 2`` through the normalisation: ``(log(P/M) - KL(P||M)) / 2 S_p``
    (and the same for ``q``)."""
    sp, sq, kp, kq = rows
    _, lp, lw = _js_parts(p, q, axis, sp, sq)
    return (lp - kp) / (2.0 * sp), (lw - kq) / (2.0 * sq)


class _Formula(NamedTuple):
    value: Callable[..., tuple[Any, tuple]]
    slopes: Callable[..., tuple]
    value_for_slopes: Callable[..., tuple[Any, tuple]] | None = None  # (default: value)


_FORMULAS = {
    "entropy": _Formula(_entropy, _entropy_slopes),
    "cross_entropy": _Formula(_cross_entropy, _cross_entropy_slopes),
    "kl_divergence": _Formula(_kl, _kl_slopes),
    "js_divergence": _Formula(_js, _js_slopes, _js_halves),
}


# --------------------------------------------------------------------------- compiling


def _padded(xs: tuple) -> tuple:
    return (*xs, None) if len(xs) == 1 else xs


_CHUNK = 1 << 14  # operand entries the exact branch takes at a time (at least one row)


def _rows_last(x: Any, axis: int) -> Any:
    """``x`` as ``(rows, outcomes)``."""
    import jax.numpy as jnp

    x = jnp.moveaxis(x, axis, -1)
    return x.reshape(-1, x.shape[-1])


def _in_chunks(x: Any, size: int, fill: Any) -> Any:
    """``(rows, ...)`` as ``(chunks, size * ...)`` (flat: a middle axis of length 1 would make
    XLA copy the operands into another layout), the last chunk filled up with ``fill``."""
    import jax.numpy as jnp

    pad = -x.shape[0] % size
    if pad:
        x = jnp.concatenate([x, jnp.full((pad, *x.shape[1:]), fill, x.dtype)])
    return x.reshape(x.shape[0] // size, -1)


def _patched(exact: Callable[..., tuple], fast: tuple, bad: Any, xs: tuple, axis: int) -> tuple:
    """``fast`` (the row values, then arrays shaped like the operands) with every chunk of rows
    that holds a row not vouched for (``bad``) recomputed by ``exact`` (on a chunk of rows,
    outcomes last; same structure). ``lax.map`` over chunks of about ``_CHUNK`` entries: the
    exact path's buffers are those of one chunk whatever the operands' size (XLA reserves
    them even when this runs not at all), and the time goes to the chunks that need it."""
    import jax
    import jax.numpy as jnp

    rows = [_rows_last(x, axis) for x in xs]
    count, n = rows[0].shape
    size = max(1, min(count, _CHUNK // n))
    flat = (fast[0].reshape(-1), *(_rows_last(e, axis) for e in fast[1:]))

    def one(chunk: tuple) -> tuple:
        need, fast_c, xc = chunk

        def redo() -> tuple:
            return tuple(e.reshape(-1) for e in exact(*(x.reshape(size, n) for x in xc)))

        return jax.lax.cond(need, redo, lambda: fast_c)

    out = jax.lax.map(one, (_in_chunks(bad.reshape(-1), size, False).any(-1),
                            tuple(_in_chunks(f, size, 0) for f in flat),
                            tuple(_in_chunks(r, size, 1) for r in rows)))
    value = out[0].reshape(-1)[:count].reshape(fast[0].shape)
    moved = jnp.moveaxis(xs[0], axis, -1).shape
    return (value, *(jnp.moveaxis(e.reshape(-1, n)[:count].reshape(moved), -1, axis)
                     for e in out[1:]))


def _traced(name: str, axis: int) -> Any:
    """The measure on traced operands: the fast value, and where a row is not vouched for
    (``lax.cond`` on one flag for the call: only then) the chunks of rows that hold one
    recomputed on the general path (:func:`_patched`); and ``ok``.

    Derivatives are written out (``custom_jvp``) rather than traced through the ``lax.cond``:
    JAX's reverse mode of a ``cond`` makes the branch taken fill the other branch's
    residuals with zeros, operand-sized arrays that cost more than the measure. The rule
    computes each entry's slope beside the value (the closed form, in the same computation as
    the value so that XLA shares their row totals; the general path's own gradient on the
    chunks recomputed) and the tangent is their product with the operands' tangents, summed
    along the axis: linear, so reverse mode transposes it, and forward mode (``jax.jvp``,
    ``jacfwd``, ``hessian``) and reverse-over-reverse differentiate the rule itself."""
    import jax
    import jax.numpy as jnp

    formula = _FORMULAS[name]
    with_rows = formula.value_for_slopes or formula.value

    def general(*xs: Any) -> Any:
        from kullback.measures._prepare import prepare
        from kullback.measures.discrete import _evaluate

        p, q = _padded(xs)
        pr = prepare(p, q, -1, "probs", "probs", False)
        return jnp.asarray(_evaluate(pr, (name,))[name], dtype=p.dtype)

    def general_slopes(*xs: Any) -> tuple:
        out, pullback = jax.vjp(general, *xs)
        return (out, *pullback(jnp.ones_like(out)))

    def exact_where_needed(value: Any, entries: Callable[[], tuple], exact: Callable[..., tuple],
                           xs: tuple) -> tuple:
        """``(value, *entries())``, patched where a row is not vouched for. ``entries`` is
        traced in each branch of the ``lax.cond``: its elementwise work is fused there into
        one pass, not materialised as an operand-sized buffer shared with the value's sums."""
        bad = value != value
        return jax.lax.cond(jnp.any(bad),
                            lambda: _patched(exact, (value, *entries()), bad, xs, axis),
                            lambda: (value, *entries()))

    @jax.custom_jvp
    def measure(*xs: Any) -> Any:
        value = formula.value(*_padded(xs), axis, False)[0]
        return exact_where_needed(value, tuple, lambda *c: (general(*c),), xs)[0]

    @measure.defjvp
    def _jvp(xs: tuple, ts: tuple) -> tuple[Any, Any]:
        value, rows = with_rows(*_padded(xs), axis, False)

        def slopes() -> tuple:
            found = formula.slopes(*_padded(xs), rows, axis)[:len(xs)]
            return tuple(s.astype(x.dtype) for s, x in zip(found, xs, strict=True))

        out, *found = exact_where_needed(value, slopes, general_slopes, xs)
        return out, sum(jnp.sum(s * t, axis=axis) for s, t in zip(found, ts, strict=True))

    def run(*xs: Any) -> tuple[Any, Any]:
        return measure(*xs), jnp.asarray(True)  # (the caller reads ok for concrete operands)

    return run


def _concrete(name: str, axis: int) -> Any:
    """The fast value on concrete operands (NaN on rows not vouched for, signs checked) and
    ``ok``; the caller falls back to the general path when ``ok`` is False."""
    import jax.numpy as jnp

    def run(*xs: Any) -> tuple[Any, Any]:
        value = _FORMULAS[name].value(*_padded(xs), axis, True)[0]
        return value, jnp.all(value == value)

    return run


def _compiled(name: str, axis: int, unary: bool, traced: bool) -> Any:
    """One compiled function per measure, axis, arity and kind of operand: ``(value, ok)``."""
    import jax

    fn = (_traced if traced else _concrete)(name, axis)
    return jax.jit(fn)


_JITTED: dict[Any, Any] = {}


def _run(entry: Any, p: Any, q: Any, axis: int) -> Any:
    """The fast path on JAX arrays, one compiled function; None when concrete operands hold a
    row it does not vouch for (the general path then serves and validates, with its
    messages)."""
    if not Ops.accepts(*((p,) if q is None else (p, q))):
        return None
    traced = is_lazy(p) or (q is not None and is_lazy(q))
    key = (entry.name, axis % p.ndim, q is None, traced)
    if key not in _JITTED:
        _JITTED[key] = _compiled(*key)
    value, ok = _JITTED[key](*((p,) if q is None else (p, q)))
    if not traced and not bool(ok):
        return None
    return value


FAST = {name: _run for name in _FORMULAS}
