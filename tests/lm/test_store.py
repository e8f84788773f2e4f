"""Logit stores: exact round trips in every dtype, sharding, and the top-k lower bound."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lm.reference import assert_same_result, per_token, random_logits

from kullback.lm import compare, open_logits, save_logits

pytest.importorskip("safetensors")


def _read_back(store):
    chunks = list(open_logits(store.path))
    return chunks


def test_float32_round_trip_is_exact_with_targets_and_manifest(tmp_path):
    rng = np.random.default_rng(0)
    x = random_logits(rng, 30, 11, masked=0.2, dtype=np.float32)
    x[3, 4] = np.float32(1e-40)  # a subnormal: no clipping, no rounding
    t = rng.integers(0, 11, 30)
    store = save_logits(tmp_path / "ref", [x[:12], x[12:]], targets=t)
    chunks = _read_back(store)
    assert [c.tokens for c in chunks] == [12, 18]
    back = np.concatenate([c.logits for c in chunks])
    assert back.dtype == np.float32 and np.array_equal(back, x, equal_nan=False)
    assert np.array_equal(back.view(np.uint32), x.view(np.uint32))  # bit for bit (-inf too)
    np.testing.assert_array_equal(store.targets, t)
    m = json.loads((tmp_path / "ref" / "manifest.json").read_text())
    assert (m["kind"], m["tokens"], m["vocab"], m["top_k"], m["targets"]) == (
        "logits", 30, 11, None, True)
    assert [s["tokens"] for s in m["shards"]] == [12, 18]


def test_bfloat16_and_float16_round_trip_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    bf = torch.from_numpy(rng.standard_normal((9, 7))).to(torch.bfloat16)
    store = save_logits(tmp_path / "bf", bf)
    assert store.dtype == "bfloat16"
    (chunk,) = _read_back(store)
    assert chunk.logits.dtype == torch.bfloat16 and torch.equal(chunk.logits, bf)
    half = rng.standard_normal((9, 7)).astype(np.float16)
    (chunk,) = _read_back(save_logits(tmp_path / "f16", half))
    assert chunk.logits.dtype == np.float16 and np.array_equal(chunk.logits, half)


def test_comparing_from_a_store_equals_comparing_arrays(tmp_path):
    rng = np.random.default_rng(2)
    a = random_logits(rng, 40, 13)
    b = a + rng.standard_normal(a.shape)
    t = rng.integers(0, 13, 40)
    store = save_logits(tmp_path / "ref", [a[:25], a[25:]], targets=t)
    from_store = compare(open_logits(store.path), b)  # targets come from the store
    assert_same_result(from_store, compare(a, b, t))


def test_merged_shard_comparisons_equal_one_run(tmp_path):
    rng = np.random.default_rng(3)
    a = random_logits(rng, 50, 9)
    b = a + 0.5 * rng.standard_normal(a.shape)
    t = rng.integers(0, 9, 50)
    ref = save_logits(tmp_path / "ref", [a[:20], a[20:35], a[35:]], targets=t)
    cand = save_logits(tmp_path / "cand", [b[:20], b[20:35], b[35:]])
    whole = compare(ref, cand)
    parts = [compare(ref.shard(i), cand.shard(i)) for i in range(len(ref))]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    np.testing.assert_array_equal(merged.positions, np.arange(50))
    assert_same_result(merged, whole)


def test_top_k_store_gives_lower_bounds_labelled_everywhere(tmp_path):
    rng = np.random.default_rng(4)
    a = random_logits(rng, 200, 30, masked=0.1)
    b = a + rng.standard_normal(a.shape)
    t = np.array([rng.choice(np.flatnonzero(np.isfinite(r))) for r in a])
    exact = per_token(a, b, t)
    for k in (1, 3, 10):
        store = save_logits(tmp_path / f"top{k}", a, targets=t, top_k=k)
        c = compare(open_logits(store.path), b)
        assert c.bound == "lower" and c.summary()["kl_lower_bound"] is True
        assert "LOWER BOUNDS" in repr(c)
        for name in ("kl", "kl_reverse", "js"):
            got = getattr(c, name)
            assert np.all(got >= 0) and np.all(got <= exact[name] * (1 + 1e-12)), (k, name)
            assert np.mean(got) < np.mean(exact[name])
        # argmax agreement and target probabilities stay exact
        np.testing.assert_array_equal(c.same_top, exact["same_top"])
        np.testing.assert_allclose(c.nll_reference, exact["nll_reference"], rtol=1e-12)
    # k = V: no tail, the bound is the exact value
    full = compare(open_logits(save_logits(tmp_path / "all", a, top_k=30).path), b)
    np.testing.assert_allclose(full.kl, exact["kl"], rtol=1e-10)


def test_store_errors(tmp_path):
    x = np.zeros((3, 4), dtype=np.float32)
    save_logits(tmp_path / "s", x)
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        save_logits(tmp_path / "s", x)
    with pytest.raises(FileNotFoundError, match="not a logit store"):
        open_logits(tmp_path)
    with pytest.raises(ValueError, match="targets: 2 given, but the logits go on past token 2"):
        save_logits(tmp_path / "t", x, targets=[0, 1])
    assert not (tmp_path / "t").exists()  # a failed save leaves nothing behind
    with pytest.raises(ValueError, match="targets: 4 given for 3 tokens"):
        save_logits(tmp_path / "t", x, targets=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        save_logits(tmp_path / "u", x, targets=[0, 1, 9])
    with pytest.raises(ValueError, match="chunk 1 has a vocabulary of 5"):
        save_logits(tmp_path / "v", [x, np.zeros((2, 5))])
    with pytest.raises(ValueError, match="top_k must be a positive"):
        save_logits(tmp_path / "w", x, top_k=0)
    top = save_logits(tmp_path / "k", x, top_k=2)  # no targets stored
    with pytest.raises(ValueError, match="holds no target log-probabilities"):
        compare(top, x, [0, 1, 2])
    with pytest.raises(TypeError, match="only the reference may be a top-k store"):
        compare(x, top)
