"""An independent NumPy float64 reference for the lm tests: the textbook formulas, written out
without kullback (SciPy's log_softmax; sums of p log(p/q))."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


def per_token(a, b, targets=None) -> dict[str, np.ndarray]:
    """KL both ways, JS, argmax agreement and target NLLs from float64 logits (-inf allowed)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    lp, lq = log_softmax(a, axis=-1), log_softmax(b, axis=-1)
    P, Q = np.exp(lp), np.exp(lq)

    def kl(P, Q, lp, lq):
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = np.where(P > 0, P * (lp - lq), 0.0)
        return np.sum(terms, axis=-1)

    M = 0.5 * (P + Q)
    with np.errstate(divide="ignore"):
        lm = np.log(M)
    out = {
        "kl": kl(P, Q, lp, lq),
        "kl_reverse": kl(Q, P, lq, lp),
        "js": 0.5 * kl(P, M, lp, lm) + 0.5 * kl(Q, M, lq, lm),
        "same_top": np.array([int(np.flatnonzero(r == r.max())[0]) for r in a])
        == np.array([int(np.flatnonzero(r == r.max())[0]) for r in b]),
    }
    if targets is not None:
        rows = np.arange(a.shape[0])
        t = np.asarray(targets)
        out["nll_reference"] = -lp[rows, t]
        out["nll_candidate"] = -lq[rows, t]
        out["p_reference"] = P[rows, t]
        out["p_candidate"] = Q[rows, t]
    return out


def summary(ref: dict[str, np.ndarray]) -> dict:
    """The summary statistics of per-token reference values, from their definitions."""
    n = ref["kl"].size

    def se(x):
        return np.std(x, ddof=1) / np.sqrt(n)

    qs = ["0.001", "0.01", "0.05", "0.1", "0.9", "0.95", "0.99", "0.999"]
    out = {
        "tokens": n,
        "kl_mean": ref["kl"].mean(), "kl_mean_stderr": se(ref["kl"]),
        "kl_median": np.median(ref["kl"]), "kl_min": ref["kl"].min(), "kl_max": ref["kl"].max(),
        "kl_quantiles": {q: np.quantile(ref["kl"], float(q)) for q in qs},
        "kl_reverse_mean": ref["kl_reverse"].mean(),
        "kl_reverse_mean_stderr": se(ref["kl_reverse"]),
        "js_mean": ref["js"].mean(), "js_mean_stderr": se(ref["js"]),
        "same_top": ref["same_top"].mean(), "same_top_stderr": se(ref["same_top"].astype(float)),
    }
    if "nll_reference" in ref:
        dp = ref["p_candidate"] - ref["p_reference"]
        for side in ("reference", "candidate"):
            ppl = np.exp(ref[f"nll_{side}"].mean())
            out[f"ppl_{side}"] = ppl
            out[f"ppl_{side}_stderr"] = ppl * se(ref[f"nll_{side}"])
        d = ref["nll_candidate"] - ref["nll_reference"]
        out["ln_ppl_ratio"], out["ln_ppl_ratio_stderr"] = d.mean(), se(d)
        out["ppl_ratio"] = np.exp(d.mean())
        out["delta_p_mean"], out["delta_p_mean_stderr"] = dp.mean(), se(dp)
        rms = np.sqrt(np.mean(dp**2))
        out["delta_p_rms"], out["delta_p_rms_stderr"] = rms, se(dp**2) / (2 * rms)
        out["delta_p_quantiles"] = {
            q: np.quantile(dp, float(q))
            for q in ["0.001", "0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95",
                      "0.99", "0.999"]
        }
    return out


def random_logits(rng, n, v, *, masked=0.0, scale=3.0, dtype=np.float64):
    """Random logits with a fraction ``masked`` of -inf entries (never a whole row)."""
    x = (scale * rng.standard_normal((n, v))).astype(dtype)
    if masked:
        mask = rng.random((n, v)) < masked
        mask[:, 0] = False
        x[mask] = -np.inf
    return x


def assert_same_result(got, want, rtol: float = 1e-13, positions: bool = True) -> None:
    """Two comparisons of the same tokens (chunked, sharded or scheduled differently): the same
    ids exactly, the same values to rounding (the core's blocked sums depend on tiling).
    ``positions=False`` for results merged from separate runs (each counts from 0)."""
    assert got.columns.keys() == want.columns.keys()
    for k, v in want.columns.items():
        if k == "position" and not positions:
            continue
        if v.dtype.kind in "iub":
            np.testing.assert_array_equal(got.columns[k], v, err_msg=k)
        else:
            np.testing.assert_allclose(got.columns[k], v, rtol=rtol, atol=0, err_msg=k)
    _close_dicts(got.summary(), want.summary(), rtol)


def _close_dicts(a: dict, b: dict, rtol: float) -> None:
    assert a.keys() == b.keys()
    for k in b:
        if isinstance(b[k], dict):
            _close_dicts(a[k], b[k], rtol)
        elif isinstance(b[k], float):
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=1e-300, err_msg=k)
        else:
            assert a[k] == b[k], k
