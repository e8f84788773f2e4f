"""Sentences about the inputs that several commands print: where each came from, how the
outcomes were matched, and which outcomes make a KL divergence infinite.

Examples
--------
>>> from kullback.cli._io import parse_spec
>>> from kullback.cli._report import alignment_notes, describe
>>> p = parse_spec("sun=3,rain=1", "P")
>>> describe("sun=3,rain=1", p)
'P  sun=3,rain=1: counts over 2 outcomes (total 4), normalised: p(x) = n(x) / 4'
>>> print(*alignment_notes(p, parse_spec("rain=1,snow=1", "Q")))
Outcomes matched by label; snow is not in P, so p(snow) = 0; sun is not in Q, so
q(sun) = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kullback.cli._format import WIDTH, cell, names, safe, wrap
from kullback.cli._io import Masses

__all__ = ["alignment_notes", "describe", "infinite_note", "outcome_labels", "prose_labels",
           "source"]


def source(spec: str, m: Masses) -> str:
    """The input as the user gave it: the inline text (shortened) or the file name."""
    if m.source == "inline list":
        return safe(spec if len(spec) <= 40 else spec[:39] + "…")
    return safe(m.source)


def describe(spec: str, m: Masses) -> str:
    """``P  <source>: <what it holds, how it was normalised>``, on two lines when long."""
    line = f"{m.name}  {source(spec, m)}: {m.describe()}"
    if len(line) <= WIDTH:
        return line
    return f"{m.name}  {source(spec, m)}\n   {m.describe()}"


def outcome_labels(labels: Sequence[str] | None, n: int) -> list[str]:
    """Outcome names for a table column: the labels, or 1, 2, 3, ..."""
    return list(labels) if labels is not None else [str(i + 1) for i in range(n)]


def prose_labels(labels: Sequence[str] | None, n: int) -> list[str]:
    """Outcome names for sentences: the label, or "outcome 3" for a plain list."""
    return list(labels) if labels is not None else [f"outcome {i + 1}" for i in range(n)]


def alignment_notes(p: Masses, q: Masses) -> list[str]:
    """One sentence when labelled outcomes were matched by name (or none), naming the
    outcomes that one side lacks."""
    if p.labels is None or q.labels is None:
        return []
    in_p, in_q = set(p.labels), set(q.labels)
    only_p = [x for x in p.labels if x not in in_q] if in_p - in_q else []
    only_q = [x for x in q.labels if x not in in_p] if in_q - in_p else []
    if not (only_q or only_p or p.labels != q.labels):
        return []
    parts = ["Outcomes matched by label"]
    for missing, letter, labs in (("P", "p", only_q), ("Q", "q", only_p)):
        if len(labs) == 1:
            one = safe(labs[0])
            parts.append(f"{one} is not in {missing}, so {letter}({one}) = 0")
        elif labs:
            parts.append(f"{names(labs)} are not in {missing}, so {letter}(x) = 0 for them")
    return [wrap("; ".join(parts) + ".")]


def infinite_note(p: Masses, q: Masses, labels: Sequence[str], precision: int) -> str | None:
    """Name the outcomes where p > 0 but q = 0 (they make KL(P‖Q) infinite)."""
    bad = np.flatnonzero((p.values > 0) & (q.values == 0))
    if bad.size == 0:
        return None
    probs = p.probs
    items = [f"{safe(labels[i])} ({p.name.lower()} = {cell(float(probs[i]), precision)})"
             for i in bad[:7]]
    items += [""] * (bad.size - len(items))  # counted by names(), never shown
    verb = "it" if bad.size == 1 else "them"
    return (
        f"KL({p.name}‖{q.name}) is infinite: {q.name} gives probability 0 to {names(items)}, "
        f"which {p.name} allows; a code built for {q.name} has no codeword for {verb}."
    )
