"""The public estimators: entropy, cross-entropy, KL divergence and mutual information.

Each function validates its inputs (:mod:`._inputs`), looks its method up in the one table
(:mod:`._methods`), evaluates it, and attaches an error bar (:mod:`._intervals`). The
mathematics and the options are described in :mod:`kullback.estimate` and docs/estimate.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kullback._result import Estimate
from kullback.estimate import _inputs as inp
from kullback.estimate import _knn
from kullback.estimate._discrete import Tally
from kullback.estimate._intervals import bootstrap_stderr, finish, grouped_stderr
from kullback.estimate._methods import METHODS, Method, resolve_method
from kullback.units import Unit, resolve_unit

__all__ = ["cross_entropy", "entropy", "kl_divergence", "mutual_information"]


@dataclass(frozen=True)
class _Run:
    """What every estimator call shares: the unit, the confidence, the random generator."""

    unit: Unit
    ci: float | None
    rng: np.random.Generator
    n_resamples: Any

    @classmethod
    def make(cls, base: Any, ci: Any, random_state: Any, n_resamples: Any) -> _Run:
        return cls(resolve_unit(base), inp.check_ci(ci), np.random.default_rng(random_state),
                   n_resamples)


# ------------------------------------------------------------------------------ runners
def _discrete(
    quantity: str,
    counts: list[np.ndarray],
    method: Any,
    run: _Run,
    alphabet_size: Any = None,
    pseudocount: Any = None,
) -> float | Estimate:
    """Evaluate a discrete method on aligned count vectors (or one contingency table)."""
    name, m = resolve_method(method, "discrete", quantity)
    if m.needs_alphabet and alphabet_size is None:
        raise ValueError(f"alphabet_size: method {name!r} needs the number of possible outcomes K")
    k = inp.check_alphabet(alphabet_size, counts[0].shape[-1])
    a = inp.check_pseudocount(pseudocount)
    if a is not None and quantity not in m.smoothing:
        takes = " or ".join(f"method={n!r}" for n, e in METHODS.items() if quantity in e.smoothing)
        raise ValueError(f"pseudocount: applies to {takes} (add-a smoothing); got method={name!r}")
    tallies = [Tally(c, float(k - c.shape[-1]), a or 0.0) for c in counts]
    value = float(m.estimators[quantity](*tallies))
    # the delta method of the plug-in entropy is for raw counts: smoothed ones are bootstrapped
    kind = "bootstrap" if a is not None and quantity == "entropy" else m.interval
    stderr = None if run.ci is None else _discrete_stderr(quantity, m, tallies, kind, run)
    return finish(value, stderr, run.ci, method=name, unit=run.unit, interval_kind=kind,
                  nonnegative=True, pseudocount=a)


def _discrete_stderr(quantity: str, m: Method, tallies: list[Tally], kind: str, run: _Run) -> float:
    """The method's analytic standard error, or a bootstrap of the (single) tally."""
    if kind == "bootstrap":
        b = inp.check_resamples(run.n_resamples, 1000)
        return bootstrap_stderr(m.estimators[quantity], tallies[0], run.rng, b)
    return float(m.stderr[quantity](*tallies))


def _continuous(
    quantity: str,
    samples: list[np.ndarray],
    method: Any,
    run: _Run,
    opts: inp.SampleOptions,
    jitter: Any,
    *,
    paired: bool = False,
) -> float | Estimate:
    """Evaluate a continuous method on validated float64 samples of shape (n, d)."""
    name, m = resolve_method(method, "continuous", quantity)
    est = m.estimators[quantity]
    scale = inp.jitter_scale(jitter)
    if scale is not None:
        samples = _knn.jitter_samples(samples, scale, run.rng, linked=not paired)
    value = est.value(samples, opts)
    stderr = None
    if run.ci is not None:
        group_opts = replace(opts, window=None)  # a window is chosen for the whole sample

        def fn(*s: np.ndarray) -> float:
            return est.value(list(s), group_opts)

        stderr = grouped_stderr(fn, samples, est.min_points(opts.k), run.rng,
                                inp.check_resamples(run.n_resamples, 5), paired=paired)
    nonnegative = quantity in ("kl_divergence", "mutual_information")
    return finish(value, stderr, run.ci, method=name, unit=run.unit, interval_kind=m.interval,
                  nonnegative=nonnegative)


def _pair(x: Any, y: Any, kind: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Two samples as NumPy arrays and their common kind."""
    if x is None or y is None:
        raise ValueError(f"{'x' if x is None else 'y'}: a sample is required")
    a, b = inp.as_numpy(x, "x"), inp.as_numpy(y, "y")
    inp.check_nonempty(a, "x")
    inp.check_nonempty(b, "y")
    kind_x, kind_y = inp.resolve_kind(a, kind, "x"), inp.resolve_kind(b, kind, "y")
    if kind_x != kind_y:
        raise ValueError(
            f"kind: x looks {kind_x} (dtype {a.dtype}) but y looks {kind_y} (dtype {b.dtype}); "
            "pass kind='discrete' or kind='continuous'"
        )
    return a, b, kind_x


def _two_sample(
    quantity: str,
    x: Any,
    y: Any,
    *,
    kind: str,
    method: Any,
    base: Any,
    k: Any,
    ci: Any,
    random_state: Any,
    alphabet_size: Any,
    pseudocount: Any,
    jitter: Any,
    metric: Any,
    n_resamples: Any,
) -> float | Estimate:
    """Cross-entropy or KL of two samples: both discrete (aligned labels) or both continuous."""
    run = _Run.make(base, ci, random_state, n_resamples)
    k = inp.check_k(k)
    a, b, kind = _pair(x, y, kind)
    if kind == "discrete":
        inp.reject_options("discrete", jitter=jitter)
        counts = inp.aligned_counts([inp.discrete_sample(a, "x"), inp.discrete_sample(b, "y")],
                                    ["x", "y"])
        return _discrete(quantity, counts, method, run, alphabet_size, pseudocount)
    inp.reject_options("continuous", alphabet_size=alphabet_size, pseudocount=pseudocount)
    xs, ys = inp.continuous_sample(a, "x"), inp.continuous_sample(b, "y")
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(
            f"x, y: points must have the same dimension; x has d = {xs.shape[1]}, "
            f"y has d = {ys.shape[1]}"
        )
    opts = inp.SampleOptions(k, inp.check_metric(metric))
    return _continuous(quantity, [xs, ys], method, run, opts, jitter)


# ---------------------------------------------------------------------------- public API
def entropy(
    x: Any = None,
    *,
    counts: Any = None,
    kind: str = "auto",
    method: str = "auto",
    base: Any = None,
    k: int = 3,
    ci: float | None = None,
    random_state: Any = None,
    alphabet_size: int | None = None,
    pseudocount: float | None = None,
    jitter: bool | float | None = None,
    metric: str = "euclidean",
    window_length: int | None = None,
    n_resamples: int | None = None,
) -> float | Estimate:
    """Estimate the entropy of the distribution that produced a sample.

    Parameters
    ----------
    x : array_like, optional
        Samples: continuous points of shape (n,) or (n, d), or discrete labels (see
        :mod:`kullback.estimate` for how ``kind="auto"`` decides). Give ``x`` or ``counts``.
    counts : array_like, optional
        A histogram of whole-number counts (discrete). Zeros count as outcomes of the alphabet.
    kind : {"auto", "continuous", "discrete"}
    method : str
        Discrete: ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"james_stein"``, ``"nsb"``; continuous: ``"knn"`` (Kozachenko-Leonenko),
        ``"spacing"`` (1-D). ``"auto"`` picks ``"grassberger"`` or ``"knn"``. ``"kl"`` is a
        deprecated name of ``"knn"``.
    base : None, number or str
        Unit of the result (default nats); applied last.
    k : int
        Neighbour order of the kNN estimator.
    ci : float, optional
        Confidence level; if given an :class:`~kullback.Estimate` is returned instead of a
        float, with ``low <= value <= high``.
    random_state : int, numpy.random.Generator or None
        Seeds the bootstrap, the grouped standard error and the jitter.
    alphabet_size : int, optional
        Number of possible outcomes K (required by ``"nsb"``; used by ``"james_stein"`` and
        with ``pseudocount``). Any size: unseen outcomes are never allocated.
    pseudocount : float, optional
        With ``method="plugin"``: add this to every count of the K-outcome alphabet first.
    jitter : bool or float, optional
        Opt-in tie breaking for continuous data with duplicate points (see module notes).
    metric : {"euclidean", "chebyshev"}
        Distance of the kNN estimator.
    window_length : int, optional
        The m of the ``"spacing"`` estimator (default ``round(sqrt(n))``).
    n_resamples : int, optional
        Bootstrap replicates (discrete, default 1000) or random partitions (continuous,
        default 5) for ``ci``.

    Returns
    -------
    float or Estimate

    Raises
    ------
    ValueError
        Empty sample, NaN/inf, negative counts, fewer than k + 1 points, duplicate points
        (kNN), an unknown method or option.

    Examples
    --------
    >>> from kullback import estimate
    >>> c = [7, 4, 2, 1, 1, 1, 0]
    >>> round(estimate.entropy(counts=c, method="plugin"), 6)
    1.488036
    >>> round(estimate.entropy(counts=c, method="miller_madow"), 6)
    1.644286
    >>> round(estimate.entropy(counts=c, method="nsb", alphabet_size=7), 3)
    1.636
    >>> e = estimate.entropy(counts=c, method="nsb", alphabet_size=7, ci=0.9, base="bits")
    >>> e.unit, e.interval, e.low < e.value < e.high
    ('bits', 'posterior', True)
    >>> estimate.entropy(counts=[1e308, 1e308])          # ln 2: no overflow
    0.6931471805599453
    >>> estimate.entropy([1.0, 2.0, 2.0, 5.0], k=1)
    Traceback (most recent call last):
    ...
    ValueError: x: 2 point(s) of the sample coincide with another point, ...
    """
    run = _Run.make(base, ci, random_state, n_resamples)
    k = inp.check_k(k)
    if x is None and counts is None:
        raise ValueError("x: give samples x or a histogram counts=")
    if x is not None and counts is not None:
        raise ValueError("x, counts: give either samples x or counts=, not both")
    if counts is not None:
        if kind not in ("auto", "discrete"):
            raise ValueError(f"kind: counts= is a discrete histogram; got kind={kind!r}")
        inp.reject_options("discrete", jitter=jitter, window_length=window_length)
        return _discrete("entropy", [inp.counts_vector(counts)], method, run, alphabet_size,
                         pseudocount)
    a = inp.as_numpy(x, "x")
    inp.check_nonempty(a, "x")
    if inp.resolve_kind(a, kind, "x") == "discrete":
        inp.reject_options("discrete", jitter=jitter, window_length=window_length)
        counts_x = inp.aligned_counts([inp.discrete_sample(a, "x")], ["x"])
        return _discrete("entropy", counts_x, method, run, alphabet_size, pseudocount)
    inp.reject_options("continuous", alphabet_size=alphabet_size, pseudocount=pseudocount)
    opts = inp.SampleOptions(k, inp.check_metric(metric), window_length)
    return _continuous("entropy", [inp.continuous_sample(a, "x")], method, run, opts, jitter)


def cross_entropy(
    x: Any,
    y: Any,
    *,
    kind: str = "auto",
    method: str = "auto",
    base: Any = None,
    k: int = 3,
    ci: float | None = None,
    random_state: Any = None,
    alphabet_size: int | None = None,
    pseudocount: float | None = None,
    jitter: bool | float | None = None,
    metric: str = "euclidean",
    n_resamples: int | None = None,
) -> float | Estimate:
    """Estimate the cross-entropy H(P, Q) = -E_P[log q] from samples x ~ P and y ~ Q.

    Sizes may differ. Discrete labels are aligned by value; methods ``"plugin"`` (default) and
    ``"miller_madow"``. Continuous samples use the kNN estimator ``"knn"``. Parameters are as
    for :func:`entropy`; see :mod:`kullback.estimate` for formulas and error bars.

    Returns
    -------
    float or Estimate
        ``+inf`` for the discrete plug-in when x has an outcome that y never shows (unless
        ``pseudocount=`` is given).

    Examples
    --------
    >>> from kullback import estimate
    >>> estimate.cross_entropy(["a", "b"], ["a", "a", "c"])
    inf
    >>> round(estimate.cross_entropy(["a", "b"], ["a", "a", "c"], pseudocount=0.5), 6)
    1.350521
    >>> e = estimate.cross_entropy(["a", "b"], ["a", "a", "c"], pseudocount=0.5, ci=0.95)
    >>> e.pseudocount
    0.5
    """
    return _two_sample(
        "cross_entropy", x, y, kind=kind, method=method, base=base, k=k, ci=ci,
        random_state=random_state, alphabet_size=alphabet_size, pseudocount=pseudocount,
        jitter=jitter, metric=metric, n_resamples=n_resamples,
    )


def kl_divergence(
    x: Any,
    y: Any,
    *,
    kind: str = "auto",
    method: str = "auto",
    base: Any = None,
    k: int = 3,
    ci: float | None = None,
    random_state: Any = None,
    alphabet_size: int | None = None,
    pseudocount: float | None = None,
    jitter: bool | float | None = None,
    metric: str = "euclidean",
    n_resamples: int | None = None,
) -> float | Estimate:
    """Estimate the Kullback-Leibler divergence D(P || Q) from samples x ~ P and y ~ Q.

    Sizes may differ. Discrete labels: ``"plugin"`` (default; the core's KL of the empirical
    distributions, never negative; +inf if x shows an outcome y never does, unless
    ``pseudocount=``) or ``"miller_madow"``. Continuous samples: the Wang-Kulkarni-Verdu kNN
    estimator ``"knn"``, correct for n != m (it may be negative when P ~ Q, and is biased in
    higher dimensions: see :mod:`kullback.estimate`); points that x and y share are the same
    observations and are excluded from each other's neighbours, so ``kl_divergence(x, x)``
    is 0. Parameters are as for :func:`entropy`.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> import numpy as np
    >>> from kullback import estimate
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(0.0, 1.0, 20000)
    >>> y = rng.normal(1.0, 1.0, 5000)  # D(N(0,1) || N(1,1)) = 0.5 nats
    >>> round(estimate.kl_divergence(x, y), 1)
    0.5
    >>> e = estimate.kl_divergence(x, y, ci=0.95, random_state=0)
    >>> e.interval, bool(e.low < 0.5 < e.high)
    ('grouped', True)
    >>> estimate.kl_divergence(x, x)
    0.0
    >>> round(estimate.kl_divergence([0, 0, 1, 1], [0, 1, 1, 1], base=2), 6)
    0.207519
    """
    return _two_sample(
        "kl_divergence", x, y, kind=kind, method=method, base=base, k=k, ci=ci,
        random_state=random_state, alphabet_size=alphabet_size, pseudocount=pseudocount,
        jitter=jitter, metric=metric, n_resamples=n_resamples,
    )


def mutual_information(
    x: Any,
    y: Any,
    *,
    kind: str = "auto",
    method: str = "auto",
    base: Any = None,
    k: int = 3,
    ci: float | None = None,
    random_state: Any = None,
    jitter: bool | float | None = None,
    n_resamples: int | None = None,
) -> float | Estimate:
    """Estimate the mutual information I(X; Y) from paired samples (x_i, y_i).

    Discrete labels (x and y of any label types; 2-D arrays are joint outcomes): the
    contingency table's plug-in MI ``KL(p(x, y) || p(x) p(y))`` computed by the core (never
    negative; the default), ``"miller_madow"`` (plug-in + (K_x + K_y - K_xy - 1)/(2N)),
    ``"grassberger"`` (the plug-in plus Grassberger's corrections of H(X) + H(Y) - H(X, Y))
    and ``"james_stein"`` (the MI of the table shrunk toward uniform). Continuous points of
    shape (n,) or (n, d_x) and (n,) or (n, d_y): the Kraskov-Stögbauer-Grassberger estimator
    ``"ksg"`` (algorithm 1, max-norm, k neighbours), for any n > k, d_x and d_y.

    Parameters
    ----------
    x, y : array_like
        Paired samples with the same number of rows.
    kind, method, base, k, ci, random_state, jitter, n_resamples
        As for :func:`entropy`; ``ci`` uses the delta method (plug-in, Miller-Madow), the
        bootstrap of the table (Grassberger, James-Stein) or disjoint groups of pairs (KSG).

    Returns
    -------
    float or Estimate
        Bias-corrected estimates (Miller-Madow, Grassberger, KSG) can be slightly negative when
        X and Y are independent; they are returned as the formula gives them.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback import estimate
    >>> round(estimate.mutual_information(["a", "a", "b", "b"], [0, 0, 1, 1], base=2), 12)
    1.0
    >>> estimate.mutual_information(["a", "a", "b", "b"], [0, 1, 0, 1])          # independent
    0.0
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> y = 0.8 * x + 0.6 * rng.normal(size=4000)   # rho = 0.8: I = -log(0.36)/2 = 0.511
    >>> round(estimate.mutual_information(x, y), 1)
    0.5
    """
    run = _Run.make(base, ci, random_state, n_resamples)
    k = inp.check_k(k)
    a, b, kind = _pair(x, y, kind)
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"x, y: paired samples need the same number of points; x has {a.shape[0]}, "
            f"y has {b.shape[0]}"
        )
    if kind == "discrete":
        inp.reject_options("discrete", jitter=jitter)
        table = inp.contingency_table(inp.discrete_sample(a, "x"), inp.discrete_sample(b, "y"))
        return _discrete("mutual_information", [table], method, run)
    samples = [inp.continuous_sample(a, "x"), inp.continuous_sample(b, "y")]
    opts = inp.SampleOptions(k, "chebyshev")
    return _continuous("mutual_information", samples, method, run, opts, jitter, paired=True)
