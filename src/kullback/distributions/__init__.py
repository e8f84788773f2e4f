"""Entropy, cross-entropy and KL divergence between probability distributions.

The arguments are **scipy.stats frozen distributions** (``stats.norm(0, 1)``,
``stats.multivariate_normal(m, S)``, ``stats.dirichlet(a)``, ...) or
**torch.distributions** objects. Results are in nats unless ``base`` says otherwise.

* scipy inputs give NumPy results (a ``numpy.float64`` for scalar parameters, an array for
  batched ones such as ``stats.norm(loc=[0, 1, 2])``);
* torch inputs give tensors computed with torch operations: batch shapes broadcast and
  autograd flows to the parameters (closed forms and sums; quadrature results carry no
  gradient, Monte Carlo ones do through ``rsample``).

How each value is computed is chosen by ``method``:

========  =====================================================================
auto      ``closed`` when a formula is registered, else ``sum`` for discrete P,
          else ``quad`` for 1-D continuous P, else NotImplementedError
closed    closed forms only (NotImplementedError naming the pair otherwise)
quad      adaptive quadrature over the support of a 1-D continuous P
sum       summation over the support of a discrete P with a tail bound
mc        Monte Carlo: seeded sample of P, estimate and standard error
========  =====================================================================

``return_error=True`` returns an :class:`Estimate` ``(value, error, method)`` that unpacks
as ``value, error = ...``: the error is 0 for closed forms, quad's absolute error estimate,
the tail bound plus rounding for sums, and the standard error for Monte Carlo.

Every family, pair and method is listed in ``docs/distributions.md``.

Examples
--------
>>> from scipy import stats
>>> from kullback.distributions import kl_divergence, entropy, cross_entropy
>>> round(float(kl_divergence(stats.norm(0, 1), stats.norm(1, 2))), 12)
0.44314718056
>>> round(float(entropy(stats.poisson(3))), 12)        # summed, no closed form exists
1.931470198149
>>> kl_divergence(stats.uniform(0, 2), stats.uniform(0, 1))
np.float64(inf)
>>> v, err = kl_divergence(stats.t(3), stats.norm(), return_error=True)   # quadrature
>>> round(float(v), 10), bool(err < 1e-10)
(0.6454609613, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kullback.units import resolve_unit

__all__ = [
    "Estimate",
    "cross_entropy",
    "entropy",
    "is_distribution",
    "kl_divergence",
    "method_for",
]

METHODS = ("auto", "closed", "quad", "sum", "mc")


@dataclass(frozen=True)
class Estimate:
    """A value with its error estimate and the method that produced it.

    Unpacks as ``value, error = estimate``.

    Attributes
    ----------
    value : float, numpy.ndarray or torch.Tensor
        The measure, in the requested unit.
    error : same type as value
        Absolute error estimate in the same unit: 0 for closed forms, quad's estimate for
        quadrature, tail bound plus rounding for sums, standard error for Monte Carlo.
    method : str
        ``"closed"``, ``"quad"``, ``"sum"`` or ``"mc"``.
    """

    value: Any
    error: Any
    method: str

    def __iter__(self):
        yield self.value
        yield self.error


def is_distribution(obj: Any) -> bool:
    """True for scipy.stats frozen distributions and torch.distributions objects.

    Decided from the module names of the object's classes, so neither torch nor scipy is
    imported to answer.

    Examples
    --------
    >>> from scipy import stats
    >>> is_distribution(stats.norm(0, 1)), is_distribution(stats.dirichlet([1, 2]))
    (True, True)
    >>> is_distribution([0.5, 0.5]), is_distribution(stats.norm)
    (False, False)
    """
    from kullback.distributions._families import source_of

    return source_of(obj) is not None


def entropy(P: Any, *, base: Any = None, method: str = "auto", return_error: bool = False,
            rtol: float = 1e-11, n_samples: int = 100_000, random_state: Any = None,
            validate: bool = True) -> Any:
    """Differential (continuous) or Shannon (discrete) entropy H(P).

    Parameters
    ----------
    P : scipy.stats frozen distribution or torch.distributions.Distribution
    base : None, number or unit name, optional
        Logarithm base or unit (``"bits"``, ``"nats"``, ``"bans"``); default nats.
    method : {"auto", "closed", "quad", "sum", "mc"}
        See the module docstring.
    return_error : bool
        Return an :class:`Estimate` instead of the bare value.
    rtol : float
        Relative tolerance for quadrature and summation.
    n_samples : int
        Sample size for ``method="mc"``.
    random_state : None, int or numpy.random.Generator
        Seed for ``method="mc"`` (None means seed 0, so results repeat).
    validate : bool
        Check parameters (positive scales, probabilities in [0, 1], ...).

    Returns
    -------
    float, numpy.ndarray, torch.Tensor or Estimate

    Raises
    ------
    ValueError
        Bad parameters or method.
    NotImplementedError
        ``method="closed"`` where no closed form exists, or no method applies.

    Examples
    --------
    >>> from scipy import stats
    >>> round(float(entropy(stats.norm(0, 2))), 12)
    2.112085713765
    >>> round(float(entropy(stats.bernoulli(0.5), base=2)), 12)
    1.0
    >>> entropy(stats.norm(loc=[0, 1], scale=[1, 2])).round(6)
    array([1.418939, 2.112086])
    """
    return _measure("entropy", P, None, base, method, return_error, rtol, n_samples,
                    random_state, validate)


def cross_entropy(P: Any, Q: Any, *, base: Any = None, method: str = "auto",
                  return_error: bool = False, rtol: float = 1e-11, n_samples: int = 100_000,
                  random_state: Any = None, validate: bool = True) -> Any:
    """Cross-entropy H(P, Q) = -E_P[log q(X)] = H(P) + KL(P || Q).

    Parameters are as for :func:`entropy`; ``Q`` is a distribution of the same kind.
    +inf where the support of P is not contained in the support of Q.

    Examples
    --------
    >>> from scipy import stats
    >>> round(float(cross_entropy(stats.norm(0, 1), stats.laplace(0, 1))), 12)
    1.491031741363
    >>> round(float(cross_entropy(stats.gamma(2), stats.gamma(3, scale=0.5))), 12)
    1.768136968683
    """
    return _measure("cross", P, Q, base, method, return_error, rtol, n_samples, random_state,
                    validate)


def kl_divergence(P: Any, Q: Any, *, base: Any = None, method: str = "auto",
                  return_error: bool = False, rtol: float = 1e-11, n_samples: int = 100_000,
                  random_state: Any = None, validate: bool = True) -> Any:
    """Kullback-Leibler divergence KL(P || Q) = E_P[log p(X) - log q(X)], never negative.

    Parameters are as for :func:`entropy`. +inf where P is not absolutely continuous with
    respect to Q (its support reaches outside Q's).

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal, Gamma, Exponential
    >>> P = Normal(torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True),
    ...            torch.tensor(1.0, dtype=torch.float64))
    >>> kl = kl_divergence(P, Normal(0.0, 2.0))
    >>> kl.detach().numpy().round(6)
    array([0.318147, 0.443147])
    >>> kl.sum().backward(); P.loc.grad
    tensor([0.0000, 0.2500], dtype=torch.float64)
    >>> round(float(kl_divergence(Exponential(torch.tensor(1.0)), Gamma(2.0, 1.0))), 6)
    0.577216
    """
    return _measure("kl", P, Q, base, method, return_error, rtol, n_samples, random_state,
                    validate)


def method_for(P: Any, Q: Any = None, *, quantity: str = "kl") -> str:
    """The method ``method="auto"`` picks for ``quantity`` ("entropy", "cross" or "kl").

    Examples
    --------
    >>> from scipy import stats
    >>> method_for(stats.norm(), stats.t(4)), method_for(stats.poisson(2))
    ('quad', 'sum')
    >>> method_for(stats.norm(), stats.laplace())
    'closed'
    """
    what = {"entropy": "entropy", "cross": "cross", "cross_entropy": "cross",
            "kl": "kl", "kl_divergence": "kl"}.get(quantity)
    if what is None:
        raise ValueError(f"quantity must be 'entropy', 'cross' or 'kl'; got {quantity!r}")
    if Q is None:
        what = "entropy"
    return _measure(what, P, Q, None, "auto", True, 1e-11, 2, None, True, plan_only=True)


# ----------------------------------------------------------------------------- machinery


def _measure(*args, **kwargs):
    import numpy as np

    # NumPy closed forms evaluate every branch of a where(); the unused ones may overflow or
    # divide by zero harmlessly, so floating-point warnings are silenced here
    with np.errstate(all="ignore"):
        return _measure_impl(*args, **kwargs)


def _measure_impl(what, P, Q, base, method, return_error, rtol, n_samples, random_state,
                  validate, plan_only: bool = False):
    from kullback.distributions import _closed_forms as cf
    from kullback.distributions import _quadrature as nq
    from kullback.distributions._families import normalise

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not (isinstance(rtol, float | int) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1); got {rtol!r}")
    unit = resolve_unit(base)
    Pd = normalise(P, validate)
    Qd = normalise(Q, validate) if what != "entropy" else None
    if Qd is not None:
        _check_compatible(Pd, Qd)
    torch_out = Pd.source == "torch" or (Qd is not None and Qd.source == "torch")
    name = _pair_name(what, Pd, Qd)

    value = error = None
    used = None
    reason = ""
    if method == "mc":
        if plan_only:
            return "mc"
        value, error = nq.monte_carlo(Pd, Qd, what, int(n_samples), random_state)
        used = "mc"
    if used is None and method in ("auto", "closed"):
        try:
            if plan_only:
                _closed(what, cf, Pd, Qd, probe=True)
                return "closed"
            value = _closed(what, cf, Pd, Qd)
            used = "closed"
        except (NotImplementedError, cf.NotApplicable) as exc:
            reason = str(exc)
            if method == "closed":
                raise NotImplementedError(
                    f"no closed form for {name}: {reason}. Try method='auto' (quadrature or "
                    "summation where they apply) or method='mc'"
                ) from None
    if used is None and method in ("auto", "sum"):
        if Pd.univariate_discrete and (Qd is None or Qd.univariate_discrete):
            if plan_only:
                return "sum"
            value, error = nq.discrete_sum(*_aligned(cf, Pd, Qd), what, float(rtol))
            used = "sum"
        elif method == "sum":
            raise ValueError(f"method='sum' needs univariate discrete distributions; {name} "
                             "is not")
    if used is None and method in ("auto", "quad"):
        if Pd.univariate_continuous and (Qd is None or Qd.univariate_continuous):
            if plan_only:
                return "quad"
            value, error = nq.quadrature(Pd, Qd, what, float(rtol))
            used = "quad"
        elif method == "quad":
            raise ValueError(f"method='quad' needs univariate continuous distributions; {name} "
                             "is not")
    if used is None:
        raise NotImplementedError(
            f"no closed form, quadrature or summation applies to {name}"
            + (f" ({reason})" if reason else "")
            + "; use method='mc' for a seeded Monte Carlo estimate with its standard error"
        )
    if what == "kl" and used != "mc":
        value = _clamp(value)
    value = _broadcast(value, Pd, Qd)
    value = unit.from_nats(value)
    if error is None:
        error = _zeros_like(value)
    else:
        error = unit.from_nats(error)
    value, error = _finish(value, error, torch_out, Pd, Qd)
    return Estimate(value, error, used) if return_error else value


def _closed(what, cf, Pd, Qd, probe: bool = False):
    if what == "entropy":
        if probe and not cf.has_closed_entropy(Pd):
            raise NotImplementedError(f"no closed form for the entropy of {Pd.label}")
        try:
            return cf.closed_entropy(Pd)
        except NotImplementedError:
            return _torch_closed(what, Pd, Qd)
    try:
        if what == "kl":
            return cf.closed_kl(Pd, Qd)
        return cf.closed_cross(Pd, Qd)
    except NotImplementedError:
        return _torch_closed(what, Pd, Qd)


def _torch_closed(what, Pd, Qd):
    """Delegate to torch's own registry for torch families kullback has no formula for."""
    from kullback.distributions._families import FAMILIES

    if Pd.source != "torch" or (Qd is not None and Qd.source != "torch"):
        raise NotImplementedError("no formula registered for this pair")
    if Pd.family in FAMILIES and (Qd is None or Qd.family in FAMILIES):
        raise NotImplementedError("no formula registered for this pair")
    import torch.distributions as td

    try:
        if what == "entropy":
            return Pd.obj.entropy()
        kl = td.kl_divergence(Pd.obj, Qd.obj)
        if what == "kl":
            return kl
        return Pd.obj.entropy() + kl
    except NotImplementedError:
        raise NotImplementedError("neither kullback nor torch.distributions registers it") from None


def _aligned(cf, Pd, Qd):
    if Qd is None:
        return Pd, None
    return cf._align(Pd, Qd)


def _check_compatible(Pd, Qd) -> None:
    from kullback.distributions._families import CONTINUOUS, DISCRETE

    def kind(d):
        if d.family in CONTINUOUS or d.extra.get("kind") == "continuous":
            return "continuous"
        if d.family in DISCRETE or d.extra.get("kind") == "discrete":
            return "discrete"
        return "multivariate"

    kp, kq = kind(Pd), kind(Qd)
    if {kp, kq} == {"continuous", "discrete"}:
        raise ValueError(
            f"P = {Pd.label} is {kp} and Q = {Qd.label} is {kq}: they have no common "
            "reference measure, so cross-entropy and KL are undefined"
        )


def _pair_name(what, Pd, Qd) -> str:
    if what == "entropy":
        return f"H({Pd.label})"
    return f"{'KL' if what == 'kl' else 'H'}({Pd.label} || {Qd.label})"


def _broadcast(value, Pd, Qd):
    """Give the result the full broadcast batch shape of P and Q (an entropy that depends on
    the scale only still has one entry per location)."""
    import numpy as np

    from kullback.distributions._families import batch_shape

    shape = np.broadcast_shapes(batch_shape(Pd), batch_shape(Qd) if Qd is not None else ())
    if _is_tensor(value):
        if tuple(value.shape) == shape:
            return value
        import torch

        return value + torch.zeros(shape, dtype=value.dtype, device=value.device)
    value = np.asarray(value, dtype=np.float64)
    return value if value.shape == shape else value + np.zeros(shape)


def _is_tensor(x) -> bool:
    return type(x).__module__.startswith("torch")


def _clamp(value):
    if _is_tensor(value):
        return value.clamp(min=0.0)
    import numpy as np

    return np.maximum(value, 0.0)


def _zeros_like(value):
    if _is_tensor(value):
        import torch

        return torch.zeros_like(value.detach())
    import numpy as np

    return np.zeros(np.shape(value))


def _finish(value, error, torch_out, Pd, Qd):
    import numpy as np

    if torch_out:
        import torch

        ref = _tensor_ref(Pd)
        if ref is None and Qd is not None:
            ref = _tensor_ref(Qd)
        dtype = ref.dtype if ref is not None else torch.get_default_dtype()
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype)
        if not isinstance(error, torch.Tensor):
            error = torch.as_tensor(np.asarray(error, dtype=np.float64), dtype=value.dtype)
        return value, error
    value = np.asarray(value, dtype=np.float64)
    error = np.asarray(error, dtype=np.float64)
    if value.ndim == 0:
        return np.float64(value), np.float64(error)
    return value, error


def _tensor_ref(d):
    for v in d.params.values():
        if _is_tensor(v):
            return v
    if d.source == "torch":
        for name in ("loc", "probs", "rate", "concentration", "mean"):
            v = getattr(d.obj, name, None)
            if _is_tensor(v):
                return v
    return None
