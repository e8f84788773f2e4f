"""The JAX fast paths of the table of measures: traceable under ``jit`` and ``grad``.

See :mod:`kullback.measures._fast` for the contract every fast path keeps. One compiled
function per measure, axis and arity computes the cheap formula and its error bound, and
(``lax.cond`` on one flag for the whole call) the general path only where the bound does not
vouch for every row. JAX is imported only when a JAX array arrives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kullback._xp import is_lazy
from kullback.measures import _fast

__all__ = ["FAST", "Ops"]


class Ops:
    """``jax.numpy``, traceable under ``jit`` and ``grad``: each check is a per-row mask
    folded into the acceptance (as on every backend: no device sync), and the caller
    picks the exact path with ``lax.cond`` on one per-call flag. A zero entry's log is taken
    of 1 (the general kernels' guard), so values and gradients at zeros are the general
    path's; a negative entry's log is NaN and rejects its row."""

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
    def total(x: Any, axis: int) -> Any:
        return x.sum(axis=axis, keepdims=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        """Plain: a ``where`` guarding the log halves XLA's throughput; a zero gives NaN,
        which rejects its row (gradients: see ``discrete._jax_guarded``)."""
        import jax.numpy as jnp

        return (x * jnp.log(x)).sum(axis=axis)

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        import jax.numpy as jnp

        return (x * jnp.log(y)).sum(axis=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        return True

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(axis=axis)

    @staticmethod
    def where(ok: Any, value: Any, other: float) -> Any:
        import jax.numpy as jnp

        return jnp.where(ok, value, other)

    @staticmethod
    def wide(x: Any) -> Any:
        import jax
        import jax.numpy as jnp

        if x.dtype == jnp.float32 and jax.config.read("jax_enable_x64"):
            return x.astype(jnp.float64)
        return x

    eps = staticmethod(lambda x: _fast._EPS[np.dtype(x.dtype)])
    narrow = staticmethod(lambda v, dtype: v.astype(dtype) if v.dtype != dtype else v)
    log = staticmethod(lambda x: __import__("jax.numpy").numpy.log(x))
    squeeze = staticmethod(lambda x, axis: x.squeeze(axis))


_FORMULAS = {
    "entropy": _fast.entropy,
    "cross_entropy": _fast.cross_entropy,
    "kl_divergence": _fast.kl,
    "js_divergence": _fast.js,
}

_JITTED: dict[Any, Any] = {}


def _run(entry: Any, p: Any, q: Any, axis: int) -> Any:
    """The fast path on JAX arrays, one compiled function: the cheap formula and its error
    bound, and (``lax.cond`` on one flag for the whole call) the general path only where the
    bound does not vouch for every row. Concrete (eager) arrays that need the general path
    return None instead, so that it validates the values with its messages."""
    import jax

    if not Ops.accepts(*((p,) if q is None else (p, q))):
        return None
    key = (entry.name, axis % p.ndim, q is None)
    if key not in _JITTED:
        _JITTED[key] = jax.jit(lambda a, b: _jax_value(entry, a, b, key[1]))
    lazy = is_lazy(p) or (q is not None and is_lazy(q))
    value, ok = _JITTED[key](p, q)
    if not lazy and not bool(ok):
        return None
    return value


def _jax_value(entry: Any, p: Any, q: Any, axis: int) -> tuple[Any, Any]:
    import jax
    import jax.numpy as jnp

    value = _jax_guarded(entry, axis, q is None)(*((p,) if q is None else (p, q)))
    ok = jnp.all(value == value)

    def general() -> Any:
        from kullback.measures._prepare import prepare
        from kullback.measures.discrete import _evaluate

        pr = prepare(p, q, axis, "probs", "probs", False)
        exact = _evaluate(pr, (entry.name,))[entry.name]
        return jnp.asarray(exact, dtype=value.dtype)

    safe = jnp.where(value == value, value, 0.0)  # what the taken branch returns is finite
    return jax.lax.cond(ok, lambda: safe, general), ok


def _jax_guarded(entry: Any, axis: int, unary: bool) -> Any:
    """The formula on JAX arrays with a derivative that is finite on every row: rows it
    rejects (NaN: a zero, an invalid entry) are discarded by the caller, but ``0 * inf`` in
    their derivative would still be NaN; so the derivative is taken on operands whose
    rejected rows are replaced by ones, and is 0 on those rows."""
    import jax
    import jax.numpy as jnp

    def fn(*xs: Any) -> Any:
        return _FORMULAS[entry.name](Ops, xs[0], None if unary else xs[1], axis)

    guarded = jax.custom_jvp(fn)

    @guarded.defjvp
    def _jvp(primals: Any, tangents: Any) -> Any:
        value = fn(*primals)
        ok = value == value
        row = jnp.expand_dims(ok, axis)
        safe = tuple(jnp.where(row, x, 1.0) for x in primals)
        _, slope = jax.jvp(fn, safe, tuple(tangents))
        return value, jnp.where(ok, slope, 0.0)

    return guarded


FAST = {name: _run for name in _FORMULAS}
