"""Numerical fallbacks: adaptive quadrature, exact summation with a tail bound, Monte Carlo.

The terms are the core's kernels (:mod:`kullback.measures._kernels`) evaluated on log
densities, so they are never negative (Bregman KL and JS terms) and never take an epsilon:

* :func:`quadrature` - 1-D continuous P (and Q): ``scipy.integrate.quad`` of the terms over the
  support of P (the union of both supports for JS), split at the 0.1 %, 50 % and 99.9 %
  quantiles (also Q's, for KL) and at Q's median and support ends. The KL terms are the
  Bregman ones, ``p (q/p - 1 - log(q/p))`` (Q's own mass where P has none), plus Q's exact mass
  outside the range of integration, so the ``q - p`` additions cancel.
  Returns the value and quad's absolute error estimate. NumPy only: torch inputs give a torch
  result without a gradient. torch families kullback does not declare are integrated with
  torch's own ``log_prob`` and support.
* :func:`discrete_sum` - discrete P: the sum over the support of P (of both, for JS) in the
  ops flavour of the inputs (torch results keep their gradient). KL sums the Bregman terms
  ``p (q/p - 1 - log(q/p))`` and adds Q's exact mass outside the summed range, so the
  ``q - p`` additions cancel exactly. Infinite supports are cut at a point K where the terms
  decay geometrically; the tail beyond K is bounded by ``t_K * rho / (1 - rho)`` with
  ``rho = t_K / t_(K-1)`` (valid when the term ratio keeps decreasing past K, as for every
  log-concave pmf such as Poisson, binomial, geometric and negative binomial with r >= 1).
  K doubles until that bound is below ``rtol * |sum| / 1000``.
* :func:`monte_carlo` - any pair: seeded samples; returns the mean of the log-ratio and its
  standard error (for JS, of P and of Q against the mixture). Only used for ``method="mc"``:
  sample averages of log-ratios are a genuinely different quantity from the kernels' terms.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from kullback.distributions._dist_ops import numpy_ops
from kullback.distributions._family import Dist, align, batch_shape, scipy_frozen
from kullback.measures import _kernels

__all__ = ["discrete_sum", "monte_carlo", "quadrature"]

_MAX_TERMS = 1 << 24  # grid points x batch elements for one summation pass
_LN2 = math.log(2.0)
_JS_QUANTILES = [1e-12, 1e-8, 1e-5, 1e-3, 0.02, 0.2, 0.5, 0.8, 0.98, 1 - 1e-3, 1 - 1e-5,
                 1 - 1e-8, 1 - 1e-12]


# ----------------------------------------------------------------------------- the terms


def _log_terms(xp, what: str, lp, lq):
    """The non-negative terms of ``what`` from log densities, through the core's kernels."""
    if what == "entropy":
        return -_kernels.log_entropy_terms(xp, lp)
    if what == "cross":
        return -_kernels.log_cross_entropy_terms(xp, lp, lq)
    if what == "kl":
        return _kernels.log_kl_terms(xp, lp, lq)
    if what == "js":
        return 0.25 * _kernels.log_js_terms(xp, lp, lq)
    raise ValueError(f"unknown quantity {what!r}")


def _integrand(what: str, lp: float, lq: float) -> float:
    """The quadrature integrand at one point, the core's term; where p underflows, the term
    without p (q for the Bregman KL, 0 for entropy and cross-entropy), whatever log q is."""
    if what != "js" and math.exp(lp) == 0.0:
        return math.exp(lq) if what == "kl" else 0.0
    return float(_log_terms(np, what, np.float64(lp), np.float64(lq)))


# ----------------------------------------------------------------------------- elements


class _Element:
    """One scalar 1-D distribution: log density, support, quantiles (exact, or a sample's),
    family name, and the exact probability outside an interval (None where unknown)."""

    def __init__(self, logpdf, support, ppf, name, exact_ppf=True, outside=None):
        self.logpdf, self.support, self.ppf, self.name = logpdf, support, ppf, name
        self.exact_ppf, self.outside = exact_ppf, outside


def _local(idx: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    tail = idx[len(idx) - len(shape):] if shape else ()
    return tuple(i if n > 1 else 0 for i, n in zip(tail, shape, strict=True))


def _elements(d: Dist):
    """idx -> the :class:`_Element` of batch element ``idx`` of ``d``."""
    if d.family == "scipy":
        return _scipy_elements(d)
    if d.family == "torch":
        return _torch_elements(d)
    return _family_elements(d)


def _scipy_elements(d: Dist):
    frozen = d.obj
    dist = frozen.dist
    parsed = dist._parse_args(*frozen.args, **frozen.kwds)
    shapes = [np.asarray(s, dtype=np.float64) for s in parsed[0]]
    arrays = np.broadcast_arrays(*shapes, np.asarray(parsed[1], dtype=np.float64),
                                 np.asarray(parsed[2], dtype=np.float64))

    def make(idx):
        vals = [float(a[idx]) for a in arrays]
        f = dist(*vals[:-2], loc=vals[-2], scale=vals[-1])
        return _Element(f.logpdf, tuple(float(v) for v in f.support()), f.ppf, dist.name,
                        outside=lambda a, b: float(f.cdf(a) + f.sf(b)))

    return make


def _family_elements(d: Dist):
    nops = numpy_ops()
    spec = d.spec
    bshape = batch_shape(d)
    params = {k: np.broadcast_to(d.ops.to_numpy(v), bshape)
              for k, v in d.params.items()}
    shift = np.broadcast_to(np.asarray(d.shift, dtype=np.float64), bshape)
    width = np.broadcast_to(np.asarray(d.width, dtype=np.float64), bshape)

    def make(idx):
        pi = {k: np.float64(v[idx]) for k, v in params.items()}
        s, w = float(shift[idx]), float(width[idx])
        lw = math.log(w)
        lo, hi = (float(v) for v in spec.support(nops, pi))
        frozen = spec.to_scipy(pi)

        def logpdf(x):
            return spec.logpdf(nops, pi, (x - s) / w) - lw

        def ppf(q):
            return np.asarray(frozen.ppf(q)) * w + s

        def outside(a, b):
            return float(frozen.cdf((a - s) / w) + frozen.sf((b - s) / w))

        return _Element(logpdf, (lo * w + s, hi * w + s), ppf, d.family, outside=outside)

    return make


def _torch_elements(d: Dist):
    """Elements of a torch family kullback does not declare: torch's log_prob and support;
    torch's icdf (which also narrows the support) and cdf where the family has them, else the
    quantiles of a seeded sample (they only choose where quadrature splits its range)."""
    import torch

    obj = d.obj
    bshape = tuple(obj.batch_shape)
    icdf = _torch_batch_function(obj, "icdf", [0.0, 1.0])
    lo = np.broadcast_to(_bound(obj.support, "lower_bound", -math.inf), bshape)
    hi = np.broadcast_to(_bound(obj.support, "upper_bound", math.inf), bshape)
    if icdf is not None:
        ends = icdf([0.0, 1.0])
        lo, hi = np.maximum(lo, ends[0]), np.minimum(hi, ends[1])
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)
        sample = obj.sample((2001,)).detach().to(torch.float64).cpu().numpy()
    sample = sample.reshape((2001, *bshape))
    cdf = _torch_batch_function(obj, "cdf", [float(np.median(sample))])

    def make(idx):
        def logpdf(x):
            value = torch.full(bshape, float(x), dtype=torch.float64)
            with torch.no_grad():
                return float(_log_prob_any(d, value).to(torch.float64)[idx])

        def ppf(q):
            if icdf is not None:
                return icdf(q)[(slice(None), *idx)]
            return np.quantile(sample[(slice(None), *idx)], q)

        def outside(a, b):
            f = cdf([a, b])[(slice(None), *idx)]
            return float(f[0] + (1.0 - f[1]))

        return _Element(logpdf, (float(lo[idx]), float(hi[idx])), ppf, type(obj).__name__,
                        exact_ppf=icdf is not None, outside=outside if cdf else None)

    return make


def _torch_batch_function(obj, name: str, probe):
    """``points -> array (len(points), *batch_shape)`` evaluating torch's ``obj.<name>`` (icdf,
    cdf), or None where the family does not implement it."""
    import torch

    bshape = tuple(obj.batch_shape)

    def evaluate(points):
        grid = torch.as_tensor(np.asarray(points, dtype=np.float64), dtype=torch.float64)
        grid = grid.reshape((-1,) + (1,) * len(bshape)).expand((-1, *bshape))
        chain = _distribution_chain(obj)
        saved = [c._validate_args for c in chain]
        for c in chain:
            c._validate_args = False
        try:
            with torch.no_grad():
                return getattr(obj, name)(grid).to(torch.float64).cpu().numpy()
        finally:
            for c, v in zip(chain, saved, strict=True):
                c._validate_args = v

    try:
        if not np.all(np.isfinite(evaluate(probe)) | np.isinf(evaluate(probe))):
            return None
    except (NotImplementedError, RuntimeError, ValueError, TypeError):
        return None
    return evaluate


def _bound(constraint, name: str, default: float):
    value = getattr(constraint, name, default)
    if hasattr(value, "detach"):
        value = value.detach().to("cpu").double().numpy()
    return np.asarray(value, dtype=np.float64)


# ----------------------------------------------------------------------------- quadrature


def quadrature(P: Dist, Q: Dist | None, what: str, rtol: float):
    """(value, abs_error) in nats as NumPy arrays, by adaptive quadrature per batch element."""
    sp = batch_shape(P)
    sq = batch_shape(Q) if Q is not None else ()
    shape = np.broadcast_shapes(sp, sq)
    value = np.empty(shape)
    error = np.empty(shape)
    at_p = _elements(P)
    at_q = _elements(Q) if Q is not None else None
    for idx in np.ndindex(shape):
        p = at_p(_local(idx, sp))
        q = at_q(_local(idx, sq)) if at_q is not None else None
        value[idx], error[idx] = _quad_one(p, q, what, rtol)
    return value, error


def _domain(p: _Element, q: _Element | None, what: str) -> tuple[float, float] | None:
    """The range of integration; None when the support of P reaches outside Q's (+inf)."""
    a, b = (float(v) for v in p.support)
    if q is None or (p.name == "vonmises" and q.name == "vonmises"):
        return a, b  # von Mises densities are 2 pi-periodic: one period of P
    qa, qb = (float(v) for v in q.support)
    if what == "js":
        return min(a, qa), max(b, qb)
    if a < qa or b > qb:
        return None
    return a, b


def _cuts(p: _Element, q: _Element | None, what: str) -> list[float]:
    """Points where quad should split: quantiles of P (and of Q for JS), Q's median and
    support ends (Laplace's cusp, a truncated support: kinks of log q)."""
    if what == "js":  # both densities matter everywhere, on scales that may differ by
        # orders of magnitude: split at quantiles of both from far out in the tails
        return [float(c) for d in (p, q) for c in (*d.ppf(_JS_QUANTILES), *d.support)]
    cuts = [float(c) for c in p.ppf([1e-3, 0.5, 1 - 1e-3])]
    if q is not None:  # the Bregman KL terms carry Q's mass where P has none
        cuts += [float(c) for c in q.ppf([1e-3, 0.5, 1 - 1e-3] if what == "kl" else [0.5])]
        cuts += [float(c) for c in q.support]
    return cuts


def _quad_one(p: _Element, q: _Element | None, what: str, rtol: float) -> tuple[float, float]:
    domain = _domain(p, q, what)
    if domain is None:
        return math.inf, 0.0
    a, b = domain
    lqdf = q.logpdf if q is not None else (lambda x: -math.inf)

    def f(x):
        return _integrand(what, float(p.logpdf(x)), float(lqdf(x)))

    points = [a, *sorted({c for c in _cuts(p, q, what) if a < c < b and math.isfinite(c)}), b]
    total, err = _integrate(f, points, rtol)
    if what == "kl":  # the Bregman terms' q - p add up to 0 only with Q's mass outside [a, b]
        total += _mass_outside(q, a, b, points, rtol)
    if what == "js" and not (_sees_all_mass(p, points, rtol) and _sees_all_mass(q, points, rtol)):
        total, err = _js_in_quantiles(p, q, rtol)
    elif what != "js" and not _sees_all_mass(p, points, rtol):
        raise NotImplementedError(
            f"quadrature cannot resolve the density of {p.name} (it does not integrate to 1 "
            "over the pieces quadrature can locate: a spike or a singularity); use method='mc'")
    if what in ("kl", "js") and total < 0:
        total = 0.0
    return total, err


def _mass_outside(q: _Element, a: float, b: float, points, rtol: float) -> float:
    """Q's probability outside [a, b]: 0 when its support lies inside, else exact from its
    distribution function, else one minus its integral over the pieces."""
    qa, qb = (float(v) for v in q.support)
    if (a <= qa and qb <= b) or (q.name == "vonmises" and b - a >= 2 * math.pi):
        return 0.0
    if q.outside is not None:
        return q.outside(a, b)
    return max(1.0 - _integrate(lambda x: math.exp(float(q.logpdf(x))), points, rtol)[0], 0.0)


def _integrate(f, points, rtol: float) -> tuple[float, float]:
    """quad of ``f`` over each piece between consecutive ``points``, summed with its error."""
    from scipy import integrate

    total, err = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for lo, hi in itertools.pairwise(points):
                v, e = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=rtol, limit=200)
                total += v
                err += e
    return total, err


def _sees_all_mass(d: _Element, points, rtol: float) -> bool:
    """Whether quadrature over these pieces finds all of ``d``'s probability: if not, the pieces
    miss a feature (a spike narrower than the rounding of its location, a singularity)."""
    mass, err = _integrate(lambda x: math.exp(float(d.logpdf(x))), points, rtol)
    return abs(mass - 1.0) <= 1e-7 and err <= 1e-7


def _js_in_quantiles(p: _Element, q: _Element, rtol: float) -> tuple[float, float]:
    """JS = ½ E_P[log p/m] + ½ E_Q[log q/m] integrated over the quantiles u = F(x) of each, for
    pairs whose densities quadrature in x cannot resolve; the log-ratio to the mixture is
    ``log 2 - logaddexp(0, log o - log d)``, at most log 2. Refused (NotImplementedError) when
    the quantile function is only a sample's or the result is not a JS."""
    if not (p.exact_ppf and q.exact_ppf):
        raise NotImplementedError(_unresolved(p, q))

    def expectation(d: _Element, other: _Element) -> tuple[float, float]:
        def g(u):
            x = float(d.ppf(u))
            ld, lo = float(d.logpdf(x)), float(other.logpdf(x))
            return _LN2 - float(np.logaddexp(0.0, lo - ld))

        return _integrate(g, [0.0, 1e-8, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-8, 1.0], rtol)

    (vp, ep), (vq, eq) = expectation(p, q), expectation(q, p)
    total, err = 0.5 * (vp + vq), 0.5 * (ep + eq)
    if not (math.isfinite(total) and -err <= total <= _LN2 + err):
        raise NotImplementedError(_unresolved(p, q))
    return min(max(total, 0.0), _LN2), err


def _unresolved(p: _Element, q: _Element) -> str:
    return (f"quadrature cannot resolve JS({p.name}, {q.name}): their densities have features "
            "it cannot locate (a spike, a singularity, or locations beyond the resolution of "
            "double precision); use method='mc'")


# ----------------------------------------------------------------------------- summation


def _logpmf(d: Dist, k, ops):
    """log pmf of ``d`` at absolute integer points ``k`` (array with the batch axes appended)."""
    if d.family == "scipy":
        return ops.asarray(d.obj.logpmf(ops.to_numpy(k)))
    shift = d.shift
    if not (isinstance(shift, float) and shift == 0.0):
        shift = ops.asarray(np.asarray(shift, dtype=np.float64), k)
    return d.spec.logpmf(ops, d.params, k - shift)


def _range(d: Dist) -> tuple[int, float, bool]:
    """(lowest support point over the batch, a first upper cut-off, whether the support is
    finite)."""
    f = scipy_frozen(d)
    with np.errstate(all="ignore"):
        lo, hi = (np.asarray(v, dtype=np.float64) for v in f.support())
        lo_min = float(np.min(lo))
        hi_max = float(np.max(hi))
        if math.isfinite(hi_max):
            return int(lo_min), hi_max, True
        mean = np.asarray(f.mean(), dtype=np.float64)
        std = np.asarray(f.std(), dtype=np.float64)
        guess = mean + 40 * std + 40
        guess = np.where(np.isfinite(guess), guess, 1000.0)
        return int(lo_min), float(np.max(guess)), False


def _summation_range(P: Dist, Q: Dist | None, what: str) -> tuple[int, float, bool]:
    """P's range; for JS the union of P's and Q's."""
    lo, hi, finite = _range(P)
    if what != "js":
        return lo, hi, finite
    lo_q, hi_q, finite_q = _range(Q)
    return min(lo, lo_q), max(hi, hi_q), finite and finite_q


def _outside_mass(d: Dist, lo: int, hi: int):
    """The exact probability that ``d`` puts outside the integers ``lo..hi`` (NumPy)."""
    f = scipy_frozen(d)
    with np.errstate(all="ignore"):
        return np.asarray(f.cdf(lo - 1) + f.sf(hi), dtype=np.float64)


def _term_grid(P: Dist, Q: Dist | None, what: str, lo: int, upper: int, ref):
    """Terms at the integers lo..upper (axis 0), batch axes after it."""
    ops = P.ops
    nb = len(np.broadcast_shapes(batch_shape(P), batch_shape(Q) if Q is not None else ()))
    k = ops.asarray(np.arange(lo, upper + 1, dtype=np.float64), ref)
    k = k.reshape((upper - lo + 1,) + (1,) * nb)
    lp = _logpmf(P, k, ops)
    lq = _logpmf(Q, k, ops) if Q is not None else lp
    lp, lq = ops.broadcast(lp, lq)
    return _log_terms(ops.xp(lp), what, lp, lq)


def _tail_bound(terms: np.ndarray, total: np.ndarray, rtol: float):
    """(tail bound, converged) from the last two terms' ratio."""
    last, prev = terms[-1], terms[-2]
    with np.errstate(all="ignore"):
        rho = np.where(last == 0, 0.0, last / prev)
        tail = np.where(last == 0, 0.0, last * rho / (1 - rho))
    ok = (rho < 1) & (tail <= 1e-3 * rtol * np.where(np.isfinite(total), total, 0) + 1e-300)
    return tail, bool(np.all(ok | ~np.isfinite(total)))


def discrete_sum(P: Dist, Q: Dist | None, what: str, rtol: float):
    """(value, error) in nats as arrays of P's ops flavour: the sum over the support of P."""
    if Q is not None:
        P, Q = align(P, Q)
    ops = P.ops
    bshape = np.broadcast_shapes(batch_shape(P), batch_shape(Q) if Q is not None else ())
    lo, hi, finite = _summation_range(P, Q, what)
    nb = max(1, math.prod(bshape))
    upper = int(hi)
    ref = next((v for v in P.params.values() if not isinstance(v, Dist)), None)
    while True:
        if (upper - lo + 1) * nb > _MAX_TERMS:
            raise ValueError(
                f"summing over the support of {P.label} needs more than {_MAX_TERMS} terms; "
                "use method='mc' for a Monte Carlo estimate"
            )
        with np.errstate(all="ignore"):
            terms = _term_grid(P, Q, what, lo, upper, ref)
            total = ops.sum(terms, 0)
        tnp = np.abs(ops.to_numpy(terms))
        tot = np.abs(ops.to_numpy(total))
        if finite:
            tail = np.zeros_like(tot)
            break
        tail, converged = _tail_bound(tnp, tot, rtol)
        if converged:
            break
        upper = lo + 2 * (upper - lo) + 10
    if what == "kl":  # the Bregman terms' q - p add up to 0 only with Q's mass off the grid
        total = total + ops.asarray(_outside_mass(Q, lo, upper), total)
    rounding = 4 * np.finfo(np.float64).eps * np.sum(np.where(np.isfinite(tnp), tnp, 0), 0)
    err = np.where(np.isfinite(tot), tail + rounding, 0.0)
    if what == "js":
        err = err + 0.5 * _LN2 * (_outside_mass(P, lo, upper) + _outside_mass(Q, lo, upper))
    return total, err


# ----------------------------------------------------------------------------- Monte Carlo


def _seed(random_state) -> int:
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63 - 1))
    return int(random_state)


def _sample(d: Dist, n: int, seed: int):
    """``n`` seeded draws of ``d`` in its own library (torch: rsample where it exists)."""
    obj = d.obj
    if d.source == "torch":
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return obj.rsample((n,)) if obj.has_rsample else obj.sample((n,))
    rng = np.random.default_rng(seed)
    multivariate = d.kind == "multivariate" or not hasattr(obj, "args")
    return obj.rvs(size=n if multivariate else (n, *batch_shape(d)), random_state=rng)


def _log_prob_any(d: Dist, x):
    """log density of ``d`` at samples ``x`` (from either library); -inf outside the support."""
    if d.source == "torch":
        import torch

        obj = d.obj
        xt = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
        try:
            ok = obj.support.check(xt)
        except (NotImplementedError, ValueError):  # a dependent support: log_prob decides
            ok = torch.ones_like(xt, dtype=torch.bool)
        chain = _distribution_chain(obj)
        saved = [c._validate_args for c in chain]
        for c in chain:
            c._validate_args = False
        try:
            lq = obj.log_prob(xt)
        finally:
            for c, v in zip(chain, saved, strict=True):
                c._validate_args = v
        return torch.where(ok & ~torch.isnan(lq), lq, -math.inf)
    obj = d.obj
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if type(obj).__name__ == "dirichlet_frozen":
        x = np.asarray(x)
        inside = np.all(x > 0, -1)
        xs = np.where(inside[..., None], x, 1.0 / x.shape[-1])
        xs = xs / xs.sum(-1, keepdims=True)
        return np.where(inside, obj.logpdf(xs.T), -np.inf)
    with np.errstate(all="ignore"):
        return (obj.logpmf if hasattr(obj, "logpmf") else obj.logpdf)(x)


def _distribution_chain(obj) -> list:
    """``obj`` and the torch distributions it wraps (a base distribution, Beta's Dirichlet...),
    each of which validates its own arguments."""
    from torch.distributions import Distribution

    chain, todo = [], [obj]
    while todo and len(chain) < 64:
        d = todo.pop()
        if any(d is c for c in chain):
            continue
        chain.append(d)
        todo += [v for v in vars(d).values() if isinstance(v, Distribution)]
    return chain


def _as_like(ref, x):
    """``x`` in the library of ``ref``."""
    if hasattr(ref, "detach") and not hasattr(x, "detach"):
        import torch

        return torch.as_tensor(np.asarray(x), dtype=ref.dtype)
    if not hasattr(ref, "detach") and hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return x


def _mean_and_se(vals, n: int):
    if hasattr(vals, "detach"):
        return vals.mean(0), (vals.std(0) / math.sqrt(n)).detach()
    vals = np.asarray(vals, dtype=np.float64)
    with np.errstate(all="ignore"):
        return vals.mean(0), vals.std(0, ddof=1) / math.sqrt(n)


def _log_ratio_to_mixture(d: Dist, other: Dist, x):
    """log p(x) - log m(x) with m = (p + o)/2, i.e. log 2 - softplus(log o(x) - log p(x))."""
    lp = _log_prob_any(d, x)
    lo = _as_like(lp, _log_prob_any(other, x))
    if hasattr(lp, "detach"):
        import torch

        return _LN2 - torch.logaddexp(torch.zeros_like(lp), lo - lp)
    with np.errstate(all="ignore"):
        return _LN2 - np.logaddexp(0.0, lo - lp)


def monte_carlo(P: Dist, Q: Dist | None, what: str, n_samples: int, random_state):
    """(estimate, standard error) in nats: the mean of -log p, -log q or log p - log q over
    X ~ P; for JS, half the sum of the means over X ~ P and Y ~ Q of the log-ratios to the
    mixture."""
    seed = _seed(random_state)
    x = _sample(P, n_samples, seed)
    if what == "js":
        est_p, se_p = _mean_and_se(_log_ratio_to_mixture(P, Q, x), n_samples)
        y = _sample(Q, n_samples, seed + 1)
        est_q, se_q = _mean_and_se(_as_like(est_p, _log_ratio_to_mixture(Q, P, y)), n_samples)
        se_q = _as_like(se_p, se_q)
        return 0.5 * (est_p + est_q), 0.5 * (se_p**2 + se_q**2) ** 0.5
    lp = _log_prob_any(P, x)
    if what == "entropy":
        vals = -lp
    else:
        lq = _as_like(lp, _log_prob_any(Q, x))
        vals = -lq if what == "cross" else lp - lq
    return _mean_and_se(vals, n_samples)
