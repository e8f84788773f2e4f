"""The table of measures: every entry, every path (generic, log-space, blocked) agrees."""

from __future__ import annotations

import numpy as np
import pytest

import kullback as kb
from kullback.measures import _blocked
from kullback.measures._table import MEASURES, Measure, lookup, register

# Parameters for the parametric entries: each measure is checked at these values.
PARAMS = {"renyi_entropy": [0.5, 2.0], "renyi_divergence": [0.5, 2.0]}


def _call(name, p, q, **params):
    f = getattr(kb, name)
    m = lookup(name)
    args = (p,) if m.arity == 1 else (p, q)
    return f(*args, *params.values())


def _cases():
    for name in sorted(MEASURES):
        for alpha in PARAMS.get(name, [None]):
            yield name, ({} if alpha is None else {"alpha": alpha})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [_blocked.MIN_BLOCKED - 7, _blocked.MIN_BLOCKED + 4099])
@pytest.mark.parametrize(("name", "params"), list(_cases()))
def test_generic_and_blocked_paths_agree(name, params, size, dtype, monkeypatch):
    """Every measure in the table: same value with the blocked driver on and off."""
    rng = np.random.default_rng(size % 1000 + len(name))
    p = rng.random(size).astype(dtype)
    q = rng.random(size).astype(dtype)
    p[::11] = 0  # zeros exercise the tiles' generic fallback
    blocked_or_not = _call(name, p, q, **params)
    monkeypatch.setattr(_blocked, "MIN_BLOCKED", 1 << 62)
    generic = _call(name, p, q, **params)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(blocked_or_not, generic, rtol=rtol)
    assert np.asarray(blocked_or_not).dtype == dtype


@pytest.mark.parametrize(("name", "params"), list(_cases()))
def test_log_space_path_agrees_with_probability_path(name, params):
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(50), size=4)
    q = rng.dirichlet(np.ones(50), size=4)
    m = lookup(name)
    f = getattr(kb, name)
    args = (p,) if m.arity == 1 else (p, q)
    probs = f(*args, *params.values())
    logs = f(*(np.log(a) for a in args), *params.values(), p_form="log_probs",
             **({"q_form": "logits"} if m.arity == 2 else {}))
    np.testing.assert_allclose(logs, probs, rtol=1e-12)


def test_unknown_measure_raises_instead_of_computing_another():
    with pytest.raises(KeyError, match="unknown measure 'kl'"):
        lookup("kl")
    pr_free = [n for n in MEASURES if n not in dir(kb)]
    assert pr_free == [], f"every table entry has a public function: {pr_free}"


def test_a_new_measure_is_one_entry_and_its_kernels():
    """Registering an entry makes it evaluable on every path, the blocked one included."""
    from kullback.measures import _kernels
    from kullback.measures._prepare import prepare
    from kullback.measures.discrete import _evaluate

    def sq_terms(xp, P):  # sum of P**2 (collision probability), terms >= 0
        return xp.multiply(P, P)

    def log_sq_terms(xp, lp):
        return xp.exp(lp + lp)

    entry = Measure(name="_collision_test", arity=1, terms=sq_terms, log_terms=log_sq_terms,
                    tile=None)
    register(entry)
    try:
        rng = np.random.default_rng(0)
        p = rng.random(_blocked.MIN_BLOCKED + 5)
        pr = prepare(p, None, -1, "probs", "probs", True)
        got = float(_evaluate(pr, ("_collision_test",))["_collision_test"])
        want = float(np.sum((p / p.sum()) ** 2))
        assert got == pytest.approx(want, rel=1e-12)
        with pytest.raises(ValueError, match="already in the table"):
            register(Measure(name="_collision_test", arity=1, terms=_kernels.entropy_terms,
                             log_terms=_kernels.log_entropy_terms))
    finally:
        del MEASURES["_collision_test"]
