"""The ``kullback`` command line: compare, explain and measure distributions.

::

    kullback compare P Q          H(P), H(Q), both cross-entropies, both KLs, JS, in one table
    kullback explain P Q          the worked computation of KL(P‖Q), outcome by outcome
    kullback explain P Q --plot out/explain.png
    kullback entropy P            entropy and perplexity

P and Q are inline lists (``0.42,0.31,0.27``, ``sunny=146,rain=73``), files (``.csv``,
``.json``, ``.npy``, ``.parquet``) or ``-`` for stdin; counts are normalised. Every bad input
ends with exit status 2 and one line on stderr, ``error: ...``, naming the input.

Only argparse and what ``import kullback`` loads (NumPy) are imported at start, so
``kullback --help`` is quick; matplotlib and pyarrow load inside the commands that need them.

Examples
--------
>>> from kullback.cli import main
>>> main(["entropy", "0.5,0.25,0.25", "--base", "bits", "--json"])  # doctest: +ELLIPSIS
{
  "entropy": 1.5,
  "perplexity": 2.828427124746...,
  "unit": "bits",
  "outcomes": 3
}
0
>>> main(["entropy", "0.5,-0.1"])  # the message goes to stderr
2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from kullback.cli._errors import CLIError
from kullback.cli._io import InputError, Masses, align, parse_spec
from kullback.cli.commands import COMMANDS, load
from kullback.units import Unit, resolve_unit

__all__ = ["main"]

_DEFAULT_PRECISION = 4
_WIDTH = 88  # wrap prose at this many columns
_PLOT_FORMATS = {".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff"}




# --------------------------------------------------------------------------- argument parsing


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and negative numbers accepted as positional values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if kwargs.get("description"):
            kwargs["description"] = textwrap.fill(
                kwargs["description"], width=_WIDTH, break_on_hyphens=False
            )
        super().__init__(*args, **kwargs)
        # "-0.1,0.5" is an input (which will then be refused as negative), not an option.
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")


_INPUT_HELP = """\
inputs (P and Q):
  0.42,0.31,0.27           an inline list of probabilities or counts
  sunny=146,rain=73        an inline list with outcome labels
  data.csv                 one column of numbers (header optional); labels may sit in a
                           first non-numeric column; --column NAME picks one of several
  data.json                a list [0.5, 0.5] or an object {"sunny": 146, "rain": 73}
  data.npy                 a 1-D numeric array (pickled arrays are refused)
  data.parquet             a numeric column (--column NAME), labels from a text column
  -                        stdin (JSON or CSV text)

Counts and other unnormalised masses are divided by their total. When both inputs carry
labels, outcomes are matched by label and an outcome missing on one side has probability 0
there. Positions in error messages count from 1.
"""

_EXAMPLES = """\
examples:
  kullback compare 0.42,0.31,0.27 0.25,0.5,0.25 --base bits
  kullback compare observed.csv model.json --json
  kullback explain examples/weather_observed.json examples/weather_forecast.json \\
      --base bits --plot out/explain.png
  kullback entropy sunny=146,cloudy=110,rain=73 --base bits
  echo 3,1 | kullback entropy - --base bits
"""


def _common(with_q: bool) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--base",
        default="nats",
        metavar="B",
        help="logarithm base: a number > 0 other than 1, or bits, nats, bans (default: nats)",
    )
    parent.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parent.add_argument(
        "--precision",
        metavar="N",
        default=None,
        help="digits after the decimal point (default: 4 in tables, full precision in JSON)",
    )
    parent.add_argument(
        "--column",
        metavar="NAME",
        help="the column (CSV, Parquet), key (nested JSON) or array (.npz) to read"
        + (", for both inputs" if with_q else ""),
    )
    if with_q:
        parent.add_argument("--p-column", metavar="NAME", help="--column for P only")
        parent.add_argument("--q-column", metavar="NAME", help="--column for Q only")
    return parent


def _build_parser() -> _Parser:
    from kullback import __version__

    parser = _Parser(
        prog="kullback",
        description=(
            "Entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence of "
            "discrete distributions, with the unit on every number."
        ),
        epilog=_INPUT_HELP + "\n" + _EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"kullback {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    pair, single = _common(True), _common(False)

    compare = sub.add_parser(
        "compare",
        parents=[pair],
        help="every measure between P and Q in one table",
        description=(
            "H(P), H(Q), the cross-entropies H(P,Q) and H(Q,P), KL(P‖Q), KL(Q‖P) and the "
            "Jensen-Shannon divergence and distance, in one table."
        ),
        epilog=_INPUT_HELP,
    )
    compare.add_argument("P", help="the first distribution (see inputs below)")
    compare.add_argument("Q", help="the second distribution")

    explain = sub.add_parser(
        "explain",
        parents=[pair],
        help="the worked computation of KL(P‖Q), outcome by outcome",
        description=(
            "The computation of H(P), H(P,Q) and KL(P‖Q) as a textbook shows it: one row per "
            "outcome with p(x), q(x) and each term, the column sums, and the identity "
            "H(P,Q) = H(P) + KL(P‖Q) with the numbers. Outcomes that make KL infinite are "
            "named."
        ),
        epilog=_INPUT_HELP,
    )
    explain.add_argument("P", help="the true (or observed) distribution")
    explain.add_argument("Q", help="the model (or forecast) distribution")
    explain.add_argument(
        "--plot",
        metavar="FILE",
        help="also save a figure (.png, .svg or .pdf): P and Q per outcome, each outcome's "
        "contribution to KL(P‖Q), and H(P) + KL(P‖Q) = H(P,Q)",
    )

    entropy = sub.add_parser(
        "entropy",
        parents=[single],
        help="entropy and perplexity of one distribution",
        description="The entropy H(P) and the perplexity b^H(P) of one distribution.",
        epilog=_INPUT_HELP,
    )
    entropy.add_argument("P", help="the distribution (see inputs below)")
    for name in COMMANDS:  # TRANSITIONAL: the first three move into commands/ next
        if name in _COMMANDS:
            continue
        try:
            module = load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"kullback.cli.commands.{name}":
                raise
            continue
        cmd = sub.add_parser(name, help=module.HELP,
                             description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(cmd)
    return parser


# --------------------------------------------------------------------------- option checks


def _unit(text: str) -> Unit:
    try:
        return resolve_unit(text)
    except (ValueError, TypeError):
        raise CLIError(
            f"--base must be a positive number other than 1, or bits, nats or bans; got {text!r}"
        ) from None


def _precision(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 15:
        raise CLIError(f"--precision must be a whole number from 0 to 15; got {text!r}")
    return n


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


@contextmanager
def _library_errors() -> Iterator[None]:
    """Re-word a library ValueError (arguments p, q) for the command line (inputs P, Q)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = re.sub(r"\b([pq])\b(?!\()", lambda m: m.group(1).upper(), str(exc))
        raise CLIError(message) from None


# --------------------------------------------------------------------------- formatting


def _fmt(x: float, precision: int) -> str:
    """A table cell: fixed decimals; a tiny non-zero value in scientific notation; ∞."""
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if math.isnan(x):
        return "nan"
    if x == 0:
        return f"{0.0:.{precision}f}"
    if abs(x) < 0.5 * 10.0**-precision:
        return f"{x:.{max(precision - 1, 1)}e}"
    return f"{x:.{precision}f}"


def _jnum(x: float, precision: int | None) -> float | str:
    """A JSON value: a number, or ``"inf"`` (JSON has no infinity)."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "nan"
    return round(x, precision) if precision is not None else x


def _table(rows: Sequence[Sequence[str]], align: str, gap: str = "  ") -> list[str]:
    """Lay out rows of cells; ``align`` has one of ``<`` / ``>`` per column."""
    widths = [max(len(r[j]) for r in rows) for j in range(len(align))]
    out = []
    for r in rows:
        cells = [
            c.ljust(w) if a == "<" else c.rjust(w)
            for c, w, a in zip(r, widths, align, strict=True)
        ]
        out.append(gap.join(cells).rstrip())
    return out


def _source(spec: str, m: Masses) -> str:
    if m.source == "inline list":
        return spec if len(spec) <= 40 else spec[:39] + "…"
    return m.source


def _describe(spec: str, m: Masses) -> str:
    line = f"{m.name}  {_source(spec, m)}: {m.describe()}"
    if len(line) <= _WIDTH:
        return line
    return f"{m.name}  {_source(spec, m)}\n   {m.describe()}"


def _unit_words(unit: Unit) -> str:
    """``bits (log base 2)``, ``nats (natural log)``, ``log_3 units (log base 3)``."""
    if unit.name == "nats":
        return "nats (natural log)"
    name = unit.name if unit.name in ("bits", "bans") else f"{unit.symbol} units"
    return f"{name} (log base {_basestr(unit)})"


def _basestr(unit: Unit) -> str:
    b = unit.base
    return str(int(b)) if float(b).is_integer() else repr(b)


def _names(labels: Sequence[str]) -> str:
    shown = [str(x) for x in labels[:6]]
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")


def _outcome_labels(labels: Sequence[str] | None, n: int) -> list[str]:
    return list(labels) if labels is not None else [str(i + 1) for i in range(n)]


def _prose_labels(labels: Sequence[str] | None, n: int) -> list[str]:
    """Outcome names for sentences: the label, or "outcome 3" for a plain list."""
    return list(labels) if labels is not None else [f"outcome {i + 1}" for i in range(n)]


def _emit(lines: Sequence[str] | str) -> None:
    sys.stdout.write(lines if isinstance(lines, str) else "\n".join(lines) + "\n")


def _emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- inputs


def _read_pair(args: argparse.Namespace) -> tuple[Masses, Masses, Masses, Masses]:
    """Read P and Q; return them as read and aligned."""
    if args.P == "-" and args.Q == "-":
        raise CLIError("P and Q cannot both be read from stdin ('-'); put one of them in a file")
    p = parse_spec(args.P, "P", args.p_column or args.column)
    q = parse_spec(args.Q, "Q", args.q_column or args.column)
    pa, qa, _ = align(p, q)
    return p, q, pa, qa


def _alignment_notes(p: Masses, q: Masses) -> list[str]:
    if p.labels is None or q.labels is None:
        return []
    only_p = [x for x in p.labels if x not in set(q.labels)]
    only_q = [x for x in q.labels if x not in set(p.labels)]
    if not (only_q or only_p or list(p.labels) != list(q.labels)):
        return []
    parts = ["Outcomes matched by label"]
    for missing, letter, labs in (("P", "p", only_q), ("Q", "q", only_p)):
        if len(labs) == 1:
            parts.append(f"{labs[0]} is not in {missing}, so {letter}({labs[0]}) = 0")
        elif labs:
            parts.append(f"{_names(labs)} are not in {missing}, so {letter}(x) = 0 for them")
    return [_wrap("; ".join(parts) + ".")]


def _wrap(text: str) -> str:
    """Fill prose to the terminal width without breaking a formula such as ``q(x) = 0``."""
    glued = text.replace(" = ", "\xa0=\xa0")
    filled = textwrap.fill(glued, width=_WIDTH, break_long_words=False, break_on_hyphens=False)
    return filled.replace("\xa0", " ")


# --------------------------------------------------------------------------- compare


def _measures(p: Masses, q: Masses, unit: Unit) -> dict[str, float]:
    import kullback as kb

    with _library_errors():
        pq = kb.decompose(p.values, q.values, base=unit)
        qp = kb.decompose(q.values, p.values, base=unit)
        js = kb.js_divergence(p.values, q.values, base=unit)
        jsd = kb.js_distance(p.values, q.values, base=unit)
    return {
        "entropy_p": float(pq.entropy),
        "entropy_q": float(qp.entropy),
        "cross_entropy_pq": float(pq.cross_entropy),
        "cross_entropy_qp": float(qp.cross_entropy),
        "kl_pq": float(pq.kl_divergence),
        "kl_qp": float(qp.kl_divergence),
        "js_divergence": float(js),
        "js_distance": float(jsd),
    }


def _infinite_note(p: Masses, q: Masses, labels: list[str], precision: int) -> str | None:
    """Name the outcomes where p > 0 but q = 0 (they make KL(P‖Q) infinite)."""
    bad = np.flatnonzero((p.values > 0) & (q.values == 0))
    if bad.size == 0:
        return None
    probs = p.probs
    items = [f"{labels[i]} ({p.name.lower()} = {_fmt(float(probs[i]), precision)})" for i in bad]
    verb = "it" if bad.size == 1 else "them"
    return (
        f"KL({p.name}‖{q.name}) is infinite: {q.name} gives probability 0 to {_names(items)}, "
        f"which {p.name} allows; a code built for {q.name} has no codeword for {verb}."
    )


def _cmd_compare(args: argparse.Namespace, unit: Unit, precision: int | None) -> None:
    p0, q0, p, q = _read_pair(args)
    m = _measures(p, q, unit)
    if args.json:
        _emit_json({**{k: _jnum(v, precision) for k, v in m.items()}, "unit": unit.name})
        return
    prec = _DEFAULT_PRECISION if precision is None else precision
    u = unit.symbol
    ln2 = "1 bit" if unit.name == "bits" else f"{_fmt(unit.from_nats(math.log(2.0)), prec)} {u}"
    rows = [
        ("H(P)", "entropy_p", u, "entropy of P"),
        ("H(Q)", "entropy_q", u, "entropy of Q"),
        ("H(P,Q)", "cross_entropy_pq", u, "cross-entropy: P coded with a code built for Q"),
        ("H(Q,P)", "cross_entropy_qp", u, "cross-entropy: Q coded with a code built for P"),
        ("KL(P‖Q)", "kl_pq", u, "KL divergence of P from Q = H(P,Q) - H(P)"),
        ("KL(Q‖P)", "kl_qp", u, "KL divergence of Q from P = H(Q,P) - H(Q)"),
        ("JS(P,Q)", "js_divergence", u, f"Jensen-Shannon divergence (symmetric, at most {ln2})"),
        ("JSD(P,Q)", "js_distance", f"√{u}", "Jensen-Shannon distance = √JS (a metric)"),
    ]
    cells = [("measure", "[unit]", "value", "meaning")]
    cells += [(sym, f"[{unit_}]", _fmt(m[key], prec), text) for sym, key, unit_, text in rows]
    lines = [_describe(args.P, p0), _describe(args.Q, q0), *_alignment_notes(p0, q0)]
    lines += [f"Unit: {_unit_words(unit)}.", ""]
    lines += _table(cells, "<<><")
    labels = _prose_labels(p.labels, len(p.values))
    notes = [_infinite_note(p, q, labels, prec), _infinite_note(q, p, labels, prec)]
    notes = [_wrap(n) for n in notes if n]
    if notes:
        lines += ["", *notes]
    _emit(lines)


# --------------------------------------------------------------------------- explain


def _terms(p: np.ndarray, q: np.ndarray, unit: Unit) -> dict[str, np.ndarray]:
    """Per-outcome terms −p log p, p log(p/q), −p log q in ``unit`` (0 log 0 = 0)."""
    with np.errstate(all="ignore"):
        pos, qpos = p > 0, q > 0
        lp = np.log(np.where(pos, p, 1.0))
        lq = np.log(np.where(qpos, q, 1.0))
        h = np.where(pos, -p * lp, 0.0)
        ce = np.where(pos, np.where(qpos, -p * lq, np.inf), 0.0)
        kl = np.where(pos, np.where(qpos, p * (lp - lq), np.inf), 0.0)
    return {
        "minus_p_log_p": unit.from_nats(h) + 0.0,
        "p_log_p_over_q": unit.from_nats(kl) + 0.0,
        "minus_p_log_q": unit.from_nats(ce) + 0.0,
    }


def _cmd_explain(args: argparse.Namespace, unit: Unit, precision: int | None) -> None:
    plot = _plot_path(args.plot)
    p0, q0, p, q = _read_pair(args)
    import kullback as kb

    with _library_errors():
        d = kb.decompose(p.values, q.values, base=unit)
    h, ce, kl = float(d.entropy), float(d.cross_entropy), float(d.kl_divergence)
    pp, qq = p.probs, q.probs
    terms = _terms(pp, qq, unit)
    labels = _outcome_labels(p.labels, len(pp))
    infinite = [labels[i] for i in np.flatnonzero((pp > 0) & (qq == 0))]

    if plot is not None:
        _save_plot(plot, labels, pp, qq, terms, h, ce, kl, unit, args.P, args.Q, p0, q0)

    if args.json:
        rows = [
            {
                "label": labels[i],
                "p": _jnum(float(pp[i]), precision),
                "q": _jnum(float(qq[i]), precision),
                **{k: _jnum(float(v[i]), precision) for k, v in terms.items()},
            }
            for i in range(len(pp))
        ]
        obj: dict[str, Any] = {
            "outcomes": rows,
            "entropy_p": _jnum(h, precision),
            "cross_entropy_pq": _jnum(ce, precision),
            "kl_pq": _jnum(kl, precision),
            "infinite_kl_outcomes": infinite,
            "p_input": p0.kind,
            "q_input": q0.kind,
            "unit": unit.name,
        }
        if plot is not None:
            obj["plot"] = str(plot)
        _emit_json(obj)
        return

    prec = _DEFAULT_PRECISION if precision is None else precision
    u = unit.symbol
    lines = [
        f"KL(P‖Q) and H(P,Q), outcome by outcome, in {_unit_words(unit)}.",
        _describe(args.P, p0),
        _describe(args.Q, q0),
        *_alignment_notes(p0, q0),
        "",
    ]
    header = [
        ("outcome", "p(x)", "q(x)", "−p log p", "p log(p/q)", "−p log q", ""),
        ("", "", "", f"[{u}]", f"[{u}]", f"[{u}]", ""),
    ]
    body = []
    for i, lab in enumerate(labels):
        if pp[i] == 0:
            note = "p(x) = 0 adds nothing (0 log 0 = 0)"
        elif qq[i] == 0:
            note = "q(x) = 0 < p(x): infinite"
        else:
            note = ""
        body.append(
            (
                lab if len(lab) <= 24 else lab[:23] + "…",
                _fmt(float(pp[i]), prec),
                _fmt(float(qq[i]), prec),
                _fmt(float(terms["minus_p_log_p"][i]), prec),
                _fmt(float(terms["p_log_p_over_q"][i]), prec),
                _fmt(float(terms["minus_p_log_q"][i]), prec),
                note,
            )
        )
    total = ("sum", _fmt(1.0, prec), _fmt(1.0, prec), _fmt(h, prec), _fmt(kl, prec),
             _fmt(ce, prec), "")
    names = ("", "", "", "= H(P)", "= KL(P‖Q)", "= H(P,Q)", "")
    table = _table([*header, *body, total, names], "<>>>>><", gap="   ")
    rule = "─" * len(table[0])
    lines += [*table[: len(header)], rule, *table[len(header) : len(header) + len(body)]]
    lines += [rule, *table[len(header) + len(body) :], ""]

    sh, skl, sce = _fmt(h, prec), _fmt(kl, prec), _fmt(ce, prec)
    w = [max(len(a), len(b)) for a, b in (("H(P,Q)", sce), ("H(P)", sh), ("KL(P‖Q)", skl))]
    lines += [
        "Row by row, −p log q = −p log p + p log(p/q). Summed over the outcomes:",
        "",
        f"  {'H(P,Q)'.rjust(w[0])}  =  {'H(P)'.rjust(w[1])}  +  {'KL(P‖Q)'.rjust(w[2])}",
        f"  {sce.rjust(w[0])}  =  {sh.rjust(w[1])}  +  {skl.rjust(w[2])}  {u}",
        "",
    ]
    if infinite:
        prose = _prose_labels(p.labels, len(pp))
        lines.append(_wrap(_infinite_note(p, q, prose, prec) or ""))
    elif np.array_equal(pp, qq):
        lines.append("P = Q, so KL(P‖Q) = 0 and the cross-entropy is just the entropy.")
    else:
        lines.append(_wrap(
            f"Coding outcomes drawn from P with a code built for Q costs KL(P‖Q) = {skl} "
            f"{u} per outcome more than the best code for P (H(P) = {sh} {u})."
        ))
        prose = _prose_labels(p.labels, len(pp))
        negative = [prose[i] for i in np.flatnonzero(terms["p_log_p_over_q"] < 0)]
        if negative:
            lines.append(_wrap(
                f"A term p log(p/q) is negative where q(x) > p(x) ({_names(negative)}); "
                "their sum, KL(P‖Q), never is: it is 0 only when P = Q."
            ))
    if plot is not None:
        lines += ["", f"Plot saved to {plot}"]
    _emit(lines)


def _save_plot(plot: Path, labels: list[str], pp: np.ndarray, qq: np.ndarray,
               terms: dict[str, np.ndarray], h: float, ce: float, kl: float, unit: Unit,
               p_spec: str, q_spec: str, p0: Masses, q0: Masses) -> None:
    try:
        from kullback import plotting
    except ImportError:  # pragma: no cover - matplotlib is an optional extra
        raise CLIError("--plot needs matplotlib (pip install 'kullback[plot]')") from None
    try:
        fig = plotting.explain_figure(
            labels, pp, qq, terms["p_log_p_over_q"], h, kl, ce, unit,
            p_name=f"P: {_source(p_spec, p0)}", q_name=f"Q: {_source(q_spec, q0)}",
        )
    except ImportError:
        raise CLIError("--plot needs matplotlib (pip install 'kullback[plot]')") from None
    try:
        plot.parent.mkdir(parents=True, exist_ok=True)
        plotting.save(fig, plot)
    except OSError as exc:
        raise CLIError(f"--plot: cannot write {str(plot)!r} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise CLIError(f"--plot: cannot save {str(plot)!r} ({exc})") from None


# --------------------------------------------------------------------------- entropy


def _cmd_entropy(args: argparse.Namespace, unit: Unit, precision: int | None) -> None:
    import kullback as kb

    p = parse_spec(args.P, "P", args.column)
    with _library_errors():
        h_nats = float(kb.entropy(p.values))
    h = float(unit.from_nats(h_nats))
    perplexity = math.exp(h_nats)
    n = len(p.values)
    if args.json:
        _emit_json(
            {
                "entropy": _jnum(h, precision),
                "perplexity": _jnum(perplexity, precision),
                "unit": unit.name,
                "outcomes": n,
            }
        )
        return
    prec = _DEFAULT_PRECISION if precision is None else precision
    u = unit.symbol
    hmax = float(unit.from_nats(math.log(n)))
    b = "e" if unit.name == "nats" else _basestr(unit)
    rows = [
        ("measure", "[unit]", "value", "meaning"),
        ("H(P)", f"[{u}]", _fmt(h, prec), "entropy of P"),
        (
            "perplexity",
            "",
            _fmt(perplexity, prec),
            f"{b}^H(P): as uncertain as a fair choice among {perplexity:.{min(prec, 2)}f} "
            "outcomes",
        ),
        (
            "max H",
            f"[{u}]",
            _fmt(hmax, prec),
            f"log {n}: the largest over {n} outcome{'s' if n != 1 else ''} (uniform)",
        ),
    ]
    lines = [_describe(args.P, p), f"Unit: {_unit_words(unit)}.", ""]
    _emit(lines + _table(rows, "<<><"))


# --------------------------------------------------------------------------- main


_COMMANDS: dict[str, Callable[[argparse.Namespace, Unit, int | None], None]] = {
    "compare": _cmd_compare,
    "explain": _cmd_explain,
    "entropy": _cmd_entropy,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kullback`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name); ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 for any bad input or option (after one line on stderr).
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a detached stream
                pass
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        if args.command is None:
            raise CLIError("choose a command: compare, explain or entropy (see 'kullback --help')")
        if args.command not in _COMMANDS:
            status = load(args.command).run(args)
            sys.stdout.flush()
            return int(status or 0)
        unit = _unit(args.base)
        precision = _precision(args.precision)
        _COMMANDS[args.command](args, unit, precision)
        sys.stdout.flush()
    except (CLIError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `kullback compare ... | head -1`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("KULLBACK_TRACEBACK"):
            raise
        print(
            f"error: internal error ({type(exc).__name__}: {exc}); please report it "
            "(set KULLBACK_TRACEBACK=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
