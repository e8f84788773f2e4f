"""``kullback entropy P``: the entropy and perplexity of one distribution.

Examples
--------
>>> from kullback.cli import main
>>> main(["entropy", "1,1,1,1", "--base", "bits", "--json"])
{
  "entropy": 2.0,
  "perplexity": 4.0,
  "unit": "bits",
  "outcomes": 4
}
0
"""

from __future__ import annotations

import argparse
import math

from kullback.cli import _format as fmt
from kullback.cli import _options
from kullback.cli._report import describe
from kullback.units import Unit

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]

HELP = "entropy and perplexity of one distribution"
DESCRIPTION = "The entropy H(P) and the perplexity b^H(P) of one distribution."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """P and the shared options."""
    _options.add_distributions(parser, "the distribution (see inputs below)")


def _rows(h: float, perplexity: float, n: int, unit: Unit, prec: int) -> list[tuple[str, ...]]:
    u = unit.symbol
    hmax = float(unit.from_nats(math.log(n)))  # the bound log n, not a measure's arithmetic
    b = "e" if unit.name == "nats" else fmt.base_text(unit)
    fair = f"{perplexity:.{min(prec, 2)}f}"
    return [
        ("measure", "[unit]", "value", "meaning"),
        ("H(P)", f"[{u}]", fmt.cell(h, prec), "entropy of P"),
        ("perplexity", "", fmt.cell(perplexity, prec),
         f"{b}^H(P): as uncertain as a fair choice among {fair} outcomes"),
        ("max H", f"[{u}]", fmt.cell(hmax, prec),
         f"log {n}: the largest over {n} outcome{'s' if n != 1 else ''} (uniform)"),
    ]


def run(args: argparse.Namespace) -> None:
    """Read P, compute H(P) with the library, print the table or the JSON object."""
    import kullback as kb

    unit, precision = _options.unit(args), _options.precision(args)
    p = _options.read_one(args)
    with _options.library_errors():
        h_nats = float(kb.entropy(p.values))
    h = float(unit.from_nats(h_nats))
    perplexity = math.exp(h_nats)  # b^H(P), the same in every unit
    n = len(p.values)
    if args.json:
        fmt.emit_json({"entropy": fmt.json_number(h, precision),
                       "perplexity": fmt.json_number(perplexity, precision),
                       "unit": unit.name, "outcomes": n})
        return
    prec = fmt.DEFAULT_PRECISION if precision is None else precision
    lines = [describe(args.P, p), f"Unit: {fmt.unit_words(unit)}.", ""]
    fmt.emit(lines + fmt.table(_rows(h, perplexity, n, unit, prec), "<<><"))
