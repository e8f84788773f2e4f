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

One host read per call on CPU (the NaN flag, with any pre-check folded into it). Class indices
outside ``[0, C)`` are rejected by torch's CPU kernel (then the generic path raises the
ValueError naming the index); on other devices an out-of-range index would be a device-side
assert, so there ``aminmax`` of the indices is read before the kernel (a second read).

Front doors (:data:`DOORS`, see :func:`kullback.losses._common.door_table`) take plain CPU
float32/float64 tensors straight to these paths from the public arguments: at 64 x 10 the
generic preparation cost more than torch's whole call. ``nll_loss`` without class weights is
then a single call of torch's kernel.
"""

from __future__ import annotations

import math

import array_api_compat.torch as xp
import torch
from torch.nn import functional as F

from kullback.losses._common import raise_bad_class_index

__all__ = [
    "DOORS",
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
    if scalars[0].is_cpu:
        return [s.item() for s in scalars]
    return torch.stack([s.to(torch.float64) for s in scalars]).tolist()


def _total(out: torch.Tensor) -> torch.Tensor:
    """The 0-d tensor whose NaN-ness tells whether ``out`` holds a NaN."""
    return out if out.ndim == 0 else out.detach().sum()


def _unless_nan(out: torch.Tensor) -> torch.Tensor | None:
    """``out``, or None when it holds a NaN (one read: the scalar itself, or the sum)."""
    return None if math.isnan(_total(out).item()) else out


def _wants_grad(t: torch.Tensor | None) -> bool:
    return t is not None and t.requires_grad and torch.is_grad_enabled()


def _indices(target: torch.Tensor, n_classes: int, ignore_index: int,
             func: str) -> torch.Tensor | None:
    """int64 class indices for torch's kernel; None for an empty target (generic path).

    On CPU the kernel itself rejects an index outside ``[0, C)`` (IndexError, caught by the
    caller, whose generic path then raises the ValueError). Elsewhere an out-of-range index is
    a device-side assert, so the indices are checked first (one read of ``aminmax``).
    """
    y = target if target.dtype == torch.int64 else target.long()
    if y.numel() == 0:
        return None
    if not y.is_cpu:
        lo, hi = _read(*torch.aminmax(y))
        if not (0 <= lo and hi < n_classes):
            bad = (y != ignore_index) & ((y < 0) | (y >= n_classes))
            if bad.any().item():
                raise_bad_class_index(y, bad, n_classes, ignore_index, xp, func)
    return y


def cross_entropy(x, target, weight, *, ignore_index, reduction, label_smoothing, axis, probs):
    """``F.cross_entropy`` where it equals the generic value and gradient: the result holds no
    NaN, and (when ``x`` wants a gradient) no row starts with a ``-inf`` logit -- an ignored
    row of ``-inf`` logits has the right value in torch but a NaN gradient."""
    if not probs:
        target = _indices(target, x.shape[axis], ignore_index, "cross_entropy")
        if target is None:
            return None
    try:
        out = F.cross_entropy(x, target, weight, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)
    except IndexError:
        return None
    checks = [_total(out)]
    if not probs and _wants_grad(x):
        checks.append(x.detach().narrow(axis, 0, 1).amin())
    values = _read(*checks)
    if math.isnan(values[0]) or (len(values) > 1 and not values[1] > -math.inf):
        return None
    return out


def nll_loss(x, target, weight, *, ignore_index, reduction, axis):
    """``F.nll_loss`` where it equals the generic value: always without class weights (then
    both are ``-x[y]``, NaN where that is NaN); with weights unless the result holds a NaN (a
    zero weight at a ``-inf`` log-probability, where the generic value is 0)."""
    y = _indices(target, x.shape[axis], ignore_index, "nll_loss")
    if y is None:
        return None
    try:
        out = F.nll_loss(x, y, weight, ignore_index=ignore_index, reduction=reduction)
    except IndexError:
        return None
    return out if weight is None else _unless_nan(out)


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
    if not x.is_cpu or x.numel() == 0 or _wants_grad(y):
        return None
    if _wants_grad(x):
        lo, hi = _read(*torch.aminmax(x.detach()))
        if not (lo * (1 - lo) >= _BCE_GRAD_EPS and hi * (1 - hi) >= _BCE_GRAD_EPS):
            return None
    try:
        return F.binary_cross_entropy(x, y, weight, reduction=reduction)
    except RuntimeError:
        return None


def _zero(x: torch.Tensor) -> torch.Tensor:
    """A 0-d zero of ``x``'s dtype on ``x``'s device, made once per (dtype, device)."""
    key = (x.dtype, x.device)
    zero = _ZEROS.get(key)
    if zero is None:
        zero = _ZEROS[key] = torch.zeros((), dtype=x.dtype, device=x.device)
    return zero


_ZEROS: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}


def _bce_logits_terms(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per element ``(1 - y) softplus(x) + y softplus(-x)`` in one transcendental pass:
    ``log(e^a + e^b)`` with ``a = (1 - y) x`` and ``b = -y x`` (then ``a - b = x``), i.e.
    ``max(a, b) + log1p(exp(-|x|))`` by torch's ``logaddexp`` -- a sum of non-negative terms,
    so the loss of a confident right answer keeps its relative accuracy. ``a`` is a ``lerp``
    (``(1 - y) x`` without cancellation as y -> 1) and both are exact for y = 0 or 1; for
    other y their rounding shifts the exponent by ~ u |x| (u the unit roundoff), a relative
    error of at most ``(|x| + 4) u`` where the ``log1p`` term dominates (measured: <= 10 u;
    bound 2e-13 in float64, 6e-6 in float32; the two-softplus generic path: a few u)."""
    zero = _zero(x)
    return torch.logaddexp(torch.lerp(x, zero, y), torch.addcmul(zero, y, x, value=-1))


_REDUCE = {"none": lambda per: per, "sum": torch.sum, "mean": torch.mean}


class _BinaryCrossEntropyWithLogits(torch.autograd.Function):
    """:func:`_bce_logits_terms`, reduced, with torch's own backward ``sigmoid(x) - y`` (and
    ``-x`` for the target) in one fused pass instead of autograd's chain; differentiable
    again when a graph of the backward is asked for (double backward)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return _REDUCE[reduction](_bce_logits_terms(x, y))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        scale = grad / x.numel() if ctx.reduction == "mean" else grad
        differentiable = torch.is_grad_enabled()  # create_graph=True: no in-place ops
        gx = gy = None
        if ctx.needs_input_grad[0]:
            s = torch.sigmoid(x)
            gx = (s - y) * scale if differentiable else s.sub_(y).mul_(scale)
        if ctx.needs_input_grad[1]:
            gy = -x * scale
        return gx, gy, None


def binary_cross_entropy_with_logits(x, y, weight, pos_weight, *, reduction):
    """``(1 - y) softplus(x) + p y softplus(-x)``: no cancellation, unlike
    ``F.binary_cross_entropy_with_logits``, whose ``(1 - y) x - log_sigmoid(x)`` loses the loss
    of a confident right answer (``x = -40, y = 0`` gives 0, not 4.2e-18). A NaN (``0 * inf``
    at an infinite logit) hands over to the generic path."""
    if pos_weight is None and weight is None:
        if _wants_grad(x) or _wants_grad(y):
            return _unless_nan(_BinaryCrossEntropyWithLogits.apply(x, y, reduction))
        return _unless_nan(_REDUCE[reduction](_bce_logits_terms(x, y)))
    if pos_weight is None:
        per = _bce_logits_terms(x, y)
    else:
        neg = F.softplus(x, threshold=_SOFTPLUS_LINEAR) * (1.0 - y)
        pos = F.softplus(-x, threshold=_SOFTPLUS_LINEAR)
        per = torch.addcmul(neg, pos, y * pos_weight)
    if weight is not None:
        per = per * weight
    return _unless_nan(_REDUCE[reduction](per))


# ------------------------------------------------------------------------------ front doors
# (kullback.losses._common.door_table): plain CPU tensors in float32/float64 -- their own compute
# dtype -- with options that need no preparation go straight to the paths above; a door checks
# types, dtypes and ranks only (a few attribute reads), and anything torch's kernel rejects
# (shape mismatch, class index out of range) returns None, so the full path raises the named
# error. The rank rule ``target.ndim == input.ndim - 1`` is the one shape case torch accepts
# and this package does not (a (C,) input with a (1,) target).

_TENSOR = torch.Tensor
_AS_IS = (torch.float32, torch.float64)  # a tuple: ``in`` compares identity first (fast)
_INT64 = torch.int64
_REDUCTION_CODES = {"none": 0, "mean": 1, "sum": 2}  # torch's enum (torch.nn._reduction)
_REDUCTIONS = ("mean", "sum", "none")  # tuples: ``in`` needs no hash (any object is refused)
_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")
_REJECTED = (IndexError, RuntimeError, TypeError, ValueError)
_nll_loss_nd = getattr(torch._C._nn, "nll_loss_nd", None)


def _plain(x, y, weight) -> bool:
    """``x``, ``y`` (and ``weight``) plain CPU tensors; ``x`` float32/float64 computed as is,
    ``y`` and ``weight`` of its dtype."""
    return (type(x) is _TENSOR and type(y) is _TENSOR and x.dtype in _AS_IS
            and x.is_cpu and y.dtype == x.dtype
            and (weight is None or (type(weight) is _TENSOR and weight.dtype == x.dtype)))


def _class_indices(x, target, weight) -> bool:
    """Plain CPU class-index operands: int64 targets of one rank less than the input."""
    return (type(x) is _TENSOR and type(target) is _TENSOR and x.dtype in _AS_IS
            and target.dtype is _INT64 and x.is_cpu and target.ndim == x.ndim - 1
            and (weight is None or (type(weight) is _TENSOR and weight.dtype == x.dtype
                                    and weight.ndim == 1)))


def _cross_entropy_door(input, target, weight=None, size_average=None, ignore_index=-100,
                        reduce=None, reduction="mean", label_smoothing=0.0):
    if not (_class_indices(input, target, weight) and size_average is None and reduce is None
            and reduction in _REDUCTIONS and 0.0 <= label_smoothing <= 1.0):
        return None
    try:
        return cross_entropy(input, target, weight, ignore_index=ignore_index,
                             reduction=reduction, label_smoothing=float(label_smoothing),
                             axis=1 if input.ndim > 1 else 0, probs=False)
    except _REJECTED:
        return None


def _nll_loss_door(input, target, weight=None, size_average=None, ignore_index=-100,
                   reduce=None, reduction="mean"):
    """Without class weights ``F.nll_loss`` is this package's value everywhere (see
    :func:`nll_loss`): one call of torch's kernel, behind its argument parsing (the checks
    inlined: this door is the whole overhead of a call that picks N values)."""
    if weight is not None or _nll_loss_nd is None:
        return _nll_loss_weighted(input, target, weight, size_average, ignore_index, reduce,
                                  reduction)
    # the target's dtype is the kernel's to check: it takes int64 and uint8 (whose values it
    # reads as the generic path does) and raises for the others; so are the shapes, except
    # and of the ranks, the (C,) input with a (1,) target that it accepts
    code = _REDUCTION_CODES.get(reduction) if type(reduction) is str else None
    if not (code is not None and type(input) is _TENSOR and type(target) is _TENSOR
            and size_average is None and reduce is None and input.dtype in _AS_IS
            and input.is_cpu and (input.ndim != 1 or target.ndim == 0)):
        return None
    try:
        return _nll_loss_nd(input, target, None, code, ignore_index)
    except _REJECTED:
        return None


def _nll_loss_weighted(input, target, weight, size_average, ignore_index, reduce, reduction):
    if not (_class_indices(input, target, weight) and size_average is None
            and reduce is None and reduction in _REDUCTIONS):
        return None
    try:
        return nll_loss(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                        axis=1 if input.ndim > 1 else 0)
    except _REJECTED:
        return None


def _kl_div_door(input, target, size_average=None, reduce=None, reduction="mean",
                 log_target=False):
    if not (_plain(input, target, None) and size_average is None and reduce is None
            and reduction in _KL_REDUCTIONS and input.shape == target.shape):
        return None
    return kl_div(input, target, reduction=reduction, log_target=bool(log_target))


def _binary_cross_entropy_door(input, target, weight=None, size_average=None, reduce=None,
                               reduction="mean"):
    if not (_plain(input, target, weight) and size_average is None and reduce is None
            and reduction in _REDUCTIONS and input.shape == target.shape
            and (weight is None or weight.shape == input.shape)):
        return None
    return binary_cross_entropy(input, target, weight, reduction=reduction)


def _binary_cross_entropy_with_logits_door(input, target, weight=None, size_average=None,
                                           reduce=None, reduction="mean", pos_weight=None):
    if not (_plain(input, target, weight) and pos_weight is None and size_average is None
            and reduce is None and reduction in _REDUCTIONS and input.shape == target.shape
            and (weight is None or weight.shape == input.shape)):
        return None
    return binary_cross_entropy_with_logits(input, target, weight, None, reduction=reduction)


#: loss -> its front door
DOORS = {
    "cross_entropy": _cross_entropy_door,
    "nll_loss": _nll_loss_door,
    "kl_div": _kl_div_door,
    "binary_cross_entropy": _binary_cross_entropy_door,
    "binary_cross_entropy_with_logits": _binary_cross_entropy_with_logits_door,
}


def linear_cross_entropy(input, linear_weight, target, **options):
    """The chunked path (never holds the logits)."""
    from kullback.losses._linear_ce_torch import linear_cross_entropy_torch

    return linear_cross_entropy_torch(input, linear_weight, target, **options)
