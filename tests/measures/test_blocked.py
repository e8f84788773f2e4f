"""The blocked driver (large NumPy inputs): its single passes against the mpmath oracle.

The driver is run on small inputs with small tiles (the sizes are module constants), through
``_evaluate`` itself, so that many tiles, rows split across tiles and the finishing rules are
exercised in milliseconds; the public functions' own small-input fast paths do not intervene.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close, oracle

from kullback.measures import _blocked
from kullback.measures._prepare import prepare
from kullback.measures.discrete import _evaluate

RTOL = {np.float64: 1e-10, np.float32: 1e-4}


@pytest.fixture(autouse=True)
def small_tiles(monkeypatch):
    """Every input of 64 elements or more is blocked, in tiles of 64 to 256 elements (an
    outcome-major tile holds whole rows from runs of 64 rows on)."""
    monkeypatch.setattr(_blocked, "MIN_BLOCKED", 64)
    monkeypatch.setattr(_blocked, "_COLUMN_RUN", 64)
    monkeypatch.setattr(_blocked, "_MIN_TILE", 64)
    monkeypatch.setattr(_blocked, "_MAX_TILE", 256)
    monkeypatch.setattr(_blocked, "_LONG_TILE", 256)


def _blocked_value(name, p, q=None, axis=-1):
    pr = prepare(p, q, axis, "probs", "probs", True)
    assert _blocked.use_blocked(*(a for a in (pr.p, pr.q) if a is not None))
    return _evaluate(pr, (name,))[name]


def _check_rows(name, p, q, got, dtype):
    p64, q64 = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    for i in range(p64.shape[0]):
        want = oracle(name, p64[i], q64[i])
        if np.isinf(want):
            assert got[i] == want
        else:
            assert_close(float(got[i]), want, rtol=RTOL[dtype], atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [3, 50, 700])  # short rows, rows in one tile, rows split
def test_cross_entropy_single_pass_matches_the_oracle(n, dtype):
    rng = np.random.default_rng(n)
    rows = max(4, 1200 // n)
    p = rng.random((rows, n)).astype(dtype)
    q = rng.random((rows, n)).astype(dtype)
    p[1, ::2] = 0            # zeros in p: 0 log q = 0
    q[2, ::3] = 0            # zeros in q where p > 0: +inf
    p[3] *= 1000             # counts above 1 (raw terms of both signs)
    q[3] = np.round(q[3] * 50) + 1
    got = _blocked_value("cross_entropy", p, q)
    assert got.dtype == dtype and np.isinf(got[2]) and not np.isnan(got).any()
    _check_rows("cross_entropy", p, q, got, dtype)


def test_cross_entropy_nearly_one_hot_rows_fall_back_to_entropy_plus_kl():
    """A nearly one-hot pair has a cross-entropy far below the single pass's rounding: those
    rows (and only those) take H + KL, which keeps them to the contract."""
    n = 300
    p = np.full((3, n), 1e-22)
    q = np.full((3, n), 3e-21)
    p[:, 0] = q[:, 0] = 1.0
    p[1] = np.random.default_rng(1).random(n)  # an ordinary row beside them
    got = _blocked_value("cross_entropy", p, q)
    _check_rows("cross_entropy", p, q, got, np.float64)
    assert 0 < got[0] < 1e-15


def test_cross_entropy_is_entropy_plus_kl_on_the_blocked_path():
    rng = np.random.default_rng(7)
    p, q = rng.random((6, 400)), rng.random((6, 400))
    q[0] = p[0] * (1 + 1e-9 * rng.standard_normal(400))  # nearly identical: KL ~ 1e-18
    pr = prepare(p, q, -1, "probs", "probs", True)
    got = _evaluate(pr, ("entropy", "cross_entropy", "kl_divergence"))
    h, ce, kl = got["entropy"], got["cross_entropy"], got["kl_divergence"]
    np.testing.assert_allclose(ce, h + kl, rtol=1e-14)
    assert (kl > 0).all()


@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence", "js_divergence"])
def test_counts_entropy_finish_accepts_entries_above_one(name):
    """Integer counts (entries above 1) are finished in the single pass, to the contract."""
    rng = np.random.default_rng(11)
    p = rng.integers(1, 10_000, size=(2, 500)).astype(np.float64)
    q = rng.integers(1, 10_000, size=(2, 500)).astype(np.float64)
    got = _blocked_value(name, p, None if name == "entropy" else q)
    for i in range(2):
        want = oracle(name, p[i], None if name == "entropy" else q[i])
        assert_close(float(got[i]), want, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(700, 3), (40, 30), (3, 500), (5, 7, 20)])
@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence", "js_divergence"])
def test_first_axis_is_reduced_in_place_and_agrees_with_the_generic_path(name, shape, dtype,
                                                                         monkeypatch):
    """Along axis 0 the tiles follow the outcomes (no transposing copy); same values as the
    generic path on the same layout."""
    rng = np.random.default_rng(sum(shape))
    p = rng.random(shape).astype(dtype)
    q = rng.random(shape).astype(dtype)
    p[1] = 0  # an outcome with no mass in p
    args = (p,) if name == "entropy" else (p, q)
    pr = prepare(*args, *([] if name != "entropy" else [None]), 0, "probs", "probs", True)
    assert not pr.p.flags.c_contiguous and _blocked._contiguous(pr.p) is pr.p
    got = _blocked_value(name, *args, axis=0) if name != "entropy" else \
        _blocked_value(name, p, axis=0)
    monkeypatch.setattr(_blocked, "MIN_BLOCKED", 1 << 62)
    want = _evaluate(prepare(*args, *([] if name != "entropy" else [None]), 0, "probs",
                             "probs", True), (name,))[name]
    np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 2e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence", "entropy"])
def test_whole_row_tiles_finish_every_row_to_the_contract(name, dtype):
    """Short rows are finished inside their tile; the rows a single pass rejects (nearly
    identical pairs, a dominant entry, float32 rows of small KL) are redone there."""
    rng = np.random.default_rng(5)
    p = rng.random((300, 4)).astype(dtype)
    q = rng.random((300, 4)).astype(dtype)
    q[::3] = p[::3] * (1 + (1e-3 if dtype == np.float32 else 1e-7)
                       * rng.standard_normal((100, 4))).astype(dtype)
    p[1] = [1.0, 1e-20, 2e-20, 0.0]  # one dominant entry
    q[1] = [1.0, 3e-20, 1e-20, 5e-21]
    got = _blocked_value(name, p, None if name == "entropy" else q)
    for i in range(0, 300, 7):
        want = oracle(name, p[i].astype(np.float64),
                      None if name == "entropy" else q[i].astype(np.float64))
        assert_close(float(got[i]), want, rtol=RTOL[dtype], atol=1e-300)


def test_entropy_alone_finds_zeros_and_negatives_without_a_minimum_pass():
    p = np.random.default_rng(2).random((10, 100))
    p[3, 17] = 0.0
    got = _blocked_value("entropy", p)
    assert_close(float(got[3]), oracle("entropy", p[3]), rtol=1e-10)
    p[6, 40] = -1.0
    with pytest.raises(ValueError, match=r"p has a negative entry at position \(6, 40\)"):
        _blocked_value("entropy", p)


@pytest.mark.parametrize("n", [700, 40])  # rows split across tiles; whole rows in a tile
@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence"])
def test_nearly_identical_pairs_with_other_totals_keep_their_accuracy(name, n):
    """q = 3 p (1 + 1e-9 u): scaling to a common total rounds every entry by eps, most of
    q - p; the exact difference (two-product) keeps the divergence to the contract."""
    rng = np.random.default_rng(n)
    p = rng.random((3, n)) + 0.5
    q = 3.0 * p * (1 + rng.uniform(-1e-9, 1e-9, (3, n)))
    got = _blocked_value(name, p, q)
    for i in range(3):
        assert_close(float(got[i]), oracle(name, p[i], q[i]), rtol=1e-10)


def _generic_value(name, p, q=None, axis=-1, monkeypatch=None):
    monkeypatch.setattr(_blocked, "MIN_BLOCKED", 1 << 62)
    pr = prepare(p, q, axis, "probs", "probs", True)
    return _evaluate(pr, (name,))[name]


def _error(fn):
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("bad", ["nan", "inf", "negative", "zero row", "overflow"])
@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence", "js_divergence"])
def test_whole_row_tiles_report_invalid_input_as_the_general_path(name, bad, axis,
                                                                  monkeypatch):
    """Tiles of whole rows validate from their totals' extremes; any invalid entry, in p or
    in q, still gets the general path's message (argument, problem, position)."""
    rng = np.random.default_rng(3)
    shape = (200, 4) if axis == -1 else (4, 200)
    p, q = rng.random(shape), rng.random(shape)
    target = q if name != "entropy" and bad in ("nan", "negative") else p
    at = (37, 2) if axis == -1 else (2, 37)
    if bad == "zero row":
        target[(37, slice(None)) if axis == -1 else (slice(None), 37)] = 0.0
    else:
        target[at] = {"nan": np.nan, "inf": np.inf, "negative": -0.5,
                      "overflow": 1.7e308}[bad]
        if bad == "overflow":
            target[(at[0], 1) if axis == -1 else (1, at[1])] = 1.7e308
    args = (p,) if name == "entropy" else (p, q)
    blocked = _error(lambda: _blocked_value(name, *args, axis=axis))
    general = _error(lambda: _generic_value(name, *args, axis=axis, monkeypatch=monkeypatch))
    assert blocked == general
    assert str(37) in blocked


@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence"])
def test_whole_rows_scaled_to_p_keep_tiny_q_entries(name):
    """On whole rows the pair is put on p's total by scaling q alone (q sp/sq); where that
    would push a q entry below the normal range (sq far above sp, a tiny q entry), the
    smaller total is scaled up instead. Both routes agree with the oracle."""
    rng = np.random.default_rng(8)
    p = rng.random((120, 5)) + 0.1
    q = rng.random((120, 5)) + 0.1
    q[7] = [3e-300, 2e5, 1e5, 3e5, 1.0]        # sq/sp ~ 1e5: q sp/sq has a subnormal entry
    p[8], q[8] = p[8] * 1e-200, q[8] * 1e100   # totals 2**-600 ... 2**400: far apart
    got = _blocked_value(name, p, q)
    assert not np.isnan(got).any()
    for i in [0, 1, 7, 8, 50, 119]:
        assert_close(float(got[i]), oracle(name, p[i], q[i]), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outcome_major_tiles_with_short_runs_are_not_whole(dtype, monkeypatch):
    """A first-axis input whose tile would hold runs of fewer than _COLUMN_RUN rows (each
    operation then a thousand short loops) is tiled by outcomes instead; same values."""
    monkeypatch.setattr(_blocked, "_COLUMN_RUN", 256)
    rng = np.random.default_rng(4)
    p = rng.random((60, 30)).astype(dtype)
    q = rng.random((60, 30)).astype(dtype)
    assert not _blocked._whole_rows([np.moveaxis(p, 0, -1)])
    for name in ["entropy", "cross_entropy", "kl_divergence", "js_divergence"]:
        args = (p,) if name == "entropy" else (p, q)
        got = _blocked_value(name, *args, axis=0)
        for j in range(0, 30, 7):
            want = oracle(name, p[:, j].astype(np.float64),
                          None if name == "entropy" else q[:, j].astype(np.float64))
            assert_close(float(got[j]), want, rtol=RTOL[dtype])


@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence"])
def test_float32_rows_split_across_many_tiles_add_their_partials_in_float64(name):
    """A float32 vector of 2**18 equal-looking entries in 1024 tiles: every partial sum
    rounds the same way, so float32 accumulation (einsum within a tile, float32 across
    tiles) drifted to 7e-6 here; pairwise sums within a tile and float64 partials keep the
    closed form to 2e-6 (the contract is 1e-4, with margin for any rounding pattern)."""
    n = 1 << 18
    a, b = np.float32(0.3), np.float32(0.7001)
    p = np.full(n, 0.1, dtype=np.float32)
    q = np.empty(n, dtype=np.float32)
    q[::2], q[1::2] = a, b
    log_q = [np.log(float(v) / ((n // 2) * (float(a) + float(b)))) for v in (a, b)]
    want = {"entropy": np.log(n), "cross_entropy": -0.5 * sum(log_q),
            "kl_divergence": -np.log(n) - 0.5 * sum(log_q)}[name]
    got = _blocked_value(name, p, None if name == "entropy" else q)
    assert got.dtype == np.float32
    assert_close(float(got), want, rtol=2e-6)


@pytest.mark.parametrize(("name", "dtype", "axis"), [
    (name, dtype, axis) for name in ("entropy", "cross_entropy")
    for dtype in (np.float32, np.float64) for axis in (0, -1)
    if not (name == "cross_entropy" and dtype == np.float64 and axis == -1)])  # (raw finish)
def test_short_rows_normalised_first_meet_the_contract(name, dtype, axis, monkeypatch):
    """Tiles of short rows normalised before the logarithm (terms of one sign): the rows are
    within the contract, nearly one-hot rows (rejected there, redone), zero entries and
    totals from 1e-15 to 1e15 included; the path is taken (a spy counts its tiles: along the first axis, the
    lean loop's)."""
    from kullback.measures import _tiles

    calls = []

    def counted(kernel):
        def run(*args, **kwargs):
            calls.append(1)
            return kernel(*args, **kwargs)
        return run

    if axis == 0:
        monkeypatch.setattr(_blocked, "_LEAN", {k: counted(kernel)
                                                for k, kernel in _blocked._LEAN.items()})
    else:
        monkeypatch.setattr(_blocked, "NORMALISED", {
            k: (dtypes, counted(kernel)) for k, (dtypes, kernel) in _tiles.NORMALISED.items()})
    rng = np.random.default_rng(11)
    p = rng.random((1000, 3)).astype(dtype) * dtype(10.0) ** rng.integers(
        -15, 15, (1000, 1)).astype(dtype)
    q = rng.random((1000, 3)).astype(dtype)
    p[::5] = [1.0, 1e-6, 3e-7]  # nearly one-hot: entropy ~2e-5, below the one-sign bound
    q[::5] = [1.0, 2e-7, 1e-6]
    q[3::5] *= dtype(1e15)
    p[7:200:11, 1] = 0.0  # 0 log 0 (rejected by entropy's bound: redone), 0 log Q
    p[9:200:13, 2] = q[9:200:13, 2] = 0.0  # 0 log 0 in cross-entropy too (composed as H + KL)
    args = (p,) if name == "entropy" else (p, q)
    got = _blocked_value(name, *args) if axis == -1 else \
        _blocked_value(name, *(a.T.copy() for a in args), axis=0)
    assert calls
    for i in range(0, 1000, 7):
        want = oracle(name, p[i].astype(np.float64),
                      None if name == "entropy" else q[i].astype(np.float64))
        assert_close(float(got[i]), want, rtol=RTOL[dtype], atol=1e-300)


@pytest.mark.parametrize("bad", ["nan", "inf", "negative", "zero row", "overflow"])
@pytest.mark.parametrize(("name", "where", "dtype"), [
    ("entropy", "p", np.float64), ("cross_entropy", "p", np.float64),
    ("cross_entropy", "q", np.float64), ("kl_divergence", "p", np.float32),
    ("kl_divergence", "q", np.float32), ("kl_divergence", "p", np.float64),
    ("kl_divergence", "q", np.float64)])
def test_lean_first_axis_loop_reports_invalid_input_as_the_general_path(name, where, dtype,
                                                                        bad, monkeypatch):
    """The lean loop over short rows along the first axis abandons an input it does not
    serve: any invalid entry, in p or in q, gets the general path's message and position
    (float32 totals beyond float32's range are valid: the general path's values)."""
    tried = []
    monkeypatch.setattr(_blocked, "_LEAN", {
        k: (lambda f: lambda *a: tried.append(1) or f(*a))(f)  # noqa: B023
        for k, f in _blocked._LEAN.items()})
    rng = np.random.default_rng(4)
    p, q = rng.random((4, 2000)).astype(dtype), rng.random((4, 2000)).astype(dtype)
    target = p if where == "p" else q
    huge = float(np.finfo(dtype).max) * 0.95
    if bad == "zero row":
        target[:, 1037] = 0.0
    else:
        target[2, 1037] = {"nan": np.nan, "inf": np.inf, "negative": -0.5,
                           "overflow": huge}[bad]
        if bad == "overflow":
            target[1, 1037] = huge
    args = (p,) if name == "entropy" else (p, q)
    if bad == "overflow" and dtype == np.float32:  # float32 totals beyond the range: valid
        got = _blocked_value(name, *args, axis=0)
        want = _generic_value(name, *args, axis=0, monkeypatch=monkeypatch)
        assert tried
        np.testing.assert_allclose(got, want, rtol=1e-5)
        return
    blocked = _error(lambda: _blocked_value(name, *args, axis=0))
    general = _error(lambda: _generic_value(name, *args, axis=0, monkeypatch=monkeypatch))
    assert tried
    assert blocked == general
    assert "1037" in blocked


@pytest.mark.parametrize("name", ["entropy", "cross_entropy"])
def test_first_axis_rows_of_dozens_of_outcomes_take_the_long_loop(name, monkeypatch):
    """float64 rows of 17 to 256 outcomes along the first axis take the long loop (reductions
    along the outcomes; the short rows' loop serves up to 16): within 1e-10 of the oracle,
    zeros included."""
    monkeypatch.setattr(_blocked, "_MAX_TILE", 4096)
    tried = []
    monkeypatch.setattr(_blocked, "_LONG", {
        k: (lambda f: lambda *a: tried.append(1) or f(*a))(f)  # noqa: B023
        for k, f in _blocked._LONG.items()})
    rng = np.random.default_rng(8)
    p, q = rng.random((40, 2000)) ** 3, rng.random((40, 2000))
    p[5, ::3] = 0.0
    args = (p,) if name == "entropy" else (p, q)
    got = _blocked_value(name, *args, axis=0)
    assert tried
    for i in range(0, 2000, 97):
        want = oracle(name, p[:, i], None if name == "entropy" else q[:, i])
        assert_close(float(got[i]), want, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lean_first_axis_loop_computes_kl_in_float64(dtype, monkeypatch):
    """KL of short rows along the first axis: computed in float64 by the lean loop (float32
    widened), within the contract of the oracle, nearly identical rows (rejected there and
    redone), zeros of p and, in float64, ratios beyond 2**512 (both: the general driver)
    and totals far apart included."""
    tried = []
    monkeypatch.setattr(_blocked, "_LEAN", {
        k: (lambda f: lambda *a: tried.append(1) or f(*a))(f)  # noqa: B023
        for k, f in _blocked._LEAN.items()})
    rng = np.random.default_rng(9)
    p = rng.random((3, 3000)).astype(dtype)
    q = rng.random((3, 3000)).astype(dtype) * dtype(1e6)
    q[:, ::7] = p[:, ::7] * dtype(3.0)  # KL 0 up to the rounding of q
    q[0, 5::7] = np.nextafter(q[0, 5::7], dtype(np.inf))
    p[:, 5::7] *= dtype(1e-20)
    got = _blocked_value("kl_divergence", p, q, axis=0)
    assert tried
    for i in range(0, 3000, 17):
        want = oracle("kl_divergence", p[:, i].astype(np.float64), q[:, i].astype(np.float64))
        assert_close(float(got[i]), want, rtol=RTOL[dtype], atol=1e-300)
    p[1, 2222] = 0.0
    if dtype == np.float64:
        p[2, 2223] = 1e-300
    got = _blocked_value("kl_divergence", p, q, axis=0)
    for i in (2222, 2223):
        assert_close(float(got[i]), oracle("kl_divergence", p[:, i].astype(np.float64),
                                           q[:, i].astype(np.float64)), rtol=RTOL[dtype])


def _spied_long(monkeypatch):
    """Record the lean long-vector loop's tile calls and the general driver's first passes."""
    calls = {"long": 0, "general": 0}
    monkeypatch.setattr(_blocked, "_LONG", {
        k: (lambda f: lambda *a: calls.__setitem__("long", calls["long"] + 1) or f(*a))(f)  # noqa: B023
        for k, f in _blocked._LONG.items()})
    one_pass = _blocked.one_pass
    monkeypatch.setattr(_blocked, "one_pass", lambda *a, **k: calls.__setitem__(
        "general", calls["general"] + 1) or one_pass(*a, **k))
    return calls


def _long_case(case, dtype, rng, shape):
    """Operands of ``shape`` for ``case``; the special rows are every third one (the only
    one of a vector)."""
    p = rng.random(shape) + 0.01
    q = rng.random(shape) + 0.01
    if case == "counts":  # raw terms of both signs, totals far apart
        p, q = np.round(p * 1000) + 1, q * 1e-6
    elif case == "sparse counts":  # zeros in most tiles (0 log 0 = 0), for entropy
        p = np.round(p**4 * 5)
    P, Q = p.reshape(-1, shape[-1]), q.reshape(-1, shape[-1])  # (views)
    if case == "nearly one-hot":  # entropy (and H(P, P)) cancel: rejected by the bound,
        P[::3] = 1e-17  # redone (cross-entropy: composed from H + KL)
        P[::3, shape[-1] // 4] = 1.0
        Q[::3] = P[::3]
    elif case == "nearly identical":  # KL cancels: rejected by the bound, redone exactly
        Q[::3] = P[::3] * (1 + rng.uniform(-1, 1, P[::3].shape)
                           * (1e-8 if dtype == np.float64 else 1e-4))
    return p.astype(dtype), q.astype(dtype)


@pytest.mark.parametrize(("shape", "axis", "tiles"), [
    ((5000,), -1, "pieces"), ((120, 40), -1, "rows"), ((3, 40, 40), -1, "rows"),
    ((120, 40), 0, "rows"), ((120, 40), 0, "bands")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["random", "counts", "sparse counts", "nearly one-hot",
                                  "nearly identical"])
@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence"])
def test_lean_long_loop_meets_the_contract(name, case, dtype, shape, axis, tiles, monkeypatch):
    """One long vector, rows along the last axis, or rows stored outcome by outcome (reduced
    along the first axis) take the lean loop over tiles (20 tiles here: pieces of the vector,
    6 whole rows, or bands of 2 outcomes of every row; the last one short; split over two
    workers): within the contract of the mpmath oracle, and the general driver's first pass
    is not run for accepted values. The rows the finish's bound rejects (nearly one-hot
    entropy, nearly identical KL) are redone exactly; nearly one-hot rows' cross-entropy is
    composed from entropy and KL."""
    monkeypatch.setattr(_blocked, "_workers", lambda: 2)
    if tiles == "bands":  # (rows of more outcomes take bands)
        monkeypatch.setattr(_blocked, "_LONG_OUTCOMES", 16)
    calls = _spied_long(monkeypatch)
    p, q = _long_case(case, dtype, np.random.default_rng(11), shape)
    args = (p,) if name == "entropy" else (p, q)
    if axis == 0:  # the same rows, stored outcome by outcome
        got = _blocked_value(name, *(np.ascontiguousarray(a.T) for a in args), axis=0)
    else:
        got = _blocked_value(name, *args)
    assert got.dtype == dtype and got.shape == shape[:-1]
    # the general driver takes KL with zeros of p, and composes a nearly one-hot
    # cross-entropy from entropy and KL
    served = (name, case) not in {("kl_divergence", "sparse counts"),
                                   ("cross_entropy", "nearly one-hot")}
    assert (calls["general"] == 0) == served
    assert calls["long"] == 20 if served else calls["long"] >= 1  # each tile once
    rows_p, rows_q = (x.reshape(-1, shape[-1]).astype(np.float64) for x in (p, q))
    values = np.reshape(got, -1)
    for i in sorted({*range(0, len(values), 3), *range(1, len(values), 7)}):
        want = oracle(name, rows_p[i], None if name == "entropy" else rows_q[i], digits=60)
        assert_close(float(values[i]), want, rtol=RTOL[dtype], atol=1e-300)
        assert values[i] > 0.0 or (name, case) == ("kl_divergence", "nearly one-hot")  # KL(p, p)


@pytest.mark.parametrize(("shape", "axis", "tiles"), [
    ((5000,), -1, "pieces"), ((125, 40), -1, "rows"), ((125, 40), 0, "rows"),
    ((125, 40), 0, "bands")])
@pytest.mark.parametrize("bad", ["nan", "inf", "negative", "zero", "overflow"])
@pytest.mark.parametrize(("name", "where"), [
    ("entropy", "p"), ("cross_entropy", "p"), ("cross_entropy", "q"), ("kl_divergence", "p"),
    ("kl_divergence", "q")])
def test_lean_long_loop_hands_what_it_does_not_serve_to_the_general_driver(name, bad, where,
                                                                         shape, axis,
                                                                         tiles, monkeypatch):
    """An entry the lean loop does not serve stops both workers and the general driver takes
    the input: an invalid one gets the general path's message and position; a zero is valid
    (0 log 0 = 0; a zero of q under p > 0 is an infinite KL) and gets the oracle's value."""
    monkeypatch.setattr(_blocked, "_workers", lambda: 2)
    if tiles == "bands":
        monkeypatch.setattr(_blocked, "_LONG_OUTCOMES", 16)
    calls = _spied_long(monkeypatch)
    rng = np.random.default_rng(12)
    p, q = rng.random(shape) + 0.01, rng.random(shape) + 0.01
    target = (p if where == "p" else q).reshape(-1)  # (a view)
    target[3737] = {"nan": np.nan, "inf": np.inf, "negative": -0.5, "zero": 0.0,
                    "overflow": 1.7e308}[bad]
    if bad == "overflow":
        target[3738] = 1.7e308
    at = "3737" if len(shape) == 1 else "93"  # (the row of flat entry 3737)
    args = (p,) if name == "entropy" else (p, q)
    if axis == 0:  # the same rows, stored outcome by outcome
        args = tuple(np.ascontiguousarray(a.T) for a in args)
    if bad == "zero":
        got = np.reshape(_blocked_value(name, *args, axis=axis), -1)
        row = 0 if len(shape) == 1 else 93
        want = oracle(name, p.reshape(-1, shape[-1])[row],
                      None if name == "entropy" else q.reshape(-1, shape[-1])[row], digits=60)
        # entropy's loop serves zeros, cross-entropy's those of p; the general driver the rest
        served = name == "entropy" or (name, where) == ("cross_entropy", "p")
        assert calls["long"] >= 1 and (calls["general"] == 0) == served
        if np.isinf(want):
            assert got[row] == want
        else:
            assert_close(float(got[row]), want, rtol=1e-10)
        return
    blocked = _error(lambda: _blocked_value(name, *args, axis=axis))
    general = _error(lambda: _generic_value(name, *args, axis=axis, monkeypatch=monkeypatch))
    assert calls["long"] >= 1
    assert blocked == general
    assert blocked.startswith((f"{where} ", f"{where}:"))
    assert bad == "overflow" or at in blocked  # (an overflowing sum has no position)


def test_bands_longer_than_their_limit_stay_with_the_general_driver(monkeypatch):
    """A band sums each row's outcomes one by one: a band of more than ``_BAND`` outcomes
    (few rows of many outcomes along the first axis) is left to the general driver, whose
    value agrees with the oracle."""
    monkeypatch.setattr(_blocked, "_LONG_OUTCOMES", 16)
    monkeypatch.setattr(_blocked, "_BAND", 1)  # here: bands of 2 outcomes are too long
    calls = _spied_long(monkeypatch)
    rng = np.random.default_rng(13)
    p = rng.random((40, 120)) + 0.01
    got = _blocked_value("entropy", p, axis=0)
    assert calls["long"] == 0 and calls["general"] == 1
    for i in range(0, 120, 17):
        assert_close(float(got[i]), oracle("entropy", p[:, i], digits=60), rtol=1e-10)
