"""Pointwise KL divergence (:func:`kl_div`) and the knowledge-distillation loss built on it."""

from __future__ import annotations

import math
from typing import Any

from kullback.losses._common import (
    Array,
    apply_reduction,
    broadcast_shape,
    cast_like,
    class_axis,
    door_table,
    elementwise_reduce,
    first_true,
    floating,
    is_lazy,
    log_softmax,
    namespace,
    native,
    reduction_of,
    to_out,
)

__all__ = [
    "DIRECTIONS",
    "KL_REDUCTIONS",
    "check_non_negative",
    "distillation",
    "kl_div",
    "kl_div_value",
    "kl_pointwise",
]

_KL_DIV_DOORS = door_table("kl_div")

KL_REDUCTIONS = ("none", "mean", "batchmean", "sum")


def kl_pointwise(input: Array, target: Array, log_target: bool, xp: Any) -> Array:
    """``t (log t - input)`` with ``0 log 0 = 0`` -- also against a ``-inf`` input."""
    if log_target:
        dead = target == -math.inf  # zero probability: contributes 0
        zero = xp.zeros_like(target)
        t = xp.where(dead, zero, target)
        inp = xp.where(dead, xp.zeros_like(input), input)
        return xp.where(dead, zero, xp.exp(t) * (t - inp))
    dead = target == 0
    t = xp.where(dead, xp.ones_like(target), target)
    inp = xp.where(dead, xp.zeros_like(input), input)
    return xp.where(dead, xp.zeros_like(target), target * (xp.log(t) - inp))


def kl_div(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Array:
    r"""Pointwise KL divergence, as :func:`torch.nn.functional.kl_div`.

    ``input`` holds log-probabilities :math:`\log q`; ``target`` holds probabilities :math:`p`
    (or :math:`\log p` with ``log_target=True``). Element-wise :math:`p(\log p - \log q)`.

    Parameters
    ----------
    input : array
        Log-probabilities.
    target : array
        Probabilities (``>= 0``) or, with ``log_target=True``, log-probabilities; broadcast
        against ``input``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "batchmean", "sum", "none"}
        ``"mean"`` divides the sum by the number of *elements* (torch's default, rarely what is
        meant); ``"batchmean"`` divides by ``input.shape[0]`` (the true KL per sample for
        ``(N, C)`` input; a 0-d input is not divided).
    log_target : bool
        Whether ``target`` is given in log space.

    Notes
    -----
    :math:`0 \log 0 = 0`: a zero target probability (``target == 0``, or ``-inf`` with
    ``log_target=True``) contributes 0 whatever ``input`` is, including ``-inf`` -- torch
    returns NaN for both. A positive target against ``input = -inf`` gives ``+inf``.
    Negative probabilities raise ValueError when values can be inspected.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import kl_div
    >>> logq = np.array([[np.log(0.5), np.log(0.5), -np.inf]])
    >>> logp = np.array([[0.0, -np.inf, -np.inf]])   # p = (1, 0, 0)
    >>> kl_div(logq, logp, reduction="none", log_target=True).round(6)
    array([[0.693147, 0.      , 0.      ]])
    >>> round(float(kl_div(logq, logp, reduction="batchmean", log_target=True)), 6)
    0.693147
    """
    door = _KL_DIV_DOORS[type(input)]
    if door is not None:
        r = door(input, target, size_average, reduce, reduction, log_target)
        if r is not None:
            return r
    func = "kl_div"
    reduction = reduction_of(size_average, reduce, reduction, func, KL_REDUCTIONS)
    xp, kind = namespace(input, target)
    x, out_dtype = floating(input, xp, "input", func)
    t = cast_like(target, x, xp, "target", func)
    shape = broadcast_shape(x, t, func)
    fast = native(kind, func)
    if fast is not None and tuple(x.shape) == tuple(t.shape) == shape:
        r = fast(x, t, reduction=reduction, log_target=log_target)
        if r is not None:
            return to_out(r, out_dtype, xp)
    if not log_target:
        check_non_negative(t, xp, func)
    r = kl_div_value(xp.broadcast_to(x, shape), xp.broadcast_to(t, shape), reduction=reduction,
                     log_target=log_target, batch=input.shape[0] if input.ndim else 1, xp=xp)
    return to_out(r, out_dtype, xp)


def kl_div_value(x: Array, t: Array, *, reduction: str, log_target: bool, batch: int,
                 xp: Any) -> Array:
    """The reduced loss of validated operands (``batch`` divides for ``"batchmean"``): the
    generic path, traceable (``jax.jit``)."""
    per = kl_pointwise(x, t, log_target, xp)
    if reduction == "batchmean":
        return xp.sum(per) / batch
    return elementwise_reduce(per, reduction, xp)


def check_non_negative(t: Array, xp: Any, func: str) -> None:
    """ValueError naming the first negative entry of an (eager) probability target."""
    if is_lazy(t) or not t.size:
        return
    negative = t < 0
    if bool(xp.any(negative)):
        where = first_true(negative, xp)
        raise ValueError(
            f"{func}: target probabilities must be >= 0 (use log_target=True?); got a negative "
            f"value at index {where if len(where) != 1 else where[0]}"
        )


def distillation(
    student_logits: Array,
    teacher_logits: Array,
    *,
    target: Array | None = None,
    temperature: float = 1.0,
    direction: str = "forward",
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Array:
    r"""Temperature-scaled knowledge-distillation loss (Hinton et al., 2015).

    With :math:`p_T = \operatorname{softmax}(z_T/T)` (teacher) and
    :math:`p_S = \operatorname{softmax}(z_S/T)` (student) over the class dimension, each
    position contributes :math:`T^2 D(\cdot)` where :math:`D` is

    - ``"forward"``: :math:`\mathrm{KL}(p_T \,\|\, p_S)` (the classic KD loss, mean-seeking),
    - ``"reverse"``: :math:`\mathrm{KL}(p_S \,\|\, p_T)` (mode-seeking),
    - ``"js"``: :math:`\tfrac12\mathrm{KL}(p_T\|m) + \tfrac12\mathrm{KL}(p_S\|m)`,
      :math:`m = \tfrac12(p_T+p_S)` (bounded by :math:`\log 2`).

    The factor :math:`T^2` keeps the gradient magnitude independent of the temperature (the
    soft-target gradients scale as :math:`1/T^2`), so the loss can be mixed with a hard-label
    cross-entropy without retuning its weight.

    Parameters
    ----------
    student_logits, teacher_logits : array
        Logits of the same shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``: class
        dimension 1 (0 unbatched), as in :func:`cross_entropy`. Gradients flow into both;
        detach the teacher yourself if it is frozen.
    target : array, optional
        Integer labels shaped like the input without the class dimension; positions where
        ``target == ignore_index`` (padding) are left out. Other values are not used.
    temperature : float, default 1.0
        Softmax temperature :math:`T > 0`.
    direction : {"forward", "reverse", "js"}
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages the per-position divergence over non-ignored positions (NaN if
        none) -- i.e. torch's ``kl_div(..., reduction="batchmean")`` for 2-D input;
        ``"none"`` returns it per position (0 where ignored).

    Notes
    -----
    Computed in log space (log-softmax; the JS mixture via ``logaddexp``) with
    :math:`0\log 0 = 0`, so masked (``-inf``) logits in both models contribute 0, and the
    result is never negative beyond rounding. A class masked in the student but not in the
    teacher makes the forward KL ``+inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import distillation
    >>> s = np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    >>> t = np.array([[2.0, 0.0, -2.0], [5.0, 0.0, 0.0]])
    >>> distillation(s, t, temperature=2.0, reduction="none").round(6)
    array([0.241076, 2.376226])
    >>> round(float(distillation(s, t, target=np.array([0, -100]), temperature=2.0)), 6)
    0.241076
    """
    func = "distillation"
    reduction = reduction_of(None, None, reduction, func)
    if direction not in DIRECTIONS:
        raise ValueError(
            f"{func}: direction must be one of {tuple(DIRECTIONS)}, got {direction!r}"
        )
    if not (isinstance(temperature, int | float) and math.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"{func}: temperature must be a finite number > 0, got {temperature}")
    xp, kind = namespace(student_logits, teacher_logits, target)
    s, out_dtype = floating(student_logits, xp, "student_logits", func)
    t, _ = floating(teacher_logits, xp, "teacher_logits", func)
    if tuple(s.shape) != tuple(t.shape):
        raise ValueError(
            f"{func}: student_logits {tuple(s.shape)} and teacher_logits {tuple(t.shape)} "
            "must have the same shape"
        )
    if t.dtype != s.dtype:
        t = xp.astype(t, s.dtype)
    axis = class_axis(s, func)
    T = float(temperature)
    if T != 1.0:
        s, t = s / T, t / T
    log_s, log_t = log_softmax(s, axis, xp, kind), log_softmax(t, axis, xp, kind)
    per = DIRECTIONS[direction](log_s, log_t, axis, xp) * (T * T)
    if target is None:
        count = float(math.prod(per.shape))
    else:
        expected = tuple(n for i, n in enumerate(s.shape) if i != axis)
        if tuple(target.shape) != expected:
            raise ValueError(
                f"{func}: target shape {tuple(target.shape)} must be {expected} (the logits' "
                "shape without the class dimension)"
            )
        valid = target != ignore_index
        per = xp.where(valid, per, xp.zeros_like(per))
        count = xp.sum(xp.astype(valid, per.dtype))
    return to_out(apply_reduction(per, reduction, count, xp), out_dtype, xp)


def _kl_rows(log_p: Array, log_q: Array, axis: int, xp: Any) -> Array:
    """KL(p||q) per position from log-probabilities along ``axis``."""
    return xp.sum(kl_pointwise(log_q, log_p, True, xp), axis=axis)


def _forward(log_s: Array, log_t: Array, axis: int, xp: Any) -> Array:
    return _kl_rows(log_t, log_s, axis, xp)


def _reverse(log_s: Array, log_t: Array, axis: int, xp: Any) -> Array:
    return _kl_rows(log_s, log_t, axis, xp)


def _js(log_s: Array, log_t: Array, axis: int, xp: Any) -> Array:
    log_m = xp.logaddexp(log_s, log_t) - math.log(2.0)
    return 0.5 * _kl_rows(log_t, log_m, axis, xp) + 0.5 * _kl_rows(log_s, log_m, axis, xp)


#: direction -> per-position divergence of (student, teacher) log-softmaxes
DIRECTIONS = {"forward": _forward, "reverse": _reverse, "js": _js}
