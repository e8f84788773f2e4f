"""The subcommands of ``kullback``: one module each, listed once in :data:`COMMANDS`.

A subcommand module ``kullback.cli.commands.<name>`` defines

* ``HELP``: one line for ``kullback --help``;
* ``DESCRIPTION`` (optional): the paragraph for ``kullback <name> --help``;
* ``add_arguments(parser)``: its arguments, on an :class:`argparse.ArgumentParser`;
* ``run(args) -> int | None``: the work; ``None`` means exit status 0.

Bad input raises :class:`kullback.cli._errors.CLIError` (or the reader's ``InputError``); the
entry point prints it as one line ``error: ...`` and exits with status 2. Modules are imported
only when their command runs or the parser is built, and import heavy libraries (torch,
transformers, pandas, matplotlib) inside ``run``, so ``kullback --help`` stays fast.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["COMMANDS", "load"]

COMMANDS: tuple[str, ...] = ("compare", "explain", "entropy", "explore", "drift", "lm")


def load(name: str) -> ModuleType:
    """The module of subcommand ``name``."""
    return importlib.import_module(f"{__name__}.{name}")
