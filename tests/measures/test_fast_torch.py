"""The torch fast paths (kullback.measures._fast_torch) against the general path and mpmath.

The general path is reached with ``keepdims=True`` (the front door serves only
``keepdims=False``); the fast path is asserted to serve the common cases, so that a silent
fallback cannot make these tests pass.
"""

from __future__ import annotations

import math

import mpmath
import pytest
from helpers import assert_close, oracle

import kullback as kb
from kullback.measures import _fast_torch
from kullback.measures._table import lookup

torch = pytest.importorskip("torch")

NAMES = ["entropy", "cross_entropy", "kl_divergence", "js_divergence", "js_distance"]
RTOL = {torch.float64: 1e-13, torch.float32: 2e-6}
CONTRACT = {torch.float64: 1e-10, torch.float32: 1e-4}
# (rows, outcomes): NumPy views below 2**14 elements, torch kernels above
SHAPES = [(64, 10), (24, 1000), (7,)]


def _args(name, p, q):
    return (p,) if name == "entropy" else (p, q)


def _general(name, *args, axis=-1):
    return getattr(kb, name)(*args, axis=axis, keepdims=True).squeeze(axis)


def _served(name, p, q, axis=-1):
    entry = lookup("js_divergence" if name == "js_distance" else name)
    return _fast_torch.FAST[entry.name](entry, p, None if name == "entropy" else q, axis)


def _batch(shape, dtype, seed=0, low=1e-3):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=g, dtype=dtype) + low for _ in range(2)]


def _rel(got, want):
    got, want = got.detach(), want.detach()
    return float(((got - want).abs() / want.abs().clamp_min(1e-300)).max())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_values_equal_the_general_path_and_the_fast_path_serves(name, shape, dtype):
    p, q = _batch(shape, dtype)
    assert _served(name, p, q) is not None
    got = getattr(kb, name)(*_args(name, p, q))
    assert got.dtype == dtype and got.shape == shape[:-1]
    assert _rel(got, _general(name, *_args(name, p, q))) < RTOL[dtype]


@pytest.mark.parametrize("name", NAMES)
def test_along_the_first_axis(name):
    p, q = _batch((300, 5), torch.float64)
    assert _served(name, p, q, 0) is not None
    got = getattr(kb, name)(*_args(name, p, q), axis=0)
    assert got.shape == (5,)
    assert _rel(got, _general(name, *_args(name, p, q), axis=0)) < 1e-13


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(64, 10), (24, 1000)])
@pytest.mark.parametrize("name", NAMES)
def test_gradients_equal_the_general_paths(name, shape, dtype):
    p, q = (x.requires_grad_() for x in _batch(shape, dtype, seed=1))
    args = _args(name, p, q)
    w = torch.linspace(0.5, 1.5, shape[0], dtype=dtype)  # distinct weights per row
    mine = torch.autograd.grad((getattr(kb, name)(*args) * w).sum(), args)
    want = torch.autograd.grad((_general(name, *args) * w).sum(), args)
    for a, b in zip(mine, want, strict=True):
        assert float((a - b).abs().max()) <= 10 * RTOL[dtype] * float(b.abs().max())


@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence", "js_distance"])
def test_nearly_identical_rows_take_the_general_path_and_keep_the_contract(name):
    p, q = _batch((6, 50), torch.float64, seed=2)
    q[1] = p[1] * (1 + 1e-9 * torch.linspace(-1, 1, 50, dtype=torch.float64))
    q[4] = p[4] * (1 + 2.0**-40 * torch.linspace(-1, 1, 50, dtype=torch.float64))
    got = getattr(kb, name)(p, q)
    for i in range(6):
        want = oracle(name, p[i].tolist(), q[i].tolist(), digits=120)
        assert abs(float(got[i]) - want) <= 1e-10 * want, (i, float(got[i]), want)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", NAMES)
def test_against_mpmath_within_the_contract(name, dtype):
    p, q = _batch((5, 30), dtype, seed=3, low=0.0)
    p[2, :29] = 1e-30  # one dominant entry: a small entropy beside its bound
    got = getattr(kb, name)(*_args(name, p, q))
    for i in range(5):
        want = oracle(name, p[i].double().tolist(), q[i].double().tolist(), digits=60)
        assert abs(float(got[i]) - want) <= CONTRACT[dtype] * want, (i, float(got[i]), want)


@pytest.mark.parametrize("name", NAMES)
def test_zeros_follow_0_log_0_without_gradients(name):
    p, q = _batch((40, 8), torch.float64, seed=4)
    p[:, :3] = 0.0
    q[:, 5] = 0.0  # where p > 0: infinite KL and cross-entropy, from the general path
    q[:, 0] = 0.0  # where p = 0 as well: 0 log 0/0 = 0
    got = getattr(kb, name)(*_args(name, p, q))
    for i in (0, 17, 39):
        want = oracle(name, p[i].tolist(), q[i].tolist(), digits=60)
        if math.isinf(want):
            assert float(got[i]) == want
        else:
            assert abs(float(got[i]) - want) <= 1e-13 * want
    p2, q2 = _batch((40, 8), torch.float64, seed=5)
    p2[:, :3] = 0.0
    assert _served(name, p2, q2) is not None


@pytest.mark.parametrize("name", NAMES)
def test_zeros_with_gradients_take_the_general_paths_convention(name):
    p, q = _batch((6, 500), torch.float64, seed=6)
    p[2, :10] = 0.0  # one row with zeros: that row alone goes the general way
    p.requires_grad_()
    q.requires_grad_()
    args = _args(name, p, q)
    mine = getattr(kb, name)(*args)
    assert _rel(mine, _general(name, *args)) < 1e-13
    gm = torch.autograd.grad(mine.sum(), args)
    gw = torch.autograd.grad(_general(name, *args).sum(), args)
    for a, b in zip(gm, gw, strict=True):
        assert torch.isfinite(a).all()
        assert float((a - b).abs().max()) <= 1e-12 * float(b.abs().max())


@pytest.mark.parametrize("scale", [1e-300, 1e300, 2.0**-1070])
@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence", "js_divergence"])
def test_extreme_totals(name, scale):
    p, q = _batch((3, 6), torch.float64, seed=7)
    p[1] *= scale
    q[2] *= scale
    got = getattr(kb, name)(*_args(name, p, q))
    for i in range(3):
        want = oracle(name, p[i].tolist(), q[i].tolist())
        assert abs(float(got[i]) - want) <= 1e-10 * want, (i, float(got[i]), want)


def _bad_inputs():
    p, q = _batch((4, 6), torch.float64, seed=8)
    cases = []
    for where, value in [("p", -0.1), ("q", -0.1), ("p", math.nan), ("q", math.inf)]:
        a, b = p.clone(), q.clone()
        (a if where == "p" else b)[2, 3] = value
        cases.append((a, b))
    a, b = p.clone(), q.clone()
    a[1, 4] = b[1, 4] = -0.2  # negative in both: a positive ratio
    cases.append((a, b))
    a, b = p.clone(), q.clone()
    a[1, 4], b[1, 4] = 0.0, -0.2  # negative q where p = 0: x log y of 0 is 0
    cases.append((a, b))
    a = p.clone()
    a[3] = 0.0  # an all-zero row
    cases.append((a, q.clone()))
    return cases


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("name", NAMES)
def test_invalid_input_raises_the_general_paths_error(name, case, grad):
    p, q = _bad_inputs()[case]
    if grad:
        p.requires_grad_()
    args = _args(name, p, q)
    try:
        _general(name, *args)
    except ValueError as exc:
        with pytest.raises(ValueError) as got:
            getattr(kb, name)(*args)
        assert str(got.value) == str(exc)
    else:  # the entropy of p where only q is bad
        assert _rel(getattr(kb, name)(*args), _general(name, *args)) < 1e-13


def test_other_inputs_are_left_to_the_general_path():
    p, q = _batch((3, 4), torch.float64)
    entry = lookup("kl_divergence")
    assert _fast_torch.FAST["kl_divergence"](entry, p, q.float(), -1) is None
    assert _fast_torch.FAST["kl_divergence"](entry, p, q[0], -1) is None
    assert _fast_torch.FAST["kl_divergence"](entry, p.half(), q.half(), -1) is None
    assert _fast_torch.FAST["kl_divergence"](entry, p[0, 0], q[0, 0], 0) is None


def test_parameters_and_non_contiguous_views_are_served():
    p, q = _batch((50, 400), torch.float64, seed=9)
    pt, qt = p.t(), q.t()
    assert _served("kl_divergence", pt, qt, 0) is not None
    param = torch.nn.Parameter(p.clone())
    got = kb.kl_divergence(param, q)
    (g,) = torch.autograd.grad(got.sum(), (param,))
    (want,) = torch.autograd.grad(_general("kl_divergence", param, q).sum(), (param,))
    assert float((g - want).abs().max()) <= 1e-12 * float(want.abs().max())


def test_a_row_of_identical_inputs_beside_others_keeps_finite_gradients():
    p, q = _batch((3, 5), torch.float64, seed=10)
    q[1] = p[1]  # JS = 0: rejected here, computed by the general path
    p.requires_grad_()
    for name in ("js_distance", "kl_divergence"):
        got = getattr(kb, name)(p, q)
        assert float(got[1].detach()) == 0.0
        (g,) = torch.autograd.grad(got.sum(), (p,))
        (want,) = torch.autograd.grad(_general(name, p, q).sum(), (p,))
        assert torch.isfinite(g).all()
        assert float((g - want).abs().max()) <= 1e-12 * float(want.abs().max())


@pytest.mark.parametrize("n", [5, 300])
def test_second_derivatives_through_the_fast_path(n):
    """create_graph=True (Hessians, Fisher information): the gradient itself differentiable.
    KL(P||Q) in q has the closed-form Hessian -1/S_q**2 + diag(P/q**2)."""
    gen = torch.Generator().manual_seed(n)
    p = torch.rand(n, dtype=torch.float64, generator=gen) + 0.1
    q = torch.rand(n, dtype=torch.float64, generator=gen) + 0.1
    hess = torch.autograd.functional.hessian(lambda x: kb.kl_divergence(p, x), q)
    P = p / p.sum()
    want = -torch.ones(n, n, dtype=torch.float64) / q.sum() ** 2 + torch.diag(P / q**2)
    torch.testing.assert_close(hess, want, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ the lean path (short rows)


def _lean(name, p, q, axis=-1):
    """The lean path's value (None where it does not serve)."""
    lean = _fast_torch._LEANS["js_divergence" if name == "js_distance" else name]
    return _fast_torch._lean(lean, p, None if name == "entropy" else q, axis)


def _strided(x):
    """``x`` as a view with stride 2 along its last axis."""
    wide = torch.zeros(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
    wide[..., ::2] = x
    return wide[..., ::2]


def _closed_form_gradients(name, p, q):
    """d measure / d p and d q of one row, from the closed forms in mpmath (30 digits):
    with P = p/S_p, Q = q/S_q, M = (P + Q)/2, the gradient of a normalised measure is
    (G_j - sum_k P_k G_k)/S_p, G its partial derivative in P; in q, KL and cross-entropy have
    (1 - P_j/Q_j)/S_q, JS (log(Q_j/M_j) - KL(Q||M))/(2 S_q)."""
    mp = mpmath.mp
    with mpmath.workdps(30):
        p = [mp.mpf(float(x)) for x in p]
        q = [mp.mpf(float(x)) for x in q]
        sp, sq = mp.fsum(p), mp.fsum(q)
        P, Q = [x / sp for x in p], [x / sq for x in q]
        M = [(a + b) / 2 for a, b in zip(P, Q, strict=True)]
        lp = {"entropy": [-mp.log(a) for a in P],
              "cross_entropy": [-mp.log(b) for b in Q],
              "kl_divergence": [mp.log(a / b) for a, b in zip(P, Q, strict=True)],
              "js_divergence": [mp.log(a / m) / 2 for a, m in zip(P, M, strict=True)]}[name]
        mean = mp.fsum(a * g for a, g in zip(P, lp, strict=True))
        gp = [(g - mean) / sp for g in lp]
        if name == "js_divergence":
            lq = [mp.log(b / m) / 2 for b, m in zip(Q, M, strict=True)]
            mean_q = mp.fsum(b * g for b, g in zip(Q, lq, strict=True))
            gq = [(g - mean_q) / sq for g in lq]
        else:
            gq = [(1 - a / b) / sq for a, b in zip(P, Q, strict=True)]
        return [float(x) for x in gp], [float(x) for x in gq]


LEAN_NAMES = ["entropy", "cross_entropy", "kl_divergence", "js_divergence"]
LEAN_RTOL = {torch.float64: 1e-13, torch.float32: 2.0**-23}  # float32: its rounding alone


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", NAMES)
def test_lean_values_against_mpmath(name, dtype):
    """64 x 10, the call-overhead shape: every row against mpmath, in the input's dtype."""
    p, q = _batch((64, 10), dtype, seed=11)
    p[5] *= 1e3  # counts beside probabilities: the totals need not be 1, nor equal
    q[9] *= 1e-4
    assert _lean(name, p, q) is not None
    got = getattr(kb, name)(*_args(name, p, q))
    assert got.dtype == dtype and got.shape == (64,)
    for i in range(64):
        want = oracle(name, p[i].double().tolist(), q[i].double().tolist(), digits=40)
        assert abs(float(got[i]) - want) <= LEAN_RTOL[dtype] * want, (i, float(got[i]), want)


@pytest.mark.parametrize("shape", [(10,), (3, 4, 7), (1, 256)])
@pytest.mark.parametrize("name", NAMES)
def test_lean_shapes_and_strides(name, shape):
    """A vector (0-d result), a 3-d batch, the longest row, and transposed (strided) views."""
    p, q = _batch(shape, torch.float64, seed=12)
    for a, b in ((p, q), (_strided(p), _strided(q))):
        assert _lean(name, a, b) is not None
        got = getattr(kb, name)(*_args(name, a, b))
        assert got.shape == shape[:-1]
        flat_p, flat_q = a.reshape(-1, shape[-1]), b.reshape(-1, shape[-1])
        for i, v in enumerate(got.reshape(-1).tolist()):
            want = oracle(name, flat_p[i].tolist(), flat_q[i].tolist(), digits=40)
            assert abs(v - want) <= 1e-13 * want


@pytest.mark.parametrize("wrt", ["p", "q", "pq"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", LEAN_NAMES)
def test_lean_gradients_against_closed_forms(name, dtype, wrt):
    if name == "entropy" and wrt != "p":
        pytest.skip("one operand")
    p, q = _batch((64, 10), dtype, seed=13)
    p[3, 2] = 0.0 if name == "cross_entropy" else p[3, 2]  # (-log Q_j - H(P, Q))/S_p there
    p[7] *= 50.0
    args = _args(name, p, q)
    wanted = [x for x, s in zip(args, "pq", strict=False) if s in wrt]
    for x in wanted:
        x.requires_grad_()
    w = torch.linspace(0.5, 1.5, 64, dtype=dtype)  # distinct weights per row
    value = getattr(kb, name)(*args)
    assert type(value.grad_fn).__name__ == "LeanBackward"  # the lean path served
    grads = torch.autograd.grad((value * w).sum(), wanted)
    assert all(g.dtype == dtype for g in grads)
    for i in (0, 3, 7, 63):
        gp, gq = _closed_form_gradients(name, p[i].tolist(), q[i].tolist())
        want = [g for g, s in zip((gp, gq), "pq", strict=True) if s in wrt]
        for g, exact in zip(grads, want, strict=True):
            exact = torch.tensor(exact, dtype=torch.float64) * float(w[i])
            err = float((g[i].double() - exact).abs().max() / exact.abs().max())
            assert err <= 1e3 * LEAN_RTOL[dtype], (i, err)


def test_lean_backward_twice_and_after_an_in_place_change():
    """retain_graph: the second backward equals the first (the backward changes nothing it
    saved); an operand changed in place after the forward does not change the gradient of
    the value that was computed."""
    p, q = _batch((64, 10), torch.float64, seed=14)
    p.requires_grad_()
    value = kb.kl_divergence(p, q).sum()
    (first,) = torch.autograd.grad(value, (p,), retain_graph=True)
    with torch.no_grad():
        q.mul_(2.0).add_(0.1)
    (second,) = torch.autograd.grad(value, (p,))
    assert torch.equal(first, second)
    gp, _ = _closed_form_gradients("kl_divergence", p[0].tolist(),
                                   _batch((64, 10), torch.float64, seed=14)[1][0].tolist())
    torch.testing.assert_close(first[0], torch.tensor(gp, dtype=torch.float64), rtol=1e-12,
                               atol=0.0)


@pytest.mark.parametrize("shape", [(64, 10), (24, 1000)])
@pytest.mark.parametrize("name", NAMES)
def test_lean_rejects_what_no_log_reveals(name, shape):
    """Rows negative throughout (every ratio positive), a negative entry in both operands,
    and ratios that overflow: never a value from the lean path (nor from the runner's bodies,
    on longer rows); the general path's error or value instead."""
    p, q = _batch(shape, torch.float64, seed=15)
    cases = []
    for which in (0, 1):
        a, b = p.clone(), q.clone()
        (a, b)[which][4] *= -1.0
        cases.append((a, b))
    a, b = p.clone(), q.clone()
    a[2, 1], b[2, 1] = -0.3, -0.2
    cases.append((a, b))
    for a, b in cases:
        if name != "entropy" or bool((a < 0).any()):
            assert _lean(name, a, b) is None
        try:
            want = _general(name, *_args(name, a, b))
        except ValueError as exc:
            with pytest.raises(ValueError, match=None) as got:
                getattr(kb, name)(*_args(name, a, b))
            assert str(got.value) == str(exc)
        else:
            assert _rel(getattr(kb, name)(*_args(name, a, b)), want) < 1e-13
    a, b = p.clone(), q.clone()
    b[6, 0] = 1e-320  # p/q overflows: the row goes the general way (finite KL, CE, JS)
    a[6, 0] = 1e-320 if name == "entropy" else a[6, 0]
    got = getattr(kb, name)(*_args(name, a, b))
    want = oracle(name, a[6].tolist(), b[6].tolist())
    assert abs(float(got[6]) - want) <= 1e-10 * want


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.func's own torch.jit use
@pytest.mark.parametrize("name", LEAN_NAMES)
def test_forward_mode_and_torch_func_transforms_carry_derivatives(name):
    """Forward-mode AD (dual tensors) and torch.func's grad / jacfwd go the general way (a
    NumPy view would drop the tangent); the derivatives equal the closed forms."""
    import torch.autograd.forward_ad as fwad

    p, q = _batch((8, 10), torch.float64, seed=16)
    tangent = torch.linspace(-1.0, 1.0, 80, dtype=torch.float64).reshape(8, 10)
    exact = [_closed_form_gradients(name, p[i].tolist(), q[i].tolist())[0] for i in range(8)]
    exact = torch.tensor(exact, dtype=torch.float64)
    measure = getattr(kb, name)

    def f(x):
        return measure(*_args(name, x, q))

    with fwad.dual_level():
        out = f(fwad.make_dual(p, tangent))
        directional = fwad.unpack_dual(out).tangent
    assert directional is not None
    torch.testing.assert_close(directional, (exact * tangent).sum(-1), rtol=1e-12, atol=0.0)
    torch.testing.assert_close(torch.func.grad(lambda x: f(x).sum())(p), exact, rtol=1e-12,
                               atol=1e-15)
    jac = torch.func.jacfwd(f)(p)  # (8, 8, 10): row i depends on p[i] only
    torch.testing.assert_close(jac[range(8), range(8)], exact, rtol=1e-12, atol=1e-15)


def test_lean_second_derivative_sees_an_operand_changed_in_place():
    """create_graph differentiates the general path at the operands' values: one changed in
    place after the forward is refused (as torch refuses a modified saved tensor)."""
    p, q = _batch((64, 10), torch.float64, seed=17)
    q.requires_grad_()
    value = kb.kl_divergence(p, q)
    assert type(value.grad_fn).__name__ == "LeanBackward"
    with torch.no_grad():
        p.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        torch.autograd.grad(value.sum(), q, create_graph=True)


# --------------------------------------------------- cross-entropy by blocks of rows (torch)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 64 KiB with one torch thread (more threads take whole tensors): 70 rows of
    1000 outcomes make several, the last one partial, in float32 and float64."""
    monkeypatch.setattr(_fast_torch, "_BLOCK", 1 << 16)
    monkeypatch.setattr(_fast_torch, "_GRAD_BLOCK", 1 << 16)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    assert _fast_torch._block(torch.ones(70, 1000), 1 << 16)[0] == 16  # 5 blocks, one partial
    yield
    torch.set_num_threads(threads)


def test_cross_entropy_takes_whole_tensors_with_more_threads(monkeypatch):
    """Each pass over a block is a parallel region, which waits for a busy core: with more
    than one torch thread the rows go in one block."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert _fast_torch._block(torch.ones(70, 1000), 1 << 16)[0] == 70
    finally:
        torch.set_num_threads(threads)


def _blocked(layout, dtype, seed):
    """(p, q, axis): 70 rows of 1000 outcomes (several blocks of rows, the last one partial),
    laid out as ``layout``: rows, a transposed view (along axis 0), a 3-d batch along its
    middle axis, or leading axes that no view flattens (copied into rows)."""
    p, q = _batch((70, 1000), dtype, seed=seed)
    p[1] *= 1e3  # counts beside probabilities: the totals need not be 1, nor equal
    q[2] *= 1e-4
    p[3, :5] = 0.0  # zeros of p: zero terms
    p[4, 7] = q[4, 7] = 0.0  # 0 log 0 = 0 (the general path's row)
    q[5, 9] = 0.0  # where p > 0: infinite (the general path's row)
    if layout == "rows":
        return p, q, -1
    if layout == "transposed":
        return p.t(), q.t(), 0
    if layout == "middle":
        return (p.reshape(7, 10, 1000).transpose(1, 2), q.reshape(7, 10, 1000).transpose(1, 2),
                1)
    return (p.reshape(10, 7, 1000).transpose(0, 1), q.reshape(10, 7, 1000).transpose(0, 1),
            -1)


def _rows_of(x, axis):
    return x.movedim(axis, -1).reshape(-1, 1000)


@pytest.mark.parametrize("layout", ["rows", "transposed", "middle", "unflattenable"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cross_entropy_by_blocks_against_mpmath(dtype, layout, small_blocks):
    p, q, axis = _blocked(layout, dtype, seed=20)
    assert _served("cross_entropy", p, q, axis) is not None
    got = kb.cross_entropy(p, q, axis=axis)
    assert got.dtype == dtype and got.shape == p.sum(axis).shape
    flat, fp, fq = got.reshape(-1), _rows_of(p, axis), _rows_of(q, axis)
    for i in (0, 1, 2, 3, 4, 5, 33, 69):
        want = oracle("cross_entropy", fp[i].double().tolist(), fq[i].double().tolist(),
                      digits=40)
        assert_close(float(flat[i]), want, rtol=RTOL[dtype])


@pytest.mark.parametrize("wrt", ["p", "q", "pq"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cross_entropy_by_blocks_gradients_against_closed_forms(dtype, wrt, small_blocks):
    """``(-log Q_j - H(P, Q))/S_p`` in ``p`` (also where ``p_j = 0``), ``(1 - P_j/Q_j)/S_q``
    in ``q``, through a transposed view; a second backward (retain_graph) gives the same."""
    p, q = _batch((70, 1000), dtype, seed=21)
    p[3, :5] = 0.0
    p[7] *= 50.0
    wanted = [x.requires_grad_() for x, s in zip((p, q), "pq", strict=True) if s in wrt]
    assert _served("cross_entropy", p.t(), q.t(), 0) is not None
    w = torch.linspace(0.5, 1.5, 70, dtype=dtype)  # distinct weights per row
    total = (kb.cross_entropy(p.t(), q.t(), axis=0) * w).sum()
    grads = torch.autograd.grad(total, wanted, retain_graph=True)
    again = torch.autograd.grad(total, wanted)
    for g, h in zip(grads, again, strict=True):
        assert g.dtype == dtype and g.shape == (70, 1000) and torch.equal(g, h)
    for i in (0, 3, 7, 69):
        gp, gq = _closed_form_gradients("cross_entropy", p[i].tolist(), q[i].tolist())
        want = [g for g, s in zip((gp, gq), "pq", strict=True) if s in wrt]
        for g, exact in zip(grads, want, strict=True):
            exact = torch.tensor(exact, dtype=torch.float64) * float(w[i])
            err = float((g[i].double() - exact).abs().max() / exact.abs().max())
            assert err <= 1e3 * LEAN_RTOL[dtype], (i, err)


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize(("where", "value"), [("p", -0.1), ("p", math.nan), ("q", -0.1),
                                              ("q", math.nan), ("q", math.inf)])
def test_cross_entropy_by_blocks_rejects_invalid_input(where, value, grad, small_blocks):
    """An invalid entry in the last (partial) block: the general path's error."""
    p, q = _batch((70, 1000), torch.float64, seed=22)
    (p if where == "p" else q)[68, 500] = value
    p.requires_grad_(grad)
    with pytest.raises(ValueError) as want:
        _general("cross_entropy", p, q)
    with pytest.raises(ValueError) as got:
        kb.cross_entropy(p, q)
    assert str(got.value) == str(want.value) and str(got.value).startswith(f"{where} ")


@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence"])
def test_lean_decisions_are_kept_per_shape_dtype_and_axis(name):
    """The lean path's per-signature decisions (cached) serve exactly the short rows along
    the last axis, whatever was called before: the same shape in the other dtype, along the
    first axis, too many elements, too many outcomes; each value equals the general path's."""
    cases = [((64, 10), torch.float64, -1, True), ((64, 10), torch.float32, -1, True),
             ((64, 10), torch.float64, 0, False), ((64, 10), torch.float64, 1, True),
             ((2000, 10), torch.float64, -1, False), ((8, 300), torch.float64, -1, False)]
    for _ in range(2):  # the second time from the cache
        for shape, dtype, axis, lean in cases:
            p, q = _batch(shape, dtype, seed=17)
            served = _lean(name, p, q, axis)
            assert (served is not None) == lean, (shape, dtype, axis)
            got = getattr(kb, name)(*_args(name, p, q), axis=axis)
            assert _rel(got, _general(name, *_args(name, p, q), axis=axis)) < RTOL[dtype]
