"""Tests for kullback.distributions.register_kl (dispatch by class, most specific, memoised).

Oracles: KL values written out by hand in each test (Bernoulli-like point masses, normals), and
torch.distributions' own KL for the torch classes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import kullback.distributions as kd
from kullback.distributions import _register

torch = pytest.importorskip("torch")
td = torch.distributions


@pytest.fixture(autouse=True)
def _restore_registry():
    """Each test registers into a clean registry that is restored afterwards."""
    saved = dict(_register._KL)
    _register._MEMO.clear()
    yield
    _register._KL.clear()
    _register._KL.update(saved)
    _register._MEMO.clear()


class Coin:
    """A distribution on {0, 1} that neither scipy nor torch knows."""

    def __init__(self, p):
        self.p = p


class BentCoin(Coin):
    pass


def _coin_kl(P, Q):
    return sum(a * math.log(a / b) for a, b in [(P.p, Q.p), (1 - P.p, 1 - Q.p)] if a)


def test_user_classes_get_a_formula_and_a_unit():
    kd.register_kl(Coin, Coin)(_coin_kl)
    hand = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert kd.kl_divergence(Coin(0.5), Coin(0.25)) == pytest.approx(hand, rel=1e-15)
    assert kd.kl_divergence(Coin(0.5), Coin(0.25), base=2) == pytest.approx(
        hand / math.log(2), rel=1e-15)
    res = kd.kl_divergence(Coin(0.5), Coin(0.25), return_error=True)
    assert res.method == "closed" and float(res.error) == 0.0 and res.unit == "nats"
    assert kd.is_distribution(Coin(0.3)) and kd.is_distribution(BentCoin(0.3))
    assert not kd.is_distribution(object())


def test_subclass_inherits_and_most_specific_wins():
    kd.register_kl(Coin, Coin)(lambda P, Q: 1.0)
    assert kd.kl_divergence(BentCoin(0.5), Coin(0.5)) == 1.0  # inherited through P's MRO
    kd.register_kl(BentCoin, Coin)(lambda P, Q: 2.0)
    assert kd.kl_divergence(BentCoin(0.5), Coin(0.5)) == 2.0  # nearer in P's MRO
    assert kd.kl_divergence(Coin(0.5), BentCoin(0.5)) == 1.0
    assert kd.kl_divergence(Coin(0.5), Coin(0.5)) == 1.0


def test_ambiguous_pairs_warn():
    kd.register_kl(BentCoin, Coin)(lambda P, Q: 1.0)
    kd.register_kl(Coin, BentCoin)(lambda P, Q: 2.0)
    with pytest.warns(RuntimeWarning, match="ambiguous"):
        assert kd.kl_divergence(BentCoin(0.5), BentCoin(0.5)) == 1.0  # P's order first


def test_lookups_are_memoised_and_registration_clears_the_memo(monkeypatch):
    calls = []
    real = _register._most_specific
    monkeypatch.setattr(_register, "_most_specific", lambda *a: calls.append(a) or real(*a))
    kd.register_kl(Coin, Coin)(_coin_kl)
    for _ in range(3):
        kd.kl_divergence(Coin(0.5), Coin(0.25))
    assert calls == [(Coin, Coin)]
    kd.register_kl(BentCoin, Coin)(lambda P, Q: 7.0)
    assert kd.kl_divergence(BentCoin(0.5), Coin(0.25)) == 7.0
    assert kd.kl_divergence(Coin(0.5), Coin(0.25)) == pytest.approx(_coin_kl(Coin(0.5),
                                                                              Coin(0.25)))
    assert len(calls) == 3  # both pairs looked up again after the registration


def test_torch_subclass_formula_overrides_and_cross_entropy_adds_entropy():
    class MyNormal(td.Normal):
        pass

    seen = []

    @kd.register_kl(MyNormal, td.Normal)
    def _kl(P, Q):
        seen.append((type(P), type(Q)))
        return td.kl_divergence(td.Normal(P.loc, P.scale), Q)

    P = MyNormal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    Q = td.Normal(torch.tensor(1.0, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    kl = kd.kl_divergence(P, Q)
    hand = math.log(2) + (1 + 1) / 8 - 0.5
    assert isinstance(kl, torch.Tensor) and float(kl) == pytest.approx(hand, rel=1e-14)
    ce = kd.cross_entropy(P, Q)
    assert float(ce) == pytest.approx(0.5 * math.log(2 * math.pi * math.e) + hand, rel=1e-14)
    assert seen == [(MyNormal, td.Normal)] * 2
    # kullback's own formula still serves the base classes, and other methods ignore users'
    assert kd.method_for(td.Normal(0.0, 1.0), Q) == "closed"
    kd.kl_divergence(td.Normal(0.0, 1.0), Q)
    kd.kl_divergence(P, Q, method="quad")
    assert len(seen) == 2


def test_scipy_generator_classes():
    class Shifted(stats.rv_continuous):
        def _pdf(self, x):
            return np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi)

    shifted = Shifted(name="shifted")
    kd.register_kl(type(shifted), type(stats.norm))(lambda P, Q: 0.5)  # KL(N(1,1) || N(0,1))
    assert kd.kl_divergence(shifted(), stats.norm()) == 0.5
    # without the formula, the same pair is integrated: the registered value was right
    assert kd.kl_divergence(shifted(), stats.norm(), method="quad") == pytest.approx(0.5,
                                                                                     rel=1e-8)


def test_bad_registrations():
    with pytest.raises(TypeError, match="type_p must be a class"):
        kd.register_kl(stats.norm, Coin)
    with pytest.raises(TypeError, match="expected a function"):
        kd.register_kl(Coin, Coin)(3)
