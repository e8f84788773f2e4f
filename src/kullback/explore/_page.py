"""Assemble the explorer: one self-contained HTML page with its styles, scripts and data inline.

The page is written in three package data files (``page.html``, ``explore.css`` and the scripts
``measures.js`` and ``explore.js``), joined here with the starting distributions and the
library's own values for them as JSON. Nothing is fetched when the page is opened: a Content
Security Policy in the page forbids every request, so it works from ``file://``, by e-mail or
inside a notebook's ``iframe``.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kullback.explore._presets import PRESETS, TEXTBOOK, Pair
from kullback.units import Unit, resolve_unit

__all__ = ["UNITS", "ExplorerPage", "build_page", "explore_html", "library_values"]

UNITS: tuple[str, ...] = ("bits", "nats", "bans")
_SCRIPTS = ("measures.js", "explore.js")


class ExplorerPage(str):
    """The explorer page: a ``str`` of HTML that also shows itself in a Jupyter notebook.

    ``str(page)`` is the whole page; :meth:`save` writes it to a file; in a notebook the page
    appears inline, in a sandboxed ``iframe``.
    """

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(str(self), quote=True)}" title="kullback explorer" '
            'sandbox="allow-scripts" style="width:100%;height:1000px;border:0"></iframe>'
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` atomically (a temporary file, then a rename).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(str(self))
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def _probabilities(masses: Any, name: str) -> np.ndarray:
    """1-D float64 masses normalised to sum to 1; a clear error for anything else."""
    from kullback.validation import locate

    try:
        a = np.asarray(masses, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D list of non-negative numbers") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of numbers; got shape {a.shape}")
    problem = locate(name, a, np)
    if problem:
        raise ValueError(problem)
    total = math.fsum(a.tolist())
    if not 0 < total < math.inf:
        raise ValueError(f"{name} must have a positive, finite total; got {total!r}")
    return a / np.sum(a)


def _labels(labels: Sequence[Any] | None, n: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i + 1) for i in range(n))
    out = tuple(str(x) for x in labels)
    if len(out) != n:
        raise ValueError(f"labels has {len(out)} names for {n} outcomes")
    seen: dict[str, int] = {}
    for i, lab in enumerate(out):
        if not lab.strip():
            raise ValueError(f"labels has an empty name at position {i}")
        if lab in seen:
            raise ValueError(f"labels has {lab!r} twice (positions {seen[lab]} and {i})")
        seen[lab] = i
    return out


def _start(p: Any, q: Any, labels: Any, p_name: str, q_name: str) -> Pair:
    """The opening pair, as probabilities: the user's, or the textbook pair."""
    if p is None and q is None:
        if labels is not None:
            raise ValueError("labels name the outcomes of p and q; give p and q too")
        return _normalised(TEXTBOOK)
    if p is None or q is None:
        raise ValueError("give both p and q, or neither (for the textbook pair)")
    if isinstance(p, Mapping) or isinstance(q, Mapping):
        p, q, labels = _by_label(p, q, labels)
    P, Q = _probabilities(p, "p"), _probabilities(q, "q")
    if P.size != Q.size:
        raise ValueError(f"p and q have different numbers of outcomes ({P.size} and {Q.size})")
    return Pair("yours", "Your data", _labels(labels, P.size), tuple(P.tolist()),
                tuple(Q.tolist()), p_name, q_name, blurb=f"P is {p_name}, Q is {q_name}.")


def _by_label(p: Any, q: Any, labels: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Mappings ``{label: mass}`` aligned as the command line aligns labelled inputs: P's
    outcomes first, then those only Q has; a label missing on one side has mass 0 there."""
    if not (isinstance(p, Mapping) and isinstance(q, Mapping)):
        raise ValueError("give p and q both as mappings {label: mass}, or both as lists")
    if labels is not None:
        raise ValueError("labels come from the keys of p and q; do not pass labels too")
    keys = list(p) + [k for k in q if k not in p]
    return [p.get(k, 0.0) for k in keys], [q.get(k, 0.0) for k in keys], keys


def _normalised(pair: Pair) -> Pair:
    """``pair`` with its masses divided by their totals."""
    P, Q = _probabilities(pair.p, "p"), _probabilities(pair.q, "q")
    return replace(pair, p=tuple(P.tolist()), q=tuple(Q.tolist()))


def _unit(base: Any) -> Unit:
    unit = resolve_unit(base)
    if unit.name not in UNITS:
        raise ValueError(f"base: the explorer shows bits, nats or bans; got {base!r}")
    return unit


# The eight values of ``kullback compare``, by their keys (the page's ``data-measure``).
_LIBRARY: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    "entropy_p": lambda kb, p, q, base: kb.entropy(p, base=base),
    "entropy_q": lambda kb, p, q, base: kb.entropy(q, base=base),
    "cross_entropy_pq": lambda kb, p, q, base: kb.cross_entropy(p, q, base=base),
    "cross_entropy_qp": lambda kb, p, q, base: kb.cross_entropy(q, p, base=base),
    "kl_pq": lambda kb, p, q, base: kb.kl_divergence(p, q, base=base),
    "kl_qp": lambda kb, p, q, base: kb.kl_divergence(q, p, base=base),
    "js_divergence": lambda kb, p, q, base: kb.js_divergence(p, q, base=base),
    "js_distance": lambda kb, p, q, base: kb.js_distance(p, q, base=base),
}


def library_values(p: Sequence[float], q: Sequence[float], base: Any) -> dict[str, float]:
    """The eight measures of ``kullback compare`` for one pair, computed by the library.

    Examples
    --------
    >>> v = library_values([0.42, 0.31, 0.27], [0.25, 0.5, 0.25], "nats")
    >>> round(v["kl_pq"], 4), round(v["entropy_p"], 4), v["js_divergence"] <= v["kl_pq"]
    (0.0905, 1.0809, True)
    """
    import kullback as kb

    return {key: float(f(kb, p, q, base)) for key, f in _LIBRARY.items()}


def _json_number(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _data(start: Pair, unit: Unit) -> dict[str, Any]:
    """Everything the scripts need: the pairs, the unit, and the library's values at the start."""
    from kullback import __version__

    reference = {
        u: {k: _json_number(v) for k, v in library_values(start.p, start.q, u).items()}
        for u in UNITS
    }
    return {
        "version": __version__,
        "unit": unit.name,
        "start": asdict(start),
        "presets": [asdict(_normalised(pr)) for pr in PRESETS],
        "reference": reference,
    }


def _resource(name: str) -> str:
    return resources.files("kullback.explore").joinpath(name).read_text(encoding="utf-8")


def _script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``</script>`` or ``<!--`` can end it early."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def build_page(start: Pair, unit: Unit) -> ExplorerPage:
    """Fill the page template with the styles, the scripts and the data."""
    parts = {
        "<!--kb:css-->": _resource("explore.css"),
        "<!--kb:data-->": _script_json(_data(start, unit)),
        "<!--kb:js-->": "\n".join(_resource(name) for name in _SCRIPTS),
    }
    page = _resource("page.html")
    for token, text in parts.items():
        if page.count(token) != 1:  # pragma: no cover - a broken template is a packaging bug
            raise RuntimeError(f"page.html must contain {token} exactly once")
        page = page.replace(token, text)
    return ExplorerPage(page)


def explore_html(
    p: Any = None,
    q: Any = None,
    *,
    labels: Sequence[Any] | None = None,
    base: Any = None,
    p_name: str = "the true distribution",
    q_name: str = "the model",
) -> ExplorerPage:
    """The interactive explorer for ``p`` and ``q``: one self-contained HTML page.

    Drag the bars of P and Q (or type a probability) and watch H(P), H(Q), both
    cross-entropies, both KL divergences and the Jensen-Shannon divergence and distance move,
    with the per-outcome table of ``kullback explain`` and the identity
    H(P,Q) = H(P) + KL(P‖Q). The page needs no network: save it and open it from disk, or show
    it in a notebook (it displays inline).

    Parameters
    ----------
    p, q : array_like or mapping, optional
        Non-negative masses (probabilities or counts) on the same outcomes; they are
        normalised. Mappings ``{label: mass}`` are matched by label (a label only one side has
        gets mass 0 on the other). Without both, the page starts from the textbook pair
        p = (0.42, 0.31, 0.27), q = (0.25, 0.5, 0.25).
    labels : sequence of str, optional
        Outcome names (default ``"1"``, ``"2"``, ...).
    base : None or str, optional
        The unit shown first: ``"nats"`` (the default), ``"bits"`` or ``"bans"``; the page has
        a switch for the others.
    p_name, q_name : str, optional
        What P and Q stand for, shown above their charts.

    Returns
    -------
    ExplorerPage
        The HTML page (a ``str``), with :meth:`ExplorerPage.save` and inline display in Jupyter.

    Examples
    --------
    >>> from kullback.explore import explore_html
    >>> page = explore_html([3, 1], [1, 1], labels=["heads", "tails"], base="bits")
    >>> page.startswith("<!doctype html>"), "https://" in page
    (True, False)
    >>> page = explore_html({"sun": 3, "rain": 1}, {"rain": 1, "snow": 1})  # P has no snow
    >>> explore_html([0.5, 0.5], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: p and q have different numbers of outcomes (2 and 1)
    """
    unit = _unit(base)
    return build_page(_start(p, q, labels, p_name, q_name), unit)
