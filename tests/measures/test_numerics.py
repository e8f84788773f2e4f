"""The accuracy contract at the edges: nearly identical inputs, extreme magnitudes, one-hot rows.

Contract (issue 10): KL and JS to 1e-10 relative in float64 and 1e-4 in float32 against a
high-precision oracle, down to divergences of 1e-30; never NaN, never negative, never 0 unless
p = q, never a spurious inf at any magnitude the dtype holds; on every evaluation path (generic,
blocked, log space) and backend. A fuzz test closes with "the oracle's value or a clear
ValueError/TypeError, never NaN, never negative KL/JS, never a mutated input".
"""

from __future__ import annotations

import math

import helpers
import mpmath
import numpy as np
import pytest
from helpers import assert_close
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kullback as kb
from kullback.measures import _blocked, _kernels

FUNCS = {
    "entropy": kb.entropy,
    "cross_entropy": kb.cross_entropy,
    "kl_divergence": kb.kl_divergence,
    "js_divergence": kb.js_divergence,
    "js_distance": kb.js_distance,
}
RTOL = {np.float64: 1e-10, np.float32: 1e-4}


oracle = helpers.oracle  # 700 digits: enough for any float64 input


# --------------------------------------------------------------------------- the kernels


@pytest.mark.parametrize("u", [1e-300, -1e-20, 1e-10, -3e-6, 0.01, -0.0625, 0.0626, -0.5, 0.9,
                               7.0, 1e30, -1 + 1e-12])
def test_log1pmx_and_expm1mx_to_1e14(u):
    with mpmath.workdps(60):
        want = float(mpmath.mpf(u) - mpmath.log1p(u))
        want_e = float(mpmath.expm1(u) - u) if u < 700 else math.inf
    assert_close(_kernels.log1pmx(np, np.float64(u)), want, rtol=1e-14)
    if u < 700:
        assert_close(_kernels.expm1mx(np, np.float64(u)), want_e, rtol=1e-14)
    u32 = np.float32(u)
    if float(u32) == u and np.isfinite(u32):  # the same number in float32: a few ulps there
        assert_close(_kernels.log1pmx(np, u32), want, rtol=1e-5)


def test_kernels_gradients_finite_and_exact_near_zero():
    torch = pytest.importorskip("torch")
    u = torch.tensor([0.0, 1e-12, -0.03, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    _kernels.log1pmx(_torch_ns(), u).sum().backward()
    want = (u / (1 + u)).detach()  # d/du (u - log1p u)
    assert torch.allclose(u.grad, want, rtol=1e-14, atol=1e-300)


def _torch_ns():
    import array_api_compat.torch as xp

    return xp


# --------------------------------------------------------------------------- nearly identical


def test_issue_example_half_plus_two_to_minus_27():
    e = 2.0**-27
    got = kb.kl_divergence([0.5, 0.5], [0.5 + e, 0.5 - e])
    assert_close(got, -0.5 * math.log1p(-(2.0**-52)), rtol=1e-10)


@pytest.mark.parametrize("scale", [1.0, 3.0, 1e-5, 7e20])
@pytest.mark.parametrize("rel", [1e-4, 1e-8, 1e-12, 1e-15])
def test_nearly_identical_generic_path(rel, scale):
    """Generic path: q = scale * p * (1 + rel * noise), totals unequal: 1e-10 relative."""
    rng = np.random.default_rng(int(rel * 1e15) % 1000 + int(scale) % 7)
    p = rng.random(7) + 0.5
    q = scale * p * (1 + rng.uniform(-rel, rel, 7))
    for name in ("kl_divergence", "js_divergence", "cross_entropy"):
        want = oracle(name, p, q)
        got = float(FUNCS[name](p, q))
        assert got > 0
        assert_close(got, want, rtol=1e-10)


def test_divergences_down_to_1e30():
    for k in (30, 40, 50):
        e = 2.0**-k
        p, q = [0.5, 0.5], [0.5 + e, 0.5 - e]
        for name in ("kl_divergence", "js_divergence"):
            want = oracle(name, p, q)
            assert want < 1e-17
            assert_close(FUNCS[name](p, q), want, rtol=1e-10)
            assert_close(FUNCS[name](np.log(p), np.log(q), p_form="log_probs",
                                     q_form="log_probs"), want, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nearly_identical_blocked_path(dtype):
    """The blocked driver (>= 2**18 elements) gave 0.0 here (issue 10, item 1)."""
    n = _blocked.MIN_BLOCKED
    rng = np.random.default_rng(0)
    rel = 1e-8 if dtype == np.float64 else 1e-3
    p = (rng.random(n) + 0.5).astype(dtype)
    q = (p * (1 + rng.uniform(-rel, rel, n))).astype(dtype)
    want = _fsum_kl_js(p.astype(np.float64), q.astype(np.float64))
    for name, w in zip(("kl_divergence", "js_divergence"), want, strict=True):
        got = float(FUNCS[name](p, q))
        assert got > 0
        assert abs(got - w) <= RTOL[dtype] * w, (name, got, w)


def _fsum_kl_js(p, q):
    """KL and JS of large float64 inputs in long double with math.fsum of the terms:
    the inputs differ by 1e-8 relative, so long double (eps 1e-19) gives 11 digits."""
    P = p.astype(np.longdouble) / math.fsum(p)
    Q = q.astype(np.longdouble) / math.fsum(q)
    def phi_sum(W, u):
        return float(math.fsum(W * (u - np.log1p(u))))
    kl = phi_sum(P, (Q - P) / P)
    js = 0.5 * (phi_sum(P, (Q - P) / (2 * P)) + phi_sum(Q, (P - Q) / (2 * Q)))
    return kl, js


def test_nearly_identical_on_every_backend(backend):
    e = 2.0**-40
    p, q = [0.25, 0.25, 0.5], [0.25 + e, 0.25 - e, 0.5]
    for name in ("kl_divergence", "js_divergence"):
        got = backend.to_numpy(FUNCS[name](backend.asarray(p), backend.asarray(q)))
        assert_close(got, oracle(name, p, q), rtol=1e-10)


def test_torch_gradient_matches_generic_near_identity():
    torch = pytest.importorskip("torch")
    e = 1e-9
    p = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.3 + e, 0.7 - e], dtype=torch.float64)
    kb.kl_divergence(p, q).backward()
    # d/dp_i KL(p/sum p||q) at a normalised p: log(p_i/q_i) - KL
    kl = oracle("kl_divergence", [0.3, 0.7], [0.3 + e, 0.7 - e])
    want = [math.log(0.3 / (0.3 + e)) - kl, math.log(0.7 / (0.7 - e)) - kl]
    assert np.allclose(p.grad.numpy(), want, rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- magnitudes


@pytest.mark.parametrize(
    ("p", "q"),
    [
        ([1e308, 1.0], [1.0, 1e308]),
        ([1e306, 1.0], [1.0, 1e306]),
        ([1.0, 1.0], [1e-245, 1e283]),
        ([5e-324, 1e308], [1e308, 5e-324]),
        ([1e-310, 1e300], [1e300, 1e-310]),
        ([1e300, 1e300, 1.0], [1e-300, 1.0, 1e300]),
    ],
)
def test_extreme_magnitudes_no_nan_no_spurious_inf(p, q):
    for name, fn in FUNCS.items():
        args = (p,) if name == "entropy" else (p, q)
        want = oracle(name, *args)
        assert_close(fn(*args), want, rtol=1e-12, atol=1e-300)


def test_extreme_magnitudes_float32():
    p, q = np.float32([1e37, 1.0]), np.float32([1.0, 1e37])
    want = oracle("kl_divergence", p.astype(float), q.astype(float))
    got = kb.kl_divergence(p, q)
    assert got.dtype == np.float32
    assert_close(got, want, rtol=1e-5)
    assert_close(kb.js_divergence(np.float32([3e38, 1]), np.float32([1, 3e38])), math.log(2),
                 rtol=1e-6)


def test_extreme_magnitudes_on_every_backend(backend):
    p, q = [1e306, 1.0], [1.0, 1e306]
    for name in ("kl_divergence", "js_divergence", "js_distance"):
        got = backend.to_numpy(FUNCS[name](backend.asarray(p), backend.asarray(q)))
        assert_close(got, oracle(name, p, q), rtol=1e-12)


# --------------------------------------------------------------------------- one-hot rows


@pytest.mark.parametrize("rest", [[1e-17], [1e-17, 3e-18], [1e-300], [1e-9, 0.0, 1e-12]])
def test_nearly_one_hot_entropy(rest):
    """The dominant entry's term -P log P is P log1p(rest/top), not 0 (was 2.5 % off)."""
    p = [1.0, *rest]
    want = oracle("entropy", p)
    assert_close(kb.entropy(p), want, rtol=1e-13)
    got = kb.entropy(np.array([p, p[::-1]]))
    assert_close(got[0], want, rtol=1e-13)
    assert_close(got[1], want, rtol=1e-13)
    assert_close(kb.cross_entropy(p, p), want, rtol=1e-13)


def test_nearly_one_hot_entropy_blocked_and_backends(backend):
    n = 1000 if backend.name != "numpy" else _blocked.MIN_BLOCKED
    p = np.full(n, 1e-17)
    p[3] = 1.0
    want = oracle("entropy", p) if n < 5000 else _one_hot_entropy(n - 1, 1e-17)
    got = backend.to_numpy(kb.entropy(backend.asarray(p)))
    assert_close(got, want, rtol=1e-12)


@pytest.mark.parametrize("small", [1e-5, 3e-4, 2e-3])
def test_nearly_one_hot_entropy_in_float32(backend, small):
    """float32 rounds the dominant entry's share to 2**-24, so its plain term is off by
    eps32 / (1 - share) relative: compensated from share 1 - 2**-7 on (the fuzz test found
    entropy([1e-5, 0.5]) in float32 1.2e-4 off on the general path)."""
    p = np.array([small, 0.5], dtype=np.float32)
    want = oracle("entropy", p.astype(np.float64))
    for kw in ({}, {"keepdims": True}):
        got = backend.to_numpy(kb.entropy(backend.asarray(p, dtype="float32"), **kw))
        assert_close(got.reshape(-1)[0], want, rtol=1e-5)
        batch = backend.asarray(np.stack([p, p[::-1]]), dtype="float32")
        got = backend.to_numpy(kb.entropy(batch, **kw)).reshape(-1)
        assert_close(got[0], want, rtol=1e-5)
        assert_close(got[1], want, rtol=1e-5)


def test_nearly_one_hot_float32_entropy_blocked():
    p = np.tile(np.array([1e-5, 0.5], dtype=np.float32), (_blocked.MIN_BLOCKED, 1))
    want = oracle("entropy", p[0].astype(np.float64))
    got = kb.entropy(p)
    assert_close(got[0], want, rtol=1e-5)
    assert_close(got[-1], want, rtol=1e-5)


def _one_hot_entropy(k, eps):
    """H of [1, eps x k] in closed form at 50 digits."""
    with mpmath.workdps(50):
        s = 1 + k * mpmath.mpf(eps)
        P1, Pe = 1 / s, mpmath.mpf(eps) / s
        return float(-(P1 * mpmath.log(P1) + k * Pe * mpmath.log(Pe)))


# --------------------------------------------------------------------------- fuzz

_TRIED = {"calls": 0}
_DTYPES = [np.float64, np.float32, np.float16, np.int64]


@st.composite
def hostile_arrays(draw, shape=None):
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    if shape is None:
        shape = draw(st.sampled_from([(1,), (2,), (3,), (5,), (8,), (2, 3), (3, 4), (1, 1)]))
    if dtype.kind == "i":
        elements = st.integers(0, 2**40)
    else:
        finfo = np.finfo(dtype)
        good = st.one_of(
            st.just(0.0),
            hnp.from_dtype(dtype, min_value=0.0, allow_nan=False, allow_infinity=False,
                           allow_subnormal=True),
            st.sampled_from([float(finfo.smallest_subnormal), float(finfo.smallest_normal),
                             float(finfo.max), float(finfo.max) / 4, 1.0, 0.5]),
        )
        bad = hnp.from_dtype(dtype, allow_subnormal=True)  # anything, NaN and inf included
        elements = st.one_of(good, good, good, good, good, good, good, bad)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _expect_error(a):
    a = np.asarray(a, dtype=np.float64)
    if a.dtype.kind == "f" and (np.isnan(a).any() or np.isinf(a).any() or (a < 0).any()):
        return True
    with np.errstate(over="ignore"):
        return bool((a.sum(axis=-1) == 0).any())


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_oracle_or_clear_error(data):
    p = data.draw(hostile_arrays())
    q = data.draw(hostile_arrays(shape=p.shape))
    p0, q0 = p.copy(), q.copy()
    for name, fn in FUNCS.items():
        args = (p,) if name == "entropy" else (p, q)
        _TRIED["calls"] += 1
        try:
            got = np.asarray(fn(*args))
        except ValueError as exc:
            assert "p" in str(exc) or "q" in str(exc)
            assert any(_expect_error(a) or _sum_overflows(a) for a in args), str(exc)
            continue
        assert not any(_expect_error(a) for a in args), (name, args, got)
        assert not np.isnan(got).any(), (name, args, got)
        if name != "entropy" and name != "cross_entropy":
            assert (got >= 0).all(), (name, args, got)
        _check_rows(name, args, got)
    np.testing.assert_array_equal(p, p0)  # never a mutated input
    np.testing.assert_array_equal(q, q0)


def _sum_overflows(a):
    a = np.asarray(a)
    compute = np.float32 if a.dtype in (np.float16, np.float32) else np.float64
    with np.errstate(over="ignore"):
        return bool(np.isinf(a.astype(compute).sum(axis=-1)).any())


def _check_rows(name, args, got):
    floats = [a.dtype for a in args if a.dtype.kind == "f"]  # integers take no part (as torch)
    out = np.result_type(*floats) if floats else np.dtype(np.float64)
    rtol = {np.float64: 1e-10, np.float32: 1e-4, np.float16: 2e-3}[out.type]
    # a result below the dtype's normal range is not relative; a zero divergence is
    # quadratic in the normalisation's rounding (eps**2)
    atol = max(float(np.finfo(out).smallest_normal), 16 * float(np.finfo(
        np.float32 if out == np.float16 else out).eps) ** 2)
    if name == "js_distance":
        atol = math.sqrt(atol)
    rows = [tuple(np.asarray(a, dtype=np.float64)[i] for a in args)
            for i in np.ndindex(got.shape)] if got.ndim else \
        [tuple(np.asarray(a, dtype=np.float64) for a in args)]
    for idx, row in zip(np.ndindex(got.shape) if got.ndim else [()], rows, strict=True):
        want = oracle(name, *row)
        if math.isinf(want) and want > np.finfo(out).max:
            assert got[idx] == want, (name, row, got[idx], want)
            continue
        want = min(want, float(np.finfo(out).max)) if not math.isinf(want) else want
        assert_close(got[idx], want, rtol=rtol, atol=atol)


def test_fuzz_count_report():
    """Runs after the fuzz test in file order: how many hostile calls the suite made."""
    if _TRIED["calls"]:
        print(f"\nfuzz: {_TRIED['calls']} hostile calls checked against the oracle")


# --------------------------------------------------------------------------- native fast paths


def _general(fn, *args, axis=-1):
    """The general path: keepdims=True skips the native fast paths."""
    out = fn(*args, axis=axis, keepdims=True)
    return out.squeeze(axis) if hasattr(out, "squeeze") else out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape_axis", [((5,), -1), ((4, 7), -1), ((6, 3), 0), ((2, 3, 4), 1)])
def test_fast_paths_equal_general_path(dtype, shape_axis):
    shape, axis = shape_axis
    rng = np.random.default_rng(len(shape) + axis)
    p = rng.random(shape).astype(dtype) + 0.01
    q = rng.random(shape).astype(dtype) + 0.01
    rtol = RTOL[np.dtype(dtype).type]
    for name, fn in FUNCS.items():
        args = (p,) if name == "entropy" else (p, q)
        got, want = fn(*args, axis=axis), _general(fn, *args, axis=axis)
        assert np.asarray(got).dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, want, rtol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_fast_paths_values_and_gradients(dtype):
    torch = pytest.importorskip("torch")
    tdt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    p0 = torch.rand(8, 10, generator=g, dtype=tdt) + 0.01
    q0 = torch.rand(8, 10, generator=g, dtype=tdt) + 0.01
    rtol = RTOL[np.dtype(dtype).type] * 10
    for name, fn in FUNCS.items():
        results = []
        for general in (False, True):
            p, q = p0.clone().requires_grad_(), q0.clone().requires_grad_()
            args = (p,) if name == "entropy" else (p, q)
            v = _general(fn, *args) if general else fn(*args)
            v.sum().backward()
            results.append((v.detach(), p.grad, None if name == "entropy" else q.grad))
        (v1, gp1, gq1), (v2, gp2, gq2) = results
        assert v1.dtype == tdt
        torch.testing.assert_close(v1, v2, rtol=rtol, atol=0)
        torch.testing.assert_close(gp1, gp2, rtol=rtol, atol=rtol)
        if gq1 is not None:
            torch.testing.assert_close(gq1, gq2, rtol=rtol, atol=rtol)


def test_fast_paths_fall_back_where_they_would_lose():
    """Zeros, nearly identical inputs, dominant entries and bad values take the general path
    (same values, same messages)."""
    e = 2.0**-40
    assert_close(kb.kl_divergence(np.array([0.5, 0.5]), np.array([0.5 + e, 0.5 - e])),
                 oracle("kl_divergence", [0.5, 0.5], [0.5 + e, 0.5 - e]), rtol=1e-10)
    assert_close(kb.entropy(np.array([1.0, 1e-17])), oracle("entropy", [1.0, 1e-17]),
                 rtol=1e-13)
    assert_close(kb.kl_divergence(np.array([1.0, 0.0]), np.array([0.7, 0.3])),
                 -math.log(0.7), rtol=1e-15)
    with pytest.raises(ValueError, match="q has a negative entry at position 1"):
        kb.js_divergence(np.array([0.5, 0.5]), np.array([1.5, -0.5]))
    with pytest.raises(ValueError, match="p has a NaN entry at position 0"):
        kb.entropy(np.array([math.nan, 0.5]))


@pytest.mark.parametrize("dtype", ["float64"])
def test_jax_jit_fast_paths_values_and_gradients(dtype):
    """Under jit the JAX fast path (cheap formula, lax.cond to the exact path when its bound
    fails) equals the general path in values and gradients, also on rows with a zero."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        pytest.skip("float64 needs jax_enable_x64")
    rng = np.random.default_rng(3)
    p0 = rng.random((6, 9)) + 0.01
    q0 = rng.random((6, 9)) + 0.01
    rtol = RTOL[np.dtype(dtype).type] * 10
    for zero in (False, True):
        p, q = p0.copy(), q0.copy()
        if zero:
            p[1, 2] = 0.0  # the fast path rejects the call: the exact branch serves
        p, q = jnp.asarray(p, dtype=dtype), jnp.asarray(q, dtype=dtype)
        for name in ("entropy", "kl_divergence", "js_divergence", "cross_entropy")[zero:]:
            fn, two = FUNCS[name], name != "entropy"

            def total(a, b, general, fn=fn, two=two):
                args = (a, b) if two else (a,)
                return jnp.sum(_general(fn, *args) if general else fn(*args))

            got = [jax.value_and_grad(total, argnums=(0, 1))(p, q, general)
                   for general in (False, True)]
            (v1, (gp1, gq1)), (v2, (gp2, gq2)) = got
            np.testing.assert_allclose(v1, v2, rtol=rtol)
            assert np.all(np.isfinite(gp1)) and np.all(np.isfinite(gq1)), name
            # at the zero entry itself the slope is one-sided (a subgradient): not compared
            pos = np.asarray(p) > 0
            np.testing.assert_allclose(np.asarray(gp1)[pos], np.asarray(gp2)[pos], rtol=rtol,
                                       atol=rtol)
            np.testing.assert_allclose(gq1, gq2, rtol=rtol, atol=rtol)


def test_jax_jit_near_identical_inputs_take_the_exact_branch():
    jax = pytest.importorskip("jax")
    if not jax.config.read("jax_enable_x64"):
        pytest.skip("needs jax_enable_x64")
    e = 2.0**-40
    p, q = jax.numpy.array([0.5, 0.5]), jax.numpy.array([0.5 + e, 0.5 - e])
    want = oracle("kl_divergence", [0.5, 0.5], [0.5 + e, 0.5 - e])
    assert_close(float(jax.jit(kb.kl_divergence)(p, q)), want, rtol=1e-10)
    want = oracle("js_divergence", [0.5, 0.5], [0.5 + e, 0.5 - e])
    assert_close(float(jax.jit(kb.js_divergence)(p, q)), want, rtol=1e-10)


def test_a_mass_lost_where_the_other_side_is_zero_keeps_relative_accuracy():
    """Found by the fuzz test: q's subnormal entry where p = 0 underflows in normalisation;
    that once sent the row to log space, whose absolute error (eps |log P|) cost a KL of 9e-29
    7 % of its value. The lost term is below the normal range either way."""
    p = np.array([0.0, 73625281491755.0, 0.0, 1.0, 0.0])
    q = np.array([5e-324, 73625289987910.0, 0.0, 1.0, 0.0])
    for name in ("kl_divergence", "js_divergence"):
        want = oracle(name, p, q)
        assert_close(getattr(kb, name)(p, q), want, rtol=1e-10)
        assert_close(getattr(kb, name)(p[None], q[None])[0], want, rtol=1e-10)
    # the mirror (found next): p's subnormal where q = 0; JS stays accurate, KL is +inf
    p2 = np.array([5e-324, 73625281491750.0, 0.0, 1.0, 0.0])
    q2 = np.array([0.0, 73625289987910.0, 0.0, 1.0, 0.0])
    assert_close(kb.js_divergence(p2, q2), oracle("js_divergence", p2, q2), rtol=1e-10)
    assert float(kb.kl_divergence(p2, q2)) == math.inf
    # lost on both sides, with a huge total on q's side (found by the CLI fuzz test)
    p3, q3 = [0.0, 5e-324, 0.0, 0.25], [3.35195198248565e153, 5e-324, 0.0, 1.0]
    for name in ("kl_divergence", "js_divergence"):
        assert_close(getattr(kb, name)(p3, q3), oracle(name, p3, q3), rtol=1e-10)
