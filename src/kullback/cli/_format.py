"""How the command line writes: table cells, JSON numbers, tables, prose, and safe labels.

Everything a command prints goes through here, so the look is the same in every command and
nothing from an input file reaches the terminal raw: :func:`safe` escapes control characters
(``ESC`` sequences, newlines, bidi overrides) in labels and paths. JSON output keeps labels as
they are; :func:`emit_json` escapes them the way JSON does.

Examples
--------
>>> from kullback.cli._format import cell, safe, table
>>> cell(0.125, 3), cell(2e-9, 4), cell(float("inf"), 4)
('0.125', '2.000e-09', '∞')
>>> safe("rain\\x1b[31m\\nred")
'rain\\\\x1b[31m\\\\nred'
>>> table([("a", "1.0"), ("bb", "10.0")], "<>")
['a    1.0', 'bb  10.0']
"""

from __future__ import annotations

import json
import math
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from kullback.cli._errors import CLIError
from kullback.units import Unit

__all__ = [
    "DEFAULT_PRECISION",
    "WIDTH",
    "base_text",
    "cell",
    "emit",
    "emit_json",
    "json_number",
    "names",
    "safe",
    "silence_stdout",
    "table",
    "unit_words",
    "wrap",
    "write",
]

DEFAULT_PRECISION = 4
WIDTH = 88  # wrap prose at this many columns


def safe(text: Any) -> str:
    r"""``text`` with every non-printable character escaped (``\x1b``, ``\n``, ``\u202e``).

    Labels and file names come from the input; a terminal must never receive them raw.
    """
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in s)


def cell(x: float, precision: int) -> str:
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


def json_number(x: float, precision: int | None) -> float | str:
    """A JSON value: a number, or ``"inf"`` (JSON has no infinity)."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "nan"
    return round(x, precision) if precision is not None else x


def table(rows: Sequence[Sequence[str]], align: str, gap: str = "  ") -> list[str]:
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


def unit_words(unit: Unit) -> str:
    """``bits (log base 2)``, ``nats (natural log)``, ``log_3 units (log base 3)``."""
    if unit.name == "nats":
        return "nats (natural log)"
    name = unit.name if unit.name in ("bits", "bans") else f"{unit.symbol} units"
    return f"{name} (log base {base_text(unit)})"


def base_text(unit: Unit) -> str:
    """The base as a person writes it: ``2``, ``1.5``."""
    b = unit.base
    return str(int(b)) if float(b).is_integer() else repr(b)


def names(items: Sequence[Any], most: int = 6) -> str:
    """``a, b and c``; past ``most`` items, ``... and 12 more``."""
    shown = [safe(x) for x in items[:most]]
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" and {len(items) - most} more" if len(items) > most else "")


def wrap(text: str) -> str:
    """Fill prose to :data:`WIDTH` without breaking a formula such as ``q(x) = 0``."""
    glued = text.replace(" = ", "\xa0=\xa0")
    filled = textwrap.fill(glued, width=WIDTH, break_long_words=False, break_on_hyphens=False)
    return filled.replace("\xa0", " ")


def emit(lines: Sequence[str] | str) -> None:
    """Write lines (or one block of text) to stdout."""
    write(lines if isinstance(lines, str) else "\n".join(lines) + "\n")


def emit_json(obj: dict[str, Any]) -> None:
    """Write one JSON object to stdout (labels kept, control characters JSON-escaped)."""
    write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write(text: str) -> None:
    """Write to stdout and flush; a write that fails (a full disk) is a one-line error.

    A closed pipe (``| head``) propagates as :class:`BrokenPipeError`: the entry point ends
    quietly then, as other tools do.
    """
    if sys.stdout is None:  # started with stdout closed (`kullback ... >&-`)
        raise CLIError("cannot write the output (stdout is closed)")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        silence_stdout()
        raise CLIError(f"cannot write the output ({exc.strerror or exc})") from None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that nothing (not the exit flush) writes there again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass
