"""Cross-entropy of logits (:func:`cross_entropy`) and of log-probabilities (:func:`nll_loss`).

The generic path is written against the array API; a native kernel (see
:data:`kullback.losses._common.NATIVE`) takes over where it gives exactly the same value.
"""

from __future__ import annotations

import math
from typing import Any

from kullback.losses._common import (
    Array,
    along,
    apply_reduction,
    cast_like,
    check_class_indices,
    check_index_target,
    class_axis,
    class_weight,
    door_table,
    floating,
    is_floating,
    log_softmax,
    logsumexp,
    mul0,
    namespace,
    native,
    nll_terms,
    reduction_of,
    smoothing_of,
    to_out,
)

__all__ = ["cross_entropy", "cross_entropy_value", "nll_loss", "nll_loss_value"]

_CROSS_ENTROPY_DOORS = door_table("cross_entropy")
_NLL_LOSS_DOORS = door_table("nll_loss")


def cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    r"""Cross-entropy between logits and targets, as :func:`torch.nn.functional.cross_entropy`.

    Parameters
    ----------
    input : array
        Unnormalised logits, shape ``(C,)`` (unbatched), ``(N, C)`` or ``(N, C, d1, ..., dK)``:
        the class dimension is 1 (0 when unbatched).
    target : array
        Either class indices (integer dtype) of shape ``()``, ``(N,)`` or
        ``(N, d1, ..., dK)`` with values in ``[0, C)`` or equal to ``ignore_index``; or class
        probabilities (floating dtype) of exactly the input's shape. As in torch, a target with
        the input's shape is read as probabilities.
    weight : array, optional
        Per-class rescaling weights, shape ``(C,)``.
    size_average, reduce : bool, optional
        torch's deprecated pair; when either is given it overrides ``reduction``
        (``reduce=False`` -> ``"none"``, else ``size_average`` False -> ``"sum"``).
    ignore_index : int, default -100
        Class-index targets equal to it contribute nothing, neither to the loss nor to the
        ``"mean"`` denominator. Must be negative with probability targets (as in torch).
    reduction : {"mean", "sum", "none"}
        See Notes for what ``"mean"`` divides by.
    label_smoothing : float in [0, 1]
        Mix the target with the uniform distribution: ``(1 - eps) * target + eps / C``.

    Returns
    -------
    array
        Scalar, or the per-element loss (shape of the input without the class dimension) for
        ``reduction="none"``; in the input's array library and dtype.

    Notes
    -----
    With :math:`\log p = \operatorname{log\_softmax}(x)` over the class dimension and
    :math:`\varepsilon` = ``label_smoothing``:

    *Class indices.* Element :math:`n` (not ignored) contributes
    :math:`(1-\varepsilon)\,w_{y_n}(-\log p_{n,y_n}) + \tfrac{\varepsilon}{C}
    \sum_c w_c(-\log p_{n,c})`, with :math:`w \equiv 1` when ``weight`` is None; ignored
    elements contribute 0. ``"mean"`` divides the sum by :math:`\sum_n w_{y_n}` over the
    non-ignored elements -- for both the NLL and the smoothing term, as torch does -- so it
    is NaN when every target is ignored.

    *Class probabilities.* Element :math:`n` contributes :math:`-\sum_c w_c\,t_{n,c}\log p_{n,c}`
    with :math:`t` already smoothed; ``"mean"`` divides by the number of elements
    (``N * d1 * ... * dK``), *not* by a sum of weights (torch's rule).

    Differences from torch (values torch gets wrong): a zero target probability meeting a
    masked (``-inf``) logit contributes 0, not NaN; a row whose logits are all ``-inf`` gives
    ``+inf`` (its target is masked), not NaN; a masked target class gives ``+inf``, as does
    label smoothing next to a masked logit (the smoothed target puts mass
    :math:`\varepsilon/C` on it). float16/bfloat16 inputs are computed in float32.
    Out-of-range class indices raise ValueError (torch: IndexError).

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import cross_entropy
    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, -np.inf, 0.0]])
    >>> cross_entropy(x, np.array([2, 0]), reduction="none").round(6)
    array([0.407606, 0.313262])
    >>> round(float(cross_entropy(x, np.array([2, -100]))), 6)  # the ignored row is not counted
    0.407606

    Probability targets: a zero target next to a masked logit contributes 0 (torch: NaN):

    >>> round(float(cross_entropy(x, np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))), 6)
    0.360434
    """
    door = _CROSS_ENTROPY_DOORS[type(input)]
    if door is not None:
        r = door(input, target, weight, size_average, ignore_index, reduce, reduction,
                 label_smoothing)
        if r is not None:
            return r
    func = "cross_entropy"
    reduction = reduction_of(size_average, reduce, reduction, func)
    eps = smoothing_of(label_smoothing, func)
    xp, kind = namespace(input, target, weight)
    x, out_dtype = floating(input, xp, "input", func)
    axis = class_axis(x, func)
    w = class_weight(weight, x.shape[axis], x, xp, func)
    probs = tuple(target.shape) == tuple(x.shape)
    if probs:
        target = _probability_target(target, x, ignore_index, xp, func)
    else:
        check_index_target(target, x, axis, xp, func)
    fast = native(kind, func)
    if fast is not None:
        r = fast(x, target, w, ignore_index=ignore_index, reduction=reduction,
                 label_smoothing=eps, axis=axis, probs=probs)
        if r is not None:
            return to_out(r, out_dtype, xp)
    if not probs:
        check_class_indices(target, x.shape[axis], ignore_index, xp, func)
    r = cross_entropy_value(x, target, w, ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=eps, axis=axis, probs=probs, xp=xp, kind=kind)
    return to_out(r, out_dtype, xp)


def cross_entropy_value(x: Array, target: Array, w: Array | None, *, ignore_index: int,
                        reduction: str, label_smoothing: float, axis: int, probs: bool, xp: Any,
                        kind: str) -> Array:
    """The reduced loss of validated operands: the generic path, traceable (``jax.jit``)."""
    terms = _probability_terms if probs else _index_terms
    per, denom = terms(x, target, w, ignore_index, label_smoothing, axis, xp, kind)
    return apply_reduction(per, reduction, denom, xp)


def _probability_target(target: Array, x: Array, ignore_index: int, xp: Any, func: str) -> Array:
    """A target of the input's shape: class probabilities, in ``x``'s dtype."""
    if ignore_index >= 0:
        raise ValueError(
            f"{func}: ignore_index={ignore_index} is not supported with probability targets"
        )
    if not is_floating(target.dtype, xp):
        raise TypeError(
            f"{func}: a target with the input's shape holds class probabilities and must "
            f"be floating point, got {target.dtype}"
        )
    return cast_like(target, x, xp, "target", func)


def _probability_terms(x, t, w, ignore_index, eps, axis, xp, kind) -> tuple[Array, float]:
    """Per-element ``-sum_c w_c t_c log p_c`` (``t`` smoothed) and the mean's denominator."""
    if eps > 0:
        t = t * (1.0 - eps) + eps / x.shape[axis]
    if w is not None:
        t = t * along(w, x.ndim, axis, xp)
    per = -xp.sum(mul0(t, log_softmax(x, axis, xp, kind), xp), axis=axis)
    return per, float(math.prod(per.shape))


def _index_terms(x, target, w, ignore_index, eps, axis, xp, kind) -> tuple[Array, Array]:
    """Per-element loss for class indices (torch's smoothing rule) and ``sum w[y]``. Without
    smoothing only the targets' log-probabilities are formed (logit minus log-sum-exp)."""
    if eps == 0:
        lse = xp.squeeze(logsumexp(x, axis, xp), axis=axis)
        per, wy, _ = nll_terms(x, target, w, ignore_index, axis, xp, kind, log_norm=lse)
        return per, xp.sum(wy)
    logp = log_softmax(x, axis, xp, kind)
    per, wy, valid = nll_terms(logp, target, w, ignore_index, axis, xp, kind)
    if w is None:
        smooth = -xp.sum(logp, axis=axis)
    else:
        smooth = -xp.sum(mul0(along(w, x.ndim, axis, xp), logp, xp), axis=axis)
    smooth = xp.where(valid, smooth, xp.zeros_like(smooth))
    per = (1.0 - eps) * per + (eps / x.shape[axis]) * smooth
    return per, xp.sum(wy)


def nll_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Negative log-likelihood of log-probabilities, as :func:`torch.nn.functional.nll_loss`.

    Parameters
    ----------
    input : array
        Log-probabilities, shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` (class
        dimension 1, or 0 when unbatched).
    target : array
        Integer class indices, shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, in ``[0, C)``
        or equal to ``ignore_index``.
    weight : array, optional
        Per-class weights, shape ``(C,)``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    ignore_index : int, default -100
        Targets equal to it contribute 0 and are left out of the ``"mean"`` denominator.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is :math:`\sum_n w_{y_n}(-x_{n,y_n}) / \sum_n w_{y_n}` over the non-ignored
        elements: NaN when all are ignored (as torch).

    Returns
    -------
    array
        Scalar, or the per-element loss for ``reduction="none"`` (0 where ignored).

    Notes
    -----
    A zero class weight next to a ``-inf`` log-probability contributes 0 (torch: NaN).
    Out-of-range indices raise ValueError.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import nll_loss
    >>> logp = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    >>> nll_loss(logp, np.array([0, 2]), reduction="none").round(6)
    array([0.693147, 0.223144])
    >>> round(float(nll_loss(logp, np.array([0, 2]), weight=np.array([1.0, 1.0, 3.0]))), 6)
    0.340644
    """
    door = _NLL_LOSS_DOORS[type(input)]
    if door is not None:
        r = door(input, target, weight, size_average, ignore_index, reduce, reduction)
        if r is not None:
            return r
    func = "nll_loss"
    reduction = reduction_of(size_average, reduce, reduction, func)
    xp, kind = namespace(input, target, weight)
    x, out_dtype = floating(input, xp, "input", func)
    axis = class_axis(x, func)
    w = class_weight(weight, x.shape[axis], x, xp, func)
    check_index_target(target, x, axis, xp, func)
    fast = native(kind, func)
    if fast is not None:
        r = fast(x, target, w, ignore_index=ignore_index, reduction=reduction, axis=axis)
        if r is not None:
            return to_out(r, out_dtype, xp)
    check_class_indices(target, x.shape[axis], ignore_index, xp, func)
    r = nll_loss_value(x, target, w, ignore_index=ignore_index, reduction=reduction, axis=axis,
                       xp=xp, kind=kind)
    return to_out(r, out_dtype, xp)


def nll_loss_value(x: Array, target: Array, w: Array | None, *, ignore_index: int,
                   reduction: str, axis: int, xp: Any, kind: str) -> Array:
    """The reduced loss of validated operands: the generic path, traceable (``jax.jit``)."""
    per, wy, _ = nll_terms(x, target, w, ignore_index, axis, xp, kind)
    return apply_reduction(per, reduction, xp.sum(wy), xp)
