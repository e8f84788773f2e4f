"""The tables drift reads: one :class:`Source` per kind of input, counted batch by batch.

Every input becomes a source with a pyarrow ``schema`` and a :meth:`Source.count` that applies
per-column plans (:mod:`kullback.drift._counting`) to each batch and sums the results:

==================  =========================================================================
pandas DataFrame    converted column by column to Arrow (a mixed-type column is refused)
polars DataFrame    ``to_arrow()``
pyarrow Table       as is (a ``RecordBatch`` too)
``.parquet``/``.pq``  streamed with ``ParquetFile.iter_batches`` (text columns kept as
                    dictionaries; no pre-buffering, which reads ahead without bound)
``.csv``/``.tsv``   streamed with ``pyarrow.csv.open_csv``; types are inferred from the first
                    16 MB block and pinned for later passes; rows with the wrong number of
                    fields are skipped *and reported* (``Source.skipped``)
Dask DataFrame      one task per partition, results summed in a tree on the active scheduler
                    (a distributed ``Client`` if one is running)
==================  =========================================================================

Memory is bounded by the batch size and the counts, never by the number of rows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kullback.drift._counting import ColumnPlan, ColumnState, merge, merge_all, scan_batch

__all__ = [
    "CsvSource",
    "DaskSource",
    "DriftInputError",
    "ParquetSource",
    "Source",
    "TableSource",
    "arrow_from_pandas",
    "open_source",
]

_BATCH_ROWS = 1 << 17
_CSV_BLOCK = 1 << 24
_READ_BUFFER = 1 << 20  # Parquet: read column chunks through a 1 MB buffer
_SHOWN_SKIPS = 5


class DriftInputError(ValueError):
    """A table drift cannot read or compare; the message names the table and the column."""


class Source:
    """A table read in batches; subclasses define :meth:`batches` (or override :meth:`count`)."""

    role: str
    description: str
    schema: Any
    num_rows: int | None = None
    skipped: list[tuple[int | None, str]]
    progress: bool = False
    in_memory: bool = False  # the whole table is already in memory (see numeric_values)

    def numeric_values(self, name: str) -> np.ndarray:  # pragma: no cover - abstract
        """The non-missing values of a column as float64 (in-memory sources only)."""
        raise NotImplementedError

    @property
    def radix_width(self) -> int:
        """Bits of the first quantile pass: 20 for big tables (saves a pass), else 16."""
        return 20 if (self.num_rows or 0) > 1 << 24 or self.num_rows is None else 16

    def batches(self, columns: list[str]) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def count(self, plans: Mapping[str, ColumnPlan], what: str) -> dict[str, ColumnState]:
        """Apply ``plans`` to every batch and sum the counts."""
        batches = self.batches(list(plans))
        if self.progress:
            batches = _with_progress(batches, self.num_rows, f"{self.role}: {what}")
        return merge_all((scan_batch(b, plans) for b in batches), plans)


def _with_progress(batches: Iterator[Any], total: int | None, desc: str) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="rows", unit_scale=True, file=sys.stderr,
              leave=False, dynamic_ncols=True) as bar:
        for batch in batches:
            yield batch
            bar.update(batch.num_rows)


# --------------------------------------------------------------------------- in memory


class TableSource(Source):
    """A pyarrow Table already in memory."""

    in_memory = True

    def __init__(self, table: Any, role: str, what: str) -> None:
        self.table, self.role = table, role
        self.description = f"the {role} table ({what})"
        self.schema, self.num_rows, self.skipped = table.schema, table.num_rows, []

    def batches(self, columns: list[str]) -> Iterator[Any]:
        yield from self.table.select(columns).to_batches(max_chunksize=_BATCH_ROWS)

    def numeric_values(self, name: str) -> np.ndarray:
        from kullback.drift._counting import float_values

        x = float_values(self.table.column(name).combine_chunks())
        return x[~np.isnan(x)]


def arrow_from_pandas(df: Any, role: str) -> Any:
    """A pandas DataFrame as a pyarrow Table, refusing a column that mixes types by name."""
    import pyarrow as pa

    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DriftInputError(f"the {role} table has duplicate column names {dup}")
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        table = None
    if table is not None:
        return table.rename_columns(names)
    for name, (_, series) in zip(names, df.items(), strict=True):  # find the culprit
        try:
            pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            kinds = sorted({type(v).__name__ for v in series.dropna()})
            raise DriftInputError(
                f"column {name!r} of the {role} table mixes types ({', '.join(kinds)}); "
                "give it one type (e.g. .astype(str) for labels)"
            ) from None
    raise DriftInputError(f"the {role} table cannot be converted to Arrow")  # pragma: no cover


def _from_pandas(obj: Any, role: str) -> Source:
    return TableSource(arrow_from_pandas(obj, role), role, "pandas")


def _from_polars(obj: Any, role: str) -> Source:
    return TableSource(obj.to_arrow(), role, "polars")


def _from_arrow(obj: Any, role: str) -> Source:
    import pyarrow as pa

    table = pa.Table.from_batches([obj]) if isinstance(obj, pa.RecordBatch) else obj
    if not isinstance(table, pa.Table):
        raise DriftInputError(f"the {role} table is a {type(obj).__name__}; pass a pyarrow "
                              "Table or RecordBatch")
    return TableSource(table, role, "pyarrow")


# --------------------------------------------------------------------------- files


def _file_error(role: str, path: Path, exc: Exception) -> DriftInputError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return DriftInputError(f"cannot read the {role} file {str(path)!r}: {reason}")


class ParquetSource(Source):
    """A Parquet file, streamed batch by batch."""

    def __init__(self, path: Path, role: str) -> None:
        import pyarrow.parquet as pq

        self.path, self.role, self.skipped = path, role, []
        self.description = f"the {role} file {str(path)!r}"
        try:
            meta = pq.ParquetFile(path)
        except (OSError, ValueError) as exc:
            raise _file_error(role, path, exc) from None
        self.schema, self.num_rows = meta.schema_arrow, meta.metadata.num_rows

    def batches(self, columns: list[str]) -> Iterator[Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        text = [c for c in columns if pa.types.is_string(self.schema.field(c).type)
                or pa.types.is_large_string(self.schema.field(c).type)]
        try:  # pre-buffering would read ahead without bound: 0.5 GB per 10M rows here
            f = pq.ParquetFile(self.path, read_dictionary=text, pre_buffer=False,
                               buffer_size=_READ_BUFFER)
            yield from f.iter_batches(batch_size=_BATCH_ROWS, columns=columns)
        except (OSError, pa.ArrowInvalid) as exc:
            raise _file_error(self.role, self.path, exc) from None


class CsvSource(Source):
    """A CSV (or TSV) file, streamed block by block with pyarrow's CSV reader."""

    def __init__(self, path: Path, role: str, delimiter: str = ",") -> None:
        self.path, self.role, self.delimiter, self.skipped = path, role, delimiter, []
        self.description = f"the {role} file {str(path)!r}"
        self.num_rows = None
        self.schema = None
        reader = self._open(None)
        self.schema = reader.schema
        reader.close()

    def _skip(self, row: Any) -> str:
        self.skipped.append((row.number, row.text))
        return "skip"

    def _open(self, columns: list[str] | None) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        types = None if self.schema is None else {f.name: f.type for f in self.schema}
        try:
            return pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter,
                                                 invalid_row_handler=self._skip),
                convert_options=pacsv.ConvertOptions(include_columns=columns,
                                                     column_types=types,
                                                     strings_can_be_null=True),
            )
        except (OSError, pa.ArrowInvalid) as exc:
            raise _file_error(self.role, self.path, exc) from None

    def batches(self, columns: list[str]) -> Iterator[Any]:
        import pyarrow as pa

        self.skipped = []
        reader = self._open(columns)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:  # a value that does not fit the inferred type
                raise DriftInputError(f"{self.description}: {exc} (the column's type was "
                                      "inferred from the first 16 MB block)") from None
            yield batch


_FILES: dict[str, Callable[[Path, str], Source]] = {
    ".parquet": ParquetSource,
    ".pq": ParquetSource,
    ".csv": CsvSource,
    ".tsv": lambda path, role: CsvSource(path, role, delimiter="\t"),
}


def _from_path(obj: Any, role: str) -> Source:
    path = Path(obj)
    opener = _FILES.get(path.suffix.lower())
    if opener is None:
        raise DriftInputError(f"the {role} file {str(path)!r} is not one of "
                              f"{', '.join(sorted(_FILES))}")
    if not path.is_file():
        raise DriftInputError(f"the {role} file {str(path)!r} does not exist")
    return opener(path, role)


# --------------------------------------------------------------------------- Dask


def _scan_partition(part: Any, plans: Mapping[str, ColumnPlan],
                    role: str) -> dict[str, ColumnState]:
    return scan_batch(arrow_from_pandas(part, role), plans)


class DaskSource(Source):
    """A Dask DataFrame: per-partition counts as tasks, merged by summing in a tree."""

    radix_width = 16  # 0.5 MB per numeric column and partition to ship, not 8 MB

    def __init__(self, frame: Any, role: str) -> None:
        self.frame, self.role, self.skipped = frame, role, []
        self.description = f"the {role} table (Dask, {frame.npartitions} partitions)"
        self.schema = arrow_from_pandas(frame._meta, role).schema

    def count(self, plans: Mapping[str, ColumnPlan], what: str) -> dict[str, ColumnState]:
        import dask

        parts = self.frame[list(plans)].to_delayed()
        states = [dask.delayed(_scan_partition)(p, dict(plans), self.role) for p in parts]
        while len(states) > 1:
            pairs = [dask.delayed(merge)(a, b) for a, b in zip(states[::2], states[1::2],
                                                               strict=False)]
            states = pairs + (states[-1:] if len(states) % 2 else [])
        if not states:
            return merge_all((), plans)
        (total,) = dask.compute(states[0])
        return total


# --------------------------------------------------------------------------- dispatch


def _from_dask(obj: Any, role: str) -> Source:
    return DaskSource(obj, role)


_OPENERS: dict[str, Callable[[Any, str], Source]] = {
    "pandas": _from_pandas,
    "polars": _from_polars,
    "pyarrow": _from_arrow,
    "dask": _from_dask,
    "dask_expr": _from_dask,
}


def open_source(obj: Any, role: str, *, progress: bool = False) -> Source:
    """The :class:`Source` for a DataFrame, a pyarrow Table or a path (``role`` names it)."""
    if isinstance(obj, str | os.PathLike):
        source = _from_path(obj, role)
    else:
        opener = _OPENERS.get(type(obj).__module__.split(".")[0])
        if opener is None:
            raise DriftInputError(
                f"the {role} table is a {type(obj).__name__}; pass a pandas, polars or Dask "
                "DataFrame, a pyarrow Table, or the path of a .parquet or .csv file"
            )
        source = opener(obj, role)
    source.progress = progress
    return source
