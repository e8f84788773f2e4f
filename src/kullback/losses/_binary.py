"""Binary cross-entropy of probabilities and of logits (with ``pos_weight``)."""

from __future__ import annotations

from typing import Any

from kullback.losses._common import (
    Array,
    cast_like,
    check_broadcast,
    check_in_unit_interval,
    check_same_shape,
    door_table,
    elementwise_reduce,
    floating,
    mul0,
    namespace,
    native,
    reduction_of,
    to_out,
)

__all__ = [
    "LOG_FLOOR",
    "binary_cross_entropy",
    "binary_cross_entropy_value",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_value",
    "softplus",
]

_BINARY_CROSS_ENTROPY_DOORS = door_table("binary_cross_entropy")
_BINARY_CROSS_ENTROPY_WITH_LOGITS_DOORS = door_table("binary_cross_entropy_with_logits")

LOG_FLOOR = -100.0  # torch's documented clamp of each logarithm


def binary_cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy of probabilities, as :func:`torch.nn.functional.binary_cross_entropy`.

    Element-wise :math:`-w\,[\,y\log x + (1-y)\log(1-x)\,]` with each logarithm clamped to be
    :math:`\ge -100` (torch's documented rule, so ``x = 0`` or ``1`` gives a finite loss).

    Parameters
    ----------
    input : array
        Probabilities in ``[0, 1]``, any shape.
    target : array
        Same shape as ``input``, values in ``[0, 1]``.
    weight : array, optional
        Rescaling weight that broadcasts to ``input``'s shape (else ValueError naming both
        shapes).
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over all elements.

    Notes
    -----
    :math:`\log(1-x)` is evaluated as ``log1p(-x)``. Where a logarithm is clamped (``x`` within
    :math:`e^{-100}` of 0 or 1) the gradient is that of the clamped function; torch instead
    returns :math:`(x-y)/\max(x(1-x), 10^{-12})` there. An ``input`` or ``target`` value outside
    ``[0, 1]``, NaN included, raises ValueError naming the argument, the value and its index
    (when the values can be inspected: not inside ``jax.jit`` or on Dask).

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import binary_cross_entropy
    >>> binary_cross_entropy(np.array([0.9, 0.2, 0.0]), np.array([1.0, 0.0, 1.0]),
    ...                      reduction="none").round(6)
    array([  0.105361,   0.223144, 100.      ])
    >>> binary_cross_entropy(np.array([0.5, np.nan]), np.array([1.0, 0.0]))
    Traceback (most recent call last):
    ...
    ValueError: binary_cross_entropy: input must hold probabilities in [0, 1]; got nan at index 1
    """
    door = _BINARY_CROSS_ENTROPY_DOORS[type(input)]
    if door is not None:
        r = door(input, target, weight, size_average, reduce, reduction)
        if r is not None:
            return r
    func = "binary_cross_entropy"
    reduction = reduction_of(size_average, reduce, reduction, func)
    xp, kind = namespace(input, target, weight)
    check_same_shape(input, target, func)
    check_broadcast(weight, tuple(input.shape), "weight", func)
    x, out_dtype = floating(input, xp, "input", func)
    y = cast_like(target, x, xp, "target", func)
    w = cast_like(weight, x, xp, "weight", func)
    fast = native(kind, func)
    if fast is not None:
        r = fast(x, y, w, reduction=reduction)
        if r is not None:
            return to_out(r, out_dtype, xp)
    check_in_unit_interval({"input": x, "target": y}, xp, func)
    return to_out(binary_cross_entropy_value(x, y, w, reduction=reduction, xp=xp), out_dtype, xp)


def binary_cross_entropy_value(x: Array, y: Array, w: Array | None, *, reduction: str,
                               xp: Any) -> Array:
    """The reduced loss of validated operands: the generic path, traceable (``jax.jit``)."""
    per = _bce_terms(x, y, xp)
    if w is not None:
        per = per * w
    return elementwise_reduce(per, reduction, xp)


def _bce_terms(x: Array, y: Array, xp: Any) -> Array:
    """``-(y log x + (1 - y) log1p(-x))``, each logarithm clamped at -100, gradient-safe."""
    floor = xp.asarray(LOG_FLOOR, dtype=x.dtype)
    zero, one = x == 0, x == 1
    log_x = xp.where(zero, LOG_FLOOR, xp.log(xp.where(zero, 1.0, x)))
    log_1mx = xp.where(one, LOG_FLOOR, xp.log1p(-xp.where(one, 0.0, x)))
    return -(y * xp.maximum(log_x, floor) + (1.0 - y) * xp.maximum(log_1mx, floor))


def softplus(x: Array, xp: Any) -> Array:
    """``log(1 + exp(x))`` accurate and overflow-free, with the exact gradient sigmoid(x)."""
    pos = x > 0
    zero = xp.zeros_like(x)
    xpos, xneg = xp.where(pos, x, zero), xp.where(pos, zero, x)
    return xp.where(pos, xpos + xp.log1p(xp.exp(-xpos)), xp.log1p(xp.exp(xneg)))


def binary_cross_entropy_with_logits(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Array | None = None,
) -> Array:
    r"""Binary cross-entropy from logits, as torch's ``binary_cross_entropy_with_logits``.

    Element-wise
    :math:`w\,[\,p_c\,y\,\operatorname{softplus}(-x) + (1-y)\operatorname{softplus}(x)\,]`
    (:math:`-\log\sigma(x) = \operatorname{softplus}(-x)`), evaluated without overflow.

    Parameters
    ----------
    input : array
        Logits, any shape.
    target : array
        Same shape as ``input``, values in ``[0, 1]``.
    weight : array, optional
        Rescaling weight that broadcasts to ``input``'s shape (else ValueError naming both
        shapes).
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over all elements.
    pos_weight : array, optional
        Weight :math:`p_c` of the positive term, broadcast against ``target`` (e.g. shape
        ``(C,)`` for targets ``(N, C)``).

    Notes
    -----
    An infinite logit whose term has a zero coefficient (``x = +inf`` with ``y = 1``)
    contributes 0, not NaN as in torch. torch's own formula ``(1 - y) x - log_sigmoid(x)``
    cancels the loss of a confident right answer (``x = -40, y = 0``: 0 instead of 4.2e-18);
    here each term keeps its relative accuracy: a few units of roundoff ``u`` (``2**-53`` in
    float64, ``2**-24`` in float32) on the generic path, and at most ``(|x| + 4) u`` on
    PyTorch without ``pos_weight`` (one pass: ``log(e^a + e^b)`` with ``a = (1 - y) x``,
    ``b = -y x``; a few ``u`` for labels 0 and 1).

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import binary_cross_entropy_with_logits as bce
    >>> bce(np.array([0.0, 3.0, -800.0]), np.array([1.0, 1.0, 0.0]), reduction="none").round(6)
    array([0.693147, 0.048587, 0.      ])
    >>> round(float(bce(np.array([0.0]), np.array([1.0]), pos_weight=np.array([3.0]))), 6)
    2.079442
    """
    door = _BINARY_CROSS_ENTROPY_WITH_LOGITS_DOORS[type(input)]
    if door is not None:
        r = door(input, target, weight, size_average, reduce, reduction, pos_weight)
        if r is not None:
            return r
    func = "binary_cross_entropy_with_logits"
    reduction = reduction_of(size_average, reduce, reduction, func)
    xp, kind = namespace(input, target, weight, pos_weight)
    check_same_shape(input, target, func)
    check_broadcast(weight, tuple(input.shape), "weight", func)
    check_broadcast(pos_weight, tuple(input.shape), "pos_weight", func)
    x, out_dtype = floating(input, xp, "input", func)
    y = cast_like(target, x, xp, "target", func)
    w = cast_like(weight, x, xp, "weight", func)
    pw = cast_like(pos_weight, x, xp, "pos_weight", func)
    fast = native(kind, func)
    if fast is not None:
        r = fast(x, y, w, pw, reduction=reduction)
        if r is not None:
            return to_out(r, out_dtype, xp)
    r = binary_cross_entropy_with_logits_value(x, y, w, pw, reduction=reduction, xp=xp)
    return to_out(r, out_dtype, xp)


def binary_cross_entropy_with_logits_value(x: Array, y: Array, w: Array | None,
                                           pw: Array | None, *, reduction: str,
                                           xp: Any) -> Array:
    """The reduced loss: the generic path, traceable (``jax.jit``)."""
    neg = mul0(1.0 - y, softplus(x, xp), xp)
    pos_coef = y if pw is None else y * pw
    per = neg + mul0(pos_coef, softplus(-x, xp), xp)
    if w is not None:
        per = mul0(w, per, xp)
    return elementwise_reduce(per, reduction, xp)
