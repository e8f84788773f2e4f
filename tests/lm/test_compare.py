"""kullback.lm.compare: every summary value against an independent float64 reference, the
accuracy contract on nearly identical rows, input libraries and dtypes, ties, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, oracle
from lm.reference import assert_same_result, per_token, random_logits, summary

from kullback.lm import compare


def _assert_summary(got: dict, want: dict, rtol: float) -> None:
    for key, value in want.items():
        if isinstance(value, dict):
            assert got[key].keys() == value.keys(), key
            for q in value:
                assert_close(got[key][q], float(value[q]), rtol=rtol, atol=1e-15)
        else:
            assert_close(got[key], float(value), rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("masked", [0.0, 0.3])
def test_every_summary_value_matches_the_reference(masked):
    rng = np.random.default_rng(1)
    a = random_logits(rng, 300, 40, masked=masked)
    b = a + rng.standard_normal(a.shape)  # -inf stays where a has it: shared masks
    t = np.array([rng.choice(np.flatnonzero(np.isfinite(r))) for r in a])
    c = compare(a, b, t)
    ref = per_token(a, b, t)
    for name in ("kl", "kl_reverse", "js", "nll_reference", "nll_candidate", "p_reference",
                 "p_candidate"):
        np.testing.assert_allclose(getattr(c, name), ref[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(c.same_top, ref["same_top"])
    got = c.summary()
    _assert_summary(got, summary(ref), rtol=1e-11)
    assert got["unit"] == "nats" and got["kl_lower_bound"] is False


def test_summary_has_exactly_the_documented_keys():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((10, 5))
    keys = set(compare(a, a[::-1]).summary())
    base = {"tokens", "unit", "kl_lower_bound", "kl_mean", "kl_mean_stderr", "kl_median",
            "kl_min", "kl_max", "kl_quantiles", "kl_reverse_mean", "kl_reverse_mean_stderr",
            "js_mean", "js_mean_stderr", "same_top", "same_top_stderr"}
    assert keys == base
    with_targets = set(compare(a, a[::-1], np.zeros(10, dtype=int)).summary())
    assert with_targets - base == {
        "ppl_reference", "ppl_reference_stderr", "ppl_candidate", "ppl_candidate_stderr",
        "ln_ppl_ratio", "ln_ppl_ratio_stderr", "ppl_ratio", "delta_p_mean",
        "delta_p_mean_stderr", "delta_p_rms", "delta_p_rms_stderr", "delta_p_quantiles"}
    assert list(compare(a, a[::-1]).summary()["kl_quantiles"]) == [
        "0.001", "0.01", "0.05", "0.1", "0.9", "0.95", "0.99", "0.999"]


def test_units():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((20, 8)), rng.standard_normal((20, 8))
    nats = compare(a, b, np.zeros(20, dtype=int))
    bits = compare(a, b, np.zeros(20, dtype=int), base="bits")
    np.testing.assert_allclose(bits.kl, nats.kl / math.log(2), rtol=1e-15)
    np.testing.assert_allclose(bits.nll_candidate, nats.nll_candidate / math.log(2), rtol=1e-15)
    s_bits, s_nats = bits.summary(), nats.summary()
    assert s_bits["unit"] == "bits"
    assert_close(s_bits["js_mean"], s_nats["js_mean"] / math.log(2))
    assert s_bits["ppl_ratio"] == s_nats["ppl_ratio"]  # perplexity has no unit


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
def test_nearly_identical_float32_rows_are_accurate_to_1e6(eps):
    """Per-token KL (and the reverse, JS) within 1e-6 relative of a 50-digit oracle on the
    same float32 inputs, for KL >= 1e-8; never negative."""
    rng = np.random.default_rng(3)
    a = random_logits(rng, 12, 200, dtype=np.float32)
    b = (a + np.float32(eps) * rng.standard_normal(a.shape).astype(np.float32)).astype(np.float32)
    c = compare(a, b)
    assert np.all(c.kl >= 0) and np.all(c.js >= 0) and np.all(c.kl_reverse >= 0)
    p = np.exp(per_token_logp(a))
    q = np.exp(per_token_logp(b))
    for r in range(0, 12, 3):
        for name, quantity, args in (("kl", "kl_divergence", (p[r], q[r])),
                                     ("kl_reverse", "kl_divergence", (q[r], p[r])),
                                     ("js", "js_divergence", (p[r], q[r]))):
            want = oracle(quantity, *args)
            assert want >= 1e-11
            assert abs(getattr(c, name)[r] - want) <= 1e-6 * want, (name, r)


def per_token_logp(x):
    from scipy.special import log_softmax

    return log_softmax(x.astype(np.float64), axis=-1)


def test_identical_rows_give_exactly_zero_and_masked_entries_are_fine():
    rng = np.random.default_rng(4)
    a = random_logits(rng, 50, 30, masked=0.5)
    c = compare(a, a.copy(), np.zeros(50, dtype=int))
    assert np.all(c.kl == 0) and np.all(c.kl_reverse == 0) and np.all(c.js == 0)
    assert np.all(c.same_top) and np.all(c.delta_p == 0)
    s = c.summary()
    assert s["kl_max"] == 0 and s["kl_mean_stderr"] == 0 and s["ppl_ratio"] == 1


def test_masked_support_mismatch_gives_infinite_kl_and_finite_js():
    a = np.array([[0.0, 0.0, -np.inf], [1.0, 2.0, 3.0]])
    b = np.array([[0.0, -np.inf, 0.0], [1.0, 2.0, 3.0]])
    c = compare(a, b)
    assert c.kl[0] == math.inf and c.kl_reverse[0] == math.inf
    assert_close(c.js[0], math.log(2) / 2)  # JS of [.5,.5,0] and [.5,0,.5]
    s = c.summary()
    assert s["kl_mean"] == math.inf and s["kl_mean_stderr"] is None and s["kl_max"] == math.inf
    assert s["kl_quantiles"]["0.999"] == math.inf and s["kl_min"] == 0


def test_ties_go_to_the_lowest_index():
    a = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [5.0, 5.0, 5.0]])
    b = np.array([[0.0, 1.0, 1.0], [0.0, 2.0, 2.0], [5.0, 5.0, 5.0]])
    c = compare(a, b)
    np.testing.assert_array_equal(c.same_top, [False, True, True])
    np.testing.assert_array_equal(c.columns["top_reference"], [0, 1, 0])
    np.testing.assert_array_equal(c.columns["top_candidate"], [1, 1, 0])


def test_bfloat16_and_float16_torch_inputs_are_computed_exactly():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = torch.from_numpy(rng.standard_normal((64, 50))).to(torch.bfloat16)
    b = (a.float() + 0.1 * torch.from_numpy(rng.standard_normal((64, 50))).float()).half()
    t = torch.from_numpy(rng.integers(0, 50, 64))
    c = compare(a, b, t)
    ref = per_token(a.double().numpy(), b.double().numpy(), t.numpy())
    np.testing.assert_allclose(c.kl, ref["kl"], rtol=1e-11)
    np.testing.assert_allclose(c.nll_candidate, ref["nll_candidate"], rtol=1e-13)
    # (B, T, V) input and (B, T) targets are the same tokens
    c3 = compare(a.reshape(4, 16, 50), b.reshape(4, 16, 50), t.reshape(4, 16))
    np.testing.assert_allclose(c3.kl, c.kl, rtol=1e-13)


def test_jax_input():
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((16, 9)).astype(np.float32)
    b = rng.standard_normal((16, 9)).astype(np.float32)
    c = compare(jnp.asarray(a, dtype=jnp.bfloat16), jnp.asarray(b))
    ref = per_token(np.asarray(jnp.asarray(a, dtype=jnp.bfloat16), dtype=np.float64), b)
    np.testing.assert_allclose(c.kl, ref["kl"], rtol=1e-11)


def test_stream_of_chunks_equals_one_shot():
    rng = np.random.default_rng(7)
    a = random_logits(rng, 103, 20, masked=0.1)
    b = a + 0.3 * rng.standard_normal(a.shape)
    t = rng.integers(1, 20, 103)
    t[np.isinf(a[np.arange(103), t])] = 0
    whole = compare(a, b, t)
    ref_chunks = ((a[i:i + 7], t[i:i + 7]) for i in range(0, 103, 7))   # carries targets
    cand_chunks = (b[i:i + 10] for i in range(0, 103, 10))               # cut elsewhere
    assert_same_result(compare(ref_chunks, cand_chunks), whole)
    halves = compare(a[:50], b[:50], t[:50]).merge(compare(a[50:], b[50:], t[50:]))
    assert_same_result(halves, whole, positions=False)


def test_large_tiles_on_the_blocked_driver():
    """Tiles large enough for the core's blocked multi-core driver: same values as the
    reference, and as the same rows in smaller calls (the generic path)."""
    rng = np.random.default_rng(8)
    a = rng.standard_normal((40, 10_000))
    b = a + 0.01 * rng.standard_normal(a.shape)
    t = rng.integers(0, 10_000, 40)
    c = compare(a, b, t)
    ref = per_token(a, b, t)
    for name in ("kl", "kl_reverse", "js", "nll_candidate"):
        np.testing.assert_allclose(getattr(c, name), ref[name], rtol=1e-10, err_msg=name)
    assert_same_result(compare([a[i:i + 3] for i in range(0, 40, 3)], b, t), c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_working_precision(dtype):
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
    c = compare(a, b, dtype=dtype)
    np.testing.assert_allclose(c.kl, per_token(a, b)["kl"], rtol=1e-5 if dtype == "float32" else 1e-12)


# ------------------------------------------------------------------ errors

def _error(match, *args, **kwargs):
    with pytest.raises((ValueError, TypeError), match=match):
        compare(*args, **kwargs).summary()


def test_bad_logits_are_named_by_chunk_token_and_entry():
    a = np.zeros((6, 4))
    b = np.zeros((6, 4))
    b[4, 2] = np.nan
    _error(r"candidate logits: NaN at chunk 1, token 4, vocabulary entry 2",
           [a[:3], a[3:]], [b[:3], b[3:]])
    _error(r"candidate logits: NaN at chunk 2, token 4, vocabulary entry 2",  # its own chunks
           a, [b[:2], b[2:4], b[4:]])
    a2 = a.copy()
    a2[1, 3] = np.inf
    _error(r"reference logits: \+inf at chunk 0, token 1, vocabulary entry 3", a2, a)
    a3 = a.copy()
    a3[5] = -np.inf
    _error(r"every entry is -inf at chunk 0, token 5", a3, a)


def test_shape_and_target_errors():
    a = np.zeros((6, 4))
    _error(r"vocabulary sizes differ at token 0", a, np.zeros((6, 5)))
    _error(r"candidate ends after 6 tokens but the reference goes on", [a, a], [a])
    _error(r"expected logits of shape \(N, V\) or \(B, T, V\)", np.zeros(4), np.zeros(4))
    _error(r"id 4 at chunk 0, token 2 is outside the vocabulary \[0, 4\)", a, a, [0, 1, 4, 0, 0, 0])
    _error(r"targets: chunk 0 has 2 targets for 6 tokens", a, a, [0, 1])
    _error(r"integer token ids", a, a, np.zeros(6))
    _error(r"the candidate targets differ from the targets ones at token 1",
           a, [(a, np.array([0, 2, 0, 0, 0, 0]))], np.zeros(6, dtype=int))
    _error(r"vocabulary size changes at token 3", [a[:3], np.zeros((3, 5))],
           [a[:3], np.zeros((3, 5))])
    _error(r"dtype must be float32 or float64", a, a, dtype="float16")
    _error(r"reference must be logits", "text", a)
    _error(r"no tokens", np.zeros((0, 4)), np.zeros((0, 4)))


def test_worst_tokens_and_merge_rules():
    a = np.log(np.array([[0.5, 0.5], [0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]))
    b = np.log(np.array([[0.5, 0.5], [0.1, 0.9], [0.5, 0.5], [0.8, 0.2]]))
    c = compare(a, b, [0, 1, 1, 0])
    rows = c.worst(3)
    # KL(0.9,0.1 || 0.1,0.9) = 0.8 ln 9 > KL(0.2,0.8 || 0.8,0.2) = 0.6 ln 4; then the first 0
    assert [r["position"] for r in rows] == [1, 3, 0]
    assert_close(rows[0]["kl"], 0.8 * math.log(9))
    assert_close(rows[1]["kl"], 0.6 * math.log(4))
    assert rows[0] == {"position": 1, "kl": rows[0]["kl"], "target": 1, "top_reference": 0,
                       "top_candidate": 1}
    with pytest.raises(ValueError, match="with targets and one without"):
        c.merge(compare(a, b))
    with pytest.raises(TypeError, match="can only merge a Comparison"):
        c.merge({"kl": 1})
    with pytest.raises(ValueError, match="needs targets"):
        compare(a, b).delta_p  # noqa: B018
