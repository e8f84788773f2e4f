"""What a distribution family is, the registry of families, and the adapters from scipy and torch.

A family is ONE class, registered with :func:`family`, that declares everything kullback knows
about it: its key, its kind, its names in torch and scipy, its parameters and how each one is
checked, example parameters, and the pieces it supplies (log density, entropy, support, the
expectations that closed-form cross-entropies need). Everything else is derived from these
declarations: the lists of continuous and discrete families, which side of the support is
bounded, which statistics a family supplies as P and whether it can serve as Q.

A scipy.stats frozen distribution or a torch.distributions object is normalised into a
:class:`Dist`: the family key, a dict of parameters in the family's canonical
parametrisation, the ops flavour that evaluates formulas on them (NumPy for scipy, torch for
torch) and, for scipy's shape families, the ``loc`` shift (and, for the beta, the ``scale``
width) scipy allows on top. Objects of families kullback does not declare become a Dist of
family ``"scipy"`` or ``"torch"`` whose ``extra["kind"]`` says whether the numerical
fallbacks apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from kullback.distributions._dist_ops import numpy_ops, torch_ops

__all__ = [
    "FAMILIES",
    "KINDS",
    "Dist",
    "Family",
    "align",
    "batch_shape",
    "check",
    "families_of_kind",
    "family",
    "finite",
    "normalise",
    "positive",
    "probability",
    "scipy_frozen",
    "show",
    "source_of",
    "success_probability",
    "sum_last",
    "support",
    "unchecked",
]

KINDS = ("continuous", "discrete", "multivariate")


# ----------------------------------------------------------------------------- parameter checks


def check(ops, ok, what: str, label: str) -> None:
    """Raise ``ValueError("<label>: <what>")`` unless ``ok`` holds everywhere."""
    if ops.any(~ok if ops.name == "torch" else ~ops.np.asarray(ok, dtype=bool)):
        raise ValueError(f"{label}: {what}")


def show(ops, x) -> str:
    """A short rendering of a parameter for an error message."""
    import numpy as np

    a = np.asarray(ops.to_numpy(x))
    return np.array2string(a, threshold=6, precision=6) if a.ndim else repr(float(a))


def finite(ops, x, name: str, label: str) -> None:
    """Parameter check: finite."""
    check(ops, ops.isfinite(x), f"parameter {name!r} must be finite; got {show(ops, x)}", label)


def positive(ops, x, name: str, label: str) -> None:
    """Parameter check: positive and finite."""
    check(ops, x > 0, f"parameter {name!r} must be positive (and finite); got {show(ops, x)}",
          label)
    finite(ops, x, name, label)


def probability(ops, x, name: str, label: str) -> None:
    """Parameter check: in [0, 1]."""
    check(ops, (x >= 0) & (x <= 1),
          f"parameter {name!r} must lie in [0, 1]; got {show(ops, x)}", label)


def success_probability(ops, x, name: str, label: str) -> None:
    """Parameter check: in (0, 1] (geometric and negative binomial)."""
    check(ops, (x > 0) & (x <= 1),
          f"parameter {name!r} must lie in (0, 1]; got {show(ops, x)}", label)


def unchecked(ops, x, name: str, label: str) -> None:
    """Parameter check: none (the parameter is checked elsewhere)."""


# ----------------------------------------------------------------------------- the family class


class Family:
    """A family of distributions, declared once.

    Declarations (class attributes)
    -------------------------------
    key : str
        kullback's name for the family (``"normal"``); the key of the closed-form registry.
    kind : {"continuous", "discrete", "multivariate"}
    torch : tuple of str
        Names of the torch.distributions classes that are this family.
    scipy : tuple of str
        Names of the scipy.stats distributions that are this family.
    params : dict
        Canonical parameter name -> check ``(ops, x, name, label)`` (:func:`positive`, ...).
    example : dict
        Parameters of one member (used to derive the support's shape and the statistics the
        family supplies, and by the tests).
    scipy_shapes : tuple of str
        The canonical names of scipy's shape parameters, in scipy's order.
    scipy_shift, scipy_width : bool
        scipy's ``loc`` is a shift on top of the parameters (shape families), scipy's ``scale``
        a width (the beta on [loc, loc + scale]).
    scipy_offset : float
        Added to scipy's ``loc`` to get the shift (1 for the geometric: scipy counts trials).
    circular : bool
        The support is a period (von Mises), not an interval, so support nesting says nothing.
    torch_attrs : dict
        Canonical parameter -> torch attribute where the names differ.
    needs : frozenset
        Statistics of P that ``log_expect`` needs when this family is Q.
    event_dims : int
        1 for vector-valued families (the event axis is the last one).

    Pieces (methods; a family defines those that exist)
    ---------------------------------------------------
    ``logpdf(ops, p, x)`` / ``logpmf(ops, p, k)``, ``entropy(ops, p)``, ``support(ops, p)``,
    ``stats(ops, p) -> {name: callable}`` (expectations under P), ``log_expect(ops, q, S)``
    (E_P[log q(X)] from P's statistics ``S``), ``to_scipy(p)`` (NumPy parameters -> scipy
    frozen), ``check(ops, p, label)`` (checks that involve several parameters).
    """

    key: ClassVar[str]
    kind: ClassVar[str]
    torch: ClassVar[tuple[str, ...]] = ()
    scipy: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[dict[str, Callable[..., None]]] = {}
    example: ClassVar[dict[str, Any]] = {}
    scipy_shapes: ClassVar[tuple[str, ...]] = ()
    scipy_shift: ClassVar[bool] = False
    scipy_width: ClassVar[bool] = False
    scipy_offset: ClassVar[float] = 0.0
    circular: ClassVar[bool] = False
    torch_attrs: ClassVar[dict[str, str]] = {}
    needs: ClassVar[frozenset[str]] = frozenset()
    event_dims: ClassVar[int] = 0

    @property
    def name(self) -> str:
        """The display name (the first torch name, else the key)."""
        return self.torch[0] if self.torch else self.key

    # -- declared pieces, with their defaults
    def check(self, ops, p, label) -> None:
        """Checks involving several parameters (none by default)."""

    def entropy(self, ops, p):
        return None

    def support(self, ops, p):
        return (-ops.inf, ops.inf)

    def stats(self, ops, p) -> dict[str, Any]:
        return {}

    def log_expect(self, ops, q, S):
        raise NotImplementedError

    def to_scipy(self, p):
        """A scipy frozen distribution from NumPy canonical parameters: scipy's shapes, then
        ``loc`` and ``scale`` where they are parameters (override where the mapping differs)."""
        from scipy import stats

        if not self.scipy:
            raise NotImplementedError(f"{self.name} has no scipy counterpart")
        gen = getattr(stats, self.scipy[0])
        shapes = [p[name] for name in self.scipy_shapes]
        if self.kind == "discrete":
            return gen(*shapes, loc=-self.scipy_offset)
        loc = 0.0 if self.scipy_shift else p["loc"]
        return gen(*shapes, loc=loc, scale=p.get("scale", 1.0))

    # -- adapters (override where a family's mapping is not the plain one)
    def from_torch(self, obj, ops) -> dict[str, Any]:
        """Canonical parameters from a torch object of this family."""
        return {k: getattr(obj, self.torch_attrs.get(k, k)) for k in self.params}

    def from_scipy(self, name: str, shapes, loc, scale) -> dict[str, Any] | None:
        """Canonical parameters from scipy's parsed (shapes, loc, scale); None: not this family
        after all (e.g. a von Mises with a scale)."""
        values = dict(zip(self.scipy_shapes, shapes, strict=False))
        if not self.scipy_shift:
            values.setdefault("loc", loc)
        values.setdefault("scale", scale)
        return {k: values[k] for k in self.params}

    def from_scipy_frozen(self, obj, label: str) -> dict[str, Any]:
        """Canonical parameters from a scipy multivariate frozen distribution."""
        raise NotImplementedError

    def validate(self, ops, p, label) -> None:
        """Every declared parameter check, then the cross-parameter ones."""
        for name, rule in self.params.items():
            rule(ops, p[name], name, label)
        self.check(ops, p, label)

    # -- derived from the declarations
    @cached_property
    def has_entropy(self) -> bool:
        """Whether the family declares a closed-form entropy."""
        return type(self).entropy is not Family.entropy

    @cached_property
    def provides(self) -> frozenset[str]:
        """The statistics this family supplies as P (the keys of :meth:`stats`)."""
        return frozenset(self.stats(numpy_ops(), self._example()))

    @cached_property
    def serves_as_q(self) -> bool:
        """Whether E_P[log q] can be written from P's statistics (``log_expect`` declared)."""
        return type(self).log_expect is not Family.log_expect

    @cached_property
    def bounded(self) -> tuple[bool, bool] | None:
        """Which ends of the support are finite for every member; None when not 1-D or circular."""
        import numpy as np

        if self.kind == "multivariate" or self.circular or not self.example:
            return None
        lo, hi = self.support(numpy_ops(), self._example())
        return bool(np.isfinite(lo)), bool(np.isfinite(hi))

    def _example(self) -> dict[str, Any]:
        import numpy as np

        return {k: np.asarray(v, dtype=np.float64) for k, v in self.example.items()}


FAMILIES: dict[str, Family] = {}
_BY_TORCH: dict[str, Family] = {}
_BY_SCIPY: dict[str, Family] = {}


def family(cls: type[Family]) -> type[Family]:
    """Class decorator: register a :class:`Family` under its key and its torch and scipy names."""
    if cls.kind not in KINDS:
        raise ValueError(f"{cls.__name__}.kind must be one of {KINDS}; got {cls.kind!r}")
    if cls.key in FAMILIES:
        raise ValueError(f"a family with key {cls.key!r} is already registered")
    spec = cls()
    FAMILIES[cls.key] = spec
    _BY_TORCH.update(dict.fromkeys(cls.torch, spec))
    _BY_SCIPY.update(dict.fromkeys(cls.scipy, spec))
    return cls


def families_of_kind(kind: str) -> list[str]:
    """Keys of the registered families of ``kind``, in registration order."""
    _load()
    return [k for k, spec in FAMILIES.items() if spec.kind == kind]


def _load() -> None:
    """Import the modules that declare the families (they register themselves)."""
    import kullback.distributions.families  # noqa: F401


# ----------------------------------------------------------------------------- Dist


@dataclass
class Dist:
    """A distribution in kullback's internal parametrisation."""

    family: str  # a key of FAMILIES, or "scipy"/"torch" for a family kullback does not declare
    params: dict[str, Any]
    ops: Any
    source: str  # "scipy" or "torch"
    obj: Any
    label: str  # what error messages call it, e.g. "Exponential (torch)"
    shift: Any = 0.0  # scipy loc on shape families (numpy); 0 for torch
    width: Any = 1.0  # scipy scale on the beta (numpy)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> Family | None:
        return FAMILIES.get(self.family)

    @property
    def kind(self) -> str:
        """"continuous", "discrete", "multivariate" or "other" (no numerical fallback)."""
        spec = self.spec
        return spec.kind if spec is not None else self.extra.get("kind", "multivariate")

    @property
    def standard(self) -> bool:
        """True when no scipy loc shift / beta width sits on top of the canonical parameters."""
        import numpy as np

        return bool(np.all(np.asarray(self.shift) == 0) and np.all(np.asarray(self.width) == 1))

    @property
    def univariate(self) -> bool:
        spec = self.spec
        return spec is None or spec.event_dims == 0

    @property
    def univariate_continuous(self) -> bool:
        return self.kind == "continuous" and self.univariate

    @property
    def univariate_discrete(self) -> bool:
        return self.kind == "discrete" and self.univariate


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


def normalise(obj: Any, validate: bool = True) -> Dist:
    """A scipy or torch distribution object as a :class:`Dist` (parameters checked)."""
    _load()
    src = source_of(obj)
    if src == "torch":
        d = _from_torch(obj, validate)
    elif src == "scipy":
        d = _from_scipy(obj, validate)
    else:
        raise TypeError(
            "expected a scipy.stats frozen distribution or a torch.distributions.Distribution; "
            f"got {type(obj).__name__}"
        )
    if validate and d.spec is not None:
        d.spec.validate(d.ops, d.params, d.label)
    return d


# ----------------------------------------------------------------------------- torch


def _from_torch(obj: Any, validate: bool) -> Dist:
    ops = torch_ops()
    names = [n for m, n in _mro_names(obj) if m.startswith("torch.distributions")]
    label = f"{names[0]} (torch)"
    spec = next((_BY_TORCH[n] for n in names if n in _BY_TORCH), None)
    if spec is None:
        return Dist("torch", {}, ops, "torch", obj, label, extra={"kind": _torch_kind(obj)})
    if spec.key == "independent":
        params = {"base": normalise(obj.base_dist, validate),
                  "ndims": int(obj.reinterpreted_batch_ndims)}
    else:
        params = spec.from_torch(obj, ops)
    return Dist(spec.key, params, ops, "torch", obj, label)


def _torch_kind(obj: Any) -> str:
    """The kind of a torch distribution kullback does not declare, from its shapes and support."""
    if tuple(obj.event_shape) != ():
        return "multivariate"
    try:
        discrete = bool(obj.support.is_discrete)
    except NotImplementedError:
        return "multivariate"
    return "other" if discrete else "continuous"  # no summation range for a generic pmf


# ----------------------------------------------------------------------------- scipy


def _from_scipy(obj: Any, validate: bool) -> Dist:

    ops = numpy_ops()
    cls = type(obj).__name__
    spec = _BY_SCIPY.get(cls.removesuffix("_frozen"))
    if spec is not None and spec.kind == "multivariate":
        label = f"{spec.scipy[0]} (scipy)"
        return Dist(spec.key, spec.from_scipy_frozen(obj, label), ops, "scipy", obj, label)
    dist = getattr(obj, "dist", None)
    dname = getattr(dist, "name", None)
    if dname is None or not hasattr(obj, "args"):
        return Dist("scipy", {}, ops, "scipy", obj, f"{cls} (scipy)",
                    extra={"kind": "multivariate"})
    label = f"{dname} (scipy)"
    shapes, loc, scale = _parsed(obj)
    discrete = cls == "rv_discrete_frozen"
    kind = "discrete" if discrete else "continuous"
    if validate:
        positive(ops, scale, "scale", label)
        finite(ops, loc, "loc", label)
    spec = _BY_SCIPY.get(dname)
    params = spec.from_scipy(dname, shapes, loc, scale) if spec is not None else None
    if params is None:
        return Dist("scipy", {}, ops, "scipy", obj, label, extra={"kind": kind})
    shift = loc + spec.scipy_offset if spec.scipy_shift else 0.0
    width = scale if spec.scipy_width else 1.0
    return Dist(spec.key, params, ops, "scipy", obj, label, shift=shift, width=width)


def _parsed(obj: Any):
    """scipy's (shapes, loc, scale) of a frozen univariate, as float64 arrays (scale 1 if
    discrete)."""
    import numpy as np

    parsed = obj.dist._parse_args(*obj.args, **obj.kwds)
    shapes = [np.asarray(s, dtype=np.float64) for s in parsed[0]]
    loc = np.asarray(parsed[1], dtype=np.float64)
    scale = np.asarray(parsed[2] if len(parsed) > 2 else 1.0, dtype=np.float64)
    return shapes, loc, scale


# ----------------------------------------------------------------------------- derived views


def align(P: Dist, Q: Dist) -> tuple[Dist, Dist]:
    """Put both on the same ops flavour (a scipy object meeting a torch one becomes torch)."""
    if P.ops.name == Q.ops.name:
        return P, Q
    if P.ops.name == "torch":
        return P, _to_torch(Q, P)
    return _to_torch(P, Q), Q


def _to_torch(d: Dist, like: Dist) -> Dist:
    ops = like.ops
    ref = next(iter(like.params.values()), None)
    params = {k: ops.asarray(v, ref) if not isinstance(v, Dist) else v
              for k, v in d.params.items()}
    return Dist(d.family, params, ops, d.source, d.obj, d.label, d.shift, d.width, d.extra)


def sum_last(ops, x, n: int):
    """``x`` summed over its last ``n`` axes."""
    for _ in range(n):
        x = ops.sum(x, -1)
    return x


def batch_shape(d: Dist) -> tuple[int, ...]:
    """The batch shape of ``d`` (torch's ``batch_shape``; scipy's broadcast parameter shape)."""
    import numpy as np

    if d.source == "torch":
        return tuple(d.obj.batch_shape)
    if d.kind == "multivariate":
        return ()
    if d.family == "scipy":
        shapes, loc, scale = _parsed(d.obj)
        return np.broadcast_shapes(*(np.shape(a) for a in (*shapes, loc, scale)))
    shapes = [np.shape(v) for v in d.params.values()]
    return np.broadcast_shapes(*shapes, np.shape(d.shift), np.shape(d.width))


def support(d: Dist):
    """(lo, hi) of a 1-D family, scipy shift and beta width applied."""
    lo, hi = d.spec.support(d.ops, d.params)
    return (lo * d.width + d.shift, hi * d.width + d.shift)


def scipy_frozen(d: Dist):
    """A scipy frozen distribution equal to ``d`` (numpy parameters, shift and width applied)."""
    import numpy as np

    if d.source == "scipy" and d.family == "scipy":
        return d.obj
    f = d.spec.to_scipy({k: d.ops.to_numpy(v) for k, v in d.params.items()})
    shift = np.asarray(d.shift, dtype=np.float64)
    width = np.asarray(d.width, dtype=np.float64)
    if np.all(shift == 0) and np.all(width == 1):
        return f
    shapes, loc, scale = _parsed(f)
    if d.kind == "discrete":
        return f.dist(*shapes, loc=loc + shift)
    return f.dist(*shapes, loc=loc * width + shift, scale=scale * width)
