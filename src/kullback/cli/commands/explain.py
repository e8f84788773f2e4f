"""``kullback explain P Q``: the worked computation of KL(P‖Q), outcome by outcome.

The per-outcome terms come from :func:`kullback.measures.contributions` and the sums from
:func:`kullback.decompose`: the command only lays them out. With many outcomes the table shows
the largest contributions and sums the rest in one row (``--json`` lists every outcome), as the
figure of ``--plot`` does.

Examples
--------
>>> from kullback.cli import main
>>> main(["explain", "a=0.5,b=0.5", "a=0.25,b=0.75", "--base", "bits"])  # doctest: +ELLIPSIS
KL(P‖Q) and H(P,Q), outcome by outcome, in bits (log base 2).
...
sum       1.0000   1.0000     1.0000       0.2075     1.2075
                              = H(P)    = KL(P‖Q)   = H(P,Q)
...
0
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from kullback.cli import _format as fmt
from kullback.cli import _options
from kullback.cli._errors import CLIError
from kullback.cli._io import Masses
from kullback.cli._report import (
    alignment_notes,
    describe,
    infinite_note,
    outcome_labels,
    prose_labels,
    source,
)
from kullback.units import Unit

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]

HELP = "the worked computation of KL(P‖Q), outcome by outcome"
DESCRIPTION = (
    "The computation of H(P), H(P,Q) and KL(P‖Q) as a textbook shows it: one row per "
    "outcome with p(x), q(x) and each term, the column sums, and the identity "
    "H(P,Q) = H(P) + KL(P‖Q) with the numbers. Outcomes that make KL infinite are "
    "named. With more than 100 outcomes the table shows the 40 largest contributions and "
    "sums the rest in one row (--json lists every outcome)."
)

_PLOT_FORMATS = {".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff"}
_ALL_ROWS_UP_TO = 100  # outcomes; past this the table aggregates
_SHOWN_ROWS = 40
# The columns of the worked table: JSON key, heading, key in contributions().
_TERMS = (
    ("minus_p_log_p", "−p log p", "entropy_p"),
    ("p_log_p_over_q", "p log(p/q)", "kl"),
    ("minus_p_log_q", "−p log q", "cross_entropy"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """P, Q, ``--plot`` and the shared options."""
    _options.add_distributions(parser, "the true (or observed) distribution",
                               "the model (or forecast) distribution")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="also save a figure (.png, .svg or .pdf): P and Q per outcome, each outcome's "
        "contribution to KL(P‖Q), and H(P) + KL(P‖Q) = H(P,Q)",
    )


def _plot_path(text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text)
    if path.suffix.lower() not in _PLOT_FORMATS:
        raise CLIError(
            f"--plot: cannot tell the image format of {text!r} from its extension; "
            "use .png, .svg or .pdf"
        )
    if path.is_dir():
        raise CLIError(f"--plot: {text!r} is a directory; give a file name such as plot.png")
    return path


class _Worked:
    """The pair, its per-outcome terms and their sums, in one unit."""

    def __init__(self, p: Masses, q: Masses, unit: Unit) -> None:
        import kullback as kb
        from kullback.measures import contributions

        with _options.library_errors():
            d = kb.decompose(p.values, q.values, base=unit)
            c = contributions(p.values, q.values, base=unit)
        self.p, self.q, self.unit = p, q, unit
        self.pp, self.qq = p.probs, q.probs
        self.terms = {key: np.asarray(c[core], dtype=np.float64) + 0.0
                      for key, _, core in _TERMS}
        self.entropy, self.kl = float(d.entropy), float(d.kl_divergence)
        self.cross_entropy = float(d.cross_entropy)
        self.labels = outcome_labels(p.labels, len(self.pp))
        self.infinite = np.flatnonzero((self.pp > 0) & (self.qq == 0))


# --------------------------------------------------------------------------- JSON


def _column(values: np.ndarray, precision: int | None) -> list[Any]:
    out: list[Any] = values.tolist()
    if precision is not None:
        out = [round(v, precision) for v in out]
    for i in np.flatnonzero(~np.isfinite(values)):
        out[i] = fmt.json_number(float(values[i]), None)
    return out


def _json(w: _Worked, precision: int | None, plot: Path | None) -> dict[str, Any]:
    columns = {"p": _column(w.pp, precision), "q": _column(w.qq, precision)}
    columns.update({key: _column(w.terms[key], precision) for key, _, _ in _TERMS})
    rows = [{"label": lab, **dict(zip(columns, values, strict=True))}
            for lab, *values in zip(w.labels, *columns.values(), strict=True)]
    obj: dict[str, Any] = {
        "outcomes": rows,
        "entropy_p": fmt.json_number(w.entropy, precision),
        "cross_entropy_pq": fmt.json_number(w.cross_entropy, precision),
        "kl_pq": fmt.json_number(w.kl, precision),
        "infinite_kl_outcomes": [w.labels[i] for i in w.infinite],
        "p_input": w.p.kind,
        "q_input": w.q.kind,
        "unit": w.unit.name,
    }
    if plot is not None:
        obj["plot"] = str(plot)
    return obj


# --------------------------------------------------------------------------- the text table


def _note(pi: float, qi: float) -> str:
    if pi == 0:
        return "p(x) = 0 adds nothing (0 log 0 = 0)"
    if qi == 0:
        return "q(x) = 0 < p(x): infinite"
    return ""


def _label_cell(label: str) -> str:
    lab = fmt.safe(label)
    return lab if len(lab) <= 24 else lab[:23] + "…"


def _body(w: _Worked, prec: int) -> tuple[list[tuple[str, ...]], str | None]:
    """The outcome rows, and a sentence when many outcomes were summed into one row."""
    from kullback.plotting._aggregate import aggregate

    n = len(w.pp)
    columns = {"p": w.pp, "q": w.qq, **w.terms}
    view = aggregate(w.labels, columns, "p_log_p_over_q",
                     n if n <= _ALL_ROWS_UP_TO else _SHOWN_ROWS)
    cols = list(view.columns.values())
    rows = [(_label_cell(lab), *(fmt.cell(float(c[i]), prec) for c in cols),
             _note(float(view.columns["p"][i]), float(view.columns["q"][i])))
            for i, lab in enumerate(view.labels)]
    if not view.others:
        return rows, None
    rows[-1] = (*rows[-1][:-1], "summed")
    return rows, (f"{n:,} outcomes: the {_SHOWN_ROWS} with the largest |p log(p/q)| are "
                  f"shown, largest first, and the other {view.others:,} are summed in one row "
                  "(--json lists every outcome).")


def _worked_table(w: _Worked, prec: int) -> list[str]:
    u = w.unit.symbol
    header = [
        ("outcome", "p(x)", "q(x)", *(head for _, head, _ in _TERMS), ""),
        ("", "", "", f"[{u}]", f"[{u}]", f"[{u}]", ""),
    ]
    body, summary = _body(w, prec)
    total = ("sum", fmt.cell(1.0, prec), fmt.cell(1.0, prec), fmt.cell(w.entropy, prec),
             fmt.cell(w.kl, prec), fmt.cell(w.cross_entropy, prec), "")
    names = ("", "", "", "= H(P)", "= KL(P‖Q)", "= H(P,Q)", "")
    table = fmt.table([*header, *body, total, names], "<>>>>><", gap="   ")
    rule = "─" * len(table[0])
    h, b = len(header), len(body)
    lines = [fmt.wrap(summary), ""] if summary else []
    return [*lines, *table[:h], rule, *table[h:h + b], rule, *table[h + b:], ""]


def _identity(w: _Worked, prec: int) -> list[str]:
    u = w.unit.symbol
    sh, skl, sce = fmt.cell(w.entropy, prec), fmt.cell(w.kl, prec), fmt.cell(w.cross_entropy, prec)
    width = [max(len(a), len(b)) for a, b in (("H(P,Q)", sce), ("H(P)", sh), ("KL(P‖Q)", skl))]
    return [
        "Row by row, −p log q = −p log p + p log(p/q). Summed over the outcomes:",
        "",
        f"  {'H(P,Q)'.rjust(width[0])}  =  {'H(P)'.rjust(width[1])}  +  "
        f"{'KL(P‖Q)'.rjust(width[2])}",
        f"  {sce.rjust(width[0])}  =  {sh.rjust(width[1])}  +  {skl.rjust(width[2])}  {u}",
        "",
    ]


def _conclusion(w: _Worked, prec: int) -> list[str]:
    prose = prose_labels(w.p.labels, len(w.pp))
    if w.infinite.size:
        return [fmt.wrap(infinite_note(w.p, w.q, prose, prec) or "")]
    if np.array_equal(w.pp, w.qq):
        return ["P = Q, so KL(P‖Q) = 0 and the cross-entropy is just the entropy."]
    u, sh, skl = w.unit.symbol, fmt.cell(w.entropy, prec), fmt.cell(w.kl, prec)
    lines = [fmt.wrap(
        f"Coding outcomes drawn from P with a code built for Q costs KL(P‖Q) = {skl} "
        f"{u} per outcome more than the best code for P (H(P) = {sh} {u})."
    )]
    negative = np.flatnonzero(w.terms["p_log_p_over_q"] < 0)
    if negative.size:
        shown = [prose[i] for i in negative[:7]] + [""] * max(0, negative.size - 7)
        lines.append(fmt.wrap(
            f"A term p log(p/q) is negative where q(x) > p(x) ({fmt.names(shown)}); "
            "their sum, KL(P‖Q), never is: it is 0 only when P = Q."
        ))
    return lines


def _text(w: _Worked, args: argparse.Namespace, p0: Masses, q0: Masses, prec: int,
          plot: Path | None) -> list[str]:
    lines = [
        f"KL(P‖Q) and H(P,Q), outcome by outcome, in {fmt.unit_words(w.unit)}.",
        describe(args.P, p0),
        describe(args.Q, q0),
        *alignment_notes(p0, q0),
        "",
    ]
    lines += _worked_table(w, prec) + _identity(w, prec) + _conclusion(w, prec)
    if plot is not None:
        lines += ["", f"Plot saved to {fmt.safe(plot)}"]
    return lines


# --------------------------------------------------------------------------- the figure


def _save_plot(plot: Path, w: _Worked, args: argparse.Namespace, p0: Masses,
               q0: Masses) -> None:
    needs = "--plot needs matplotlib (pip install 'kullback[plot]')"
    try:
        from kullback.plotting import _explain
    except ImportError:  # pragma: no cover - matplotlib is an optional extra
        raise CLIError(needs) from None
    try:
        fig = _explain.explain(
            w.p.values, w.q.values, base=w.unit, labels=w.labels,
            p_name=f"P: {source(args.P, p0)}", q_name=f"Q: {source(args.Q, q0)}",
        )
    except ImportError:
        raise CLIError(needs) from None
    try:
        plot.parent.mkdir(parents=True, exist_ok=True)
        _explain.save(fig, plot)
    except OSError as exc:
        raise CLIError(f"--plot: cannot write {str(plot)!r} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise CLIError(f"--plot: cannot save {str(plot)!r} ({exc})") from None


def run(args: argparse.Namespace) -> None:
    """Read P and Q, lay out the worked terms (and draw them with ``--plot``)."""
    unit, precision = _options.unit(args), _options.precision(args)
    plot = _plot_path(args.plot)
    p0, q0, p, q = _options.read_pair(args)
    w = _Worked(p, q, unit)
    if plot is not None:
        _save_plot(plot, w, args, p0, q0)
    if args.json:
        fmt.emit_json(_json(w, precision, plot))
        return
    prec = fmt.DEFAULT_PRECISION if precision is None else precision
    fmt.emit(_text(w, args, p0, q0, prec, plot))

