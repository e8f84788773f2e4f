r"""Figures that explain a KL divergence: where it comes from, outcome by outcome.

:func:`explain` computes what it draws with the core (:func:`kullback.decompose` and
:func:`kullback.measures.contributions`) and hands it to :func:`explain_figure`, which composes
three panels, one helper each:

1. :func:`_draw_pq`: P and Q side by side for every outcome;
2. :func:`_draw_contributions`: each outcome's signed contribution
   :math:`p(x) \log(p(x)/q(x))` to KL(P‖Q), in the unit asked for (negative where Q is the more
   likely; an outcome Q rules out is marked ∞);
3. :func:`_draw_identity`: one stacked bar, H(P) + KL(P‖Q) = H(P,Q).

With many outcomes the figure aggregates: the ``top`` outcomes with the largest
``|p log(p/q)|`` (largest first) and one bar "the other N" with their sums, so a million
outcomes draw as quickly as ten. When that summed bar would dwarf the others, the axes keep
the scale of the outcomes shown one by one and the summed bar runs off the top, its value
written at the edge.

matplotlib is imported only when a figure is drawn, and never through ``pyplot``: the figure
is rendered by the Agg backend without touching the global backend, so a notebook or GUI
session that calls this keeps its own. :func:`save` writes atomically.

Examples
--------
>>> from kullback import plotting  # the index re-exports this module's functions
>>> from kullback.plotting._explain import explain
>>> fig = explain([0.5, 0.3, 0.2], [0.4, 0.4, 0.2], base="bits", labels=["a", "b", "c"])
>>> [ax.get_ylabel() for ax in fig.axes]
['probability', 'p log(p/q)  [bits]', 'information  [bits]']
>>> [round(float(b.get_height()), 6) for b in fig.axes[1].patches]  # 0.5 log2(5/4), ...
[0.160964, -0.124511, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kullback.plotting._aggregate import Aggregated, aggregate
from kullback.plotting._atomic import write_atomically
from kullback.units import Unit, resolve_unit

__all__ = ["explain", "explain_figure", "save"]

_P_COLOR = "#1f6fb4"     # blue
_Q_COLOR = "#f28e2b"     # orange
_POS_COLOR = "#c0392b"   # red: P puts more mass than Q (adds to KL)
_NEG_COLOR = "#2e8b57"   # green: Q puts more mass than P (takes from KL)
_H_COLOR = "#7f9fbf"
_TOP = 30                # outcomes drawn one by one; the rest share one bar
_OFF_SCALE = 1.5         # a summed bar this many times the tallest runs off the axes


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


def explain(p: Any, q: Any, *, base: Any = None, labels: Sequence[str] | None = None,
            p_name: str = "P", q_name: str = "Q", top: int = _TOP) -> Any:
    """The three-panel explanation of KL(P‖Q), computed from ``p`` and ``q``.

    Parameters
    ----------
    p, q : array_like
        Probabilities or counts over the same outcomes (each normalised by its total).
    base : None, float, str or Unit, optional
        The logarithm base or unit name (nats by default).
    labels : sequence of str, optional
        The outcome names (1, 2, 3, ... by default).
    p_name, q_name : str, optional
        Legend entries.
    top : int, optional
        With more than ``top + 1`` outcomes, draw the ``top`` largest contributions and sum
        the rest in one bar.

    Returns
    -------
    matplotlib.figure.Figure
        Attached to an Agg canvas; save it with :func:`save`.

    Examples
    --------
    >>> fig = explain([0.5, 0.5], [0.25, 0.75], base=2)
    >>> fig.axes[1].get_title(loc="left")
    "Each outcome's contribution to KL(P‖Q) = 0.2075 bits"
    """
    import kullback as kb
    from kullback.measures import contributions

    unit = resolve_unit(base)
    d = kb.decompose(p, q, base=unit)
    terms = contributions(p, q, base=unit)["kl"]
    P, Q = (np.asarray(x, dtype=np.float64) for x in (p, q))
    names = labels if labels is not None else [str(i + 1) for i in range(P.size)]
    return explain_figure(names, P / P.sum(), Q / Q.sum(), terms, float(d.entropy),
                          float(d.kl_divergence), float(d.cross_entropy), unit,
                          p_name=p_name, q_name=q_name, top=top)


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
    top: int = _TOP,
) -> Any:
    """Compose the three panels from numbers already computed (see :func:`explain`).

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
    top : int, optional
        Outcomes drawn one by one when there are many; the rest share one bar.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, attached to an Agg canvas; save it with :func:`save`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    view = aggregate(labels, {"p": p, "q": q, "kl": kl_terms}, "kl", top)
    n = len(view.labels)
    width = min(18.0, max(11.0, 5.0 + 0.55 * n))
    fig = Figure(figsize=(width, 7.2), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[width - 3.6, 3.6])
    ax_pq = fig.add_subplot(grid[0, 0])
    ax_kl = fig.add_subplot(grid[1, 0], sharex=ax_pq)
    ax_id = fig.add_subplot(grid[:, 1])
    _draw_pq(ax_pq, view, p_name, q_name)
    _draw_contributions(ax_kl, view, kl, unit)
    _draw_identity(ax_id, entropy, kl, cross_entropy, unit)
    for ax in (ax_pq, ax_kl, ax_id):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    fig.suptitle(
        f"Where KL(P‖Q) = {_kl_text(kl, unit)} comes from ({unit.name}: {_log_words(unit)})",
        fontsize=13, fontweight="bold",
    )
    return fig


def _kl_text(kl: float, unit: Unit) -> str:
    return "∞" if math.isinf(kl) else f"{_num(kl, 4)} {unit.symbol}"


def _draw_pq(ax: Any, view: Aggregated, p_name: str, q_name: str) -> None:
    """Panel 1: P and Q side by side, outcome by outcome (the others summed)."""
    p, q = view.columns["p"], view.columns["q"]
    n = len(view.labels)
    x = np.arange(n)
    bw = 0.38
    bars_p = ax.bar(x - bw / 2, p, bw, color=_P_COLOR, label=p_name)
    bars_q = ax.bar(x + bw / 2, q, bw, color=_Q_COLOR, label=q_name)
    if n <= 12:
        digits = 3 if n <= 8 else 2
        for bars, vals in ((bars_p, p), (bars_q, q)):
            ax.bar_label(bars, labels=[f"{v:.{digits}f}" for v in vals], padding=2, fontsize=8)
    top = max(float(p.max()), float(q.max()))
    if view.others:
        shown = max(float(p[:-1].max()), float(q[:-1].max())) or top
        if top > _OFF_SCALE * shown:  # the summed mass would flatten every other bar
            top = shown
            _off_scale_note(ax, x[-1], f"p {_num(float(p[-1]))}\nq {_num(float(q[-1]))}")
    ax.set_ylabel("probability")
    ax.set_ylim(0, top * 1.4)  # room for the legend
    title = "P and Q, outcome by outcome"
    if view.others:
        title += f" (the {n - 1} largest contributions; the other {view.others:,} summed)"
    ax.set_title(title, loc="left", fontweight="bold")
    # The summed bar stands at the right: keep the legend clear of its note.
    ax.legend(loc="upper center" if view.others else "upper right", frameon=False, fontsize=9)
    ax.tick_params(axis="x", labelbottom=False)


def _off_scale_note(ax: Any, x: float, text: str) -> None:
    """Say the value of a bar that runs off the top of the axes (it is drawn to scale)."""
    ax.annotate(f"{text} ↑", xy=(x, 1.0), xycoords=("data", "axes fraction"), ha="center",
                va="top", fontsize=8, bbox={"facecolor": "white", "edgecolor": "0.6",
                                            "boxstyle": "round,pad=0.2"})


def _contribution_texts(view: Aggregated, few: bool) -> list[str]:
    texts = []
    for t, pi in zip(view.columns["kl"], view.columns["p"], strict=True):
        if not math.isfinite(t):
            texts.append("∞ (q = 0)")
        elif pi == 0:
            texts.append("0 (p = 0)")
        else:
            texts.append(_num(float(t)) if few else "")
    if view.others:
        texts[-1] = f"sum {_num(float(view.columns['kl'][-1]))}"
    return texts


def _draw_contributions(ax: Any, view: Aggregated, kl: float, unit: Unit) -> None:
    """Panel 2: each outcome's signed term p log(p/q); an infinite one hatched, marked ∞."""
    from matplotlib.patches import Patch

    terms = view.columns["kl"]
    n = len(view.labels)
    x = np.arange(n)
    finite = np.isfinite(terms)
    span = float(np.max(np.abs(terms[finite]))) if finite.any() else 1.0
    span = span or 1.0
    if view.others and finite[:-1].any():  # the scale of the outcomes shown one by one
        span = float(np.max(np.abs(terms[:-1][finite[:-1]]))) or span
    heights = np.where(finite, terms, span * 1.15)
    bars = ax.bar(x, heights, 0.6, color=[_POS_COLOR if t > 0 else _NEG_COLOR for t in terms])
    for i in np.flatnonzero(~finite):
        bars[i].set_hatch("///")
        bars[i].set_edgecolor("black")
        bars[i].set_facecolor("white")
    if view.others:
        bars[-1].set_alpha(0.55)
    few = n <= 12
    texts = _contribution_texts(view, few)
    scaled = heights
    if view.others and abs(heights[-1]) > _OFF_SCALE * span:  # would flatten the rest
        scaled = heights[:-1]
        _off_scale_note(ax, x[-1], texts[-1])
        texts[-1] = ""
    if few or not finite.all() or view.others:
        ax.bar_label(bars, labels=texts, padding=2, fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    low, high = float(min(0.0, scaled.min())), float(max(0.0, scaled.max()))
    pad = 0.18 * (high - low or 1.0)
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.set_ylabel(f"p log(p/q)  [{unit.symbol}]")
    ax.set_title(f"Each outcome's contribution to KL(P‖Q) = {_kl_text(kl, unit)}", loc="left",
                 fontweight="bold")
    key = [Patch(color=_POS_COLOR, label="p > q: adds to KL"),
           Patch(color=_NEG_COLOR, label="p < q: takes away")]
    if not finite.all():
        key.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                         label="q = 0 < p: infinite"))
    ax.legend(handles=key, loc="best", frameon=False, fontsize=8)
    _outcome_axis(ax, view.labels)


def _outcome_axis(ax: Any, labels: Sequence[str]) -> None:
    """Outcome names under the bars: at most ~40, rotated when long or many."""
    n = len(labels)
    longest = max((len(lab) for lab in labels), default=1)
    rotate = n > 8 or n * longest > 60
    step = max(1, math.ceil(n / 40))
    ticks = np.arange(n)[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels([_short(labels[i]) for i in ticks], rotation=45 if rotate else 0,
                       ha="right" if rotate else "center", fontsize=9 if n <= 20 else 8)
    ax.set_xlabel("outcome")


def _short(label: str, width: int = 30) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _draw_identity(ax: Any, entropy: float, kl: float, cross_entropy: float,
                   unit: Unit) -> None:
    """Panel 3: H(P) + KL(P‖Q) = H(P,Q) as one stacked bar (an arrow on for ever if ∞)."""
    u = unit.symbol
    infinite = math.isinf(kl)
    top = (entropy * 1.6 if entropy > 0 else 1.0) if infinite else cross_entropy
    ax.bar(0, entropy, 0.55, color=_H_COLOR, edgecolor="white")
    if infinite:
        ax.bar(0, top - entropy, 0.55, bottom=entropy, color="white", edgecolor="black",
               hatch="///")
        ax.annotate("", xy=(0, top * 1.12), xytext=(0, top),
                    arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5})
    else:
        ax.bar(0, kl, 0.55, bottom=entropy, color=_POS_COLOR, edgecolor="white")
    ax.text(0, entropy / 2, f"H(P)\n{_num(entropy)} {u}", ha="center", va="center",
            color="white", fontweight="bold", fontsize=10)
    kl_mid = (entropy + top) / 2
    ax.annotate(
        f"+ KL(P‖Q)\n= {_num(kl)} {u}" if not infinite else "+ KL(P‖Q) = ∞\n(q = 0 where p > 0)",
        xy=(0.28, kl_mid), xytext=(0.36, kl_mid), ha="left", va="center", fontsize=9,
        color=_POS_COLOR if not infinite else "black",
        arrowprops={"arrowstyle": "-", "color": "0.4"},
    )
    ce_text = "∞" if math.isinf(cross_entropy) else f"{_num(cross_entropy)} {u}"
    ax.text(0, top * (1.14 if infinite else 1.02), f"= H(P,Q)\n= {ce_text}", ha="center",
            va="bottom", fontsize=10, fontweight="bold")
    ax.set_xlim(-0.45, 1.25)
    ax.set_ylim(0, top * (1.32 if infinite else 1.22) if top > 0 else 1.0)
    ax.set_xticks([])
    ax.set_ylabel(f"information  [{u}]")
    ax.set_title("H(P) + KL(P‖Q) = H(P,Q)", loc="left", fontweight="bold")


def save(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure (format from the file's extension) atomically and return the path.

    The figure is written to a temporary file beside ``path`` and renamed over it, so a
    failed write leaves no partial file (see :mod:`kullback.plotting._atomic`).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or None
    return write_atomically(path, lambda f: fig.savefig(f, dpi=dpi, format=fmt))
