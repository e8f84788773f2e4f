"""Discrete measures: reference values, an mpmath oracle, properties, gradients, backends, errors."""

from __future__ import annotations

import math
import zlib

import helpers
import numpy as np
import pytest
from helpers import assert_close, oracle
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kullback as kb
from kullback.measures import _blocked

FUNCS = {
    "entropy": kb.entropy,
    "cross_entropy": kb.cross_entropy,
    "kl_divergence": kb.kl_divergence,
    "js_divergence": kb.js_divergence,
    "js_distance": kb.js_distance,
}
LN2 = math.log(2)


deep_oracle = helpers.oracle  # 700 digits: 50 cannot resolve 1 + 1e-300 nor subnormals


# shared/reference/discrete.json was computed at 60 digits: for this case it drops the
# dominant entry's term 1e-300 (700 digits: 6.9177552789821372252e-298)
_REFERENCE_AT_TOO_FEW_DIGITS = {"tiny_entropy"}

# --------------------------------------------------------------------------- reference values


def test_reference_values_on_every_backend(backend, discrete_reference):
    """shared/reference/discrete.json (mpmath, 60 digits) to 1e-13 relative, on each library."""
    if backend.name == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    units = {"nats": None, "bits": 2, "bans": 10}
    for case in discrete_reference:
        if backend.name == "jax" and "subnormal" in case["id"]:
            continue  # XLA on CPU flushes subnormals to zero: 1e-310 is 0 there (documented)
        fn = FUNCS[case["quantity"]]
        args = [backend.asarray(case["p"])]
        if case["q"] is not None:
            args.append(backend.asarray(case["q"]))
        got = backend.to_numpy(fn(*args, base=case["unit"]))
        want = float(case["value"])
        if case["id"] in _REFERENCE_AT_TOO_FEW_DIGITS:
            want = deep_oracle(case["quantity"], case["p"], case["q"], units[case["unit"]])
        assert_close(got, want, rtol=1e-13)
        # the unit given as a number must agree with the unit name
        got_num = backend.to_numpy(fn(*args, base=units[case["unit"]]))
        assert_close(got_num, want, rtol=1e-13)


def test_textbook_pair_exact_terms():
    """p = [.42,.31,.27], q = [.25,.5,.25]: H(p,q) = 1.1714, KL = 0.0905 nats (not 0.07)."""
    p, q = [0.42, 0.31, 0.27], [0.25, 0.5, 0.25]
    h = -(0.42 * math.log(0.42) + 0.31 * math.log(0.31) + 0.27 * math.log(0.27))
    ce = -(0.42 * math.log(0.25) + 0.31 * math.log(0.5) + 0.27 * math.log(0.25))
    d = kb.decompose(p, q)
    assert_close(d.entropy, h, 1e-14)
    assert_close(d.cross_entropy, ce, 1e-14)
    assert_close(d.kl_divergence, ce - h, 1e-13)
    assert round(float(d.cross_entropy), 4) == 1.1714
    assert round(float(d.kl_divergence), 4) == 0.0905


def test_one_hot_kl_is_exact_not_clipped():
    got = float(kb.kl_divergence([1, 0], [0.7, 0.3]))
    assert abs(got - (-math.log(0.7))) <= 1e-16
    assert abs(got - 0.3566749417565447) > 1e-9  # what eps-clipping gives


# --------------------------------------------------------------------------- mpmath oracle


def _random_cases(seed: int, n_cases: int):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n = int(rng.integers(1, 40))
        p = rng.random(n) ** rng.uniform(0.2, 4)
        q = rng.random(n) ** rng.uniform(0.2, 4)
        p[rng.random(n) < 0.15] = 0.0
        if rng.random() < 0.5:  # counts
            p = np.round(p * 50)
            q = np.round(q * 50) + 1
        if p.sum() == 0:
            p[0] = 1.0
        if q.sum() == 0:
            q[0] = 1.0
        yield p, q


@pytest.mark.parametrize("quantity", list(FUNCS))
def test_mpmath_oracle_random(quantity):
    """1e-13 relative agreement with a 50-digit oracle on random inputs (numpy), or an
    absolute error within one rounding of 1.

    The absolute term is for nearly one-hot p (the generator makes some, H down to 1e-9): there
    P = p/sum(p) rounds next to 1 by up to eps, which moves H by about eps absolutely; relative
    to such a small H that is far more than 1e-13, and no float64 normalisation avoids it.
    """
    eps = np.finfo(float).eps
    for p, q in _random_cases(zlib.crc32(quantity.encode()), 60):
        args = (p,) if quantity == "entropy" else (p, q)
        want = oracle(quantity, *args)
        assert_close(FUNCS[quantity](*args), want, rtol=1e-13, atol=eps)
        assert_close(FUNCS[quantity](*args, base="bits"), oracle(quantity, *args, base=2), 1e-13,
                     atol=eps)


@pytest.mark.parametrize(
    ("p", "q"),
    [
        ([1e-320, 1.0], [0.5, 0.5]),          # P subnormal: Q/P would overflow
        ([0.5, 0.5], [1e-320, 1.0]),          # Q subnormal: Q/P is subnormal
        ([0.5, 0.5], [5e-324, 1.0]),          # the smallest subnormal
        ([1e-300, 1.0, 0.0], [1.0, 1e-300, 1e-200]),
        ([5e-324, 1.0], [0.0, 1.0]),          # the mixture weight 2.5e-324 is not representable
        ([0.0, 5e-324], [5e-324, 5e-324]),    # both totals subnormal (found by hypothesis)
        ([1e-310, 3e-310], [2e-310, 1e-310]),
        ([0.25, 0.25, 0.5], [1e-310, 1e-310, 1.0]),
    ],
)
def test_tiny_and_subnormal_against_oracle(p, q):
    for quantity in ("cross_entropy", "kl_divergence", "js_divergence", "js_distance"):
        want = deep_oracle(quantity, p, q)
        if quantity == "js_distance" and want < 1e-150:
            continue  # sqrt of a JS below the subnormal resolution: not representable
        assert_close(FUNCS[quantity](p, q), want, rtol=1e-12, atol=1e-323)
    assert_close(kb.entropy(p), deep_oracle("entropy", p), rtol=1e-12)


# --------------------------------------------------------------------------- properties

probs = hnp.arrays(
    np.float64,
    st.integers(1, 12),
    elements=st.one_of(st.just(0.0), st.floats(1e-30, 1e3), st.floats(0, 1)),
).filter(lambda a: a.sum() > 0 and np.isfinite(a.sum()))


@st.composite
def pairs(draw):
    p = draw(probs)
    q = draw(
        hnp.arrays(
            np.float64,
            p.shape,
            elements=st.one_of(st.just(0.0), st.floats(1e-30, 1e3), st.floats(0, 1)),
        ).filter(lambda a: a.sum() > 0 and np.isfinite(a.sum()))
    )
    return p, q


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_gibbs_identity_and_bounds(pq):
    p, q = pq
    h = float(kb.entropy(p))
    ce = float(kb.cross_entropy(p, q))
    kl = float(kb.kl_divergence(p, q))
    js = float(kb.js_divergence(p, q))
    assert kl >= 0 and h >= 0 and ce >= h - 1e-12 * max(1.0, h)
    assert h <= math.log(len(p)) * (1 + 1e-14) + 1e-15
    if math.isfinite(ce):
        assert abs(ce - (h + kl)) <= 1e-12 * max(1.0, ce)
    else:
        assert math.isinf(kl)
    assert 0 <= js <= LN2
    # abs: proportional (not equal) p and q have a JS of order eps**2, which is rounding noise
    assert float(kb.js_divergence(q, p)) == pytest.approx(js, rel=1e-13, abs=1e-28)
    assert float(kb.js_distance(p, q)) == pytest.approx(math.sqrt(js), rel=1e-14)
    assert float(kb.kl_divergence(p, p)) == 0.0
    assert float(kb.js_divergence(p, p)) == 0.0


@settings(max_examples=60, deadline=None)
@given(pairs(), st.sampled_from([2, 10, 3.5, "bits", "bans"]))
def test_unit_conversion(pq, base):
    p, q = pq
    b = {"bits": 2, "bans": 10}.get(base, base)
    for f in (kb.cross_entropy, kb.kl_divergence, kb.js_divergence):
        nats = float(f(p, q))
        assert float(f(p, q, base=base)) == pytest.approx(nats / math.log(b), rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.lists(pairs(), min_size=1, max_size=5).filter(lambda ps: len({len(a) for a, _ in ps}) == 1))
def test_batch_equals_per_row(rows):
    P = np.stack([p for p, _ in rows])
    Q = np.stack([q for _, q in rows])
    for name, f in FUNCS.items():
        args = (P,) if name == "entropy" else (P, Q)
        batch = f(*args)
        per_row = [f(*((p,) if name == "entropy" else (p, q))) for p, q in rows]
        # one vector takes the lean kernels of _fast_numpy (correctly rounded sums for a few
        # outcomes), a batch the row-wise ones: two formulas, each accepted only within
        # 2**-40 relative of its error bound (the fast paths' rule)
        np.testing.assert_allclose(np.asarray(batch), np.asarray(per_row, dtype=float),
                                   rtol=1e-12, atol=0.0)
        # the same along axis 0 of the transposed arrays, with keepdims
        t_args = tuple(a.T for a in args)
        kept = f(*t_args, axis=0, keepdims=True)
        assert kept.shape == (1, len(rows))
        # keepdims takes the general path, a 1-D row the native fast path: two formulas,
        # each within 1e-12 here (the fast path hands over rows its error bound cannot vouch
        # for); along axis 0 NumPy also sums in another order
        np.testing.assert_allclose(kept[0], np.asarray(per_row, dtype=float), rtol=1e-12)


@settings(max_examples=80, deadline=None)
@given(pairs())
def test_logits_and_log_probs_match_probs(pq):
    """The log-space path agrees with the probability path.

    Excluded: entries that are subnormal after normalisation. There the probability path
    carries the subnormal's reduced precision (q / sum(q) rounds to the subnormal grid), while
    the log path normalises exactly (log q - log sum q): the log path is the more accurate one.
    """
    p, q = pq
    for a in (p, q):
        normed = a / a.sum()
        assume(not np.any((a > 0) & (normed < np.finfo(float).tiny)))
    with np.errstate(divide="ignore"):
        lp, lq = np.log(p) + 3.0, np.log(q) - 7.0  # unnormalised logits
        lpn, lqn = np.log(p / p.sum()), np.log(q / q.sum())
    for name, f in FUNCS.items():
        if name == "entropy":
            want = float(f(p))
            got = float(f(lp, p_form="logits"))
            got2 = float(f(lpn, p_form="log_probs"))
        else:
            want = float(f(p, q))
            got = float(f(lp, lq, p_form="logits", q_form="logits"))
            got2 = float(f(p, lqn, q_form="log_probs"))
        for g in (got, got2):
            if math.isinf(want):
                assert g == want
            else:
                assert g == pytest.approx(want, rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- near-identical inputs


def test_near_identical_relative_accuracy():
    """JS and KL of order eps**2 keep relative accuracy (the textbook JS form is 1e1 off here).

    Normalising in floating point perturbs each entry by an ulp, which limits what any
    float64 computation can reach at this scale: 1e-2 relative here, 1e-8 one step up.
    """
    p, q = [1.0, 1e-16], [1.0, 2e-16]
    for quantity in ("kl_divergence", "js_divergence"):
        assert_close(FUNCS[quantity](p, q), oracle(quantity, p, q), rtol=1e-2)
    p, q = [0.1, 0.9], [0.1 + 1e-9, 0.9 - 1e-9]
    for quantity in ("kl_divergence", "js_divergence", "js_distance"):
        assert_close(FUNCS[quantity](p, q), oracle(quantity, p, q), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_near_identical_pairs_never_negative_or_nan(dtype):
    """scipy's entropy(p, q) goes negative and jensenshannon NaN on such pairs; we never do."""
    rng = np.random.default_rng(7)
    eps = np.finfo(dtype).eps
    P = rng.random((400, 50)).astype(dtype)
    Q = (P * (1 + eps * rng.integers(-3, 4, P.shape))).astype(dtype)
    kl = kb.kl_divergence(P, Q)
    js = kb.js_divergence(P, Q)
    jd = kb.js_distance(P, Q)
    assert kl.dtype == dtype and jd.dtype == dtype
    assert np.all(kl >= 0) and np.all(js >= 0)
    assert not np.any(np.isnan(jd))
    assert np.all(kl < 1e3 * eps) and np.all(jd < 1e2 * np.sqrt(eps))


# --------------------------------------------------------------------------- backends


def test_result_library_and_dtype(backend):
    p = backend.asarray([0.2, 0.3, 0.5], dtype="float32")
    q = backend.asarray([0.3, 0.3, 0.4], dtype="float32")
    for name, f in FUNCS.items():
        r = f(p) if name == "entropy" else f(p, q)
        assert type(r).__module__.split(".")[0] == type(p).__module__.split(".")[0], name
        assert r.dtype == p.dtype
        p32 = np.asarray([0.2, 0.3, 0.5], np.float32)  # the float32 values, exactly
        q32 = np.asarray([0.3, 0.3, 0.4], np.float32)
        want = oracle(name, p32, None if name == "entropy" else q32)
        assert float(backend.to_numpy(r)) == pytest.approx(want, rel=2e-6)


def test_integer_counts_give_default_float(backend):
    p = backend.asarray([1, 2, 3], dtype="int64")
    r = kb.entropy(p)
    default = backend.xp.__array_namespace_info__().default_dtypes()["real floating"] if hasattr(
        backend.xp, "__array_namespace_info__"
    ) else None
    if backend.name == "torch":
        import torch

        default = torch.get_default_dtype()
    if backend.name in ("numpy", "dask", "array_api_strict"):
        assert "float64" in str(r.dtype)
    elif default is not None:
        assert r.dtype == default
    assert float(backend.to_numpy(r)) == pytest.approx(oracle("entropy", [1, 2, 3]), rel=1e-6)


def test_broadcasting_over_batch_axes(backend):
    rng = np.random.default_rng(3)
    P = rng.random((4, 1, 6))
    Q = rng.random((5, 6))
    got = backend.to_numpy(kb.kl_divergence(backend.asarray(P), backend.asarray(Q)))
    assert got.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            assert got[i, j] == pytest.approx(oracle("kl_divergence", P[i, 0], Q[j]), rel=1e-13)


def test_half_precision_computed_in_float32():
    import torch

    p = torch.tensor([0.1, 0.2, 0.7], dtype=torch.float16)
    q = torch.tensor([0.3, 0.3, 0.4], dtype=torch.float16)
    r = kb.kl_divergence(p, q)
    assert r.dtype == torch.float16
    want = oracle("kl_divergence", p.double().numpy(), q.double().numpy())
    assert float(r) == pytest.approx(want, rel=2e-3)


def test_torch_gradients_finite_at_zeros_and_correct():
    import torch

    p = torch.tensor([0.5, 0.0, 0.3, 0.2], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.25, 0.0, 0.3, 0.45], dtype=torch.float64, requires_grad=True)
    q2 = torch.tensor([0.25, 0.25, 0.1, 0.4], dtype=torch.float64, requires_grad=True)
    for f in (kb.entropy, kb.cross_entropy, kb.kl_divergence, kb.js_divergence, kb.js_distance):
        if f is kb.entropy:
            grads = torch.autograd.grad(f(p), (p,))
        else:  # zeros in p alone, and zeros in p and q at the same outcome
            grads = torch.autograd.grad(f(p, q2), (p, q2)) + torch.autograd.grad(f(p, q), (p, q))
        assert all(torch.all(torch.isfinite(g)) for g in grads), f.__name__
    # analytic gradient of KL(p||q) w.r.t. q for normalised inputs: -p/q + sum(p) (from the
    # normalisation q/sum(q)): at sum(q) = 1 the component along the simplex is -p/q + 1
    pn = torch.tensor([0.5, 0.0, 0.3, 0.2], dtype=torch.float64)
    (gq,) = torch.autograd.grad(kb.kl_divergence(pn, q2), (q2,))
    want = -pn / q2.detach() + 1.0
    assert torch.allclose(gq, want, rtol=1e-12, atol=1e-12)
    # the JS distance at p = q has a finite (zero) gradient, not NaN
    same = torch.tensor([0.2, 0.8], dtype=torch.float64, requires_grad=True)
    (gd,) = torch.autograd.grad(kb.js_distance(same, same.detach()), (same,))
    assert torch.all(gd == 0)


def test_torch_gradcheck():
    import torch

    p = torch.tensor([0.5, 0.1, 0.3, 0.1], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.25, 0.25, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    for f in (kb.cross_entropy, kb.kl_divergence, kb.js_divergence, kb.js_distance):
        assert torch.autograd.gradcheck(lambda a, b, f=f: f(a, b), (p, q))
        assert torch.autograd.gradcheck(
            lambda a, b, f=f: f(a, b, p_form="logits", q_form="logits"), (p, q)
        )
    assert torch.autograd.gradcheck(kb.entropy, (p,))


def test_jax_grad_and_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    p = jnp.asarray([0.5, 0.0, 0.3, 0.2])
    q = jnp.asarray([0.25, 0.25, 0.1, 0.4])
    for f in (kb.entropy, kb.cross_entropy, kb.kl_divergence, kb.js_divergence, kb.js_distance):
        fn = (lambda a, f=f: f(a)) if f is kb.entropy else (lambda a, f=f: f(a, q))
        g = jax.grad(fn)(p)
        assert bool(jnp.all(jnp.isfinite(g))), f.__name__
        assert float(jax.jit(fn)(p)) == pytest.approx(float(fn(p)), rel=1e-14)
        lg = jax.grad(lambda a, f=f: f(a, q, p_form="logits") if f is not kb.entropy else f(
            a, p_form="logits"))(jnp.log(q))
        assert bool(jnp.all(jnp.isfinite(lg)))
    want = -np.asarray(p) / np.asarray(q) + 1.0
    np.testing.assert_allclose(jax.grad(lambda b: kb.kl_divergence(p, b))(q), want, rtol=1e-12)


def test_dask_stays_lazy_and_blocks_merge():
    da = pytest.importorskip("dask.array")
    import dask
    from dask.callbacks import Callback

    rng = np.random.default_rng(11)
    p = rng.random((6, 1000))
    q = rng.random((6, 1000))
    P = da.from_array(p, chunks=(3, 250))
    Q = da.from_array(q, chunks=(2, 300))
    starts = []

    class Count(Callback):
        def _start(self, dsk):
            starts.append(1)

    with Count():
        lazy = {name: (f(P) if name == "entropy" else f(P, Q)) for name, f in FUNCS.items()}
        d = kb.decompose(P, Q)
    assert not starts, "a public function forced a Dask computation"
    for name, r in lazy.items():
        assert isinstance(r, da.Array)
        (val,) = dask.compute(r, scheduler="threads")
        want = [oracle(name, p[i]) if name == "entropy" else oracle(name, p[i], q[i]) for i in
                range(6)]
        np.testing.assert_allclose(val, want, rtol=1e-13)
    h, ce, kl = dask.compute(*d, scheduler="threads")
    np.testing.assert_allclose(ce, h + kl, rtol=1e-13)


# --------------------------------------------------------------------------- the blocked driver


@pytest.mark.parametrize("layout", ["1d", "rows", "axis0", "broadcast"])
def test_blocked_driver_matches_oracle(layout):
    rng = np.random.default_rng(5)
    n = _blocked.MIN_BLOCKED + 12345
    if layout == "1d":
        p, q, axis = rng.random(n), rng.random(n), -1
        p[::7] = 0.0
        rows = [(p, q)]
    elif layout == "rows":
        p, q, axis = rng.random((40, n // 40)), rng.random((40, n // 40)), -1
        rows = list(zip(p, q, strict=True))
    elif layout == "axis0":
        p, q, axis = rng.random((n // 30, 30)), rng.random((n // 30, 30)), 0
        rows = list(zip(p.T, q.T, strict=True))
    else:  # q broadcast from one row to many, with a middle axis: not reshapeable without a copy
        p = rng.random((3, 30, n // 90))
        q = rng.random((1, 1, n // 90))
        axis = -1
        rows = [(p[i, j], q[0, 0]) for i in range(3) for j in range(30)]
        q = np.broadcast_to(q, (3, 30, n // 90))[:, ::1, :]
    assert _blocked.use_blocked(np.broadcast_to(p, np.broadcast_shapes(p.shape, q.shape)))

    def fsum_oracle(quantity, a, b):
        # float64 terms from scipy, summed exactly: independent of our kernels
        from scipy import special

        a = a / math.fsum(a)
        b = b / math.fsum(b)
        if quantity == "entropy":
            return math.fsum(special.entr(a))
        if quantity == "cross_entropy":
            return -math.fsum(special.xlogy(a, b))
        if quantity == "kl_divergence":
            return math.fsum(special.rel_entr(a, b))
        m = (a + b) / 2
        return 0.5 * (math.fsum(special.rel_entr(a, m)) + math.fsum(special.rel_entr(b, m)))

    for quantity in ("entropy", "cross_entropy", "kl_divergence", "js_divergence"):
        f = FUNCS[quantity]
        got = np.ravel(f(p, axis=axis) if quantity == "entropy" else f(p, q, axis=axis))
        want = [fsum_oracle(quantity, a, b) for a, b in rows]
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{layout} {quantity}")


def test_blocked_is_deterministic_and_validates():
    rng = np.random.default_rng(1)
    p = rng.random(_blocked.MIN_BLOCKED * 3)
    q = rng.random(p.size)
    first = kb.kl_divergence(p, q)
    assert all(kb.kl_divergence(p, q) == first for _ in range(3))
    bad = p.copy()
    bad[400_001] = -0.5
    with pytest.raises(ValueError, match=r"q has a negative entry at position 400001 \(-0.5\)"):
        kb.kl_divergence(p, bad)
    with pytest.raises(ValueError, match=r"p has a negative entry at position 400001 \(-0.5\)"):
        kb.js_distance(bad, q)  # JS: the minima come from its second pass
    both = q.copy()
    both[400_001] = -0.5  # negative in p and q at once: the ratio q/p alone would not show it
    with pytest.raises(ValueError, match="negative entry at position 400001"):
        kb.kl_divergence(bad, both)
    with pytest.raises(ValueError, match="negative entry at position 400001"):
        kb.js_divergence(bad, both)
    bad[400_001] = np.nan
    with pytest.raises(ValueError, match="p has a NaN entry at position 400001"):
        kb.entropy(bad)


def test_decomposition_repr_and_unit():
    d = kb.decompose([0.42, 0.31, 0.27], [0.25, 0.5, 0.25], base="bits")
    assert d.unit.name == "bits"
    text = repr(d)
    assert "bits" in text and "1.559462" in text and "0.130538" in text and "1.690000" in text
    batch = kb.decompose(np.ones((2, 3)), np.ones((2, 3)))
    assert "shape=(2,)" in repr(batch)


# --------------------------------------------------------------------------- inputs (issue 14)


def test_masked_arrays_are_zero_mass_in_every_function():
    """Masked entries count as zero mass everywhere (KL was 2432.8, JS a third value)."""
    p = np.ma.array([0.25, 0.25, 100.0], mask=[0, 0, 1])
    q = np.ma.array([0.5, 0.5, 1e-9], mask=[0, 0, 1])
    for name, fn in FUNCS.items():
        args = (p,) if name == "entropy" else (p, q)
        plain = (np.array([0.25, 0.25, 0.0]),) + (() if name == "entropy" else
                                                  (np.array([0.5, 0.5, 0.0]),))
        want = oracle(name, *plain)
        assert_close(fn(*args), want, rtol=1e-14)
    assert float(kb.kl_divergence(p, q)) == 0.0
    assert float(kb.js_divergence(p, q)) == 0.0
    assert_close(kb.entropy(p), math.log(2), rtol=1e-15)


def test_pandas_and_polars_values_are_accepted():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    want = oracle("kl_divergence", [1, 2, 3], [3, 2, 1])
    s = pd.Series([1.0, 2.0, 3.0], index=["c", "b", "a"])
    assert_close(kb.kl_divergence(s, pd.Series([3, 2, 1])), want, rtol=1e-14)
    assert_close(kb.kl_divergence(pl.Series([1, 2, 3]), pl.Series([3.0, 2.0, 1.0])), want,
                 rtol=1e-14)
    df = pd.DataFrame({"x": [1.0, 3.0], "y": [2.0, 2.0], "z": [3.0, 1.0]})
    got = kb.entropy(df)
    assert isinstance(got, np.ndarray) and got.shape == (2,)
    assert_close(got[0], oracle("entropy", [1, 2, 3]), rtol=1e-14)
    got = kb.entropy(pl.DataFrame({"x": [1.0, 3.0], "y": [2.0, 2.0]}), axis=0)
    assert_close(got[0], oracle("entropy", [1, 3]), rtol=1e-14)
    with pytest.raises(TypeError, match="p must hold real numbers"):
        kb.entropy(pd.Series(["a", "b"]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_numpy_matrix_is_a_2d_array():
    got = kb.entropy(np.matrix([[1.0, 2.0, 3.0], [1.0, 1.0, 0.0]]))
    assert type(got) is np.ndarray and got.shape == (2,)
    assert_close(got[1], math.log(2), rtol=1e-15)


def test_numpy_operand_joins_torch_and_jax():
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    want = oracle("kl_divergence", [0.5, 0.5], [0.25, 0.75])
    q = np.array([0.25, 0.75])
    got = kb.kl_divergence(torch.tensor([0.5, 0.5], dtype=torch.float64), q)
    assert isinstance(got, torch.Tensor)
    assert_close(got, want, rtol=1e-14)
    got = kb.kl_divergence(q[::-1].copy(), torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert_close(got, oracle("kl_divergence", [0.75, 0.25], [0.5, 0.5]), rtol=1e-14)
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda p: kb.kl_divergence(p, q))  # a NumPy constant closed over in jit
    assert_close(f(jnp.array([0.5, 0.5])), want, rtol=1e-14)
    g = jax.grad(lambda p: kb.kl_divergence(p, q))(jnp.array([0.5, 0.5]))
    # d/dp_i KL(p/sum p || q) at a normalised p: log(p_i/q_i) + 1 - (KL + 1) = log(p_i/q_i) - KL
    assert np.allclose(np.asarray(g), np.log([2.0, 2.0 / 3.0]) - want, rtol=1e-13)
    with pytest.raises(TypeError, match="different array libraries"):
        kb.kl_divergence(torch.tensor([0.5, 0.5]), jnp.array([0.5, 0.5]))


def test_empty_batch_gives_empty_result(backend):
    x = backend.asarray(np.zeros((0, 3)))
    for name, fn in FUNCS.items():
        got = fn(x) if name == "entropy" else fn(x, x)
        assert tuple(got.shape) == (0,), (name, got.shape)
    got = kb.kl_divergence(x, x, q_form="logits")
    assert tuple(got.shape) == (0,)
    with pytest.raises(ValueError, match="p has an empty axis"):
        kb.entropy(np.zeros((0, 3)), axis=0)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_cross_entropy_gradient_at_a_zero_probability(library, keepdims):
    """Cross-entropy takes no log of p: at p_j = 0 it is smooth, with slope
    (-log Q_j - H(P, Q)) / S_p (the guards of H + KL gave -H(P, Q) / S_p there)."""
    p = np.array([[1.0, 0.0, 1.0, 0.5], [0.2, 0.3, 0.0, 0.5]])
    q = np.array([[0.2, 0.3, 0.5, 0.4], [0.1, 0.6, 0.2, 0.1]])
    sp, sq = p.sum(-1, keepdims=True), q.sum(-1, keepdims=True)
    P, Q = p / sp, q / sq
    H = -(P * np.log(Q)).sum(-1, keepdims=True)
    want_p = (-np.log(Q) - H) / sp
    want_q = 1.0 / sq - P / q

    def total(a, b):
        return kb.cross_entropy(a, b, keepdims=keepdims).sum()

    if library == "torch":
        torch = pytest.importorskip("torch")
        a, b = (torch.tensor(x, requires_grad=True) for x in (p, q))
        total(a, b).backward()
        got_p, got_q = a.grad.numpy(), b.grad.numpy()
    else:
        jax = pytest.importorskip("jax")
        old = jax.config.read("jax_enable_x64")
        jax.config.update("jax_enable_x64", True)
        try:
            got_p, got_q = (np.asarray(g) for g in jax.grad(total, argnums=(0, 1))(
                jax.numpy.asarray(p), jax.numpy.asarray(q)))
        finally:
            jax.config.update("jax_enable_x64", old)
    np.testing.assert_allclose(got_p, want_p, rtol=1e-12)
    np.testing.assert_allclose(got_q, want_q, rtol=1e-12)


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence"])
def test_general_path_slopes_at_a_tiny_probability(library, name):
    # P_j = 1e-17 against Q_j ~ 1e-3: the Bregman term P (u - log1p u), u = Q/P - 1 ~ 1e14,
    # differentiated to u - log1p(u) - u and lost 0.02 of a slope of -39 to cancellation.
    # keepdims=True takes the general path; the slopes are the closed forms in mpmath.
    mpmath = pytest.importorskip("mpmath")
    n = 40
    with mpmath.workdps(40):
        p = [1.0] + [1e-17] * (n - 1)
        q = [0.2 + 0.8 * i / (n - 1) for i in range(n)]
        sp, sq = mpmath.fsum(p), mpmath.fsum(q)
        P, Q = [mpmath.mpf(x) / sp for x in p], [mpmath.mpf(x) / sq for x in q]
        if name == "kl_divergence":  # d/dp_j = (log(P_j/Q_j) - KL) / S_p
            v = mpmath.fsum(a * mpmath.log(a / b) for a, b in zip(P, Q, strict=True))
            want = [(mpmath.log(a / b) - v) / sp for a, b in zip(P, Q, strict=True)]
            size = (abs(mpmath.log(P[0] / Q[0])) + v) / sp  # the parts of the dominant slope
        else:  # d/dp_j = (log(P_j/M_j) - KL(P||M)) / (2 S_p), M = (P + Q)/2
            M = [(a + b) / 2 for a, b in zip(P, Q, strict=True)]
            v = mpmath.fsum(a * mpmath.log(a / m) for a, m in zip(P, M, strict=True))
            want = [(mpmath.log(a / m) - v) / (2 * sp) for a, m in zip(P, M, strict=True)]
            size = (abs(mpmath.log(P[0] / M[0])) + v) / (2 * sp)
    if library == "torch":
        torch = pytest.importorskip("torch")
        a = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        getattr(kb, name)(a, torch.tensor(q, dtype=torch.float64), keepdims=True).sum().backward()
        got = a.grad.tolist()
    else:
        jax = pytest.importorskip("jax")
        if not jax.config.jax_enable_x64:
            pytest.skip("float64 needs jax_enable_x64")
        jnp = jax.numpy
        got = jax.grad(lambda x: getattr(kb, name)(x, jnp.asarray(q), keepdims=True).sum())(
            jnp.asarray(p)).tolist()
    for j in range(1, n):
        assert_close(got[j], float(want[j]), rtol=1e-12)
    # the dominant entry's slope (7e-15 for JS, 1.6e-14 for KL) is the difference of two
    # parts near 0.34 (JS) or 4.8 (KL) that cancel: held to 4 roundings of their sum
    # (6e-16 and 8.5e-15)
    err = abs(got[0] - float(want[0]))
    assert err <= 4 * 2.0**-52 * float(size), (err, float(size))
