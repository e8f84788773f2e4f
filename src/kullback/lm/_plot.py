"""The figure of a comparison: per-token KL (log scale), Δp, and top-token agreement.

Drawn on a :class:`matplotlib.figure.Figure` (no pyplot global state) and saved atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["figure", "save_plot"]


def _kl_panel(ax: Any, c: Any) -> None:
    kl = c.kl[np.isfinite(c.kl)]
    positive = kl[kl > 0]
    label = "KL(ref‖cand)" + (" lower bound" if c.bound == "lower" else "")
    if positive.size:
        lo, hi = np.log10(positive.min()), np.log10(positive.max())
        bins = np.logspace(lo, hi + 1e-9, 50) if hi > lo else 10
        ax.hist(positive, bins=bins, color="#4C72B0")
        ax.set_xscale("log")
    ax.axvline(float(np.mean(c.kl)), color="k", ls="--", lw=1, label="mean")
    zeros = int(kl.size - positive.size)
    ax.set_title(f"{label} per token" + (f" ({zeros} exactly 0)" if zeros else ""))
    ax.set_xlabel(f"KL ({c.unit}, log scale)")
    ax.set_ylabel("tokens")
    ax.legend(frameon=False)


def _delta_p_panel(ax: Any, c: Any) -> None:
    if not c.has_targets:
        ax.text(0.5, 0.5, "no targets: no Δp", ha="center", va="center")
        ax.set_axis_off()
        return
    ax.hist(100.0 * c.delta_p, bins=60, color="#DD8452")
    ax.axvline(0.0, color="k", lw=1)
    ax.set_yscale("log")
    ax.set_title("Δp = p_cand(target) − p_ref(target)")
    ax.set_xlabel("Δp (percentage points)")
    ax.set_ylabel("tokens")


def _agreement_panel(ax: Any, c: Any) -> None:
    same = c.same_top
    order = np.argsort(c.kl, kind="stable")
    kl_sorted = c.kl[order]
    frac = np.cumsum(same[order]) / np.arange(1, same.size + 1)
    ax.plot(np.arange(1, same.size + 1) / same.size, frac, color="#55A868")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"top token agrees on {100 * same.mean():.2f}% of tokens")
    ax.set_xlabel("fraction of tokens, by increasing KL")
    ax.set_ylabel("agreement among them")
    if kl_sorted.size:
        ax.text(0.02, 0.05, f"max KL {kl_sorted[-1]:.3g} {c.unit}", transform=ax.transAxes)


def figure(c: Any) -> Any:
    """A three-panel :class:`matplotlib.figure.Figure` of a :class:`Comparison`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    _kl_panel(axes[0], c)
    _delta_p_panel(axes[1], c)
    _agreement_panel(axes[2], c)
    fig.suptitle(f"Candidate vs reference over {len(c)} tokens")
    return fig


def save_plot(c: Any, path: str | Path) -> Path:
    """Save the figure of ``c`` (format from the extension), atomically."""
    from kullback.plotting._explain import save

    return save(figure(c), path)
