"""Continuous univariate families (x the variate; canonical parametrisations in each docstring)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from kullback.distributions._dist_ops import EULER, LOG_2PI
from kullback.distributions._family import Family, check, family, finite, positive

__all__ = [
    "Beta",
    "Cauchy",
    "Gamma",
    "Gumbel",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "Normal",
    "Pareto",
    "StudentT",
    "Uniform",
    "VonMises",
    "Weibull",
]

_LOCATION_SCALE = {"loc": finite, "scale": positive}


def _sq(S, c):
    """E_P[(X - c)^2] from the mean and variance (infinite when the variance is)."""
    return S["var"]() + (S["mean"]() - c) ** 2


def _times(ops, coef, stat):
    """coef * E[stat], with 0 * (anything) = 0 so an unused statistic never poisons the sum."""
    value = stat()
    return ops.where(coef == 0, 0.0 * coef, coef * value)


def _positive_half_line(ops, p, name):
    return (0 * p[name], ops.inf)


class _LocationScale(Family):
    """Location-scale families on the real line, declared by their standard member:
    log p(x) = log f((x - loc)/scale) - log scale, H = H(f) + log scale."""

    kind = "continuous"
    params, example = _LOCATION_SCALE, {"loc": 0.3, "scale": 1.5}

    standard_entropy: ClassVar[float]  # the entropy of the member with loc 0, scale 1

    def log_standard(self, ops, z):
        """The log density of the member with loc 0 and scale 1."""
        raise NotImplementedError

    def logpdf(self, ops, p, x):
        return self.log_standard(ops, (x - p["loc"]) / p["scale"]) - ops.log(p["scale"])

    def entropy(self, ops, p):
        return self.standard_entropy + ops.log(p["scale"])


class _Shape(Family):
    """Shape families (scipy's loc is a shift on top of the parameters)."""

    kind = "continuous"
    scipy_shift = True


@family
class Normal(_LocationScale):
    """normal(loc, scale): scale is the standard deviation."""

    key, torch, scipy = "normal", ("Normal",), ("norm",)
    needs = frozenset({"mean", "var"})

    standard_entropy = 0.5 + 0.5 * LOG_2PI

    def log_standard(self, ops, z):
        return -0.5 * z * z - 0.5 * LOG_2PI

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


@family
class Laplace(_LocationScale):
    """laplace(loc, scale): density exp(-|x-loc|/scale) / (2 scale)."""

    key, torch, scipy = "laplace", ("Laplace",), ("laplace",)
    needs = frozenset({"absdev"})

    standard_entropy = 1 + math.log(2)

    def log_standard(self, ops, z):
        return -ops.abs(z) - math.log(2)

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


@family
class Cauchy(_LocationScale):
    """cauchy(loc, scale): scale is the half width at half maximum."""

    key, torch, scipy = "cauchy", ("Cauchy",), ("cauchy",)

    standard_entropy = math.log(4 * math.pi)

    def log_standard(self, ops, z):
        return -math.log(math.pi) - ops.log1p(z * z)

    def stats(self, ops, p):
        m = p["loc"]

        def inf(*_):
            return ops.where(m == m, ops.inf, ops.inf) + 0 * m

        return {"mean": lambda: m, "var": inf, "absdev": inf, "lmgf": inf}


@family
class Gumbel(_LocationScale):
    """gumbel(loc, scale): right-skewed (scipy gumbel_r, torch Gumbel)."""

    key, torch, scipy = "gumbel", ("Gumbel",), ("gumbel_r",)
    needs = frozenset({"mean", "lmgf"})

    standard_entropy = EULER + 1

    def log_standard(self, ops, z):
        return -z - ops.exp(-z)

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


@family
class Uniform(Family):
    """uniform(low, high)."""

    key, kind = "uniform", "continuous"
    torch, scipy = ("Uniform",), ("uniform",)
    params, example = {"low": finite, "high": finite}, {"low": 0.25, "high": 0.75}

    def check(self, ops, p, label):
        check(ops, p["high"] > p["low"], "parameter 'high' must exceed 'low'", label)

    def from_scipy(self, name, shapes, loc, scale):
        return {"low": loc, "high": loc + scale}

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

    def to_scipy(self, p):
        from scipy import stats

        return stats.uniform(p["low"], p["high"] - p["low"])


@family
class StudentT(Family):
    """studentt(df, loc, scale)."""

    key, kind = "studentt", "continuous"
    torch, scipy = ("StudentT",), ("t",)
    params: ClassVar[dict[str, Any]] = {"df": positive, **_LOCATION_SCALE}
    example, scipy_shapes = {"df": 4.0, "loc": 0.3, "scale": 1.5}, ("df",)

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


@family
class VonMises(Family):
    """vonmises(loc, concentration): scipy vonmises with scale 1 (another scale is not this
    family: it goes to the numerical fallbacks with scipy's own density)."""

    key, kind = "vonmises", "continuous"
    torch, scipy = ("VonMises",), ("vonmises",)
    params: ClassVar[dict[str, Any]] = {"loc": finite, "concentration": positive}
    example, scipy_shapes = {"loc": 0.3, "concentration": 2.0}, ("concentration",)
    circular = True

    def from_scipy(self, name, shapes, loc, scale):
        import numpy as np

        return {"loc": loc, "concentration": shapes[0]} if np.all(scale == 1) else None

    def logpdf(self, ops, p, x):
        k = p["concentration"]
        return k * (ops.cos(x - p["loc"]) - 1) - LOG_2PI - ops.log(ops.i0e(k))

    def entropy(self, ops, p):
        k = p["concentration"]
        return LOG_2PI + ops.log(ops.i0e(k)) + k * (1 - ops.i1e(k) / ops.i0e(k))

    def support(self, ops, p):
        return (-math.pi + 0 * p["loc"], math.pi + 0 * p["loc"])


@family
class Gamma(_Shape):
    """gamma(concentration, rate): density rate^a x^(a-1) e^(-rate x) / Gamma(a);
    Exponential(rate) = gamma(1, rate), Chi2(df) = gamma(df/2, 1/2)."""

    key, torch, scipy = "gamma", ("Gamma", "Exponential"), ("gamma", "expon", "chi2", "erlang")
    params: ClassVar[dict[str, Any]] = {"concentration": positive, "rate": positive}
    example: ClassVar[dict[str, Any]] = {"concentration": 2.0, "rate": 1.5}
    needs = frozenset({"mean", "mlog"})

    def from_torch(self, obj, ops):
        rate = obj.rate  # Chi2 is a Gamma subclass; Exponential has no concentration
        a = getattr(obj, "concentration", None)
        return {"concentration": ops.torch.ones_like(rate) if a is None else a, "rate": rate}

    def from_scipy(self, name, shapes, loc, scale):
        import numpy as np

        if name == "expon":
            a = np.float64(1.0)
        else:  # gamma and erlang take the shape as it is; chi2's df is twice it
            a = shapes[0] / 2 if name == "chi2" else shapes[0]
        rate = 1 / (2 * scale) if name == "chi2" else 1 / scale
        return {"concentration": np.asarray(a, dtype=np.float64), "rate": rate}

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
        return _positive_half_line(ops, p, "rate")

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

    def to_scipy(self, p):
        from scipy import stats

        return stats.gamma(p["concentration"], scale=1 / p["rate"])


@family
class Beta(_Shape):
    """beta(alpha, beta): alpha is the exponent on x (torch concentration1)."""

    key, torch, scipy = "beta", ("Beta",), ("beta",)
    params: ClassVar[dict[str, Any]] = {"alpha": positive, "beta": positive}
    example, scipy_shapes = {"alpha": 2.0, "beta": 3.0}, ("alpha", "beta")
    scipy_width = True
    torch_attrs: ClassVar[dict[str, Any]] = {"alpha": "concentration1", "beta": "concentration0"}
    needs = frozenset({"mlog", "mlog1m"})

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


@family
class LogNormal(_Shape):
    """lognormal(loc, scale): mean and std of log X (scipy: s = scale, scale = exp(loc))."""

    key, torch, scipy = "lognormal", ("LogNormal",), ("lognorm",)
    params, example = _LOCATION_SCALE, {"loc": 0.3, "scale": 0.8}
    needs = frozenset({"mlog", "vlog"})

    def from_scipy(self, name, shapes, loc, scale):
        import numpy as np

        return {"loc": np.log(scale), "scale": shapes[0]}

    def logpdf(self, ops, p, x):
        pos = x > 0
        lx = ops.log(ops.where(pos, x, 1.0))
        z = (lx - p["loc"]) / p["scale"]
        v = -lx - 0.5 * z * z - 0.5 * LOG_2PI - ops.log(p["scale"])
        return ops.where(pos, v, -ops.inf)

    def entropy(self, ops, p):
        return p["loc"] + 0.5 + 0.5 * LOG_2PI + ops.log(p["scale"])

    def support(self, ops, p):
        return _positive_half_line(ops, p, "scale")

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

    def to_scipy(self, p):
        import numpy as np
        from scipy import stats

        return stats.lognorm(p["scale"], scale=np.exp(p["loc"]))


@family
class Pareto(_Shape):
    """pareto(scale, alpha): support x >= scale (scipy pareto(b=alpha, scale=scale))."""

    key, torch, scipy = "pareto", ("Pareto",), ("pareto",)
    params: ClassVar[dict[str, Any]] = {"scale": positive, "alpha": positive}
    example, scipy_shapes = {"scale": 1.0, "alpha": 3.0}, ("alpha",)
    needs = frozenset({"mlog"})

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


@family
class HalfNormal(_Shape):
    """halfnormal(scale)."""

    key, torch, scipy = "halfnormal", ("HalfNormal",), ("halfnorm",)
    params, example = {"scale": positive}, {"scale": 1.5}
    needs = frozenset({"mean", "var"})

    def logpdf(self, ops, p, x):
        z = x / p["scale"]
        v = 0.5 * math.log(2 / math.pi) - ops.log(p["scale"]) - 0.5 * z * z
        return ops.where(x >= 0, v, -ops.inf)

    def entropy(self, ops, p):
        return 0.5 * math.log(math.pi / 2) + ops.log(p["scale"]) + 0.5

    def support(self, ops, p):
        return _positive_half_line(ops, p, "scale")

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


@family
class Weibull(_Shape):
    """weibull(concentration, scale): shape k, scale lambda (scipy weibull_min(c=k, scale))."""

    key, torch, scipy = "weibull", ("Weibull",), ("weibull_min",)
    params: ClassVar[dict[str, Any]] = {"concentration": positive, "scale": positive}
    example, scipy_shapes = {"concentration": 1.7, "scale": 1.5}, ("concentration",)
    needs = frozenset({"mlog", "moment"})

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
        return _positive_half_line(ops, p, "scale")

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

