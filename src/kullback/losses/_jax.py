"""Native JAX paths of the losses: the generic array-API computation compiled whole by
``jax.jit``, once per shape and set of options, instead of one XLA compilation per primitive
(eager JAX compiles every operation for every new shape) and one dispatch per primitive per
call. Value checks run first, eagerly, as one compiled reduction; under a caller's ``jit``
(tracers) they are skipped, as for every lazy array, and the compiled function inlines.

Imported only when a loss meets a JAX array.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from kullback.losses._binary import (
    binary_cross_entropy_value,
    binary_cross_entropy_with_logits_value,
)
from kullback.losses._common import (
    check_class_indices,
    check_in_unit_interval,
    is_lazy,
)
from kullback.losses._cross_entropy import cross_entropy_value, nll_loss_value
from kullback.losses._kl_div import check_non_negative, kl_div_value

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "kl_div",
    "nll_loss",
]

_COMPILED: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _compiled(value: Callable[..., Any], **static: Any) -> Callable[..., Any]:
    """``jax.jit`` of ``value`` with its options bound, once per set of options."""
    key = (value, tuple(sorted(static.items())))
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = jax.jit(functools.partial(value, xp=jnp, **static))
    return fn


@functools.cache
def _bad_index_flag(n_classes: int, ignore_index: int) -> Callable[[Any], Any]:
    return jax.jit(lambda t: jnp.any((t != ignore_index) & ((t < 0) | (t >= n_classes))))


def _check_indices(target: Any, n_classes: int, ignore_index: int, func: str) -> None:
    """One compiled reduction; the located ValueError only when something is wrong."""
    if not is_lazy(target) and target.size and bool(_bad_index_flag(n_classes, ignore_index)(
            target)):
        check_class_indices(target, n_classes, ignore_index, jnp, func)


@jax.jit
def _outside_unit_interval(a: Any) -> Any:
    return jnp.any(~((a >= 0) & (a <= 1)))


def cross_entropy(x, target, weight, *, ignore_index, reduction, label_smoothing, axis, probs):
    if not probs:
        _check_indices(target, x.shape[axis], ignore_index, "cross_entropy")
    fn = _compiled(cross_entropy_value, ignore_index=ignore_index, reduction=reduction,
                   label_smoothing=label_smoothing, axis=axis, probs=probs, kind="jax")
    return fn(x, target, weight)


def nll_loss(x, target, weight, *, ignore_index, reduction, axis):
    _check_indices(target, x.shape[axis], ignore_index, "nll_loss")
    fn = _compiled(nll_loss_value, ignore_index=ignore_index, reduction=reduction, axis=axis,
                   kind="jax")
    return fn(x, target, weight)


def binary_cross_entropy(x, y, weight, *, reduction):
    eager = {k: a for k, a in (("input", x), ("target", y)) if not is_lazy(a) and a.size}
    if any(bool(_outside_unit_interval(a)) for a in eager.values()):
        check_in_unit_interval(eager, jnp, "binary_cross_entropy")
    return _compiled(binary_cross_entropy_value, reduction=reduction)(x, y, weight)


def binary_cross_entropy_with_logits(x, y, weight, pos_weight, *, reduction):
    fn = _compiled(binary_cross_entropy_with_logits_value, reduction=reduction)
    return fn(x, y, weight, pos_weight)


def kl_div(x, t, *, reduction, log_target):
    if not log_target and not is_lazy(t) and t.size and bool(jnp.any(t < 0)):
        check_non_negative(t, jnp, "kl_div")
    fn = _compiled(kl_div_value, reduction=reduction, log_target=log_target,
                   batch=x.shape[0] if x.ndim else 1)
    return fn(x, t)
