"""Read a distribution for the command line: inline lists, CSV, JSON, ``.npy``, Parquet, stdin.

Every reader returns :class:`Masses`: the raw non-negative numbers (probabilities, counts or
weights; the measures normalise them), optional outcome labels, and where they came from.
Anything wrong ends in :class:`InputError`, whose message names the input (``P`` or ``Q``)
and the problem, ready to print after ``error:``. Positions in messages count from 1, as a
person reading a list does; labelled inputs are pointed at by label instead.

pyarrow is imported only to read a ``.parquet`` file, and ``.npy`` files are parsed here
(header first: a pickled array is refused, never executed, and the size the header claims is
checked against the bytes present before anything is allocated).

Hostile input ends in one clear message, never a hang or a crash: at most
:func:`max_input_bytes` (256 MiB unless ``KULLBACK_MAX_INPUT_MB`` says otherwise) is read from
any input, so ``/dev/zero`` or an endless pipe stops with a message past the cap while pipes
and FIFOs stay ordinary inputs; a text input must be UTF-8 (a byte-order mark is dropped, from
stdin too) without NUL bytes; JSON nested past any sense, numbers too large for a float and
duplicate keys are refused, as are duplicate labels in every format.

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

import codecs
import csv
import io
import json
import math
import os
import stat
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

from kullback.validation import first_invalid

__all__ = ["InputError", "Masses", "align", "max_input_bytes", "parse_spec", "read_masses"]

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat"}
_KNOWN_SUFFIXES = _TEXT_SUFFIXES | {".json", ".npy", ".npz", ".parquet", ".pq"}
# A numeric first column is read as outcome labels only under one of these headers.
_LABEL_HEADERS = {
    "label", "labels", "outcome", "outcomes", "category", "categories", "class", "name",
    "key", "symbol", "x", "value_label", "face", "state", "event",
}
_DEFAULT_MAX_MB = 256
_CHUNK = 1 << 20


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

    @cached_property
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


def _refuse_duplicates(name: str, labels: Sequence[str]) -> None:
    if len(set(labels)) == len(labels):
        return
    seen: dict[str, int] = {}
    for i, lab in enumerate(labels):
        if lab in seen:
            raise InputError(
                f"{name} has the outcome {lab!r} twice (entries {seen[lab] + 1} and {i + 1})"
            )
        seen[lab] = i




def _finish(
    name: str, values: Sequence[float] | np.ndarray, labels: Sequence[str] | None, source: str
) -> Masses:
    """Validate parsed masses and wrap them."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise InputError(f"{name} is empty: a distribution needs at least one outcome")
    if labels is not None:
        labels = tuple(map(str, labels))
        _refuse_duplicates(name, labels)
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
    if set(map(type, cells)) <= {float, str}:
        try:  # the common case at C speed; any problem is located by the loop below
            values = list(map(float, cells))
            if math.inf not in values and -math.inf not in values:
                return values
        except ValueError:
            pass
    out = []
    for i, cell in enumerate(cells):
        if isinstance(cell, float) and math.isinf(cell):  # JSON numbers are parsed as floats
            raise InputError(
                f"{name} has a number too large for a 64-bit float {_where(labels, i)}"
            )
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
    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            _refuse_duplicates(name, [k for k, _ in pairs])
        return obj

    try:
        # Every number becomes a float (a 5000-digit integer too: inf, refused by position);
        # the constants Infinity and NaN stay text, refused as written.
        data = json.loads(text, object_pairs_hook=unique_keys, parse_int=float,
                          parse_constant=str)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: {source} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    except RecursionError:
        raise InputError(
            f"{name}: {source} is nested too deeply to be a distribution (a JSON list or "
            "object of numbers, or an object of those with --column)"
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
        try:
            rows = [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]
        except csv.Error as exc:
            raise InputError(f"{name}: {source} is not readable CSV ({exc})") from None
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


_NPY_MAGIC, _ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"


def _pickled(name: str, source: str) -> InputError:
    return InputError(
        f"{name}: {source} holds pickled Python objects, which kullback never loads; "
        "save a numeric array (np.save(path, np.asarray(x, dtype=float)))"
    )


def _npy_header(f: BinaryIO, name: str, source: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    from numpy.lib import format as npf

    try:
        version = npf.read_magic(f)
        if version == (1, 0):
            return npf.read_array_header_1_0(f)
        if version == (2, 0):
            return npf.read_array_header_2_0(f)
        return npf._read_array_header(f, version)  # 3.0: a UTF-8 header
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{name}: {source} is not a valid .npy file ({_first_line(exc)})"
        ) from None


def _npy_array(f: BinaryIO, size: int, name: str, source: str) -> np.ndarray:
    """Parse a ``.npy`` stream of ``size`` bytes: header first, the data only if it is there."""
    shape, fortran, dtype = _npy_header(f, name, source)
    if dtype.hasobject:
        raise _pickled(name, source)
    count = math.prod(shape)
    claimed, present = count * dtype.itemsize, size - f.tell()
    if claimed > present:
        raise InputError(
            f"{name}: {source} is truncated or corrupt: its header claims {count:,} entries "
            f"of {dtype} ({_size(claimed)}), but the file holds {_size(max(present, 0))} of data"
        )
    if claimed > max_input_bytes():
        raise _too_large(name, source)
    data = f.read(claimed)
    arr = np.frombuffer(data, dtype=dtype, count=count) if count else np.zeros(0, dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def _npz_array(f: BinaryIO, name: str, source: str, column: str | None) -> tuple[np.ndarray, str]:
    try:
        archive = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{name}: {source} is not a valid .npz file ({exc})") from None
    with archive:
        members = {m.filename.removesuffix(".npy"): m for m in archive.infolist()}
        keys = list(members)
        if column is None and len(keys) == 1:
            column = keys[0]
        if column is None:
            raise InputError(
                f"{name}: {source} holds several arrays ({_short(', '.join(keys), 60)}); "
                "choose one with --column"
            )
        if column not in members:
            raise InputError(
                f"{name}: {source} has no array {column!r} (arrays: {_short(', '.join(keys), 60)})"
            )
        member, where = members[column], f"{source}[{column}]"
        try:
            with archive.open(member) as m:
                data = m.read(max_input_bytes() + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(f"{name}: {where} cannot be read ({exc})") from None
        if len(data) > max_input_bytes():
            raise _too_large(name, where)
        if not data.startswith(_NPY_MAGIC):
            raise InputError(f"{name}: {where} is not a .npy array")
        try:
            return _npy_array(io.BytesIO(data), len(data), name, where), where
        except InputError as exc:
            if "pickled" in str(exc):
                raise InputError(
                    f"{name}: array {column!r} in {source} holds pickled Python objects, "
                    "which kullback never loads"
                ) from None
            raise


def _read_npy(path: Path, name: str, source: str, column: str | None) -> Masses:
    with _binary(path, name, source) as (f, size):
        head = f.read(6)
        f.seek(0)
        if head.startswith(_ZIP_MAGIC[:2]):
            arr, source = _npz_array(f, name, source, column)
        elif head == _NPY_MAGIC:
            arr = _npy_array(f, size, name, source)
        elif head[:1] == b"\x80":  # the first opcode of a pickle
            raise _pickled(name, source)
        else:
            raise InputError(f"{name}: {source} is not a valid .npy file (no NumPy header)")
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


def _parquet_kinds(pa: Any) -> tuple[Any, Any]:
    def numeric(t: Any) -> bool:
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))

    def textual(t: Any) -> bool:
        return bool(
            pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)
        )

    return numeric, textual


def _parquet_value_column(schema: Any, numeric: Any, name: str, source: str,
                          column: str | None) -> str:
    names = list(schema.names)
    if column is not None:
        if column not in names:
            raise _unknown_column(name, source, column, names)
        chosen = column
    else:
        nums = [c for c in names if numeric(schema.field(c).type)]
        if len(nums) != 1:
            shown = ", ".join(nums or names)
            reason = "no numeric column" if not nums else f"{len(nums)} numeric columns"
            raise InputError(
                f"{name}: {source} has {reason} ({_short(shown, 60)}); choose one with --column"
            )
        chosen = nums[0]
    col_type = schema.field(chosen).type
    if not numeric(col_type):
        raise InputError(f"{name}: column {chosen!r} of {source} is not numeric ({col_type})")
    return chosen


def _first_null(col: Any) -> int:
    return int(np.argmax(col.is_null().to_numpy(zero_copy_only=False)))


def _read_parquet(path: Path, name: str, source: str, column: str | None) -> Masses:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"{name}: reading {source} needs pyarrow (pip install 'kullback[parquet]')"
        ) from None
    numeric, textual = _parquet_kinds(pa)
    with _binary(path, name, source) as (f, _):
        try:
            parquet = pq.ParquetFile(f)
            schema = parquet.schema_arrow
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"{name}: {source} is not a readable Parquet file ({_first_line(exc)})"
            ) from None
        names = list(schema.names)
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            raise InputError(
                f"{name}: {source} has more than one column named {_short(twice[0])!r}; "
                "column names must be unique"
            )
        chosen = _parquet_value_column(schema, numeric, name, source, column)
        label_names = [c for c in names if c != chosen and textual(schema.field(c).type)]
        try:
            table = parquet.read(columns=[chosen, *label_names[:1]])
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"{name}: {source} is not a readable Parquet file ({_first_line(exc)})"
            ) from None
    col = table.column(chosen)
    if col.null_count:
        raise InputError(f"{name} has a missing (null) entry at position {_first_null(col) + 1}")
    try:
        if pa.types.is_decimal(col.type):
            col = col.cast(pa.float64())
        values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        raise InputError(
            f"{name}: column {chosen!r} of {source} cannot be read as floats ({_first_line(exc)})"
        ) from None
    labels = None
    if label_names:
        lab = table.column(label_names[0])
        if lab.null_count:
            raise InputError(
                f"{name}: the label column {label_names[0]!r} of {source} has a missing (null) "
                f"label at row {_first_null(lab) + 1}; fill it in or drop that row"
            )
        labels = [str(v) for v in lab.to_pylist()]
    return _finish(name, values, labels, source)


# --------------------------------------------------------------------------- bounded reading


def max_input_bytes() -> int:
    """The most kullback reads from one input: 256 MiB, or ``KULLBACK_MAX_INPUT_MB`` MiB."""
    text = os.environ.get("KULLBACK_MAX_INPUT_MB", "")
    try:
        mb = float(text) if text else _DEFAULT_MAX_MB
    except ValueError:
        mb = _DEFAULT_MAX_MB
    return int(mb * 2**20) if math.isfinite(mb) and mb > 0 else _DEFAULT_MAX_MB * 2**20


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _too_large(name: str, source: str) -> InputError:
    return InputError(
        f"{name}: {source} is larger than {_size(max_input_bytes())}, the most kullback reads "
        "from one input (set KULLBACK_MAX_INPUT_MB to allow more)"
    )


def _chunks(stream: BinaryIO, name: str, source: str) -> Iterator[bytes]:
    """The stream's bytes in chunks, stopping with an error past :func:`max_input_bytes`."""
    cap, total = max_input_bytes(), 0
    while True:
        chunk = stream.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return
        total += len(chunk)
        if total > cap:
            raise _too_large(name, source)
        yield chunk


def _decode(stream: BinaryIO, name: str, source: str) -> str:
    """UTF-8 text (a byte-order mark dropped), decoded as it arrives: bytes that cannot be
    text (``/dev/urandom``, ``/dev/zero``, a binary file) stop the reading at once."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts, offset = [], 0
    try:
        for chunk in _chunks(stream, name, source):
            part = decoder.decode(chunk)
            if "\x00" in part:
                raise InputError(f"{name}: {source} is not a text file (it holds NUL bytes)")
            parts.append(part)
            offset += len(chunk)
        parts.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: {source} is not UTF-8 text (byte {offset + exc.start + 1})"
        ) from None
    return "".join(parts).removeprefix("\ufeff")


class _binary:
    """``with _binary(path, name, source) as (f, size)``: a seekable binary file and its size.

    A regular file is used as it is; anything else (a pipe, a FIFO, a device) is read into
    memory under the cap first.
    """

    def __init__(self, path: Path, name: str, source: str) -> None:
        self.path, self.name, self.source = path, name, source

    def __enter__(self) -> tuple[BinaryIO, int]:
        self.file: BinaryIO = open(self.path, "rb")  # closed in __exit__
        size = os.fstat(self.file.fileno())
        if stat.S_ISREG(size.st_mode):
            return self.file, size.st_size
        data = b"".join(_chunks(self.file, self.name, self.source))
        return io.BytesIO(data), len(data)

    def __exit__(self, *exc: object) -> None:
        self.file.close()


# --------------------------------------------------------------------------- entry points


def _read_text(path: Path, name: str, source: str) -> str:
    with open(path, "rb") as f:
        if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            if os.fstat(f.fileno()).st_size > max_input_bytes():
                raise _too_large(name, source)
        return _decode(f, name, source)


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
    except MemoryError:
        raise InputError(f"{name}: {source} is too large to read into memory") from None
    if suffix == ".json":
        return _parse_json_text(text, name, source, column)
    if suffix in _TEXT_SUFFIXES:
        return _parse_table_text(text, name, source, column)
    return _from_text(text, name, source, column)


def _read_stdin(stream: IO[str], name: str) -> str:
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        return _decode(binary, name, "stdin")
    text = stream.read(max_input_bytes() + 1)  # a text stream without bytes (tests)
    if len(text) > max_input_bytes():
        raise _too_large(name, "stdin")
    return text.removeprefix("\ufeff")


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
        return _from_text(_read_stdin(stream, name), name, "stdin", column)
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
        return _align_labels(p, q)
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


def _align_labels(p: Masses, q: Masses) -> tuple[Masses, Masses, tuple[str, ...]]:
    """Match by label in O(n): one dict from label to position in the shared order."""
    p_labels, q_labels = p.labels or (), q.labels or ()
    position = dict(zip(p_labels, range(len(p_labels)), strict=True))
    missing = set(q_labels).difference(position)
    only_q = [lab for lab in q_labels if lab in missing] if missing else []
    position.update(zip(only_q, range(len(p_labels), len(p_labels) + len(only_q)), strict=True))
    labels = (*p_labels, *only_q)
    pv, qv = np.zeros(len(labels)), np.zeros(len(labels))
    pv[: len(p_labels)] = p.values
    qv[np.fromiter(map(position.__getitem__, q_labels), np.intp, len(q_labels))] = q.values
    return (Masses(p.name, pv, labels, p.source), Masses(q.name, qv, labels, q.source), labels)
