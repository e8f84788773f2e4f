"""Chunked linear + cross-entropy for PyTorch: the native path of ``linear_cross_entropy``.

The logits of a language-model head, ``input @ W.T + b`` (``N x V``), are never held whole:
rows are processed ``chunk`` at a time. For each chunk we form its logits (one GEMM), their
log-sum-exp and log-softmax *in place*, read off the loss, turn the same buffer into the
gradient with respect to the logits, and push it through two GEMMs into the gradients of the
input, the weight and the bias. Backward then only rescales these by the incoming gradient
(for ``reduction="none"`` it recomputes the chunks with per-row incoming gradients instead).

Per position (row ``n``, K-dim position ``k``), with log-probabilities ``l = z - lse`` over the
classes and an implicit target vector ``t``, the loss is ``-sum_c t_c l_c`` and its gradient
with respect to the logits ``z`` is ``(sum_c t_c) softmax(z) - t``:

- class index ``y`` with class weights ``w`` and label smoothing ``eps``:
  ``t = (1 - eps) w_y onehot(y) + (eps / C) w`` (zero when ignored), exactly torch's rule;
- class probabilities ``q``: ``t = ((1 - eps) q + eps / C) * w``;
- z-loss adds ``z_loss * lse**2`` with gradient ``2 z_loss lse softmax(z)``;
- softcap ``z = c tanh(r / c)`` multiplies the gradient by ``1 - (z / c)**2``.

The vocabulary is not split: a full row of logits per chunk lets one pass give both the
log-sum-exp and the gradient (splitting it would need a second GEMM pass), and the chunk's row
count is what bounds the memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import array_api_compat.torch as xp
import torch

from kullback._xp import compute_dtype
from kullback.losses._common import raise_bad_class_index

__all__ = ["auto_chunk_size", "linear_cross_entropy_torch"]

# Rows per chunk: a block of about _BUDGET logits, but never fewer than _MIN_ROWS rows (below
# ~256 rows the GEMMs lose efficiency: 128 rows ran 2.2x slower than 256-1024 at V = 131072 on
# two cores, while 256, 512 and 1024 rows were within noise of each other). At V >= 32768 this
# is 256 rows: 32-128 MiB per block, which keeps the extra memory under 1/5 of the dense path.
_BUDGET = 2**23
_MIN_ROWS, _MAX_ROWS = 256, 2048
_SUB_BLOCK = 2**19  # elements per logsumexp sub-block (its temporaries: 2 MiB in float32)

_FUNC = "linear_cross_entropy"


def auto_chunk_size(n_rows: int, n_cols: int) -> int:
    """Rows per chunk: a ``rows x n_cols`` block of about ``_BUDGET`` elements."""
    rows = min(max(_BUDGET // max(n_cols, 1), _MIN_ROWS), _MAX_ROWS)
    return max(1, min(rows, n_rows))


@dataclass
class _Problem:
    h: torch.Tensor  # (N, d), compute dtype
    W2: torch.Tensor  # (C*M, d), compute dtype
    b2: torch.Tensor | None  # (C*M,)
    C: int
    M: int
    y: torch.Tensor | None  # (N, M) int64, ignored -> 0
    valid: torch.Tensor  # (N, M) bool
    wy: torch.Tensor | None  # (N, M) w[y] * valid (class targets)
    probs: torch.Tensor | None  # (N, C, M) probability targets (original dtype)
    w: torch.Tensor | None  # (C,)
    w_sum: float
    eps: float
    zl: float
    cap: float | None
    maskable: bool  # the bias holds -inf entries
    chunk: int


def _prepare(
    input, linear_weight, target, linear_bias, weight, ignore_index, label_smoothing, z_loss,
    softcap, chunk_size,
) -> tuple[_Problem, tuple[int, ...]]:
    for name, t in (("input", input), ("linear_weight", linear_weight)):
        if not (t.is_floating_point()):
            raise TypeError(f"{_FUNC}: {name} must be floating point, got {t.dtype}")
    if input.dim() not in (1, 2):
        raise ValueError(f"{_FUNC}: input must have shape (d,) or (N, d), got {tuple(input.shape)}")
    if linear_weight.dim() < 2 or linear_weight.shape[-1] != input.shape[-1]:
        raise ValueError(
            f"{_FUNC}: linear_weight must have shape (C, ..., {input.shape[-1]}) to match input, "
            f"got {tuple(linear_weight.shape)}"
        )
    C = linear_weight.shape[0]
    kdims = tuple(linear_weight.shape[1:-1])
    M = math.prod(kdims)
    if kdims and input.dim() == 1:
        raise ValueError(f"{_FUNC}: a K-dimensional linear_weight needs batched input (N, d)")
    batched = input.dim() == 2
    N = input.shape[0] if batched else 1
    d = input.shape[-1]
    acc = compute_dtype(torch, input.dtype)  # the one half-precision policy
    h = input.reshape(N, d).to(acc)
    W2 = linear_weight.reshape(C * M, d).to(acc)
    b2 = None
    maskable = False
    if linear_bias is not None:
        if tuple(linear_bias.shape) != (C, *kdims):
            raise ValueError(
                f"{_FUNC}: linear_bias must have shape {(C, *kdims)}, "
                f"got {tuple(linear_bias.shape)}"
            )
        b2 = linear_bias.reshape(C * M).to(acc)
        maskable = bool(torch.isneginf(b2).any())
    w = None
    if weight is not None:
        if tuple(weight.shape) != (C,):
            raise ValueError(f"{_FUNC}: weight must have shape ({C},), got {tuple(weight.shape)}")
        w = weight.to(acc)
    logits_shape = (N, C, *kdims) if batched else (C,)
    y = wy = probs = None
    if tuple(target.shape) == logits_shape:
        if not target.is_floating_point():
            raise TypeError(
                f"{_FUNC}: a target with the logits' shape {logits_shape} holds probabilities and "
                f"must be floating point, got {target.dtype}"
            )
        if ignore_index >= 0:
            raise ValueError(f"{_FUNC}: ignore_index must be negative with probability targets")
        probs = target.reshape(N, C, M)
        valid = torch.ones(N, M, dtype=torch.bool, device=h.device)
    else:
        expected = (N, *kdims) if batched else ()
        if tuple(target.shape) != expected:
            raise ValueError(
                f"{_FUNC}: target shape {tuple(target.shape)} must be {expected} (class indices) "
                f"or {logits_shape} (class probabilities)"
            )
        if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
            raise TypeError(f"{_FUNC}: class-index targets must be integers, got {target.dtype}")
        t = target.reshape(N, M).to(torch.int64)
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= C))
        if bool(bad.any()):
            raise_bad_class_index(t.reshape(target.shape), bad.reshape(target.shape), C,
                                  ignore_index, xp, _FUNC)
        y = torch.where(valid, t, 0)
        wy = valid.to(acc) if w is None else w[y] * valid
    w_sum = float(C) if w is None else float(w.sum())
    cap = None if softcap is None else float(softcap)
    chunk = chunk_size or auto_chunk_size(N, C * M)
    P = _Problem(h, W2, b2, C, M, y, valid, wy, probs, w, w_sum, float(label_smoothing),
                 float(z_loss), cap, maskable, chunk)
    out_shape = (N, *kdims) if batched else ()
    return P, out_shape


def _logsumexp_rows(z3: torch.Tensor, sub: int) -> torch.Tensor:
    """logsumexp over dim 1, ``sub`` rows at a time: its temporaries stay a few MiB."""
    B = z3.shape[0]
    if B <= sub:
        return torch.logsumexp(z3, dim=1)
    out = torch.empty((B, z3.shape[2]), dtype=z3.dtype)
    for i in range(0, B, sub):
        torch.logsumexp(z3[i : i + sub], dim=1, out=out[i : i + sub])
    return out


def _rows(s: float | torch.Tensor, r0: int, r1: int):
    return s if isinstance(s, float) else s[r0:r1]


def _run(
    P: _Problem,
    s_ce: float | torch.Tensor,
    s_z: float | torch.Tensor,
    *,
    want_loss: bool,
    g_h: torch.Tensor | None,
    g_W: torch.Tensor | None,
    g_b: torch.Tensor | None,
    g_t: torch.Tensor | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """One pass over the row chunks.

    ``s_ce`` / ``s_z`` scale the gradient of the cross-entropy and the z-loss part (a float, or
    per-position ``(N, M)`` tensors for ``reduction="none"`` backward). Gradients are written
    into / accumulated onto ``g_h`` (N, d), ``g_W`` (C*M, d), ``g_b`` (C*M,), ``g_t`` (N, C, M).
    Returns the unscaled per-position cross-entropy and ``lse**2`` (masked), when asked.
    """
    N = P.h.shape[0]
    C, M = P.C, P.M
    want_grad = any(g is not None for g in (g_h, g_W, g_b, g_t))
    acc = P.h.dtype
    ce_all = torch.empty(N, M, dtype=acc) if want_loss else None
    zz_all = torch.empty(N, M, dtype=acc) if (want_loss and P.zl) else None
    eps = P.eps
    sub = max(1, _SUB_BLOCK // (C * M))
    # one logits block (and one for softcap's tanh) reused by every chunk: no allocator churn
    rows = min(P.chunk, N)
    block = torch.empty(rows, C * M, dtype=acc)
    th_block = torch.empty(rows, C * M, dtype=acc) if (P.cap is not None and want_grad) else None
    for r0 in range(0, N, P.chunk):
        r1 = min(r0 + P.chunk, N)
        B = r1 - r0
        h_c = P.h[r0:r1]
        z = block[:B]
        if P.b2 is None:
            torch.mm(h_c, P.W2.T, out=z)
        else:
            torch.addmm(P.b2, h_c, P.W2.T, out=z)
        th = None
        if P.cap is not None:
            z.div_(P.cap).tanh_()
            if th_block is not None:
                th = th_block[:B]
                th.copy_(z)
            z.mul_(P.cap)
        z3 = z.view(B, C, M)
        lse = _logsumexp_rows(z3, sub)  # (B, M)
        lse = torch.where(torch.isneginf(lse), 0.0, lse)  # fully masked row: log-probs -inf
        logp = z3.sub_(lse.unsqueeze(1))  # in place: the buffer now holds log-probabilities
        valid = P.valid[r0:r1]
        sc = _rows(s_ce, r0, r1)
        sz = _rows(s_z, r0, r1)
        if P.probs is not None:
            t = P.probs[r0:r1].to(acc)
            if eps:
                t = t * (1.0 - eps) + eps / C
            tw = t if P.w is None else t * P.w.view(1, C, 1)
            lp = torch.where((tw == 0) & torch.isneginf(logp), 0.0, logp) if P.maskable else logp
            ce = -(tw * lp).sum(1)
            if g_t is not None:
                scale = sc if isinstance(sc, float) else sc.unsqueeze(1)
                gt = lp * (-(1.0 - eps) * scale)
                if P.w is not None:
                    gt = gt * P.w.view(1, C, 1)
                g_t[r0:r1] = gt
            a = None
            coef = tw.sum(1) * sc
        else:
            y = P.y[r0:r1]
            a = P.wy[r0:r1] * (1.0 - eps)
            lp_y = torch.gather(logp, 1, y.unsqueeze(1)).squeeze(1)
            ce = torch.where(a == 0, 0.0, -a * lp_y)
            bs = None
            if eps:
                if P.w is None:
                    sl = logp.sum(1)
                else:
                    lp = logp
                    if P.maskable:
                        lp = torch.where((P.w.view(1, C, 1) == 0) & torch.isneginf(logp), 0.0, lp)
                    sl = torch.einsum("bcm,c->bm", lp, P.w)
                bs = valid.to(acc) * (eps / C)
                ce = ce - torch.where(valid, bs * sl, 0.0)
            coef = (a if bs is None else a + bs * P.w_sum) * sc
        zz = None
        if P.zl:
            zz = torch.where(valid, lse * lse, 0.0)
            if want_grad:
                coef = coef + (2.0 * P.zl) * torch.where(valid, lse, 0.0) * sz
        if want_loss:
            ce_all[r0:r1] = ce
            if zz_all is not None:
                zz_all[r0:r1] = zz
        if not want_grad:
            continue
        G = logp.exp_()  # softmax, in place
        G.mul_(coef.unsqueeze(1))
        if P.probs is not None:
            G.sub_(tw * (sc if isinstance(sc, float) else sc.unsqueeze(1)))
        else:
            G.scatter_add_(1, y.unsqueeze(1), (-(a * sc)).unsqueeze(1))
            if eps:
                bsc = bs * sc  # (B, M)
                if P.w is None:
                    G.sub_(bsc.unsqueeze(1))
                elif M == 1:
                    G.view(B, C).addr_(bsc.view(B), P.w, alpha=-1.0)
                else:
                    G.sub_(bsc.unsqueeze(1) * P.w.view(1, C, 1))
        if th is not None:
            G.mul_(th.square_().neg_().add_(1.0).view(B, C, M))
        G2 = G.view(B, C * M)
        if g_h is not None:
            torch.mm(G2, P.W2, out=g_h[r0:r1])
        if g_W is not None:
            g_W.addmm_(G2.T, h_c)
        if g_b is not None:
            g_b.add_(G2.sum(0))
    return ce_all, zz_all


def _denominators(P: _Problem, reduction: str) -> tuple[torch.Tensor | float, float, float]:
    """(loss denominator, gradient scale of the CE part, of the z part) for a reduction."""
    if reduction == "sum":
        return 1.0, 1.0, 1.0
    if P.probs is not None:
        n = float(P.valid.numel())
        D = n
        count = n
    else:
        D = float(P.wy.sum())
        count = float(P.valid.sum())
    s_ce = 1.0 / D if D != 0 else 0.0
    s_z = 1.0 / count if count != 0 else 0.0
    return D, s_ce, s_z


def _combine(P, ce, zz, reduction, D, count_z):
    if reduction == "none":
        return ce if zz is None else ce + P.zl * zz
    total = ce.sum()
    ztot = None if zz is None else zz.sum()
    if reduction == "sum":
        return total if ztot is None else total + P.zl * ztot
    loss = total / D if D != 0 else torch.full_like(total, math.nan)
    if ztot is not None:
        loss = loss + P.zl * (ztot / count_z if count_z else torch.full_like(ztot, math.nan))
    return loss


def _grad_buffers(P: _Problem, need: tuple[bool, bool, bool, bool]):
    acc = P.h.dtype
    g_h = torch.empty_like(P.h) if need[0] else None
    g_W = torch.zeros_like(P.W2) if need[1] else None
    g_b = torch.zeros(P.W2.shape[0], dtype=acc) if (need[2] and P.b2 is not None) else None
    g_t = None
    if need[3] and P.probs is not None:
        g_t = torch.empty(P.h.shape[0], P.C, P.M, dtype=acc)
    return g_h, g_W, g_b, g_t


def _count_z(P: _Problem) -> float:
    return float(P.valid.sum())


def _meta(*tensors):
    return tuple(None if t is None else (tuple(t.shape), t.dtype) for t in tensors)


def _shape_grads(grads, meta):
    return [
        None if g is None else g.reshape(m[0]).to(m[1]) for g, m in zip(grads, meta, strict=True)
    ]


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, linear_weight, linear_bias, target, P: _Problem, reduction: str,
                out_shape):
        need = tuple(ctx.needs_input_grad[:4])
        need = (need[0], need[1], need[2] and linear_bias is not None,
                need[3] and P.probs is not None)
        ctx.reduction = reduction
        ctx.out_shape = out_shape
        ctx.meta = _meta(input, linear_weight, linear_bias, target)
        if reduction == "none":
            ce, zz = _run(P, 1.0, 1.0, want_loss=True, g_h=None, g_W=None, g_b=None, g_t=None)
            ctx.P = P
            ctx.need = need
            loss = _combine(P, ce, zz, reduction, 0.0, 0.0).reshape(out_shape)
            return loss.to(input.dtype)
        D, s_ce, s_z = _denominators(P, reduction)
        grads = _grad_buffers(P, need)
        ce, zz = _run(P, s_ce, s_z, want_loss=True, g_h=grads[0], g_W=grads[1], g_b=grads[2],
                      g_t=grads[3])
        ctx.grads = _shape_grads(grads, ctx.meta)
        loss = _combine(P, ce, zz, reduction, D, _count_z(P))
        return loss.to(input.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        if ctx.reduction == "none":
            P = ctx.P
            g = grad_out.to(P.h.dtype).reshape(P.h.shape[0], P.M)
            grads = _grad_buffers(P, ctx.need)
            _run(P, g, g, want_loss=False, g_h=grads[0], g_W=grads[1], g_b=grads[2],
                 g_t=grads[3])
            out = _shape_grads(grads, ctx.meta)
            return (*out, None, None, None)
        grads = ctx.grads
        if grads is None:
            raise RuntimeError(
                f"{_FUNC}: backward through the same graph a second time; the gradients "
                "precomputed in forward were already handed over"
            )
        ctx.grads = None
        go = grad_out.reshape(())
        if bool(go != 1):
            grads = [None if g is None else g * go.to(g.dtype) for g in grads]
        return (*grads, None, None, None)


def linear_cross_entropy_torch(
    input, linear_weight, target, *, linear_bias, weight, reduction, ignore_index,
    label_smoothing, z_loss, softcap, chunk_size,
) -> Any:
    P, out_shape = _prepare(input, linear_weight, target, linear_bias, weight, ignore_index,
                            label_smoothing, z_loss, softcap, chunk_size)
    differentiable = (input, linear_weight, linear_bias, target)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in differentiable):
        return _LinearCrossEntropy.apply(input, linear_weight, linear_bias, target, P, reduction,
                                         out_shape)
    # no gradient wanted: one forward pass over the chunks, nothing else
    D, _, _ = _denominators(P, reduction)
    ce, zz = _run(P, 1.0, 1.0, want_loss=True, g_h=None, g_W=None, g_b=None, g_t=None)
    loss = _combine(P, ce, zz, reduction, D, _count_z(P))
    if reduction == "none":
        loss = loss.reshape(out_shape)
    return loss.to(input.dtype)
