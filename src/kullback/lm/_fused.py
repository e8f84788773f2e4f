"""The native torch path: all per-token values of a row tile in one fused float64 pass.

For two torch tensors of logits (CPU, any floating dtype, float64 working precision) the
generic path (NumPy weights, then three separate passes of the core's measures) is replaced,
tile by tile, by one pass of vectorised float64 torch ops that shares what the three
divergences have in common:

* the row maxima and argmaxes (``torch.max``: the first maximal index, as ``numpy.argmax``),
  taken in the input dtype, whose conversion to float64 is exact and monotone;
* ``t = x - max x`` (exact) and ``u = (y - max y) - t`` (exact for float32 and narrower
  inputs but for one rounding), the weights ``P = exp(t)``, ``Q = P exp(u) = exp(y - max y)``
  and the normalisers ``Zp``, ``Zq``;
* the log-ratio ``d = log(q/p) = u - log(Zq/Zp)`` and ``h = m/p = (1 + exp(u) Zp/Zq)/2``
  (``m = (p + q)/2``).

Then (each sum a row dot product in float64)::

    KL(p||q) = -sum p d        KL(q||p) = sum q d
    JS = (KL(q||p) - sum (p + q) log(m/p)) / 2 = KL(q||p)/2 - sum p h log h

These plain forms carry an absolute error of about ``1e-15`` (measured: at most 1.4e-15 on
rows of 32000 float32 logits, confident rows included), not a relative one; so the pass vouches
only for rows whose KL, reverse KL and ``4 JS`` are all at least :data:`FLOOR` (relative error
below about ``2e-8``, against the contract's 1e-6 for KL >= 1e-8). Every other row is handed
back to the generic path (the core's Bregman kernels: never negative, exactly 0 for identical
rows, relatively accurate at any size): nearly identical and identical rows, rows with an entry
of the reference more than 700 below its maximum (``-inf`` masks; weights that would be
subnormal), and rows with any non-finite value (support mismatches). Tiles with bad input (NaN,
+inf, a row of ``-inf``) go to the generic path whole, which names the position.

Per element this costs three float64 transcendental functions (two ``exp``, one ``log``) and
about fifteen light vectorised ops on cache-resident tiles, against the peer's four float32
``exp`` and several passes over ``N x V`` arrays in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from kullback.lm._arrays import library

__all__ = ["FLOOR", "fused_tile", "single_threaded_ops", "supports"]

FLOOR = 1e-7  # rows whose KL, reverse KL or 4 JS (nats) is below this take the generic path
_SPAN = 700.0  # reference entries within this of the row maximum keep normal float64 weights


def supports(reference: Any, candidate: Any, dtype: Any) -> bool:
    """Whether the fused torch path applies: two CPU floating torch tensors, float64 work."""
    if dtype is not np.float64 or library(reference) != "torch" or library(candidate) != "torch":
        return False
    return all(x.device.type == "cpu" and x.is_floating_point() for x in (reference, candidate))


@contextmanager
def single_threaded_ops() -> Iterator[Callable[[], None]]:
    """A thread-pool initializer that makes torch's ops single-threaded on each pool thread.

    The tiles are small (in cache) and run on :func:`~kullback.lm._tokens.workers` threads
    of their own: intra-op threads on top would only oversubscribe the cores (and torch's
    parallel regions on cache-sized tiles cost more than they save). ``torch.set_num_threads``
    on a pool thread sets that thread's count, and also torch's default for threads created
    later, which is put back on exit.
    """
    import torch

    kept = torch.get_num_threads()
    try:
        yield lambda: torch.set_num_threads(1)
    finally:
        torch.set_num_threads(kept)


def _dot(a: Any, b: Any) -> Any:
    """Row-wise dot products of two ``(rows, V)`` tensors."""
    return (a * b).sum(-1)


def _values(torch: Any, a: Any, b: Any) -> tuple[dict[str, Any], Any]:
    """The fused pass on rows ``a``, ``b`` with finite maxima: per-row values (float64
    tensors) and the mask of rows the pass hands back to the generic path."""
    ma, top_a = torch.max(a, dim=-1)
    mb, top_b = torch.max(b, dim=-1)
    far = (a.amin(-1).double() - ma.double()) < -_SPAN          # -inf masks, tiny weights
    t = a.to(torch.float64, copy=True).sub_(ma.double()[:, None])  # x - max x, exact
    d = b.to(torch.float64, copy=True).sub_(mb.double()[:, None]).sub_(t)  # (y - max y) - t
    P = t.exp_()
    E = torch.exp(d)                                            # exp(u)
    Q = torch.mul(E, P)                                         # exp(y - max y)
    zp, zq = P.sum(-1), Q.sum(-1)
    d.sub_(torch.log(zq / zp)[:, None])                         # d = log(q/p)
    kl = -_dot(P, d) / zp
    kl_reverse = _dot(Q, d) / zq
    h = E.mul_((0.5 * zp / zq)[:, None]).add_(0.5)              # m/p = (1 + q/p)/2
    js = 0.5 * kl_reverse - _dot(P, torch.log(h).mul_(h)) / zp  # (q log(q/p) - (p+q) log(m/p))/2
    values = {"kl": kl, "kl_reverse": kl_reverse, "js": js,
              "log_z_reference": torch.log(zp), "log_z_candidate": torch.log(zq),
              "top_reference": top_a, "top_candidate": top_b, "max_reference": ma,
              "max_candidate": mb}
    small = (kl < FLOOR) | (kl_reverse < FLOOR) | (4.0 * js < FLOOR)
    finite = torch.isfinite(kl) & torch.isfinite(kl_reverse) & torch.isfinite(js)
    return values, far | small | ~finite


def fused_tile(generic: Callable[..., None]) -> Callable[..., None]:
    """A tile function (same signature as the generic one) running the fused pass, with
    ``generic`` on the rows it hands back (and on tiles with bad values, to name them)."""

    def tile(reference: Any, candidate: Any, lo: int, hi: int, t: np.ndarray | None,
             dtype: Any, where: Any, out: dict[str, np.ndarray]) -> None:
        import torch

        with torch.no_grad():
            a, b = reference[lo:hi].detach(), candidate[lo:hi].detach()
            if not bool(torch.isfinite(a.amax(-1)).all() & torch.isfinite(b.amax(-1)).all()):
                generic(reference, candidate, lo, hi, t, dtype, where, out)  # raises, located
                return
            values, redo = _values(torch, a, b)
            s = slice(lo, hi)
            for name in ("kl", "kl_reverse", "js", "top_reference", "top_candidate"):
                out[name][s] = values[name].numpy()
            if t is not None:
                _nll(torch, a, b, t, values, out, s)
        rows = np.flatnonzero(redo.numpy())
        if rows.size > (hi - lo) // 4:  # mostly special rows: one generic call for the tile
            generic(reference, candidate, lo, hi, t, dtype, where, out)
            return
        for r in rows:  # one generic call per row handed back
            generic(reference, candidate, lo + int(r), lo + int(r) + 1,
                    None if t is None else t[r:r + 1], dtype, where, out)

    return tile


def _nll(torch: Any, a: Any, b: Any, t: np.ndarray, values: dict[str, Any],
         out: dict[str, np.ndarray], s: slice) -> None:
    """Negative log-likelihoods of the targets: ``log Z - (x_t - max x)`` (``Zq = sum P e^u``
    is the candidate's ``sum exp(y - max y)``)."""
    idx = torch.from_numpy(t)[:, None]
    for side, x in (("reference", a), ("candidate", b)):
        xt = x.gather(-1, idx)[:, 0].double() - values[f"max_{side}"].double()
        out[f"nll_{side}"][s] = (values[f"log_z_{side}"] - xt).numpy()
