"""Joint entropy, conditional entropy and mutual information of joint tables."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import kullback as kb
from kullback.measures import _blocked


def _oracle(table, quantity):
    """50-digit H(X,Y), H(Y|X), I(X;Y) from the definitions on exactly the float64 table."""
    with mpmath.workdps(50):
        t = [[mpmath.mpf(float(v)) for v in row] for row in np.asarray(table)]
        s = mpmath.fsum(v for row in t for v in row)
        P = [[v / s for v in row] for row in t]
        px = [mpmath.fsum(row) for row in P]
        py = [mpmath.fsum(col) for col in zip(*P, strict=True)]
        if quantity == "joint":
            v = -mpmath.fsum(c * mpmath.log(c) for row in P for c in row if c > 0)
        elif quantity == "conditional":
            v = -mpmath.fsum(c * mpmath.log(c / px[i]) for i, row in enumerate(P)
                             for c in row if c > 0)
        else:
            v = mpmath.fsum(c * mpmath.log(c / (px[i] * py[j])) for i, row in enumerate(P)
                            for j, c in enumerate(row) if c > 0)
        return float(v)


FUNCS = {"joint": kb.joint_entropy, "conditional": kb.conditional_entropy,
         "mi": kb.mutual_information}


@pytest.mark.parametrize("quantity", list(FUNCS))
def test_random_tables_against_mpmath(quantity):
    rng = np.random.default_rng(11)
    for _ in range(25):
        nx, ny = rng.integers(1, 7, size=2)
        t = rng.random((nx, ny)) * rng.integers(0, 2, size=(nx, ny))  # zeros, whole zero rows
        if t.sum() == 0:
            t[0, 0] = 1.0
        got = float(FUNCS[quantity](t))
        want = _oracle(t, quantity)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (t, got, want)
        assert got >= 0


def test_identities_and_units():
    t = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 5.0]])
    hx = float(kb.entropy(t.sum(1)))
    hy = float(kb.entropy(t.sum(0)))
    hxy = float(kb.joint_entropy(t))
    assert float(kb.conditional_entropy(t)) == pytest.approx(hxy - hx, rel=1e-13)
    assert float(kb.mutual_information(t)) == pytest.approx(hx + hy - hxy, rel=1e-12)
    # axes swapped: H(X|Y) and the same MI
    assert float(kb.conditional_entropy(t, axes=(1, 0))) == pytest.approx(hxy - hy, rel=1e-13)
    assert float(kb.mutual_information(t, axes=(1, 0))) == pytest.approx(
        float(kb.mutual_information(t)), rel=1e-13)
    assert float(kb.mutual_information(t, base="bits")) == pytest.approx(
        float(kb.mutual_information(t)) / math.log(2), rel=1e-14)


def test_product_table_has_zero_mi_never_negative():
    rng = np.random.default_rng(2)
    for _ in range(50):
        px, py = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(7))
        mi = float(kb.mutual_information(np.outer(px, py)))
        assert 0.0 <= mi < 1e-30  # KL of a table to itself up to the rounding of the product
        # the textbook H(X)+H(Y)-H(X,Y) is noise of either sign at 1e-16 here


def test_batch_axes_and_axes_argument():
    rng = np.random.default_rng(4)
    t = rng.random((3, 4, 5))  # X on axis 0, Y on axis 2, batch on axis 1
    got = kb.mutual_information(t, axes=(0, 2))
    want = [_oracle(t[:, b, :], "mi") for b in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert kb.joint_entropy(t, axes=(0, 2)).shape == (4,)


def test_every_backend(backend):
    t = [[0.3, 0.1], [0.2, 0.4]]
    want = {k: _oracle(t, k) for k in FUNCS}
    for k, f in FUNCS.items():
        got = f(backend.asarray(t))
        assert type(got).__module__.split(".")[0] == type(backend.asarray(t)).__module__.split(".")[0]
        assert float(backend.to_numpy(got)) == pytest.approx(want[k], rel=1e-12)


def test_torch_autograd_and_jax_grad():
    torch = pytest.importorskip("torch")
    t = torch.tensor([[0.3, 0.1], [0.2, 0.4]], dtype=torch.float64, requires_grad=True)
    kb.mutual_information(t).backward()
    # d I / d p(x,y) for a normalised table: log(p(x,y) / (p(x) p(y))) - 1 (- the
    # normalisation's gradient, the same constant for every cell); compare differences
    g = t.grad.numpy()
    P = t.detach().numpy()
    L = np.log(P / np.outer(P.sum(1), P.sum(0)))
    np.testing.assert_allclose(g - g[0, 0], L - L[0, 0], atol=1e-12)
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    f = jax.jit(lambda x: kb.mutual_information(x))
    gj = jax.grad(f)(jnp.asarray(P))
    np.testing.assert_allclose(np.asarray(gj) - float(gj[0, 0]), L - L[0, 0], atol=1e-12)


def test_dask_stays_lazy():
    da = pytest.importorskip("dask.array")
    t = da.from_array(np.array([[0.3, 0.1], [0.2, 0.4]]), chunks=1)
    out = kb.mutual_information(t)
    assert type(out).__module__.startswith("dask")
    assert float(out.compute()) == pytest.approx(_oracle([[0.3, 0.1], [0.2, 0.4]], "mi"),
                                                 rel=1e-12)


def test_large_tables_take_the_blocked_path_with_the_same_value(monkeypatch):
    rng = np.random.default_rng(8)
    t = rng.random((600, 600))  # 360 000 cells >= MIN_BLOCKED
    assert t.size >= _blocked.MIN_BLOCKED
    values = [f(t) for f in FUNCS.values()]
    monkeypatch.setattr(_blocked, "MIN_BLOCKED", 1 << 62)
    generic = [f(t) for f in FUNCS.values()]
    np.testing.assert_allclose(values, generic, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: kb.mutual_information([[0.5, -0.1], [0.3, 0.3]]), ValueError, "pxy has a negative"),
        (lambda: kb.joint_entropy([[np.nan, 1], [1, 1]]), ValueError, "pxy has"),
        (lambda: kb.conditional_entropy([[0, 0], [0, 0]]), ValueError, "pxy has an all-zero"),
        (lambda: kb.mutual_information([0.5, 0.5]), ValueError, "at least 2 dimensions"),
        (lambda: kb.mutual_information([[1, 1]], axes=(0, 0)), ValueError, "two different axes"),
        (lambda: kb.mutual_information([[1, 1]], axes=(0, 5)), ValueError, "out of range"),
        (lambda: kb.mutual_information([["a", "b"]]), TypeError, "pxy"),
        (lambda: kb.mutual_information([[1, 1]], base=0.5), ValueError, "greater than 1"),
    ],
)
def test_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
