"""The argument parser of ``kullback``: one sub-parser per module listed in ``COMMANDS``.

Each subcommand module (see :mod:`kullback.cli.commands`) supplies its ``HELP``, optional
``DESCRIPTION`` and ``add_arguments``; nothing here names a command. Command modules are light
to import (heavy libraries load inside ``run``), so building the parser, and ``kullback
--help``, stays quick.

Examples
--------
>>> from kullback.cli._parser import build_parser
>>> args = build_parser().parse_args(["entropy", "0.5,0.5", "--base", "bits"])
>>> args.command, args.P, args.base
('entropy', '0.5,0.5', 'bits')
"""

from __future__ import annotations

import argparse
import re
import textwrap
from types import ModuleType
from typing import Any, NoReturn

from kullback.cli._errors import CLIError
from kullback.cli._format import WIDTH
from kullback.cli._options import INPUT_HELP
from kullback.cli.commands import COMMANDS, load

__all__ = ["Parser", "build_parser", "command_modules"]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and negative numbers accepted as positional values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if kwargs.get("description"):
            kwargs["description"] = textwrap.fill(
                kwargs["description"], width=WIDTH, break_on_hyphens=False
            )
        super().__init__(*args, **kwargs)
        # "-0.1,0.5" and "-inf" are values (refused later as negative), not options.
        self._negative_number_matcher = re.compile(r"^-(\.?\d|inf|nan)", re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")


_EXAMPLES = """\
examples:
  kullback compare 0.42,0.31,0.27 0.25,0.5,0.25 --base bits
  kullback compare observed.csv model.json --json
  kullback explain examples/weather_observed.json examples/weather_forecast.json \\
      --base bits --plot out/explain.png
  kullback entropy sunny=146,cloudy=110,rain=73 --base bits
  echo 3,1 | kullback entropy - --base bits
"""


def command_modules() -> dict[str, ModuleType]:
    """The module of every command in ``COMMANDS``, in order.

    A module that does not exist yet (a command still being written) is left out; any other
    import failure is a bug and propagates.
    """
    found = {}
    for name in COMMANDS:
        try:
            found[name] = load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"kullback.cli.commands.{name}":
                raise
    return found


def build_parser() -> Parser:
    """The ``kullback`` parser with a sub-parser for each command module."""
    from kullback import __version__

    parser = Parser(
        prog="kullback",
        description=(
            "Entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence of "
            "discrete distributions, with the unit on every number."
        ),
        epilog=INPUT_HELP + "\n" + _EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"kullback {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in command_modules().items():
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
        )
        module.add_arguments(cmd)
    return parser
