r"""Figures that explain a KL divergence: where it comes from, outcome by outcome.

:func:`explain_figure` draws three panels:

1. P and Q side by side for every outcome;
2. each outcome's signed contribution :math:`p(x) \log(p(x)/q(x))` to KL(P‖Q), in the unit
   asked for (negative where Q is the more likely; an outcome Q rules out is marked ∞);
3. one stacked bar, H(P) + KL(P‖Q) = H(P,Q).

matplotlib is imported only when a figure is drawn, and never through ``pyplot``: the figure
is rendered by the Agg backend without touching the global backend, so a notebook or GUI
session that calls this keeps its own.

Examples
--------
>>> import numpy as np
>>> from kullback import plotting  # the index re-exports this module's functions
>>> from kullback.units import resolve_unit
>>> p, q = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
>>> bits = resolve_unit("bits")
>>> terms = p * np.log2(p / q)
>>> h = float(-(p * np.log2(p)).sum())
>>> fig = plotting.explain_figure(["a", "b", "c"], p, q, terms, h, terms.sum(),
...                               h + terms.sum(), bits)
>>> [ax.get_ylabel() for ax in fig.axes]
['probability', 'p log(p/q)  [bits]', 'information  [bits]']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kullback.units import Unit

__all__ = ["explain_figure", "save"]

_P_COLOR = "#1f6fb4"     # blue
_Q_COLOR = "#f28e2b"     # orange
_POS_COLOR = "#c0392b"   # red: P puts more mass than Q (adds to KL)
_NEG_COLOR = "#2e8b57"   # green: Q puts more mass than P (takes from KL)
_H_COLOR = "#7f9fbf"


def _num(x: float, digits: int = 3) -> str:
    if math.isinf(x):
        return "∞"
    if x != 0 and abs(x) < 0.5 * 10.0**-digits:
        return f"{x:.1e}"
    return f"{x:.{digits}f}"


def _log_words(unit: Unit) -> str:
    if unit.name == "nats":
        return "natural logarithm"
    b = unit.base
    return f"log base {int(b) if float(b).is_integer() else b}"


def explain_figure(
    labels: Sequence[str],
    p: Any,
    q: Any,
    kl_terms: Any,
    entropy: float,
    kl: float,
    cross_entropy: float,
    unit: Unit,
    *,
    p_name: str = "P",
    q_name: str = "Q",
) -> Any:
    """Draw the three-panel explanation of KL(P‖Q).

    Parameters
    ----------
    labels : sequence of str
        The outcome names, one per entry of ``p`` and ``q``.
    p, q : array_like
        Probabilities (normalised) over the same outcomes.
    kl_terms : array_like
        ``p log(p/q)`` for each outcome in ``unit`` (``inf`` where ``p > 0 = q``).
    entropy, kl, cross_entropy : float
        H(P), KL(P‖Q) and H(P,Q) in ``unit``.
    unit : Unit
        The unit, for axis labels.
    p_name, q_name : str, optional
        Legend entries.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, attached to an Agg canvas; save it with :func:`save`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    terms = np.asarray(kl_terms, dtype=float)
    n = len(labels)
    u = unit.symbol
    x = np.arange(n)
    longest = max((len(str(lab)) for lab in labels), default=1)
    rotate = n > 8 or n * longest > 60
    few = n <= 12

    width = min(18.0, max(11.0, 5.0 + 0.55 * n))
    fig = Figure(figsize=(width, 7.2), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[width - 3.6, 3.6])
    ax_pq = fig.add_subplot(grid[0, 0])
    ax_kl = fig.add_subplot(grid[1, 0], sharex=ax_pq)
    ax_id = fig.add_subplot(grid[:, 1])

    # 1. P and Q side by side.
    bw = 0.38
    bars_p = ax_pq.bar(x - bw / 2, p, bw, color=_P_COLOR, label=p_name)
    bars_q = ax_pq.bar(x + bw / 2, q, bw, color=_Q_COLOR, label=q_name)
    if few:
        for bars, vals in ((bars_p, p), (bars_q, q)):
            digits = 3 if n <= 8 else 2
            ax_pq.bar_label(
                bars, labels=[f"{v:.{digits}f}" for v in vals], padding=2, fontsize=8
            )
    ax_pq.set_ylabel("probability")
    ax_pq.set_ylim(0, max(float(p.max()), float(q.max())) * 1.4)  # room for the legend
    ax_pq.set_title("P and Q, outcome by outcome", loc="left", fontweight="bold")
    ax_pq.legend(loc="upper right", frameon=False, fontsize=9)
    ax_pq.tick_params(axis="x", labelbottom=False)

    # 2. Signed contribution of each outcome to KL(P‖Q).
    finite = np.isfinite(terms)
    span = float(np.max(np.abs(terms[finite]))) if finite.any() else 1.0
    span = span or 1.0
    inf_height = span * 1.15
    heights = np.where(finite, terms, inf_height)
    colors = [_POS_COLOR if t > 0 else _NEG_COLOR for t in terms]
    bars = ax_kl.bar(x, heights, 0.6, color=colors)
    for i in np.flatnonzero(~finite):
        bars[i].set_hatch("///")
        bars[i].set_edgecolor("black")
        bars[i].set_facecolor("white")
    if few or not finite.all():
        texts = []
        for i, t in enumerate(terms):
            if not math.isfinite(t):
                texts.append("∞ (q = 0)")
            elif p[i] == 0:
                texts.append("0 (p = 0)")
            else:
                texts.append(_num(float(t)) if few else "")
        ax_kl.bar_label(bars, labels=texts, padding=2, fontsize=8)
    ax_kl.axhline(0, color="black", linewidth=0.8)
    low = float(min(0.0, heights.min()))
    high = float(max(0.0, heights.max()))
    pad = 0.18 * (high - low or 1.0)
    ax_kl.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax_kl.set_ylabel(f"p log(p/q)  [{u}]")
    kl_text = "∞" if math.isinf(kl) else f"{_num(kl, 4)} {u}"
    ax_kl.set_title(
        f"Each outcome's contribution to KL(P‖Q) = {kl_text}", loc="left", fontweight="bold"
    )
    key = [
        Patch(color=_POS_COLOR, label="p > q: adds to KL"),
        Patch(color=_NEG_COLOR, label="p < q: takes away"),
    ]
    if not finite.all():
        key.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                         label="q = 0 < p: infinite"))
    ax_kl.legend(handles=key, loc="best", frameon=False, fontsize=8)
    step = max(1, math.ceil(n / 40))  # at most ~40 outcome names on the axis
    ticks = x[::step]
    ax_kl.set_xticks(ticks)
    ax_kl.set_xticklabels(
        [str(labels[i]) for i in ticks],
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=9 if n <= 20 else 8,
    )
    ax_kl.set_xlabel("outcome")

    # 3. H(P) + KL(P‖Q) = H(P,Q), one stacked bar.
    infinite = math.isinf(kl)
    top = (entropy * 1.6 if entropy > 0 else 1.0) if infinite else cross_entropy
    ax_id.bar(0, entropy, 0.55, color=_H_COLOR, edgecolor="white")
    if infinite:
        ax_id.bar(0, top - entropy, 0.55, bottom=entropy, color="white", edgecolor="black",
                  hatch="///")
    else:
        ax_id.bar(0, kl, 0.55, bottom=entropy, color=_POS_COLOR, edgecolor="white")
    if infinite:  # the hatched segment goes on for ever
        ax_id.annotate("", xy=(0, top * 1.12), xytext=(0, top),
                       arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5})
    ax_id.text(0, entropy / 2, f"H(P)\n{_num(entropy)} {u}", ha="center", va="center",
               color="white", fontweight="bold", fontsize=10)
    kl_mid = (entropy + top) / 2
    ax_id.annotate(
        f"+ KL(P‖Q)\n= {_num(kl)} {u}" if not infinite else "+ KL(P‖Q) = ∞\n(q = 0 where p > 0)",
        xy=(0.28, kl_mid), xytext=(0.36, kl_mid), ha="left", va="center", fontsize=9,
        color=_POS_COLOR if not infinite else "black",
        arrowprops={"arrowstyle": "-", "color": "0.4"},
    )
    ce_text = "∞" if math.isinf(cross_entropy) else f"{_num(cross_entropy)} {u}"
    label_y = top * (1.14 if infinite else 1.02)
    ax_id.text(0, label_y, f"= H(P,Q)\n= {ce_text}", ha="center", va="bottom",
               fontsize=10, fontweight="bold")
    ax_id.set_xlim(-0.45, 1.25)
    ax_id.set_ylim(0, top * (1.32 if infinite else 1.22) if top > 0 else 1.0)
    ax_id.set_xticks([])
    ax_id.set_ylabel(f"information  [{u}]")
    ax_id.set_title("H(P) + KL(P‖Q) = H(P,Q)", loc="left", fontweight="bold")

    for ax in (ax_pq, ax_kl, ax_id):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    fig.suptitle(
        f"Where KL(P‖Q) = {kl_text} comes from ({unit.name}: {_log_words(unit)})",
        fontsize=13, fontweight="bold",
    )
    return fig


def save(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure (format from the file's extension) and return the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
