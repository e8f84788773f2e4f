"""Options shared by the subcommands, and what they mean once parsed.

A command module calls :func:`add_output_options` (``--base``, ``--precision``, ``--json``) and
:func:`add_input_options` (``--column``, and ``--p-column``/``--q-column`` for two inputs) in
its ``add_arguments``, so every command spells and documents them the same way; ``run`` then
turns them into values with :func:`unit`, :func:`precision`, :func:`read_one` and
:func:`read_pair`, which raise :class:`~kullback.cli._errors.CLIError` with one clear line.

Examples
--------
>>> import argparse
>>> from kullback.cli import _options
>>> parser = argparse.ArgumentParser()
>>> _options.add_output_options(parser)
>>> args = parser.parse_args(["--base", "bits", "--precision", "2"])
>>> _options.unit(args).name, _options.precision(args), args.json
('bits', 2, False)
>>> _options.unit(parser.parse_args(["--base", "0.5"]))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kullback.cli._errors.CLIError: --base must be a number greater than 1, ...; got '0.5'
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager

from kullback.cli._errors import CLIError
from kullback.cli._io import Masses, align, parse_spec
from kullback.units import Unit, resolve_unit

__all__ = [
    "INPUT_HELP",
    "add_distributions",
    "add_input_options",
    "add_output_options",
    "library_errors",
    "precision",
    "read_one",
    "read_pair",
    "unit",
]


INPUT_HELP = """\
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


def add_distributions(parser: argparse.ArgumentParser, p_help: str,
                      q_help: str | None = None) -> None:
    """The positional P (and Q when ``q_help`` is given) with every shared option: what a
    command that reads distributions the usual way needs."""
    parser.add_argument("P", help=p_help)
    if q_help is not None:
        parser.add_argument("Q", help=q_help)
    add_output_options(parser)
    add_input_options(parser, pair=q_help is not None)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--base``, ``--precision`` and ``--json``, the same in every command."""
    parser.add_argument(
        "--base",
        default="nats",
        metavar="B",
        help="logarithm base: a number greater than 1, or bits, nats, bans (default: nats)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parser.add_argument(
        "--precision",
        metavar="N",
        default=None,
        help="digits after the decimal point (default: 4 in tables, full precision in JSON)",
    )


def add_input_options(parser: argparse.ArgumentParser, *, pair: bool) -> None:
    """``--column`` (and ``--p-column``/``--q-column`` when the command reads P and Q).

    Also sets the command's epilog to :data:`INPUT_HELP`, the forms an input can take.
    """
    parser.epilog = parser.epilog or INPUT_HELP
    parser.add_argument(
        "--column",
        metavar="NAME",
        help="the column (CSV, Parquet), key (nested JSON) or array (.npz) to read"
        + (", for both inputs" if pair else ""),
    )
    if pair:
        parser.add_argument("--p-column", metavar="NAME", help="--column for P only")
        parser.add_argument("--q-column", metavar="NAME", help="--column for Q only")


def unit(args: argparse.Namespace) -> Unit:
    """The unit of ``--base``; a base must be greater than 1 (a smaller one flips signs)."""
    text = args.base
    try:
        resolved = resolve_unit(text)
    except (ValueError, TypeError):
        resolved = None
    if resolved is None or not (math.isfinite(resolved.base) and resolved.base > 1):
        raise CLIError(
            f"--base must be a number greater than 1, or bits, nats or bans; got {text!r}"
        )
    return resolved


def precision(args: argparse.Namespace) -> int | None:
    """``--precision`` as a whole number from 0 to 15, or None when not given."""
    text = args.precision
    if text is None:
        return None
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 15:
        raise CLIError(f"--precision must be a whole number from 0 to 15; got {text!r}")
    return n


def read_one(args: argparse.Namespace) -> Masses:
    """The single input ``P`` (with ``--column``)."""
    return parse_spec(args.P, "P", args.column)


def read_pair(args: argparse.Namespace) -> tuple[Masses, Masses, Masses, Masses]:
    """Read P and Q; return them as read and aligned on the same outcomes."""
    if args.P == "-" and args.Q == "-":
        raise CLIError("P and Q cannot both be read from stdin ('-'); put one of them in a file")
    p = parse_spec(args.P, "P", args.p_column or args.column)
    q = parse_spec(args.Q, "Q", args.q_column or args.column)
    pa, qa, _ = align(p, q)
    return p, q, pa, qa


@contextmanager
def library_errors() -> Iterator[None]:
    """Re-word a library ValueError (arguments p, q) for the command line (inputs P, Q)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = re.sub(r"\b([pq])\b(?!\()", lambda m: m.group(1).upper(), str(exc))
        raise CLIError(message) from None
