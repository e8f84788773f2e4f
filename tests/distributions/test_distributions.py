"""Tests for kullback.distributions.

Oracles, all independent of the code under test:
* shared/reference/distributions.json: mpmath values at 50 digits;
* torch.distributions.kl_divergence / .entropy and scipy's .entropy() on random parameters;
* scipy.integrate.quad / mpmath sums written here, for pairs neither library covers;
* closed forms cross-checked against this module's own quadrature / summation paths, which
  share no formula with them (they only evaluate scipy's log densities).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from helpers import assert_close
from scipy import stats

import kullback.distributions as kd
from kullback.distributions._closed_forms import REGISTRY

torch = pytest.importorskip("torch")
td = torch.distributions

F64 = torch.float64


def t64(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=F64)


# ----------------------------------------------------------------------------- builders

# reference-record -> scipy frozen (and torch, where torch has the family)


def _scipy_from_ref(s):
    f = s["family"]
    if f == "Normal":
        return stats.norm(s["loc"], s["scale"])
    if f == "Gamma":
        return stats.gamma(s["concentration"], scale=1 / s["rate"])
    if f == "Beta":
        return stats.beta(s["alpha"], s["beta"])
    if f == "Dirichlet":
        return stats.dirichlet(s["concentration"])
    if f == "Poisson":
        return stats.poisson(s["rate"])
    if f == "MultivariateNormal":
        return stats.multivariate_normal(s["loc"], s["covariance_matrix"])
    if f == "LowRankMultivariateNormal":
        w = np.array(s["cov_factor"])
        return stats.multivariate_normal(s["loc"], w @ w.T + np.diag(s["cov_diag"]))
    if f == "MultivariateNormal(diag)":
        return stats.multivariate_normal(s["loc"], np.diag(np.square(s["scale_diag(std)"])))
    if f == "StudentT":
        return stats.t(s["df"], s["loc"], s["scale"])
    if f == "Laplace":
        return stats.laplace(s["loc"], s["scale"])
    if f == "Exponential":
        return stats.expon(scale=1 / s["rate"])
    if f == "Bernoulli":
        return stats.bernoulli(s["probs"])
    if f == "Uniform":
        return stats.uniform(s["low"], s["high"] - s["low"])
    if f == "Gumbel(max)":
        return stats.gumbel_r(s["loc"], s["scale"])
    if f == "Weibull":
        return stats.weibull_min(s["concentration(k)"], scale=s["scale(lambda)"])
    if f == "VonMises":
        return stats.vonmises(s["concentration"], s["loc"])
    if f == "Cauchy":
        return stats.cauchy(s["loc"], s["scale"])
    if f == "LogNormal":
        return stats.lognorm(s["scale(sigma of log)"], scale=math.exp(s["loc(mu of log)"]))
    if f == "Binomial":
        return stats.binom(s["total_count"], s["probs"])
    if f == "Geometric":
        return stats.geom(s["probs"])
    if f == "Categorical":
        return None
    raise KeyError(f)


def _torch_from_ref(s):
    f = s["family"]
    t = t64
    if f == "Normal":
        return td.Normal(t(s["loc"]), t(s["scale"]))
    if f == "Gamma":
        return td.Gamma(t(s["concentration"]), t(s["rate"]))
    if f == "Beta":
        return td.Beta(t(s["alpha"]), t(s["beta"]))
    if f == "Dirichlet":
        return td.Dirichlet(t(s["concentration"]))
    if f == "Poisson":
        return td.Poisson(t(s["rate"]))
    if f == "MultivariateNormal":
        return td.MultivariateNormal(t(s["loc"]), covariance_matrix=t(s["covariance_matrix"]))
    if f == "LowRankMultivariateNormal":
        return td.LowRankMultivariateNormal(t(s["loc"]), t(s["cov_factor"]), t(s["cov_diag"]))
    if f == "MultivariateNormal(diag)":
        return td.Independent(td.Normal(t(s["loc"]), t(s["scale_diag(std)"])), 1)
    if f == "StudentT":
        return td.StudentT(t(s["df"]), t(s["loc"]), t(s["scale"]))
    if f == "Laplace":
        return td.Laplace(t(s["loc"]), t(s["scale"]))
    if f == "Exponential":
        return td.Exponential(t(s["rate"]))
    if f == "Bernoulli":
        return td.Bernoulli(t(s["probs"]))
    if f == "Uniform":
        return td.Uniform(t(s["low"]), t(s["high"]))
    if f == "Gumbel(max)":
        return td.Gumbel(t(s["loc"]), t(s["scale"]))
    if f == "Weibull":
        return td.Weibull(t(s["scale(lambda)"]), t(s["concentration(k)"]))
    if f == "VonMises":
        return td.VonMises(t(s["loc"]), t(s["concentration"]))
    if f == "Cauchy":
        return td.Cauchy(t(s["loc"]), t(s["scale"]))
    if f == "LogNormal":
        return td.LogNormal(t(s["loc(mu of log)"]), t(s["scale(sigma of log)"]))
    if f == "Binomial":
        return td.Binomial(s["total_count"], t(s["probs"]))
    if f == "Geometric":  # same KL for support {0,..} and {1,..}; entropy is shift-invariant
        return td.Geometric(t(s["probs"]))
    if f == "Categorical":
        return td.Categorical(probs=t(s["probs"]))
    raise KeyError(f)


_FN = {"KL": kd.kl_divergence, "entropy": kd.entropy, "cross_entropy": kd.cross_entropy}


@pytest.mark.parametrize("lib", ["scipy", "torch"])
def test_reference_values(distributions_reference, lib):
    """All 43 mpmath values: 1e-12 relative for closed forms, 1e-9 for quadrature / sums."""
    build = _scipy_from_ref if lib == "scipy" else _torch_from_ref
    checked = 0
    for rec in distributions_reference["values"]:
        P = build(rec["P"])
        Q = build(rec["Q"]) if rec["Q"] else None
        if P is None or (rec["Q"] and Q is None):
            continue
        fn = _FN[rec["quantity"]]
        res = fn(P, return_error=True) if Q is None else fn(P, Q, return_error=True)
        got = float(res.value)
        ref = float(rec["value"])
        if math.isinf(ref):
            assert got == math.inf, rec["id"]
        else:
            tol = 1e-12 if res.method == "closed" else 1e-9
            assert got == pytest.approx(ref, rel=tol, abs=0), (rec["id"], res.method)
            assert float(res.error) <= max(tol * abs(ref), 1e-14), rec["id"]
        checked += 1
    assert checked >= (43 if lib == "torch" else 42)


def test_reference_has_43_values(distributions_reference):
    assert len(distributions_reference["values"]) == 43


# ----------------------------------------------------------------------------- torch registry

RNG = np.random.default_rng(20240605)
B = (4,)


@pytest.fixture(autouse=True)
def _deterministic_rng(request):
    """Each test draws from its own seeded generator, so its random parameters do not depend
    on which tests ran before it in the same worker (pytest-xdist distributes them freely)."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def _u(lo, hi, shape=B):
    return t64(RNG.uniform(lo, hi, size=shape))


def _torch_makers():
    """family name -> a factory of random torch distributions with batch shape B."""
    return {
        "Normal": lambda: td.Normal(_u(-1, 1), _u(0.5, 2)),
        "Laplace": lambda: td.Laplace(_u(-1, 1), _u(0.5, 2)),
        "Cauchy": lambda: td.Cauchy(_u(-1, 1), _u(0.5, 2)),
        "Gumbel": lambda: td.Gumbel(_u(-1, 1), _u(0.5, 2)),
        "Exponential": lambda: td.Exponential(_u(0.5, 2)),
        "Gamma": lambda: td.Gamma(_u(0.5, 3), _u(0.5, 2)),
        "Beta": lambda: td.Beta(_u(0.5, 3), _u(0.5, 3)),
        "Pareto": lambda: td.Pareto(_u(0.5, 1.5), _u(2.5, 4)),
        "HalfNormal": lambda: td.HalfNormal(_u(0.5, 2)),
        "LogNormal": lambda: td.LogNormal(_u(-1, 1), _u(0.5, 2)),
        "Uniform": lambda: td.Uniform(_u(0.1, 0.4), _u(0.6, 0.9)),
        "Bernoulli": lambda: td.Bernoulli(_u(0.05, 0.95)),
        "Binomial": lambda: td.Binomial(7, _u(0.05, 0.95)),
        "Poisson": lambda: td.Poisson(_u(0.5, 5)),
        "Geometric": lambda: td.Geometric(_u(0.1, 0.9)),
    }


# every pair torch registers among the families above (ContinuousBernoulli,
# ExponentialFamily and TransformedDistribution entries are torch-internal)
def _torch_pairs():
    from torch.distributions.kl import _KL_REGISTRY

    names = set(_torch_makers())
    return sorted((p.__name__, q.__name__) for p, q in _KL_REGISTRY
                  if p.__name__ in names and q.__name__ in names)


def test_torch_pairs_are_covered():
    pairs = _torch_pairs()
    assert len(pairs) >= 60
    fam = {"Exponential": "gamma", "Gumbel": "gumbel", "HalfNormal": "halfnormal",
           "LogNormal": "lognormal"}
    for p, q in pairs:
        key = (fam.get(p, p.lower()), fam.get(q, q.lower()))
        assert key in REGISTRY, key


@pytest.mark.parametrize("pair", _torch_pairs(), ids="||".join)
def test_kl_matches_torch(pair):
    makers = _torch_makers()
    P, Q = makers[pair[0]](), makers[pair[1]]()
    expected = td.kl_divergence(P, Q)
    got = kd.kl_divergence(P, Q, method="closed")
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape
    exp_np, got_np = expected.numpy(), got.numpy()
    assert np.array_equal(np.isinf(exp_np), np.isinf(got_np)), (exp_np, got_np)
    fin = np.isfinite(exp_np)
    np.testing.assert_allclose(got_np[fin], exp_np[fin], rtol=1e-9, atol=1e-12)
    assert not np.isnan(got_np).any()


def test_kl_matches_torch_multivariate():
    L = torch.linalg.cholesky
    a = t64(RNG.normal(size=(3, 4, 4)))
    cov1 = a @ a.mT + 4 * torch.eye(4, dtype=F64)
    b = t64(RNG.normal(size=(4, 4)))
    cov2 = b @ b.mT + torch.eye(4, dtype=F64)
    P = td.MultivariateNormal(t64(RNG.normal(size=(3, 4))), scale_tril=L(cov1))
    Q = td.MultivariateNormal(t64(RNG.normal(size=4)), covariance_matrix=cov2)
    R = td.LowRankMultivariateNormal(t64(RNG.normal(size=4)), t64(RNG.normal(size=(4, 2))),
                                     _u(0.5, 2, (4,)))
    for X, Y in [(P, Q), (Q, P), (R, Q), (Q, R), (R, R)]:
        np.testing.assert_allclose(kd.kl_divergence(X, Y).numpy(),
                                   td.kl_divergence(X, Y).numpy(), rtol=1e-10, atol=1e-14)
    D1 = td.Dirichlet(_u(0.5, 3, (3, 5)))
    D2 = td.Dirichlet(_u(0.5, 3, (5,)))
    np.testing.assert_allclose(kd.kl_divergence(D1, D2).numpy(),
                               td.kl_divergence(D1, D2).numpy(), rtol=1e-10)
    C1 = td.Categorical(logits=t64(RNG.normal(size=(3, 6))))
    C2 = td.Categorical(logits=t64(RNG.normal(size=6)))
    np.testing.assert_allclose(kd.kl_divergence(C1, C2).numpy(),
                               td.kl_divergence(C1, C2).numpy(), rtol=1e-10)
    I1 = td.Independent(td.Gamma(_u(1, 3, (2, 3)), _u(1, 2, (2, 3))), 1)
    I2 = td.Independent(td.Gamma(_u(1, 3, (3,)), _u(1, 2, (3,))), 1)
    np.testing.assert_allclose(kd.kl_divergence(I1, I2).numpy(),
                               td.kl_divergence(I1, I2).numpy(), rtol=1e-10)
    # Independent(Normal, 1) against a dense MVN: torch has no such pair; compare with the dense
    diag = td.Independent(td.Normal(t64(RNG.normal(size=4)), _u(0.5, 2, (4,))), 1)
    dense = td.MultivariateNormal(diag.mean, covariance_matrix=torch.diag(diag.variance))
    np.testing.assert_allclose(kd.kl_divergence(diag, Q).numpy(),
                               td.kl_divergence(dense, Q).numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", [*sorted(_torch_makers()), "StudentT", "VonMises", "Weibull",
                                  "Dirichlet", "MVN", "Categorical"])
def test_entropy_matches_torch(name):
    makers = {
        **_torch_makers(),
        "StudentT": lambda: td.StudentT(_u(1.5, 6), _u(-1, 1), _u(0.5, 2)),
        "VonMises": lambda: td.VonMises(_u(-1, 1), _u(0.1, 30)),
        "Weibull": lambda: td.Weibull(_u(0.5, 2), _u(0.5, 3)),
        "Dirichlet": lambda: td.Dirichlet(_u(0.3, 3, (4, 3))),
        "MVN": lambda: td.LowRankMultivariateNormal(t64(np.zeros(3)), _u(-1, 1, (4, 3, 2)),
                                                    _u(0.5, 2, (4, 3))),
        "Categorical": lambda: td.Categorical(probs=_u(0, 1, (4, 5))),
    }
    P = makers[name]()
    got = kd.entropy(P)
    if name == "Poisson":  # torch has no Poisson or von Mises entropy: scipy's as the oracle
        expected = stats.poisson(P.rate.numpy()).entropy()
    elif name == "VonMises":
        expected = stats.vonmises(P.concentration.numpy(), P.loc.numpy()).entropy()
    else:
        expected = P.entropy().detach().numpy()
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- scipy


SCIPY_FAMILIES = {
    "norm": lambda n: stats.norm(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "laplace": lambda n: stats.laplace(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "cauchy": lambda n: stats.cauchy(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "gumbel_r": lambda n: stats.gumbel_r(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "uniform": lambda n: stats.uniform(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "t": lambda n: stats.t(RNG.uniform(1, 8, n), RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "vonmises": lambda n: stats.vonmises(RNG.uniform(0.1, 20, n), RNG.uniform(-1, 1, n)),
    "gamma": lambda n: stats.gamma(RNG.uniform(0.3, 5, n), scale=RNG.uniform(0.5, 2, n)),
    "expon": lambda n: stats.expon(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "chi2": lambda n: stats.chi2(RNG.uniform(0.5, 8, n), scale=RNG.uniform(0.5, 2, n)),
    "beta": lambda n: stats.beta(RNG.uniform(0.3, 5, n), RNG.uniform(0.3, 5, n),
                                 loc=RNG.uniform(-1, 1, n), scale=RNG.uniform(0.5, 2, n)),
    "lognorm": lambda n: stats.lognorm(RNG.uniform(0.3, 2, n), scale=RNG.uniform(0.5, 2, n)),
    "pareto": lambda n: stats.pareto(RNG.uniform(0.5, 5, n), scale=RNG.uniform(0.5, 2, n)),
    "halfnorm": lambda n: stats.halfnorm(RNG.uniform(-1, 1, n), RNG.uniform(0.5, 2, n)),
    "weibull_min": lambda n: stats.weibull_min(RNG.uniform(0.5, 4, n),
                                               scale=RNG.uniform(0.5, 2, n)),
    "bernoulli": lambda n: stats.bernoulli(RNG.uniform(0, 1, n)),
    "binom": lambda n: stats.binom(RNG.integers(0, 30, n), RNG.uniform(0, 1, n)),
    "poisson": lambda n: stats.poisson(RNG.uniform(0.1, 50, n)),
    "geom": lambda n: stats.geom(RNG.uniform(0.05, 1, n)),
    "nbinom": lambda n: stats.nbinom(RNG.uniform(1, 10, n), RNG.uniform(0.2, 0.9, n)),
}


@pytest.mark.parametrize("name", sorted(SCIPY_FAMILIES))
def test_entropy_matches_scipy(name):
    P = SCIPY_FAMILIES[name](5)
    got = kd.entropy(P)
    assert isinstance(got, np.ndarray) and got.shape == (5,)
    np.testing.assert_allclose(got, P.entropy(), rtol=1e-8, atol=1e-10)


def test_scipy_multivariate_entropy():
    a = RNG.normal(size=(3, 3))
    mvn = stats.multivariate_normal(RNG.normal(size=3), a @ a.T + np.eye(3))
    assert kd.entropy(mvn) == pytest.approx(mvn.entropy(), rel=1e-12)
    dr = stats.dirichlet([0.5, 2.0, 3.5, 1.0])
    assert kd.entropy(dr) == pytest.approx(dr.entropy(), rel=1e-12)


# ----------------------------------------------------------------------------- every pair


def _scipy_for_family(fam, n=3):
    """Random scipy objects for each internal family, parameters chosen so that most pairs
    have nested supports (so the numerical paths have something finite to check)."""
    r = RNG
    return {
        "normal": lambda: stats.norm(r.uniform(-0.5, 0.5, n), r.uniform(0.5, 1.5, n)),
        "laplace": lambda: stats.laplace(r.uniform(-0.5, 0.5, n), r.uniform(0.5, 1.5, n)),
        "cauchy": lambda: stats.cauchy(r.uniform(-0.5, 0.5, n), r.uniform(0.5, 1.5, n)),
        "gumbel": lambda: stats.gumbel_r(r.uniform(-0.5, 0.5, n), r.uniform(0.5, 1.5, n)),
        "studentt": lambda: stats.t(r.uniform(3, 8, n), r.uniform(-0.5, 0.5, n)),
        "vonmises": lambda: stats.vonmises(r.uniform(0.5, 5, n), r.uniform(-1, 1, n)),
        "uniform": lambda: stats.uniform(r.uniform(0.25, 0.4, n), r.uniform(0.1, 0.5, n)),
        "gamma": lambda: stats.gamma(r.uniform(1.5, 4, n), scale=r.uniform(0.5, 1.5, n)),
        "beta": lambda: stats.beta(r.uniform(1.5, 4, n), r.uniform(1.5, 4, n)),
        "lognormal": lambda: stats.lognorm(r.uniform(0.3, 1, n), scale=r.uniform(0.5, 1.5, n)),
        "pareto": lambda: stats.pareto(r.uniform(3, 6, n), scale=r.uniform(0.1, 0.2, n)),
        "halfnormal": lambda: stats.halfnorm(scale=r.uniform(0.5, 1.5, n)),
        "weibull": lambda: stats.weibull_min(r.uniform(1.2, 3, n), scale=r.uniform(0.5, 1.5, n)),
        "bernoulli": lambda: stats.bernoulli(r.uniform(0.1, 0.9, n)),
        "binomial": lambda: stats.binom(8, r.uniform(0.1, 0.9, n)),
        "poisson": lambda: stats.poisson(r.uniform(0.5, 4, n)),
        "geometric": lambda: stats.geom(r.uniform(0.2, 0.8, n), loc=-1),
        "negbinomial": lambda: stats.nbinom(r.uniform(1, 5, n), r.uniform(0.2, 0.8, n)),
    }[fam]()


_ONE_D = sorted(k for k in REGISTRY if not {"categorical", "mvn", "dirichlet"} & set(k))


@pytest.mark.parametrize("pair", _ONE_D, ids="||".join)
def test_every_registered_pair_against_numerics(pair):
    """Closed form vs quadrature (continuous) or summation (discrete) on random parameters,
    and H(P, Q) = H(P) + KL(P || Q)."""
    P = _scipy_for_family(pair[0])
    Q = _scipy_for_family(pair[1])
    kl = kd.kl_divergence(P, Q, method="closed")
    ce = kd.cross_entropy(P, Q)
    h = kd.entropy(P)
    assert not np.isnan(kl).any() and not np.isnan(ce).any()
    assert (kl >= 0).all()
    fin = np.isfinite(kl)
    np.testing.assert_array_equal(np.isfinite(ce), fin)
    np.testing.assert_allclose(ce[fin], (h + kl)[fin], rtol=1e-12, atol=1e-12)
    if REGISTRY[pair].note.startswith("+inf"):
        assert not fin.any()
        return
    numeric = "sum" if pair[0] in ("bernoulli", "binomial", "poisson", "geometric",
                                   "negbinomial") else "quad"
    ref = kd.kl_divergence(P, Q, method=numeric)
    # Quadrature cannot see a divergent tail: Cauchy/Student-t P, or a Gumbel Q (its log density
    # falls like -exp(-x/beta) on the left, so against an exponential tail of scale b >= beta
    # the KL diverges, but so slowly that any finite range of integration looks finite).
    if pair[0] not in ("cauchy", "studentt") and pair[1] != "gumbel":
        np.testing.assert_array_equal(np.isfinite(ref), fin)
    np.testing.assert_allclose(kl[fin], ref[fin], rtol=1e-8, atol=1e-10)


def test_continuous_entropies_against_quadrature():
    for fam in ["normal", "laplace", "cauchy", "gumbel", "studentt", "uniform", "gamma", "beta",
                "lognormal", "pareto", "halfnormal", "weibull", "vonmises"]:
        P = _scipy_for_family(fam)
        np.testing.assert_allclose(kd.entropy(P), kd.entropy(P, method="quad"), rtol=1e-9,
                                   err_msg=fam)


# ----------------------------------------------------------------------------- numerics


def test_normal_studentt_quadrature_vs_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.prec = max(mp.mp.prec, 103)  # at least 30 digits; raised, never lowered
    nu, s = mp.mpf(4), mp.mpf(1.5)

    def lt(x):  # log density of t(4, 0, 1.5)
        return (mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(mp.sqrt(nu * mp.pi) * s)
                - (nu + 1) / 2 * mp.log1p((x / s) ** 2 / nu))

    def integrand(x):
        lp = -x * x / 2 - mp.log(2 * mp.pi) / 2
        return mp.exp(lp) * (lp - lt(x))

    oracle = float(mp.quad(integrand, [-mp.inf, -3, 0, 3, mp.inf]))
    res = kd.kl_divergence(stats.norm(), stats.t(4, scale=1.5), return_error=True)
    assert res.method == "quad"
    assert float(res.value) == pytest.approx(oracle, rel=1e-10)
    assert 0 <= float(res.error) < 1e-10
    # the same through torch objects (computed in NumPy, returned as a tensor)
    tv = kd.kl_divergence(td.Normal(t64(0), t64(1)), td.StudentT(t64(4), t64(0), t64(1.5)))
    assert isinstance(tv, torch.Tensor) and float(tv) == pytest.approx(oracle, rel=1e-10)


def test_discrete_sums_vs_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.prec = max(mp.mp.prec, 103)  # at least 30 digits; raised, never lowered
    lam, r, p = mp.mpf(3), mp.mpf(2.5), mp.mpf("0.4")
    oracle = mp.mpf(0)
    for k in range(200):
        lp = k * mp.log(lam) - lam - mp.loggamma(k + 1)
        lq = (mp.loggamma(k + r) - mp.loggamma(r) - mp.loggamma(k + 1) + r * mp.log(p)
              + k * mp.log(1 - p))
        oracle += mp.exp(lp) * (lp - lq)
    res = kd.kl_divergence(stats.poisson(3), stats.nbinom(2.5, 0.4), return_error=True)
    assert res.method == "sum"
    assert float(res.value) == pytest.approx(float(oracle), rel=1e-12)
    assert float(res.error) < 1e-12
    # torch NegativeBinomial counts successes: probs = 1 - scipy's p
    tv = kd.kl_divergence(td.Poisson(t64(3)), td.NegativeBinomial(t64(2.5), probs=t64(0.6)))
    assert float(tv) == pytest.approx(float(oracle), rel=1e-12)
    # Binomial || Poisson: a finite sum, checked against an explicit one
    k = np.arange(11)
    pb = stats.binom.pmf(k, 10, 0.3)
    direct = float(np.sum(pb * (stats.binom.logpmf(k, 10, 0.3) - stats.poisson.logpmf(k, 2.5))))
    assert kd.kl_divergence(stats.binom(10, 0.3), stats.poisson(2.5)) == pytest.approx(
        direct, rel=1e-13)


def test_support_mismatch_is_inf_not_nan():
    cases = [
        (stats.uniform(0, 2), stats.uniform(0, 1)),
        (stats.binom(10, 0.3), stats.binom(5, 0.3)),
        (stats.poisson(2), stats.binom(5, 0.3)),
        (stats.poisson(2), stats.bernoulli(0.3)),
        (stats.norm(), stats.expon()),
        (stats.beta(2, 2), stats.pareto(3)),
        (stats.gamma(2), stats.pareto(3)),
        (stats.uniform(-1, 2), stats.gamma(2)),
        (stats.bernoulli(0.3), stats.bernoulli(0.0)),
    ]
    for P, Q in cases:
        assert kd.kl_divergence(P, Q) == math.inf, (P.dist.name, Q.dist.name)
        assert kd.cross_entropy(P, Q) == math.inf
    # batched torch: finite and infinite side by side, no NaN, gradient finite where finite
    low = t64([0.0, -1.0]).requires_grad_()
    kl = kd.kl_divergence(td.Uniform(low, t64(1.0)), td.Uniform(t64(-0.5), t64(2.0)))
    vals = kl.detach().numpy()
    assert vals[0] == pytest.approx(math.log(2.5)) and vals[1] == math.inf
    kl[0].backward()
    assert torch.isfinite(low.grad).all()


def test_kl_never_negative_at_equality():
    for P in [stats.norm(0.3, 1.7), stats.gamma(2.5, scale=3), stats.beta(2, 5),
              stats.weibull_min(1.7, scale=2), stats.gumbel_r(1, 2), stats.vonmises(3, 1),
              stats.poisson(7), stats.binom(12, 0.3)]:
        v = kd.kl_divergence(P, P)
        assert 0 <= v < 1e-14


# ----------------------------------------------------------------------------- batching


def test_scipy_batches_broadcast():
    P = stats.norm(loc=[0, 1, 2])
    Q = stats.norm(0, [[1.0], [2.0]])
    kl = kd.kl_divergence(P, Q)
    assert kl.shape == (2, 3)
    m = np.array([0, 1, 2])
    s = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(kl, np.log(s) + (1 + m**2) / (2 * s**2) - 0.5, rtol=1e-14)
    h = kd.entropy(P)
    assert h.shape == (3,) and np.allclose(h, stats.norm().entropy())
    assert type(kd.entropy(stats.norm())) is np.float64


def test_torch_batches_broadcast_and_dtype():
    P = td.Gamma(torch.rand(3, 1, dtype=torch.float32) + 1, torch.tensor(2.0))
    Q = td.Exponential(torch.rand(4) + 0.5)
    kl = kd.kl_divergence(P, Q)
    assert kl.shape == (3, 4) and kl.dtype == torch.float32
    torch.testing.assert_close(kl, td.kl_divergence(P, Q), rtol=1e-5, atol=1e-6)


def test_mixed_scipy_and_torch():
    v = kd.kl_divergence(td.Normal(t64(0.0), t64(1.0)), stats.norm(1, 2))
    assert isinstance(v, torch.Tensor) and float(v) == pytest.approx(0.4431471805599453, 1e-14)


# ----------------------------------------------------------------------------- gradients


def _gradcheck(fn, *params):
    params = [p.detach().clone().requires_grad_() for p in params]
    assert torch.autograd.gradcheck(fn, params, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_gradcheck_closed_forms():
    _gradcheck(lambda m, s, m2, s2: kd.kl_divergence(td.Normal(m, s), td.Normal(m2, s2)),
               t64([0.1, -0.3]), t64([1.2, 0.7]), t64(0.5), t64(1.3))
    _gradcheck(lambda a, b: kd.kl_divergence(td.Beta(a, b), td.Beta(b, a)),
               t64([1.5, 2.2]), t64([0.8, 3.1]))
    _gradcheck(lambda k, m: kd.kl_divergence(td.VonMises(m, k), td.VonMises(t64(0.2), k * 2)),
               t64([0.7, 4.0]), t64([0.1, -1.0]))
    _gradcheck(lambda a, r: kd.cross_entropy(td.Gamma(a, r), td.Gumbel(t64(0.3), t64(1.4))),
               t64([1.3, 2.5]), t64([0.9, 1.6]))
    _gradcheck(lambda k, lam: kd.kl_divergence(td.Weibull(lam, k), td.Gamma(t64(2.0), t64(1.0))),
               t64([1.5, 2.5]), t64([0.8, 1.2]))


def test_gradcheck_multivariate_and_sums():
    a = t64(RNG.normal(size=(3, 3)))
    tril = torch.linalg.cholesky(a @ a.mT + torch.eye(3, dtype=F64))
    _gradcheck(lambda m, L: kd.kl_divergence(td.MultivariateNormal(m, scale_tril=L.tril()),
                                             td.MultivariateNormal(torch.zeros(3, dtype=F64),
                                                                   torch.eye(3, dtype=F64))),
               t64([0.1, 0.2, -0.3]), tril)
    _gradcheck(lambda lam: kd.entropy(td.Poisson(lam)), t64([0.7, 3.0, 12.0]))
    _gradcheck(lambda lam, p: kd.kl_divergence(td.Poisson(lam), td.Geometric(p)),
               t64([0.7, 3.0]), t64([0.3, 0.6]))


# ----------------------------------------------------------------------------- methods


def test_method_selection_and_closed_errors():
    assert kd.method_for(stats.norm(), stats.t(4)) == "quad"
    assert kd.method_for(stats.poisson(2)) == "sum"
    assert kd.method_for(stats.norm(), stats.laplace()) == "closed"
    with pytest.raises(NotImplementedError, match=r"norm \(scipy\) \|\| t \(scipy\)"):
        kd.kl_divergence(stats.norm(), stats.t(4), method="closed")
    with pytest.raises(NotImplementedError, match="method='mc'"):
        kd.kl_divergence(stats.multivariate_t([0, 0], np.eye(2)),
                         stats.multivariate_normal([0, 0]))
    with pytest.raises(ValueError, match="method"):
        kd.entropy(stats.norm(), method="exact")
    with pytest.raises(ValueError, match="discrete"):
        kd.entropy(stats.norm(), method="sum")
    with pytest.raises(ValueError, match="continuous"):
        kd.entropy(stats.poisson(3), method="quad")
    # a scipy loc on a shape family turns the closed form off, quadrature takes over
    r = kd.kl_divergence(stats.gamma(2, loc=1), stats.expon(loc=0.5), return_error=True)
    assert r.method == "quad"
    assert float(r.value) == pytest.approx(
        kd.kl_divergence(stats.gamma(2, loc=0.5), stats.expon(), method="quad"), rel=1e-12)
    # an equal loc on both keeps it (KL is shift-invariant)
    assert kd.kl_divergence(stats.gamma(2, loc=1), stats.gamma(3, loc=1), return_error=True
                            ).method == "closed"


def test_unknown_scipy_family_uses_quadrature():
    P = stats.logistic(0, 1.2)
    assert kd.entropy(P) == pytest.approx(P.entropy(), rel=1e-10)
    assert kd.kl_divergence(P, stats.norm(0, 2)) > 0


def test_monte_carlo_is_seeded_and_honest():
    P, Q = stats.norm(0, 1), stats.norm(1, 2)
    r1 = kd.kl_divergence(P, Q, method="mc", return_error=True, n_samples=20_000,
                          random_state=7)
    r2 = kd.kl_divergence(P, Q, method="mc", return_error=True, n_samples=20_000,
                          random_state=7)
    assert r1.method == "mc" and float(r1.value) == float(r2.value)
    assert abs(float(r1.value) - 0.4431471805599453) < 5 * float(r1.error)
    # multivariate t against normal: only Monte Carlo applies
    mt = stats.multivariate_t([0, 0], np.eye(2), df=5)
    v, se = kd.kl_divergence(mt, stats.multivariate_normal([0, 0]), method="mc",
                             n_samples=20_000, return_error=True)
    assert 0 < v < 1 and 0 < se < 0.02
    # torch: gradient flows through rsample
    loc = t64(0.5).requires_grad_()
    est = kd.kl_divergence(td.Normal(loc, t64(1)), td.Normal(t64(0), t64(1)), method="mc",
                           n_samples=50_000)
    est.backward()
    assert float(loc.grad) == pytest.approx(0.5, abs=0.05)


def test_units():
    P, Q = stats.norm(0, 1), stats.norm(1, 2)
    nats = kd.kl_divergence(P, Q)
    assert kd.kl_divergence(P, Q, base=2) == pytest.approx(nats / math.log(2), rel=1e-14)
    assert kd.entropy(stats.bernoulli(0.5), base="bits") == pytest.approx(1.0, rel=1e-15)
    r = kd.kl_divergence(stats.norm(), stats.t(3), base="bits", return_error=True)
    assert float(r.value) == pytest.approx(
        float(kd.kl_divergence(stats.norm(), stats.t(3))) / math.log(2), rel=1e-12)


# ----------------------------------------------------------------------------- bad input


def test_bad_parameters():
    with pytest.raises(ValueError, match="scale"):
        kd.entropy(stats.norm(0, -1))
    with pytest.raises(ValueError, match="scale"):
        kd.kl_divergence(td.Normal(0.0, torch.tensor(-1.0), validate_args=False),
                         td.Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="positive definite"):
        kd.entropy(stats.multivariate_normal([0, 0], [[1, 1], [1, 1]], allow_singular=True))
    with pytest.raises(ValueError, match="dimension"):
        kd.kl_divergence(stats.multivariate_normal([0, 0, 0]), stats.multivariate_normal([0, 0]))
    with pytest.raises(ValueError, match="number of components"):
        kd.kl_divergence(stats.dirichlet([1, 2, 3]), stats.dirichlet([1, 2]))
    with pytest.raises(ValueError, match="number of categories"):
        kd.kl_divergence(td.Categorical(probs=torch.ones(3)), td.Categorical(probs=torch.ones(4)))
    with pytest.raises(ValueError, match="probs"):
        kd.entropy(stats.bernoulli(1.5))
    with pytest.raises(ValueError, match="high"):
        kd.entropy(td.Uniform(torch.tensor(1.0), torch.tensor(0.0), validate_args=False))
    with pytest.raises(ValueError, match="no common reference measure"):
        kd.kl_divergence(stats.norm(), stats.poisson(2))
    with pytest.raises(TypeError, match=r"scipy\.stats"):
        kd.entropy([0.5, 0.5])


def test_is_distribution_imports_nothing():
    import subprocess
    import sys

    code = ("import sys, kullback.distributions as d; "
            "assert not d.is_distribution([1, 2]) and not d.is_distribution(3.0); "
            "assert 'torch' not in sys.modules and 'scipy.stats' not in sys.modules, "
            "[m for m in ('torch', 'scipy.stats') if m in sys.modules]")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert kd.is_distribution(td.Normal(0.0, 1.0))
    assert kd.is_distribution(stats.multivariate_normal([0, 0]))
    assert kd.is_distribution(stats.dirichlet([1, 2]))
    assert kd.is_distribution(stats.poisson(2))
    assert not kd.is_distribution(stats.norm)
    assert not kd.is_distribution(np.ones(3))


# ----------------------------------------------------------------------------- via kb.*


def test_public_verbs_dispatch_to_distributions():
    import kullback as kb

    assert kb.kl_divergence(stats.norm(0, 1), stats.norm(1, 2), base=2) == pytest.approx(
        0.44314718055994531 / math.log(2), rel=1e-13)
    res = kb.entropy(stats.poisson(3), return_error=True)
    assert res.method == "sum" and float(res.value) == pytest.approx(1.9314701981485689,
                                                                     rel=1e-13)
    ce = kb.cross_entropy(td.Normal(t64(0), t64(1)), td.Laplace(t64(0), t64(1)))
    assert isinstance(ce, torch.Tensor)
    assert float(ce) == pytest.approx(math.log(2) + math.sqrt(2 / math.pi), rel=1e-14)
    with pytest.raises(NotImplementedError, match="no closed form"):
        kb.kl_divergence(stats.norm(), stats.t(3), method="closed")


def test_categorical_zero_probabilities_have_finite_gradients():
    p = t64([0.0, 0.25, 0.75]).requires_grad_()
    q = t64([0.0, 0.5, 0.5]).requires_grad_()
    kl = kd.kl_divergence(td.Categorical(probs=p), td.Categorical(probs=q))
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert float(kl.detach()) == pytest.approx(expected, rel=1e-14)
    kl.backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()
    h = kd.entropy(td.Categorical(probs=t64([0.0, 1.0])))
    assert float(h) == 0.0
    # p > 0 where q = 0: +inf
    assert float(kd.kl_divergence(td.Categorical(probs=t64([0.5, 0.5])),
                                  td.Categorical(probs=t64([1.0, 0.0])))) == math.inf


# ----------------------------------------------------------------------------- Jensen-Shannon


def _mp_js_normals(m1, s1, m2, s2):
    """JS of two normals by mpmath quadrature at 20 digits (log-sum-exp written out here)."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(20):
        def lpdf(x, m, s):
            return -((x - m) / s) ** 2 / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2

        def f(x):
            a, b = lpdf(x, m1, s1), lpdf(x, m2, s2)
            lm = mp.log((mp.exp(a) + mp.exp(b)) / 2)
            return (mp.exp(a) * (a - lm) + mp.exp(b) * (b - lm)) / 2

        m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
        cuts = sorted({m + k * s for m, s in ((m1, s1), (m2, s2)) for k in (-12, -8, -5, -3, -1, 0, 1, 3, 5, 8, 12)})
        return float(mp.quad(f, [-mp.inf, *cuts, mp.inf]))


@pytest.mark.parametrize("m1,s1,m2,s2", [(0, 1, 1, 1), (0.3, 0.5, -1, 2), (0, 1, 0, 1e-3),
                                         (0, 1, 0, 1e-6), (2, 0.1, -3, 50), (0, 1, 30, 1)])
def test_js_of_normals_vs_mpmath(m1, s1, m2, s2):
    want = _mp_js_normals(m1, s1, m2, s2)
    res = kd.js_divergence(stats.norm(m1, s1), stats.norm(m2, s2), return_error=True)
    assert res.method == "quad" and 0 <= float(res.value) <= math.log(2)
    assert float(res.value) == pytest.approx(want, rel=1e-9, abs=1e-20)
    assert float(res.error) <= max(1e-9 * want, 1e-18)
    # symmetric, and through torch objects (a tensor result)
    back = kd.js_divergence(stats.norm(m2, s2), stats.norm(m1, s1))
    assert float(back) == pytest.approx(want, rel=1e-9, abs=1e-20)
    tv = kd.js_divergence(td.Normal(t64(m1), t64(s1)), td.Normal(t64(m2), t64(s2)))
    assert isinstance(tv, torch.Tensor) and float(tv) == pytest.approx(want, rel=1e-9, abs=1e-20)


def test_js_of_nearly_identical_normals_keeps_relative_accuracy():
    """JS(N(0, 1), N(0, 1 + e)) = e^2/4 + O(e^3): a quarter of the Fisher information of the
    log-scale (2) times e^2/2; the textbook integrand would cancel to noise at e = 1e-6."""
    e = 1e-6  # rtol=1e-8: the log densities' rounding makes the integrand noisy at ~1e-10
    got = float(kd.js_divergence(stats.norm(0, 1), stats.norm(0, 1 + e), rtol=1e-8))
    assert_close(got, e * e / 4, rtol=5 * e)
    got = float(kd.js_divergence(stats.norm(0, 1), stats.norm(e, 1), rtol=1e-8))
    assert_close(got, e * e / 8, rtol=5 * e)  # e^2/8 for a shift


def test_js_of_bernoullis_by_hand():
    from helpers import oracle

    p, q = 0.2, 0.6
    m0, m1 = (1 - p + 1 - q) / 2, (p + q) / 2
    hand = 0.5 * ((1 - p) * math.log((1 - p) / m0) + p * math.log(p / m1)
                  + (1 - q) * math.log((1 - q) / m0) + q * math.log(q / m1))
    got = kd.js_divergence(stats.bernoulli(p), stats.bernoulli(q), return_error=True)
    assert got.method == "closed"
    assert float(got.value) == pytest.approx(hand, rel=1e-14)
    summed = kd.js_divergence(stats.bernoulli(p), stats.bernoulli(q), method="sum")
    assert float(summed) == pytest.approx(hand, rel=1e-14)
    assert float(got.value) == pytest.approx(oracle("js_divergence", [1 - p, p], [1 - q, q]),
                                             rel=1e-14)
    assert kd.js_divergence(stats.bernoulli(p), stats.bernoulli(q), base=2) == pytest.approx(
        hand / math.log(2), rel=1e-14)
    assert kd.js_distance(stats.bernoulli(p), stats.bernoulli(q), base=2) == pytest.approx(
        math.sqrt(hand / math.log(2)), rel=1e-14)
    # batched torch, differentiable
    probs = t64([0.2, 0.5]).requires_grad_()
    js = kd.js_divergence(td.Bernoulli(probs), td.Bernoulli(t64(0.6)))
    assert js.shape == (2,) and float(js[0].detach()) == pytest.approx(hand, rel=1e-14)
    js.sum().backward()
    assert torch.isfinite(probs.grad).all()


def test_js_of_infinite_discrete_supports_vs_mpmath():
    mp = pytest.importorskip("mpmath")
    lam, p = 3, 0.3
    with mp.workdps(30):
        total = mp.mpf(0)
        for k in range(400):
            a = k * mp.log(lam) - lam - mp.loggamma(k + 1)
            b = k * mp.log(1 - mp.mpf(p)) + mp.log(mp.mpf(p))
            lm = mp.log((mp.exp(a) + mp.exp(b)) / 2)
            total += (mp.exp(a) * (a - lm) + mp.exp(b) * (b - lm)) / 2
    got = kd.js_divergence(stats.poisson(lam), stats.geom(p, loc=-1), return_error=True)
    assert float(got.value) == pytest.approx(float(total), rel=1e-12)
    assert float(got.error) < 1e-12
    # different supports: Binomial(5) against Poisson, the union of both is summed
    k = np.arange(200)
    pb, pp = stats.binom.pmf(k, 5, 0.4), stats.poisson.pmf(k, 2.0)
    m = (pb + pp) / 2
    direct = 0.5 * (np.sum(pb[pb > 0] * np.log(pb[pb > 0] / m[pb > 0]))
                    + np.sum(pp[pp > 0] * np.log(pp[pp > 0] / m[pp > 0])))
    assert kd.js_divergence(stats.binom(5, 0.4), stats.poisson(2.0)) == pytest.approx(
        direct, rel=1e-12)


def test_js_bounds_and_singular_pairs():
    ln2 = math.log(2)
    assert kd.js_divergence(stats.uniform(0, 1), stats.uniform(2, 1)) == pytest.approx(ln2,
                                                                                      rel=1e-14)
    assert kd.js_divergence(stats.norm(), stats.poisson(3)) == ln2  # mutually singular
    assert kd.js_divergence(stats.poisson(3), stats.poisson(3)) == 0.0
    assert kd.js_distance(stats.norm(), stats.norm()) == 0.0
    assert kd.js_divergence(stats.binom(3, 0.5), stats.binom(3, 0.5).dist(3, 0.5, loc=10)
                            ) == pytest.approx(ln2, rel=1e-14)  # disjoint supports
    r = kd.js_divergence(stats.norm(), stats.laplace(), return_error=True)
    assert r.method == "quad" and 0 < float(r.value) < ln2


def test_js_monte_carlo_and_unsupported_pairs():
    P, Q = stats.norm(0, 1), stats.norm(1, 1)
    want = _mp_js_normals(0, 1, 1, 1)
    v, se = kd.js_divergence(P, Q, method="mc", n_samples=20_000, random_state=3,
                             return_error=True)
    assert abs(float(v) - want) < 5 * float(se) and 0 < float(se) < 0.01
    mv1, mv2 = stats.multivariate_normal([0, 0]), stats.multivariate_normal([1, 0])
    with pytest.raises(NotImplementedError, match=r"JS\(multivariate_normal \(scipy\), "
                                                  r"multivariate_normal \(scipy\)\).*method='mc'"):
        kd.js_divergence(mv1, mv2)
    with pytest.raises(NotImplementedError, match="no closed form"):
        kd.js_divergence(P, Q, method="closed")
    # 2-D normals: JS = MC estimate; the mixture log-ratio is bounded by log 2 per sample
    v2, se2 = kd.js_divergence(mv1, mv2, method="mc", n_samples=20_000, return_error=True)
    assert abs(float(v2) - want) < 5 * float(se2)  # the second axis does not separate them
    # torch: differentiable through rsample
    loc = t64(1.0).requires_grad_()
    est = kd.js_divergence(td.Normal(t64(0), t64(1)), td.Normal(loc, t64(1)), method="mc",
                           n_samples=20_000)
    est.backward()
    assert float(loc.grad) > 0


def test_js_distance_error_propagation():
    r = kd.js_distance(stats.norm(), stats.t(5), return_error=True)
    js = kd.js_divergence(stats.norm(), stats.t(5), return_error=True)
    assert float(r.value) == pytest.approx(math.sqrt(float(js.value)), rel=1e-15)
    assert_close(float(r.error), float(js.error) / (2 * float(r.value)), rtol=1e-12)
    assert r.method == "quad"


# ----------------------------------------------------------------------------- decompose


def test_decompose_matches_closed_forms_and_core_type():
    from kullback.measures.discrete import Decomposition

    d = kd.decompose(stats.norm(0, 1), stats.norm(1, 2), base=2)
    assert isinstance(d, Decomposition) and d.unit.name == "bits"
    h = 0.5 * math.log(2 * math.pi * math.e)
    kl = math.log(2) + 2 / 8 - 0.5
    ln2 = math.log(2)
    assert d.entropy == pytest.approx(h / ln2, rel=1e-14)
    assert d.kl_divergence == pytest.approx(kl / ln2, rel=1e-14)
    assert d.cross_entropy == pytest.approx((h + kl) / ln2, rel=1e-14)
    e = kd.decompose(stats.poisson(3), stats.geom(0.4, loc=-1), return_error=True)
    assert all(isinstance(x, kd.Estimate) and x.method == "sum" for x in e)
    assert float(e.cross_entropy.value) == pytest.approx(
        float(e.entropy.value) + float(e.kl_divergence.value), rel=1e-13)
    assert "H(p)" in repr(e)


# ----------------------------------------------------------------------------- the public face


PUBLIC = {"entropy": ["P"], "cross_entropy": ["P", "Q"], "kl_divergence": ["P", "Q"],
          "js_divergence": ["P", "Q"], "js_distance": ["P", "Q"], "decompose": ["P", "Q"]}
OPTIONS = {"base": None, "method": "auto", "return_error": False, "rtol": 1e-11,
           "n_samples": 100_000, "random_state": None, "validate": True}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_options_are_explicit_keywords(name):
    import inspect

    sig = inspect.signature(getattr(kd, name))
    params = list(sig.parameters.values())
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == PUBLIC[name]
    keywords = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    assert keywords == OPTIONS
    assert not [p for p in params if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def test_one_result_type_and_public_names():
    from kullback._result import Estimate

    assert kd.Estimate is Estimate
    r = kd.entropy(stats.norm(), base="bits", return_error=True)
    assert type(r) is Estimate and r.unit == "bits" and r.method == "closed"
    value, error = r
    assert value == pytest.approx(0.5 * math.log2(2 * math.pi * math.e), rel=1e-15)
    assert error == 0.0
    for name in ["Estimate", "cross_entropy", "entropy", "is_distribution", "kl_divergence",
                 "method_for", "register_kl", "js_divergence", "js_distance", "decompose"]:
        assert name in kd.__all__ and hasattr(kd, name)


def test_bernoulli_terms_through_the_core_keep_relative_accuracy():
    """KL of nearly identical Bernoullis (~1e-19) and the entropy, against the 50-digit oracle
    on the same two-point pmfs; the textbook xlogy differences lose every digit here."""
    from helpers import oracle

    p, q = 0.3, 0.3 * (1 + 1e-9)
    want = oracle("kl_divergence", [1 - p, p], [1 - q, q])
    assert 0 < want < 1e-18
    assert_close(float(kd.kl_divergence(stats.bernoulli(p), stats.bernoulli(q))), want,
                 rtol=1e-6)
    tk = kd.kl_divergence(td.Bernoulli(t64(p)), td.Bernoulli(t64(q)))
    assert_close(float(tk), want, rtol=1e-6)
    assert float(kd.entropy(stats.bernoulli(p))) == pytest.approx(
        oracle("entropy", [1 - p, p]), rel=1e-15)
    assert_close(float(kd.kl_divergence(stats.binom(7, p), stats.binom(7, q))), 7 * want,
                 rtol=1e-6)


def test_js_of_categoricals_in_closed_form():
    from helpers import oracle

    p, q = [0.0, 0.25, 0.75], [0.5, 0.5, 0.0]
    leaf = t64(p).requires_grad_()
    res = kd.js_divergence(td.Categorical(probs=leaf), td.Categorical(probs=t64(q)),
                           return_error=True)
    assert res.method == "closed"
    assert float(res.value.detach()) == pytest.approx(oracle("js_divergence", p, q), rel=1e-14)
    res.value.backward()
    assert torch.isfinite(leaf.grad).all()
    batch = kd.js_divergence(td.Categorical(probs=t64([p, q])), td.Categorical(probs=t64(q)))
    assert batch.shape == (2,) and float(batch[1]) == 0.0
    assert kd.js_divergence(stats.bernoulli(0.2), stats.bernoulli(0.6), return_error=True
                            ).method == "closed"
    with pytest.raises(ValueError, match="number of categories"):
        kd.js_divergence(td.Categorical(probs=torch.ones(3)), td.Categorical(probs=torch.ones(4)))


@pytest.mark.parametrize("option,value,match", [
    ("n_samples", 1, "n_samples must be an integer of at least 2"),
    ("n_samples", 2.5, "n_samples"), ("n_samples", "many", "n_samples"),
    ("random_state", "seed", "random_state must be None"),
    ("rtol", True, "rtol"), ("rtol", float("nan"), "rtol"), ("rtol", 1.0, "rtol"),
    ("base", 0.5, "base"), ("base", 1, "base"), ("method", "exact", "method must be one of"),
])
def test_bad_options_are_refused_by_name(option, value, match):
    for fn in (kd.entropy, kd.js_divergence, kd.decompose):
        args = (stats.norm(),) if fn is kd.entropy else (stats.norm(), stats.norm(1))
        with pytest.raises(ValueError, match=match):
            fn(*args, **{option: value})
