"""The subcommands of ``kullback``: one module each, listed once in :data:`COMMANDS`.

A subcommand module ``kullback.cli.commands.<name>`` defines

* ``HELP``: one line for ``kullback --help``;
* ``DESCRIPTION`` (optional): the paragraph for ``kullback <name> --help``;
* ``add_arguments(parser)``: its arguments, on an :class:`argparse.ArgumentParser`;
* ``run(args) -> int | None``: the work; ``None`` means exit status 0.

Bad input raises :class:`kullback.cli._errors.CLIError` (or the reader's ``InputError``); the
entry point prints it as one line ``error: ...`` and exits with status 2. Modules are imported
when the parser is built (so they must be light) and import heavy libraries (torch,
transformers, pandas, matplotlib) inside ``run``, so ``kullback --help`` stays fast. A name
listed here whose module does not exist yet is left out of the parser; any other import error
is a bug and is not hidden.

What a command can share, so that every command looks the same:

* :mod:`kullback.cli._options`: ``add_distributions(parser, p_help, q_help=None)`` (P, Q and
  all of the below), ``add_output_options(parser)`` (``--base``, ``--precision``,
  ``--json``), ``add_input_options(parser, pair=...)`` (``--column``, ``--p-column``,
  ``--q-column``, and the epilog listing the input forms); in ``run``, ``unit(args)`` (a base
  must be > 1), ``precision(args)``, ``read_one(args)``, ``read_pair(args)`` (read and align by
  label) and ``library_errors()`` (a library ValueError as a one-line error about P/Q);
* :mod:`kullback.cli._format`: ``emit``/``emit_json`` (a failed write is a one-line error),
  ``cell``/``json_number``/``table``, and ``safe(text)``, which every label or path printed as
  text must pass through (control characters escaped);
* :mod:`kullback.cli._report`: the header lines about the inputs (``describe``,
  ``alignment_notes``, ``infinite_note``);
* :mod:`kullback.plotting._atomic`: ``write_atomically(path, write)`` for any file a command
  writes (a temporary file beside it, renamed; removed on failure).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["COMMANDS", "load"]

COMMANDS: tuple[str, ...] = ("compare", "explain", "entropy", "explore", "drift", "lm")


def load(name: str) -> ModuleType:
    """The module of subcommand ``name``."""
    return importlib.import_module(f"{__name__}.{name}")
