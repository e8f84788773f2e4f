"""kullback.losses against torch.nn.functional, the trusted reference, on every array library.

One battery per loss: the full grid of options (shapes incl. unbatched and K-dim, class
weights, ignore_index, label smoothing, probability targets, every reduction) is evaluated on
each backend and compared with torch.nn.functional in float64 to 1e-10; gradients are compared
through torch autograd and jax.grad, and jax.jit is exercised. Where kullback deliberately
differs from torch (0 log 0, masked logits) the expected value is derived independently.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from kullback import losses

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = ATOL = 1e-10
REDUCTIONS = ("none", "mean", "sum")
IGNORE = -100


def _t(a, requires_grad=False):
    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_() if requires_grad else t


def _close(got, want, msg, rtol=RTOL, atol=ATOL):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{msg}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=msg)


def _cotangent(shape, seed=7):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------------------------
# case grids (NumPy data + the keyword arguments shared by kullback and torch)
# ---------------------------------------------------------------------------------------------

SHAPES = {"unbatched": (5,), "batch": (6, 5), "k1": (3, 5, 4), "k2": (2, 5, 3, 2)}


def _class_shape(shape):
    return () if len(shape) == 1 else (shape[0], *shape[2:])


def ce_cases():
    """(name, x, target, kwargs) over the whole cross_entropy option grid."""
    rng = np.random.default_rng(0)
    out = []
    for (sname, shape), kind, weighted, eps, red in itertools.product(
        SHAPES.items(), ("index", "ignore", "ignore_class1", "probs"), (False, True),
        (0.0, 0.3), REDUCTIONS,
    ):
        C = shape[0] if len(shape) == 1 else shape[1]
        x = 2.0 * rng.standard_normal(shape)
        kw = {"reduction": red, "label_smoothing": eps}
        if weighted:
            kw["weight"] = rng.uniform(0.2, 2.0, C)
        if kind == "probs":
            axis = 0 if len(shape) == 1 else 1
            logits = rng.standard_normal(shape)
            y = np.exp(logits) / np.exp(logits).sum(axis=axis, keepdims=True)
        else:
            y = rng.integers(0, C, _class_shape(shape))
            if kind == "ignore" and y.ndim:
                y.flat[::3] = IGNORE
            if kind == "ignore_class1":
                kw["ignore_index"] = 1
        out.append((f"{sname}-{kind}-w{int(weighted)}-eps{eps}-{red}", x, y, kw))
    return out


CE_CASES = ce_cases()


def nll_cases():
    rng = np.random.default_rng(1)
    out = []
    for (sname, shape), ignore, weighted, red in itertools.product(
        SHAPES.items(), (False, True), (False, True), REDUCTIONS
    ):
        C = shape[0] if len(shape) == 1 else shape[1]
        axis = 0 if len(shape) == 1 else 1
        z = rng.standard_normal(shape)
        logp = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        y = rng.integers(0, C, _class_shape(shape))
        if ignore and y.ndim:
            y.flat[1::2] = IGNORE
        kw = {"reduction": red}
        if weighted:
            kw["weight"] = rng.uniform(0.2, 2.0, C)
        out.append((f"{sname}-ign{int(ignore)}-w{int(weighted)}-{red}", logp, y, kw))
    return out


NLL_CASES = nll_cases()

BCE_SHAPES = {"vec": (7,), "mat": (4, 3), "cube": (2, 3, 4)}


def bce_cases(logits: bool):
    rng = np.random.default_rng(2 + logits)
    out = []
    for (sname, shape), wkind, pw, red in itertools.product(
        BCE_SHAPES.items(), ("none", "last", "full"), (False, True) if logits else (False,),
        REDUCTIONS,
    ):
        if logits:
            x = 3.0 * rng.standard_normal(shape)
            x.flat[0] = 40.0
            x.flat[-1] = -750.0  # far beyond exp's range: softplus must not overflow
        else:
            x = rng.uniform(0.01, 0.99, shape)
        y = rng.uniform(0.0, 1.0, shape)
        y.flat[::4] = np.round(y.flat[::4])  # exact 0/1 labels
        kw = {"reduction": red}
        if wkind == "last":
            kw["weight"] = rng.uniform(0.5, 2.0, shape[-1])
        elif wkind == "full":
            kw["weight"] = rng.uniform(0.5, 2.0, shape)
        if pw:
            kw["pos_weight"] = rng.uniform(0.5, 3.0, shape[-1])
        out.append((f"{sname}-w{wkind}-pw{int(pw)}-{red}", x, y, kw))
    return out


BCE_CASES = bce_cases(False)
BCEL_CASES = bce_cases(True)


def kl_cases():
    rng = np.random.default_rng(4)
    out = []
    for (sname, shape), log_target, red in itertools.product(
        {"vec": (5,), "mat": (4, 5), "k": (2, 5, 3)}.items(), (False, True),
        ("none", "mean", "batchmean", "sum"),
    ):
        axis = 0 if len(shape) == 1 else 1
        z = rng.standard_normal(shape)
        logq = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        p = rng.dirichlet(np.ones(shape[axis]), size=int(np.prod(shape)) // shape[axis])
        p = np.moveaxis(p.reshape(*[s for i, s in enumerate(shape) if i != axis], shape[axis]),
                        -1, axis)
        target = np.log(p) if log_target else p
        out.append((f"{sname}-log{int(log_target)}-{red}", logq, target,
                    {"reduction": red, "log_target": log_target}))
    return out


KL_CASES = kl_cases()

# (loss name, torch function, cases, names of differentiable NumPy arguments)
BATTERY = {
    "cross_entropy": (F.cross_entropy, CE_CASES),
    "nll_loss": (F.nll_loss, NLL_CASES),
    "binary_cross_entropy": (F.binary_cross_entropy, BCE_CASES),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, BCEL_CASES),
    "kl_div": (F.kl_div, KL_CASES),
}


def _torch_ref(tfn, x, y, kw, grad=False):
    """torch's value (and gradients w.r.t. input and float target) for one case."""
    tkw = {k: (_t(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    xt = _t(x, grad)
    yt = _t(y, grad and y.dtype.kind == "f")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about reduction="mean" in kl_div
        out = tfn(xt, yt, **tkw)
    if not grad:
        return out.detach().numpy(), None
    cot = _t(_cotangent(out.shape))
    wrt = [xt] + ([yt] if yt.requires_grad else [])
    grads = torch.autograd.grad((out * cot).sum(), wrt)
    return out.detach().numpy(), [g.numpy() for g in grads]


def _spread(cases, n):
    """About ``n`` cases at a stride prime to 2 and 3, so that every value of every option
    (grid dimensions of sizes 2, 3 and 4) recurs in the sample."""
    stride = max(1, len(cases) // n)
    while math.gcd(stride, 12) != 1:
        stride += 1
    return cases[::stride]


def _kb_args(backend, x, y, kw):
    target_dtype = "int64" if y.dtype.kind == "i" else "float64"
    bkw = {k: (backend.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    return backend.asarray(x), backend.asarray(y, target_dtype), bkw


# ---------------------------------------------------------------------------------------------
# values on every backend
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", list(BATTERY))
def test_values_match_torch_on_every_backend(backend, loss):
    tfn, cases = BATTERY[loss]
    fn = getattr(losses, loss)
    if backend.name in ("dask", "jax"):  # slow per call (graph build / compiles): a spread;
        cases = _spread(cases, 12)  # the whole grid runs on numpy, array_api_strict and torch
    for name, x, y, kw in cases:
        want, _ = _torch_ref(tfn, x, y, kw)
        xb, yb, bkw = _kb_args(backend, x, y, kw)
        got = fn(xb, yb, **bkw)
        _close(backend.to_numpy(got), want, f"{loss}[{name}] on {backend}")


# ---------------------------------------------------------------------------------------------
# gradients: torch autograd and jax.grad, against torch's own backward
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", list(BATTERY))
def test_torch_autograd_matches_torch(loss):
    tfn, cases = BATTERY[loss]
    fn = getattr(losses, loss)
    for name, x, y, kw in cases:
        want, want_grads = _torch_ref(tfn, x, y, kw, grad=True)
        xt = _t(x, True)
        yt = _t(y, y.dtype.kind == "f")
        tkw = {k: (_t(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        out = fn(xt, yt, **tkw)
        _close(out.detach().numpy(), want, f"{loss}[{name}] value")
        wrt = [xt] + ([yt] if yt.requires_grad else [])
        grads = torch.autograd.grad((out * _t(_cotangent(out.shape))).sum(), wrt)
        for i, (g, w) in enumerate(zip(grads, want_grads, strict=True)):
            _close(g.numpy(), w, f"{loss}[{name}] grad {('input', 'target')[i]}")


@pytest.mark.parametrize("loss", list(BATTERY))
def test_jax_grad_and_jit_match_torch(loss):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    tfn, cases = BATTERY[loss]
    fn = getattr(losses, loss)
    # a spread of the grid (every value of every option) keeps the compile count modest
    for name, x, y, kw in _spread(cases, 6):
        want, want_grads = _torch_ref(tfn, x, y, kw, grad=True)
        jkw = {k: (jnp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        cot = _cotangent(want.shape)
        jcot = jnp.asarray(cot)
        argnums = (0, 1) if y.dtype.kind == "f" else (0,)

        def scalar(xx, yy, jkw=jkw, jcot=jcot):
            return jnp.sum(fn(xx, yy, **jkw) * jcot)

        value, grads = jax.jit(jax.value_and_grad(scalar, argnums=argnums))(
            jnp.asarray(x), jnp.asarray(y)
        )
        _close(np.asarray(value), (want * cot).sum(), f"{loss}[{name}] jit value")
        for i, (g, w) in enumerate(zip(grads, want_grads, strict=True)):
            _close(np.asarray(g), w, f"{loss}[{name}] jax grad {('input', 'target')[i]}")


# ---------------------------------------------------------------------------------------------
# semantics spelled out (independent of the grids above)
# ---------------------------------------------------------------------------------------------


def test_mean_divides_by_weights_of_non_ignored_targets():
    x = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [0.2, 0.3, 0.5]]))
    w = np.array([1.0, 2.0, 4.0])
    y = np.array([0, 2, IGNORE])
    want = (1.0 * -np.log(0.5) + 4.0 * -np.log(0.8)) / (1.0 + 4.0)
    _close(losses.nll_loss(x, y, weight=w), want, "nll mean")
    _close(losses.cross_entropy(x, y, weight=w), want, "ce mean (x already normalised)")


def test_label_smoothing_rule_with_weight_and_ignore():
    # torch's rule: (1-eps) * weighted NLL + eps/C * sum_c w_c (-log p_c), both over sum w_y
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [1.0, 1.0, 1.0]])
    w = np.array([0.5, 1.0, 2.0])
    y = np.array([1, 2, IGNORE])
    eps = 0.2
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    nll = -(w[1] * logp[0, 1] + w[2] * logp[1, 2])
    smooth = -(logp[:2] * w).sum()
    want = ((1 - eps) * nll + eps / 3 * smooth) / (w[1] + w[2])
    _close(losses.cross_entropy(x, y, weight=w, label_smoothing=eps), want, "smoothing")


def test_all_ignored_mean_is_nan_and_sum_is_zero(backend):
    x = backend.asarray(np.zeros((3, 4)))
    y = backend.asarray([IGNORE] * 3, "int64")
    for fn in (losses.cross_entropy, losses.nll_loss):
        assert math.isnan(float(backend.to_numpy(fn(x, y))))
        assert float(backend.to_numpy(fn(x, y, reduction="sum"))) == 0.0
    assert math.isnan(float(backend.to_numpy(losses.cross_entropy(x, y, label_smoothing=0.1))))


def test_legacy_size_average_and_reduce():
    x, y = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0, 1])
    with pytest.warns(DeprecationWarning):
        none = losses.cross_entropy(x, y, reduce=False)
    _close(none, F.cross_entropy(_t(x), _t(y), reduction="none").numpy(), "reduce=False")
    with pytest.warns(DeprecationWarning):
        s = losses.nll_loss(x, y, size_average=False)
    _close(s, -(x[0, 0] + x[1, 1]), "size_average=False")


# ---------------------------------------------------------------------------------------------
# numerics where torch is sloppy
# ---------------------------------------------------------------------------------------------


def test_kl_div_zero_target_contributes_zero(backend):
    q = np.array([[0.5, 0.3, 0.2], [0.25, 0.75, 0.0]])
    p = np.array([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    with np.errstate(divide="ignore"):
        logq, logp = np.log(q), np.log(p)
    # independent: sum over the support of p only
    want = np.array([0.5 * np.log(0.5 / 0.3) + 0.5 * np.log(0.5 / 0.2),
                     0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)])
    for log_target, target in ((True, logp), (False, p)):
        got = losses.kl_div(backend.asarray(logq), backend.asarray(target), reduction="none",
                            log_target=log_target)
        _close(backend.to_numpy(got).sum(1), want, f"log_target={log_target}")
    # positive target against -inf input: +inf, not NaN
    got = losses.kl_div(backend.asarray([-np.inf]), backend.asarray([0.5]), reduction="sum")
    assert float(backend.to_numpy(got)) == math.inf


def test_kl_div_gradients_finite_at_zero_target():
    logq = _t(np.log([0.5, 0.5]), True)
    logp = _t(np.array([0.0, -np.inf]), True)
    out = losses.kl_div(logq, logp, reduction="sum", log_target=True)
    gq, gp = torch.autograd.grad(out, [logq, logp])
    _close(out.detach(), -np.log(0.5), "value")
    _close(gq.numpy(), [-1.0, 0.0], "d/dinput = -p")
    assert np.isfinite(gp.numpy()).all()


MASKED = np.array([[1.0, -np.inf, 0.5, 2.0], [-np.inf, 0.3, -np.inf, 1.0]])


def test_masked_logits_probability_targets(backend):
    # zero target mass on the masked classes -> finite; oracle: -inf replaced by -1e300,
    # whose exp is exactly 0, so torch computes the same sums without meeting 0 * -inf
    t = np.array([[0.2, 0.0, 0.3, 0.5], [0.0, 0.6, 0.0, 0.4]])
    finite = np.where(np.isinf(MASKED), -1e300, MASKED)
    for red in REDUCTIONS:
        want = F.cross_entropy(_t(finite), _t(t), reduction=red).numpy()
        got = losses.cross_entropy(backend.asarray(MASKED), backend.asarray(t), reduction=red)
        _close(backend.to_numpy(got), want, f"masked probs {red}")


def test_masked_logits_class_targets_and_gradients():
    x = _t(MASKED, True)
    y = _t(np.array([3, 1]))
    out = losses.cross_entropy(x, y, reduction="none")
    finite = _t(np.where(np.isinf(MASKED), -1e300, MASKED), True)
    ref = F.cross_entropy(finite, y, reduction="none")
    _close(out.detach(), ref.detach(), "value")
    g, = torch.autograd.grad(out.sum(), x)
    gr, = torch.autograd.grad(ref.sum(), finite)
    _close(g.numpy(), gr.numpy(), "grad")
    # the target class itself masked: +inf
    out = losses.cross_entropy(_t(MASKED), _t(np.array([1, 0])), reduction="none")
    assert np.isinf(out.numpy()).all() and (out.numpy() > 0).all()


def test_fully_masked_row_gives_inf_not_nan(backend):
    x = np.array([[1.0, 2.0, 0.0], [-np.inf, -np.inf, -np.inf]])
    y = np.array([0, 1])
    got = backend.to_numpy(losses.cross_entropy(backend.asarray(x), backend.asarray(y, "int64"),
                                                reduction="none"))
    assert got[1] == math.inf
    _close(got[0], F.cross_entropy(_t(x[:1]), _t(y[:1])).numpy(), "live row")
    # gradients stay finite (a zero cotangent on the dead row)
    xt = _t(x, True)
    out = losses.cross_entropy(xt, _t(y), reduction="none")
    g, = torch.autograd.grad((out * _t(np.array([1.0, 0.0]))).sum(), xt)
    assert np.isfinite(g.numpy()).all()
    # an ignored fully masked row (padding): value 0 and finite gradients, smoothed or not
    for eps in (0.0, 0.2):
        xt = _t(x, True)
        y_ign = _t(np.array([0, IGNORE]))
        out = losses.cross_entropy(xt, y_ign, label_smoothing=eps)
        _close(out.detach(), F.cross_entropy(_t(x[:1]), y_ign[:1], label_smoothing=eps), "ign")
        g, = torch.autograd.grad(out, xt)
        assert np.isfinite(g.numpy()).all() and (g[1] == 0).all()


def test_bce_with_logits_infinite_logits():
    x = np.array([np.inf, -np.inf, np.inf, -np.inf])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    got = losses.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(got, [0.0, 0.0, np.inf, np.inf])


def test_bce_clamps_log_at_minus_100():
    got = losses.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]),
                                      reduction="none")
    np.testing.assert_array_equal(got, [100.0, 100.0])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_is_accumulated_in_float32(dtype):
    rng = np.random.default_rng(5)
    x = torch.from_numpy(4.0 * rng.standard_normal((64, 50)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 50, 64))
    xh = x.to(getattr(torch, dtype))
    got = losses.cross_entropy(xh, y, label_smoothing=0.1)
    assert got.dtype == xh.dtype
    want = F.cross_entropy(xh.float(), y, label_smoothing=0.1).to(xh.dtype)
    assert float(got) == float(want)  # float32 math, then one rounding
    got = losses.kl_div(torch.log_softmax(xh.float(), 1).to(xh.dtype),
                        torch.softmax(x, 1).to(xh.dtype), reduction="batchmean")
    assert got.dtype == xh.dtype


def test_float16_numpy_and_jax():
    jnp = pytest.importorskip("jax.numpy")
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    y = np.array([2, 0])
    want = F.cross_entropy(_t(x.astype(np.float16).astype(np.float32)), _t(y)).numpy()
    got = losses.cross_entropy(x.astype(np.float16), y)
    assert got.dtype == np.float16 and got == want.astype(np.float16)
    got = losses.cross_entropy(jnp.asarray(x, dtype=jnp.bfloat16), jnp.asarray(y))
    assert got.dtype == jnp.bfloat16


# ---------------------------------------------------------------------------------------------
# distillation
# ---------------------------------------------------------------------------------------------


def _distill_ref(s, t, T, direction):
    """Per-position divergence from torch's kl_div on log-softmax outputs (and SciPy for JS)."""
    ls, lt = F.log_softmax(s / T, 1), F.log_softmax(t / T, 1)
    if direction == "forward":
        return F.kl_div(ls, lt, reduction="none", log_target=True).sum(1) * T * T
    if direction == "reverse":
        return F.kl_div(lt, ls, reduction="none", log_target=True).sum(1) * T * T
    m = torch.log((ls.exp() + lt.exp()) / 2)
    return 0.5 * (F.kl_div(m, lt, reduction="none", log_target=True).sum(1)
                  + F.kl_div(m, ls, reduction="none", log_target=True).sum(1)) * T * T


@pytest.mark.parametrize("direction", ["forward", "reverse", "js"])
def test_distillation_matches_reference(backend, direction):
    rng = np.random.default_rng(6)
    s, t = rng.standard_normal((6, 7, 3)), 2 * rng.standard_normal((6, 7, 3))
    labels = rng.integers(0, 7, (6, 3))
    labels[::2, 1] = IGNORE
    valid = labels != IGNORE
    # the temperature is one division, the same code on every backend: Dask (slow per call)
    # runs the scaled case only
    for T in (2.5,) if backend.lazy else (1.0, 2.5):
        per = _distill_ref(_t(s), _t(t), T, direction).numpy()
        per = np.where(valid, per, 0.0)
        for red, want in (("none", per), ("sum", per.sum()), ("mean", per.sum() / valid.sum())):
            got = losses.distillation(backend.asarray(s), backend.asarray(t),
                                      target=backend.asarray(labels, "int64"), temperature=T,
                                      direction=direction, reduction=red)
            _close(backend.to_numpy(got), want, f"{direction} T={T} {red}")


def test_distillation_js_against_scipy_and_unbatched():
    from scipy.spatial.distance import jensenshannon

    s, t = np.array([0.5, -1.0, 2.0, 0.0]), np.array([1.0, 1.0, -3.0, 0.5])
    T = 2.0
    p = np.exp(t / T) / np.exp(t / T).sum()
    q = np.exp(s / T) / np.exp(s / T).sum()
    want = jensenshannon(p, q) ** 2 * T * T
    _close(losses.distillation(s, t, temperature=T, direction="js"), want, "js")
    assert losses.distillation(s, t, temperature=T, direction="js") <= math.log(2) * T * T


@pytest.mark.parametrize("direction", ["forward", "reverse", "js"])
def test_distillation_gradients(direction):
    rng = np.random.default_rng(8)
    s, t = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    st, tt = _t(s, True), _t(t, True)
    got = losses.distillation(st, tt, temperature=1.7, direction=direction)
    sr, tr = _t(s, True), _t(t, True)
    ref = _distill_ref(sr, tr, 1.7, direction).mean()
    g = torch.autograd.grad(got, [st, tt])
    gr = torch.autograd.grad(ref, [sr, tr])
    for a, b in zip(g, gr, strict=True):
        _close(a.numpy(), b.numpy(), f"{direction} grad")
    jax = pytest.importorskip("jax")
    gj = jax.jit(jax.grad(lambda a, b: losses.distillation(a, b, temperature=1.7,
                                                            direction=direction),
                          argnums=(0, 1)))(jax.numpy.asarray(s), jax.numpy.asarray(t))
    for a, b in zip(gj, gr, strict=True):
        _close(np.asarray(a), b.numpy(), f"{direction} jax grad")


def test_distillation_masked_classes_and_all_ignored():
    s = np.array([[0.0, -np.inf, 1.0]])
    t = np.array([[2.0, -np.inf, 0.0]])
    got = losses.distillation(s, t)
    want = losses.distillation(s[:, [0, 2]], t[:, [0, 2]])
    _close(got, want, "masked class in both models is dropped")
    assert losses.distillation(s, np.zeros((1, 3))) == math.inf  # student can't cover teacher
    assert math.isnan(losses.distillation(s, t, target=np.array([IGNORE])))


# ---------------------------------------------------------------------------------------------
# linear_cross_entropy
# ---------------------------------------------------------------------------------------------


def _naive_lce(h, W, y, b=None, weight=None, reduction="mean", ls=0.0, zl=0.0, cap=None):
    logits = (h @ W.reshape(-1, W.shape[-1]).T).reshape(*h.shape[:-1], *W.shape[:-1])
    if b is not None:
        logits = logits + b
    if cap:
        logits = cap * torch.tanh(logits / cap)
    loss = F.cross_entropy(logits, y, weight=weight, reduction=reduction, label_smoothing=ls)
    if zl:
        lse = torch.logsumexp(logits, 0 if logits.dim() == 1 else 1)
        valid = (torch.ones_like(lse, dtype=torch.bool) if y.shape == logits.shape
                 else y != IGNORE)
        zz = torch.where(valid, lse**2, 0.0)
        loss = loss + zl * {"none": zz, "sum": zz.sum(), "mean": zz.sum() / valid.sum()}[reduction]
    return loss


def lce_cases():
    out = []
    for layout, kind, red, (ls, weighted), (zl, cap, bias) in itertools.product(
        ("unbatched", "batch", "kdim"), ("index", "probs"), REDUCTIONS,
        ((0.0, False), (0.25, True)), ((0.0, None, False), (0.01, 4.0, True)),
    ):
        out.append((layout, kind, red, ls, weighted, zl, cap, bias))
    return out


@pytest.mark.parametrize("case", lce_cases(), ids=lambda c: "-".join(map(str, c)))
def test_linear_cross_entropy_matches_naive(case):
    layout, kind, red, ls, weighted, zl, cap, bias = case
    g = torch.Generator().manual_seed(hash(case) % 2**31)
    N, d, C = 29, 6, 13
    kdims = (3,) if layout == "kdim" else ()
    h = torch.randn(N, d, dtype=torch.float64, generator=g)
    if layout == "unbatched":
        h = h[0]
    W = torch.randn(C, *kdims, d, dtype=torch.float64, generator=g)
    b = torch.randn(C, *kdims, dtype=torch.float64, generator=g) if bias else None
    logits_shape = (C,) if layout == "unbatched" else (N, C, *kdims)
    if kind == "probs":
        y = torch.softmax(torch.randn(logits_shape, dtype=torch.float64, generator=g),
                          0 if layout == "unbatched" else 1)
    else:
        y = torch.randint(0, C, logits_shape[:0] if layout == "unbatched"
                          else (N, *kdims), generator=g)
        if y.dim():
            y.view(-1)[::4] = IGNORE
    w = torch.rand(C, dtype=torch.float64, generator=g) + 0.5 if weighted else None
    args = [t.clone().requires_grad_() for t in (h, W)]
    if b is not None:
        args.append(b.clone().requires_grad_())
    yk = y.clone().requires_grad_() if kind == "probs" else y
    yr = y.clone().requires_grad_() if kind == "probs" else y
    ref_args = [t.clone().requires_grad_() for t in (h, W)] + (
        [b.clone().requires_grad_()] if b is not None else [])
    for chunk in (1, 5, None):
        got = losses.linear_cross_entropy(
            args[0], args[1], yk, linear_bias=args[2] if b is not None else None, weight=w,
            reduction=red, label_smoothing=ls, z_loss=zl, softcap=cap, chunk_size=chunk)
        want = _naive_lce(ref_args[0], ref_args[1], yr, ref_args[2] if b is not None else None,
                          w, red, ls, zl, cap)
        _close(got.detach(), want.detach(), f"{case} chunk={chunk} value")
        cot = torch.randn(want.shape, dtype=torch.float64, generator=g)
        wrt = args + ([yk] if kind == "probs" else [])
        wrt_r = ref_args + ([yr] if kind == "probs" else [])
        for a, r in zip(torch.autograd.grad((got * cot).sum(), wrt),
                        torch.autograd.grad((want * cot).sum(), wrt_r), strict=True):
            _close(a, r, f"{case} chunk={chunk} grad", rtol=1e-9, atol=1e-10)


def test_linear_cross_entropy_ignore_index_and_masked_bias():
    g = torch.Generator().manual_seed(3)
    h = torch.randn(10, 4, dtype=torch.float64, generator=g, requires_grad=True)
    W = torch.randn(7, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.zeros(7, dtype=torch.float64)
    b[5] = -math.inf  # a masked vocabulary entry
    y = torch.tensor([0, 1, 2, 3, 4, 6, 0, 1, 2, 3])
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0, 0.0, 3.0], dtype=torch.float64)
    for kw in ({"ignore_index": 2}, {"weight": w}, {"weight": w, "label_smoothing": 0.0}):
        got = losses.linear_cross_entropy(h, W, y, linear_bias=b, chunk_size=3, **kw)
        want = F.cross_entropy(h @ W.T + b, y, **kw)
        _close(got.detach(), want.detach(), str(kw))
        ga = torch.autograd.grad(got, [h, W])
        gr = torch.autograd.grad(want, [h, W])
        for a, r in zip(ga, gr, strict=True):
            _close(a, r, f"{kw} grad")
    # the target itself masked: +inf
    y_masked = y.clone()
    y_masked[0] = 5
    assert losses.linear_cross_entropy(h, W, y_masked, linear_bias=b).item() == math.inf


def test_linear_cross_entropy_no_grad_and_half():
    g = torch.Generator().manual_seed(4)
    h = torch.randn(40, 8, generator=g)
    W = torch.randn(30, 8, generator=g)
    y = torch.randint(0, 30, (40,), generator=g)
    with torch.no_grad():
        v = losses.linear_cross_entropy(h, W, y, chunk_size=16, label_smoothing=0.1)
    assert v.grad_fn is None
    _close(v, F.cross_entropy(h @ W.T, y, label_smoothing=0.1), "no_grad", rtol=1e-5, atol=1e-6)
    hb = h.to(torch.bfloat16).requires_grad_()
    Wb = W.to(torch.bfloat16).requires_grad_()
    got = losses.linear_cross_entropy(hb, Wb, y, chunk_size=16)
    assert got.dtype == torch.bfloat16
    h32, W32 = hb.detach().float().requires_grad_(), Wb.detach().float().requires_grad_()
    want = F.cross_entropy(h32 @ W32.T, y)  # float32 math on the same bf16 values
    assert float(got.detach()) == float(want.detach().to(torch.bfloat16))
    got.backward()
    want.backward()
    assert Wb.grad.dtype == torch.bfloat16
    _close(Wb.grad.float(), W32.grad.to(torch.bfloat16).float(), "bf16 grad", rtol=1e-2,
           atol=1e-3)


def test_linear_cross_entropy_second_backward_raises():
    h = torch.randn(5, 3, requires_grad=True)
    W = torch.randn(4, 3, requires_grad=True)
    loss = losses.linear_cross_entropy(h, W, torch.tensor([0, 1, 2, 3, 0]))
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    loss = 2 * losses.linear_cross_entropy(h, W, torch.tensor([0, 1, 2, 3, 0]), reduction="none")
    loss.sum().backward(retain_graph=True)
    loss.sum().backward()  # reduction="none" recomputes: fine


@pytest.mark.parametrize("lib", ["numpy", "jax"])
def test_linear_cross_entropy_dense_path_other_libraries(lib):
    xp = pytest.importorskip("jax.numpy" if lib == "jax" else "numpy")
    rng = np.random.default_rng(9)
    h, W, b = rng.standard_normal((8, 5)), rng.standard_normal((11, 5)), rng.standard_normal(11)
    y = rng.integers(0, 11, 8)
    y[2] = IGNORE
    got = losses.linear_cross_entropy(xp.asarray(h), xp.asarray(W), xp.asarray(y),
                                      linear_bias=xp.asarray(b), label_smoothing=0.1,
                                      z_loss=0.05, softcap=3.0)
    want = _naive_lce(_t(h), _t(W), _t(y), _t(b), None, "mean", 0.1, 0.05, 3.0)
    _close(np.asarray(got), want.numpy(), lib)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_errors_name_the_problem():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="outside"):
        losses.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="target shape"):
        losses.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        losses.cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="floating"):
        losses.cross_entropy(x, np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="ignore_index"):
        losses.cross_entropy(x, np.full((3, 4), 0.25), ignore_index=1)
    with pytest.raises(ValueError, match="reduction"):
        losses.cross_entropy(x, np.array([0, 1, 2]), reduction="batchmean")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.cross_entropy(x, np.array([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight"):
        losses.cross_entropy(x, np.array([0, 1, 2]), weight=np.ones(3))
    with pytest.raises(TypeError, match="input"):
        losses.nll_loss(np.zeros((3, 4), dtype=np.int64), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        losses.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=">= 0"):
        losses.kl_div(np.zeros(2), np.array([-0.5, 1.5]))
    with pytest.raises(ValueError, match="direction"):
        losses.distillation(x, x, direction="sideways")
    with pytest.raises(ValueError, match="temperature"):
        losses.distillation(x, x, temperature=0.0)
    with pytest.raises(ValueError, match="same shape"):
        losses.distillation(x, np.zeros((3, 5)))
    h, W = torch.zeros(3, 2), torch.zeros(4, 2)
    with pytest.raises(ValueError, match="outside"):
        losses.linear_cross_entropy(h, W, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="linear_weight"):
        losses.linear_cross_entropy(h, torch.zeros(4, 3), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="chunk_size"):
        losses.linear_cross_entropy(h, W, torch.tensor([0, 1, 1]), chunk_size=0)
    with pytest.raises(ValueError, match="z_loss"):
        losses.linear_cross_entropy(h, W, torch.tensor([0, 1, 1]), z_loss=-1.0)
    with pytest.raises(ValueError, match="softcap"):
        losses.linear_cross_entropy(h, W, torch.tensor([0, 1, 1]), softcap=0.0)
