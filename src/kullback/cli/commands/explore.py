"""``kullback explore``: write the interactive explorer page, optionally open it in a browser.

The page is one self-contained HTML file (see :mod:`kullback.explore`): drag the bars of P and
Q and watch entropy, cross-entropy, KL and JS respond. Without P and Q it starts from the
textbook pair; with them, from the user's data read as ``kullback compare`` reads it (labels
become outcome names; counts are normalised).

Examples
--------
>>> import tempfile, pathlib
>>> from kullback.cli import main
>>> out = pathlib.Path(tempfile.mkdtemp()) / "explore.html"
>>> main(["explore", "sun=3,rain=1", "sun=1,rain=1", "-o", str(out)])  # doctest: +ELLIPSIS
Wrote .../explore.html (... kB): open it in a web browser; it needs no network.
0
>>> main(["explore", "0.5,0.5"])  # the message goes to stderr
2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kullback.cli._errors import CLIError

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]

HELP = "write an interactive page to explore P and Q in a browser (drag the bars)"
DESCRIPTION = (
    "Write one self-contained HTML page (no network needed: open it from disk, mail it, embed "
    "it) where P and Q are bar charts to drag or type into, with H(P), H(Q), both "
    "cross-entropies, both KL divergences, JS, the per-outcome table of 'kullback explain' and "
    "the identity H(P,Q) = H(P) + KL(P‖Q), all updating live. Without P and Q the page starts "
    "from the textbook pair p = (0.42, 0.31, 0.27), q = (0.25, 0.5, 0.25)."
)
_SUFFIXES = {".html", ".htm"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kullback explore``."""
    parser.add_argument("P", nargs="?", help="the true (or observed) distribution (optional)")
    parser.add_argument("Q", nargs="?", help="the model (or forecast) distribution (optional)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", default="explore.html",
        help="the page to write, ending in .html, or - for stdout (default: explore.html)",
    )
    parser.add_argument(
        "--base", default="nats", metavar="B",
        help="the unit shown first: bits, nats or bans (default: nats; the page can switch)",
    )
    parser.add_argument("--open", action="store_true", help="open the page in the web browser")
    parser.add_argument("--column", metavar="NAME",
                        help="the column (CSV, Parquet) or key (JSON) to read, for both inputs")
    parser.add_argument("--p-column", metavar="NAME", help="--column for P only")
    parser.add_argument("--q-column", metavar="NAME", help="--column for Q only")


def _output(text: str) -> Path | None:
    """The output path (None for stdout), refused early when it cannot be a page."""
    if text == "-":
        return None
    path = Path(text)
    if path.is_dir():
        raise CLIError(f"-o: {text!r} is a directory; give a file name such as explore.html")
    if path.suffix.lower() not in _SUFFIXES:
        raise CLIError(f"-o: the page is HTML; give a file name ending in .html (got {text!r})")
    return path


def _page(args: argparse.Namespace):  # -> kullback.explore.ExplorerPage
    from kullback.cli._io import align, parse_spec
    from kullback.explore import UNITS, explore_html
    from kullback.units import resolve_unit

    try:
        unit = resolve_unit(args.base)
    except (TypeError, ValueError):
        unit = None
    if unit is None or unit.name not in UNITS:
        raise CLIError(f"--base: the explorer shows bits, nats or bans; got {args.base!r}")
    if (args.P is None) != (args.Q is None):
        raise CLIError("give both P and Q, or neither (for the textbook pair)")
    if args.P is None:
        return explore_html(base=unit.name)
    if args.P == "-" and args.Q == "-":
        raise CLIError("P and Q cannot both be read from stdin ('-'); put one of them in a file")
    p = parse_spec(args.P, "P", args.p_column or args.column)
    q = parse_spec(args.Q, "Q", args.q_column or args.column)
    pa, qa, labels = align(p, q)
    return explore_html(pa.probs, qa.probs, labels=labels, base=unit.name,
                        p_name=_name(args.P, p.source), q_name=_name(args.Q, q.source))


def _name(spec: str, source: str) -> str:
    """What to call an input on the page: the inline list as typed, or the file's name."""
    text = spec if source == "inline list" else Path(source).name
    return text if len(text) <= 40 else text[:39] + "…"


def _open(path: Path) -> None:
    import webbrowser

    if webbrowser.open(path.resolve().as_uri()):
        print("Opened it in your web browser.")
    else:
        print(f"Could not find a web browser to open it; open {path.resolve().as_uri()} yourself.")


def run(args: argparse.Namespace) -> int:
    """Write the page (and open it with ``--open``)."""
    path = _output(args.output)
    page = _page(args)
    if path is None:
        if args.open:
            raise CLIError("--open needs a file: give -o FILE.html instead of -o -")
        sys.stdout.write(str(page))
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.save(path)
    except OSError as exc:
        raise CLIError(f"-o: cannot write {str(path)!r} ({exc.strerror or exc})") from None
    size = len(str(page).encode("utf-8")) / 1000
    print(f"Wrote {path} ({size:.0f} kB): open it in a web browser; it needs no network.")
    if args.open:
        _open(path)
    return 0
