"""The native PyTorch fast paths (kullback.losses._torch) against the generic array-API path.

Every case runs twice on the same tensors: as shipped (torch's kernels where they apply) and with
the native table emptied (the generic path, itself checked against torch.nn.functional in
test_losses.py). Values and gradients must agree -- including the cases where torch's own
kernels give NaN (masked logits, zero targets, infinite logits), which must hand over to the
generic path -- and a spy proves that the torch kernel really ran where it should.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from kullback import losses
from kullback.losses import _common, _torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
INF = math.inf


class _Spy:
    """Stands in for torch.nn.functional inside kullback.losses._torch; records the calls."""

    def __init__(self):
        self.called: list[str] = []

    def __getattr__(self, name):
        fn = getattr(F, name)

        def call(*args, **kwargs):
            self.called.append(name)
            return fn(*args, **kwargs)

        return call


@pytest.fixture
def spy(monkeypatch):
    s = _Spy()
    monkeypatch.setattr(_torch, "F", s)
    return s


def _generic_only(m):
    """Within a monkeypatch context: no native path and no front door (the generic path)."""
    m.setattr(_common, "NATIVE", {})
    for table in _common.DOOR_TABLES.values():
        m.setitem(table, torch.Tensor, None)


def _generic(monkeypatch, fn, *args, **kwargs):
    with monkeypatch.context() as m:
        _generic_only(m)
        return fn(*args, **kwargs)


def _leaves(arrays, grad):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=g) if a.dtype.kind == "f"
            else torch.tensor(a) for a, g in zip(arrays, grad, strict=True)]


def _run(fn, arrays, grad, kwargs):
    """Value and gradients (w.r.t. the arrays flagged in ``grad``) under a fixed cotangent."""
    ts = _leaves(arrays, grad)
    out = fn(*ts, **kwargs)
    wrt = [t for t, g in zip(ts, grad, strict=True) if g]
    if not wrt:
        return out.detach().numpy(), []
    cot = torch.as_tensor(np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)))
    grads = torch.autograd.grad((out * cot).sum(), wrt, allow_unused=True)
    return out.detach().numpy(), [None if g is None else g.numpy() for g in grads]


def _same(a, b, msg, rtol=1e-12, atol=1e-15):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=msg)


def _compare(monkeypatch, fn, arrays, grad, kwargs, msg, atol_grad=1e-15):
    fast, fast_g = _run(fn, arrays, grad, kwargs)
    with monkeypatch.context() as m:
        _generic_only(m)
        slow, slow_g = _run(fn, arrays, grad, kwargs)
    _same(fast, slow, f"{msg}: value")
    assert not np.isnan(fast).any(), f"{msg}: NaN"
    for i, (a, b) in enumerate(zip(fast_g, slow_g, strict=True)):
        _same(a, b, f"{msg}: grad {i}", atol=atol_grad)


RNG = np.random.default_rng(0)
X = 2.0 * RNG.standard_normal((6, 5))
MASKED = X.copy()
MASKED[1, [0, 3]] = -INF            # a partly masked row
DEAD = X.copy()
DEAD[2] = -INF                      # a fully masked row
Y = np.array([0, 1, 2, 3, 4, 1])
Y_IGN = np.array([0, 1, -100, 3, -100, 1])   # row 2 (fully masked in DEAD) ignored
W = RNG.uniform(0.5, 2.0, 5)
W0 = W.copy()
W0[0] = 0.0                         # a zero class weight (meets the masked class 0 of row 1)
PROBS = RNG.dirichlet(np.ones(5), 6)
PROBS_ZERO = PROBS.copy()
PROBS_ZERO[1, [0, 3]] = 0.0         # zero target mass on row 1's masked classes
PROBS_ZERO[1] /= PROBS_ZERO[1].sum()

CE_CASES = {
    "plain": (X, Y, {}),
    "weights+smoothing": (X, Y, {"weight": W, "label_smoothing": 0.2}),
    "ignored": (X, Y_IGN, {"reduction": "sum"}),
    "ignore_class": (X, Y, {"ignore_index": 1, "reduction": "none"}),
    "masked-row": (MASKED, Y, {"reduction": "none"}),
    "masked+smoothing+zero-weight": (MASKED, Y, {"weight": W0, "label_smoothing": 0.1}),
    "dead-row-ignored": (DEAD, Y_IGN, {}),
    "dead-row-ignored+smoothing": (DEAD, Y_IGN, {"label_smoothing": 0.3}),
    "probs": (X, PROBS, {"label_smoothing": 0.1, "weight": W}),
    "probs-zero-at-masked": (MASKED, PROBS_ZERO, {"reduction": "none"}),
    "kdim": (RNG.standard_normal((3, 5, 4)), RNG.integers(0, 5, (3, 4)), {}),
    "unbatched": (X[0], np.array(3), {}),
}


@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_native_equals_generic(monkeypatch, case):
    x, y, kw = CE_CASES[case]
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    _compare(monkeypatch, losses.cross_entropy, [x, y], [True, y.dtype.kind == "f"], kw, case)


def test_cross_entropy_takes_the_torch_kernel(spy):
    x = torch.tensor(X, requires_grad=True)
    losses.cross_entropy(x, torch.tensor(Y), weight=torch.tensor(W), label_smoothing=0.1)
    losses.cross_entropy(torch.tensor(X), torch.tensor(PROBS))
    assert spy.called == ["cross_entropy", "cross_entropy"]


def test_dead_rows_go_generic(spy):
    # the fully masked row: torch's value is NaN; ignored, its gradient is: generic path
    out = losses.cross_entropy(torch.tensor(DEAD), torch.tensor(Y), reduction="none")
    assert out[2] == INF and np.isfinite(out.numpy()[[0, 1, 3, 4, 5]]).all()
    x = torch.tensor(DEAD, requires_grad=True)
    out = losses.cross_entropy(x, torch.tensor(Y_IGN))
    (g,) = torch.autograd.grad(out, x)
    assert torch.isfinite(g).all() and (g[2] == 0).all()


with np.errstate(divide="ignore"):
    LOG_PROBS_ZERO = np.log(PROBS_ZERO)  # -inf where the probability is 0
NLL_CASES = {
    "plain": (np.log(PROBS), Y, {}),
    "weights": (np.log(PROBS), Y_IGN, {"weight": W, "reduction": "none"}),
    "zero-weight-at-minus-inf": (LOG_PROBS_ZERO, Y, {"weight": W0}),
    "kdim": (RNG.standard_normal((3, 5, 4)), RNG.integers(0, 5, (3, 4)), {"reduction": "sum"}),
}


@pytest.mark.parametrize("case", list(NLL_CASES))
def test_nll_loss_native_equals_generic(monkeypatch, case):
    x, y, kw = NLL_CASES[case]
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    _compare(monkeypatch, losses.nll_loss, [x, y], [True, False], kw, case)


LOGQ = np.log(RNG.dirichlet(np.ones(5), 6))
LOGQ_MASKED = LOGQ.copy()
LOGQ_MASKED[1, [0, 3]] = -INF
KL_CASES = {
    "probs": (LOGQ, PROBS, {"reduction": "batchmean"}, True),
    "probs-zero-at-masked": (LOGQ_MASKED, PROBS_ZERO, {"reduction": "none"}, False),
    "zero-target-with-grad": (LOGQ, PROBS_ZERO, {"reduction": "sum"}, True),
    "log-target": (LOGQ, np.log(PROBS), {"log_target": True, "reduction": "mean"}, True),
    "log-target-minus-inf": (LOGQ_MASKED, LOG_PROBS_ZERO, {"log_target": True}, True),
}


@pytest.mark.parametrize("case", list(KL_CASES))
def test_kl_div_native_equals_generic(monkeypatch, case):
    x, t, kw, target_grad = KL_CASES[case]
    _compare(monkeypatch, losses.kl_div, [x, t], [True, target_grad], kw, case)


P = RNG.uniform(0.01, 0.99, (4, 6))
T = RNG.uniform(0.0, 1.0, (4, 6))
T[::2] = np.round(T[::2])
EDGE = P.copy()
EDGE[0, :3] = [0.0, 1.0, 1e-14]   # clamped logs and torch's 1e-12 gradient clamp
BCE_CASES = {
    "plain": (P, T, {}, [True, False]),
    "weight": (P, T, {"weight": RNG.uniform(0.5, 2, 6), "reduction": "none"}, [True, False]),
    "edges-no-grad": (EDGE, T, {"reduction": "sum"}, [False, False]),
    "edges-grad": (EDGE, T, {"reduction": "sum"}, [True, False]),
    "target-grad": (P, T, {}, [True, True]),
}


@pytest.mark.parametrize("case", list(BCE_CASES))
def test_binary_cross_entropy_native_equals_generic(monkeypatch, case):
    x, y, kw, grad = BCE_CASES[case]
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    _compare(monkeypatch, losses.binary_cross_entropy, [x, y], grad, kw, case)


Z = 3.0 * RNG.standard_normal((4, 6))
Z[0, :4] = [40.0, -40.0, 750.0, -750.0]  # softplus far in both tails
Z_INF = Z.copy()
Z_INF[1, :2] = [INF, -INF]
T_INF = T.copy()
T_INF[1, :2] = [1.0, 0.0]                # 0 * inf: torch's formula would give NaN
BCEL_CASES = {
    "plain": (Z, T, {}),
    "weight+pos_weight": (Z, T, {"weight": RNG.uniform(0.5, 2, 6),
                                 "pos_weight": RNG.uniform(0.5, 3, 6), "reduction": "none"}),
    "infinite-logits": (Z_INF, T_INF, {"reduction": "sum"}),
}


@pytest.mark.parametrize("case", list(BCEL_CASES))
def test_bce_with_logits_native_equals_generic(monkeypatch, case):
    x, y, kw = BCEL_CASES[case]
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    # the native backward is torch's sigmoid(x) - y: 1 ulp of 1 absolute where it is ~1e-17
    _compare(monkeypatch, losses.binary_cross_entropy_with_logits, [x, y], [True, True], kw,
             case, atol_grad=3e-16)


def test_bce_with_logits_keeps_the_tiny_losses():
    # a confident right answer: loss softplus(-40) = 4.248e-18; torch's formula returns 0
    x = torch.tensor([40.0, -40.0], dtype=torch.float64)
    got = losses.binary_cross_entropy_with_logits(x, torch.tensor([1.0, 0.0],
                                                                  dtype=torch.float64),
                                                  reduction="none")
    want = math.log1p(math.exp(-40.0))
    np.testing.assert_allclose(got.numpy(), [want, want], rtol=1e-15)


def test_bce_with_logits_double_backward_matches_generic(monkeypatch):
    def second(generic):
        x = torch.tensor(Z[1:], requires_grad=True)
        y = torch.tensor(T[1:])
        fn = losses.binary_cross_entropy_with_logits
        out = _generic(monkeypatch, fn, x, y) if generic else fn(x, y)
        (g,) = torch.autograd.grad(out, x, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), x)
        return h.numpy()

    _same(second(False), second(True), "Hessian diagonal")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_native_equals_generic(monkeypatch, dtype):
    half = getattr(torch, dtype)
    x = torch.tensor(X, dtype=half)
    y = torch.tensor(Y)
    for fn, args in ((losses.cross_entropy, (x, y)),
                     (losses.nll_loss, (torch.log_softmax(x.float(), 1).to(half), y)),
                     (losses.binary_cross_entropy_with_logits, (x, torch.tensor(PROBS, dtype=half)))):
        fast = fn(*args)
        slow = _generic(monkeypatch, fn, *args)
        assert fast.dtype == slow.dtype == half
        assert float(fast) == float(slow), fn.__name__


@pytest.mark.parametrize(("loss", "kernel", "args"), [
    ("kl_div", "kl_div", (np.log(PROBS), PROBS)),
    ("binary_cross_entropy", "binary_cross_entropy", (P, T)),
])
def test_each_loss_takes_a_torch_kernel(spy, loss, kernel, args):
    x, y = (torch.tensor(a) for a in args)
    getattr(losses, loss)(x.requires_grad_(), y)
    assert kernel in spy.called


def test_bce_with_logits_takes_the_one_pass_terms(monkeypatch):
    calls = []

    def terms(x, y):
        calls.append(tuple(x.shape))
        return _torch.torch.logaddexp(*_pair(x, y))

    monkeypatch.setattr(_torch, "_bce_logits_terms", terms)
    x, y = torch.tensor(Z), torch.tensor(T)
    losses.binary_cross_entropy_with_logits(x.requires_grad_(), y)
    losses.binary_cross_entropy_with_logits(x.detach(), y, weight=torch.tensor(W[:1]))
    assert calls == [(4, 6), (4, 6)]


def _pair(x, y):
    zero = torch.zeros((), dtype=x.dtype)
    return torch.lerp(x, zero, y), torch.addcmul(zero, y, x, value=-1)


def _softplus_oracle(x: float, y: float) -> float:
    import mpmath

    with mpmath.workdps(40):
        x, y = mpmath.mpf(x), mpmath.mpf(y)
        return float((1 - y) * mpmath.log1p(mpmath.exp(x)) + y * mpmath.log1p(mpmath.exp(-x)))


def _bce_logits_inputs(dtype):
    """Logits from -800 to 800 with hard, soft, nearly 0 and nearly 1 labels, and the worst
    case of the one-pass form: the log1p term as large as the y-weighted one (|x| ~ 5-30)."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-800, 800, 100), 30 * rng.standard_normal(100),
                        3 * rng.standard_normal(100)])
    y = np.where(rng.random(300) < 0.5, rng.integers(0, 2, 300), rng.random(300))
    y[::7] = 1 - 10.0 ** rng.uniform(-12, -1, y[::7].size)
    y[1::7] = 10.0 ** rng.uniform(-30, -1, y[1::7].size)
    top = 30.0 if dtype == torch.float64 else 15.0
    mag = np.linspace(5.0, top, 100)
    near = np.log1p(np.exp(-mag)) / mag * np.linspace(0.2, 5.0, 100)  # y |x| ~ log1p(e^-|x|)
    x = np.concatenate([x, mag, -mag])
    y = np.concatenate([y, 1 - near, near])
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_with_logits_one_pass_is_exact_against_mpmath(monkeypatch, dtype):
    # relative error within (|x| + 4) eps of the 40-digit value; the generic path too
    x, y = _bce_logits_inputs(getattr(torch, dtype))
    eps = float(torch.finfo(x.dtype).eps) / 2
    X, Y = x.double().numpy(), y.double().numpy()
    want = np.array([_softplus_oracle(a, b) for a, b in zip(X, Y, strict=True)])
    normal = want > torch.finfo(x.dtype).tiny
    fn = losses.binary_cross_entropy_with_logits
    for got in (fn(x, y, reduction="none"), _generic(monkeypatch, fn, x, y, reduction="none")):
        rel = np.abs(got.double().numpy() - want)[normal] / want[normal]
        assert (rel <= (np.abs(X[normal]) + 4) * eps).all(), rel.max() / eps


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_bad_class_index_is_located(loss):
    # torch's CPU kernel raises IndexError; the generic path names the index and its position
    fn = getattr(losses, loss)
    with pytest.raises(ValueError, match=r"outside \[0, 5\).*: 7 at index 4"):
        fn(torch.tensor(X), torch.tensor([0, 1, 2, 3, 7, 1]))
    y = torch.zeros(3, 4, dtype=torch.int64)
    y[2, 1] = -3
    with pytest.raises(ValueError, match=r"ignore_index=-100: -3 at index \(2, 1\)"):
        fn(torch.zeros(3, 5, 4, dtype=torch.float64), y)
    with pytest.raises(ValueError, match=r"-3 at index \(2, 1\)"):
        losses.linear_cross_entropy(torch.zeros(3, 2), torch.zeros(5, 4, 2), y)


# ---------------------------------------------------------------------------------------------
# front doors: plain float32/float64 CPU tensors skip the generic preparation
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def doors(monkeypatch):
    """Records what each torch front door returned (None: it sent the call the full way)."""
    seen: list[tuple[str, bool]] = []

    def recording(name, door):
        def call(*args):
            r = door(*args)
            seen.append((name, r is not None))
            return r

        return call

    for loss, table in _common.DOOR_TABLES.items():
        monkeypatch.setitem(table, torch.Tensor, recording(loss, _torch.DOORS[loss]))
    return seen


DOOR_CALLS = {
    "cross_entropy": (X, Y, {"label_smoothing": 0.1, "weight": W}),
    "nll_loss": (np.log(PROBS), Y_IGN, {}),
    "kl_div": (LOGQ, PROBS, {"reduction": "batchmean"}),
    "binary_cross_entropy": (P, T, {}),
    "binary_cross_entropy_with_logits": (Z, T, {"reduction": "sum"}),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", list(DOOR_CALLS))
def test_front_door_is_taken_and_equals_the_generic_path(monkeypatch, doors, loss, dtype):
    x, y, kw = DOOR_CALLS[loss]
    dt = getattr(torch, dtype)
    xt = torch.tensor(x, dtype=dt, requires_grad=True)
    yt = torch.tensor(y) if y.dtype.kind == "i" else torch.tensor(y, dtype=dt)
    kw = {k: torch.tensor(v, dtype=dt) if isinstance(v, np.ndarray) else v
          for k, v in kw.items()}
    fn = getattr(losses, loss)
    fast = fn(xt, yt, **kw)
    assert doors == [(loss, True)]
    (g_fast,) = torch.autograd.grad(fast, xt)
    slow = _generic(monkeypatch, fn, xt, yt, **kw)
    assert len(doors) == 1
    (g_slow,) = torch.autograd.grad(slow, xt)
    tol = 1e-12 if dtype == "float64" else 2e-6
    assert fast.dtype == slow.dtype == dt
    _same(fast.detach(), slow.detach(), loss, rtol=tol, atol=0)
    _same(g_fast, g_slow, f"{loss} grad", rtol=tol, atol=1e-7 if dtype == "float32" else 1e-15)


NLL_EDGES = {
    "unbatched": (np.log(PROBS[0]), np.array(3), {}),
    "unbatched-ignored": (np.log(PROBS[0]), np.array(-100), {}),
    "all-ignored-mean": (np.log(PROBS), np.full(6, -100), {}),
    "empty-sum": (np.zeros((0, 5)), np.zeros(0, dtype=np.int64), {"reduction": "sum"}),
    "empty-mean": (np.zeros((0, 5)), np.zeros(0, dtype=np.int64), {}),
    "kdim-none": (RNG.standard_normal((3, 5, 4)), RNG.integers(0, 5, (3, 4)),
                  {"reduction": "none"}),
    "ignore-a-class": (np.log(PROBS), Y, {"ignore_index": 1}),
    "uint8-target": (np.log(PROBS), Y.astype(np.uint8), {"reduction": "sum"}),
    "int32-target": (np.log(PROBS), Y.astype(np.int32), {"reduction": "none"}),
}


@pytest.mark.parametrize("case", list(NLL_EDGES))
def test_nll_loss_door_edges_equal_generic(monkeypatch, case):
    x, y, kw = NLL_EDGES[case]
    xt, yt = torch.tensor(x), torch.tensor(y)
    fast = losses.nll_loss(xt, yt, **kw)
    slow = _generic(monkeypatch, losses.nll_loss, xt, yt, **kw)
    assert fast.shape == slow.shape
    _same(fast, slow, case)


def test_nll_loss_door_calls_the_kernel_once(monkeypatch):
    calls = []

    def kernel(*args):
        calls.append(args[3:])
        return _torch.torch._C._nn.nll_loss_nd(*args)

    monkeypatch.setattr(_torch, "_nll_loss_nd", kernel)
    losses.nll_loss(torch.tensor(np.log(PROBS)), torch.tensor(Y), reduction="sum")
    assert calls == [(2, -100)]


DOOR_REJECTS = [  # inputs the doors let through to torch, which must still raise our errors
    ("cross_entropy", (torch.zeros(5), torch.tensor([1])), {}, ValueError, "target shape"),
    ("nll_loss", (torch.zeros(5), torch.tensor([1])), {}, ValueError, "target shape"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1])), {}, ValueError,
     "target shape"),
    ("nll_loss", (torch.zeros(2, 5, 3), torch.zeros(2, 4, dtype=torch.int64)), {}, ValueError,
     "target shape"),
    ("nll_loss", (torch.zeros(3, 5), torch.tensor([0, 5, 1])), {}, ValueError,
     r"outside \[0, 5\).*: 5 at index 1"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"weight": torch.ones(4)},
     ValueError, r"weight must have shape \(5,\)"),
    ("nll_loss", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"weight": torch.ones(4)},
     ValueError, r"weight must have shape \(5,\)"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1, 2])),
     {"weight": torch.ones(1, 5)}, ValueError, r"weight must have shape \(5,\)"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"reduction": "batchmean"},
     ValueError, "reduction must be one of"),
    ("nll_loss", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"reduction": "avg"},
     ValueError, "reduction must be one of"),
    ("nll_loss", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"reduction": ["mean"]},
     ValueError, "reduction must be one of"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"reduction": {}},
     ValueError, "reduction must be one of"),
    ("binary_cross_entropy_with_logits", (torch.zeros(3), torch.zeros(3)),
     {"reduction": ["sum"]}, ValueError, "reduction must be one of"),
    ("cross_entropy", (torch.zeros(3, 5), torch.tensor([0, 1, 2])), {"label_smoothing": 1.5},
     ValueError, "label_smoothing"),
    ("cross_entropy", (torch.zeros(3, 5, dtype=torch.int64), torch.tensor([0, 1, 2])), {},
     TypeError, "input must have a real floating dtype"),
    ("kl_div", (torch.zeros(2), torch.tensor([-0.5, 1.5])), {}, ValueError, ">= 0"),
    ("kl_div", (torch.zeros(2), torch.tensor([0.5, 0.5])), {"reduction": "avg"}, ValueError,
     "reduction must be one of"),
    ("binary_cross_entropy", (torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.0])), {},
     ValueError, r"input must hold probabilities in \[0, 1\]; got 1.5 at index 1"),
    ("binary_cross_entropy", (torch.tensor([0.5]), torch.tensor([1.0])), {"reduction": "avg"},
     ValueError, "reduction must be one of"),
    ("binary_cross_entropy_with_logits", (torch.zeros(3), torch.zeros(4)), {}, ValueError,
     "shape"),
    ("binary_cross_entropy_with_logits", (torch.zeros(2, 4), torch.zeros(2, 4)),
     {"weight": torch.ones(2)}, ValueError, "weight of shape"),
]


@pytest.mark.parametrize(("loss", "args", "kw", "error", "message"), DOOR_REJECTS)
def test_front_doors_keep_the_named_errors(doors, loss, args, kw, error, message):
    with pytest.raises(error, match=message):
        getattr(losses, loss)(*args, **kw)
    assert all(not taken for _, taken in doors)


def test_tensor_subclasses_take_the_full_path(doors):
    # nn.Parameter (any subclass) keeps torch's __torch_function__ dispatch: no door (and the
    # torch.Tensor door refuses one given as the target)
    x = torch.nn.Parameter(torch.tensor(X))
    out = losses.cross_entropy(x, torch.tensor(Y))
    want = F.cross_entropy(torch.tensor(X), torch.tensor(Y))
    _same(out.detach(), want, "Parameter input")
    assert doors == []
    xt = torch.tensor(X)
    assert _torch.DOORS["kl_div"](xt, torch.nn.Parameter(xt)) is None


def test_door_tables_know_torch_only(monkeypatch):
    table = _common.DoorTable("nll_loss")
    assert table[np.ndarray] is None and table[list] is None
    assert table[torch.Tensor] is _torch.DOORS["nll_loss"]
    assert table[torch.nn.Parameter] is None  # subclasses keep torch's dispatch
    monkeypatch.setattr(_common, "NATIVE", {})
    assert _common.DoorTable("nll_loss")[torch.Tensor] is None


SHAPE_SWEEP = [(), (1,), (3,), (2, 3), (3, 2), (2, 1), (1, 3), (2, 3, 4), (2, 4), (2, 3, 1),
               (2, 4, 3), (4,), (2,), (0, 3), (2, 3, 0)]


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_doors_accept_exactly_the_shapes_numpy_accepts(loss):
    # every (input, class-index target) shape pair: a value equal to NumPy's, or both raise
    fn = getattr(losses, loss)
    for sx, sy in itertools.product(SHAPE_SWEEP, repeat=2):
        x = np.linspace(-1.0, 1.0, math.prod(sx)).reshape(sx)
        y = np.zeros(sy, dtype=np.int64)
        try:
            want = fn(x, y, reduction="sum")
        except (ValueError, TypeError) as exc:
            with pytest.raises(type(exc)):
                fn(torch.tensor(x), torch.tensor(y), reduction="sum")
            continue
        got = fn(torch.tensor(x), torch.tensor(y), reduction="sum")
        _same(got.numpy(), want, f"{loss} {sx} {sy}")
