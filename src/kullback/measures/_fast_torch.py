"""The torch fast paths of the table of measures: one lean body per measure.

See :mod:`kullback.measures._fast` for the contract every fast path keeps. Each measure is
computed from its row totals and one or two fused "``x log y``" passes written in place (one
fresh array per operand at most), in a form whose only cancellation has a cheap error bound:

* entropy ``H = log S_p - A/S_p`` with ``A = sum p log p``;
* cross-entropy ``H(P, Q) = log S_q - B/S_p`` with ``B = sum p log q``;
* KL ``= A/S_p + log(S_q/S_p)`` with ``A = sum p log(p/q)`` (one log, not two);
* JS ``= (A/S_p + B/S_q)/2 + log 2`` with ``r = p/(p + c q)``, ``c = S_p/S_q``,
  ``A = sum p log r`` and ``B = sum q log(1 - r)`` (two logs, not three).

A row's value is kept where its rounding-error bound is far inside the accuracy contract
(1e-10 relative in float64, 1e-4 in float32, as :func:`kullback.measures._fast.accept`); the
other rows (nearly identical inputs, dominant entries, totals near the ends of the float range)
are recomputed by the general path. A call holding a negative or NaN entry, or a zero where a
gradient is needed, goes to the general path whole, which reports it or applies its own
convention. The checks cost one reduction for an operand whose invalid entries no log reveals
(NaN elsewhere) and one synchronisation for the rows' acceptance; zeros are found when a row
comes out NaN (the call is then redone with ``0 log 0 = 0``). Cross-entropy on torch tensors
with one torch thread goes by blocks of rows of about :data:`_BLOCK` bytes: each operand is
read from memory once, ``log q`` goes to a block-sized buffer, and the row sums and the rows'
least ``p`` (its sign check) are taken while the block is in cache; its backward computes
``log q`` again by blocks (an operand-sized array kept from the forward costs more than that
log). With more threads it takes the whole tensor at once: each pass over a block is a
parallel region, and when another process holds a core every region waits for its time slice
(512 KiB blocks measured 3-15 times the expression's time with one core busy, whole tensors
0.8-2 times).

Gradients come from a :class:`torch.autograd.Function` with the analytic backward of the
normalised measure, ``(G_i - sum_j P_j G_j)/S_p`` (``G`` the partial derivative in ``P``), one
pass per operand on the logs kept from the forward. Small CPU tensors are computed in NumPy
on zero-copy views (a NumPy call on a few hundred numbers costs half a torch call): short rows
(at most 256 outcomes) by the lean path at the end of this module, forward and backward, the
others without gradients by the runner. torch is imported only when a tensor arrives.

Examples
--------
>>> import torch
>>> from kullback.measures import _fast_torch
>>> from kullback.measures._table import lookup
>>> p = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
>>> q = torch.tensor([[0.25, 0.75], [0.5, 0.5]], dtype=torch.float64)
>>> _fast_torch.FAST["kl_divergence"](lookup("kl_divergence"), p, q, -1)
tensor([0.1438, 0.3681], dtype=torch.float64)
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
    def dot(x: Any, lx: Any, axis: int, keep: bool) -> Any:
        """Row sums of ``x lx``, computed in ``lx`` unless it is kept."""
        return np.add.reduce(lx * x if keep else np.multiply(lx, x, out=lx), axis, None, None,
                             True)

    @staticmethod
    def addcmul(c: Any, x: Any, s: Any) -> Any:
        """``c + x s``."""
        out = np.multiply(x, s)
        return np.add(out, c, out=out)

    @staticmethod
    def floor(lx: Any, zeros: bool) -> Any:
        """``lx`` with NaN and -inf set to the floor, in place, if ``zeros``."""
        return np.fmax(lx, _FLOOR[lx.dtype.itemsize], out=lx) if zeros else lx

    @staticmethod
    def over_(x: Any, y: Any) -> Any:
        """``y := x / y`` in place."""
        return np.divide(x, y, out=y)

    @staticmethod
    def cross_sums(p: Any, q: Any, axis: int) -> tuple:
        """Row sums of ``p log q``, ``p`` and ``q``, and the rows' least ``p`` (axis kept)."""
        keep = functools.partial(np.add.reduce, axis=axis, keepdims=True)
        return (keep(np.log(q) * p), keep(p), keep(q),
                np.minimum.reduce(p, axis, None, None, True))

    @staticmethod
    def affine(f: Callable[..., Any], x: Any, y: Any, shift: Any, scale: Any,
               axis: int) -> Any:
        """``shift + scale f(x, y)`` (``f`` an elementwise function with ``out``)."""
        out = f(x, y, np.empty(np.broadcast_shapes(x.shape, y.shape), x.dtype))
        out *= scale
        out += shift
        return out

    @staticmethod
    def invalid(least: Any) -> Any:
        """0 where ``least >= 0``, NaN elsewhere (a negative or NaN entry)."""
        return np.where(least >= 0, 0.0, np.nan)

    log_of_second = staticmethod(lambda x, y, out: np.log(y, out=out))
    ratio = staticmethod(lambda x, y, out: np.divide(x, y, out=out))
    log = staticmethod(np.log)
    log_ = staticmethod(lambda x: np.log(x, out=x))
    log1m = staticmethod(lambda x: np.log1p(-x))
    least = staticmethod(lambda x: x.min())


class _Torch:
    """In-place torch kernels (positional arguments: torch parses keywords slowly)."""

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return x.sum(axis, True)

    @staticmethod
    def dot(x: Any, lx: Any, axis: int, keep: bool) -> Any:
        """Row sums of ``x lx``, computed in ``lx`` unless it is kept (``linalg.vecdot`` is a
        product and a sum too, into a fresh array)."""
        return (lx * x if keep else lx.mul_(x)).sum(axis, True)

    @staticmethod
    def floor(lx: Any, zeros: bool) -> Any:
        """``lx`` with NaN and -inf set to the floor, in place, if ``zeros``."""
        floor = _FLOOR[lx.dtype.itemsize]
        return lx.nan_to_num_(floor, math.inf, floor) if zeros else lx

    @staticmethod
    def over_(x: Any, y: Any) -> Any:
        """``y := x / y`` in place."""
        import torch

        return torch.div(x, y, out=y)

    @staticmethod
    def cross_sums(p: Any, q: Any, axis: int) -> tuple:
        """Row sums of ``p log q``, ``p`` and ``q``, and the rows' least ``p`` (axis kept),
        one block of rows at a time: each operand is read from memory once, every other pass
        runs in cache, and ``log q`` is written to one block-sized buffer (a fresh array of
        the operands' size costs more in page faults than its log on large tensors)."""
        import torch

        a, b = _matrix(p, axis), _matrix(q, axis)
        sums = torch.empty(4, a.shape[0], 1, dtype=p.dtype, device=p.device)
        k, buf = _block(a, _BLOCK)
        for x, y, dot, sp, sq, least in zip(*(z.split(k) for z in (a, b, *sums)), strict=True):
            lb = buf if len(x) == k else buf[:len(x)]
            torch.log(y, out=lb)
            torch.sum(y, -1, True, out=sq)
            torch.sum(lb.mul_(x), -1, True, out=dot)
            torch.sum(x, -1, True, out=sp)
            torch.amin(x, -1, True, out=least)
        return tuple(_unmatrix(x, p, axis) for x in sums)

    @staticmethod
    def affine(f: Callable[..., Any], x: Any, y: Any, shift: Any, scale: Any,
               axis: int) -> Any:
        """``shift + scale f(x, y)`` (``f`` an elementwise function with ``out``) into a fresh
        array, one block of rows at a time (each block's passes in cache)."""
        import torch

        a, b = _matrix(x, axis), _matrix(y, axis)
        out = torch.empty(a.shape, dtype=a.dtype, device=a.device)
        k, _ = _block(a, _GRAD_BLOCK, buffer=False)
        blocks = (z.split(k) for z in (a, b, out, _matrix(scale, axis), _matrix(shift, axis)))
        for xb, yb, ob, sb, cb in zip(*blocks, strict=True):
            f(xb, yb, ob).mul_(sb).add_(cb)
        return _unmatrix(out, x, axis)

    @staticmethod
    def invalid(least: Any) -> Any:
        """0 where ``least >= 0``, NaN elsewhere (a negative or NaN entry)."""
        import torch

        return torch.where(least >= 0, 0.0, math.nan)

    addcmul = staticmethod(lambda c, x, s: __import__("torch").addcmul(c, x, s))
    log_of_second = staticmethod(lambda x, y, out: __import__("torch").log(y, out=out))
    ratio = staticmethod(lambda x, y, out: __import__("torch").div(x, y, out=out))
    log = staticmethod(lambda x: x.log())
    log_ = staticmethod(lambda x: x.log_())
    log1m = staticmethod(lambda x: x.neg().log1p_())
    least = staticmethod(lambda x: x.detach().min())


# Bytes of an operand per block of rows with one torch thread (the block's passes run in its
# caches; with more threads, each pass over a block would be a parallel region, whose
# synchronisation waits for a time slice whenever another process holds a core)
_BLOCK = 1 << 19
_GRAD_BLOCK = 1 << 20  # the same in the backward, which reads one operand and writes one


def _matrix(x: Any, axis: int) -> Any:
    """``x`` with ``axis`` last and the others flattened into rows (a view where strides
    allow)."""
    m = x.movedim(axis, -1)
    try:
        return m.view(-1, m.shape[-1])
    except RuntimeError:  # strides that no view flattens
        return m.reshape(-1, m.shape[-1])


def _unmatrix(x: Any, like: Any, axis: int) -> Any:
    """The contiguous rows ``x`` (as :func:`_matrix` made them from ``like``) in ``like``'s
    layout, with ``x``'s last length along ``axis``."""
    shape = list(like.shape)
    del shape[axis]
    return x.view(*shape, x.shape[-1]).movedim(-1, axis)


def _block(a: Any, size: int, buffer: bool = True) -> tuple[int, Any]:
    """The number of rows of the matrix ``a`` processed together (about ``size`` bytes, at
    least a row, with one torch thread on the CPU; else all rows: a launch, or a parallel
    region waiting for a busy core, costs more than a pass) and a buffer of one block's
    size."""
    import torch

    rows, n = a.shape
    whole = a.device.type != "cpu" or torch.get_num_threads() > 1
    k = rows if whole else min(rows, max(1, size // (n * a.element_size())))
    return k, torch.empty(k, n, dtype=a.dtype, device=a.device) if buffer else None


# ------------------------------------------------------------------ the measures' bodies
#
# ``forward(ops, p, q, axis, zeros, keep)`` -> (value, size, saved): the value in nats per row
# (axis kept); ``size`` such that the rounding error is below ``(3 + log2 n) size eps`` (it
# contains the value, so that an infinite value makes the acceptance test NaN); with ``keep``
# (gradients), the row quantities and log arrays the backward needs. The operands hold no
# negative or NaN entry where the body's sign check found none; elsewhere such an entry makes
# its row NaN. Zeros: without ``zeros`` a zero makes its row NaN (``0 * -inf``); with it, a log
# of 0 or of 0/0 is set to a floor below the log of the smallest subnormal, so that the
# product with 0 is 0 (a log below the floor is of a ratio that underflowed, whose term is far
# inside the bound). ``backward(p, q, saved, g, need)`` -> (grad p, grad q): one ``addcmul``
# each, ``(G - sum_j P_j G_j) g / S`` with the saved log ``G``.


def _outside(*totals: Any) -> Any:
    """More than 1 where a row total is outside ``[2**-h, 2**h]`` (h = 512 in float64, 64 in
    float32): products of subnormal masses keep a few bits, and a sum near the overflow
    threshold may overflow; such rows take the general path."""
    low = _LOW[totals[0].dtype.itemsize]
    return sum(low * (t + 1.0 / t) for t in totals)


def _entropy(ops: Any, p: Any, q: Any, axis: int, zeros: bool, keep: bool) -> tuple:
    """``H = log S_p - A/S_p``, ``A = sum p log p``. ``sum |p log p| <= S_p (H + |log S_p|)``
    bounds the cancellation (a dominant entry: small ``H``)."""
    lp = ops.floor(ops.log(p), zeros)
    sp = ops.total(p, axis)  # right after a pass that read p: in cache
    a = ops.dot(p, lp, axis, keep) / sp
    lsp = ops.log(sp)
    h = lsp - a
    return h, 1.0 + h + 2.0 * abs(lsp) + _outside(sp), (sp, a, lp) if keep else ()


def _entropy_grad(ops: Any, p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple:
    sp, a, lp = saved
    return _centred(ops, lp, a, -g / sp), None


def _cross_entropy(ops: Any, p: Any, q: Any, axis: int, zeros: bool, keep: bool) -> tuple:
    """``H(P, Q) = log S_q - B/S_p``, ``B = sum p log q``; ``sum |p log q| <= S_p (H(P, Q) +
    |log S_q|)``. One pass over each operand (see ``cross_sums``); the rows' least ``p``
    rejects a row with a negative or NaN ``p``, which no log reveals. Zeros of ``p`` need no
    floor (``log q`` is finite), and their gradient is the analytic one; a zero of ``q``
    makes its row NaN or infinite, as does a negative ``q``. The backward computes ``log q``
    again rather than keep it (cheaper than a fresh array of the operands' size)."""
    b, sp, sq, least = ops.cross_sums(p, q, axis)
    b = b / sp
    lsq = ops.log(sq)
    ce = lsq - b
    size = 1.0 + ce + 2.0 * abs(lsq) + _outside(sp, sq) + ops.invalid(least)
    return ce, size, (sp, sq, b, axis) if keep else ()


def _cross_entropy_grad(ops: Any, p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple:
    """``(-log q - B/S_p) g/S_p`` in ``p``, ``g/S_q - (p/q) g/S_p`` in ``q``: one pass each,
    by block of rows."""
    sp, sq, b, axis = saved
    s = -g / sp
    return (ops.affine(ops.log_of_second, p, q, -b * s, s, axis) if need[0] else None,
            ops.affine(ops.ratio, p, q, g / sq, s, axis) if need[1] else None)


def _kl(ops: Any, p: Any, q: Any, axis: int, zeros: bool, keep: bool) -> tuple:
    """``KL = A/S_p + log(S_q/S_p)``, ``A = sum p log(p/q)``: one log pass. Its terms'
    absolute sum is at most ``|A| + 2 S_q`` (``p log(q/p) <= q - p``), which bounds the
    cancellation (nearly identical inputs: small KL). An entry negative in both operands
    (a positive ratio) is found by the sign check of ``q``."""
    r = p / q
    sp, sq = ops.total(p, axis), ops.total(q, axis)  # right after the pass that read them
    lr = ops.floor(ops.log_(r), zeros)
    a = ops.dot(p, lr, axis, keep) / sp
    sr = sq / sp
    lsr = ops.log(sr)
    kl = a + lsr
    size = 1.0 + abs(a) + 2.0 * sr + abs(lsr) + kl + _outside(sp, sq)
    return kl, size, (sp, sq, a, lr) if keep else ()


def _kl_grad(ops: Any, p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple:
    sp, sq, a, lr = saved
    return (_centred(ops, lr, a, g / sp) if need[0] else None,
            _ratio_grad(ops, p, q, sp, sq, g) if need[1] else None)


def _js(ops: Any, p: Any, q: Any, axis: int, zeros: bool, keep: bool) -> tuple:
    """``JS = (A/S_p + B/S_q)/2 + log 2`` with ``r = P/(P + Q)``: ``A = sum p log r`` and
    ``B = sum q log(1 - r)`` have terms of one sign, and ``-(A/S_p + B/S_q) <= 2 log 2`` bounds
    the cancellation against ``log 2`` (nearly identical inputs: small JS). An entry negative
    in both operands (a ratio in (0, 1)) is found by the sign check of ``q``."""
    sp, sq = ops.total(p, axis), ops.total(q, axis)
    r = ops.over_(p, ops.addcmul(p, q, abs(sp) / sq))  # p / (p + (|S_p|/S_q) q): NaN at p < 0
    ls = ops.floor(ops.log1m(r), zeros)
    b = ops.dot(q, ls, axis, keep) / sq
    lr = ops.floor(ops.log_(r), zeros)
    a = ops.dot(p, lr, axis, keep) / sp
    js = (a + b) * 0.5 + _LOG2
    return js, 1.0 + js - a - b + _outside(sp, sq), (sp, sq, a, b, lr, ls) if keep else ()


def _js_grad(ops: Any, p: Any, q: Any, saved: tuple, g: Any, need: tuple) -> tuple:
    sp, sq, a, b, lr, ls = saved
    return (_centred(ops, lr, a, g / (2.0 * sp)) if need[0] else None,
            _centred(ops, ls, b, g / (2.0 * sq)) if need[1] else None)


def _centred(ops: Any, lx: Any, mean: Any, scale: Any) -> Any:
    """``(lx - mean) scale`` in one pass."""
    return ops.addcmul(-mean * scale, lx, scale)


def _ratio_grad(ops: Any, p: Any, q: Any, sp: Any, sq: Any, g: Any) -> Any:
    """``d/dq`` of KL and cross-entropy: ``g (1/S_q - p/(q S_p))``."""
    return ops.addcmul(g / sq, p / q, -g / sp)


class _Body(NamedTuple):
    """A measure's forward and backward, and the operands whose signs are checked first (a
    negative or NaN entry of the others makes its row NaN)."""

    forward: Callable[..., tuple[Any, Any, tuple]]
    backward: Callable[..., tuple[Any, Any]]
    signs: tuple[int, ...]
    name: str


_BODIES = {
    "entropy": _Body(_entropy, _entropy_grad, (), "entropy"),
    "cross_entropy": _Body(_cross_entropy, _cross_entropy_grad, (), "cross_entropy"),
    "kl_divergence": _Body(_kl, _kl_grad, (1,), "kl_divergence"),
    "js_divergence": _Body(_js, _js_grad, (1,), "js_divergence"),
}

# ------------------------------------------------------------------------- the runner


def _accepts(p: Any, q: Any) -> bool:
    """Floating tensors (or parameters) of one dtype, shape and device, not empty, outside
    forward-mode AD and torch.func transforms (see :func:`_transformed`)."""
    import torch

    kinds = (torch.Tensor, torch.nn.Parameter)
    return (type(p) in kinds and p.dtype in (torch.float64, torch.float32) and p.ndim > 0
            and p.numel() > 0 and (q is None or (type(q) in kinds and q.dtype == p.dtype
                                                and q.shape == p.shape and q.device == p.device))
            and not _transformed(p, q))


def _transformed(p: Any, q: Any) -> bool:
    """Whether forward-mode AD is on (a dual level is open: the fast paths would drop the
    tangents) or an operand is wrapped by a torch.func transform (``grad``, ``vmap``,
    ``jacfwd``...: no NumPy view, no autograd.Function without ``setup_context``). The general
    path's plain torch operations serve these."""
    t = _torch_names()
    return t.forward_ad._current_level >= 0 or t.wrapped(p) or (q is not None and t.wrapped(q))


def _scale(p: Any, axis: int) -> float:
    """``(3 + log2 n) eps / tol``: a row is kept where ``value >= scale * size``."""
    eps, tol = (2.0**-52, 2.0**-40) if p.dtype.itemsize == 8 else (2.0**-23, 2.0**-14)
    return (3 + p.shape[axis].bit_length()) * eps / tol


def _serve(body: _Body, entry: Any, p: Any, q: Any, axis: int) -> Any:
    """The measure in nats (axis removed), or None for the general path to serve the call.

    First the sign check of the operands that need one (their smallest entries: a negative or
    NaN one sends the call to the general path, which reports it; a zero calls for the floor
    of the logs). If a row is then rejected, the other operands are checked too (an invalid
    entry or a zero there made its row NaN) and the call is redone with the floor where a
    zero was found. Zeros in an operand that needs a gradient send the call to the general
    path, which has its own convention there. The rows still rejected are recomputed by the
    general path.
    """
    import torch

    if not _accepts(p, q):
        return None
    operands = (p,) if q is None else (p, q)
    grad = torch.is_grad_enabled() and (p.requires_grad or (q is not None and q.requires_grad))
    small = not grad and _small(operands)
    ops, arrays = (_NumPy, _views(operands)) if small else (_Torch, operands)
    zeros = _zeros(ops, arrays, body.signs, grad) if body.signs else False
    if zeros:  # the floor would hide the NaN of a negative entry's log: check every operand
        zeros = _zeros(ops, arrays, range(len(arrays)), grad)
    if zeros is None:
        return None
    value, slack = _attempt(body, ops, arrays, axis, zeros, grad)
    kept = bool(slack.min() >= 0)
    if not kept and not zeros:
        zeros = _zeros(ops, arrays, range(len(arrays)), grad)
        if zeros is None:
            return None
        if zeros:
            value, slack = _attempt(body, ops, arrays, axis, zeros, grad)
            kept = bool(slack.min() >= 0)
    if kept:  # squeezed before conversion: torch's first operation on a view of NumPy memory
        return torch.from_numpy(value.squeeze(axis)) if small else value.squeeze(axis)
    if small:  # is slow
        value, slack = torch.from_numpy(value), torch.from_numpy(slack)
    return _mixed(body, entry, operands, axis, (slack >= 0).squeeze(axis), grad, zeros, value)


def _small(operands: tuple) -> bool:
    """Whether the operands are small CPU tensors that NumPy can view."""
    p = operands[0]
    return (p.device.type == "cpu" and p.numel() <= _SMALL
            and not any(x.is_neg() for x in operands))


def _views(operands: Any) -> list:
    """NumPy views of the tensors' memory."""
    return [x.detach().numpy() for x in operands]


def _zeros(ops: Any, arrays: Any, which: Any, grad: bool) -> bool | None:
    """Whether the operands ``which`` hold a zero; None if one holds a negative or NaN entry,
    or a zero where a gradient is needed."""
    least = [(float(ops.least(arrays[i])), i) for i in which]
    if not all(v >= 0 for v, _ in least):
        return None
    if grad and any(v == 0 and arrays[i].requires_grad for v, i in least):
        return None
    return any(v == 0 for v, _ in least)


def _attempt(body: _Body, ops: Any, arrays: Any, axis: int, zeros: bool, grad: bool) -> tuple:
    """``(value, slack)`` of the body on these operands (see :func:`_checked`)."""
    if grad:
        return _function().apply(body, axis, zeros, *arrays)
    with np.errstate(all="ignore"):
        return _checked(body, ops, arrays, axis, zeros, False)[:2]


def _checked(body: _Body, ops: Any, operands: Any, axis: int, zeros: bool, keep: bool) -> tuple:
    """``(value, slack, saved)``: ``slack >= 0`` on the rows whose value is vouched for (NaN
    or negative on the others); ``saved`` what the backward needs."""
    p, q = operands if len(operands) == 2 else (operands[0], None)
    value, size, saved = body.forward(ops, p, q, axis, zeros, keep)
    return value, value - size * _scale(p, axis), saved


def _mixed(body: _Body, entry: Any, operands: tuple, axis: int, keep: Any, grad: bool,
           zeros: bool, value: Any) -> Any:
    """The kept rows from this path, the others from the general path; None if no row is
    kept or the others hold invalid entries (the general path then reports them)."""
    import torch

    if not bool(keep.any()):
        return None
    value = value.squeeze(axis).detach()
    if grad:  # the kept rows again, alone, so that no gradient flows through rejected rows
        rows = [x.movedim(axis, -1)[keep] for x in operands]
        kept = _function().apply(body, -1, zeros, *rows)[0].squeeze(-1)
        value = torch.zeros_like(value).index_put((keep,), kept)
    p, q = operands if len(operands) == 2 else (operands[0], None)
    return _fast.general_rows(entry, value, ~keep, p, q, axis)


@functools.cache
def _function() -> Any:
    """The :class:`torch.autograd.Function` of every body (made when torch is first used)."""
    import torch

    class Function(torch.autograd.Function):
        """A measure with its analytic gradient (for operands without zeros); small CPU
        tensors are computed in NumPy on views, forward and backward."""

        @staticmethod
        def forward(ctx: Any, body: _Body, axis: int, zeros: bool, *operands: Any) -> Any:
            ctx.body, ctx.small, ctx.axis = body, _small(operands), axis
            ctx.save_for_backward(*operands)
            if not ctx.small:
                value, slack, ctx.saved = _checked(body, _Torch, operands, axis, zeros, True)
            else:
                with np.errstate(all="ignore"):
                    value, slack, ctx.saved = _checked(body, _NumPy, _views(operands), axis,
                                                       zeros, True)
                value, slack = torch.from_numpy(value), torch.from_numpy(slack)
            ctx.mark_non_differentiable(slack)
            return value, slack

        @staticmethod
        def backward(ctx: Any, g: Any, _: Any) -> Any:
            operands = ctx.saved_tensors
            need = (*ctx.needs_input_grad[3:], False)
            if torch.is_grad_enabled():  # create_graph: a gradient that is differentiable
                return (None, None, None, *_general_grads(ctx.body.name, operands, ctx.axis,
                                                          g, need))
            if not ctx.small:
                grads = ctx.body.backward(_Torch, *operands, *(None,) * (2 - len(operands)),
                                          ctx.saved, g, need)
            else:
                with np.errstate(all="ignore"):
                    grads = ctx.body.backward(_NumPy, *_views(operands),
                                              *(None,) * (2 - len(operands)), ctx.saved,
                                              g.detach().numpy(), need)
                grads = [None if x is None else torch.from_numpy(x) for x in grads]
            return (None, None, None, *grads[:len(operands)])

    return Function


def _general_grads(name: str, operands: tuple, axis: int, g: Any, need: tuple) -> list:
    """The gradients by autograd through the general path, with a graph of their own (for
    second derivatives: ``create_graph=True``, Hessians, Fisher information)."""
    import torch

    from kullback.measures._prepare import prepare
    from kullback.measures.discrete import _evaluate

    p, q = operands if len(operands) == 2 else (operands[0], None)
    pr = prepare(p, q, axis, "probs", "probs", False)
    value = _evaluate(pr, (name,))[name]
    wrt = [x for x, n in zip(operands, need, strict=False) if n]
    g = g.squeeze(axis).to(value.dtype)  # float32 is computed in float64 there
    found = iter(torch.autograd.grad(value, wrt, g, create_graph=True))
    return [next(found) if n else None for n in need[:len(operands)]]


# ------------------------------------------------------------------ short rows: the lean path
#
# A call on a few short rows (64 x 10) costs what its Python layer costs: the lean path is one
# function per measure of some ten NumPy operations on zero-copy float64 views (float32 is
# widened), every check folded into a pass it makes anyway, and one acceptance test for the
# whole call. It works on the normalised ratios, so that a row's rounding-error bound is
# ``(3 + log2 n) eps (c1 value + c0)`` whatever the row totals: the value is kept where it is at
# least ``tau = c0 k / (1 - c1 k)``, ``k = (3 + log2 n) eps / tol`` (tol 2**-40 for a float64
# result, 2**-24 for float32: the float64 error then stays below float32 rounding). Rows of at
# most 256 outcomes only: even summed in sequence (BLAS), the worst-case error is then within
# 22 times that bound, still inside the contract (1e-10 and 1e-4). A negative, NaN or
# infinite entry, a zero under a log, or an overflowing ratio makes its row NaN or infinite
# (the logs of ``|S|``-scaled ratios reveal the signs; the one operand whose signs no log
# reveals is checked by one minimum); then, or if a row is below ``tau``, the call goes to the
# general runner above (``_serve``), which handles zeros and mixed rows.
#
# ``forward(a, b, o, keep)`` -> ``(value, w, saved)`` with the axis kept, or None (``keep``:
# False, or which operands need a gradient; ``o`` a column of ones: ``x.dot(o)`` is the
# cheapest row sum). ``w = value/S_p`` (plus the reciprocal of the totals' ratio ``c`` where
# one operand is scaled by it) is below ``2**970`` only where ``S_p`` is far from the
# subnormal range (``value >= tau``: products of subnormal masses keep a few bits), ``c`` is
# a normal number, and the value is finite. ``backward(g, saved, need)`` -> the NumPy
# gradients (``g`` with the axis kept), from arrays of the forward only (never from the
# operands' memory, which the caller may change in place).

_LEAN_N = 256  # outcomes per row at most
_EPS64 = 2.0**-52
_TOL = {8: 2.0**-40, 4: 2.0**-24}  # by the result's itemsize
_WIDE = 2.0**970  # the bound on each row's ``w`` (see below)
_ONES: dict[int, Any] = {}
_QUIET = np.errstate(all="ignore")  # as a decorator: half the cost of a ``with`` block


@_QUIET
def _h_lean(a: Any, b: None, o: Any, keep: Any) -> tuple | None:
    """``H = sum P log(1/P)``; ``log(|S_p|/p)`` is NaN at a negative entry."""
    sp = a.dot(o)
    lr = np.log(np.divide(np.abs(sp), a))
    v = _lean_mean(lr, a, o, sp, keep)
    return v, v / sp, (sp, v, lr) if keep else None


def _h_lean_grad(g: Any, saved: tuple, need: tuple) -> tuple:
    sp, v, lr = saved
    return (_lean_centred(lr, v, g / sp),)


@_QUIET
def _ce_lean(a: Any, b: Any, o: Any, keep: Any) -> tuple | None:
    """``H(P, Q) = sum P log(1/Q)``: ``log(|S_q|/q)`` reveals ``q``'s signs, ``p``'s are
    checked (no log of ``p`` is taken: a zero of ``p`` is a zero term)."""
    if not np.minimum.reduce(a, None) >= 0.0:
        return None
    sp, sq = a.dot(o), b.dot(o)
    r = np.divide(np.abs(sq), b)
    lr = np.log(r) if keep else np.log(r, out=r)
    v = _lean_mean(lr, a, o, sp, keep)
    ratio = np.multiply(r, a, out=r) / sp if keep and keep[1] else None  # P/Q, for d/dq
    return v, v / sp, (sp, sq, v, lr, ratio) if keep else None


def _ratio_lean_grad(g: Any, saved: tuple, need: tuple) -> tuple:
    """Cross-entropy's and KL's: ``(G - value)/S_p`` in ``p`` (``G`` the log saved), and
    ``(1 - P/Q)/S_q`` in ``q``."""
    sp, sq, v, lr, ratio = saved
    return (_lean_centred(lr, v, g / sp) if need[0] else None,
            _lean_ratio_grad(ratio, g / sq) if need[1] else None)


@_QUIET
def _kl_lean(a: Any, b: Any, o: Any, keep: Any) -> tuple | None:
    """``KL = sum P log(P/Q)`` with ``P/Q = (p/q) (S_q/|S_p|)``, whose log is NaN at a
    negative ``p`` once ``q``'s signs are checked."""
    if not np.minimum.reduce(b, None) >= 0.0:
        return None
    sp, sq = a.dot(o), b.dot(o)
    r = np.divide(a, b)
    c = sq / np.abs(sp)
    r *= c
    lr = np.log(r) if keep else np.log(r, out=r)
    v = _lean_mean(lr, a, o, sp, keep)
    return v, v / sp + 1.0 / c, (sp, sq, v, lr, r) if keep else None


@_QUIET
def _js_lean(a: Any, b: Any, o: Any, keep: Any) -> tuple | None:
    """``JS = log 2 + (sum P log(P/(P+Q)) + sum Q log(Q/(P+Q)))/2`` with ``P/(P+Q) = p/t``,
    ``Q/(P+Q) = c q/t``, ``t = p + c q``, ``c = |S_p|/S_q``: a negative ``p`` makes one of the
    two logs NaN once ``q``'s signs are checked."""
    if not np.minimum.reduce(b, None) >= 0.0:
        return None
    sp, sq = a.dot(o), b.dot(o)
    c = np.abs(sp) / sq
    cq = b * c
    t = a + cq
    lr, ls = np.log(np.divide(a, t)), np.log(np.divide(cq, t, out=t))
    wa, wb = _lean_mean(lr, a, o, sp, keep), _lean_mean(ls, cq, o, sp, keep)  # sum P lr, Q ls
    v = wa + wb
    v *= 0.5
    v += _LOG2
    return v, v / sp + 1.0 / c, (sp, sq, wa, wb, lr, ls) if keep else None


def _js_lean_grad(g: Any, saved: tuple, need: tuple) -> tuple:
    sp, sq, wa, wb, lr, ls = saved
    return (_lean_centred(lr, wa, g / (2.0 * sp)) if need[0] else None,
            _lean_centred(ls, wb, g / (2.0 * sq)) if need[1] else None)


def _lean_mean(lx: Any, x: Any, o: Any, total: Any, keep: Any) -> Any:
    """``sum x lx / total`` by row (the product in place in ``lx`` unless it is kept)."""
    v = (lx * x if keep else np.multiply(lx, x, out=lx)).dot(o)
    v /= total
    return v


def _lean_centred(lx: Any, mean: Any, scale: Any) -> Any:
    """``(lx - mean) scale``, the gradient of a normalised measure."""
    out = lx - mean
    out *= scale
    return out


def _lean_ratio_grad(ratio: Any, scale: Any) -> Any:
    """``(1 - P/Q) scale``: ``d/dq`` of KL and cross-entropy, ``scale = g/S_q``."""
    out = 1.0 - ratio
    out *= scale
    return out


# Without gradients the lean path normalises first (``P = p/|S_p|``, one division by a column
# of totals) and sums ``P log x`` with a row of ones: no division of the sums afterwards, no
# product of unnormalised masses (so no test of the totals' range), and one minimum for the
# acceptance of the whole call (cross-entropy and KL add a maximum: a ratio ``|S_q|/q`` or
# ``p/q`` may overflow, and an infinite value is left to the general path). The error bound
# is the lean path's (above). Cross-entropy checks ``p``'s signs (no log of ``P`` is
# taken), KL ``q``'s.


@_QUIET
def _h_quick(a: Any, b: None, o: Any, o1: Any, tau: float) -> Any:
    """``H = -sum P log P`` by row (``o1`` a row of -1), or None."""
    pn = np.divide(a, np.abs(a.dot(o)))
    lp = np.log(pn)
    lp *= pn
    h = lp.dot(o1)
    return h if np.minimum.reduce(h, None) >= tau else None


@_QUIET
def _ce_quick(a: Any, b: Any, o: Any, o1: Any, tau: float) -> Any:
    """``H(P, Q) = sum P log(1/Q)`` by row (``log(|S_q|/q)``), or None."""
    if not np.minimum.reduce(a, None) >= 0.0:
        return None
    pn = np.divide(a, a.dot(o))
    lq = np.divide(np.abs(b.dot(o)), b)
    np.log(lq, out=lq)
    lq *= pn
    h = lq.dot(o1)
    return h if np.minimum.reduce(h, None) >= tau and np.maximum.reduce(h, None) < _BIG \
        else None


@_QUIET
def _kl_quick(a: Any, b: Any, o: Any, o1: Any, tau: float) -> Any:
    """``KL = sum P log(P (S_q/q))`` by row, or None."""
    if not np.minimum.reduce(b, None) >= 0.0:
        return None
    pn = np.divide(a, np.abs(a.dot(o)))
    r = np.divide(b.dot(o), b)
    r *= pn
    np.log(r, out=r)
    r *= pn
    kl = r.dot(o1)
    return kl if np.minimum.reduce(kl, None) >= tau and np.maximum.reduce(kl, None) < _BIG \
        else None


_BIG = 2.0**20  # cross-entropy's and KL's bound (a larger value is left to the general path)


class _Lean(NamedTuple):
    """A measure's lean forward and backward, its error bound ``c1 value + c0``, the
    thresholds ``tau`` by row length and dtype (filled on first use), and its forward without
    gradients (None: ``forward`` serves that too)."""

    forward: Callable[..., tuple | None]
    backward: Callable[..., tuple]
    c1: float
    c0: float
    name: str
    tau: dict
    quick: Callable[..., Any] | None = None


_LEANS = {
    "entropy": _Lean(_h_lean, _h_lean_grad, 1.0, 2.0, "entropy", {}, _h_quick),
    "cross_entropy": _Lean(_ce_lean, _ratio_lean_grad, 1.0, 2.0, "cross_entropy", {},
                           _ce_quick),
    "kl_divergence": _Lean(_kl_lean, _ratio_lean_grad, 2.0, 6.0, "kl_divergence", {},
                           _kl_quick),
    "js_divergence": _Lean(_js_lean, _js_lean_grad, 1.0, 4.0, "js_divergence", {}),
}


def _tau(lean: _Lean, n: int, f64: bool) -> float:
    """The least value kept on rows of ``n`` outcomes (see above), for a float64 result or
    a float32 one."""
    k = (3 + n.bit_length()) * _EPS64 / _TOL[8 if f64 else 4]
    lean.tau[n, f64] = tau = lean.c0 * k / (1.0 - lean.c1 * k)
    return tau


def _lean(lean: _Lean, p: Any, q: Any, axis: int) -> Any:
    """The measure in nats by the lean path, or None (the general runner serves the call)."""
    t = _torch_names()
    if type(p) not in t.kinds or (q is not None and (type(q) not in t.kinds
                                                     or q.dtype is not p.dtype
                                                     or q.shape != p.shape)):
        return None
    plan = _PLANS.get((p.shape, p.dtype, axis))
    if plan is None:
        plan = _plan(p, axis)
    if not plan:
        return None
    grad = (p.requires_grad or (q is not None and q.requires_grad)) and t.grad_enabled()
    if t.forward_ad._current_level >= 0 or (grad and _transformed(p, q)):
        return None  # a torch.func transform without gradients has no NumPy view: see below
    try:  # another device, or a tensor with a negative bit: TypeError, RuntimeError
        a = (p.detach() if p.requires_grad else p).numpy()
        b = None if q is None else (q.detach() if q.requires_grad else q).numpy()
    except (TypeError, RuntimeError):
        return None
    n, ones, f64, rows = plan
    if not f64:
        a = a.astype(np.float64)
        b = None if b is None else b.astype(np.float64)
    tau = lean.tau.get((n, f64)) or _tau(lean, n, f64)
    if not grad and lean.quick is not None:
        v = lean.quick(a if rows is None else a.reshape(rows),
                       b if rows is None or b is None else b.reshape(rows), ones[0],
                       ones[2] if b is None else ones[1], tau)
        if v is None:
            return None
        if rows is not None:
            v = v.reshape(p.shape[:-1])
        return t.from_numpy(v if f64 else v.astype(np.float32))
    keep = grad and (p.requires_grad, q is not None and q.requires_grad)
    found = lean.forward(a, b, ones[0], keep)
    if found is None:
        return None
    v, w, saved = found
    if not (np.minimum.reduce(v, None) >= tau and np.maximum.reduce(w, None) < _WIDE):
        return None
    v = v[..., 0] if f64 else v[..., 0].astype(np.float32)
    if not grad:
        return t.from_numpy(v)
    return _lean_function().apply((lean, saved, v), p, *(() if q is None else (q,)))


# (shape, dtype, axis) -> False where the lean path does not serve, else (outcomes per row,
# columns of ones (n, 1), row of ones, row of -1, float64?, the rows' 2-d shape or None)
_PLANS: dict[tuple, Any] = {}


def _plan(p: Any, axis: int) -> Any:
    """What the lean path needs to know of a shape, dtype and axis (see ``_PLANS``)."""
    t = _torch_names()
    shape, n = tuple(p.shape), p.shape[-1] if p.ndim else 0
    size = math.prod(shape)
    plan: Any = False
    if (p.dtype is t.f64 or p.dtype is t.f32) and 0 < n <= _LEAN_N and 0 < size <= _SMALL \
            and axis in (-1, len(shape) - 1):
        ones = _ONES.get(n)
        if ones is None:
            ones = _ONES[n] = (np.ones((n, 1)), np.ones(n), np.full(n, -1.0))
        plan = (n, ones, p.dtype is t.f64, None if len(shape) == 2 else (size // n, n))
    if len(_PLANS) < 4096:
        _PLANS[p.shape, p.dtype, axis] = plan
    return plan


class _Names(NamedTuple):
    kinds: tuple
    f64: Any
    f32: Any
    grad_enabled: Callable[[], bool]
    from_numpy: Callable[[Any], Any]
    forward_ad: Any
    wrapped: Callable[[Any], bool]


@functools.cache
def _torch_names() -> _Names:
    """The torch names the lean path uses (looked up once: torch is imported by then)."""
    import torch
    import torch.autograd.forward_ad

    return _Names((torch.Tensor, torch.nn.Parameter), torch.float64, torch.float32,
                  torch.is_grad_enabled, torch.from_numpy, torch.autograd.forward_ad,
                  torch._C._functorch.is_functorch_wrapped_tensor)


@functools.cache
def _lean_function() -> Any:
    """The :class:`torch.autograd.Function` of the lean path: the forward was computed
    already (it takes the value and the arrays the backward needs), the backward is NumPy."""
    import torch

    class Lean(torch.autograd.Function):
        """A lean measure with its analytic gradient (in NumPy, from the forward's arrays)."""

        @staticmethod
        def forward(ctx: Any, lean_saved_value: tuple, *operands: Any) -> Any:
            """``lean_saved_value``: the measure, the arrays its backward needs, the value
            (one argument: apply checks each of its arguments)."""
            ctx.lean, ctx.saved, value = lean_saved_value
            ctx.operands = operands  # inputs: no reference cycle; read only for create_graph
            ctx.versions = [x._version for x in operands]
            return torch.from_numpy(value)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            need = (*ctx.needs_input_grad[1:], False)
            operands = ctx.operands
            if torch.is_grad_enabled():  # create_graph: a gradient that is differentiable
                if [x._version for x in operands] != ctx.versions:
                    raise RuntimeError("an operand of kullback's "
                                       f"{ctx.lean.name} was modified in place before the "
                                       "backward pass (create_graph=True)")
                return (None, *_general_grads(ctx.lean.name, operands, -1, g.unsqueeze(-1),
                                              need))
            grads = ctx.lean.backward(g.detach().numpy()[..., None], ctx.saved, need)
            dtype = operands[0].dtype
            return (None, *[None if x is None else torch.from_numpy(
                x if dtype is torch.float64 else x.astype(np.float32))
                for x in grads[:len(operands)]])

    return Lean


def _path(name: str) -> Callable[..., Any]:
    body, lean = _BODIES[name], _LEANS[name]

    def run(entry: Any, p: Any, q: Any, axis: int) -> Any:
        value = _lean(lean, p, q, axis)
        return _serve(body, entry, p, q, axis) if value is None else value

    run.__name__ = run.__qualname__ = name
    run.__doc__ = body.forward.__doc__
    return run


FAST = {name: _path(name) for name in _BODIES}
