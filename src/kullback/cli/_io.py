"""Read a distribution for the command line: inline lists, CSV, JSON, ``.npy``, Parquet, stdin.

Every reader returns :class:`Masses`: the raw non-negative numbers (probabilities, counts or
weights; the measures normalise them), optional outcome labels, and where they came from.
Anything wrong ends in :class:`InputError`, whose message names the input (``P`` or ``Q``)
and the problem, ready to print after ``error:``. Positions in messages count from 1, as a
person reading a list does; labelled inputs are pointed at by label instead.

pyarrow is imported only to read a ``.parquet`` file, and ``.npy`` files are read with
``allow_pickle=False``: a pickled array is refused, never executed.

Examples
--------
>>> from kullback.cli._io import parse_spec
>>> m = parse_spec("0.42, 0.31, 0.27", "P")
>>> m.values.tolist(), m.labels, m.kind
([0.42, 0.31, 0.27], None, 'probabilities')
>>> parse_spec("sunny=146,rain=73", "P").labels
('sunny', 'rain')
>>> parse_spec("0.5,-0.1,0.6", "Q")
Traceback (most recent call last):
...
kullback.cli._io.InputError: Q has a negative entry at position 2 (-0.1)
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from kullback.validation import first_invalid

__all__ = ["InputError", "Masses", "align", "parse_spec", "read_masses"]

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat"}
_KNOWN_SUFFIXES = _TEXT_SUFFIXES | {".json", ".npy", ".npz", ".parquet", ".pq"}
# A numeric first column is read as outcome labels only under one of these headers.
_LABEL_HEADERS = {
    "label", "labels", "outcome", "outcomes", "category", "categories", "class", "name",
    "key", "symbol", "x", "value_label", "face", "state", "event",
}


class InputError(ValueError):
    """A bad input; the message names it (``P``/``Q``) and says what is wrong."""


@dataclass(frozen=True)
class Masses:
    """One distribution as read: raw non-negative masses, optional labels, a source.

    Attributes
    ----------
    name : str
        ``"P"`` or ``"Q"``: how messages and tables refer to it.
    values : numpy.ndarray
        1-D float64 masses, validated (finite, non-negative, positive total).
    labels : tuple of str or None
        Outcome labels, or None for a plain list.
    source : str
        Where it came from, for the output's header (``"inline list"``, a path, ``"stdin"``).
    """

    name: str
    values: np.ndarray
    labels: tuple[str, ...] | None
    source: str

    @property
    def total(self) -> float:
        """The sum of the masses."""
        return float(math.fsum(self.values.tolist()))

    @property
    def kind(self) -> str:
        """``"probabilities"`` (sum 1), ``"counts"`` (whole numbers) or ``"weights"``."""
        if abs(self.total - 1.0) <= 1e-9:
            return "probabilities"
        if bool(np.all(self.values == np.floor(self.values))):
            return "counts"
        return "weights"

    @property
    def probs(self) -> np.ndarray:
        """The masses normalised to probabilities."""
        return self.values / self.total

    def describe(self) -> str:
        """A one-line account of the input, saying how it was normalised.

        Examples
        --------
        >>> from kullback.cli._io import parse_spec
        >>> parse_spec("146,110,73", "P").describe()
        'counts over 3 outcomes (total 329), normalised: p(x) = n(x) / 329'
        """
        n = len(self.values)
        what = f"over {n} outcome{'s' if n != 1 else ''}"
        kind = self.kind
        if kind == "probabilities":
            return f"probabilities {what}"
        letter = self.name.lower()
        total = _num(self.total)
        if kind == "counts":
            return f"counts {what} (total {total}), normalised: {letter}(x) = n(x) / {total}"
        return f"weights {what} (sum {total}), normalised: {letter}(x) = w(x) / {total}"


# --------------------------------------------------------------------------- helpers


def _num(v: float) -> str:
    """A number as a person typed it: ``-0.1``, ``3`` (not ``3.0``), ``nan``."""
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def _float(cell: str) -> float | None:
    """A cell as a float, or None when it is not a number."""
    try:
        return float(cell)
    except ValueError:
        return None


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _where(labels: Sequence[str] | None, i: int) -> str:
    return f"for outcome {labels[i]!r}" if labels is not None else f"at position {i + 1}"


def _finish(
    name: str, values: Sequence[float] | np.ndarray, labels: Sequence[str] | None, source: str
) -> Masses:
    """Validate parsed masses and wrap them."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise InputError(f"{name} is empty: a distribution needs at least one outcome")
    if labels is not None:
        labels = tuple(str(lab) for lab in labels)
        seen: dict[str, int] = {}
        for i, lab in enumerate(labels):
            if lab in seen:
                raise InputError(
                    f"{name} has the outcome {lab!r} twice (entries {seen[lab] + 1} and {i + 1})"
                )
            seen[lab] = i
    found = first_invalid(arr)
    if found is not None:
        (i,), what = found
        value = "" if what == "a NaN entry" else f" ({_num(arr[i])})"
        raise InputError(f"{name} has {what} {_where(labels, i)}{value}")
    with np.errstate(over="ignore"):
        total = float(np.sum(arr))
    if total == 0:
        raise InputError(f"{name} is all zeros: a distribution needs positive total mass")
    if not math.isfinite(total):
        raise InputError(f"{name}: the entries sum to more than the largest float; rescale them")
    return Masses(name, arr, labels, source)


def _numbers(name: str, cells: Sequence[Any], labels: Sequence[str] | None) -> list[float]:
    """Parse cells (strings or JSON values) as floats; refuse anything else by position."""
    out = []
    for i, cell in enumerate(cells):
        if isinstance(cell, bool) or cell is None:
            v = None
        elif isinstance(cell, int | float):
            v = float(cell)
        elif isinstance(cell, str):
            v = _float(cell.strip())
        else:
            v = None
        if v is None:
            shown = cell if isinstance(cell, str) else json.dumps(cell)
            if isinstance(cell, str) and not cell.strip():
                raise InputError(f"{name} has an empty entry {_where(labels, i)}")
            raise InputError(
                f"{name} has a non-numeric entry {_where(labels, i)} ({_short(str(shown))!r})"
            )
        out.append(v)
    return out


# --------------------------------------------------------------------------- inline


def _parse_inline(text: str, name: str) -> Masses:
    """``0.42,0.31,0.27``, ``sunny=146,rain=73`` (``:`` works too) or a JSON literal."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        return _parse_json_text(stripped, name, "inline JSON", None)
    parts = [c.strip() for c in stripped.split(",")] if "," in stripped else stripped.split()
    if parts and parts[-1] == "" and len(parts) > 1:  # a trailing comma
        parts = parts[:-1]
    if any("=" in c for c in parts):
        labels, cells = [], []
        for i, c in enumerate(parts):
            if "=" not in c:
                raise InputError(
                    f"{name}: entry {i + 1} ({_short(c)!r}) has no label; write every entry "
                    "as label=value, or none"
                )
            lab, _, val = c.partition("=")
            labels.append(lab.strip())
            cells.append(val)
        return _finish(name, _numbers(name, cells, labels), labels, "inline list")
    return _finish(name, _numbers(name, parts, None), None, "inline list")


# --------------------------------------------------------------------------- JSON


def _parse_json_text(text: str, name: str, source: str, column: str | None) -> Masses:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: {source} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    return _from_json(data, name, source, column)


def _from_json(data: Any, name: str, source: str, column: str | None) -> Masses:
    if isinstance(data, list):
        return _finish(name, _numbers(name, data, None), None, source)
    if isinstance(data, dict):
        values = list(data.values())
        nested = values and all(isinstance(v, dict | list) for v in values)
        if nested:
            keys = ", ".join(map(str, data))
            if column is None:
                raise InputError(
                    f"{name}: {source} holds several distributions ({_short(keys, 60)}); "
                    "choose one with --column"
                )
            if column not in data:
                raise InputError(
                    f"{name}: {source} has no entry {column!r} (it has: {_short(keys, 60)})"
                )
            return _from_json(data[column], name, f"{source}[{column}]", None)
        labels = [str(k) for k in data]
        return _finish(name, _numbers(name, values, labels), labels, source)
    raise InputError(
        f"{name}: {source} must hold a JSON list of numbers or an object mapping outcome "
        f"labels to numbers; got a JSON {type(data).__name__}"
    )


# --------------------------------------------------------------------------- CSV / text


def _is_label_column(header: str | None, cells: Sequence[str]) -> bool:
    if header is not None and header.strip().lower() in _LABEL_HEADERS:
        return True
    return all(_float(c) is None for c in cells)


def _parse_table_text(text: str, name: str, source: str, column: str | None) -> Masses:
    """CSV (comma, tab or semicolon) or whitespace-separated numbers; header optional."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{name}: {source} is empty: a distribution needs at least one outcome")
    first = lines[0]
    delim = next((d for d in (",", "\t", ";") if d in first), None)
    if delim is None:
        rows = [ln.split() for ln in lines]
    else:
        rows = [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(
                f"{name}: {source} row {i + 1} has {len(row)} fields, but row 1 has {width}"
            )
    header: list[str] | None = None
    if len(rows) > 1 and all(_float(c) is None for c in rows[0]):
        header, rows = rows[0], rows[1:]

    if width == 1:
        if column is not None and header is not None and column != header[0]:
            raise _unknown_column(name, source, column, header)
        return _finish(name, _numbers(name, [r[0] for r in rows], None), None, source)

    if len(rows) == 1 and column is None and all(_float(c) is not None for c in rows[0]):
        # One row of numbers: a distribution written across (labels from the header, if any).
        return _finish(name, _numbers(name, rows[0], header), header, source)

    columns = [[r[j] for r in rows] for j in range(width)]
    names = header if header is not None else [str(j + 1) for j in range(width)]
    label_col = 0 if _is_label_column(header[0] if header else None, columns[0]) else None
    if column is not None:
        if column in names:
            j = names.index(column)
        else:
            raise _unknown_column(name, source, column, names if header else None, width)
        if j == label_col and all(_float(c) is None for c in columns[0]):
            raise InputError(f"{name}: column {column!r} of {source} holds labels, not numbers")
        if j == label_col:
            label_col = None
    else:
        candidates = [j for j in range(width) if j != label_col]
        if len(candidates) > 1:
            shown = ", ".join(names[j] for j in candidates)
            raise InputError(
                f"{name}: {source} has {len(candidates)} columns of values ({_short(shown, 60)}); "
                "choose one with --column"
            )
        j = candidates[0]
    labels = list(columns[label_col]) if label_col is not None else None
    return _finish(name, _numbers(name, columns[j], labels), labels, source)


def _unknown_column(
    name: str, source: str, column: str, names: Sequence[str] | None, width: int = 1
) -> InputError:
    if names is None:
        return InputError(
            f"{name}: {source} has no header row, so no column is called {column!r}; "
            f"use a column number from 1 to {width}"
        )
    return InputError(
        f"{name}: {source} has no column {column!r} (columns: {_short(', '.join(names), 60)})"
    )


# --------------------------------------------------------------------------- binary formats


def _read_npy(path: Path, name: str, source: str, column: str | None) -> Masses:
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(
                f"{name}: {source} holds pickled Python objects, which kullback never loads; "
                "save a numeric array (np.save(path, np.asarray(x, dtype=float)))"
            ) from None
        raise InputError(f"{name}: {source} is not a valid .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{name}: {source} is not a valid .npy file ({exc})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.files)
            if column is None and len(keys) == 1:
                column = keys[0]
            if column is None:
                raise InputError(
                    f"{name}: {source} holds several arrays ({_short(', '.join(keys), 60)}); "
                    "choose one with --column"
                )
            if column not in keys:
                raise InputError(
                    f"{name}: {source} has no array {column!r} "
                    f"(arrays: {_short(', '.join(keys), 60)})"
                )
            try:
                arr = loaded[column]
            except ValueError:
                raise InputError(
                    f"{name}: array {column!r} in {source} holds pickled Python objects, "
                    "which kullback never loads"
                ) from None
            source = f"{source}[{column}]"
    else:
        arr = loaded
    if arr.dtype.names:
        fields = list(arr.dtype.names)
        if column is None or column not in fields:
            what = "has no field " + repr(column) if column else "is a structured array"
            raise InputError(
                f"{name}: {source} {what} (fields: {_short(', '.join(fields), 60)}); "
                "choose one with --column"
            )
        arr = arr[column]
        source = f"{source}[{column}]"
    if arr.dtype.kind not in "iuf":
        raise InputError(
            f"{name}: {source} holds {arr.dtype} values; expected real numbers "
            "(integers or floats)"
        )
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(
            f"{name}: {source} holds an array of shape {arr.shape}; expected one dimension "
            "(a single distribution)"
        )
    return _finish(name, arr, None, source)


def _read_parquet(path: Path, name: str, source: str, column: str | None) -> Masses:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"{name}: reading {source} needs pyarrow (pip install 'kullback[parquet]')"
        ) from None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{name}: {source} is not a readable Parquet file ({exc})") from None
    names = list(table.column_names)

    def numeric(t: Any) -> bool:
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))

    def textual(t: Any) -> bool:
        return bool(
            pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)
        )

    if column is not None:
        if column not in names:
            raise _unknown_column(name, source, column, names)
        chosen = column
    else:
        nums = [c for c in names if numeric(table.schema.field(c).type)]
        if len(nums) != 1:
            shown = ", ".join(nums or names)
            reason = "no numeric column" if not nums else f"{len(nums)} numeric columns"
            raise InputError(
                f"{name}: {source} has {reason} ({_short(shown, 60)}); choose one with --column"
            )
        chosen = nums[0]
    col_type = table.schema.field(chosen).type
    if not numeric(col_type):
        raise InputError(f"{name}: column {chosen!r} of {source} is not numeric ({col_type})")
    col = table.column(chosen)
    if col.null_count:
        mask = col.is_null().to_numpy(zero_copy_only=False)
        i = int(np.argmax(mask))
        raise InputError(f"{name} has a missing (null) entry at position {i + 1}")
    values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    label_names = [c for c in names if c != chosen and textual(table.schema.field(c).type)]
    labels = None
    if label_names:
        lab = table.column(label_names[0])
        if lab.null_count == 0:
            labels = [str(v) for v in lab.to_pylist()]
    return _finish(name, values, labels, source)


# --------------------------------------------------------------------------- entry points


def _read_text(path: Path, name: str, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: {source} is not a UTF-8 text file") from None


def _from_text(text: str, name: str, source: str, column: str | None) -> Masses:
    if text.lstrip().startswith(("[", "{")):
        return _parse_json_text(text, name, source, column)
    return _parse_table_text(text, name, source, column)


def read_masses(path: str | Path, name: str, column: str | None = None) -> Masses:
    """Read a distribution from a file, choosing the reader by the file's extension.

    ``.json`` (list or ``{label: value}``), ``.csv``/``.tsv``/``.txt`` (one column of numbers,
    header optional, labels in a first non-numeric column, ``column`` picks one of several),
    ``.npy``/``.npz`` (never unpickled), ``.parquet``; anything else is sniffed as JSON or
    CSV text.

    Raises
    ------
    InputError
        Naming ``name`` and the problem: no such file, unreadable, bad content.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in {".npy", ".npz"}:
            return _read_npy(path, name, source, column)
        if suffix in {".parquet", ".pq"}:
            if not path.is_file():
                path.open("rb").close()  # raise the right OSError
            return _read_parquet(path, name, source, column)
        text = _read_text(path, name, source)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file {source!r}") from None
    except IsADirectoryError:
        raise InputError(f"{name}: {source!r} is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{name}: cannot read {source!r} (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read {source!r} ({exc.strerror or exc})") from None
    if suffix == ".json":
        return _parse_json_text(text, name, source, column)
    if suffix in _TEXT_SUFFIXES:
        return _parse_table_text(text, name, source, column)
    return _from_text(text, name, source, column)


def _looks_inline(spec: str) -> bool:
    s = spec.strip()
    if not s:
        return False
    if s.startswith(("[", "{")) or "," in s or "=" in s:
        return True
    parts = s.split()
    return all(_float(c) is not None for c in parts)


def parse_spec(
    spec: str, name: str, column: str | None = None, stdin: IO[str] | None = None
) -> Masses:
    """Turn a command-line argument into :class:`Masses`.

    ``-`` reads stdin (JSON or CSV text); an existing path is read as a file; otherwise the
    argument is an inline list: ``0.42,0.31,0.27``, ``sunny=0.6,rain=0.4`` or a JSON literal.

    Examples
    --------
    >>> parse_spec('{"heads": 3, "tails": 1}', "P").probs.tolist()
    [0.75, 0.25]
    >>> parse_spec("missing.csv", "Q")
    Traceback (most recent call last):
    ...
    kullback.cli._io.InputError: Q: no such file 'missing.csv'
    """
    if spec == "-":
        stream = sys.stdin if stdin is None else stdin
        if stream is None:
            raise InputError(f"{name}: '-' means stdin, but there is no stdin")
        if stream.isatty():
            raise InputError(
                f"{name}: '-' means stdin, but stdin is a terminal; pipe the numbers in"
            )
        try:
            text = stream.read()
        except UnicodeDecodeError:
            raise InputError(f"{name}: stdin is not UTF-8 text") from None
        return _from_text(text, name, "stdin", column)
    if not spec.strip():
        raise InputError(f"{name} is empty: a distribution needs at least one outcome")
    path = Path(spec)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long to be a path, an embedded NUL
        exists = False
    if exists:
        return read_masses(path, name, column)
    if _looks_inline(spec):
        return _parse_inline(spec, name)
    if path.suffix.lower() in _KNOWN_SUFFIXES or "/" in spec or "\\" in spec:
        raise InputError(f"{name}: no such file {spec!r}")
    raise InputError(
        f"{name}: {_short(spec)!r} is neither a file nor a comma-separated list of numbers"
    )


def align(p: Masses, q: Masses) -> tuple[Masses, Masses, tuple[str, ...] | None]:
    """Put two inputs on the same outcomes.

    When both carry labels, outcomes are matched by label: P's order first, then the labels
    only Q has; an outcome missing on one side gets mass 0 there. Otherwise the inputs must
    have the same length (one side's labels, if any, name both).

    Returns
    -------
    (Masses, Masses, labels)
        The aligned inputs and the shared labels (None when neither input has labels).

    Examples
    --------
    >>> a = parse_spec("sun=3,rain=1", "P")
    >>> b = parse_spec("rain=0.5,snow=0.5", "Q")
    >>> p, q, labels = align(a, b)
    >>> labels, p.values.tolist(), q.values.tolist()
    (('sun', 'rain', 'snow'), [3.0, 1.0, 0.0], [0.0, 0.5, 0.5])
    """
    if p.labels is not None and q.labels is not None:
        labels = list(p.labels) + [lab for lab in q.labels if lab not in set(p.labels)]
        pv = dict(zip(p.labels, p.values.tolist(), strict=True))
        qv = dict(zip(q.labels, q.values.tolist(), strict=True))
        lt = tuple(labels)
        return (
            Masses(p.name, np.array([pv.get(k, 0.0) for k in labels]), lt, p.source),
            Masses(q.name, np.array([qv.get(k, 0.0) for k in labels]), lt, q.source),
            lt,
        )
    n, m = len(p.values), len(q.values)
    if n != m:
        if p.labels is None and q.labels is None:
            hint = "give both labels (e.g. JSON objects {label: value}) to align them by name"
        else:
            labelled = p.name if p.labels is not None else q.name
            hint = f"only {labelled} has labels, so outcomes cannot be matched by name"
        raise InputError(
            f"{p.name} and {q.name} have different numbers of outcomes ({n} and {m}); {hint}"
        )
    labels = p.labels if p.labels is not None else q.labels
    return (
        Masses(p.name, p.values, labels, p.source),
        Masses(q.name, q.values, labels, q.source),
        labels,
    )
