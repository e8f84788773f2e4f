"""The method table: one entry per method, what it supports, "auto", and the package index.

(Every module's ``__all__`` is pinned by tests/test_public_api.py.)
"""

from __future__ import annotations

import pytest

import kullback
from kullback import estimate
from kullback.estimate._methods import DEPRECATED, METHODS, QUANTITIES, resolve_method


def test_every_entry_declares_known_quantities_and_intervals():
    for name, m in METHODS.items():
        assert m.kind in ("discrete", "continuous"), name
        assert set(m.estimators) <= set(QUANTITIES), name
        assert m.auto_for <= set(m.estimators), name
        assert m.smoothing <= set(m.estimators), name
        assert m.interval in ("delta", "posterior", "bootstrap", "grouped"), name
        if m.interval in ("delta", "posterior"):
            assert set(m.stderr) >= set(m.estimators), name


@pytest.mark.parametrize("kind", ["discrete", "continuous"])
@pytest.mark.parametrize("quantity", QUANTITIES)
def test_auto_picks_exactly_one_method(kind, quantity):
    autos = [n for n, m in METHODS.items() if m.kind == kind and quantity in m.auto_for]
    assert len(autos) == 1
    assert resolve_method("auto", kind, quantity)[0] == autos[0]


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match=r"method: unknown method 'nsb' for discrete KL "
                       r"divergence; choose one of 'auto', 'plugin', 'miller_madow'$"):
        resolve_method("nsb", "discrete", "kl_divergence")
    with pytest.raises(ValueError, match="unknown method 3"):
        resolve_method(3, "continuous", "entropy")


def test_deprecated_names_point_at_entries():
    assert all(new in METHODS and old not in METHODS for old, new in DEPRECATED.items())


def test_one_result_type():
    assert estimate.Estimate is kullback._result.Estimate
    e = estimate.entropy(counts=[3, 2, 1], method="plugin", ci=0.9)
    assert isinstance(e, kullback._result.Estimate) and float(e) == e.value


def test_package_index():
    assert set(estimate.__all__) == {
        "Estimate", "cross_entropy", "entropy", "kl_divergence", "mutual_information"
    }
