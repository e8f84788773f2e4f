"""Entropy, cross-entropy, KL and Jensen-Shannon divergence between probability distributions.

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

``return_error=True`` returns an :class:`Estimate` (``kullback.Estimate``, the one result
type) with ``value``, ``method``, ``unit`` and ``error``; it unpacks as
``value, error = ...``: the error is 0 for closed forms, quad's absolute error estimate, the
tail bound plus rounding for sums, and the standard error for Monte Carlo.

Pairs of your own classes get a formula with :func:`register_kl`. Every family, pair and
method is listed in ``docs/distributions.md``.

Examples
--------
>>> from scipy import stats
>>> from kullback.distributions import kl_divergence, entropy, js_divergence
>>> round(float(kl_divergence(stats.norm(0, 1), stats.norm(1, 2))), 12)
0.44314718056
>>> round(float(entropy(stats.poisson(3))), 12)        # summed, no closed form exists
1.931470198149
>>> kl_divergence(stats.uniform(0, 2), stats.uniform(0, 1))
np.float64(inf)
>>> v, err = kl_divergence(stats.t(3), stats.norm(), return_error=True)   # quadrature
>>> round(float(v), 10), bool(err < 1e-10)
(0.6454609613, True)
>>> round(float(js_divergence(stats.bernoulli(0.2), stats.bernoulli(0.6), base=2)), 12)
0.124511249784
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kullback._result import Estimate
from kullback.distributions._register import register_kl as _register_kl
from kullback.units import resolve_unit as _resolve_unit

__all__ = [
    "Estimate",
    "cross_entropy",
    "decompose",
    "entropy",
    "is_distribution",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "method_for",
    "register_kl",
]

_METHODS = ("auto", "closed", "quad", "sum", "mc")
_QUANTITIES = {"entropy": "entropy", "cross": "cross", "cross_entropy": "cross", "kl": "kl",
              "kl_divergence": "kl", "js": "js", "js_divergence": "js"}


@dataclass(frozen=True)
class _Options:
    """The keyword-only options every public function takes, checked once."""

    base: Any
    method: str
    return_error: bool
    rtol: float
    n_samples: int
    random_state: Any
    validate: bool

    @classmethod
    def of(cls, call: dict[str, Any]) -> _Options:
        """The options among a public function's arguments (its ``locals()``)."""
        return cls(**{name: call[name] for name in cls.__dataclass_fields__})

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {self.method!r}")
        if isinstance(self.rtol, bool) or not (isinstance(self.rtol, float | int)
                                               and 0 < self.rtol < 1):
            raise ValueError(f"rtol must be a number in (0, 1); got {self.rtol!r}")
        if not (_is_integer(self.n_samples) and self.n_samples >= 2):
            raise ValueError(f"n_samples must be an integer of at least 2; got "
                             f"{self.n_samples!r}")
        if not (self.random_state is None or _is_integer(self.random_state)
                or type(self.random_state).__name__ == "Generator"):
            raise ValueError("random_state must be None, an integer seed or a "
                             f"numpy.random.Generator; got {self.random_state!r}")
        _resolve_unit(self.base)  # a bad base is refused before anything is computed


def _is_integer(x: Any) -> bool:
    import numbers

    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_distribution(obj: Any) -> bool:
    """True for scipy.stats frozen distributions, torch.distributions objects and instances
    of classes that :func:`register_kl` knows.

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
    from kullback.distributions._family import source_of
    from kullback.distributions._register import is_registered

    return source_of(obj) is not None or is_registered(obj)


def register_kl(type_p: type, type_q: type):
    """Decorator registering a KL formula for a pair of distribution classes (torch's idiom).

    The decorated function receives the two distribution objects and returns KL(P || Q) in
    nats (a number, NumPy array or tensor); kullback converts the unit and, for
    :func:`cross_entropy`, adds H(P). A pair of objects is dispatched by class to the most
    specific registered pair (nearest in P's method resolution order, then Q's; a
    :class:`RuntimeWarning` when the two orders disagree), memoised per pair of classes.
    Registered formulas take precedence over kullback's own for ``method="auto"`` and
    ``method="closed"``; other methods ignore them.

    Parameters
    ----------
    type_p, type_q : type
        torch distribution classes (``torch.distributions.Normal``), scipy generator classes
        (``type(stats.norm)``, or your own ``rv_continuous`` subclass), or classes of your
        own, whose instances :func:`is_distribution` then recognises.

    Examples
    --------
    >>> import math
    >>> from kullback.distributions import register_kl, kl_divergence, cross_entropy
    >>> class PointMass:
    ...     def __init__(self, p):
    ...         self.p = p                       # a distribution on {0, 1}
    >>> @register_kl(PointMass, PointMass)
    ... def _kl_pointmass(P, Q):
    ...     return sum(a * math.log(a / b) for a, b in [(P.p, Q.p), (1 - P.p, 1 - Q.p)] if a)
    >>> round(float(kl_divergence(PointMass(0.5), PointMass(0.25), base=2)), 12)
    0.207518749639
    """
    return _register_kl(type_p, type_q)


# ----------------------------------------------------------------------------- public verbs


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
    return _measure("entropy", P, None, _Options.of(locals()))


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
    return _measure("cross", P, Q, _Options.of(locals()))


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
    return _measure("kl", P, Q, _Options.of(locals()))


def js_divergence(P: Any, Q: Any, *, base: Any = None, method: str = "auto",
                  return_error: bool = False, rtol: float = 1e-11, n_samples: int = 100_000,
                  random_state: Any = None, validate: bool = True) -> Any:
    """Jensen-Shannon divergence JS(P, Q) = ½ KL(P || M) + ½ KL(Q || M), M = (P + Q)/2.

    Symmetric, between 0 and log 2. ``"auto"`` sums exactly over the union of the supports for
    discrete pairs and integrates over the union of the supports for 1-D continuous pairs;
    the mixture is evaluated in log space (``log m = logaddexp(log p, log q) - log 2``) inside
    the core's Jensen-Shannon kernel, so every term is non-negative. A continuous and a
    discrete distribution are mutually singular: JS = log 2 exactly. Other pairs need
    ``method="mc"`` (samples of both P and Q). Parameters are as for :func:`entropy`.

    Examples
    --------
    >>> from scipy import stats
    >>> round(float(js_divergence(stats.norm(0, 1), stats.norm(1, 1))), 10)
    0.1114214822
    >>> float(js_divergence(stats.uniform(0, 1), stats.uniform(2, 1), base=2))   # disjoint
    1.0
    """
    return _measure("js", P, Q, _Options.of(locals()))


def js_distance(P: Any, Q: Any, *, base: Any = None, method: str = "auto",
                return_error: bool = False, rtol: float = 1e-11, n_samples: int = 100_000,
                random_state: Any = None, validate: bool = True) -> Any:
    """Jensen-Shannon distance: the square root of :func:`js_divergence` (in ``base``), a metric.

    With ``return_error=True`` the error is propagated to first order,
    ``error / (2 sqrt(JS))`` (or ``sqrt(error)`` where JS is 0).

    Examples
    --------
    >>> from scipy import stats
    >>> round(float(js_distance(stats.bernoulli(0.2), stats.bernoulli(0.6), base=2)), 12)
    0.352861516439
    """
    res = _measure("js", P, Q, replace(_Options.of(locals()), return_error=True))
    value, error = _sqrt_with_error(res.value, res.error)
    if not return_error:
        return value
    return Estimate(value=value, method=res.method, unit=res.unit, error=error)


def decompose(P: Any, Q: Any, *, base: Any = None, method: str = "auto",
              return_error: bool = False, rtol: float = 1e-11, n_samples: int = 100_000,
              random_state: Any = None, validate: bool = True) -> Any:
    """H(P, Q) = H(P) + KL(P || Q), each of the three computed directly (never by subtraction).

    Returns the same :class:`~kullback.measures.discrete.Decomposition` as
    :func:`kullback.decompose`; with ``return_error=True`` its three fields are
    :class:`Estimate` objects. Parameters are as for :func:`entropy`.

    Examples
    --------
    >>> from scipy import stats
    >>> decompose(stats.norm(0, 1), stats.norm(1, 2))
    Decomposition(unit='nats')
      H(p)      = 1.418939
      + KL(p‖q) = 0.443147
      = H(p,q)  = 1.862086
    """
    from kullback.measures.discrete import Decomposition

    opts = _Options.of(locals())
    h = _measure("entropy", P, None, opts)
    ce = _measure("cross", P, Q, opts)
    kl = _measure("kl", P, Q, opts)
    return Decomposition(entropy=h, cross_entropy=ce, kl_divergence=kl,
                         unit=_resolve_unit(base))


def method_for(P: Any, Q: Any = None, *, quantity: str = "kl") -> str:
    """The method ``method="auto"`` picks for ``quantity`` ("entropy", "cross", "kl", "js").

    Examples
    --------
    >>> from scipy import stats
    >>> method_for(stats.norm(), stats.t(4)), method_for(stats.poisson(2))
    ('quad', 'sum')
    >>> method_for(stats.norm(), stats.laplace())
    'closed'
    """
    what = _QUANTITIES.get(quantity)
    if what is None:
        raise ValueError(f"quantity must be one of {', '.join(_QUANTITIES)}; got {quantity!r}")
    if Q is None:
        what = "entropy"
    from kullback.distributions._dispatch import plan

    return plan(what, P, Q, _Options(None, "auto", True, 1e-11, 2, None, True))


# ----------------------------------------------------------------------------- machinery


def _measure(what: str, P: Any, Q: Any, opts: _Options) -> Any:
    from kullback.distributions._dispatch import measure

    return measure(what, P, Q, opts)


def _sqrt_with_error(value: Any, error: Any) -> tuple[Any, Any]:
    """sqrt(value) and the first-order propagated error (never NaN)."""
    if hasattr(value, "detach"):
        import torch

        root = torch.sqrt(value.clamp(min=0.0))
        zero = root == 0
        err = torch.where(zero, torch.sqrt(error), error / (2 * torch.where(zero, 1.0, root)))
        return root, err
    import numpy as np

    with np.errstate(all="ignore"):
        root = np.sqrt(np.maximum(value, 0.0))
        err = np.where(root == 0, np.sqrt(error), error / (2 * np.where(root == 0, 1.0, root)))
    if np.ndim(root) == 0:
        return np.float64(root), np.float64(err)
    return root, err
