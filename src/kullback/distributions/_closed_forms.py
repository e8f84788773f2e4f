"""The closed-form registry: KL divergences and cross-entropies keyed by (family P, family Q).

Three kinds of entries:

* same-family KL formulas written out (stable as P -> Q: no cancellation of two
  cross-entropy-sized terms);
* cross-family pairs derived from the statistics machinery: each family as Q states
  which expectations of X it needs for ``E_P[log q(X)]`` (``Family.needs``), each family
  as P supplies those its ``stats`` define (``Family.provides``); every pair where the supply
  covers the need is registered, with ``KL = H(P, Q) - H(P)``;
* pairs whose supports can never nest (a Normal against anything on a half line, a
  Poisson against a Binomial, ...), decided from each family's support, registered as ``+inf``.

Extend by decorating a function ``f(ops, p, q) -> KL`` with ``@register("fam_p", "fam_q")``
(families and parametrisations: :mod:`kullback.distributions.families`). Users register pairs
of their own classes with the public :func:`kullback.distributions.register_kl`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kullback.distributions._dist_ops import EULER
from kullback.distributions._family import (
    FAMILIES,
    Dist,
    align,
    families_of_kind,
    sum_last,
    support,
)
from kullback.distributions.families.discrete import two_point
from kullback.measures import _kernels

__all__ = [
    "JS_REGISTRY",
    "REGISTRY",
    "NotApplicable",
    "Rule",
    "closed_cross",
    "closed_entropy",
    "closed_js",
    "closed_kl",
    "has_closed_entropy",
    "independent_kl",
    "inf_like",
    "lookup",
    "mask_inf",
    "register",
]


@dataclass(frozen=True)
class Rule:
    """One registry entry: ``kind`` is "kl" (fn returns KL) or "cross" (fn returns H(P, Q))."""

    kind: str
    fn: Callable[..., Any]
    note: str


REGISTRY: dict[tuple[str, str], Rule] = {}
# Jensen-Shannon in closed form: pairs of finite pmfs, through the core's JS kernel
JS_REGISTRY: dict[tuple[str, str], Callable[..., Any]] = {}


class NotApplicable(Exception):
    """The registered formula does not apply to these parameters (e.g. different scipy loc)."""


def register(fam_p: str, fam_q: str, note: str = "closed form") -> Callable:
    """Decorator: ``f(ops, p, q) -> KL`` in nats for the family keys ``(fam_p, fam_q)``."""

    def deco(fn):
        REGISTRY[(fam_p, fam_q)] = Rule("kl", fn, note)
        return fn

    return deco


# ----------------------------------------------------------------------------- helpers


def inf_like(ops, *xs):
    """+inf in the broadcast shape of ``xs`` (torch: the dtype of the first tensor)."""
    import numpy as np

    shape = np.broadcast_shapes(*(ops.shape(x) for x in xs))
    if ops.name == "torch":
        torch = ops.torch
        ref = next((x for x in xs if isinstance(x, torch.Tensor)), None)
        dtype = ref.dtype if ref is not None else torch.get_default_dtype()
        return torch.full(shape, math.inf, dtype=dtype)
    return np.full(shape, np.inf)


def mask_inf(ops, cond, value):
    """``value`` with +inf where ``cond``; python-bool conditions are handled without a where."""
    if isinstance(cond, bool):
        return value + ops.inf if cond else value
    if ops.name == "torch" and not isinstance(cond, ops.torch.Tensor):
        cond = ops.torch.as_tensor(cond)
    return ops.where(cond, ops.inf, value)


def _bern_kl(ops, p, q):
    """KL of Bernoullis: the core's Bregman terms of (1 - p, p) against (1 - q, q)."""
    P, Q = (two_point(ops, x) for x in ops.broadcast(p, q))
    return ops.sum(_kernels.kl_terms(ops.xp(P), P, Q), -1)


# ----------------------------------------------------------------------------- same family


@register("normal", "normal")
def _normal_normal(ops, p, q):
    r = ops.log(p["scale"]) - ops.log(q["scale"])
    z = (p["loc"] - q["loc"]) / q["scale"]
    return 0.5 * z * z + 0.5 * (ops.expm1(2 * r) - 2 * r)


@register("lognormal", "lognormal", "closed form (= KL of the underlying normals)")
def _lognormal_lognormal(ops, p, q):
    return _normal_normal(ops, p, q)


@register("halfnormal", "halfnormal")
def _halfnormal_halfnormal(ops, p, q):
    r = ops.log(p["scale"]) - ops.log(q["scale"])
    return 0.5 * (ops.expm1(2 * r) - 2 * r)


@register("laplace", "laplace")
def _laplace_laplace(ops, p, q):
    b1, b2 = p["scale"], q["scale"]
    d = ops.abs(p["loc"] - q["loc"])
    return ops.log(b2 / b1) + d / b2 + b1 / b2 * ops.exp(-d / b1) - 1


@register("cauchy", "cauchy", "closed form (Chyzak & Nielsen 2019)")
def _cauchy_cauchy(ops, p, q):
    g1, g2 = p["scale"], q["scale"]
    d = p["loc"] - q["loc"]
    # log(((g1+g2)^2 + d^2) / (4 g1 g2)) = log1p(((g1-g2)^2 + d^2) / (4 g1 g2))
    return ops.log1p(((g1 - g2) ** 2 + d * d) / (4 * g1 * g2))


@register("gumbel", "gumbel")
def _gumbel_gumbel(ops, p, q):
    m1, b1, m2, b2 = p["loc"], p["scale"], q["loc"], q["scale"]
    r = b1 / b2
    return (ops.log(b2 / b1) + EULER * (r - 1) + (m1 - m2) / b2
            + ops.expm1((m2 - m1) / b2 + ops.lgamma(1 + r)))


@register("uniform", "uniform")
def _uniform_uniform(ops, p, q):
    kl = ops.log((q["high"] - q["low"]) / (p["high"] - p["low"]))
    return mask_inf(ops, (p["low"] < q["low"]) | (p["high"] > q["high"]), kl)


@register("gamma", "gamma", "closed form (Exponential and Chi2 are Gammas)")
def _gamma_gamma(ops, p, q):
    a1, b1, a2, b2 = p["concentration"], p["rate"], q["concentration"], q["rate"]
    return ((a1 - a2) * ops.digamma(a1) - ops.lgamma(a1) + ops.lgamma(a2)
            + a2 * (ops.log(b1) - ops.log(b2)) + a1 * (b2 - b1) / b1)


@register("beta", "beta")
def _beta_beta(ops, p, q):
    a1, b1, a2, b2 = p["alpha"], p["beta"], q["alpha"], q["beta"]
    return (ops.lbeta(a2, b2) - ops.lbeta(a1, b1) + (a1 - a2) * ops.digamma(a1)
            + (b1 - b2) * ops.digamma(b1) + (a2 - a1 + b2 - b1) * ops.digamma(a1 + b1))


@register("pareto", "pareto")
def _pareto_pareto(ops, p, q):
    x1, a1, x2, a2 = p["scale"], p["alpha"], q["scale"], q["alpha"]
    kl = ops.log(a1 / a2) + a2 * ops.log(x1 / x2) + a2 / a1 - 1
    return mask_inf(ops, x1 < x2, kl)


@register("weibull", "weibull", "closed form (Bauckhage 2013)")
def _weibull_weibull(ops, p, q):
    k1, l1, k2, l2 = p["concentration"], p["scale"], q["concentration"], q["scale"]
    return (ops.log(k1 / k2) - k1 * ops.log(l1) + k2 * ops.log(l2)
            + (k1 - k2) * (ops.log(l1) - EULER / k1)
            + ops.exp(k2 * ops.log(l1 / l2) + ops.lgamma(k2 / k1 + 1)) - 1)


@register("vonmises", "vonmises")
def _vonmises_vonmises(ops, p, q):
    k1, k2 = p["concentration"], q["concentration"]
    a1 = ops.i1e(k1) / ops.i0e(k1)
    # log I0(k2)/I0(k1) with I0(k) = i0e(k) e^k
    lr = ops.log(ops.i0e(k2)) - ops.log(ops.i0e(k1)) + k2 - k1
    return lr + (k1 - k2 * ops.cos(p["loc"] - q["loc"])) * a1


@register("bernoulli", "bernoulli")
def _bernoulli_bernoulli(ops, p, q):
    return _bern_kl(ops, p["probs"], q["probs"])


@register("binomial", "binomial", "closed form n KL(Bern) for equal n; exact finite sum otherwise")
def _binomial_binomial(ops, p, q):
    n1, n2 = p["total_count"], q["total_count"]
    if not ops.any(n1 != n2):
        return n1 * _bern_kl(ops, p["probs"], q["probs"])
    spec = FAMILIES["binomial"]
    import numpy as np

    # the exact finite sum over 0..max n of the core's Bregman terms (Q's own mass beyond n_P)
    kmax = int(max(np.max(ops.to_numpy(n1)), np.max(ops.to_numpy(n2))))
    k = ops.asarray(np.arange(kmax + 1, dtype=np.float64), p["probs"])
    k = k.reshape((kmax + 1,) + (1,) * len(_bshape(ops, p, q)))
    lp, lq = ops.broadcast(spec.logpmf(ops, p, k), spec.logpmf(ops, q, k))
    kl = ops.sum(_kernels.log_kl_terms(ops.xp(lp), lp, lq), 0)
    return mask_inf(ops, n1 > n2, kl)


def _bshape(ops, p, q):
    import numpy as np

    shapes = [ops.shape(v) for v in (*p.values(), *q.values())]
    return np.broadcast_shapes(*shapes)


@register("poisson", "poisson")
def _poisson_poisson(ops, p, q):
    l1, l2 = p["rate"], q["rate"]
    return ops.xlogy(l1, l1) - ops.xlogy(l1, l2) - l1 + l2


@register("geometric", "geometric")
def _geometric_geometric(ops, p, q):
    p1, p2 = p["probs"], q["probs"]
    return (ops.log(p1) - ops.log(p2)
            + (ops.xlog1py(1 - p1, -p1) - ops.xlog1py(1 - p1, -p2)) / p1)


@register("categorical", "categorical")
def _categorical_categorical(ops, p, q):
    a, b = p["probs"], q["probs"]
    _same_last(ops, a, b, "number of categories")
    # the core's Bregman terms: >= 0 each, 0 (and a zero gradient) where p = 0, +inf where
    # p > 0 = q
    a, b = ops.broadcast(a, b)
    return ops.sum(_kernels.kl_terms(ops.xp(a), a, b), -1)


@register("bernoulli", "poisson")
def _bernoulli_poisson(ops, p, q):
    s, lam = p["probs"], q["rate"]
    # E_P log q = (1 - s)(-lam) + s (log lam - lam)
    return (ops.xlogy(s, s) + ops.xlog1py(1 - s, -s)) + lam - ops.xlogy(s, lam)


@register("dirichlet", "dirichlet")
def _dirichlet_dirichlet(ops, p, q):
    a, b = p["concentration"], q["concentration"]
    _same_last(ops, a, b, "number of components")
    a0, b0 = ops.sum(a, -1), ops.sum(b, -1)
    return (ops.lgamma(a0) - ops.sum(ops.lgamma(a), -1) - ops.lgamma(b0)
            + ops.sum(ops.lgamma(b), -1)
            + ops.sum((a - b) * (ops.digamma(a) - ops.digamma(a0)[..., None]), -1))


@register("mvn", "mvn", "closed form (Cholesky factors, triangular solves)")
def _mvn_mvn(ops, p, q):
    lp, lq = p["scale_tril"], q["scale_tril"]
    _same_last(ops, lp, lq, "dimension")
    _same_last(ops, p["loc"], q["loc"], "dimension")
    d = ops.shape(lp)[-1]
    m = ops.solve_lower(lq, lp)
    diff = (p["loc"] - q["loc"])[..., None]
    z = ops.solve_lower(lq, diff)
    half_logdet = ops.sum(ops.log(ops.diagonal(lq)), -1) - ops.sum(ops.log(ops.diagonal(lp)), -1)
    kl = half_logdet + 0.5 * (ops.sum(ops.sum(m * m, -1), -1) + ops.sum(z[..., 0] ** 2, -1) - d)
    return ops.maximum(kl, 0.0)


def _same_last(ops, a, b, what):
    sa, sb = ops.shape(a), ops.shape(b)
    if sa[-1:] != sb[-1:]:
        raise ValueError(f"P and Q differ in {what}: {sa[-1:]} vs {sb[-1:]} (shapes {sa}, {sb})")


# ----------------------------------------------------------------------------- Independent


def _as_mvn(d: Dist) -> Dist | None:
    """Independent(Normal, 1) as a diagonal MultivariateNormal."""
    if d.family == "mvn":
        return d
    if d.family == "independent" and d.params["ndims"] == 1:
        base = d.params["base"]
        if base.family == "normal":
            ops = d.ops
            loc, scale = ops.broadcast(base.params["loc"], base.params["scale"])
            return Dist("mvn", {"loc": loc, "scale_tril": ops.diag_embed(scale)}, ops,
                        d.source, d.obj, d.label)
    return None


def independent_kl(P: Dist, Q: Dist):
    """KL for Independent pairs: sum of base KLs, or dense MVN against a MultivariateNormal."""
    if P.family == Q.family == "independent" and P.params["ndims"] == Q.params["ndims"]:
        kl = closed_kl(P.params["base"], Q.params["base"])
        return sum_last(P.ops, kl, P.params["ndims"])
    mp, mq = _as_mvn(P), _as_mvn(Q)
    if mp is not None and mq is not None:
        return _mvn_mvn(P.ops, mp.params, mq.params)
    raise NotApplicable(
        "Independent pairs need equal reinterpreted_batch_ndims, or Independent(Normal, 1) "
        "against a MultivariateNormal"
    )


# ----------------------------------------------------------------------------- cross family


def _always_inf(fp: str, fq: str) -> bool:
    """Support of P can never lie inside the support of Q (decided from the families alone)."""
    sp, sq = FAMILIES[fp], FAMILIES[fq]
    if sp.bounded is None or sq.bounded is None or sp.kind != sq.kind:
        return False  # continuous vs discrete: no common dominating measure; not registered
    (lp, up), (lq, uq) = sp.bounded, sq.bounded
    return (not lp and lq) or (not up and uq)


def _make_cross(fp: str, fq: str) -> Rule:
    def fn(ops, P: Dist, Q: Dist):
        S = FAMILIES[fp].stats(ops, P.params)
        lq = FAMILIES[fq].log_expect(ops, Q.params, S)
        lo_p, hi_p = support(P)
        lo_q, hi_q = support(Q)
        return mask_inf(ops, _lt(ops, lo_p, lo_q) | _lt(ops, hi_q, hi_p), -lq)

    return Rule("cross", fn, f"closed form E_P[log q] from moments of {FAMILIES[fp].name}")


def _lt(ops, a, b):
    return a < b


def _make_inf(fp: str, fq: str) -> Rule:
    def fn(ops, p, q):
        return inf_like(ops, *p.values(), *q.values())

    name_p, name_q = FAMILIES[fp].name, FAMILIES[fq].name
    return Rule("kl", fn, f"+inf: the support of {name_p} always exceeds that of {name_q}")


def _populate() -> None:
    """Register every cross-family pair the families' declarations decide: +inf where the
    supports can never nest, E_P[log q] from P's statistics where they cover Q's needs."""
    fams = families_of_kind("continuous") + families_of_kind("discrete")
    for fp in fams:
        for fq in fams:
            if (fp, fq) in REGISTRY or fp == fq:
                continue
            sp, sq = FAMILIES[fp], FAMILIES[fq]
            if _always_inf(fp, fq):
                REGISTRY[(fp, fq)] = _make_inf(fp, fq)
            elif sq.serves_as_q and sp.provides and sq.needs <= sp.provides:
                REGISTRY[(fp, fq)] = _make_cross(fp, fq)


_populate()


# ----------------------------------------------------------------------------- entry points


def lookup(P: Dist, Q: Dist) -> Rule | None:
    if P.family == "independent" or Q.family == "independent":
        return Rule("kl", None, "sum of per-coordinate closed forms")
    return REGISTRY.get((P.family, Q.family))


def closed_kl(P: Dist, Q: Dist):
    """Closed-form KL(P || Q) in nats; NotImplementedError / NotApplicable when there is none."""
    P, Q = align(P, Q)
    ops = P.ops
    if P.family == "independent" or Q.family == "independent":
        return independent_kl(P, Q)
    rule = REGISTRY.get((P.family, Q.family))
    if rule is None:
        raise NotImplementedError(f"no closed form for KL({P.label} || {Q.label})")
    _check_shift(P, Q, rule)
    if rule.kind == "kl":
        return rule.fn(ops, P.params, Q.params)
    cross = rule.fn(ops, P, Q)
    h = FAMILIES[P.family].entropy(ops, P.params) + _log_width(P)
    return mask_inf(ops, ~ops.isfinite(cross), ops.maximum(cross - h, 0.0))


def closed_cross(P: Dist, Q: Dist):
    """Closed-form cross-entropy H(P, Q) in nats (entropy of P must be closed too)."""
    P, Q = align(P, Q)
    ops = P.ops
    rule = lookup(P, Q)
    if rule is not None and rule.kind == "cross":
        _check_shift(P, Q, rule)
        return rule.fn(ops, P, Q)
    kl = closed_kl(P, Q)
    h = closed_entropy(P)
    return h + kl


def _finite_js(ops, P, Q):
    """JS of two pmfs along the last axis: a quarter of the core's JS terms, summed."""
    P, Q = ops.broadcast(P, Q)
    return 0.25 * ops.sum(_kernels.js_terms(ops.xp(P), P, Q), -1)


def _categorical_js(ops, p, q):
    _same_last(ops, p["probs"], q["probs"], "number of categories")
    return _finite_js(ops, p["probs"], q["probs"])


def _bernoulli_js(ops, p, q):
    return _finite_js(ops, two_point(ops, p["probs"]), two_point(ops, q["probs"]))


JS_REGISTRY.update({("categorical", "categorical"): _categorical_js,
                    ("bernoulli", "bernoulli"): _bernoulli_js})


def closed_js(P: Dist, Q: Dist):
    """Closed-form JS(P, Q) in nats; NotImplementedError where none is registered."""
    P, Q = align(P, Q)
    fn = JS_REGISTRY.get((P.family, Q.family))
    if fn is None:
        raise NotImplementedError(f"no closed form for JS({P.label}, {Q.label})")
    return fn(P.ops, P.params, Q.params)


def closed_entropy(P: Dist):
    spec = FAMILIES.get(P.family)
    h = spec.entropy(P.ops, P.params) if spec is not None else None
    if h is None:
        raise NotImplementedError(f"no closed form for the entropy of {P.label}")
    return h + _log_width(P)


def _log_width(P: Dist):
    if P.family == "beta" and not P.standard:
        import numpy as np

        return np.log(np.asarray(P.width, dtype=np.float64))
    return 0.0


def _check_shift(P: Dist, Q: Dist, rule: Rule) -> None:
    if P.standard and Q.standard:
        return
    if rule.note.startswith("+inf"):
        return
    import numpy as np

    if P.family == Q.family and rule.kind == "kl":
        same = np.all(np.asarray(P.shift) == np.asarray(Q.shift)) and np.all(
            np.asarray(P.width) == np.asarray(Q.width))
        if same:
            return  # KL is invariant under a common affine change of variable
    raise NotApplicable(
        f"the closed form for {P.label} || {Q.label} needs scipy's loc = 0 (and scale = 1 for "
        "the beta) unless both are the same family with the same loc/scale"
    )


def has_closed_entropy(P: Dist) -> bool:
    """Whether :func:`closed_entropy` has a formula for ``P``."""
    spec = P.spec
    if spec is None:
        return False
    if P.family == "independent":
        return has_closed_entropy(P.params["base"])
    return spec.has_entropy
