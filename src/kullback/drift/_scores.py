r"""The scores of one column from its two count vectors, all through kullback's core.

With reference counts :math:`r_i` and current counts :math:`c_i` over the same bins (plus the
pseudocount ``a``, if any, added to every bin on both sides), :math:`p = r/\sum r`,
:math:`q = c/\sum c`:

* ``kl_ref_cur`` = KL(p‖q) (:func:`kullback.kl_divergence`), ``kl_cur_ref`` = KL(q‖p);
* ``js`` and ``js_distance`` (:func:`kullback.js_divergence`, :func:`kullback.js_distance`);
* ``psi`` = KL(p‖q) + KL(q‖p) = :math:`\sum_i (p_i - q_i)\log(p_i/q_i)`: the population
  stability index *is* the symmetrised KL divergence;
* per bin, :func:`kullback.measures.contributions`: the signed terms ``kl``, ``kl_reverse``,
  and the non-negative ``psi`` and ``js`` terms, which sum to the scores.

No epsilon: a bin empty in the reference but not in the current table makes KL(q‖p) and PSI
``+inf``; JS stays finite (at most ln 2).

Uncertainty (``ci=``): the bootstrap resamples each side's counts from a multinomial with the
observed proportions (exact for binned data: resampling rows and re-binning gives the same
distribution), 1000 times at once; the interval is the percentile interval of JS and PSI,
widened if needed to contain the estimate. The permutation test pools both sides' counts and
splits them again at random with the observed sizes (a multivariate hypergeometric draw: exactly
the distribution of the counts under a random relabelling of the rows); the p-value is
:math:`(1 + \#\{JS^* \ge JS\})/(1 + 1000)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback._result import Estimate

__all__ = ["RESAMPLES", "Scores", "bootstrap", "permutation_p_value", "scores"]

RESAMPLES = 1000


@dataclass(frozen=True)
class Scores:
    """The divergences of one column, in the unit asked for, and their per-bin ``terms``."""

    kl_ref_cur: float
    kl_cur_ref: float
    js: float
    js_distance: float
    psi: float
    terms: dict[str, np.ndarray]  # kl, kl_reverse, psi, js: one value per bin


def _smoothed(counts: np.ndarray, pseudocount: float | None) -> np.ndarray:
    """Counts plus the pseudocount; integer counts stay integers (the core normalises them
    exactly, where float64 copies of the same counts lose a few ulps)."""
    counts = np.asarray(counts)
    return counts + pseudocount if pseudocount else counts


def scores(ref: np.ndarray, cur: np.ndarray, *, pseudocount: float | None,
           base: Any) -> Scores:
    """The divergences of one column and their per-bin terms (see the module docstring)."""
    import kullback as kb
    from kullback.measures import contributions

    r, c = _smoothed(ref, pseudocount), _smoothed(cur, pseudocount)
    kl_rc = float(kb.kl_divergence(r, c, base=base))
    kl_cr = float(kb.kl_divergence(c, r, base=base))
    terms = contributions(r, c, base=base)
    return Scores(
        kl_ref_cur=kl_rc,
        kl_cur_ref=kl_cr,
        js=float(kb.js_divergence(r, c, base=base)),
        js_distance=float(kb.js_distance(r, c, base=base)),
        psi=kl_rc + kl_cr,
        terms={k: np.asarray(terms[k], dtype=np.float64)
               for k in ("kl", "kl_reverse", "psi", "js")},
    )


def _batch_scores(R: np.ndarray, C: np.ndarray, pseudocount: float | None,
                  base: Any) -> tuple[np.ndarray, np.ndarray]:
    """JS and PSI of every row of two ``(resamples, bins)`` count matrices."""
    import kullback as kb

    R, C = _smoothed(R, pseudocount), _smoothed(C, pseudocount)
    js = np.asarray(kb.js_divergence(R, C, base=base), dtype=np.float64)
    psi = np.asarray(kb.kl_divergence(R, C, base=base) + kb.kl_divergence(C, R, base=base),
                     dtype=np.float64)
    return js, psi


def _interval(value: float, samples: np.ndarray, ci: float, unit: str,
              pseudocount: float | None) -> Estimate:
    alpha = 1.0 - ci
    low, high = np.quantile(samples, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    finite = samples[np.isfinite(samples)]
    stderr = float(np.std(finite, ddof=1)) if len(finite) == len(samples) else math.inf
    return Estimate(value=value, method="plugin", unit=unit, stderr=stderr,
                    low=min(float(low), value), high=max(float(high), value),
                    confidence=ci, interval="bootstrap", pseudocount=pseudocount)


def bootstrap(ref: np.ndarray, cur: np.ndarray, value: Scores, *, ci: float,
              pseudocount: float | None, base: Any, unit: str,
              rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    """Bootstrap intervals of (JS, PSI) from multinomial resamples of both count vectors."""
    ref, cur = np.asarray(ref, dtype=np.int64), np.asarray(cur, dtype=np.int64)
    R = rng.multinomial(ref.sum(), ref / ref.sum(), size=RESAMPLES)
    C = rng.multinomial(cur.sum(), cur / cur.sum(), size=RESAMPLES)
    js, psi = _batch_scores(R, C, pseudocount, base)
    return (_interval(value.js, js, ci, unit, pseudocount),
            _interval(value.psi, psi, ci, unit, pseudocount))


def permutation_p_value(ref: np.ndarray, cur: np.ndarray, js: float, *,
                        pseudocount: float | None, base: Any,
                        rng: np.random.Generator) -> float:
    """P-value of "both tables come from one distribution", with JS as the statistic."""
    ref, cur = np.asarray(ref, dtype=np.int64), np.asarray(cur, dtype=np.int64)
    pooled = ref + cur
    R = rng.multivariate_hypergeometric(pooled, int(ref.sum()), size=RESAMPLES)
    js_star, _ = _batch_scores(R, pooled - R, pseudocount, base)
    extreme = js_star >= js * (1.0 - 1e-9)  # ties (equal tables) count as extreme
    return float((1 + np.count_nonzero(extreme)) / (1 + RESAMPLES))
