"""Elementwise special functions for the distribution measures, on NumPy or torch.

Closed forms in :mod:`kullback.distributions._closed_forms` are written once against this small
namespace. :data:`NUMPY` evaluates with NumPy and :mod:`scipy.special` (results are
NumPy arrays); :func:`torch_ops` evaluates with torch operations only, so autograd
flows through every formula and ``torch.autograd.gradcheck`` applies.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ELEMENTWISE", "EULER", "LOG_2PI", "NumpyOps", "TorchOps", "numpy_ops", "torch_ops"]

EULER = 0.57721566490153286060651209008240243  # Euler-Mascheroni constant
LOG_2PI = math.log(2.0 * math.pi)

# the elementwise functions that are one library call in each flavour: name -> (NumPy or
# scipy.special function, torch function), looked up once when a flavour is made
ELEMENTWISE = {
    "log": ("np.log", "torch.log"),
    "log1p": ("np.log1p", "torch.log1p"),
    "exp": ("np.exp", "torch.exp"),
    "expm1": ("np.expm1", "torch.expm1"),
    "sqrt": ("np.sqrt", "torch.sqrt"),
    "abs": ("np.abs", "torch.abs"),
    "cos": ("np.cos", "torch.cos"),
    "square": ("np.square", "torch.square"),
    "isfinite": ("np.isfinite", "torch.isfinite"),
    "lgamma": ("sp.gammaln", "torch.lgamma"),
    "digamma": ("sp.digamma", "torch.digamma"),
    "xlogy": ("sp.xlogy", "torch.special.xlogy"),
    "xlog1py": ("sp.xlog1py", "torch.special.xlog1py"),
    "ndtr": ("sp.ndtr", "torch.special.ndtr"),
    "log_ndtr": ("sp.log_ndtr", "torch.special.log_ndtr"),
    "i0e": ("sp.i0e", "torch.special.i0e"),
    "i1e": ("sp.i1e", "torch.special.i1e"),
}


def _bind(ops: Any, roots: dict[str, Any], flavour: int) -> None:
    """Set each :data:`ELEMENTWISE` function of one flavour (0 NumPy, 1 torch) on ``ops``."""
    for name, paths in ELEMENTWISE.items():
        root, *attrs = paths[flavour].split(".")
        fn = roots[root]
        for attr in attrs:
            fn = getattr(fn, attr)
        setattr(ops, name, fn)


class NumpyOps:
    """The NumPy / scipy.special flavour."""

    name = "numpy"

    def __init__(self) -> None:
        import numpy as np
        from scipy import special

        self.np = np
        self.sp = special
        self.inf = np.inf
        self.maximum = np.maximum
        self.lbeta = special.betaln
        _bind(self, {"np": np, "sp": special}, 0)

    def asarray(self, x: Any, like: Any = None) -> Any:
        return self.np.asarray(x, dtype=self.np.float64)

    def where(self, cond, a, b):
        return self.np.where(cond, a, b)

    def trigamma(self, x):
        return self.sp.polygamma(1, x)

    def sum(self, x, axis):
        return self.np.sum(x, axis=axis)

    def broadcast(self, *xs):
        return self.np.broadcast_arrays(*(self.np.asarray(x) for x in xs))

    def stack(self, xs, axis):
        return self.np.stack(xs, axis=axis)

    def zeros(self, shape, like):
        return self.np.zeros(shape, dtype=self.np.float64)

    def shape(self, x) -> tuple[int, ...]:
        return tuple(self.np.shape(x))

    def any(self, x) -> bool:
        return bool(self.np.any(x))

    def to_numpy(self, x):
        return self.np.asarray(x, dtype=self.np.float64)

    def xp(self, x):
        """The array namespace of ``x`` (for the core's kernels)."""
        from array_api_compat import array_namespace

        return array_namespace(self.np.asarray(x))


    # linear algebra for the multivariate normal (batched, broadcasting)
    def cholesky(self, a):
        return self.np.linalg.cholesky(a)

    def solve_lower(self, lower, b):
        np = self.np
        batch = np.broadcast_shapes(lower.shape[:-2], b.shape[:-2])
        lower = np.broadcast_to(lower, (*batch, *lower.shape[-2:]))
        b = np.broadcast_to(b, (*batch, *b.shape[-2:]))
        return np.linalg.solve(lower, b)

    def diagonal(self, a):
        return self.np.diagonal(a, axis1=-2, axis2=-1)

    def diag_embed(self, v):
        np = self.np
        return v[..., :, None] * np.eye(v.shape[-1])


class TorchOps:
    """The torch flavour: every formula stays a differentiable torch expression."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.inf = math.inf
        _bind(self, {"torch": torch}, 1)

    def asarray(self, x: Any, like: Any = None) -> Any:
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x
        dtype = like.dtype if isinstance(like, torch.Tensor) else torch.get_default_dtype()
        return torch.as_tensor(x, dtype=dtype)

    def where(self, cond, a, b):
        torch = self.torch
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = torch.as_tensor(a, dtype=torch.get_default_dtype())
        return torch.where(cond, a, b)

    def maximum(self, a, b):
        torch = self.torch
        if not isinstance(b, torch.Tensor):
            return torch.clamp(a, min=b)
        return torch.maximum(a, b)

    def trigamma(self, x):
        return self.torch.polygamma(1, x)

    def sum(self, x, axis):
        return self.torch.sum(x, dim=axis)

    def broadcast(self, *xs):
        torch = self.torch
        ref = next((x for x in xs if isinstance(x, torch.Tensor)), None)
        return torch.broadcast_tensors(*(self.asarray(x, ref) for x in xs))

    def stack(self, xs, axis):
        return self.torch.stack(xs, dim=axis)

    def zeros(self, shape, like):
        return self.torch.zeros(shape, dtype=like.dtype, device=like.device)

    def shape(self, x) -> tuple[int, ...]:
        return tuple(x.shape) if isinstance(x, self.torch.Tensor) else ()

    def any(self, x) -> bool:
        return bool(self.torch.any(self.torch.as_tensor(x)))

    def to_numpy(self, x):
        import numpy as np

        if isinstance(x, self.torch.Tensor):
            return x.detach().cpu().to(self.torch.float64).numpy()
        return np.asarray(x, dtype=np.float64)

    def xp(self, x):
        """The array namespace of ``x`` (for the core's kernels)."""
        from array_api_compat import array_namespace

        return array_namespace(x)

    def lbeta(self, a, b):
        lg = self.torch.lgamma
        return lg(a) + lg(b) - lg(a + b)

    def cholesky(self, a):
        return self.torch.linalg.cholesky(a)

    def solve_lower(self, lower, b):
        torch = self.torch
        batch = torch.broadcast_shapes(lower.shape[:-2], b.shape[:-2])
        lower = lower.expand(*batch, *lower.shape[-2:])
        b = b.expand(*batch, *b.shape[-2:])
        return torch.linalg.solve_triangular(lower, b, upper=False)

    def diagonal(self, a):
        return self.torch.diagonal(a, dim1=-2, dim2=-1)

    def diag_embed(self, v):
        return self.torch.diag_embed(v)


_CACHE: dict[str, Any] = {}


def numpy_ops() -> NumpyOps:
    """The shared NumPy ops instance."""
    if "numpy" not in _CACHE:
        _CACHE["numpy"] = NumpyOps()
    return _CACHE["numpy"]


def torch_ops() -> TorchOps:
    """The shared torch ops instance (imports torch)."""
    if "torch" not in _CACHE:
        _CACHE["torch"] = TorchOps()
    return _CACHE["torch"]
