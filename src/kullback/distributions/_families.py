"""Families of distributions: one internal parametrisation for scipy and torch objects.

Every supported scipy.stats frozen distribution and torch.distributions object is
normalised into a :class:`Dist`: a family key, a dict of parameters in the family's
canonical parametrisation (below), the ops flavour that evaluates formulas on them
(NumPy for scipy, torch for torch) and, for scipy's shape families, the ``loc``
shift (and, for the beta, the ``scale`` width) scipy allows on top.

Canonical parametrisations (x the variate)
------------------------------------------
normal(loc, scale)            scale = standard deviation
laplace(loc, scale)           density exp(-|x-loc|/scale) / (2 scale)
cauchy(loc, scale)            scale = half width at half maximum
gumbel(loc, scale)            right-skewed (scipy gumbel_r, torch Gumbel)
uniform(low, high)
studentt(df, loc, scale)
vonmises(loc, concentration)  scipy vonmises with scale 1
gamma(concentration, rate)    density rate^a x^(a-1) e^(-rate x) / Gamma(a);
                              Exponential(rate) = gamma(1, rate), Chi2(df) = gamma(df/2, 1/2)
beta(alpha, beta)             alpha = exponent on x (torch concentration1)
lognormal(loc, scale)         mean and std of log X (scipy: s = scale, scale = exp(loc))
pareto(scale, alpha)          support x >= scale (scipy pareto(b=alpha, scale=scale))
halfnormal(scale)
weibull(concentration, scale) shape k, scale lambda (scipy weibull_min(c=k, scale=lambda))
bernoulli(probs)
binomial(total_count, probs)
poisson(rate)
geometric(probs)              number of failures before the first success, support {0, 1, ...}
                              (scipy geom counts trials, support {1, 2, ...}: shift 1)
negbinomial(total_count, probs)  pmf C(k+r-1, k) probs^r (1-probs)^k (scipy nbinom(n=r, p=probs);
                              torch NegativeBinomial(r, probs=t) has probs = 1 - t)
categorical(probs, logits)    event axis last; logits are normalised log-probabilities
dirichlet(concentration)
mvn(loc, scale_tril)          covariance = scale_tril @ scale_tril.T; full, diagonal and
                              low-rank torch covariances and scipy multivariate_normal land here
independent(base, ndims)      torch Independent: sums over the last ``ndims`` batch axes
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kullback.distributions._dist_ops import EULER, LOG_2PI, numpy_ops, torch_ops

CONTINUOUS = {
    "normal", "laplace", "cauchy", "gumbel", "uniform", "studentt", "vonmises", "gamma",
    "beta", "lognormal", "pareto", "halfnormal", "weibull",
}
DISCRETE = {"bernoulli", "binomial", "poisson", "geometric", "negbinomial", "categorical"}
MULTIVARIATE = {"dirichlet", "mvn", "independent"}

NAMES = {
    "normal": "Normal", "laplace": "Laplace", "cauchy": "Cauchy", "gumbel": "Gumbel",
    "uniform": "Uniform", "studentt": "StudentT", "vonmises": "VonMises", "gamma": "Gamma",
    "beta": "Beta", "lognormal": "LogNormal", "pareto": "Pareto", "halfnormal": "HalfNormal",
    "weibull": "Weibull", "bernoulli": "Bernoulli", "binomial": "Binomial", "poisson": "Poisson",
    "geometric": "Geometric", "negbinomial": "NegativeBinomial", "categorical": "Categorical",
    "dirichlet": "Dirichlet", "mvn": "MultivariateNormal", "independent": "Independent",
}

# which side of the support is bounded, before looking at parameters: (lower, upper)
BOUNDED = {
    "normal": (False, False), "laplace": (False, False), "cauchy": (False, False),
    "gumbel": (False, False), "studentt": (False, False), "uniform": (True, True),
    "beta": (True, True), "gamma": (True, False), "lognormal": (True, False),
    "pareto": (True, False), "halfnormal": (True, False), "weibull": (True, False),
    "bernoulli": (True, True), "binomial": (True, True), "categorical": (True, True),
    "poisson": (True, False), "geometric": (True, False), "negbinomial": (True, False),
}


@dataclass
class Dist:
    """A distribution in kullback's internal parametrisation."""

    family: str  # key from NAMES, or "scipy" for a scipy family kullback has no formulas for
    params: dict[str, Any]
    ops: Any
    source: str  # "scipy" or "torch"
    obj: Any
    label: str  # what error messages call it, e.g. "Exponential (torch)"
    shift: Any = 0.0  # scipy loc on shape families (numpy); 0 for torch
    width: Any = 1.0  # scipy scale on the beta (numpy)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def standard(self) -> bool:
        """True when no scipy loc shift / beta width sits on top of the canonical parameters."""
        import numpy as np

        return bool(np.all(np.asarray(self.shift) == 0) and np.all(np.asarray(self.width) == 1))

    @property
    def univariate_continuous(self) -> bool:
        return self.family in CONTINUOUS or (
            self.family == "scipy" and self.extra.get("kind") == "continuous"
        )

    @property
    def univariate_discrete(self) -> bool:
        return (self.family in DISCRETE and self.family != "categorical") or (
            self.family == "scipy" and self.extra.get("kind") == "discrete"
        )


# ----------------------------------------------------------------------------- detection


def _mro_names(obj: Any) -> list[tuple[str, str]]:
    return [(c.__module__ or "", c.__name__) for c in type(obj).__mro__]


def source_of(obj: Any) -> str | None:
    """``"torch"``, ``"scipy"`` or None, by the modules of the object's classes (no imports)."""
    for module, name in _mro_names(obj):
        if module.startswith("torch.distributions") and name == "Distribution":
            return "torch"
        if module.startswith("scipy.stats") and (
            name in ("rv_frozen", "rv_continuous_frozen", "rv_discrete_frozen", "multi_rv_frozen")
            or name.endswith("_frozen")
        ):
            return "scipy"
    return None


# ----------------------------------------------------------------------------- validation


def _check(ops, ok, what: str, label: str) -> None:
    if ops.any(~ok if ops.name == "torch" else ~ops.np.asarray(ok, dtype=bool)):
        raise ValueError(f"{label}: {what}")


def _positive(ops, x, name: str, label: str) -> None:
    _check(ops, x > 0, f"parameter {name!r} must be positive (and finite); got {_show(ops, x)}",
           label)
    _check(ops, ops.isfinite(x), f"parameter {name!r} must be finite; got {_show(ops, x)}", label)


def _finite(ops, x, name: str, label: str) -> None:
    _check(ops, ops.isfinite(x), f"parameter {name!r} must be finite; got {_show(ops, x)}", label)


def _prob(ops, x, name: str, label: str) -> None:
    _check(ops, (x >= 0) & (x <= 1), f"parameter {name!r} must lie in [0, 1]; got {_show(ops, x)}",
           label)


def _show(ops, x) -> str:
    import numpy as np

    a = np.asarray(ops.to_numpy(x))
    return np.array2string(a, threshold=6, precision=6) if a.ndim else repr(float(a))


# ----------------------------------------------------------------------------- torch


def from_torch(obj: Any, validate: bool = True) -> Dist:
    ops = torch_ops()
    names = [n for m, n in _mro_names(obj) if m.startswith("torch.distributions")]
    cls = names[0]
    label = f"{cls} (torch)"

    def make(family, **params):
        return Dist(family, params, ops, "torch", obj, label)

    d: Dist | None = None
    for name in names:
        if name == "Normal":
            d = make("normal", loc=obj.loc, scale=obj.scale)
        elif name == "Laplace":
            d = make("laplace", loc=obj.loc, scale=obj.scale)
        elif name == "Cauchy":
            d = make("cauchy", loc=obj.loc, scale=obj.scale)
        elif name == "Gumbel":
            d = make("gumbel", loc=obj.loc, scale=obj.scale)
        elif name == "Uniform":
            d = make("uniform", low=obj.low, high=obj.high)
        elif name == "StudentT":
            d = make("studentt", df=obj.df, loc=obj.loc, scale=obj.scale)
        elif name == "VonMises":
            d = make("vonmises", loc=obj.loc, concentration=obj.concentration)
        elif name == "Gamma":  # Chi2 is a Gamma subclass
            d = make("gamma", concentration=obj.concentration, rate=obj.rate)
        elif name == "Exponential":
            rate = obj.rate
            d = make("gamma", concentration=ops.torch.ones_like(rate), rate=rate)
        elif name == "Beta":
            d = make("beta", alpha=obj.concentration1, beta=obj.concentration0)
        elif name == "LogNormal":
            d = make("lognormal", loc=obj.loc, scale=obj.scale)
        elif name == "Pareto":
            d = make("pareto", scale=obj.scale, alpha=obj.alpha)
        elif name == "HalfNormal":
            d = make("halfnormal", scale=obj.scale)
        elif name == "Weibull":
            d = make("weibull", concentration=obj.concentration, scale=obj.scale)
        elif name == "Bernoulli":
            d = make("bernoulli", probs=obj.probs)
        elif name == "Binomial":
            d = make("binomial", total_count=obj.total_count, probs=obj.probs)
        elif name == "Poisson":
            d = make("poisson", rate=obj.rate)
        elif name == "Geometric":
            d = make("geometric", probs=obj.probs)
        elif name == "NegativeBinomial":
            d = make("negbinomial", total_count=obj.total_count, probs=1 - obj.probs)
        elif name == "Categorical":
            d = make("categorical", probs=obj.probs, logits=obj.logits)
        elif name == "OneHotCategorical":
            c = obj._categorical
            d = make("categorical", probs=c.probs, logits=c.logits)
        elif name == "Dirichlet":
            d = make("dirichlet", concentration=obj.concentration)
        elif name in ("MultivariateNormal", "LowRankMultivariateNormal"):
            d = make("mvn", loc=obj.loc, scale_tril=obj.scale_tril)
        elif name == "Independent":
            base = from_torch(obj.base_dist, validate)
            d = make("independent", base=base, ndims=int(obj.reinterpreted_batch_ndims))
        if d is not None:
            break
    if d is None:
        d = Dist("torch", {}, ops, "torch", obj, label)
    if validate and d.family in FAMILIES:
        FAMILIES[d.family].validate(ops, d.params, label)
    return d


# ----------------------------------------------------------------------------- scipy


_SCIPY_CONT = {
    "norm": "normal", "laplace": "laplace", "cauchy": "cauchy", "gumbel_r": "gumbel",
    "uniform": "uniform", "t": "studentt", "vonmises": "vonmises", "gamma": "gamma",
    "expon": "gamma", "chi2": "gamma", "erlang": "gamma", "beta": "beta", "lognorm": "lognormal",
    "pareto": "pareto", "halfnorm": "halfnormal", "weibull_min": "weibull",
}
_SCIPY_DISC = {
    "bernoulli": "bernoulli", "binom": "binomial", "poisson": "poisson", "geom": "geometric",
    "nbinom": "negbinomial",
}


def from_scipy(obj: Any, validate: bool = True) -> Dist:
    import numpy as np

    ops = numpy_ops()
    cls = type(obj).__name__
    dist = getattr(obj, "dist", None)
    dname = getattr(dist, "name", None)
    if cls == "multivariate_normal_frozen":
        label = "multivariate_normal (scipy)"
        mean = np.asarray(obj.mean, dtype=np.float64)
        cov = np.asarray(obj.cov, dtype=np.float64)
        try:
            tril = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{label}: covariance matrix is not positive definite (singular or indefinite); "
                "a degenerate normal has no density, so its measures are undefined"
            ) from None
        return Dist("mvn", {"loc": mean, "scale_tril": tril}, ops, "scipy", obj, label)
    if cls == "dirichlet_frozen":
        label = "dirichlet (scipy)"
        d = Dist("dirichlet", {"concentration": np.asarray(obj.alpha, dtype=np.float64)}, ops,
                 "scipy", obj, label)
        if validate:
            FAMILIES["dirichlet"].validate(ops, d.params, label)
        return d
    if dname is None or not hasattr(obj, "args"):
        return Dist("scipy", {}, ops, "scipy", obj, f"{cls} (scipy)",
                    extra={"kind": "multivariate"})
    label = f"{dname} (scipy)"
    parsed = dist._parse_args(*obj.args, **obj.kwds)
    shapes = [np.asarray(s, dtype=np.float64) for s in parsed[0]]
    loc = np.asarray(parsed[1], dtype=np.float64)
    discrete = cls == "rv_discrete_frozen" or dname in _SCIPY_DISC
    scale = np.asarray(1.0 if discrete else parsed[2], dtype=np.float64)
    kind = "discrete" if discrete else "continuous"
    fam = (_SCIPY_DISC if discrete else _SCIPY_CONT).get(dname)
    if validate:
        _positive(ops, scale, "scale", label)
        _finite(ops, loc, "loc", label)
    params: dict[str, Any] = {}
    shift: Any = 0.0
    width: Any = 1.0
    if fam in ("normal", "laplace", "cauchy", "gumbel"):
        params = {"loc": loc, "scale": scale}
    elif fam == "uniform":
        params = {"low": loc, "high": loc + scale}
    elif fam == "studentt":
        params = {"df": shapes[0], "loc": loc, "scale": scale}
    elif fam == "vonmises":
        if np.all(scale == 1):
            params = {"loc": loc, "concentration": shapes[0]}
        else:
            fam = None
    elif fam == "gamma":
        if dname == "expon":
            a = np.float64(1.0)
        elif dname == "chi2":
            a = shapes[0] / 2
        else:
            a = shapes[0]
        rate = 1 / (2 * scale) if dname == "chi2" else 1 / scale
        params, shift = {"concentration": np.asarray(a, dtype=np.float64), "rate": rate}, loc
    elif fam == "beta":
        params, shift, width = {"alpha": shapes[0], "beta": shapes[1]}, loc, scale
    elif fam == "lognormal":
        params, shift = {"loc": np.log(scale), "scale": shapes[0]}, loc
    elif fam == "pareto":
        params, shift = {"scale": scale, "alpha": shapes[0]}, loc
    elif fam == "halfnormal":
        params, shift = {"scale": scale}, loc
    elif fam == "weibull":
        params, shift = {"concentration": shapes[0], "scale": scale}, loc
    elif fam == "bernoulli":
        params, shift = {"probs": shapes[0]}, loc
    elif fam == "binomial":
        params, shift = {"total_count": shapes[0], "probs": shapes[1]}, loc
    elif fam == "poisson":
        params, shift = {"rate": shapes[0]}, loc
    elif fam == "geometric":
        params, shift = {"probs": shapes[0]}, loc + 1
    elif fam == "negbinomial":
        params, shift = {"total_count": shapes[0], "probs": shapes[1]}, loc
    if fam is None:
        return Dist("scipy", {}, ops, "scipy", obj, label, extra={"kind": kind})
    d = Dist(fam, params, ops, "scipy", obj, label, shift=shift, width=width)
    if validate:
        FAMILIES[fam].validate(ops, params, label)
    return d


def normalise(obj: Any, validate: bool = True) -> Dist:
    src = source_of(obj)
    if src == "torch":
        return from_torch(obj, validate)
    if src == "scipy":
        return from_scipy(obj, validate)
    raise TypeError(
        "expected a scipy.stats frozen distribution or a torch.distributions.Distribution; "
        f"got {type(obj).__name__}"
    )


# ----------------------------------------------------------------------------- family specs
#
# Each family may define:
#   validate(ops, p, label)         ValueError on bad parameters
#   entropy(ops, p)                 closed-form entropy in nats (None: no closed form)
#   support(ops, p) -> (lo, hi)     support of a 1-D family before the scipy shift
#   stats(ops, p) -> dict           expectations E_P[...] used by cross-family cross-entropies
#   needs, log_expect(ops, q, S)    E_P[log q(X)] for this family as Q, from P's stats S
#   logpmf(ops, p, k)               discrete families: log pmf at integer k >= 0 (float array)
#   scipy(p) -> frozen              numpy params -> scipy frozen (quadrature, ranges)


class Family:
    needs: frozenset[str] = frozenset()

    def validate(self, ops, p, label):  # pragma: no cover - overridden
        pass

    def entropy(self, ops, p):
        return None

    def support(self, ops, p):
        return (-ops.inf, ops.inf)

    def stats(self, ops, p) -> dict[str, Any]:
        return {}

    def log_expect(self, ops, q, S):
        raise NotImplementedError

    def scipy(self, p):
        raise NotImplementedError


def _sq(S, c):
    """E_P[(X - c)^2] from the mean and variance (infinite when the variance is)."""
    return S["var"]() + (S["mean"]() - c) ** 2


class Normal(Family):
    needs = frozenset({"mean", "var"})

    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        z = (x - p["loc"]) / p["scale"]
        return -0.5 * z * z - 0.5 * LOG_2PI - ops.log(p["scale"])

    def entropy(self, ops, p):
        return 0.5 + 0.5 * LOG_2PI + ops.log(p["scale"])

    def stats(self, ops, p):
        m, s = p["loc"], p["scale"]

        def absdev(c):
            d = m - c
            z = d / s
            return d * (2 * ops.ndtr(z) - 1) + 2 * s * ops.exp(-0.5 * z * z - 0.5 * LOG_2PI)

        return {"mean": lambda: m, "var": lambda: s * s, "absdev": absdev,
                "lmgf": lambda t: m * t + 0.5 * (s * t) ** 2}

    def log_expect(self, ops, q, S):
        s = q["scale"]
        return -ops.log(s) - 0.5 * LOG_2PI - _sq(S, q["loc"]) / (2 * s * s)

    def scipy(self, p):
        from scipy import stats

        return stats.norm(p["loc"], p["scale"])


class Laplace(Family):
    needs = frozenset({"absdev"})

    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        return -ops.abs(x - p["loc"]) / p["scale"] - math.log(2) - ops.log(p["scale"])

    def entropy(self, ops, p):
        return 1 + math.log(2) + ops.log(p["scale"])

    def stats(self, ops, p):
        m, b = p["loc"], p["scale"]

        def absdev(c):
            d = ops.abs(m - c)
            return d + b * ops.exp(-d / b)

        def lmgf(t):
            bt = b * t
            ok = ops.abs(bt) < 1
            safe = ops.where(ok, bt, 0.0)
            return ops.where(ok, m * t - ops.log1p(-safe * safe), ops.inf)

        return {"mean": lambda: m, "var": lambda: 2 * b * b, "absdev": absdev, "lmgf": lmgf}

    def log_expect(self, ops, q, S):
        b = q["scale"]
        return -math.log(2) - ops.log(b) - S["absdev"](q["loc"]) / b

    def scipy(self, p):
        from scipy import stats

        return stats.laplace(p["loc"], p["scale"])


class Cauchy(Family):
    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        z = (x - p["loc"]) / p["scale"]
        return -math.log(math.pi) - ops.log(p["scale"]) - ops.log1p(z * z)

    def entropy(self, ops, p):
        return math.log(4 * math.pi) + ops.log(p["scale"])

    def stats(self, ops, p):
        m = p["loc"]

        def inf(*_):
            return ops.where(m == m, ops.inf, ops.inf) + 0 * m

        return {"mean": lambda: m, "var": inf, "absdev": inf, "lmgf": inf}

    def scipy(self, p):
        from scipy import stats

        return stats.cauchy(p["loc"], p["scale"])


class Gumbel(Family):
    needs = frozenset({"mean", "lmgf"})

    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        z = (x - p["loc"]) / p["scale"]
        return -ops.log(p["scale"]) - z - ops.exp(-z)

    def entropy(self, ops, p):
        return ops.log(p["scale"]) + EULER + 1

    def stats(self, ops, p):
        m, b = p["loc"], p["scale"]

        def lmgf(t):  # E exp(tX) = Gamma(1 - b t) e^{m t} for b t < 1
            ok = b * t < 1
            safe = ops.where(ok, 1 - b * t, 1.0)
            return ops.where(ok, m * t + ops.lgamma(safe), ops.inf)

        return {"mean": lambda: m + EULER * b, "var": lambda: (math.pi * b) ** 2 / 6,
                "lmgf": lmgf}

    def log_expect(self, ops, q, S):
        m, b = q["loc"], q["scale"]
        # log q = -log b - z - exp(-z),  z = (x - m)/b;  E exp(-z) = exp(m/b + lmgf(-1/b))
        return -ops.log(b) - (S["mean"]() - m) / b - ops.exp(m / b + S["lmgf"](-1 / b))

    def scipy(self, p):
        from scipy import stats

        return stats.gumbel_r(p["loc"], p["scale"])


class Uniform(Family):
    needs = frozenset()

    def validate(self, ops, p, label):
        _finite(ops, p["low"], "low", label)
        _finite(ops, p["high"], "high", label)
        _check(ops, p["high"] > p["low"], "parameter 'high' must exceed 'low'", label)

    def logpdf(self, ops, p, x):
        inside = (x >= p["low"]) & (x <= p["high"])
        return ops.where(inside, -ops.log(p["high"] - p["low"]), -ops.inf)

    def entropy(self, ops, p):
        return ops.log(p["high"] - p["low"])

    def support(self, ops, p):
        return (p["low"], p["high"])

    def stats(self, ops, p):
        a, b = p["low"], p["high"]
        w = b - a

        def absdev(c):
            inside = ((c - a) ** 2 + (b - c) ** 2) / (2 * w)
            mid = (a + b) / 2
            return ops.where(c <= a, mid - c, ops.where(c >= b, c - mid, inside))

        def lmgf(t):
            # log E e^{tX} = t a + log(expm1(t w) / (t w)), stable for small and large |t w|
            tw = t * w
            tiny = ops.abs(tw) < 1e-300
            safe = ops.where(tiny, 1.0, tw)
            big = ops.where(safe > 0, safe + ops.log(-ops.expm1(-safe) / safe),
                            ops.log(ops.expm1(safe) / safe))
            return t * a + ops.where(tiny, 0.0, big)

        def mlog():  # E log X for 0 <= a < b
            return (ops.xlogy(b, b) - ops.xlogy(a, a)) / w - 1

        def mlog1m():  # E log(1 - X) for a < b <= 1
            return (ops.xlogy(1 - a, 1 - a) - ops.xlogy(1 - b, 1 - b)) / w - 1

        def vlog():  # Var log X for 0 <= a < b, from  int log^2 x dx = x (L^2 - 2 L + 2)
            def antider(x):
                pos = x > 0
                lx = ops.log(ops.where(pos, x, 1.0))
                return ops.where(pos, x * (lx * lx - 2 * lx + 2), 0.0 * x)

            el = mlog()
            return (antider(b) - antider(a)) / w - el * el

        def moment(k):  # E X^k for a >= 0
            return (b ** (k + 1) - a ** (k + 1)) / ((k + 1) * w)

        return {"mean": lambda: (a + b) / 2, "var": lambda: w * w / 12, "absdev": absdev,
                "lmgf": lmgf, "mlog": mlog, "mlog1m": mlog1m, "vlog": vlog, "moment": moment}

    def log_expect(self, ops, q, S):
        return -ops.log(q["high"] - q["low"])

    def scipy(self, p):
        from scipy import stats

        return stats.uniform(p["low"], p["high"] - p["low"])


class StudentT(Family):
    def validate(self, ops, p, label):
        _positive(ops, p["df"], "df", label)
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        v = p["df"]
        z = (x - p["loc"]) / p["scale"]
        return (ops.lgamma((v + 1) / 2) - ops.lgamma(v / 2) - 0.5 * ops.log(v * math.pi)
                - ops.log(p["scale"]) - (v + 1) / 2 * ops.log1p(z * z / v))

    def entropy(self, ops, p):
        v = p["df"]
        h = (v + 1) / 2
        return (h * (ops.digamma(h) - ops.digamma(v / 2)) + 0.5 * ops.log(v)
                + ops.lbeta(v / 2, 0.5 + 0 * v) + ops.log(p["scale"]))

    def stats(self, ops, p):
        v, m, s = p["df"], p["loc"], p["scale"]

        def var():
            safe = ops.where(v > 2, v, 3.0)
            return ops.where(v > 2, s * s * safe / (safe - 2), ops.inf)

        return {"mean": lambda: m, "var": var}

    def scipy(self, p):
        from scipy import stats

        return stats.t(p["df"], p["loc"], p["scale"])


class VonMises(Family):
    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["concentration"], "concentration", label)

    def logpdf(self, ops, p, x):
        k = p["concentration"]
        return k * (ops.cos(x - p["loc"]) - 1) - LOG_2PI - ops.log(ops.i0e(k))

    def entropy(self, ops, p):
        k = p["concentration"]
        return LOG_2PI + ops.log(ops.i0e(k)) + k * (1 - ops.i1e(k) / ops.i0e(k))

    def support(self, ops, p):
        return (-math.pi + 0 * p["loc"], math.pi + 0 * p["loc"])

    def scipy(self, p):
        from scipy import stats

        return stats.vonmises(p["concentration"], p["loc"])


class Gamma(Family):
    needs = frozenset({"mean", "mlog"})

    def validate(self, ops, p, label):
        _positive(ops, p["concentration"], "concentration", label)
        _positive(ops, p["rate"], "rate", label)

    def logpdf(self, ops, p, x):
        a, b = p["concentration"], p["rate"]
        pos = x > 0
        xs = ops.where(pos, x, 1.0)
        v = a * ops.log(b) - ops.lgamma(a) + ops.xlogy(a - 1, xs) - b * xs
        return ops.where(pos, v, -ops.inf)

    def entropy(self, ops, p):
        a, b = p["concentration"], p["rate"]
        return a - ops.log(b) + ops.lgamma(a) + (1 - a) * ops.digamma(a)

    def support(self, ops, p):
        return (0 * p["rate"], ops.inf)

    def stats(self, ops, p):
        a, b = p["concentration"], p["rate"]

        def lmgf(t):
            ok = t < b
            safe = ops.where(ok, t / b, 0.0)
            return ops.where(ok, -a * ops.log1p(-safe), ops.inf)

        return {"mean": lambda: a / b, "var": lambda: a / (b * b), "lmgf": lmgf,
                "mlog": lambda: ops.digamma(a) - ops.log(b), "vlog": lambda: ops.trigamma(a),
                "moment": lambda k: ops.exp(ops.lgamma(a + k) - ops.lgamma(a) - k * ops.log(b))}

    def log_expect(self, ops, q, S):
        a, b = q["concentration"], q["rate"]
        return (a * ops.log(b) - ops.lgamma(a) + _times(ops, a - 1, S["mlog"]) - b * S["mean"]())

    def scipy(self, p):
        from scipy import stats

        return stats.gamma(p["concentration"], scale=1 / p["rate"])


def _times(ops, coef, stat):
    """coef * E[stat], with 0 * (anything) = 0 so an unused statistic never poisons the sum."""
    value = stat()
    return ops.where(coef == 0, 0.0 * coef, coef * value)


class Beta(Family):
    needs = frozenset({"mlog", "mlog1m"})

    def validate(self, ops, p, label):
        _positive(ops, p["alpha"], "alpha (concentration1)", label)
        _positive(ops, p["beta"], "beta (concentration0)", label)

    def logpdf(self, ops, p, x):
        a, b = p["alpha"], p["beta"]
        inside = (x > 0) & (x < 1)
        xs = ops.where(inside, x, 0.5)
        v = ops.xlogy(a - 1, xs) + ops.xlog1py(b - 1, -xs) - ops.lbeta(a, b)
        return ops.where(inside, v, -ops.inf)

    def entropy(self, ops, p):
        a, b = p["alpha"], p["beta"]
        return (ops.lbeta(a, b) - (a - 1) * ops.digamma(a) - (b - 1) * ops.digamma(b)
                + (a + b - 2) * ops.digamma(a + b))

    def support(self, ops, p):
        z = 0 * p["alpha"]
        return (z, z + 1)

    def stats(self, ops, p):
        a, b = p["alpha"], p["beta"]
        n = a + b
        return {"mean": lambda: a / n, "var": lambda: a * b / (n * n * (n + 1)),
                "mlog": lambda: ops.digamma(a) - ops.digamma(n),
                "mlog1m": lambda: ops.digamma(b) - ops.digamma(n),
                "vlog": lambda: ops.trigamma(a) - ops.trigamma(n),
                "moment": lambda k: ops.exp(ops.lbeta(a + k, b) - ops.lbeta(a, b))}

    def log_expect(self, ops, q, S):
        a, b = q["alpha"], q["beta"]
        return _times(ops, a - 1, S["mlog"]) + _times(ops, b - 1, S["mlog1m"]) - ops.lbeta(a, b)

    def scipy(self, p):
        from scipy import stats

        return stats.beta(p["alpha"], p["beta"])


class LogNormal(Family):
    needs = frozenset({"mlog", "vlog"})

    def validate(self, ops, p, label):
        _finite(ops, p["loc"], "loc", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        pos = x > 0
        lx = ops.log(ops.where(pos, x, 1.0))
        z = (lx - p["loc"]) / p["scale"]
        v = -lx - 0.5 * z * z - 0.5 * LOG_2PI - ops.log(p["scale"])
        return ops.where(pos, v, -ops.inf)

    def entropy(self, ops, p):
        return p["loc"] + 0.5 + 0.5 * LOG_2PI + ops.log(p["scale"])

    def support(self, ops, p):
        return (0 * p["scale"], ops.inf)

    def stats(self, ops, p):
        m, s = p["loc"], p["scale"]
        return {"mean": lambda: ops.exp(m + s * s / 2),
                "var": lambda: ops.expm1(s * s) * ops.exp(2 * m + s * s),
                "mlog": lambda: m, "vlog": lambda: s * s,
                "moment": lambda k: ops.exp(k * m + (k * s) ** 2 / 2)}

    def log_expect(self, ops, q, S):
        m, s = q["loc"], q["scale"]
        el = S["mlog"]()
        return -el - ops.log(s) - 0.5 * LOG_2PI - (S["vlog"]() + (el - m) ** 2) / (2 * s * s)

    def scipy(self, p):
        from scipy import stats

        return stats.lognorm(p["scale"], scale=np_exp(p["loc"]))


def np_exp(x):
    import numpy as np

    return np.exp(x)


class Pareto(Family):
    needs = frozenset({"mlog"})

    def validate(self, ops, p, label):
        _positive(ops, p["scale"], "scale", label)
        _positive(ops, p["alpha"], "alpha", label)

    def logpdf(self, ops, p, x):
        xm, a = p["scale"], p["alpha"]
        ok = x >= xm
        xs = ops.where(ok, x, xm)
        return ops.where(ok, ops.log(a) + a * ops.log(xm) - (a + 1) * ops.log(xs), -ops.inf)

    def entropy(self, ops, p):
        a = p["alpha"]
        return ops.log(p["scale"] / a) + 1 / a + 1

    def support(self, ops, p):
        return (p["scale"], ops.inf)

    def stats(self, ops, p):
        xm, a = p["scale"], p["alpha"]

        def mean():
            safe = ops.where(a > 1, a, 2.0)
            return ops.where(a > 1, safe * xm / (safe - 1), ops.inf)

        def var():
            safe = ops.where(a > 2, a, 3.0)
            return ops.where(a > 2, xm * xm * safe / ((safe - 1) ** 2 * (safe - 2)), ops.inf)

        def moment(k):
            ok = a > k
            safe = ops.where(ok, a, k + 1.0)
            return ops.where(ok, safe * xm**k / (safe - k), ops.inf)

        return {"mean": mean, "var": var, "mlog": lambda: ops.log(xm) + 1 / a,
                "vlog": lambda: 1 / (a * a), "moment": moment}

    def log_expect(self, ops, q, S):
        xm, a = q["scale"], q["alpha"]
        return ops.log(a) + a * ops.log(xm) - (a + 1) * S["mlog"]()

    def scipy(self, p):
        from scipy import stats

        return stats.pareto(p["alpha"], scale=p["scale"])


class HalfNormal(Family):
    needs = frozenset({"mean", "var"})

    def validate(self, ops, p, label):
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        z = x / p["scale"]
        v = 0.5 * math.log(2 / math.pi) - ops.log(p["scale"]) - 0.5 * z * z
        return ops.where(x >= 0, v, -ops.inf)

    def entropy(self, ops, p):
        return 0.5 * math.log(math.pi / 2) + ops.log(p["scale"]) + 0.5

    def support(self, ops, p):
        return (0 * p["scale"], ops.inf)

    def stats(self, ops, p):
        s = p["scale"]
        return {"mean": lambda: s * math.sqrt(2 / math.pi),
                "var": lambda: s * s * (1 - 2 / math.pi),
                "mlog": lambda: ops.log(s) - (EULER + math.log(2)) / 2,
                "vlog": lambda: math.pi**2 / 8 + 0 * s,
                "moment": lambda k: ops.exp(k * ops.log(s) + k / 2 * math.log(2)
                                            + ops.lgamma((k + 1) / 2 + 0 * s)) / math.sqrt(math.pi),
                "lmgf": lambda t: math.log(2) + (s * t) ** 2 / 2 + ops.log_ndtr(s * t)}

    def log_expect(self, ops, q, S):
        s = q["scale"]
        return 0.5 * math.log(2 / math.pi) - ops.log(s) - _sq(S, 0.0) / (2 * s * s)

    def scipy(self, p):
        from scipy import stats

        return stats.halfnorm(scale=p["scale"])


class Weibull(Family):
    needs = frozenset({"mlog", "moment"})

    def validate(self, ops, p, label):
        _positive(ops, p["concentration"], "concentration", label)
        _positive(ops, p["scale"], "scale", label)

    def logpdf(self, ops, p, x):
        k, lam = p["concentration"], p["scale"]
        pos = x > 0
        z = ops.where(pos, x, 1.0) / lam
        v = ops.log(k / lam) + ops.xlogy(k - 1, z) - z**k
        return ops.where(pos, v, -ops.inf)

    def entropy(self, ops, p):
        k, lam = p["concentration"], p["scale"]
        return EULER * (1 - 1 / k) + ops.log(lam / k) + 1

    def support(self, ops, p):
        return (0 * p["scale"], ops.inf)

    def stats(self, ops, p):
        k, lam = p["concentration"], p["scale"]

        def moment(m):
            return ops.exp(m * ops.log(lam) + ops.lgamma(1 + m / k))

        return {"mean": lambda: moment(1.0),
                "var": lambda: moment(2.0) - moment(1.0) ** 2,
                "mlog": lambda: ops.log(lam) - EULER / k,
                "vlog": lambda: math.pi**2 / (6 * k * k), "moment": moment}

    def log_expect(self, ops, q, S):
        k, lam = q["concentration"], q["scale"]
        return (ops.log(k) - k * ops.log(lam) + _times(ops, k - 1, S["mlog"])
                - S["moment"](k) / lam**k)

    def scipy(self, p):
        from scipy import stats

        return stats.weibull_min(p["concentration"], scale=p["scale"])


# --- discrete ---------------------------------------------------------------------------


def _in_support(ops, k, hi=None):
    ok = k >= 0
    return ok if hi is None else ok & (k <= hi)


class Bernoulli(Family):
    def validate(self, ops, p, label):
        _prob(ops, p["probs"], "probs", label)

    def entropy(self, ops, p):
        q = p["probs"]
        return -ops.xlogy(q, q) - ops.xlog1py(1 - q, -q)

    def support(self, ops, p):
        z = 0 * p["probs"]
        return (z, z + 1)

    def logpmf(self, ops, p, k):
        q = p["probs"]
        v = ops.where(k == 1, ops.log(q), ops.log1p(-q))
        return ops.where((k == 0) | (k == 1), v, -ops.inf)

    def scipy(self, p):
        from scipy import stats

        return stats.bernoulli(p["probs"])


class Binomial(Family):
    def validate(self, ops, p, label):
        n = p["total_count"]
        _check(ops, (n >= 0) & (n == ops_round(ops, n)),
               f"parameter 'total_count' must be a non-negative integer; got {_show(ops, n)}",
               label)
        _prob(ops, p["probs"], "probs", label)

    def support(self, ops, p):
        return (0 * p["total_count"], p["total_count"])

    def logpmf(self, ops, p, k):
        n, q = p["total_count"], p["probs"]
        ok = _in_support(ops, k, n)
        ks = ops.where(ok, k, 0.0)
        v = (ops.lgamma(n + 1) - ops.lgamma(ks + 1) - ops.lgamma(n - ks + 1)
             + ops.xlogy(ks, q) + ops.xlog1py(n - ks, -q))
        return ops.where(ok, v, -ops.inf)

    def scipy(self, p):
        from scipy import stats

        return stats.binom(p["total_count"], p["probs"])


def ops_round(ops, x):
    if ops.name == "torch":
        return ops.torch.round(x)
    return ops.np.round(x)


class Poisson(Family):
    def validate(self, ops, p, label):
        r = p["rate"]
        _check(ops, r >= 0, f"parameter 'rate' must be non-negative; got {_show(ops, r)}", label)
        _finite(ops, r, "rate", label)

    def support(self, ops, p):
        return (0 * p["rate"], ops.inf)

    def logpmf(self, ops, p, k):
        r = p["rate"]
        ok = _in_support(ops, k)
        ks = ops.where(ok, k, 0.0)
        return ops.where(ok, ops.xlogy(ks, r) - r - ops.lgamma(ks + 1), -ops.inf)

    def scipy(self, p):
        from scipy import stats

        return stats.poisson(p["rate"])


class Geometric(Family):
    def validate(self, ops, p, label):
        q = p["probs"]
        _check(ops, (q > 0) & (q <= 1), f"parameter 'probs' must lie in (0, 1]; got "
               f"{_show(ops, q)}", label)

    def entropy(self, ops, p):
        q = p["probs"]
        return (-ops.xlog1py(1 - q, -q) - ops.xlogy(q, q)) / q

    def support(self, ops, p):
        return (0 * p["probs"], ops.inf)

    def logpmf(self, ops, p, k):
        q = p["probs"]
        ok = _in_support(ops, k)
        ks = ops.where(ok, k, 0.0)
        return ops.where(ok, ops.xlog1py(ks, -q) + ops.log(q), -ops.inf)

    def scipy(self, p):
        from scipy import stats

        return stats.geom(p["probs"], loc=-1)


class NegBinomial(Family):
    def validate(self, ops, p, label):
        _positive(ops, p["total_count"], "total_count", label)
        q = p["probs"]
        _check(ops, (q > 0) & (q <= 1), f"parameter 'probs' must lie in (0, 1]; got "
               f"{_show(ops, q)}", label)

    def support(self, ops, p):
        return (0 * p["probs"], ops.inf)

    def logpmf(self, ops, p, k):
        r, q = p["total_count"], p["probs"]
        ok = _in_support(ops, k)
        ks = ops.where(ok, k, 0.0)
        v = (ops.lgamma(ks + r) - ops.lgamma(r) - ops.lgamma(ks + 1) + ops.xlogy(r, q)
             + ops.xlog1py(ks, -q))
        return ops.where(ok, v, -ops.inf)

    def scipy(self, p):
        from scipy import stats

        return stats.nbinom(p["total_count"], p["probs"])


class Categorical(Family):
    def validate(self, ops, p, label):
        _prob(ops, p["probs"], "probs", label)

    def entropy(self, ops, p):
        return -ops.sum(ops.xlogy(p["probs"], p["probs"]), -1)


# --- multivariate -----------------------------------------------------------------------


class Dirichlet(Family):
    def validate(self, ops, p, label):
        a = p["concentration"]
        if len(ops.shape(a)) < 1 or ops.shape(a)[-1] < 2:
            raise ValueError(f"{label}: concentration needs at least 2 components along its "
                             f"last axis; got shape {ops.shape(a)}")
        _positive(ops, a, "concentration", label)

    def entropy(self, ops, p):
        a = p["concentration"]
        k = ops.shape(a)[-1]
        a0 = ops.sum(a, -1)
        lnb = ops.sum(ops.lgamma(a), -1) - ops.lgamma(a0)
        return lnb + (a0 - k) * ops.digamma(a0) - ops.sum((a - 1) * ops.digamma(a), -1)


class MVN(Family):
    def validate(self, ops, p, label):
        d = ops.diagonal(p["scale_tril"])
        _positive(ops, d, "scale_tril diagonal (covariance must be positive definite)", label)

    def entropy(self, ops, p):
        tril = p["scale_tril"]
        d = ops.shape(tril)[-1]
        return d / 2 * (1 + LOG_2PI) + ops.sum(ops.log(ops.diagonal(tril)), -1)


class Independent(Family):
    def validate(self, ops, p, label):
        pass

    def entropy(self, ops, p):
        base = p["base"]
        spec = FAMILIES.get(base.family)
        h = spec.entropy(base.ops, base.params) if spec else None
        if h is None:
            return None
        return sum_last(ops, h, p["ndims"])


def sum_last(ops, x, n: int):
    for _ in range(n):
        x = ops.sum(x, -1)
    return x


FAMILIES: dict[str, Family] = {
    "normal": Normal(), "laplace": Laplace(), "cauchy": Cauchy(), "gumbel": Gumbel(),
    "uniform": Uniform(), "studentt": StudentT(), "vonmises": VonMises(), "gamma": Gamma(),
    "beta": Beta(), "lognormal": LogNormal(), "pareto": Pareto(), "halfnormal": HalfNormal(),
    "weibull": Weibull(), "bernoulli": Bernoulli(), "binomial": Binomial(),
    "poisson": Poisson(), "geometric": Geometric(), "negbinomial": NegBinomial(),
    "categorical": Categorical(), "dirichlet": Dirichlet(), "mvn": MVN(),
    "independent": Independent(),
}


def batch_shape(d: Dist) -> tuple[int, ...]:
    """The batch shape of ``d`` (torch's ``batch_shape``; scipy's broadcast parameter shape)."""
    import numpy as np

    if d.source == "torch":
        return tuple(d.obj.batch_shape)
    if d.family in ("mvn", "dirichlet") or (d.family == "scipy"
                                             and d.extra.get("kind") == "multivariate"):
        return ()
    if d.family == "scipy":
        f = d.obj
        parsed = f.dist._parse_args(*f.args, **f.kwds)
        return np.broadcast_shapes(*(np.shape(a) for a in (*parsed[0], *parsed[1:])))
    shapes = [np.shape(v) for v in d.params.values()]
    return np.broadcast_shapes(*shapes, np.shape(d.shift), np.shape(d.width))


def support(d: Dist):
    """(lo, hi) of a 1-D family, scipy shift and beta width applied."""
    lo, hi = FAMILIES[d.family].support(d.ops, d.params)
    if d.family == "beta":
        return (lo * d.width + d.shift, hi * d.width + d.shift)
    return (lo + d.shift, hi + d.shift)


def scipy_frozen(d: Dist):
    """A scipy frozen distribution equal to ``d`` (numpy parameters, shift and width applied)."""
    if d.family == "scipy":
        return d.obj
    p = {k: d.ops.to_numpy(v) for k, v in d.params.items()}
    f = FAMILIES[d.family].scipy(p)
    import numpy as np

    shift = np.asarray(d.shift, dtype=np.float64)
    width = np.asarray(d.width, dtype=np.float64)
    if np.all(shift == 0) and np.all(width == 1):
        return f
    args, kwds = f.args, dict(f.kwds)
    parsed = f.dist._parse_args(*args, **kwds)
    if d.family in DISCRETE:
        return f.dist(*parsed[0], loc=parsed[1] + shift)
    return f.dist(*parsed[0], loc=parsed[1] * width + shift, scale=parsed[2] * width)
