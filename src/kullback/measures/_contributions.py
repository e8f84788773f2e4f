r"""Per-outcome contributions: the terms whose sums are the measures, one per outcome.

For a table, a report or a figure that shows *where* a divergence comes from. Each operand is
normalised along ``axis`` first (counts work). The keys:

* ``entropy_p``, ``entropy_q``: :math:`-p \log p`, :math:`-q \log q` (``>= 0``)
* ``cross_entropy``: :math:`-p \log q` (``+inf`` where ``q = 0 < p``)
* ``kl``: :math:`p \log(p/q)` — the textbook term, *signed* (negative where q is the more
  likely); it sums to KL(p‖q). ``+inf`` where ``q = 0 < p``, 0 where ``p = 0``.
* ``kl_reverse``: :math:`q \log(q/p)`, summing to KL(q‖p).
* ``psi``: :math:`(p - q) \log(p/q) \ge 0`, ``kl + kl_reverse``: the terms of the symmetrised
  KL (the population stability index).
* ``js``: :math:`\tfrac12 p \log(p/m) + \tfrac12 q \log(q/m)`, :math:`m = (p+q)/2`; each term is
  ``>= 0`` (the log-sum inequality) and they sum to JS(p, q). These are the core's Bregman JS
  terms, which coincide outcome by outcome with the textbook ones.

The log-ratio is ``log1p((p - q)/q)`` where the ratio is within [1/2, 2] (``p - q`` is then
exact), so nearly identical outcomes keep relative accuracy.

Examples
--------
>>> from kullback.measures import contributions
>>> c = contributions([0.5, 0.5], [0.25, 0.75], base="bits")
>>> [round(float(v), 6) for v in c["kl"]]
[0.5, -0.29248]
>>> round(float(c["kl"].sum()), 6), round(float(c["psi"].sum()), 6)
(0.207519, 0.396241)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kullback.measures import _kernels
from kullback.measures._prepare import masses, prepare
from kullback.units import resolve_unit

__all__ = ["contributions"]


def _log_ratio(xp: Any, P: Any, Q: Any) -> Any:
    """``log(P/Q)`` where both are positive (finite garbage elsewhere, masked by the caller)."""
    both = (P > 0) & (Q > 0)
    Ps = xp.where(both, P, 1.0)
    Qs = xp.where(both, Q, 1.0)
    near = (Ps <= 2.0 * Qs) & (Qs <= 2.0 * Ps)
    return xp.where(near, xp.log1p((Ps - Qs) / Qs), xp.log(Ps) - xp.log(Qs))


def contributions(p: Any, q: Any = None, *, base: Any = None, axis: int = -1) -> dict[str, Any]:
    """Per-outcome terms of the entropies, cross-entropy, KL (both ways), PSI and JS.

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts along ``axis``; ``q`` optional (then only
        ``entropy_p`` is returned).
    base : None, float or str, optional
        Logarithm base or unit name.
    axis : int, optional
        The axis of outcomes; it is moved last in the results.

    Returns
    -------
    dict of str to array
        The terms (outcome axis last), in the input's array library; see the module docstring.
    """
    unit = resolve_unit(base)
    pr = prepare(p, q, axis, "probs", "probs", True)
    xp = pr.xp
    with np.errstate(all="ignore"):
        P = pr.p / masses(pr, pr.p, pr.p_orig, "p")
        out = {"entropy_p": 0.0 - _kernels.entropy_terms(xp, P)}
        if pr.q is not None:
            Q = pr.q / masses(pr, pr.q, pr.q_orig, "q")
            lr = _log_ratio(xp, P, Q)
            zero = xp.zeros_like(P)
            inf = xp.full_like(P, math.inf)
            kl = xp.where(P > 0, xp.where(Q > 0, P * lr, inf), zero)
            rev = xp.where(Q > 0, xp.where(P > 0, Q * (0.0 - lr), inf), zero)
            out.update(
                entropy_q=0.0 - _kernels.entropy_terms(xp, Q),
                cross_entropy=0.0 - _kernels.cross_entropy_terms(xp, P, Q),
                kl=kl,
                kl_reverse=rev,
                psi=xp.where((P > 0) & (Q > 0), (P - Q) * lr, xp.where(P == Q, zero, inf)),
                js=0.25 * _kernels.js_terms(xp, P, Q),
            )
    cast = pr.out_dtype
    return {k: xp.astype(unit.from_nats(v), cast) if v.dtype != cast else unit.from_nats(v)
            for k, v in out.items()}
