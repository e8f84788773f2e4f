"""``kullback drift REF CUR``: which columns of a table moved from a reference, and why.

Examples
--------
>>> from pathlib import Path
>>> import kullback
>>> from kullback.cli import main
>>> ex = Path(kullback.__file__).parents[2] / "examples"
>>> main(["drift", str(ex / "drift_reference.csv"), str(ex / "drift_current.csv"),
...       "--columns", "plan", "--base", "bits"])  # doctest: +ELLIPSIS
column  kind ...
plan    categorical  inf ...
0
>>> main(["drift", str(ex / "drift_reference.csv"), "nowhere.parquet"])  # error: on stderr
2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kullback.cli._errors import CLIError
from kullback.units import resolve_unit

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]

HELP = "which columns of a table drifted from a reference table (PSI, KL, JS), and why"
DESCRIPTION = (
    "Compare every column shared by a reference table REF and a current table CUR (Parquet "
    "or CSV, streamed in batches). Numeric columns are binned at the reference's exact "
    "quantiles (equal-mass bins, outer bins open to -inf and +inf); text, boolean and "
    "few-level integer columns by category; missing values are their own bin. Each column "
    "gets KL both ways, the Jensen-Shannon divergence and distance, and PSI (= KL(ref‖cur) + "
    "KL(cur‖ref)), computed exactly: a category new in CUR gives an infinite KL and PSI unless "
    "--pseudocount smooths the counts. The table lists the most drifted column first with "
    "the bins that drive its PSI."
)

_PROGRESS_BYTES = 32 << 20  # show a progress bar when an input file is at least this large


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise CLIError(f"expected comma-separated column names, got {text!r}")
    return names


def _bins(text: str) -> int | list[float]:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise CLIError(f"--bins: expected a number of bins or comma-separated edges, "
                       f"got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kullback drift``."""
    parser.add_argument("REF", help="the reference table: a .parquet or .csv file")
    parser.add_argument("CUR", help="the current table: a .parquet or .csv file")
    parser.add_argument("--columns", metavar="A,B", help="compare only these columns")
    parser.add_argument("--categorical", metavar="A,B",
                        help="treat these columns as categories whatever their type")
    parser.add_argument("--bins", default="10", metavar="N",
                        help="equal-mass bins per numeric column (default 10), or "
                        "comma-separated inner edges")
    parser.add_argument("--pseudocount", type=float, metavar="X",
                        help="add X to every bin on both sides (0.5: Jeffreys); without it a "
                        "category seen on one side only gives infinite KL and PSI")
    parser.add_argument("--base", default="nats", metavar="B",
                        help="logarithm base: bits, nats, bans or a number (default: nats)")
    parser.add_argument("--ci", type=float, metavar="C",
                        help="bootstrap intervals of JS and PSI and a permutation p-value "
                        "at this coverage (e.g. 0.95)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the resampling (default 0)")
    parser.add_argument("--json", action="store_true",
                        help="print the whole report as JSON (infinity as \"inf\")")
    parser.add_argument("--plot", metavar="FILE",
                        help="also save a figure (.png, .svg, .pdf): reference vs current per "
                        "column, the bins driving PSI highlighted")


def _progress(paths: list[str]) -> bool:
    return any(Path(p).is_file() and Path(p).stat().st_size >= _PROGRESS_BYTES for p in paths)


def run(args: argparse.Namespace) -> int:
    """Compare the two tables and print the report (and save the figure)."""
    try:
        import pyarrow  # noqa: F401 - needed by every reader

        from kullback.drift import DriftInputError, drift
    except ImportError:
        raise CLIError("kullback drift needs pyarrow: pip install 'kullback[drift]'") from None
    try:
        resolve_unit(args.base)
    except ValueError as exc:
        raise CLIError(f"--base: {exc}") from None
    try:
        report = drift(
            args.REF, args.CUR, columns=_names(args.columns),
            categorical=_names(args.categorical), bins=_bins(args.bins),
            pseudocount=args.pseudocount, base=args.base, ci=args.ci,
            random_state=args.seed, progress=_progress([args.REF, args.CUR]),
        )
    except DriftInputError as exc:
        raise CLIError(str(exc)) from None
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json
          else str(report))
    if args.plot:
        _plot(report, Path(args.plot), quiet=args.json)
    return 0


def _plot(report: object, path: Path, *, quiet: bool) -> None:
    try:
        report.plot(path)
    except ImportError:
        raise CLIError("--plot needs matplotlib (pip install 'kullback[plot]')") from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"--plot: cannot write {str(path)!r} ({exc})") from None
    if not quiet:  # keep --json output one JSON document
        print(f"\nPlot saved to {path}")
