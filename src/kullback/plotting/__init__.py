"""Figures and pages that explain the measures; matplotlib is imported only when drawing.

- :func:`explain`: the static figure of ``kullback explain`` (P and Q, each outcome's
  contribution to KL, and H(P) + KL(P‖Q) = H(P,Q)), computed from ``p`` and ``q``.
- :func:`explore_html`: the interactive explorer page (built by :mod:`kullback.explore`).
"""

from __future__ import annotations

from typing import Any

from kullback.plotting._explain import explain, explain_figure, save

__all__ = ["explain", "explain_figure", "explore_html", "save"]


def explore_html(p: Any = None, q: Any = None, *, labels: Any = None, base: Any = None) -> Any:
    """The interactive explorer page; see :func:`kullback.explore.explore_html`."""
    from kullback.explore import explore_html as build

    return build(p, q, labels=labels, base=base)
