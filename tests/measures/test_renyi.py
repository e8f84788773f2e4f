"""Rényi entropy and divergence against a 50-digit oracle, at every order and on every backend."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from helpers import oracle

import kullback as kb


def _renyi_oracle(p, q, alpha):
    """D_alpha / H_alpha from the definition at 50 digits (q None: entropy)."""
    with mpmath.workdps(50):
        P = [mpmath.mpf(float(v)) for v in p]
        s = mpmath.fsum(P)
        P = [v / s for v in P]
        if q is None:
            if alpha == math.inf:
                return float(-mpmath.log(max(P)))
            if alpha == 0:
                return float(mpmath.log(sum(1 for v in P if v > 0)))
            return float(mpmath.log(mpmath.fsum(v**alpha for v in P if v > 0)) / (1 - alpha))
        Q = [mpmath.mpf(float(v)) for v in q]
        t = mpmath.fsum(Q)
        Q = [v / t for v in Q]
        if alpha == math.inf:
            if any(a > 0 and b == 0 for a, b in zip(P, Q, strict=True)):
                return math.inf
            return float(mpmath.log(max(a / b for a, b in zip(P, Q, strict=True) if a > 0)))
        if alpha >= 1 and any(a > 0 and b == 0 for a, b in zip(P, Q, strict=True)):
            return math.inf
        alpha = mpmath.mpf(alpha)
        S = mpmath.fsum(a**alpha * b ** (1 - alpha) for a, b in zip(P, Q, strict=True)
                        if a > 0 and b > 0)
        if S == 0:
            return math.inf
        return float(mpmath.log(S) / (alpha - 1))


ORDERS = [0, 0.25, 0.5, 0.999999, 1 - 1e-9, 1 + 1e-9, 1.5, 2, 7, 40, math.inf]


@pytest.mark.parametrize("alpha", ORDERS)
def test_random_against_mpmath(alpha):
    rng = np.random.default_rng(int(1000 * min(alpha, 99)))
    for _ in range(20):
        n = int(rng.integers(1, 9))
        p = rng.random(n) * rng.integers(0, 2, n)
        q = rng.random(n) * rng.integers(0, 2, n)
        p[0] = p[0] or 0.3
        q[-1] = q[-1] or 0.2
        for got, want in [(kb.renyi_entropy(p, alpha), _renyi_oracle(p, None, alpha)),
                          (kb.renyi_divergence(p, q, alpha), _renyi_oracle(p, q, alpha))]:
            got = float(got)
            if math.isinf(want):
                assert got == want
            else:
                assert got == pytest.approx(want, rel=1e-11, abs=1e-15), (p, q, alpha)
            assert got >= 0


def test_order_one_is_shannon_and_kl_exactly_and_nearby_orders_keep_digits():
    p, q = [0.5, 0.5], [0.5 + 2**-27, 0.5 - 2**-27]
    kl = -0.5 * math.log1p(-(2.0**-52))  # KL of this pair, exactly derived
    assert float(kb.renyi_divergence(p, q, 1)) == float(kb.kl_divergence(p, q))
    for alpha in (1 - 1e-9, 1 + 1e-9):
        assert float(kb.renyi_divergence(p, q, alpha)) == pytest.approx(kl, rel=1e-6)
    # D_2 = log(sum p^2/q) = -log1p(-2^-52) here: a chi-square of 2^-52
    assert float(kb.renyi_divergence(p, q, 2)) == pytest.approx(-math.log1p(-(2.0**-52)), rel=1e-9)
    r = [0.7, 0.2, 0.1]
    assert float(kb.renyi_entropy(r, 1)) == float(kb.entropy(r))
    assert float(kb.renyi_entropy(r, 1 + 1e-12)) == pytest.approx(oracle("entropy", r), rel=1e-9)


def test_monotone_in_the_order():
    rng = np.random.default_rng(5)
    p, q = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    h = [float(kb.renyi_entropy(p, a)) for a in ORDERS]
    d = [float(kb.renyi_divergence(p, q, a)) for a in ORDERS]
    assert all(a >= b - 1e-15 for a, b in itertools.pairwise(h))
    assert all(a <= b + 1e-15 for a, b in itertools.pairwise(d))


def test_extreme_ratios_use_log_sum_exp_instead_of_overflowing():
    p, q = [1.0, 1.0], [1e-300, 1.0]
    for alpha in (3.0, 50.0):
        want = _renyi_oracle(p, q, alpha)
        assert math.isfinite(want)
        assert float(kb.renyi_divergence(p, q, alpha)) == pytest.approx(want, rel=1e-12)
    # support mismatch: +inf above order 1, finite below
    assert float(kb.renyi_divergence([0.5, 0.5], [1, 0], 2)) == math.inf
    assert float(kb.renyi_divergence([0.5, 0.5], [1, 0], 0.5)) == pytest.approx(math.log(2))
    assert float(kb.renyi_divergence([1, 0], [0, 1], 0.5)) == math.inf  # disjoint supports


def test_every_backend_with_base_batch_and_counts(backend):
    P = [[1, 2, 3], [4, 0, 1]]  # counts, normalised per row
    Q = [[2, 2, 2], [1, 1, 1]]
    for alpha in (0.5, 2.0):
        got = backend.to_numpy(kb.renyi_divergence(backend.asarray(P), backend.asarray(Q), alpha,
                                                   base="bits"))
        want = [_renyi_oracle(a, b, alpha) / math.log(2) for a, b in zip(P, Q, strict=True)]
        np.testing.assert_allclose(got, want, rtol=1e-12)
        got = backend.to_numpy(kb.renyi_entropy(backend.asarray(P), alpha))
        np.testing.assert_allclose(got, [_renyi_oracle(a, None, alpha) for a in P], rtol=1e-12)


def test_torch_autograd_jax_grad_jit():
    torch = pytest.importorskip("torch")
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.3, 0.3, 0.4], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: kb.renyi_divergence(x, q, 2.0), (p,))
    assert torch.autograd.gradcheck(lambda x: kb.renyi_entropy(x, 0.5), (p,))
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    f = jax.jit(lambda x: kb.renyi_divergence(x, jnp.asarray([0.3, 0.3, 0.4]), 2.0))
    x = jnp.asarray([0.2, 0.3, 0.5])
    # d/dp of log(sum p^2/q) at a normalised p (the normalisation adds the same constant)
    g = np.asarray(jax.grad(f)(x))
    S = float(np.sum(np.asarray(x) ** 2 / [0.3, 0.3, 0.4]))
    want = 2 * np.asarray(x) / [0.3, 0.3, 0.4] / S
    np.testing.assert_allclose(g - g[0], want - want[0], atol=1e-12)
    assert float(f(x)) == pytest.approx(_renyi_oracle([0.2, 0.3, 0.5], [0.3, 0.3, 0.4], 2.0))


@pytest.mark.parametrize(
    ("alpha", "exc", "match"),
    [(-1, ValueError, "alpha must be >= 0"), (math.nan, ValueError, "alpha"),
     ("big", ValueError, "alpha"), ([2], TypeError, "alpha")],
)
def test_bad_order(alpha, exc, match):
    with pytest.raises(exc, match=match):
        kb.renyi_entropy([0.5, 0.5], alpha)
