"""Input handling for the sample estimators: conversion to NumPy, kinds, options, counts.

Everything a public function receives passes through here once: arrays are copied to NumPy
explicitly (refusing conversions that would lose gradients or force a lazy computation),
classified as continuous or discrete, validated with messages that name the argument, and
turned into float64 points or aligned count vectors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SampleOptions",
    "aligned_counts",
    "as_numpy",
    "check_alphabet",
    "check_ci",
    "check_k",
    "check_metric",
    "check_nonempty",
    "check_pseudocount",
    "check_resamples",
    "check_size",
    "check_window",
    "contingency_table",
    "continuous_sample",
    "counts_vector",
    "discrete_sample",
    "jitter_scale",
    "reject_options",
    "resolve_kind",
]

_DEFAULT_JITTER = 1e-10
_METRICS = ("euclidean", "chebyshev")


# ------------------------------------------------------------------------------ conversion
def as_numpy(a: Any, name: str) -> np.ndarray:
    """Copy an array-like to NumPy explicitly, refusing conversions that would lose information.

    (``kullback._xp`` has no conversion to NumPy; this is the estimators' one.)
    """
    if isinstance(a, np.ndarray):
        return a
    if isinstance(a, list | tuple | range):
        try:
            return np.asarray(a)
        except ValueError as exc:
            raise ValueError(f"{name}: could not form an array from the sequence ({exc})") from None
    module = type(a).__module__.split(".")[0]
    if module == "torch":
        return _torch_to_numpy(a, name)
    if module == "dask":
        raise TypeError(
            f"{name}: a Dask array would have to be computed; estimators need every sample in "
            f"memory, so pass {name}.compute()"
        )
    if module in ("jax", "jaxlib"):
        try:
            return np.asarray(a)
        except Exception:  # a tracer under jit/grad
            raise TypeError(
                f"{name}: a traced JAX value cannot be used; sample estimators are NumPy code "
                "and are not differentiable or jittable"
            ) from None
    if hasattr(a, "__dlpack__"):
        try:
            return np.from_dlpack(a)
        except (TypeError, RuntimeError, BufferError):
            pass
    if hasattr(a, "__array__"):
        return np.asarray(a)
    raise TypeError(f"{name}: expected an array, list or tuple of samples; got {type(a).__name__}")


def _torch_to_numpy(a: Any, name: str) -> np.ndarray:
    if getattr(a, "requires_grad", False):
        raise TypeError(f"{name}: sample estimators are not differentiable; pass {name}.detach()")
    if getattr(getattr(a, "device", None), "type", "cpu") != "cpu":
        raise TypeError(f"{name}: pass a CPU tensor ({name}.cpu()); estimators run on NumPy")
    return a.numpy()


def resolve_kind(a: np.ndarray, kind: str, name: str) -> str:
    """``"continuous"`` or ``"discrete"``: from ``kind``, or from the dtype when ``"auto"``."""
    if kind not in ("auto", "continuous", "discrete"):
        raise ValueError(f"kind: expected 'auto', 'continuous' or 'discrete'; got {kind!r}")
    if a.dtype.kind == "c":
        raise TypeError(f"{name}: complex samples are not supported")
    if kind != "auto":
        return kind
    return "continuous" if a.dtype.kind == "f" else "discrete"


# --------------------------------------------------------------------------------- options
def _is_int(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, numbers.Integral)


def check_k(k: Any) -> int:
    if not _is_int(k) or k < 1:
        raise ValueError(f"k: expected a positive integer number of neighbours; got {k!r}")
    return int(k)


def check_ci(ci: Any) -> float | None:
    if ci is None:
        return None
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0 < ci < 1:
        raise ValueError(
            f"ci: expected None or a confidence level in (0, 1), e.g. 0.95; got {ci!r}"
        )
    return float(ci)


def check_resamples(n_resamples: Any, default: int) -> int:
    if n_resamples is None:
        return default
    if not _is_int(n_resamples):
        raise ValueError(f"n_resamples: expected a positive integer; got {n_resamples!r}")
    if n_resamples < 2:
        raise ValueError(f"n_resamples: need at least 2 resamples; got {n_resamples}")
    return int(n_resamples)


def check_alphabet(alphabet_size: Any, observed: int) -> int:
    """The alphabet size K (at least the number of observed outcomes); any size, never allocated."""
    if alphabet_size is None:
        return observed
    whole = isinstance(alphabet_size, float) and alphabet_size.is_integer()  # 1e10 is fine
    if not (_is_int(alphabet_size) or whole):
        raise ValueError(f"alphabet_size: expected a positive integer; got {alphabet_size!r}")
    if alphabet_size < max(observed, 1):
        raise ValueError(
            f"alphabet_size: {alphabet_size} is smaller than the {observed} outcomes in the data"
        )
    return int(alphabet_size)


def check_pseudocount(pseudocount: Any) -> float | None:
    if pseudocount is None:
        return None
    if isinstance(pseudocount, bool) or not isinstance(pseudocount, numbers.Real):
        raise ValueError(f"pseudocount: expected a positive number; got {pseudocount!r}")
    a = float(pseudocount)
    if not (math.isfinite(a) and a > 0):
        raise ValueError(f"pseudocount: expected a finite positive number; got {pseudocount!r}")
    return a


def check_metric(metric: Any) -> str:
    if metric not in _METRICS:
        raise ValueError(f"metric: expected 'euclidean' or 'chebyshev' (max-norm); got {metric!r}")
    return metric


def check_window(window_length: Any, n: int) -> int | None:
    if window_length is None:
        return None
    if not _is_int(window_length) or not 1 <= window_length < n:
        raise ValueError(
            f"window_length: expected an integer in [1, n - 1] = [1, {n - 1}]; "
            f"got {window_length!r}"
        )
    return int(window_length)


def jitter_scale(jitter: Any) -> float | None:
    """The relative jitter scale: None (off), the default for True, or a positive number."""
    if jitter is None or jitter is False:
        return None
    if jitter is True:
        return _DEFAULT_JITTER
    if isinstance(jitter, numbers.Real) and math.isfinite(jitter) and jitter > 0:
        return float(jitter)
    raise ValueError(f"jitter: expected None, True or a positive relative scale; got {jitter!r}")


def reject_options(kind: str, **options: Any) -> None:
    """Refuse options that do not apply to ``kind`` ("discrete" or "continuous") samples."""
    other = "continuous" if kind == "discrete" else "discrete"
    for name, val in options.items():
        if val is not None and val is not False:
            raise ValueError(f"{name}: only applies to {other} samples; these are {kind}")


# --------------------------------------------------------------------------------- samples
def check_nonempty(a: np.ndarray, name: str) -> None:
    if a.ndim == 0:
        raise ValueError(f"{name}: expected a sample (n,) or (n, d); got a scalar")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: the sample is empty")


def check_size(a: np.ndarray, need: int, name: str, why: str) -> None:
    if a.shape[0] < need:
        raise ValueError(f"{name}: {a.shape[0]} point(s) is fewer than {why}")


def continuous_sample(a: np.ndarray, name: str) -> np.ndarray:
    """Validated float64 points of shape (n, d)."""
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: continuous samples must be numeric; got dtype {a.dtype} "
            "(use kind='discrete' for labels)"
        )
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim != 2:
        raise ValueError(f"{name}: expected shape (n,) or (n, d); got {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: the sample is empty")
    if a.shape[1] == 0:
        raise ValueError(f"{name}: the points have 0 dimensions (shape {a.shape})")
    a = np.asarray(a, dtype=np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{name}: {int(bad.sum())} NaN/inf value(s) in {rows.size} point(s) "
            f"(first at row {int(rows[0])}); remove or impute them first"
        )
    return a


def discrete_sample(a: np.ndarray, name: str) -> np.ndarray:
    """Validated labels of shape (n,) or joint outcomes (n, d)."""
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{name}: expected labels of shape (n,) or joint outcomes (n, d); got {a.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name}: the sample is empty")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{name}: {int((~np.isfinite(a)).sum())} NaN/inf label(s)")
    if a.dtype.kind == "O":
        n_nan = sum(1 for v in a.ravel() if isinstance(v, float) and v != v)
        if n_nan:
            raise ValueError(f"{name}: {n_nan} NaN label(s)")
        if a.ndim == 2:
            raise ValueError(f"{name}: joint outcomes (n, d) must be a numeric or string array")
    return a


def _label_group(a: np.ndarray) -> str:
    k = a.dtype.kind
    return "numeric" if k in "biuf" else ("string" if k in "US" else k)


def _codes(samples: list[np.ndarray], names: list[str]) -> tuple[np.ndarray, int]:
    """Integer codes of the concatenated labels (one per distinct outcome) and their number."""
    groups = {_label_group(s) for s in samples}
    if len(groups) > 1:
        kinds = ", ".join(f"{nm} has dtype {s.dtype}" for nm, s in zip(names, samples, strict=True))
        raise TypeError(f"labels of different types cannot be aligned: {kinds}")
    if len({s.shape[1:] for s in samples}) > 1:
        shapes = ", ".join(f"{nm}{s.shape}" for nm, s in zip(names, samples, strict=True))
        raise ValueError(f"x, y: joint outcomes must have the same number of columns; got {shapes}")
    allv = np.concatenate(samples)
    try:
        uniq, inv = np.unique(allv, axis=0 if allv.ndim == 2 else None, return_inverse=True)
        return inv.ravel(), uniq.shape[0]
    except TypeError:  # unorderable objects: count by hashing
        index: dict[Any, int] = {}
        inv = np.array([index.setdefault(v, len(index)) for v in allv.tolist()], dtype=np.intp)
        return inv, len(index)


def aligned_counts(samples: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """Count vectors of several label samples over the union of their outcomes, aligned."""
    inv, n_out = _codes(samples, names)
    out, start = [], 0
    for s in samples:
        size = s.shape[0]
        out.append(np.bincount(inv[start : start + size], minlength=n_out).astype(np.float64))
        start += size
    return out


def contingency_table(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The (K_x, K_y) table of joint counts of paired labels (observed outcomes only)."""
    ix, kx = _codes([x], ["x"])
    iy, ky = _codes([y], ["y"])
    return np.bincount(ix * ky + iy, minlength=kx * ky).reshape(kx, ky).astype(np.float64)


def counts_vector(counts: Any) -> np.ndarray:
    """A validated 1-D histogram of whole-number counts, as float64."""
    c = as_numpy(counts, "counts")
    if c.dtype.kind not in "biuf":
        raise TypeError(f"counts: expected numbers; got dtype {c.dtype}")
    if c.ndim != 1:
        raise ValueError(f"counts: expected a 1-D histogram; got shape {c.shape}")
    if c.size == 0:
        raise ValueError("counts: the histogram is empty")
    c = c.astype(np.float64)
    if not np.isfinite(c).all():
        raise ValueError("counts: contains NaN/inf")
    if (c < 0).any():
        i = int(np.flatnonzero(c < 0)[0])
        raise ValueError(f"counts: negative count {float(c[i])!r} at index {i}")
    if (c != np.round(c)).any():
        i = int(np.flatnonzero(c != np.round(c))[0])
        raise ValueError(
            f"counts: estimators need whole-number counts; got {float(c[i])!r} at index {i} "
            "(for probabilities use kullback.entropy)"
        )
    if not (c > 0).any():
        raise ValueError("counts: all counts are zero (an empty sample)")
    return c


@dataclass(frozen=True)
class SampleOptions:
    """Options of the continuous estimators: neighbour order, distance, spacing window."""

    k: int = 3
    metric: str = "euclidean"
    window: int | None = None
