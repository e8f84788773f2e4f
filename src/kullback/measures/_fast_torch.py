"""The torch fast paths of the table of measures.

See :mod:`kullback.measures._fast` for the contract every fast path keeps. torch is imported
only when a tensor arrives.
"""

from __future__ import annotations

from typing import Any

from kullback.measures import _fast

__all__ = ["FAST", "Ops"]


class Ops:
    """torch's fused kernels: ``special.entr`` and ``xlogy`` (one pass each, 0 log 0 = 0)."""

    name = "torch"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        import torch

        a = arrays[0]
        return (all(type(x) is torch.Tensor for x in arrays)
                and a.dtype in (torch.float32, torch.float64)
                and all(x.dtype == a.dtype and x.shape == a.shape and x.device == a.device
                        for x in arrays) and a.numel() > 0 and a.ndim > 0)

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return x.sum(dim=axis, keepdim=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        import torch

        return -torch.special.entr(x).sum(dim=axis)  # -inf entr of a negative: non-finite

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        import torch

        return torch.xlogy(x, y).sum(dim=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        """Gradients: at a zero probability the general path's gradient is the finite one of
        its branch, while entr/xlogy give an infinite one; so zeros take the general path."""
        return not x.requires_grad or bool((x > 0).all())

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(dim=axis)

    @staticmethod
    def where(ok: Any, value: Any, other: float) -> Any:
        import torch

        return torch.where(ok, value, other)

    eps = staticmethod(lambda x: float(__import__("torch").finfo(x.dtype).eps))
    wide = staticmethod(lambda x: x.double() if x.dtype == __import__("torch").float32 else x)
    narrow = staticmethod(lambda v, dtype: v.to(dtype) if v.dtype != dtype else v)
    log = staticmethod(lambda x: x.log())
    squeeze = staticmethod(lambda x, axis: x.squeeze(axis))


def _path(formula: Any) -> Any:
    def run(entry: Any, p: Any, q: Any, axis: int) -> Any:
        if not Ops.accepts(*((p,) if q is None else (p, q))):
            return None
        return _fast.eager(formula, Ops, entry, p, q, axis)

    run.__name__ = run.__qualname__ = formula.__name__
    run.__doc__ = formula.__doc__
    return run


FAST = {
    "entropy": _path(_fast.entropy),
    "cross_entropy": _path(_fast.cross_entropy),
    "kl_divergence": _path(_fast.kl),
    "js_divergence": _path(_fast.js),
}
