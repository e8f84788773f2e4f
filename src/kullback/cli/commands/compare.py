"""``kullback compare P Q``: every measure between P and Q in one table (or JSON object).

Examples
--------
>>> from kullback.cli import main
>>> main(["compare", "0.5,0.5", "0.25,0.75", "--base", "bits", "--json", "--precision", "4"])
{
  "entropy_p": 1.0,
  "entropy_q": 0.8113,
  "cross_entropy_pq": 1.2075,
  "cross_entropy_qp": 1.0,
  "kl_pq": 0.2075,
  "kl_qp": 0.1887,
  "js_divergence": 0.0488,
  "js_distance": 0.2209,
  "unit": "bits"
}
0
"""

from __future__ import annotations

import argparse
import math

from kullback.cli import _format as fmt
from kullback.cli import _options
from kullback.cli._io import Masses
from kullback.cli._report import alignment_notes, describe, infinite_note, prose_labels
from kullback.units import Unit

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "measures", "run"]

HELP = "every measure between P and Q in one table"
DESCRIPTION = (
    "H(P), H(Q), the cross-entropies H(P,Q) and H(Q,P), KL(P‖Q), KL(Q‖P) and the "
    "Jensen-Shannon divergence and distance, in one table."
)

# (symbol, JSON key, meaning); the unit column is [unit] except for the JS distance.
_ROWS = (
    ("H(P)", "entropy_p", "entropy of P"),
    ("H(Q)", "entropy_q", "entropy of Q"),
    ("H(P,Q)", "cross_entropy_pq", "cross-entropy: P coded with a code built for Q"),
    ("H(Q,P)", "cross_entropy_qp", "cross-entropy: Q coded with a code built for P"),
    ("KL(P‖Q)", "kl_pq", "KL divergence of P from Q = H(P,Q) - H(P)"),
    ("KL(Q‖P)", "kl_qp", "KL divergence of Q from P = H(Q,P) - H(Q)"),
    ("JS(P,Q)", "js_divergence", "Jensen-Shannon divergence (symmetric, at most {ln2})"),
    ("JSD(P,Q)", "js_distance", "Jensen-Shannon distance = √JS (a metric)"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """P, Q and the shared options."""
    _options.add_distributions(parser, "the first distribution (see inputs below)",
                               "the second distribution")


def measures(p: Masses, q: Masses, unit: Unit) -> dict[str, float]:
    """Every measure of the aligned pair, in ``unit``, computed by the library."""
    import kullback as kb

    with _options.library_errors():
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


def _table(m: dict[str, float], unit: Unit, prec: int) -> list[str]:
    u = unit.symbol
    bound = fmt.cell(unit.from_nats(math.log(2.0)), prec)  # JS <= log 2: a bound, not a measure
    ln2 = "1 bit" if unit.name == "bits" else f"{bound} {u}"
    cells = [("measure", "[unit]", "value", "meaning")]
    for symbol, key, meaning in _ROWS:
        unit_cell = f"[√{u}]" if key == "js_distance" else f"[{u}]"
        cells.append((symbol, unit_cell, fmt.cell(m[key], prec), meaning.format(ln2=ln2)))
    return fmt.table(cells, "<<><")


def run(args: argparse.Namespace) -> None:
    """Read P and Q, compute every measure, print the table or the JSON object."""
    unit, precision = _options.unit(args), _options.precision(args)
    p0, q0, p, q = _options.read_pair(args)
    m = measures(p, q, unit)
    if args.json:
        fmt.emit_json({**{k: fmt.json_number(v, precision) for k, v in m.items()},
                       "unit": unit.name})
        return
    prec = fmt.DEFAULT_PRECISION if precision is None else precision
    lines = [describe(args.P, p0), describe(args.Q, q0), *alignment_notes(p0, q0)]
    lines += [f"Unit: {fmt.unit_words(unit)}.", "", *_table(m, unit, prec)]
    labels = prose_labels(p.labels, len(p.values))
    notes = [infinite_note(p, q, labels, prec), infinite_note(q, p, labels, prec)]
    notes = [fmt.wrap(n) for n in notes if n]
    if notes:
        lines += ["", *notes]
    fmt.emit(lines)
