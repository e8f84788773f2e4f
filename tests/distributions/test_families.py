"""Tests for the family declarations (kullback.distributions.families and ._family).

Oracles: scipy's own entropy() and support() for the scipy object each declaration builds, the
torch class each declaration names, and the closed-form registry as it was hand-listed before
the declarations (126 pairs: 20 written KL formulas, 52 cross-entropies from moments, 54 +inf).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from kullback.distributions import _family
from kullback.distributions._closed_forms import REGISTRY
from kullback.distributions._dist_ops import numpy_ops
from kullback.distributions._family import FAMILIES, Family, families_of_kind, family

_family._load()
ONE_D = families_of_kind("continuous") + [k for k in families_of_kind("discrete")
                                          if FAMILIES[k].event_dims == 0]


def _example(spec):
    return {k: np.asarray(v, dtype=np.float64) for k, v in spec.example.items()}


@pytest.mark.parametrize("key", ONE_D)
def test_declared_scipy_object_matches_the_declared_pieces(key):
    """to_scipy (mostly derived from the declarations) builds the same distribution: scipy's
    entropy equals the declared one, its support the declared support."""
    spec = FAMILIES[key]
    p = _example(spec)
    frozen = spec.to_scipy(p)
    assert frozen.dist.name == spec.scipy[0]
    if not spec.circular:  # a circular family declares one period, scipy the real line
        np.testing.assert_allclose(np.asarray(frozen.support(), dtype=float),
                                   np.asarray(spec.support(numpy_ops(), p), dtype=float))
    if spec.has_entropy:
        assert float(spec.entropy(numpy_ops(), p)) == pytest.approx(float(frozen.entropy()),
                                                                    rel=1e-10)
    # and reading the scipy object back gives the declared parameters
    import kullback.distributions as kd  # noqa: F401  (the public path loads the families)

    d = _family.normalise(frozen)
    assert d.family == key
    for name, value in p.items():
        np.testing.assert_allclose(d.params[name], value, rtol=1e-15)


@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_torch_names_are_torch_classes(key):
    td = pytest.importorskip("torch").distributions
    for name in FAMILIES[key].torch:
        assert issubclass(getattr(td, name), td.Distribution)


def test_derived_registry_equals_the_hand_listed_one():
    kinds = Counter((rule.kind, rule.note.startswith("+inf")) for rule in REGISTRY.values())
    assert len(REGISTRY) == 126
    assert kinds == {("kl", False): 20, ("cross", False): 52, ("kl", True): 54}
    assert REGISTRY[("normal", "gamma")].note.startswith("+inf")
    assert REGISTRY[("poisson", "binomial")].note.startswith("+inf")
    assert REGISTRY[("uniform", "beta")].kind == "cross"
    assert ("normal", "vonmises") not in REGISTRY  # circular: nesting says nothing


def test_derived_declarations():
    assert FAMILIES["gamma"].bounded == (True, False)
    assert FAMILIES["uniform"].bounded == (True, True)
    assert FAMILIES["normal"].bounded == (False, False)
    assert FAMILIES["vonmises"].bounded is None
    assert FAMILIES["beta"].provides == {"mean", "var", "mlog", "mlog1m", "vlog", "moment"}
    assert FAMILIES["studentt"].provides == {"mean", "var"}
    assert FAMILIES["laplace"].serves_as_q and not FAMILIES["cauchy"].serves_as_q
    assert families_of_kind("multivariate") == ["dirichlet", "mvn", "independent"]


def test_registration_is_checked():
    with pytest.raises(ValueError, match="already registered"):
        @family
        class Normal2(Family):
            key, kind = "normal", "continuous"
    with pytest.raises(ValueError, match="kind must be one of"):
        @family
        class Odd(Family):
            key, kind = "odd", "mixed"
    assert "odd" not in FAMILIES
