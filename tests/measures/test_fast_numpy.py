"""The NumPy fast paths of one vector (few outcomes, short, long): exact against the 700-digit
oracle, the same errors as the general path, and actually taken on ordinary inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, oracle

import kullback as kb
from kullback.measures import _fast_numpy

MEASURES = ["entropy", "cross_entropy", "kl_divergence", "js_divergence", "js_distance"]
SIZES = [2, 3, 12, 13, 256, 257, 600]  # each side of the few / short / long switches


def _call(name: str, p, q=None, **kw):
    fn = getattr(kb, name)
    return fn(p, **kw) if name == "entropy" else fn(p, q, **kw)


def _pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + n)
    return rng.random(n) + 0.01, rng.random(n) + 0.01


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", MEASURES)
def test_vector_paths_equal_the_oracle(name, n):
    p, q = _pair(n)
    want = oracle(name, p, None if name == "entropy" else q)
    got = _call(name, p, q)
    assert type(got) is np.float64
    # JS is a difference of entropies ~70 times its size: a few eps of H(M) is 5e-14 of it
    assert_close(float(got), want, rtol=5e-14 if name.startswith("js") else 2e-14)


@pytest.mark.parametrize("n", [3, 100, 1000])
@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence", "js_divergence"])
def test_the_lean_kernel_serves_ordinary_vectors(name, n):
    p, q = _pair(n)
    got = _fast_numpy._vector(name, p, None if name == "entropy" else q)
    assert got is not None
    assert_close(float(got), oracle(name, p, None if name == "entropy" else q), rtol=2e-14)


@pytest.mark.parametrize("n", [3, 100, 1000, 8193])  # float32 widened up to 8192, not above
@pytest.mark.parametrize("name", MEASURES)
def test_float32_and_integer_vectors(name, n):
    p, q = _pair(n)
    p32, q32 = p.astype(np.float32), q.astype(np.float32)
    got = _call(name, p32, q32)
    assert got.dtype == np.float32  # widened: float64 error; above: float32's, within 1e-4
    assert_close(float(got), oracle(name, p32, None if name == "entropy" else q32),
                 rtol=1e-6 if n <= 8192 else 1e-5)
    ci, cq = (p * 100).astype(np.int64) + 1, (q * 100).astype(np.int64) + 1
    got = _call(name, ci, cq)
    assert type(got) is np.float64
    assert_close(float(got), oracle(name, ci, None if name == "entropy" else cq), rtol=1e-13)


@pytest.mark.parametrize("n", [4, 100, 1000])
def test_zeros(n):
    p, q = _pair(n)
    p[1] = 0.0
    q[2] = 0.0
    for name in MEASURES:
        got = float(_call(name, p, q))
        assert_close(got, oracle(name, p, None if name == "entropy" else q), rtol=2e-14)
    q[3] = 0.0
    p[3] = 0.5
    assert kb.kl_divergence(p, q) == math.inf
    assert kb.cross_entropy(p, q) == math.inf


@pytest.mark.parametrize("n", [3, 100, 1000])
def test_nearly_identical_vectors_keep_relative_accuracy(n):
    p, _ = _pair(n)
    q = p * (1.0 + np.random.default_rng(1).uniform(-1e-9, 1e-9, n))
    for name in ("kl_divergence", "js_divergence", "js_distance"):
        assert_close(float(_call(name, p, q)), oracle(name, p, q), rtol=1e-10)


@pytest.mark.parametrize("n", [5, 100, 1000])
def test_js_of_counts_spanning_every_magnitude(n):
    """JS's kernel takes each entropy from the unnormalised vector (no entry is scaled, so
    none underflows to 0): counts from 1e-300 to 1e12 are served and exact."""
    rng = np.random.default_rng(n)
    p, q = 10.0 ** rng.uniform(-300, 12, n), 10.0 ** rng.uniform(-300, 12, n)
    for name in ("js_divergence", "js_distance"):
        got = _fast_numpy._vector("js_divergence", p, q)
        assert got is not None
        assert_close(float(_call(name, p, q)), oracle(name, p, q), rtol=1e-12)


@pytest.mark.parametrize("p,q", [([1e308, 5e307, 1.0], [1.0, 1e308, 5e307]),
                                 ([1e-320, 3e-320, 1e-321], [2e-320, 1e-320, 1e-320]),
                                 ([1.0, 1e-17, 0.0], [0.5, 0.25, 0.25])])
def test_extreme_magnitudes(p, q):
    for name in MEASURES:
        got = float(_call(name, np.array(p), np.array(q)))
        assert_close(got, oracle(name, p, None if name == "entropy" else q), rtol=1e-10)


@pytest.mark.parametrize("n", [3, 100, 1000])
@pytest.mark.parametrize("bad,what", [(-0.1, "negative"), (math.nan, "NaN"),
                                      (math.inf, "infinite")])
@pytest.mark.parametrize("name", MEASURES)
def test_invalid_values_raise_the_general_paths_error(name, n, bad, what):
    p, q = _pair(n)
    for arg, arrays in (("p", (p.copy(), q)), ("q", (p, q.copy()))):
        if name == "entropy" and arg == "q":
            continue
        arrays[0 if arg == "p" else 1][n // 2] = bad
        with pytest.raises(ValueError, match=rf"{arg}.*{what}.*{n // 2}"):
            _call(name, *arrays)


@pytest.mark.parametrize("n", [3, 100, 1000])
@pytest.mark.parametrize("name", ["cross_entropy", "kl_divergence", "js_divergence"])
def test_a_negative_q_where_p_is_zero_is_refused(name, n):
    # q's log is skipped where p = 0, so no NaN reveals the sign there
    p, q = _pair(n)
    p[n // 2], q[n // 2] = 0.0, -1e-300
    with pytest.raises(ValueError, match=rf"q.*negative.*{n // 2}"):
        _call(name, p, q)


@pytest.mark.parametrize("n", [5, 100, 1000])
def test_a_negative_entry_that_scales_to_minus_zero_is_refused(n):
    # q / S_q rounds -1.1e-58 / 4.5e265 to -0.0, which JS's scaled terms took for a zero
    p, q = np.zeros(n), np.full(n, 1.1304727926775827e265)
    p[0], q[0] = 1.0, -1.1170555408404150e-58
    for name in MEASURES[1:]:
        with pytest.raises(ValueError, match=r"q.*negative.*position 0"):
            _call(name, p, q)


@pytest.mark.parametrize("name", MEASURES)
def test_all_zero_vector_raises(name):
    with pytest.raises(ValueError, match="p"):
        _call(name, np.zeros(3), np.ones(3))


def test_units_and_lists():
    assert_close(float(kb.entropy([1, 1, 1, 1], base=2)), 2.0)
    assert_close(float(kb.js_distance([1.0, 0.0], [0.0, 1.0], base=2)), 1.0)
    assert_close(float(kb.kl_divergence([0.5, 0.5], [0.25, 0.75], base=10)),
                 oracle("kl_divergence", [0.5, 0.5], [0.25, 0.75], base=10), rtol=2e-14)
