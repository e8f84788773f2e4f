"""Linear layer + cross-entropy (:func:`linear_cross_entropy`) without holding the logits.

On PyTorch the native path (:mod:`kullback.losses._linear_ce_torch`) walks the rows in chunks;
other libraries compute the logits densely and call :func:`cross_entropy`.
"""

from __future__ import annotations

import math
from typing import Any

from kullback.losses._common import (
    Array,
    apply_reduction,
    cast_like,
    class_axis,
    floating,
    logsumexp,
    namespace,
    native,
    reduction_of,
    smoothing_of,
    to_out,
)
from kullback.losses._cross_entropy import cross_entropy

__all__ = ["linear_cross_entropy"]


def linear_cross_entropy(
    input: Array,
    linear_weight: Array,
    target: Array,
    *,
    linear_bias: Array | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    chunk_size: int | None = None,
) -> Array:
    r"""``cross_entropy(input @ linear_weight.T + linear_bias, target)`` without the logits.

    For a language-model head (``N`` tokens, hidden size ``d``, vocabulary ``V``) the dense
    path holds ``N x V`` logits, their log-softmax and their gradient -- gigabytes. On PyTorch
    this function walks the rows in chunks, computes each chunk's logits, log-sum-exp, loss and
    the gradients of ``input``, ``linear_weight`` and ``linear_bias`` in the forward pass, and
    lets backward merely rescale them; only one ``chunk_size x V`` block exists at a time.
    Every option stays chunked (class weights, ignore_index, label smoothing, probability
    targets, K-dimensional weights, ``z_loss``, ``softcap``, half precision). When no gradient
    is needed (``torch.no_grad()`` or no argument requiring grad) no gradient is computed.
    Other array libraries (NumPy, JAX) compute the same loss densely.

    Parameters
    ----------
    input : array
        Hidden states, shape ``(d,)`` or ``(N, d)``.
    linear_weight : array
        Shape ``(C, d)``, or ``(C, d1, ..., dK, d)`` for a K-dimensional loss (then the logits
        are ``(N, C, d1, ..., dK)`` and ``input`` must be batched), as in
        :func:`torch.nn.functional.linear_cross_entropy`.
    target : array
        Class indices (integer, shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``) or class
        probabilities of the logits' shape, as in :func:`cross_entropy`.
    linear_bias : array, optional
        Shape ``(C,)`` or ``(C, d1, ..., dK)``. ``-inf`` entries mask classes.
    weight, reduction, ignore_index, label_smoothing
        As in :func:`cross_entropy`; the cross-entropy part equals it exactly.
    z_loss : float, default 0
        Coefficient of PaLM's auxiliary :math:`\log^2 Z` term (:math:`\log Z` = log-sum-exp of
        the logits), added per non-ignored position *without* class weights: ``"mean"`` adds
        ``z_loss * mean(logZ**2)`` over the non-ignored positions, ``"sum"`` the sum and
        ``"none"`` the per-position value.
    softcap : float, optional
        Cap the logits smoothly to ``(-softcap, softcap)``: ``softcap * tanh(logits / softcap)``
        before the softmax (Gemma 2).
    chunk_size : int, optional
        Rows per chunk (torch). Default: ``2**23 // C`` (a 32 MiB float32 block of logits),
        clamped to [256, 2048] rows -- 256 rows for vocabularies of 32768 and up, as fast as
        larger chunks on CPU at a fraction of their memory.

    Returns
    -------
    array
        As :func:`cross_entropy`.

    Notes
    -----
    Differences from :func:`torch.nn.functional.linear_cross_entropy`: ``ignore_index``
    defaults to -100 (must be negative with probability targets), torch's ``options`` is
    replaced by ``chunk_size``, ``z_loss`` and ``softcap`` are extra, and torch's chunked path
    falls back to dense logits for label smoothing, probability targets and K-dim weights
    while this one does not. The torch path does not support double backward, and with
    ``reduction="mean"``/``"sum"`` a second ``backward()`` through the same graph raises (the
    precomputed gradients are handed over, not copied); ``reduction="none"`` recomputes the
    chunks in backward instead. Half-precision inputs are computed in float32 (one float32
    copy of the weight) and gradients cast back.

    Examples
    --------
    >>> import torch
    >>> from kullback.losses import linear_cross_entropy
    >>> g = torch.Generator().manual_seed(0)
    >>> h = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> W = torch.randn(10, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> y = torch.tensor([1, 2, 3, 4, 5, -100])
    >>> loss = linear_cross_entropy(h, W, y, label_smoothing=0.1, chunk_size=4)
    >>> dense = torch.nn.functional.cross_entropy(h @ W.T, y, label_smoothing=0.1)
    >>> bool(torch.isclose(loss, dense, rtol=1e-12))
    True
    >>> loss.backward()
    >>> bool(torch.allclose(W.grad, torch.autograd.grad(dense, W)[0], rtol=1e-10))
    True
    """
    func = "linear_cross_entropy"
    reduction = reduction_of(None, None, reduction, func)
    eps = smoothing_of(label_smoothing, func)
    _check_options(z_loss, softcap, chunk_size, func)
    xp, kind = namespace(input, linear_weight, target, linear_bias, weight)
    options = dict(linear_bias=linear_bias, weight=weight, reduction=reduction,
                   ignore_index=ignore_index, label_smoothing=eps, z_loss=z_loss,
                   softcap=softcap)
    fast = native(kind, func)
    if fast is not None:
        return fast(input, linear_weight, target, chunk_size=chunk_size, **options)
    return _dense(input, linear_weight, target, xp=xp, **options)


def _check_options(z_loss: float, softcap: float | None, chunk_size: int | None,
                   func: str) -> None:
    if not (math.isfinite(z_loss) and z_loss >= 0):
        raise ValueError(f"{func}: z_loss must be a finite number >= 0, got {z_loss}")
    if softcap is not None and not (math.isfinite(softcap) and softcap > 0):
        raise ValueError(f"{func}: softcap must be None or a finite number > 0, got {softcap}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f"{func}: chunk_size must be a positive int or None, got {chunk_size}")


def _dense_logits(h: Array, W: Array, b: Array | None, xp: Any, func: str) -> Array:
    """``h @ W.T + b`` shaped ``(N, C, d1, ..., dK)`` (or ``(C,)`` unbatched)."""
    if h.ndim not in (1, 2):
        raise ValueError(f"{func}: input must have shape (d,) or (N, d), got {tuple(h.shape)}")
    if W.ndim < 2 or W.shape[-1] != h.shape[-1]:
        raise ValueError(
            f"{func}: linear_weight must have shape (C, ..., {h.shape[-1]}), got {tuple(W.shape)}"
        )
    if W.ndim > 2 and h.ndim == 1:
        raise ValueError(f"{func}: a K-dimensional linear_weight needs batched input (N, d)")
    out_shape = tuple(W.shape[:-1])
    W2 = xp.reshape(W, (-1, W.shape[-1]))
    logits = xp.matmul(h, xp.matrix_transpose(W2)) if h.ndim == 2 else xp.matmul(W2, h)
    logits = xp.reshape(logits, (*tuple(h.shape[:-1]), *out_shape))
    if b is not None:
        if tuple(b.shape) != out_shape:
            raise ValueError(f"{func}: linear_bias must have shape {out_shape}, got {b.shape}")
        logits = logits + b
    return logits


def _dense(input, linear_weight, target, *, linear_bias, weight, reduction, ignore_index,
           label_smoothing, z_loss, softcap, xp):
    func = "linear_cross_entropy"
    h, out_dtype = floating(input, xp, "input", func)
    W = cast_like(linear_weight, h, xp, "linear_weight", func)
    b = cast_like(linear_bias, h, xp, "linear_bias", func)
    logits = _dense_logits(h, W, b, xp, func)
    if softcap is not None:
        logits = softcap * xp.tanh(logits / softcap)
    ce = cross_entropy(logits, target, weight=weight, ignore_index=ignore_index,
                       reduction=reduction, label_smoothing=label_smoothing)
    if z_loss:
        ce = ce + z_loss * _z_term(logits, target, ignore_index, reduction, xp, func)
    return to_out(ce, out_dtype, xp)


def _z_term(logits: Array, target: Array, ignore_index: int, reduction: str, xp: Any,
            func: str) -> Array:
    """PaLM's ``log^2 Z`` per non-ignored position, reduced."""
    axis = class_axis(logits, func)
    lse = xp.squeeze(logsumexp(logits, axis, xp), axis=axis)
    if tuple(target.shape) == tuple(logits.shape):
        valid = xp.ones(lse.shape, dtype=xp.bool)
    else:
        valid = target != ignore_index
    zz = xp.where(valid, lse * lse, xp.zeros_like(lse))
    return apply_reduction(zz, reduction, xp.sum(xp.astype(valid, lse.dtype)), xp)
