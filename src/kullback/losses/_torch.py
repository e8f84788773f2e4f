"""Native PyTorch fast paths of the losses: torch's own exact kernels wherever their value (and
gradient) is exactly this package's, and None elsewhere (the generic array-API path runs).

Imported only when a loss meets a torch tensor. Operands arrive prepared by the public function
(shapes checked, floating operands in the compute dtype). torch's kernels differ from this
package only where they produce NaN (``0 * log 0`` next to a masked logit or a zero target,
a row whose logits are all ``-inf``), so each path computes with torch and hands over to the
generic path when the result holds a NaN -- read once, from a reduction that the loss makes
anyway (or from the sum of a ``reduction="none"`` result). Where torch's *gradient* would differ
with a finite value (an ignored row of ``-inf`` logits, a zero target that requires grad, a
probability within 1e-12 of 0 or 1) that case is detected before the kernel.

Host reads, with ``y`` class indices: ``cross_entropy``/``nll_loss`` read ``aminmax(y)`` before
the kernel (an out-of-range index must raise ValueError, and on CUDA it would be a device
assert) and the NaN flag after it; targets holding ``ignore_index`` cost one more read.
"""

from __future__ import annotations

import math

import array_api_compat.torch as xp
import torch
import torch.nn.functional as F

from kullback.losses._common import raise_bad_class_index

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "kl_div",
    "linear_cross_entropy",
    "nll_loss",
]

# torch's binary_cross_entropy backward divides by max(x (1 - x), 1e-12); ours does not
_BCE_GRAD_EPS = 1e-12
# softplus(x) = x exactly (to rounding) beyond this in float32 and float64: e^-40 < ulp(40) / 2
_SOFTPLUS_LINEAR = 40.0


def _read(*scalars: torch.Tensor) -> list[float]:
    """Host values of 0-d tensors, with one device synchronisation."""
    if scalars[0].device.type == "cpu":
        return [s.item() for s in scalars]
    return torch.stack([s.to(torch.float64) for s in scalars]).tolist()


def _unless_nan(out: torch.Tensor) -> torch.Tensor | None:
    """``out``, or None when it holds a NaN (one read: the scalar itself, or the sum)."""
    total = out if out.ndim == 0 else out.detach().sum()
    return None if math.isnan(total.item()) else out


def _wants_grad(t: torch.Tensor | None) -> bool:
    return t is not None and t.requires_grad and torch.is_grad_enabled()


def _class_indices(target: torch.Tensor, n_classes: int, ignore_index: int,
                   func: str) -> tuple[torch.Tensor, bool] | None:
    """int64 class indices checked to lie in ``[0, C)`` unless ignored, and whether ignored
    entries may be present; None for an empty target (the generic path handles it)."""
    y = target if target.dtype == torch.int64 else target.long()
    if y.numel() == 0:
        return None
    lo, hi = _read(*torch.aminmax(y))
    if 0 <= lo and hi < n_classes:
        return y, 0 <= ignore_index < n_classes
    bad = (y != ignore_index) & ((y < 0) | (y >= n_classes))
    if bad.any().item():
        raise_bad_class_index(y, bad, n_classes, ignore_index, xp, func)
    return y, True


def cross_entropy(x, target, weight, *, ignore_index, reduction, label_smoothing, axis, probs):
    """``F.cross_entropy`` where it equals the generic value and gradient."""
    if probs:
        return _unless_nan(F.cross_entropy(x, target, weight, reduction=reduction,
                                           label_smoothing=label_smoothing))
    checked = _class_indices(target, x.shape[axis], ignore_index, "cross_entropy")
    if checked is None:
        return None
    y, may_ignore = checked
    if may_ignore and _ignored_row_masked(x, y, ignore_index, axis):
        return None
    return _unless_nan(F.cross_entropy(x, y, weight, ignore_index=ignore_index,
                                       reduction=reduction, label_smoothing=label_smoothing))


def _ignored_row_masked(x: torch.Tensor, y: torch.Tensor, ignore_index: int, axis: int) -> bool:
    """Whether an ignored row may be fully masked (its first logit is ``-inf``): there torch's
    value is right but its gradient is NaN."""
    ignored = y == ignore_index
    first = x.detach().narrow(axis, 0, 1).squeeze(axis)
    return bool((ignored & (first == -math.inf)).any().item())


def nll_loss(x, target, weight, *, ignore_index, reduction, axis):
    """``F.nll_loss`` where it equals the generic value (NaN only from a zero weight at -inf)."""
    checked = _class_indices(target, x.shape[axis], ignore_index, "nll_loss")
    if checked is None:
        return None
    return _unless_nan(F.nll_loss(x, checked[0], weight, ignore_index=ignore_index,
                                  reduction=reduction))


def kl_div(x, t, *, reduction, log_target):
    """``F.kl_div`` (summed natively) where it equals the generic value: NaN exactly where a
    zero target meets a ``-inf`` input or a target is negative, which the generic path
    handles (or rejects); a zero target that requires grad has a NaN gradient in torch."""
    if x.ndim == 0 or x.numel() == 0:
        return None
    out = F.kl_div(x, t, reduction="none" if reduction == "none" else "sum",
                   log_target=log_target)
    checks = [out if out.ndim == 0 else out.detach().sum()]
    if not log_target and _wants_grad(t):
        checks.append(t.detach().amin())
    values = _read(*checks)
    if math.isnan(values[0]) or (len(values) > 1 and not values[1] > 0):
        return None
    if reduction == "mean":
        return out / x.numel()
    if reduction == "batchmean":
        return out / x.shape[0]
    return out


def binary_cross_entropy(x, y, weight, *, reduction):
    """``F.binary_cross_entropy`` on CPU, whose kernel rejects values outside [0, 1] (then the
    generic path raises the ValueError); with a gradient only where torch's backward does not
    clamp (``x (1 - x) >= 1e-12``)."""
    if x.device.type != "cpu" or x.numel() == 0 or _wants_grad(y):
        return None
    if _wants_grad(x):
        lo, hi = _read(*torch.aminmax(x.detach()))
        if not (lo * (1 - lo) >= _BCE_GRAD_EPS and hi * (1 - hi) >= _BCE_GRAD_EPS):
            return None
    try:
        return F.binary_cross_entropy(x, y, weight, reduction=reduction)
    except RuntimeError:
        return None


def binary_cross_entropy_with_logits(x, y, weight, pos_weight, *, reduction):
    """``(1 - y) softplus(x) + p y softplus(-x)`` with torch's softplus (no cancellation,
    unlike ``F.binary_cross_entropy_with_logits``, whose ``(1 - y) x - log_sigmoid(x)`` loses
    the loss of a confident right answer); NaN (``0 * inf`` at an infinite logit) hands over."""
    neg = F.softplus(x, threshold=_SOFTPLUS_LINEAR) * (1.0 - y)
    pos = F.softplus(-x, threshold=_SOFTPLUS_LINEAR)
    per = torch.addcmul(neg, pos, y if pos_weight is None else y * pos_weight)
    if weight is not None:
        per = per * weight
    if reduction == "sum":
        per = per.sum()
    elif reduction == "mean":
        per = per.mean()
    return _unless_nan(per)


def linear_cross_entropy(input, linear_weight, target, **options):
    """The chunked path (never holds the logits)."""
    from kullback.losses._linear_ce_torch import linear_cross_entropy_torch

    return linear_cross_entropy_torch(input, linear_weight, target, **options)
