"""Arrays from any library, brought to NumPy one tile at a time.

Logits arrive as NumPy, PyTorch, JAX or CuPy arrays in any floating dtype (bfloat16 and
float16 included). Nothing is converted as a whole: :func:`to_numpy` is applied to row tiles,
so a chunk in bfloat16 on a GPU costs one tile of host memory at a time. The library is
recognised by the module of the array's type, so no library is imported that the caller did not
hand us.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["library", "to_numpy"]


def library(x: Any) -> str:
    """The top-level module of an array's type: ``"numpy"``, ``"torch"``, ``"jax"``, ..."""
    name = type(x).__module__.split(".")[0]
    return "jax" if name == "jaxlib" else name


def _from_torch(x: Any) -> np.ndarray:
    import torch

    x = x.detach()
    if x.is_floating_point() and x.dtype not in (torch.float32, torch.float64):
        x = x.float()  # bfloat16 and float16 are exact in float32
    return x.cpu().numpy()


def _from_cupy(x: Any) -> np.ndarray:
    return x.get()


_CONVERTERS: dict[str, Callable[[Any], np.ndarray]] = {
    "torch": _from_torch,
    "cupy": _from_cupy,
}


def to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array; floating types NumPy lacks (bfloat16) become float32 exactly.

    >>> to_numpy([1.0, 2.0]).dtype
    dtype('float64')
    """
    arr = _CONVERTERS.get(library(x), np.asarray)(x)
    if arr.dtype.kind not in "fiub":  # ml_dtypes' bfloat16 from JAX
        arr = arr.astype(np.float32)
    return arr
