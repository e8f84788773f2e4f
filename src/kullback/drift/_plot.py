"""The drift figure: one small panel per column, reference against current, bin by bin.

Each panel shows the reference's and the current table's share of every bin as paired bars;
the bins that contribute most to the column's PSI are outlined in red and their PSI term is
written above them. Columns are in the report's order (most drifted first). Columns with more
than ``max_bins`` categories show the ``max_bins`` largest PSI terms.

Drawn on the Agg canvas without ``pyplot`` (no global backend or figure state is touched) and
written atomically: to a temporary file beside the target, then renamed over it.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["drift_figure", "save_figure"]

_REF_COLOR = "#1f6fb4"
_CUR_COLOR = "#f28e2b"
_HIGHLIGHT = "#c0392b"
_PANEL_COLUMNS = 3


def _shown(column: Any, max_bins: int) -> np.ndarray:
    """Indices of the bins to draw: all of them, or the largest PSI terms in label order."""
    n = len(column.labels)
    if n <= max_bins:
        return np.arange(n)
    return np.sort(np.argsort(-column.contributions["psi"], kind="stable")[:max_bins])


def _short(label: str, width: int = 14) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _tick_labels(column: Any) -> list[str]:
    """Short labels: ``≤ e`` / ``> e`` for numeric bins, the category otherwise."""
    if column.edges is None:
        return [_short(label) for label in column.labels]
    edges = column.edges
    ticks = [f"≤{e:.3g}" for e in edges] + ([f">{edges[-1]:.3g}"] if edges else ["all"])
    return ticks + column.labels[len(ticks):]  # the "(missing)" bin, if any


def _psi_text(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.3g}"


def _panel(ax: Any, column: Any, unit: str, max_bins: int) -> None:
    idx = _shown(column, max_bins)
    p = column.reference[idx] / column.reference.sum()
    q = column.current[idx] / column.current.sum()
    x = np.arange(len(idx))
    ref_bars = ax.bar(x - 0.2, p, width=0.4, color=_REF_COLOR, label="reference")
    cur_bars = ax.bar(x + 0.2, q, width=0.4, color=_CUR_COLOR, label="current")
    top = {label for label, _ in column.top()}
    for i, j in enumerate(idx):
        if column.labels[j] in top:
            for bar in (ref_bars[i], cur_bars[i]):
                bar.set_edgecolor(_HIGHLIGHT)
                bar.set_linewidth(2.0)
            ax.annotate(_psi_text(column.contributions["psi"][j]), (x[i], max(p[i], q[i])),
                        ha="center", va="bottom", fontsize=7, color=_HIGHLIGHT)
    ticks = _tick_labels(column)
    ax.set_xticks(x, [ticks[j] for j in idx], rotation=60, ha="right", fontsize=7)
    more = len(column.labels) - len(idx)
    ax.set_title(f"{column.name} ({column.kind}{f', +{more} bins' if more else ''})\n"
                 f"PSI {_psi_text(column.psi)}  JS {column.js:.3g} {unit}", fontsize=9)
    ax.set_ylabel("share of rows", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


def drift_figure(report: Any, *, max_bins: int = 25) -> Any:
    """A matplotlib ``Figure`` with one panel per column of ``report``."""
    from matplotlib.figure import Figure

    n = len(report.columns)
    ncols = min(_PANEL_COLUMNS, n)
    nrows = -(-n // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, column in zip(axes, report.columns, strict=False):
        _panel(ax, column, report.unit, max_bins)
    for ax in axes[n:]:
        ax.set_visible(False)
    from matplotlib.patches import Patch

    axes[0].legend(handles=[Patch(color=_REF_COLOR, label="reference"),
                            Patch(color=_CUR_COLOR, label="current")],
                   fontsize=7, loc="upper right")
    fig.suptitle("reference vs current per column; red: the largest PSI terms", fontsize=10)
    return fig


def save_figure(report: Any, path: Path, *, max_bins: int = 25, dpi: int = 120) -> Path:
    """Draw the figure and write it to ``path`` atomically (format from the suffix)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fmt = path.suffix.lstrip(".").lower() or "png"
    fig = drift_figure(report, max_bins=max_bins)
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{fmt}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format=fmt, dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
