"""Input checks with errors that name the argument, the problem and the first offending position.

The checks are cheap on the happy path: a row's sum is finite only if no entry is NaN or
infinite, so :func:`check_masses` needs the row sums (which the measures compute anyway) and
one minimum. Only when something is wrong does :func:`locate` search for the first offending
entry to report it. Lazy arrays (Dask, JAX tracers) skip every value-dependent check rather
than force a computation; shapes are always checked.

Examples
--------
>>> import kullback as kb
>>> kb.entropy([0.5, -0.1, 0.6])
Traceback (most recent call last):
...
ValueError: p has a negative entry at position 1 (-0.1)
>>> kb.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
Traceback (most recent call last):
...
ValueError: p and q must have the same length along axis -1; got 2 and 3 (shapes (2,) and (3,))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "FORMS",
    "check_axis",
    "check_form",
    "check_log_input",
    "check_masses",
    "first_invalid",
    "locate",
]

FORMS = ("probs", "logits", "log_probs")


def check_form(form: Any, name: str) -> str:
    """Validate a ``*_form`` keyword: one of ``"probs"``, ``"logits"``, ``"log_probs"``."""
    if form not in FORMS:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, FORMS))}; got {form!r}")
    return form


def check_axis(axis: Any, ndim: int, name: str) -> int:
    """Normalise ``axis`` to a non-negative int, or raise naming the argument."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"axis must be an integer; got {type(axis).__name__}")
    if ndim == 0:
        raise ValueError(f"{name} is a scalar; it needs at least one axis of outcomes")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {name} with {ndim} dimension(s)")
    return int(axis) % ndim


def _to_numpy(xp: Any, x: Any) -> np.ndarray:
    """A NumPy view of a small eager array, for error messages only."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    if hasattr(x, "_array"):  # array_api_strict
        x = x._array
    return np.asarray(x)


def _position(index: tuple[int, ...], shape: tuple[int, ...]) -> str:
    return str(index[0]) if len(shape) == 1 else str(index)


def first_invalid(a: np.ndarray, *, log_form: bool = False) -> tuple[tuple[int, ...], str] | None:
    """The index and kind (``"a NaN entry"``, ...) of the first invalid entry of ``a``, or None.

    Masses must be finite and non-negative; log-probabilities (``log_form``) must not be NaN or
    +inf. Shared by the library's messages and the command line's (which counts from 1).
    """
    if log_form:
        checks = [(np.isnan(a), "a NaN entry"), (np.isposinf(a), "an entry of +inf")]
    else:
        checks = [
            (np.isnan(a), "a NaN entry"),
            (np.isinf(a), "an infinite entry"),
            (a < 0, "a negative entry"),
        ]
    for mask, what in checks:
        if mask.any():
            return tuple(int(i) for i in np.argwhere(mask)[0]), what
    return None


def locate(name: str, x: Any, xp: Any, *, log_form: bool = False) -> str:
    """Describe the first invalid entry of an eager array ``x``, for an error message.

    Returns a message such as ``"p has a negative entry at position 3 (-0.1)"``, or ``""``.
    """
    a = _to_numpy(xp, x)
    found = first_invalid(a, log_form=log_form)
    if found is None:
        return ""
    idx, what = found
    return f"{name} has {what} at position {_position(idx, a.shape)} ({a[idx].item()!r})"


def _first_row(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    if mask.ndim == 0 or mask.size == 1:
        return ""
    return f" at index {idx[0] if len(idx) == 1 else idx}"


def check_masses(name: str, x: Any, sums: Any, xp: Any, minimum: float | None = None) -> None:
    """Raise if ``x`` is not a valid array of masses (probabilities or counts).

    ``sums`` are the row sums along the outcome axis (any shape). A finite sum rules out NaN
    and infinite entries, so the happy path costs one minimum (``minimum`` if the caller has
    it already). Detects NaN, infinities, negative entries, all-zero slices and sums that
    overflow; positions are reported in ``x``'s own layout.
    """
    if _size(x) == 0:
        return  # an empty batch: nothing to check (the outcome axis itself is not empty)
    total_ok = bool(xp.all(xp.isfinite(sums)))
    min_ok = bool(xp.min(x) >= 0) if minimum is None else minimum >= 0
    if total_ok and min_ok and bool(xp.all(sums > 0)):
        return
    message = locate(name, x, xp)
    if message:
        raise ValueError(message)
    s = _to_numpy(xp, sums)
    if s.ndim and s.ndim == len(x.shape) and s.shape[-1] == 1:
        s = s[..., 0]  # row sums kept with keepdims
    if not np.isfinite(s).all():
        raise ValueError(
            f"{name}: the sum along the axis overflows{_first_row(~np.isfinite(s))}; "
            "rescale the counts"
        )
    raise ValueError(
        f"{name} has an all-zero slice along the axis{_first_row(s <= 0)}; "
        "a distribution needs positive total mass"
    )


def _size(x: Any) -> int:
    return math.prod(int(n) for n in x.shape)


def check_log_input(name: str, x: Any, lse: Any, xp: Any, form: str) -> None:
    """Raise if logits / log-probabilities ``x`` are invalid.

    ``lse`` is the row-wise logsumexp. NaN and +inf are refused; ``-inf`` (probability 0) is
    allowed, but not a whole row of it. ``log_probs`` must also be normalised: ``|lse|`` within
    ``sqrt(eps)`` of 0.
    """
    fin = xp.isfinite(lse)
    if _size(x) == 0:
        return
    if bool(xp.all(fin)):
        if form == "log_probs":
            tol = math.sqrt(float(xp.finfo(x.dtype).eps))
            if not bool(xp.all(xp.abs(lse) <= tol)):
                s = _to_numpy(xp, lse)
                if s.ndim and s.shape[-1] == 1:
                    s = s[..., 0]
                bad = np.abs(s) > tol
                idx = tuple(int(i) for i in np.argwhere(bad)[0]) if s.ndim else ()
                raise ValueError(
                    f"{name} is not normalised log-probabilities: logsumexp is "
                    f"{s[idx].item()!r}{_first_row(bad)}, not 0; pass {name[0]}_form='logits' to "
                    "normalise it"
                )
        return
    message = locate(name, x, xp, log_form=True)
    if message:
        raise ValueError(message)
    s = _to_numpy(xp, lse)
    if s.ndim and s.shape[-1] == 1:
        s = s[..., 0]
    raise ValueError(
        f"{name} has a slice of all -inf along the axis{_first_row(~np.isfinite(s))}; "
        "a distribution needs positive total mass"
    )
