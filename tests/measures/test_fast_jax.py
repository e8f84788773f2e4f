"""The JAX fast paths (``kullback.measures._fast_jax``): equal to the general path in values and
gradients, under ``jit`` and eagerly; the oracle's value where a row needs the exact branch; the
general path's errors for invalid concrete input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, oracle

import kullback as kb

jax = pytest.importorskip("jax")
jnp = jax.numpy

NAMES = ("entropy", "cross_entropy", "kl_divergence", "js_divergence", "js_distance")
CONTRACT = {"float64": 1e-10, "float32": 1e-4}  # vs the oracle
CASES = [((5, 7), -1), ((7,), 0), ((6, 4), 0)]  # a batch, 1-D, the first axis


@pytest.fixture(autouse=True, scope="module")
def _x64():
    old = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", old)


def _call(name, args, **kw):
    fn = getattr(kb, name)
    return fn(*args, **kw)


def _general(name, args, axis):
    """The general path: ``keepdims=True`` skips the fast paths."""
    return jnp.squeeze(_call(name, args, axis=axis, keepdims=True), axis)


def _operands(rng, shape, dtype, name):
    p = jnp.asarray(rng.random(shape) * 3 + 0.01, dtype)
    q = jnp.asarray(rng.random(shape) + 0.01, dtype)
    return (p,) if name == "entropy" else (p, q)


def _grads(fn, args):
    return jax.grad(lambda *a: jnp.sum(fn(*a)), argnums=tuple(range(len(args))))(*args)


def _by_hand(name, args, axis):
    """Values and gradients in closed form (NumPy, float64), the outcome axis last."""
    xs = [np.moveaxis(np.asarray(a, np.float64), axis, -1) for a in args]
    s = [x.sum(-1, keepdims=True) for x in xs]
    P = xs[0] / s[0]
    if name == "entropy":
        h = -(P * np.log(P)).sum(-1, keepdims=True)
        return h[..., 0], [-(np.log(P) + h) / s[0]]
    Q = xs[1] / s[1]
    M = (P + Q) / 2
    dq = (1 - P / Q) / s[1]
    if name == "cross_entropy":
        v = -(P * np.log(Q)).sum(-1, keepdims=True)
        return v[..., 0], [(-np.log(Q) - v) / s[0], dq]
    if name == "kl_divergence":
        v = (P * np.log(P / Q)).sum(-1, keepdims=True)
        return v[..., 0], [(np.log(P / Q) - v) / s[0], dq]
    kp = (P * np.log(P / M)).sum(-1, keepdims=True)
    kq = (Q * np.log(Q / M)).sum(-1, keepdims=True)
    js = (kp + kq) / 2
    grads = [(np.log(P / M) - kp) / (2 * s[0]), (np.log(Q / M) - kq) / (2 * s[1])]
    if name == "js_distance":
        return np.sqrt(js[..., 0]), [g / (2 * np.sqrt(js)) for g in grads]
    return js[..., 0], grads


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_values_under_jit_and_eagerly(name, dtype):
    """A batch, 1-D and the first axis: eagerly and under ``jit`` the same values, in the
    input's dtype, equal to the closed form (1e-13 in float64; float32 to a few ulps)."""
    rng = np.random.default_rng(7)
    cases = [(_operands(rng, shape, dtype, name), axis) for shape, axis in CASES]
    fns = [lambda *a, axis=axis: _call(name, a, axis=axis) for _, axis in cases]
    values = jax.jit(lambda ops: [f(*a) for f, a in zip(fns, ops, strict=True)])(
        [c[0] for c in cases])
    rtol = {"float64": 1e-13, "float32": 3e-6}[dtype]
    for (args, axis), value in zip(cases, values, strict=True):
        eager = _call(name, args, axis=axis)
        assert value.dtype == eager.dtype == args[0].dtype and value.shape == eager.shape
        np.testing.assert_allclose(value, eager, rtol=rtol)
        np.testing.assert_allclose(value, _by_hand(name, args, axis)[0], rtol=rtol)


@pytest.mark.parametrize(("name", "dtype", "axis"), [
    ("entropy", "float64", -1), ("cross_entropy", "float64", 0),
    ("kl_divergence", "float64", -1), ("js_divergence", "float64", 0),
    ("js_distance", "float32", -1), ("kl_divergence", "float32", 0),
])
def test_gradients_equal_the_closed_form(name, dtype, axis):
    """Values and gradients under ``jit`` (the fast branch) equal the closed form. (Each
    compile holds the general path's backward pass too, so a few cases only; the exact
    branch's gradients are held to the closed form where it serves, in the tests below.)"""
    args = _operands(np.random.default_rng(8), (5, 7), dtype, name)
    value, grads = jax.jit(lambda *a: (_call(name, a, axis=axis),
                                       _grads(lambda *b: _call(name, b, axis=axis), a)))(*args)
    want, slopes = _by_hand(name, args, axis)
    rtol = {"float64": 1e-12, "float32": 3e-5}[dtype]
    np.testing.assert_allclose(value, want, rtol=rtol)
    for got, slope in zip(grads, slopes, strict=True):
        np.testing.assert_allclose(np.moveaxis(np.asarray(got), axis, -1), slope, rtol=rtol,
                                   atol=rtol)


def test_float32_stays_float32_and_meets_the_contract_on_wide_rows():
    """2 x 2000 float32 rows, x64 on: no widening to float64, and every measure is within
    1e-4 of the oracle (the error bound also covers the summation of 2000 terms)."""
    rng = np.random.default_rng(1)
    p0, q0 = rng.random((2, 2, 2000)) + 1e-3
    p, q = jnp.asarray(p0, jnp.float32), jnp.asarray(q0, jnp.float32)
    for name in NAMES[:4]:
        args = (p,) if name == "entropy" else (p, q)
        got = jax.jit(lambda *a, name=name: _call(name, a))(*args)
        assert got.dtype == jnp.float32
        for r in range(2):
            ref = [np.asarray(a[r], np.float64) for a in args]
            assert_close(got[r], oracle(name, *ref, digits=20), rtol=1e-4)


def _rows_needing_the_exact_branch():
    """Rows the fast formulas do not vouch for, beside an ordinary row: nearly identical
    (KL, JS below their rounding), a zero, a dominant entry, huge and tiny totals. (Not
    subnormal entries: XLA on CPU flushes them to zero.)"""
    e = 2.0**-27
    ordinary = ([0.2, 0.3, 0.5], [0.4, 0.4, 0.2])
    return [
        ([0.5, 0.5, 0.0], [0.5 + e, 0.5 - e, 0.0]),
        ([0.0, 0.3, 0.7], [0.2, 0.3, 0.5]),
        ([1.0, 1e-17, 1e-17], [0.3, 0.3, 0.4]),
        ([1e300, 3e300, 1e299], [1e-300, 2e-300, 5e-301]),
        ordinary,
    ]


@pytest.mark.parametrize("name", NAMES)
def test_rows_not_vouched_for_take_the_exact_branch_under_jit(name):
    rows = _rows_needing_the_exact_branch()
    p = jnp.asarray([r[0] for r in rows])
    q = jnp.asarray([r[1] for r in rows])
    args = (p,) if name == "entropy" else (p, q)
    got = jax.jit(lambda *a: _call(name, a))(*args)
    for i, (pr, qr) in enumerate(rows):
        want = oracle(name, pr, None if name == "entropy" else qr)
        assert_close(got[i], want, rtol=CONTRACT["float64"])
    # the ordinary row alone is served by the fast branch, to the same value
    alone = jax.jit(lambda *a: _call(name, a))(*(a[-1:] for a in args))
    assert_close(alone[0], float(got[-1]), rtol=1e-13)


def test_the_fast_formulas_refuse_the_rows_they_cannot_vouch_for():
    from kullback.measures import _fast_jax

    rows = _rows_needing_the_exact_branch()
    p = jnp.asarray([r[0] for r in rows])
    q = jnp.asarray([r[1] for r in rows])
    for name, formula in _fast_jax._FORMULAS.items():
        value = np.asarray(formula.value(p, q, -1, True)[0])
        assert np.isfinite(value[-1]), name  # the ordinary row
        refused = np.isnan(value[:-1])
        assert refused[0 if name != "entropy" else 1], name  # nearly identical / a zero in p
        assert refused[2] or name != "entropy", name  # a dominant entry
        assert refused[3], name  # q's total is below the range the bound covers


def test_float32_near_identical_and_extreme_rows_under_jit():
    """Found by this test: ``sum p log q`` overflows to inf for entries near float32's
    maximum; the bound must refuse such a row (the general path scales it), not accept
    ``-inf``."""
    e = 2.0**-12
    p = jnp.asarray([[0.5, 0.5], [3e37, 1e37], [0.25, 0.75]], jnp.float32)
    q = jnp.asarray([[0.5 + e, 0.5 - e], [1e37, 3e37], [0.5, 0.5]], jnp.float32)
    for name in NAMES:
        args = (p,) if name == "entropy" else (p, q)
        got = jax.jit(lambda *a, name=name: _call(name, a))(*args)
        for i in range(3):
            ref = [np.asarray(x[i], np.float64) for x in args]
            assert_close(got[i], oracle(name, *ref), rtol=CONTRACT["float32"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", ["negative", "nan", "inf", "all-zero"])
def test_invalid_concrete_input_raises_the_general_path_error(name, bad):
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    q = np.array([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    p[1] = {"negative": [0.7, -0.1, 0.4], "nan": [0.5, math.nan, 0.5],
            "inf": [0.5, math.inf, 0.5], "all-zero": [0.0, 0.0, 0.0]}[bad]
    args = (jnp.asarray(p),) if name == "entropy" else (jnp.asarray(p), jnp.asarray(q))
    with pytest.raises(ValueError, match="p "):
        _call(name, args)


def test_cross_entropy_negative_q_raises_too():
    p = jnp.asarray([0.5, 0.5])
    with pytest.raises(ValueError, match="q has a negative entry"):
        kb.cross_entropy(p, jnp.asarray([1.5, -0.5]))


def test_cross_entropy_gradient_at_a_zero_of_p_is_the_derivative():
    """``H(P, Q)`` is smooth in ``p_j`` at 0 (no log of ``p`` is taken): its slope is
    ``(-log Q_j - H) / S_p``, by hand here; the fast path serves that row and gives it."""
    p = jnp.asarray([0.0, 0.3, 0.7])
    q = jnp.asarray([0.1, 0.4, 0.5])
    h = -(0.3 * math.log(0.4) + 0.7 * math.log(0.5))
    want = [-math.log(0.1) - h, -math.log(0.4) - h, -math.log(0.5) - h]
    got = jax.jit(jax.grad(lambda a: kb.cross_entropy(a, q)))(p)
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("name", ["entropy", "kl_divergence"])
def test_gradients_at_a_zero_are_the_general_paths(name):
    """A zero of ``p`` (its slope is infinite) sends the call to the exact branch: the
    gradient is the general path's, finite, at the zero too."""
    p = jnp.asarray([[0.0, 0.3, 0.7], [0.2, 0.3, 0.5]])
    q = jnp.asarray([[0.1, 0.4, 0.5], [0.3, 0.3, 0.4]])
    args = (p,) if name == "entropy" else (p, q)
    g_fast = jax.jit(lambda *a: _grads(lambda *b: _call(name, b), a))(*args)
    g_general = _grads(lambda *b: _general(name, b, -1), args)
    for a, b in zip(g_fast, g_general, strict=True):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_jit_keeps_the_input_dtype_and_batch_shape_along_axis_0():
    p = jnp.asarray(np.random.default_rng(2).random((9, 2, 3)) + 0.1, jnp.float32)
    got = jax.jit(lambda a: kb.js_distance(a, a[::-1], axis=0))(p)
    assert got.shape == (2, 3) and got.dtype == jnp.float32
    want = kb.js_distance(np.asarray(p, np.float64), np.asarray(p[::-1], np.float64), axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-4)


@pytest.mark.parametrize("near", [False, True])
def test_forward_mode_and_hessian_through_the_fast_path(near):
    """jax.jvp / jacfwd / hessian work (the rule is custom_jvp): KL(P||Q) in q has the
    closed-form Hessian -1/S_q**2 + diag(P/q**2), on the fast branch and (nearly identical
    inputs) on the exact one."""
    rng = np.random.default_rng(3)
    p = rng.random(6) + 0.1
    q = p * (1 + 1e-12 * rng.uniform(-1, 1, 6)) if near else rng.random(6) + 0.1
    P = p / p.sum()
    want = -np.ones((6, 6)) / q.sum() ** 2 + np.diag(P / q**2)

    def f(x):
        return kb.kl_divergence(jnp.asarray(p), x)

    np.testing.assert_allclose(jax.hessian(f)(jnp.asarray(q)), want, rtol=1e-9, atol=1e-12)
    slope = 1.0 / q.sum() - P / q  # d KL / d q
    t = rng.standard_normal(6)
    _, tangent = jax.jvp(f, (jnp.asarray(q),), (jnp.asarray(t),))
    assert_close(float(tangent), float(slope @ t), rtol=1e-9, atol=1e-15)


def _chunked_batch():
    """11 rows of 2048 outcomes along axis 0: the exact branch takes chunks of 8 rows (the
    last one filled up). Row 9 is nearly identical to its pair (KL, JS take the exact branch
    in the last chunk), row 3 nearly one-hot (entropy does, in the first), the others
    ordinary."""
    rng = np.random.default_rng(11)
    p = rng.random((11, 2048)) + 0.01
    q = rng.random((11, 2048)) + 0.01
    q[9] = p[9] * (1 + 1e-9 * rng.uniform(-1, 1, 2048))
    p[3] = 1e-17
    p[3, 17] = 1.0
    return jnp.asarray(p.T), jnp.asarray(q.T)


def test_the_exact_branch_redoes_only_the_chunks_that_need_it():
    """Values (entropy, KL, JS) and JS's gradient under ``jit``, along axis 0: the oracle on
    the rows that take the exact branch, the closed form on the others (served fast, in
    their own chunk or in a recomputed one)."""
    from kullback.measures import _fast_jax

    assert _fast_jax._CHUNK // 2048 == 8  # (as the batch above is laid out)
    p, q = _chunked_batch()
    names = {"entropy": [3], "kl_divergence": [9], "js_divergence": [9]}  # the exact rows
    values = jax.jit(lambda a, b: [_call(n, (a,) if n == "entropy" else (a, b), axis=0)
                                   for n in names])(p, q)
    for (name, exact), got in zip(names.items(), values, strict=True):
        args = (p,) if name == "entropy" else (p, q)
        fast = [r for r in range(11) if r not in exact]  # (the closed form is not exact)
        np.testing.assert_allclose(np.asarray(got)[fast], _by_hand(name, args, 0)[0][fast],
                                   rtol=1e-12, err_msg=name)
        for r in exact:
            want = oracle(name, *(np.asarray(a[:, r]) for a in args))
            assert_close(got[r], want, rtol=CONTRACT["float64"])
    grads = jax.jit(lambda a, b: _grads(lambda *x: kb.js_divergence(*x, axis=0), (a, b)))(p, q)
    for got, want in zip(grads, _by_hand("js_divergence", (p, q), 0)[1], strict=True):
        scale = np.abs(want).max()
        np.testing.assert_allclose(np.asarray(got).T, want, rtol=1e-9, atol=1e-12 * scale)


def test_the_exact_branch_reserves_a_bounded_buffer():
    """XLA reserves the buffers of the ``lax.cond`` branch that does not run: the exact branch
    takes chunks of rows, so JS in float64 at 1024 x 1024 reserves less than an operand of
    temporaries (13 before) and its gradient a few (97 before: 25 GB at 1024 x 32000, which
    failed)."""
    p = jnp.full((1024, 1024), 1.0 / 1024)
    grad = jax.grad(lambda a, b: kb.js_divergence(a, b).sum(), argnums=(0, 1))
    for fn, most in [(kb.js_divergence, 1), (grad, 6)]:
        memory = jax.jit(fn).lower(p, p).compile().memory_analysis()
        if memory is None:
            pytest.skip("no memory analysis on this backend")
        assert memory.temp_size_in_bytes <= most * p.nbytes
