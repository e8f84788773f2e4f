"""The printed report of a comparison: llama.cpp's three sections, from a summary dict.

``llama-perplexity --kl-divergence`` prints perplexity statistics, KL-divergence statistics
(mean, maximum, percentiles, median, minimum) and token-probability statistics (Δp in percent,
RMS Δp, "same top p"). This report keeps that layout so numbers can be read side by side, adds
the reverse KL and JS, and says so when KL values are lower bounds (top-k reference store).
"""

from __future__ import annotations

from typing import Any

__all__ = ["report"]

_KL_ROWS = (("Maximum", None), ("99.9%", "0.999"), ("99.0%", "0.99"), ("95.0%", "0.95"),
            ("90.0%", "0.9"), ("Median", "median"), ("10.0%", "0.1"), (" 5.0%", "0.05"),
            (" 1.0%", "0.01"), (" 0.1%", "0.001"), ("Minimum", None))
_DP_ROWS = (("99.9%", "0.999"), ("99.0%", "0.99"), ("95.0%", "0.95"), ("90.0%", "0.9"),
            ("75.0%", "0.75"), ("Median", "0.5"), ("25.0%", "0.25"), ("10.0%", "0.1"),
            (" 5.0%", "0.05"), (" 1.0%", "0.01"), (" 0.1%", "0.001"))


def _pm(value: float, se: float | None, fmt: str = "{:.6f}") -> str:
    text = fmt.format(value)
    return text if se is None else f"{text} ± {fmt.format(se)}"


def _perplexity(s: dict[str, Any]) -> list[str]:
    ratio_se = None if s["ln_ppl_ratio_stderr"] is None else s["ppl_ratio"] * s[
        "ln_ppl_ratio_stderr"]
    return [
        "====== Perplexity statistics ======",
        f"PPL(candidate)                  : {_pm(s['ppl_candidate'], s['ppl_candidate_stderr'])}",
        f"PPL(reference)                  : {_pm(s['ppl_reference'], s['ppl_reference_stderr'])}",
        f"Mean ln(PPL(cand)/PPL(ref))     : {_pm(s['ln_ppl_ratio'], s['ln_ppl_ratio_stderr'])}",
        f"PPL(cand)/PPL(ref)              : {_pm(s['ppl_ratio'], ratio_se)}",
        "",
    ]


def _kl(s: dict[str, Any]) -> list[str]:
    lower = s["kl_lower_bound"]
    title = "KL divergence statistics" + (" (LOWER BOUNDS: top-k reference)" if lower else "")
    ge = "≥ " if lower else ""
    q = dict(s["kl_quantiles"], median=s["kl_median"])
    lines = [f"====== {title} ======", f"unit: {s['unit']}"]
    lines.append(f"Mean    KLD: {ge}{_pm(s['kl_mean'], s['kl_mean_stderr'])}")
    for label, key in _KL_ROWS:
        value = q[key] if key else s["kl_max" if label == "Maximum" else "kl_min"]
        lines.append(f"{label:<7} KLD: {ge}{value:.6f}")
    lines.append(f"Mean reverse KLD: {ge}{_pm(s['kl_reverse_mean'], s['kl_reverse_mean_stderr'])}")
    lines.append(f"Mean JSD        : {ge}{_pm(s['js_mean'], s['js_mean_stderr'])}")
    lines.append("")
    return lines


def _percent(value: float, se: float | None = None) -> str:
    return _pm(100.0 * value, None if se is None else 100.0 * se, "{:.3f}") + " %"


def _probability(s: dict[str, Any]) -> list[str]:
    lines = ["====== Token probability statistics ======"]
    if "delta_p_mean" in s:
        q = s["delta_p_quantiles"]
        lines.append(f"Mean    Δp: {_percent(s['delta_p_mean'], s['delta_p_mean_stderr'])}")
        lines += [f"{label:<7} Δp: {_percent(q[key])}" for label, key in _DP_ROWS]
        lines.append(f"RMS Δp    : {_percent(s['delta_p_rms'], s['delta_p_rms_stderr'])}")
    lines.append(f"Same top p: {_percent(s['same_top'], s['same_top_stderr'])}")
    return lines


def report(s: dict[str, Any]) -> str:
    """The three-section text report of a :meth:`Comparison.summary` dict."""
    head = [f"Comparison over {s['tokens']} tokens", ""]
    ppl = _perplexity(s) if "ppl_ratio" in s else []
    return "\n".join(head + ppl + _kl(s) + _probability(s))
