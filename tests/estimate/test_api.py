"""Tests for kullback.estimate: sample estimators of entropy, cross-entropy and KL.

Oracles: shared/reference/distributions.json (estimator_fixtures, mpmath / brute force),
closed-form Gaussian entropies and divergences, scipy.stats.entropy for plug-in values,
mpmath quadrature for NSB, Monte Carlo over Dirichlet posteriors, and brute-force distance
matrices written out here. Statistical tests are seeded; tolerances are stated with their
standard deviations.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats

from kullback import estimate
from kullback.estimate import Estimate

LN2 = math.log(2.0)
H_STD_NORMAL_1D = 0.5 * math.log(2 * math.pi * math.e)


def gauss_kl(mu_p, s_p, mu_q, s_q, d=1):
    """D(N(mu_p, s_p^2 I) || N(mu_q, s_q^2 I)) in nats."""
    return d * (math.log(s_q / s_p) + (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2) - 0.5)


def gauss_cross(mu_p, s_p, mu_q, s_q):
    return 0.5 * math.log(2 * math.pi * s_q**2) + (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2)


# ------------------------------------------------------------------ discrete fixtures
@pytest.fixture(scope="module")
def fixtures(distributions_reference):
    return distributions_reference["estimator_fixtures"]


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("plugin", "ML"),
        ("miller_madow", "MillerMadow"),
        ("grassberger", "Grassberger2003"),
        ("chao_shen", "ChaoShen"),
        ("james_stein", "JamesStein_K7"),
    ],
)
def test_discrete_fixture_from_counts(fixtures, method, key):
    fx = fixtures["discrete"]
    got = estimate.entropy(counts=fx["counts"], method=method)
    assert got == pytest.approx(float(fx[key]), abs=1e-12, rel=0)


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("plugin", "ML"),
        ("miller_madow", "MillerMadow"),
        ("grassberger", "Grassberger2003"),
        ("chao_shen", "ChaoShen"),
    ],
)
def test_discrete_fixture_from_labels(fixtures, method, key):
    fx = fixtures["discrete"]
    labels = [f"s{i}" for i, c in enumerate(fx["counts"]) for _ in range(c)]
    rng = np.random.default_rng(0)
    rng.shuffle(labels)
    assert estimate.entropy(labels, method=method) == pytest.approx(float(fx[key]), abs=1e-12)
    # integers and a 2-D array of joint outcomes give the same histogram
    ints = np.array([int(s[1:]) for s in labels])
    assert estimate.entropy(ints, method=method) == pytest.approx(float(fx[key]), abs=1e-12)
    joint = np.stack([ints // 2, ints % 2], axis=1)
    assert estimate.entropy(joint, method=method) == pytest.approx(float(fx[key]), abs=1e-12)


def test_james_stein_target_alphabet(fixtures):
    fx = fixtures["discrete"]
    observed = [c for c in fx["counts"] if c > 0]
    labels = [i for i, c in enumerate(observed) for _ in range(c)]
    # shrinking toward 1/K_obs (only observed symbols) vs 1/K with the unseen symbol
    k6 = estimate.entropy(labels, method="james_stein")
    k7 = estimate.entropy(labels, method="james_stein", alphabet_size=7)
    assert k6 == pytest.approx(float(fx["JamesStein_Kobs6"]), abs=1e-12)
    assert k7 == pytest.approx(float(fx["JamesStein_K7"]), abs=1e-12)
    from kullback.estimate._discrete import james_stein_lambda

    c = np.array(fx["counts"], dtype=float)
    assert james_stein_lambda(c, 7)[0] == pytest.approx(float(fx["JamesStein_lambda"]), abs=1e-14)
    lam6 = james_stein_lambda(c[c > 0], 6)[0]
    assert lam6 == pytest.approx(float(fx["JamesStein_Kobs6_lambda"]), abs=1e-14)


def test_grassberger_is_the_2003_form_not_1988(fixtures):
    fx = fixtures["discrete"]
    got = estimate.entropy(counts=fx["counts"], method="grassberger")
    assert abs(got - float(fx["Grassberger1988"])) > 1e-3


# ------------------------------------------------------------------------------ NSB
def _nsb_mpmath(counts, k):
    """NSB posterior mean by mpmath quadrature over beta (independent implementation)."""
    with mp.workdps(20):
        return _nsb_mpmath_at(counts, k)


def _nsb_mpmath_at(counts, k):
    counts = [mp.mpf(c) for c in counts] + [mp.mpf(0)] * (k - len(counts))
    n = sum(counts)

    def log_evidence(b):
        return (
            mp.loggamma(k * b)
            - mp.loggamma(n + k * b)
            + sum(mp.loggamma(c + b) - mp.loggamma(b) for c in counts)
        )

    def mean_h(b):
        a_tot = n + k * b
        return mp.digamma(a_tot + 1) - sum((c + b) / a_tot * mp.digamma(c + b + 1) for c in counts)

    def prior(b):  # d xi / d beta
        return k * mp.polygamma(1, k * b + 1) - mp.polygamma(1, b + 1)

    # the evidence is maximal near the data's beta; normalise there to keep numbers moderate
    ref = log_evidence(mp.mpf(1))

    def w(b):
        return mp.exp(log_evidence(b) - ref) * prior(b)

    pts = [0, mp.mpf("0.01"), mp.mpf("0.1"), 1, 10, 100, mp.inf]
    z = mp.quad(w, pts)
    return float(mp.quad(lambda b: w(b) * mean_h(b), pts) / z)


@pytest.mark.parametrize(
    ("counts", "k"),
    [([7, 4, 2, 1, 1, 1, 0], 7), ([5, 3, 1, 1], 10), ([2, 1, 1, 1, 1], 40), ([20, 18, 25], 3)],
)
def test_nsb_matches_mpmath_quadrature(counts, k):
    got = estimate.entropy(counts=counts, method="nsb", alphabet_size=k)
    assert got == pytest.approx(_nsb_mpmath([c for c in counts], k), abs=1e-8)


def test_dirichlet_posterior_moments_monte_carlo():
    from kullback.estimate._nsb import _histogram_of_counts, dirichlet_entropy_moments

    counts = np.array([7.0, 4, 2, 1, 1, 1, 0])
    beta = 0.7
    vals, mult = _histogram_of_counts(counts, 9)  # two more unseen outcomes
    mean, second = dirichlet_entropy_moments(vals, mult, np.array([beta]))
    rng = np.random.default_rng(3)
    alpha = np.concatenate([counts, [0, 0]]) + beta
    probs = rng.dirichlet(alpha, size=200_000)
    h = -(probs * np.log(probs)).sum(axis=1)
    # Monte Carlo standard errors: sd(h)/sqrt(R) ~ 6e-4 and sd(h^2)/sqrt(R) ~ 2e-3
    assert mean[0] == pytest.approx(h.mean(), abs=4 * h.std() / math.sqrt(h.size))
    assert second[0] == pytest.approx((h**2).mean(), abs=4 * (h**2).std() / math.sqrt(h.size))


def test_nsb_needs_alphabet_size():
    with pytest.raises(ValueError, match="alphabet_size"):
        estimate.entropy(counts=[3, 2, 1], method="nsb")


# -------------------------------------------------------------------- kNN fixtures
def test_knn_fixtures(fixtures):
    for fx in fixtures["knn"]:
        x = np.array(fx["x"], dtype=float)
        if "y" in fx:
            got = estimate.kl_divergence(x, np.array(fx["y"], dtype=float), k=fx["k"])
        else:
            got = estimate.entropy(x, k=fx["k"], method="knn")
        assert got == pytest.approx(float(fx["value"]), abs=1e-12), fx["id"]


def _brute_kth(a, b, k, p, exclude_self):
    dist = np.linalg.norm(a[:, None, :] - b[None, :, :], ord=p, axis=-1)
    if exclude_self:
        dist = dist + np.diag(np.full(a.shape[0], np.inf))
    return np.sort(dist, axis=1)[:, k - 1]


@pytest.mark.parametrize("metric", ["euclidean", "chebyshev"])
def test_knn_brute_force_2d(metric):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(40, 3))
    y = rng.normal(0.3, 1.2, size=(25, 3))
    k, d, n, m = 2, 3, 40, 25
    p = 2 if metric == "euclidean" else np.inf
    logv = (
        1.5 * math.log(math.pi) - math.lgamma(2.5) if metric == "euclidean" else 3 * math.log(2)
    )
    rho = _brute_kth(x, x, k, p, True)
    nu = _brute_kth(x, y, k, p, False)
    psi = scipy.special.digamma
    h = psi(n) - psi(k) + logv + d * np.log(rho).mean()
    hc = psi(m + 1) - psi(k) + logv + d * np.log(nu).mean()
    kl = d * np.log(nu / rho).mean() + math.log(m / (n - 1))
    assert estimate.entropy(x, k=k, metric=metric) == pytest.approx(h, abs=1e-12)
    assert estimate.cross_entropy(x, y, k=k, metric=metric) == pytest.approx(hc, abs=1e-12)
    assert estimate.kl_divergence(x, y, k=k, metric=metric) == pytest.approx(kl, abs=1e-12)
    assert estimate.kl_divergence(x, y, k=k, metric=metric, base=2) == pytest.approx(
        kl / LN2, abs=1e-12
    )


def test_spacing_brute_force():
    rng = np.random.default_rng(5)
    x = rng.gamma(2.0, size=57)
    m = 4
    xs = sorted(x)
    n = len(xs)
    total = 0.0
    for i in range(n):  # Vasicek's window clamped at the ends, digamma per window width
        lo, hi = max(i - m, 0), min(i + m, n - 1)
        total += math.log(xs[hi] - xs[lo]) - float(scipy.special.digamma(hi - lo))
    want = total / n + float(scipy.special.digamma(n + 1))
    got = estimate.entropy(x, method="spacing", window_length=m)
    assert got == pytest.approx(want, abs=1e-12)


def test_spacing_unbiased_for_uniform():
    # exactly unbiased for U(0, 1) (entropy 0): mean of 400 estimates at n = 50;
    # per-estimate sd ~ 0.1, so the mean's sd ~ 0.005 and 4 sd = 0.02
    rng = np.random.default_rng(8)
    vals = [estimate.entropy(rng.random(50), method="spacing") for _ in range(400)]
    assert abs(np.mean(vals)) < 4 * np.std(vals) / math.sqrt(len(vals))


# ------------------------------------------------------------ accuracy (continuous)
def test_gaussian_1d_entropy_n10000():
    rng = np.random.default_rng(20)
    x = rng.normal(2.0, 3.0, size=10_000)
    truth = H_STD_NORMAL_1D + math.log(3.0)
    assert abs(estimate.entropy(x) - truth) < 0.05
    assert abs(estimate.entropy(x, method="spacing") - truth) < 0.05
    assert abs(estimate.entropy(x, metric="chebyshev") - truth) < 0.05


@pytest.mark.parametrize(("n", "m"), [(10_000, 10_000), (10_000, 2_000), (2_000, 10_000)])
def test_gaussian_1d_kl_and_cross_entropy_n_ne_m(n, m):
    rng = np.random.default_rng(n + 7 * m)
    x = rng.normal(0.0, 1.0, size=n)
    y = rng.normal(0.5, 1.5, size=m)
    # an estimator that uses n where m belongs is off by log(n/m) ~ 1.6 here
    assert abs(estimate.kl_divergence(x, y) - gauss_kl(0, 1, 0.5, 1.5)) < 0.05
    assert abs(estimate.cross_entropy(x, y) - gauss_cross(0, 1, 0.5, 1.5)) < 0.05


def test_d5_bias_shrinks_with_n():
    # Documented: correct kNN code is still several hundredths of a nat off in d = 5.
    rng = np.random.default_rng(31)
    truth = gauss_kl(0, 1, 0.5, 1.5, d=5)
    h_truth = 5 * H_STD_NORMAL_1D

    def mean_err(n, reps):
        kl, h = [], []
        for _ in range(reps):
            x = rng.normal(size=(n, 5))
            y = rng.normal(0.5, 1.5, size=(n, 5))
            kl.append(estimate.kl_divergence(x, y) - truth)
            h.append(estimate.entropy(x) - h_truth)
        return np.mean(kl), np.mean(h)

    kl_small, h_small = mean_err(500, 12)  # sd of the means ~ 0.02
    kl_big, h_big = mean_err(20_000, 2)  # sd of the means ~ 0.005
    assert abs(kl_big) < abs(kl_small)
    assert abs(h_big) < abs(h_small)
    assert abs(kl_big) < 0.17
    assert abs(h_big) < 0.17


# ---------------------------------------------------------------------- intervals
def test_discrete_entropy_interval_coverage():
    # 300 repeats: if coverage were 0.95 the observed rate has sd sqrt(.95 * .05 / 300) = 0.013;
    # [0.90, 0.99] is > 3 sd either side and leaves room for the plug-in's small bias.
    p = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02])
    truth = -(p * np.log(p)).sum()
    rng = np.random.default_rng(2024)
    methods = ["plugin", "miller_madow", "grassberger", "chao_shen", "james_stein", "nsb"]
    hits = dict.fromkeys(methods, 0)
    reps = 300
    for r in range(reps):
        c = rng.multinomial(400, p)
        for method in methods:
            e = estimate.entropy(
                counts=c, method=method, ci=0.95, alphabet_size=8, random_state=r,
                n_resamples=200,
            )
            hits[method] += e.low < truth < e.high
    for method, h in hits.items():
        assert 0.90 <= h / reps <= 0.99, (method, h / reps)


def test_discrete_kl_interval_coverage():
    p = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02])
    q = np.array([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])
    truth = float((p * np.log(p / q)).sum())
    rng = np.random.default_rng(99)
    reps, hits = 300, {"plugin": 0, "miller_madow": 0}
    for _ in range(reps):
        x = rng.choice(8, size=1000, p=p)
        y = rng.choice(8, size=800, p=q)
        for method in hits:
            e = estimate.kl_divergence(x, y, method=method, ci=0.95)
            hits[method] += e.low < truth < e.high
    for method, h in hits.items():
        assert 0.90 <= h / reps <= 0.99, (method, h / reps)


def test_continuous_interval_coverage():
    # 100 repeats: sd of the observed rate at 0.95 is 0.022; [0.85, 1.0] is > 4 sd below.
    rng = np.random.default_rng(77)
    kl_truth = gauss_kl(0, 1, 0.5, 1.5)
    reps, h_hits, kl_hits = 100, 0, 0
    for r in range(reps):
        x = rng.normal(size=600)
        y = rng.normal(0.5, 1.5, size=400)
        e = estimate.entropy(x, ci=0.95, random_state=r)
        h_hits += e.low < H_STD_NORMAL_1D < e.high
        e = estimate.kl_divergence(x, y, ci=0.95, random_state=r)
        kl_hits += e.low < kl_truth < e.high
    assert h_hits / reps >= 0.85
    assert kl_hits / reps >= 0.85


def test_estimate_fields_units_and_reproducibility():
    rng = np.random.default_rng(1)
    x = rng.normal(size=800)
    a = estimate.entropy(x, ci=0.9, random_state=5, base="bits")
    b = estimate.entropy(x, ci=0.9, random_state=5, base="bits")
    nats = estimate.entropy(x, ci=0.9, random_state=5)
    assert isinstance(a, Estimate) and a == b
    assert a.unit == "bits" and nats.unit == "nats"
    assert a.value == pytest.approx(estimate.entropy(x) / LN2, abs=1e-12)
    assert a.stderr == pytest.approx(nats.stderr / LN2, rel=1e-12)
    z = scipy.stats.norm.ppf(0.95)
    assert a.high - a.value == pytest.approx(z * a.stderr, rel=1e-9)
    assert a.method == "knn" and a.interval == "grouped" and a.confidence == 0.9
    assert float(a) == a.value


def test_plugin_delta_interval():
    c = np.array([50, 30, 20])
    p = c / c.sum()
    var = ((p * np.log(p) ** 2).sum() - scipy.stats.entropy(p) ** 2) / c.sum()
    e = estimate.entropy(counts=c, method="plugin", ci=0.95)
    assert e.interval == "delta"
    assert e.stderr == pytest.approx(math.sqrt(var), rel=1e-12)


# ------------------------------------------------------------ discrete two-sample
def test_label_kl_aligns_by_label_and_matches_scipy():
    x = ["b", "a", "a", "c", "b", "a"]
    y = ["c", "a", "b", "b", "c", "c", "a"]
    p = np.array([3, 2, 1]) / 6  # a, b, c
    q = np.array([2, 2, 3]) / 7
    assert estimate.kl_divergence(x, y) == pytest.approx(scipy.stats.entropy(p, q), abs=1e-14)
    assert estimate.cross_entropy(x, y, base=2) == pytest.approx(
        -(p * np.log2(q)).sum(), abs=1e-14
    )


def test_unseen_outcome_is_infinite_unless_pseudocount():
    x = [0, 1, 2, 2]
    y = [0, 0, 1, 1, 1]
    assert estimate.kl_divergence(x, y) == math.inf
    assert estimate.cross_entropy(x, y) == math.inf
    e = estimate.kl_divergence(x, y, ci=0.95)
    assert e.value == math.inf and e.high == math.inf and e.pseudocount is None
    # add 0.5 to every outcome of the alphabet {0, 1, 2, 3} (alphabet_size pads one unseen)
    cx = np.array([1, 1, 2, 0]) + 0.5
    cy = np.array([2, 3, 0, 0]) + 0.5
    want = scipy.stats.entropy(cx / cx.sum(), cy / cy.sum())
    e = estimate.kl_divergence(x, y, pseudocount=0.5, alphabet_size=4, ci=0.95)
    assert e.value == pytest.approx(want, abs=1e-14)
    assert e.pseudocount == 0.5 and math.isfinite(e.high)


def test_miller_madow_kl_reduces_bias():
    p = np.array([0.4, 0.3, 0.2, 0.1])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    truth = float((p * np.log(p / q)).sum())
    rng = np.random.default_rng(4)
    plug, mm = [], []
    for _ in range(400):
        x = rng.choice(4, size=150, p=p)
        y = rng.choice(4, size=100, p=q)
        plug.append(estimate.kl_divergence(x, y))
        mm.append(estimate.kl_divergence(x, y, method="miller_madow"))
    # plug-in bias ~ +0.025 here; mean sd ~ 0.035/sqrt(400) = 0.002
    assert abs(np.mean(mm) - truth) < abs(np.mean(plug) - truth) / 2


def test_entropy_pseudocount_plugin():
    c = np.array([3, 0, 1])
    want = scipy.stats.entropy((c + 1.0) / (c + 1.0).sum())
    assert estimate.entropy(counts=c, method="plugin", pseudocount=1) == pytest.approx(want)
    e = estimate.entropy(counts=c, method="plugin", pseudocount=1, ci=0.9, random_state=0)
    assert e.pseudocount == 1.0 and e.interval == "bootstrap"


# ------------------------------------------------------------------ array inputs
def test_lists_and_float32():
    x = np.random.default_rng(2).normal(size=(300, 2))
    want = estimate.entropy(x)
    assert estimate.entropy(x.tolist()) == pytest.approx(want, abs=1e-12)
    assert estimate.entropy(x.astype(np.float32)) == pytest.approx(want, abs=1e-5)


def test_torch_and_jax_inputs():
    x = np.random.default_rng(2).normal(size=(300, 2))
    want = estimate.entropy(x)
    torch = pytest.importorskip("torch")
    assert estimate.entropy(torch.asarray(x)) == pytest.approx(want, abs=1e-12)
    with pytest.raises(TypeError, match="detach"):
        estimate.entropy(torch.asarray(x).requires_grad_())
    jnp = pytest.importorskip("jax.numpy")
    assert estimate.entropy(jnp.asarray(x)) == pytest.approx(want, abs=1e-12)


def test_dask_input_is_refused():
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="compute"):
        estimate.entropy(da.from_array(np.arange(10.0)))


# ---------------------------------------------------------------------- bad input
def test_duplicates_raise_with_count_and_jitter_is_opt_in():
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.5, 3.5, 3.5, 7.0])
    with pytest.raises(ValueError, match=r"x: 5 point\(s\).*jitter=True"):
        estimate.entropy(x, k=1)
    a = estimate.entropy(x, k=1, jitter=True, random_state=1)
    b = estimate.entropy(x, k=1, jitter=True, random_state=1)
    assert a == b and math.isfinite(a)
    # the jitter is scaled to the data: 1e-10 x sd, so the estimate scales with the data
    c = estimate.entropy(1000 * x, k=1, jitter=True, random_state=1)
    assert c - a == pytest.approx(math.log(1000), abs=1e-6)
    with pytest.raises(ValueError, match="coincide"):
        estimate.kl_divergence(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 5.0]), k=2)
    with pytest.raises(ValueError, match="jitter"):
        estimate.entropy(np.arange(5.0), jitter=-1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: estimate.entropy(np.arange(3.0), k=3), "x: 3 point.*k \\+ 1 = 4"),
        (lambda: estimate.kl_divergence(np.arange(9.0), np.arange(2.0) + 0.5), "y: 2 point"),
        (lambda: estimate.entropy(np.array([0.0, np.nan, 1.0, 2.0, 3.0])), "x: 1 NaN/inf"),
        (lambda: estimate.kl_divergence(np.arange(9.0), [0.5, np.inf, 2.0, 3.0]), "y: 1 NaN"),
        (
            lambda: estimate.kl_divergence(np.zeros((9, 2)) + np.arange(9)[:, None],
                                           np.ones((9, 3))),
            "x, y: .*d = 2.*d = 3",
        ),
        (lambda: estimate.entropy(np.array([])), "x: the sample is empty"),
        (lambda: estimate.entropy([]), "x: the sample is empty"),
        (lambda: estimate.kl_divergence(["a"], []), "y: the sample is empty"),
        (lambda: estimate.entropy(np.array(3.0)), "x: expected a sample"),
        (lambda: estimate.entropy([1, 2, 2], jitter=True), "jitter: only applies to continuous"),
        (lambda: estimate.entropy(counts=[3, -1, 2]), "counts: negative count -1.0 at index 1"),
        (lambda: estimate.entropy(counts=[0, 0]), "counts: all counts are zero"),
        (lambda: estimate.entropy(counts=[1.5, 2]), "counts: .*whole-number"),
        (lambda: estimate.entropy(counts=[1, 2], method="nope"), "method: unknown method 'nope'"),
        (lambda: estimate.entropy(np.arange(9.0), method="grassberger"), "method: unknown"),
        (lambda: estimate.kl_divergence([1, 2], [1, 2], method="nsb"), "method: unknown"),
        (lambda: estimate.entropy(np.arange(9.0), metric="cosine"), "metric"),
        (lambda: estimate.entropy(np.arange(9.0), kind="fuzzy"), "kind"),
        (lambda: estimate.entropy(np.arange(9.0), ci=95), "ci"),
        (lambda: estimate.entropy(np.arange(9.0), k=0), "k: expected a positive integer"),
        (lambda: estimate.entropy(counts=[3, 2, 1], alphabet_size=2), "alphabet_size: 2"),
        (lambda: estimate.entropy(counts=[3, 2], method="grassberger", pseudocount=1),
         "pseudocount"),
        (lambda: estimate.entropy(np.arange(9.0), pseudocount=1), "pseudocount: only applies"),
        (lambda: estimate.entropy(np.arange(9.0).reshape(3, 3), method="spacing"), "1-D"),
        (lambda: estimate.entropy(), "x: give samples"),
        (lambda: estimate.kl_divergence([1, 2, 3], [1.0, 2.0, 3.0]), "kind: x looks discrete"),
        (lambda: estimate.entropy(np.arange(8.0), ci=0.9), "ci: too few samples"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="different types"):
        estimate.kl_divergence(["a", "b"], [1, 2])
    with pytest.raises(TypeError, match="complex"):
        estimate.entropy(np.ones(5, dtype=complex))
    with pytest.raises(TypeError, match="expected an array"):
        estimate.entropy(object())
    with pytest.raises(TypeError, match="expected an array"):
        estimate.entropy(3.0)


@pytest.mark.parametrize("method", ["plugin", "miller_madow", "chao_shen", "james_stein"])
def test_single_outcome_sample_is_zero_entropy(method):
    # one outcome seen, nothing else known: these estimators say 0 (no warnings, no -0.0)
    got = estimate.entropy(["x"] * 5, method=method)
    assert got == 0.0 and math.copysign(1.0, got) == 1.0


def test_grassberger_single_outcome_is_the_formula():
    # log 2 - G(2), G(2) = psi(2) + (psi(3/2) - psi(1))/2: slightly negative, returned as is
    psi = scipy.special.digamma
    want = math.log(2) - (psi(2) + 0.5 * (psi(1.5) - psi(1)))
    got = estimate.entropy(counts=[2, 0, 0], method="grassberger")
    assert got == pytest.approx(want, abs=1e-15)


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    labels = ["a", "b", "a", "c", "a"]
    assert estimate.entropy(pd.Series(labels)) == estimate.entropy(labels)
    x = np.random.default_rng(0).normal(size=200)
    y = x + np.random.default_rng(1).normal(size=200)
    frame = pd.DataFrame({"x": x, "y": y})
    assert estimate.mutual_information(frame["x"], frame["y"]) == estimate.mutual_information(x, y)
    assert estimate.kl_divergence(frame[["x"]], frame[["y"]]) == estimate.kl_divergence(x, y)
