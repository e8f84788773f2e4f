"""The torch fast paths of the table of measures: one lean body per measure.

See :mod:`kullback.measures._fast` for the contract every fast path keeps. Each measure is
computed from its row totals and one or two fused "``x log y``" passes written in place (one
fresh array per operand at most), in a form whose only cancellation has a cheap error bound:

* entropy ``H = log S_p - A/S_p`` with ``A = sum p log p``;
* cross-entropy ``H(P, Q) = log S_q - B/S_p`` with ``B = sum p log q``;
* KL ``= A/S_p + log(S_q/S_p)`` with ``A = sum p log(p/q)`` (one log, not two);
* JS ``= (A/S_p + B/S_q)/2 + log 2`` with ``r = p/(p + c q)``, ``c = S_p/S_q``,
  ``A = sum p log r`` and ``B = sum q log(1 - r)`` (two logs, not three).

A row's value is kept where its rounding-error bound is far inside the accuracy contract (see
:func:`kullback.measures._fast.accept`); the other rows (nearly identical inputs, dominant
entries, overflow, zeros when gradients are needed) are recomputed by the general path, and a
call holding a negative or NaN entry goes to the general path whole, which reports it. The
checks are reductions folded into one synchronisation per call.

Gradients come from a :class:`torch.autograd.Function` with the analytic backward of the
normalised measure, ``(G_i - sum_j P_j G_j)/S_p`` (``G`` the partial derivative in ``P``). Small
CPU tensors without gradients are computed in NumPy on zero-copy views (a NumPy call on a few
hundred numbers costs half a torch call). torch is imported only when a tensor arrives.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from kullback.measures import _fast

__all__ = ["FAST", "Ops"]

_SMALL = 1 << 14  # CPU tensors of at most this many elements go through NumPy (no gradients)
_LOG2 = math.log(2.0)
_FLOOR = {8: -746.0, 4: -104.0}  # below the log of the smallest subnormal, by itemsize
_LOW = {8: 2.0**-512, 4: 2.0**-64}  # the totals' range, by itemsize


class Ops:
    """The backend this module serves, by the name the table of measures keys it under."""

    name = "torch"


class _NumPy:
    """In-place NumPy ufuncs on views of the tensors' memory."""

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return np.add.reduce(x, axis, None, None, True)

    @staticmethod
    def dot(x: Any, lx: Any, axis: int) -> Any:
        """Row sums of ``x lx``, computed in ``lx``."""
        return np.add.reduce(np.multiply(lx, x, out=lx), axis, None, None, True)

    @staticmethod
    def floor_(lx: Any) -> Any:
        return np.maximum(lx, _FLOOR[lx.dtype.itemsize], out=lx)  # NaN stays NaN

    @staticmethod
    def axpy(p: Any, q: Any, c: Any) -> Any:
        return np.add(np.multiply(q, c), p, out=None)

    log = staticmethod(np.log)
    log_ = staticmethod(lambda x: np.log(x, out=x))
    log1m = staticmethod(lambda x: np.log1p(-x))
    least = staticmethod(lambda x: x.min())
    minimum = staticmethod(np.minimum)


class _Torch:
    """In-place torch kernels (positional arguments: torch parses keywords slowly)."""

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return x.sum(axis, True)

    @staticmethod
    def dot(x: Any, lx: Any, axis: int) -> Any:
        """Row sums of ``x lx``, computed in ``lx`` (``linalg.vecdot`` is a product and a sum
        too, into a fresh array)."""
        return lx.mul_(x).sum(axis, True)

    @staticmethod
    def floor_(lx: Any) -> Any:
        return lx.clamp_(_FLOOR[lx.dtype.itemsize])  # NaN stays NaN

    @staticmethod
    def axpy(p: Any, q: Any, c: Any) -> Any:
        return q.mul(c).add_(p)

    log = staticmethod(lambda x: x.log())
    log_ = staticmethod(lambda x: x.log_())
    log1m = staticmethod(lambda x: x.neg().log1p_())
    least = staticmethod(lambda x: x.min())
    minimum = staticmethod(lambda x, y: x.minimum(y))


# ------------------------------------------------------------------ the measures' bodies
#
# ``forward(ops, p, q, axis, zeros)`` -> (value, size, saved): the value in nats per row (axis
# kept); ``size`` such that the rounding error is below ``(3 + log2 n) size eps`` (it contains
# the value, so that an infinite value makes the acceptance test NaN); the row quantities the
# backward needs. With ``zeros``, ``0 log 0 = 0``: the log of a zero is floored at the log of
# the smallest subnormal (a product with 0 is then 0, and a log below it is of a ratio that
# underflowed, whose term is within the bound); without, zeros make their row NaN (the general
# path has its own gradient there). ``backward(p, q, saved, g, need)`` -> (grad p, grad q).


def _outside(*totals: Any) -> Any:
    """More than 1 where a row total is outside ``[2**-h, 2**h]`` (h = 512 in float64, 64 in
    float32): products of subnormal masses keep a few bits, and a sum near the overflow
    threshold may overflow; such rows take the general path."""
    low = _LOW[totals[0].dtype.itemsize]
    return sum(low * (t + 1.0 / t) for t in totals)


def _entropy(ops: Any, p: Any, q: Any, axis: int, zeros: bool) -> tuple[Any, Any, tuple]:
    """``H = log S_p - A/S_p``, ``A = sum p log p``. ``sum |p log p| <= S_p (H + |log S_p|)``
    bounds the cancellation (a dominant entry: small ``H``). A negative or NaN entry makes
    its row NaN."""
    sp = ops.total(p, axis)
    lp = ops.log(p)
    a = ops.dot(p, ops.floor_(lp) if zeros else lp, axis) / sp
    lsp = ops.log(sp)
    h = lsp - a
    return h, 1.0 + h + 2.0 * abs(lsp) + _outside(sp), (sp, a)


def _entropy_grad(p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple[Any, None]:
    sp, a = saved
    return p.log().sub_(a).mul_(-g / sp), None


def _cross_entropy(ops: Any, p: Any, q: Any, axis: int, zeros: bool) -> tuple[Any, Any, tuple]:
    """``H(P, Q) = log S_q - B/S_p``, ``B = sum p log q``; ``sum |p log q| <= S_p (H(P, Q) +
    |log S_q|)``. Zeros of ``p`` need nothing (``log q`` is finite) but are refused with
    gradients (the general path's gradient there is that of ``H(P) + KL``); a zero of ``q``
    makes its row NaN or infinite. A negative ``p`` is found by the sign check."""
    sp, sq = ops.total(p, axis), ops.total(q, axis)
    lq = ops.log(q)
    b = ops.dot(p, lq if zeros else lq.masked_fill_(p == 0, math.nan), axis) / sp
    lsq = ops.log(sq)
    ce = lsq - b
    return ce, 1.0 + ce + 2.0 * abs(lsq) + _outside(sp, sq), (sp, sq, b)


def _cross_entropy_grad(p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple[Any, Any]:
    sp, sq, b = saved
    gp = q.log().sub_(b).mul_(-g / sp) if need[0] else None
    return gp, _ratio_grad(p, q, sp, sq, g) if need[1] else None


def _kl(ops: Any, p: Any, q: Any, axis: int, zeros: bool) -> tuple[Any, Any, tuple]:
    """``KL = A/S_p + log(S_q/S_p)``, ``A = sum p log(p/q)``: one log pass. Its terms'
    absolute sum is at most ``|A| + 2 S_q`` (``p log(q/p) <= q - p``), which bounds the
    cancellation (nearly identical inputs: small KL). Entries negative in both operands are
    found by the sign check of ``q``; other invalid entries make their row NaN."""
    sp, sq = ops.total(p, axis), ops.total(q, axis)
    lr = ops.log_(p / q)
    a = ops.dot(p, ops.floor_(lr) if zeros else lr, axis) / sp
    sr = sq / sp
    lsr = ops.log(sr)
    kl = a + lsr
    return kl, 1.0 + abs(a) + 2.0 * sr + abs(lsr) + kl + _outside(sp, sq), (sp, sq, a)


def _kl_grad(p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple[Any, Any]:
    sp, sq, a = saved
    gp = (p / q).log_().sub_(a).mul_(g / sp) if need[0] else None
    return gp, _ratio_grad(p, q, sp, sq, g) if need[1] else None


def _ratio_grad(p: Any, q: Any, sp: Any, sq: Any, g: Any) -> Any:
    """``d/dq`` of KL and cross-entropy: ``g (1/S_q - p/(q S_p))``."""
    return (p / q).mul_(-g / sp).add_(g / sq)


def _js(ops: Any, p: Any, q: Any, axis: int, zeros: bool) -> tuple[Any, Any, tuple]:
    """``JS = (A/S_p + B/S_q)/2 + log 2`` with ``r = P/(P + Q)``: ``A = sum p log r`` and
    ``B = sum q log(1 - r)`` have terms of one sign, and ``-(A/S_p + B/S_q) <= 2 log 2`` bounds
    the cancellation against ``log 2`` (nearly identical inputs: small JS). Both operands'
    signs are checked."""
    sp, sq = ops.total(p, axis), ops.total(q, axis)
    r = ops.axpy(p, q, sp / sq)
    r = p / r
    ls = ops.log1m(r)
    b = ops.dot(q, ops.floor_(ls) if zeros else ls, axis) / sq
    lr = ops.log_(r)
    a = ops.dot(p, ops.floor_(lr) if zeros else lr, axis) / sp
    js = (a + b) * 0.5 + _LOG2
    return js, 1.0 + js - a - b + _outside(sp, sq), (sp, sq, a, b)


def _js_grad(p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple[Any, Any]:
    sp, sq, a, b = saved
    r = p / (p + q * (sp / sq))
    gq = (-r).log1p_().sub_(b).mul_(g / (2.0 * sq)) if need[1] else None
    gp = r.log_().sub_(a).mul_(g / (2.0 * sp)) if need[0] else None
    return gp, gq


class _Body(NamedTuple):
    """A measure's forward and backward, and the operands whose signs need a check (the
    others' invalid entries make their rows NaN)."""

    forward: Callable[..., tuple[Any, Any, tuple]]
    backward: Callable[..., tuple[Any, Any]]
    signs: tuple[int, ...]


_BODIES = {
    "entropy": _Body(_entropy, _entropy_grad, ()),
    "cross_entropy": _Body(_cross_entropy, _cross_entropy_grad, (0,)),
    "kl_divergence": _Body(_kl, _kl_grad, (1,)),
    "js_divergence": _Body(_js, _js_grad, (0, 1)),
}

# ------------------------------------------------------------------------- the runner


def _accepts(p: Any, q: Any) -> bool:
    """Floating tensors (or parameters) of one dtype, shape and device, not empty."""
    import torch

    kinds = (torch.Tensor, torch.nn.Parameter)
    return (type(p) in kinds and p.dtype in (torch.float64, torch.float32) and p.ndim > 0
            and p.numel() > 0 and (q is None or (type(q) in kinds and q.dtype == p.dtype
                                                and q.shape == p.shape and q.device == p.device)))


def _scale(p: Any, axis: int) -> float:
    """``(3 + log2 n) eps / tol``: a row is kept where ``value >= scale * size``."""
    eps, tol = (2.0**-52, 2.0**-40) if p.dtype.itemsize == 8 else (2.0**-23, 2.0**-14)
    return (3 + p.shape[axis].bit_length()) * eps / tol


def _serve(body: _Body, entry: Any, p: Any, q: Any, axis: int) -> Any:
    """The measure in nats (axis removed), or None for the general path to serve the call."""
    import torch

    if not _accepts(p, q):
        return None
    operands = (p,) if q is None else (p, q)
    grad = torch.is_grad_enabled() and any(x.requires_grad for x in operands)
    if grad:
        value, slack = _function().apply(body, axis, *operands)
    elif p.device.type == "cpu" and p.numel() <= _SMALL and not p.is_neg():
        return _serve_numpy(body, entry, operands, axis)
    else:
        value, slack, _ = _checked(body, _Torch, operands, axis, True)
    if bool(slack.min() >= 0):  # the one synchronisation
        return value.squeeze(axis)
    return _mixed(body, entry, operands, axis, (slack >= 0).squeeze(axis), grad, value)


def _serve_numpy(body: _Body, entry: Any, operands: tuple, axis: int) -> Any:
    """:func:`_serve` for small CPU tensors without gradients, in NumPy on views."""
    import torch

    with np.errstate(all="ignore"):
        value, slack, _ = _checked(body, _NumPy, [x.detach().numpy() for x in operands], axis,
                                   True)
    if slack.min() >= 0:
        return torch.from_numpy(value.squeeze(axis))
    keep = torch.from_numpy(slack >= 0).squeeze(axis)
    return _mixed(body, entry, operands, axis, keep, False, torch.from_numpy(value))


def _checked(body: _Body, ops: Any, operands: Any, axis: int, zeros: bool) -> tuple:
    """``(value, slack, saved)``: ``slack >= 0`` on the rows whose value is vouched for (NaN
    or negative on the others, and on every row if an operand whose signs need a check holds
    a negative or NaN entry); ``saved`` what the backward needs."""
    p, q = operands if len(operands) == 2 else (operands[0], None)
    value, size, saved = body.forward(ops, p, q, axis, zeros)
    slack = value - size * _scale(p, axis)
    for i in body.signs:
        slack = ops.minimum(slack, ops.least(operands[i]))
    return value, slack, saved


def _mixed(body: _Body, entry: Any, operands: tuple, axis: int, keep: Any, grad: bool,
           value: Any) -> Any:
    """The kept rows from this path, the others from the general path; None if no row is
    kept or the others hold invalid entries (the general path then reports them)."""
    import torch

    if not bool(keep.any()):
        return None
    value = value.squeeze(axis).detach()
    if grad:  # the kept rows again, alone, so that no gradient flows through rejected rows
        rows = [x.movedim(axis, -1)[keep] for x in operands]
        kept = _function().apply(body, -1, *rows)[0].squeeze(-1)
        value = torch.zeros_like(value).index_put((keep,), kept)
    p, q = operands if len(operands) == 2 else (operands[0], None)
    return _fast.general_rows(entry, value, ~keep, p, q, axis)


@functools.cache
def _function() -> Any:
    """The :class:`torch.autograd.Function` of every body (made when torch is first used)."""
    import torch

    class Function(torch.autograd.Function):
        """A measure with its analytic gradient (zeros are refused: their rows are NaN)."""

        @staticmethod
        def forward(ctx: Any, body: _Body, axis: int, *operands: Any) -> Any:
            value, slack, saved = _checked(body, _Torch, operands, axis, False)
            ctx.body = body
            ctx.save_for_backward(*operands, *saved)
            ctx.mark_non_differentiable(slack)
            return value, slack

        @staticmethod
        def backward(ctx: Any, g: Any, _: Any) -> Any:
            k = len(ctx.needs_input_grad) - 2
            tensors = ctx.saved_tensors
            p, q = tensors[0], tensors[1] if k == 2 else None
            grads = ctx.body.backward(p, q, tensors[k:], g, (*ctx.needs_input_grad[2:], False))
            return (None, None, *grads[:k])

    return Function


def _path(name: str) -> Callable[..., Any]:
    body = _BODIES[name]

    def run(entry: Any, p: Any, q: Any, axis: int) -> Any:
        return _serve(body, entry, p, q, axis)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = body.forward.__doc__
    return run


FAST = {name: _path(name) for name in _BODIES}
