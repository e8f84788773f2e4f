"""The ``kullback`` command line: compare, explain and measure distributions.

::

    kullback compare P Q          H(P), H(Q), both cross-entropies, both KLs, JS, in one table
    kullback explain P Q          the worked computation of KL(P‖Q), outcome by outcome
    kullback explain P Q --plot out/explain.png
    kullback entropy P            entropy and perplexity

P and Q are inline lists (``0.42,0.31,0.27``, ``sunny=146,rain=73``), files (``.csv``,
``.json``, ``.npy``, ``.parquet``) or ``-`` for stdin; counts are normalised. Every bad input
ends with exit status 2 and one line on stderr, ``error: ...``, naming the input.

The package is laid out as the command is: :func:`main` here (the entry point and its error
handling), :mod:`~kullback.cli._parser` (argparse, one sub-parser per command),
:mod:`~kullback.cli._options` (the options every command shares), :mod:`~kullback.cli._io`
(reading inputs), :mod:`~kullback.cli._format` and :mod:`~kullback.cli._report` (what is
printed), and one module per subcommand in :mod:`kullback.cli.commands`.

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

import os
import sys
from collections.abc import Sequence

from kullback.cli import _errors, _format, _io, _parser, commands

__all__ = ["main"]


def _replace_undecodable() -> None:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a detached stream
                pass


def _stdout_failed() -> bool:
    """Whether stdout cannot take its pending output (so an OSError came from writing it)."""
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parser.build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if args.command is None:
        raise _errors.CLIError("choose a command (see 'kullback --help')")
    status = commands.load(args.command).run(args)
    _format.write("")  # flush, turning a failed write into a one-line error
    return int(status or 0)


def _error(message: str) -> int:
    print(f"error: {_format.safe(message)}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kullback`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name); ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 for any bad input or option or an output that cannot be written
        (after one line on stderr), 1 for a bug (an internal error, reported as one line).
    """
    _replace_undecodable()
    try:
        return _run(argv)
    except (_errors.CLIError, _io.InputError) as exc:
        return _error(str(exc))
    except BrokenPipeError:  # e.g. `kullback compare ... | head -1`
        _format.silence_stdout()
        return 0
    except OSError as exc:
        if not _stdout_failed():
            return _internal(exc)
        _format.silence_stdout()  # a command that printed to a full disk (/dev/full) itself
        return _error(f"cannot write the output ({exc.strerror or exc})")
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _internal(exc)


def _internal(exc: Exception) -> int:
    """A bug: one line (or the traceback with KULLBACK_TRACEBACK=1), exit status 1."""
    if os.environ.get("KULLBACK_TRACEBACK"):
        raise exc
    _error(f"internal error ({type(exc).__name__}: {exc}); please report it "
           "(set KULLBACK_TRACEBACK=1 to see the traceback)")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
