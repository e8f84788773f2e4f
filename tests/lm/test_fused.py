"""The fused torch path (kullback.lm._fused) against the generic NumPy path and the independent
float64 reference: every column, on random logits with -inf entries, support mismatches,
identical and nearly identical rows, ties, bfloat16 input and targets."""

from __future__ import annotations

import numpy as np
import pytest
from lm.reference import per_token, random_logits

from kullback.lm import compare
from kullback.lm._fused import FLOOR, _values, supports

torch = pytest.importorskip("torch")

FLOATS = ("kl", "kl_reverse", "js", "nll_reference", "nll_candidate")


def _mixed_rows(rng, n=64, v=3000):
    """float32 logits: ordinary rows (KL ~ 1e-2), then rows with shared -inf masks, a support
    mismatch, identical rows, nearly identical rows (KL ~ 1e-11), and tied maxima."""
    a = random_logits(rng, n, v, dtype=np.float32)
    b = (a + 0.2 * rng.standard_normal(a.shape)).astype(np.float32)
    a[40:44, 100:400] = -np.inf                          # shared masks
    b[40:44, 100:400] = -np.inf
    b[44, 7] = -np.inf                                   # candidate misses an outcome: KL = inf
    b[45:48] = a[45:48]                                  # identical rows
    b[48:52] = a[48:52] + np.float32(1e-5) * rng.standard_normal((4, v)).astype(np.float32)
    a[52, [3, 9]] = a[52].max() + 1                      # ties: the lowest index wins
    b[52, [2, 9]] = b[52].max() + 1
    a[53], b[53] = 0.0, 0.0                              # every entry tied, identical rows
    t = rng.integers(0, v, n)
    t[40:44] = 0
    return a, b, t


def test_fused_path_equals_generic_path_and_reference():
    rng = np.random.default_rng(10)
    a, b, t = _mixed_rows(rng)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    assert supports(ta, tb, np.float64) and not supports(a, b, np.float64)
    fused, generic = compare(ta, tb, torch.from_numpy(t)), compare(a, b, t)
    ref = per_token(a, b, t)
    for name in FLOATS:
        np.testing.assert_allclose(getattr(fused, name), getattr(generic, name), rtol=1e-9,
                                   atol=0, err_msg=name)
        # the textbook reference is itself off by ~1e-16 absolute on nearly identical rows
        np.testing.assert_allclose(getattr(fused, name), ref[name], rtol=1e-9, atol=1e-15,
                                   err_msg=name)
    for name in ("top_reference", "top_candidate"):
        np.testing.assert_array_equal(fused.columns[name], generic.columns[name], err_msg=name)
    np.testing.assert_array_equal(fused.same_top, ref["same_top"])
    assert fused.columns["top_reference"][52] == 3 and fused.columns["top_candidate"][52] == 2
    assert fused.columns["top_reference"][53] == 0
    assert np.isinf(fused.kl[44]) and np.isfinite(fused.kl_reverse[44])
    assert np.all(fused.kl[45:48] == 0) and np.all(fused.js[45:48] == 0)
    assert np.all(fused.kl >= 0) and np.all(fused.kl_reverse >= 0) and np.all(fused.js >= 0)


def test_fused_pass_keeps_ordinary_rows_and_hands_back_special_ones():
    """The fused pass itself (no fallback): its values on ordinary rows match the reference,
    and exactly the rows it cannot vouch for are handed back."""
    rng = np.random.default_rng(11)
    a, b, _ = _mixed_rows(rng)
    values, redo = _values(torch, torch.from_numpy(a), torch.from_numpy(b))
    redo = redo.numpy()
    want_redo = np.zeros(len(a), dtype=bool)
    want_redo[40:54] = True  # masks, mismatch, identical, nearly identical (below FLOOR)
    want_redo[52] = False    # ties are ordinary
    np.testing.assert_array_equal(redo, want_redo)
    ref = per_token(a, b)
    for name in ("kl", "kl_reverse", "js"):
        got = values[name].numpy()
        np.testing.assert_allclose(got[~redo], ref[name][~redo], rtol=1e-9, atol=0,
                                   err_msg=name)
        assert np.all(got[~redo] >= FLOOR / 4)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_fused_path_other_input_dtypes(dtype):
    rng = np.random.default_rng(12)
    a = torch.from_numpy(rng.standard_normal((16, 500))).to(getattr(torch, dtype))
    b = (a.double() + 0.3 * torch.from_numpy(rng.standard_normal((16, 500)))).to(a.dtype)
    t = rng.integers(0, 500, 16)
    got = compare(a, b, t)
    ref = per_token(a.double().numpy(), b.double().numpy(), t)
    for name in FLOATS:
        np.testing.assert_allclose(getattr(got, name), ref[name], rtol=1e-9, err_msg=name)


def test_fused_path_keeps_torch_thread_count_and_names_bad_values():
    rng = np.random.default_rng(13)
    a = torch.from_numpy(rng.standard_normal((20, 50)).astype(np.float32))
    before = torch.get_num_threads()
    compare(a, a + 1.0)
    assert torch.get_num_threads() == before
    b = a.clone()
    b[17, 4] = float("nan")
    with pytest.raises(ValueError, match="candidate logits: NaN at chunk 0, token 17, "
                                         "vocabulary entry 4"):
        compare(a, b)


def test_fused_pass_near_its_floor_on_confident_rows():
    """Rows where one token holds almost all the mass and KL spans 1e-10..1e-4: the rows the
    pass keeps are within 1e-7 relative of the generic path (its error is ~1e-15 absolute;
    FLOOR = 1e-7), the others are handed back, and the end result equals the generic one."""
    rng = np.random.default_rng(14)
    a = (3 * rng.standard_normal((48, 4000))).astype(np.float32)
    a[:, 5] += np.linspace(0, 22, 48).astype(np.float32)
    b = (a + 0.01 * rng.standard_normal(a.shape)).astype(np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    values, redo = _values(torch, ta, tb)
    redo = redo.numpy()
    generic = compare(a, b)
    assert 0 < redo.sum() < len(a)  # both kinds of rows occur
    for name in ("kl", "kl_reverse", "js"):
        want = getattr(generic, name)
        kept = ~redo
        np.testing.assert_allclose(values[name].numpy()[kept], want[kept], rtol=1e-7, atol=0,
                                   err_msg=name)
        np.testing.assert_allclose(getattr(compare(ta, tb), name), want, rtol=1e-7, atol=0,
                                   err_msg=name)
    assert np.all(generic.kl[redo] < 4 * FLOOR)  # handed back only near or below the floor
