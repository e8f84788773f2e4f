"""The result of comparing two models: per-token values, a summary, a report.

A :class:`Comparison` holds one row per token (position, KL both ways, JS, both argmax tokens
and, with targets, the target and both negative log-likelihoods), always in nats; properties
convert to the unit chosen with ``base``. Everything else (summary, report, worst tokens,
merging) is derived from these columns, so merging shard results and then summarising equals
summarising one run over all shards. A comparison built on Dask arrays keeps a lazy table and
computes it once, on first use (or on :meth:`Comparison.compute`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from kullback.units import resolve_unit

__all__ = [
    "BASE_COLUMNS",
    "DELTA_P_QUANTILES",
    "INTEGER_COLUMNS",
    "QUANTILES",
    "TARGET_COLUMNS",
    "Comparison",
]

QUANTILES = (0.001, 0.01, 0.05, 0.1, 0.9, 0.95, 0.99, 0.999)
DELTA_P_QUANTILES = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
BASE_COLUMNS = ("position", "kl", "kl_reverse", "js", "top_reference", "top_candidate")
TARGET_COLUMNS = ("target", "nll_reference", "nll_candidate")
INTEGER_COLUMNS = frozenset({"position", "top_reference", "top_candidate", "target"})


def _mean_stderr(x: np.ndarray) -> tuple[float, float | None]:
    """The mean and its standard error std(ddof=1)/sqrt(N) (None below two values or when
    the values are not all finite)."""
    mean = float(np.mean(x))
    if x.size < 2 or not np.all(np.isfinite(x)):
        return mean, None
    return mean, float(np.std(x, ddof=1) / math.sqrt(x.size))


def _quantiles(x: np.ndarray, qs: tuple[float, ...]) -> dict[str, float]:
    """NumPy's linear-interpolation quantiles keyed by ``str(q)``; between two +inf values the
    quantile is +inf (not the NaN of inf - inf)."""
    with np.errstate(invalid="ignore"):
        values = np.quantile(x, qs)
    values = np.where(np.isnan(values), np.inf, values)
    return {str(q): float(v) for q, v in zip(qs, values, strict=True)}


def _rms_stderr(d: np.ndarray) -> tuple[float, float | None]:
    """sqrt(mean(d**2)) and its standard error by the delta method: se(mean d**2) / (2 rms)."""
    msq, se = _mean_stderr(d * d)
    rms = math.sqrt(msq)
    if se is None:
        return rms, None
    return rms, (se / (2.0 * rms) if rms > 0 else 0.0)


def _times(factor: float, se: float | None) -> float | None:
    return None if se is None else factor * se


class Comparison:
    """Per-token comparison of a candidate model's next-token distributions with a reference's.

    Made by :func:`kullback.lm.compare`; not usually constructed directly.

    Attributes
    ----------
    unit : str
        The unit of ``kl``, ``kl_reverse``, ``js`` and the NLLs (``base=`` of ``compare``).
    bound : str
        ``"exact"``, or ``"lower"`` when the reference was stored as top-k log-probabilities:
        then ``kl``, ``kl_reverse`` and ``js`` are guaranteed lower bounds.
    dask : dask.array.Array or None
        For a comparison of Dask arrays: the lazy (N, columns) table, one block per chunk.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.lm import compare
    >>> ref = np.log([[0.5, 0.25, 0.25], [0.9, 0.05, 0.05]])
    >>> cand = np.log([[0.25, 0.25, 0.5], [0.9, 0.05, 0.05]])
    >>> c = compare(ref, cand, targets=[2, 0], base="bits")
    >>> c.kl                                         # 0.25 bit, then exactly 0
    array([0.25, 0.  ])
    >>> c.same_top
    array([False,  True])
    >>> round(c.summary()["ppl_ratio"], 6)           # 2 ** -0.5
    0.707107
    """

    def __init__(
        self,
        columns: dict[str, np.ndarray] | None,
        *,
        base: Any = None,
        bound: str = "exact",
        tokenizer: Any = None,
        pending: Callable[[], dict[str, np.ndarray]] | None = None,
    ) -> None:
        self._table = columns
        self._pending = pending
        self._base = base
        self._unit = resolve_unit(base)
        self.bound = bound
        self.tokenizer = tokenizer
        self.dask: Any = None  # the lazy per-token table, for a Dask-backed comparison

    # ------------------------------------------------------------------ columns

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The per-token table in nats (computed now if the comparison is lazy)."""
        if self._table is None:
            assert self._pending is not None
            self._table = self._pending()
            self._pending = None
        return self._table

    def compute(self) -> Comparison:
        """This comparison with its table computed (for a lazy, Dask-backed comparison)."""
        self.columns  # noqa: B018 - computes and caches
        return self

    @property
    def unit(self) -> str:
        return self._unit.name

    @property
    def has_targets(self) -> bool:
        return "target" in self.columns

    def __len__(self) -> int:
        return int(self.columns["kl"].shape[0])

    def _needs_targets(self, name: str) -> None:
        if not self.has_targets:
            raise ValueError(f"{name} needs targets (the actual next tokens); none were given")

    def _in_unit(self, name: str) -> np.ndarray:
        return self._unit.from_nats(self.columns[name])

    @property
    def positions(self) -> np.ndarray:
        """The position of each token in the stream it came from."""
        return self.columns["position"]

    @property
    def kl(self) -> np.ndarray:
        """KL(reference || candidate) per token (a lower bound when ``bound == "lower"``)."""
        return self._in_unit("kl")

    @property
    def kl_reverse(self) -> np.ndarray:
        """KL(candidate || reference) per token."""
        return self._in_unit("kl_reverse")

    @property
    def js(self) -> np.ndarray:
        """Jensen-Shannon divergence per token."""
        return self._in_unit("js")

    @property
    def same_top(self) -> np.ndarray:
        """Whether both models' most likely tokens agree (ties go to the lowest id)."""
        return self.columns["top_reference"] == self.columns["top_candidate"]

    @property
    def targets(self) -> np.ndarray:
        self._needs_targets("targets")
        return self.columns["target"]

    @property
    def nll_reference(self) -> np.ndarray:
        """-log p_reference(target) per token."""
        self._needs_targets("nll_reference")
        return self._in_unit("nll_reference")

    @property
    def nll_candidate(self) -> np.ndarray:
        """-log p_candidate(target) per token."""
        self._needs_targets("nll_candidate")
        return self._in_unit("nll_candidate")

    @property
    def p_reference(self) -> np.ndarray:
        """The reference's probability of the target token."""
        self._needs_targets("p_reference")
        return np.exp(-self.columns["nll_reference"])

    @property
    def p_candidate(self) -> np.ndarray:
        """The candidate's probability of the target token."""
        self._needs_targets("p_candidate")
        return np.exp(-self.columns["nll_candidate"])

    @property
    def delta_p(self) -> np.ndarray:
        """p_candidate - p_reference per token."""
        return self.p_candidate - self.p_reference

    # ------------------------------------------------------------------ summary

    def summary(self) -> dict[str, Any]:
        """Summary statistics as a JSON-ready dict (Python floats; ``None`` where undefined).

        Standard errors are std(ddof=1)/sqrt(N) of the per-token values; for perplexities
        PPL times the standard error of the mean NLL (delta method); for the RMS of Δp the
        standard error of the mean of Δp² over twice the RMS. ``kl_lower_bound`` says whether
        the KL, reverse-KL and JS values are guaranteed lower bounds (top-k reference store).
        """
        n = len(self)
        if n == 0:
            raise ValueError("the comparison covers no tokens")
        out: dict[str, Any] = {"tokens": n, "unit": self.unit}
        out["kl_lower_bound"] = self.bound == "lower"
        kl = self.kl
        out["kl_mean"], out["kl_mean_stderr"] = _mean_stderr(kl)
        out["kl_median"] = _median(kl)
        out["kl_min"], out["kl_max"] = float(np.min(kl)), float(np.max(kl))
        out["kl_quantiles"] = _quantiles(kl, QUANTILES)
        out["kl_reverse_mean"], out["kl_reverse_mean_stderr"] = _mean_stderr(self.kl_reverse)
        out["js_mean"], out["js_mean_stderr"] = _mean_stderr(self.js)
        out["same_top"], out["same_top_stderr"] = _mean_stderr(self.same_top.astype(np.float64))
        if self.has_targets:
            out.update(self._target_summary())
        return out

    def _target_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        cols = self.columns
        for side in ("reference", "candidate"):
            mean, se = _mean_stderr(cols[f"nll_{side}"])
            ppl = math.exp(mean)
            out[f"ppl_{side}"], out[f"ppl_{side}_stderr"] = ppl, _times(ppl, se)
        ln_ratio, se = _mean_stderr(cols["nll_candidate"] - cols["nll_reference"])
        out["ln_ppl_ratio"], out["ln_ppl_ratio_stderr"] = ln_ratio, se
        out["ppl_ratio"] = math.exp(ln_ratio)
        dp = self.delta_p
        out["delta_p_mean"], out["delta_p_mean_stderr"] = _mean_stderr(dp)
        out["delta_p_rms"], out["delta_p_rms_stderr"] = _rms_stderr(dp)
        out["delta_p_quantiles"] = _quantiles(dp, DELTA_P_QUANTILES)
        return out

    # ------------------------------------------------------------------ tokens, merging

    def worst(self, n: int = 10, tokenizer: Any = None) -> list[dict[str, Any]]:
        """The ``n`` tokens with the largest KL, largest first (ties: earliest position).

        Each row has ``position``, ``kl`` (in the unit), ``top_reference``,
        ``top_candidate`` and, with targets, ``target``; with a tokenizer (given here, or
        carried from :func:`kullback.lm.logits`) also the decoded ``*_text`` of each id.
        """
        cols = self.columns
        order = np.lexsort((cols["position"], -cols["kl"]))[: max(0, int(n))]
        kl = self.kl
        ids = ["target", "top_reference", "top_candidate"] if self.has_targets else [
            "top_reference", "top_candidate"
        ]
        tok = tokenizer if tokenizer is not None else self.tokenizer
        rows = []
        for i in order:
            row: dict[str, Any] = {"position": int(cols["position"][i]), "kl": float(kl[i])}
            for name in ids:
                row[name] = int(cols[name][i])
                if tok is not None:
                    row[f"{name}_text"] = tok.decode([row[name]])
            rows.append(row)
        return rows

    def merge(self, other: Comparison) -> Comparison:
        """One comparison over the tokens of both (disjoint token sets, e.g. shards).

        Summaries of the merged comparison equal those of one run over all the tokens.
        """
        if not isinstance(other, Comparison):
            raise TypeError(f"can only merge a Comparison; got {type(other).__name__}")
        if self.bound != other.bound:
            raise ValueError("cannot merge an exact comparison with a lower-bound (top-k) one")
        if self.has_targets != other.has_targets:
            raise ValueError("cannot merge a comparison with targets and one without")
        a, b = self.columns, other.columns
        merged = {k: np.concatenate([a[k], b[k]]) for k in a}
        return Comparison(
            merged, base=self._base, bound=self.bound, tokenizer=self.tokenizer
        )

    # ------------------------------------------------------------------ report

    def plot(self, path: Any) -> Any:
        """Save a figure (KL distribution on a log scale, Δp, agreement) to ``path``,
        atomically; the format comes from the extension (.png, .svg, .pdf). Needs matplotlib."""
        from kullback.lm._plot import save_plot

        return save_plot(self, path)

    def __repr__(self) -> str:
        if self._table is None:
            return f"Comparison(lazy, unit={self.unit!r}; call .compute() or .summary())"
        from kullback.lm._report import report

        return report(self.summary())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(repr(self))


def _median(x: np.ndarray) -> float:
    return _quantiles(x, (0.5,))["0.5"]
