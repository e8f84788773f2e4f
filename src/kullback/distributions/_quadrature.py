"""Numerical fallbacks: adaptive quadrature, exact summation with a tail bound, Monte Carlo.

* :func:`quadrature` - 1-D continuous P: ``scipy.integrate.quad`` of the integrand written
  from log-densities (``exp(log p) * (log p - log q)``) over the support of P, split at P's
  0.1 %, 50 % and 99.9 % quantiles; returns the value and quad's absolute error estimate.
  NumPy only: torch inputs give a torch result without a gradient.
* :func:`discrete_sum` - discrete P: the sum over the support of P, evaluated with the ops
  flavour of the inputs (torch results keep their gradient). Infinite supports are cut at a
  point K where the terms decay geometrically; the tail beyond K is bounded by
  ``t_K * rho / (1 - rho)`` with ``rho = t_K / t_(K-1)`` (valid when the term ratio keeps
  decreasing past K, as for every log-concave pmf such as Poisson, binomial, geometric and
  negative binomial with r >= 1). K doubles until that bound is below ``rtol * |sum| / 1000``.
* :func:`monte_carlo` - any pair: a seeded sample of P; returns the mean of the log-ratio and
  its standard error. Only used when ``method="mc"`` is asked for.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from kullback.distributions._dist_ops import numpy_ops
from kullback.distributions._families import FAMILIES, Dist, batch_shape, scipy_frozen, support

_MAX_TERMS = 1 << 24  # grid points x batch elements for one summation pass


# ----------------------------------------------------------------------------- helpers


def _elementwise(frozen) -> tuple[tuple[int, ...], Any]:
    """Split a (possibly batched) scipy frozen univariate into a function idx -> scalar frozen."""
    dist = frozen.dist
    parsed = dist._parse_args(*frozen.args, **frozen.kwds)
    discrete = type(frozen).__name__ == "rv_discrete_frozen"
    shapes = [np.asarray(s, dtype=np.float64) for s in parsed[0]]
    loc = np.asarray(parsed[1], dtype=np.float64)
    scale = np.asarray(parsed[2] if len(parsed) > 2 else 1.0, dtype=np.float64)
    arrays = np.broadcast_arrays(*shapes, loc, scale)
    shape = arrays[0].shape

    def at(idx):
        vals = [float(a[idx]) for a in arrays]
        if discrete:
            return dist(*vals[:-2], loc=vals[-2])
        return dist(*vals[:-2], loc=vals[-2], scale=vals[-1])

    return shape, at


def _logdensity(frozen):
    return frozen.logpmf if hasattr(frozen, "logpmf") else frozen.logpdf


# ----------------------------------------------------------------------------- quadrature


def quadrature(P: Dist, Q: Dist | None, what: str, rtol: float):
    """(value, abs_error) in nats as NumPy arrays, by adaptive quadrature per batch element."""
    from scipy import integrate

    sp = _batch_shape(P)
    sq = _batch_shape(Q) if Q is not None else ()
    shape = np.broadcast_shapes(sp, sq)
    value = np.empty(shape)
    error = np.empty(shape)
    at_p = _elements(P)
    at_q = _elements(Q) if Q is not None else None
    for idx in np.ndindex(shape):
        p = at_p(_local(idx, sp))
        q = at_q(_local(idx, sq)) if at_q is not None else None
        value[idx], error[idx] = _quad_one(p, q, what, rtol, integrate)
    return value, error


def _local(idx: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    tail = idx[len(idx) - len(shape):] if shape else ()
    return tuple(i if n > 1 else 0 for i, n in zip(tail, shape, strict=True))


class _Element:
    """One scalar 1-D distribution: log density, support, quantiles, family name."""

    def __init__(self, logpdf, support, ppf, name):
        self.logpdf, self._support, self.ppf, self.name = logpdf, support, ppf, name

    def support(self):
        return self._support


def _elements(d: Dist):
    if d.family == "scipy":
        _, at = _elementwise(d.obj)

        def make_scipy(idx):
            f = at(idx)
            return _Element(f.logpdf, tuple(float(v) for v in f.support()), f.ppf, f.dist.name)

        return make_scipy
    nops = numpy_ops()
    spec = FAMILIES[d.family]
    bshape = _batch_shape(d)
    params = {k: np.broadcast_to(nops.to_numpy(v) if d.ops.name == "torch" else v, bshape)
              for k, v in d.params.items()}
    shift = np.broadcast_to(np.asarray(d.shift, dtype=np.float64), bshape)
    width = np.broadcast_to(np.asarray(d.width, dtype=np.float64), bshape)

    def make(idx):
        pi = {k: np.float64(v[idx]) for k, v in params.items()}
        s, w = float(shift[idx]), float(width[idx])
        lw = math.log(w)
        lo, hi = (float(v) for v in spec.support(nops, pi))
        frozen = spec.scipy(pi)

        def logpdf(x):
            return spec.logpdf(nops, pi, (x - s) / w) - lw

        def ppf(q):
            return np.asarray(frozen.ppf(q)) * w + s

        return _Element(logpdf, (lo * w + s, hi * w + s), ppf, d.family)

    return make


def _quad_one(p, q, what: str, rtol: float, integrate) -> tuple[float, float]:
    a, b = (float(v) for v in p.support())
    circular = p.name == "vonmises" and q is not None and q.name == "vonmises"
    if q is not None and not circular:  # von Mises densities are 2 pi-periodic
        qa, qb = (float(v) for v in q.support())
        if a < qa or b > qb:
            return math.inf, 0.0
    lpdf = p.logpdf
    lqdf = q.logpdf if q is not None else None

    def f(x):
        lp = float(lpdf(x))
        pe = math.exp(lp) if lp > -math.inf else 0.0
        if pe == 0.0:  # p(x) below the smallest double: no contribution
            return 0.0
        if what == "entropy":
            return -pe * lp
        lq = float(lqdf(x))
        if lq == -math.inf:
            return math.inf
        return pe * ((lp - lq) if what == "kl" else -lq)

    cuts = [float(c) for c in p.ppf([1e-3, 0.5, 1 - 1e-3])]
    if q is not None:  # Q's mode-like points and support ends are kinks of log q (Laplace's
        # cusp at its median, a truncated support): split there so quad sees smooth pieces
        cuts += [float(c) for c in q.ppf([0.5])]
        cuts += [float(c) for c in q.support()]
    points = [a, *sorted({c for c in cuts if a < c < b and math.isfinite(c)}), b]
    total, err = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for lo, hi in itertools.pairwise(points):
                v, e = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=rtol, limit=200)
                total += v
                err += e
    if what == "kl" and total < 0:
        total = 0.0
    return total, err


# ----------------------------------------------------------------------------- summation


def _logpmf(d: Dist, k, ops):
    """log pmf of ``d`` at absolute integer points ``k`` (array with the batch axes appended)."""
    if d.family == "scipy":
        return ops.asarray(d.obj.logpmf(ops.to_numpy(k)))
    shift = d.shift
    if not (isinstance(shift, float) and shift == 0.0):
        shift = ops.asarray(np.asarray(shift, dtype=np.float64), k)
    return FAMILIES[d.family].logpmf(ops, d.params, k - shift)


def _range(d: Dist) -> tuple[int, float]:
    """(lowest support point over the batch, a first upper cut-off or the finite maximum)."""
    f = scipy_frozen(d)
    with np.errstate(all="ignore"):
        lo, hi = (np.asarray(v, dtype=np.float64) for v in f.support())
        lo_min = float(np.min(lo))
        hi_max = float(np.max(hi))
        if math.isfinite(hi_max):
            return int(lo_min), hi_max
        mean = np.asarray(f.mean(), dtype=np.float64)
        std = np.asarray(f.std(), dtype=np.float64)
        guess = mean + 40 * std + 40
        guess = np.where(np.isfinite(guess), guess, 1000.0)
        return int(lo_min), float(np.max(guess))


def _batch_shape(d: Dist) -> tuple[int, ...]:
    return batch_shape(d)


def discrete_sum(P: Dist, Q: Dist | None, what: str, rtol: float):
    """(value, error) in nats as arrays of P's ops flavour: the sum over the support of P."""
    ops = P.ops
    bshape = np.broadcast_shapes(_batch_shape(P), _batch_shape(Q) if Q is not None else ())
    lo, hi = _range(P)
    finite = True
    with np.errstate(all="ignore"):
        finite = bool(np.all(np.isfinite(np.asarray(scipy_frozen(P).support()[1], dtype=float))))
    nb = max(1, math.prod(bshape))
    upper = int(hi)
    ref = next((v for v in P.params.values() if not isinstance(v, Dist)), None)
    while True:
        n = upper - lo + 1
        if n * nb > _MAX_TERMS:
            raise ValueError(
                f"summing over the support of {P.label} needs more than {_MAX_TERMS} terms; "
                "use method='mc' for a Monte Carlo estimate"
            )
        k = ops.asarray(np.arange(lo, upper + 1, dtype=np.float64), ref)
        k = k.reshape((n,) + (1,) * len(bshape))
        with np.errstate(all="ignore"):
            lp = _logpmf(P, k, ops)
            fin = ops.isfinite(lp)
            lps = ops.where(fin, lp, 0.0)
            pk = ops.where(fin, ops.exp(lps), 0.0 * lps)
            if what == "entropy":
                terms = -pk * lps
            else:
                lq = _logpmf(Q, k, ops)
                bad = fin & ~ops.isfinite(lq) & (pk > 0)
                lqs = ops.where(ops.isfinite(lq), lq, 0.0)
                body = pk * (lps - lqs) if what == "kl" else -pk * lqs
                terms = ops.where(bad, ops.inf, body)
            terms = terms + 0.0 * lps  # broadcast to the full batch shape
            total = ops.sum(terms, 0)
        tnp = np.abs(ops.to_numpy(terms))
        tot = np.abs(ops.to_numpy(total))
        rounding = 4 * np.finfo(np.float64).eps * np.sum(np.where(np.isfinite(tnp), tnp, 0), 0)
        if finite:
            tail = np.zeros_like(tot)
            break
        last, prev = tnp[-1], tnp[-2]
        with np.errstate(all="ignore"):
            rho = np.where(last == 0, 0.0, last / prev)
            tail = np.where(last == 0, 0.0, last * rho / (1 - rho))
        ok = (rho < 1) & (tail <= 1e-3 * rtol * np.where(np.isfinite(tot), tot, 0) + 1e-300)
        if bool(np.all(ok | ~np.isfinite(tot))):
            break
        upper = lo + 2 * (upper - lo) + 10
    err = np.where(np.isfinite(tot), tail + rounding, 0.0)
    if what == "kl":
        total = ops.maximum(total, 0.0)
    return total, err


# ----------------------------------------------------------------------------- Monte Carlo


def _seed(random_state) -> int:
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63 - 1))
    return int(random_state)


def monte_carlo(P: Dist, Q: Dist | None, what: str, n_samples: int, random_state):
    """(estimate, standard error) in nats: mean of -log p, -log q or log p - log q over X ~ P."""
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}")
    seed = _seed(random_state)
    if P.source == "torch":
        import torch

        obj = P.obj
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            x = obj.rsample((n_samples,)) if obj.has_rsample else obj.sample((n_samples,))
        lp = obj.log_prob(x)
        if what == "entropy":
            vals = -lp
        else:
            lq = _log_prob_any(Q, x)
            vals = -lq if what == "cross" else lp - lq
        est = vals.mean(0)
        se = vals.std(0) / math.sqrt(n_samples)
        return est, se.detach()
    rng = np.random.default_rng(seed)
    obj = P.obj
    bshape = _batch_shape(P) if P.family != "scipy" or hasattr(obj, "args") else ()
    multivariate = P.family in ("mvn", "dirichlet") or not hasattr(obj, "args")
    size = n_samples if multivariate else (n_samples, *bshape)
    x = obj.rvs(size=size, random_state=rng)
    lp = _log_prob_any(P, x)
    if what == "entropy":
        vals = -lp
    else:
        lq = _log_prob_any(Q, x)
        vals = -lq if what == "cross" else lp - lq
    vals = np.asarray(vals, dtype=np.float64)
    with np.errstate(all="ignore"):
        est = vals.mean(0)
        se = vals.std(0, ddof=1) / math.sqrt(n_samples)
    return est, se


def _log_prob_any(d: Dist, x):
    """log density of ``d`` at samples ``x`` (from either library); -inf outside the support."""
    if d.source == "torch":
        import torch

        obj = d.obj
        xt = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
        ok = obj.support.check(xt)
        saved = obj._validate_args
        obj._validate_args = False
        try:
            lq = obj.log_prob(xt)
        finally:
            obj._validate_args = saved
        return torch.where(ok, lq, -math.inf)
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
        return _logdensity(obj)(x)


def support_of(d: Dist):
    return support(d)
