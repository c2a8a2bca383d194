"""Finding input files and cutting them into shards that a worker reads on its own.

JSON Lines and CSV are cut at record boundaries found with one vectorised pass over the bytes (for CSV a
newline ends a record only outside quotes, which quote parity tells because RFC 4180 doubles inner
quotes); Parquet is cut at row groups. A shard is small and self-describing, so it can travel to any Ray
worker, be retried, and be skipped on resume. Rows are read leniently: a row that cannot be parsed
becomes a `BadRow` with its location, never an exception that stops the scan."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet",
           ".pq": "parquet"}
BLOCK = 8 << 20


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    path: str
    fmt: str
    start: int  # byte offset (jsonl, csv) or first row group (parquet)
    end: int  # byte offset or row group, exclusive
    first_row: int  # 1-based line of the first record (jsonl, csv) or 0-based row (parquet)
    rows: int  # records in the shard (lines for jsonl, blank ones included)
    header: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        return cls(**{**data, "header": tuple(data.get("header") or ())})


@dataclass(frozen=True, slots=True)
class BadRow:
    location: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Row:
    location: str
    seq: int  # order of the row in the whole input, for stable sorting
    data: dict[str, Any]


def _filesystem(uri: str) -> tuple[Any, str]:
    from pyarrow import fs

    if "://" in uri:
        filesystem, path = fs.FileSystem.from_uri(uri)
        return filesystem, str(path)
    import os

    return fs.LocalFileSystem(), os.path.abspath(uri)


def _with_scheme(uri: str, path: str) -> str:
    return f"{uri.split('://', 1)[0]}://{path}" if "://" in uri else path


def discover(inputs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path, format) of every input file, folders walked recursively, in a stable (sorted) order."""
    from pyarrow import fs

    found: list[tuple[str, str]] = []
    for uri in inputs:
        filesystem, path = _filesystem(uri)
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.NotFound:
            raise InvalidInputError(f"no such input file or folder: {uri}")
        if info.type == fs.FileType.Directory:
            infos = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
            files = sorted(i.path for i in infos if i.type == fs.FileType.File and _format(i.path)
                           and not any(part.startswith((".", "_")) for part in i.path[len(path):].split("/")))
            found.extend((_with_scheme(uri, f), _format(f) or "") for f in files)
        else:
            fmt = _format(path)
            if fmt is None:
                raise InvalidInputError(f"{uri}: unknown input format; use .jsonl, .ndjson, .csv or .parquet")
            found.append((uri if "://" in uri else path, fmt))
    if not found:
        raise InvalidInputError(f"no .jsonl, .csv or .parquet files in {', '.join(inputs)}")
    return found


def _format(path: str) -> str | None:
    lower = path.lower()
    return next((fmt for ext, fmt in FORMATS.items() if lower.endswith(ext)), None)


def plan(inputs: tuple[str, ...], shard_rows: int) -> list[Shard]:
    shards: list[Shard] = []
    for path, fmt in discover(inputs):
        for s in PLANNERS[fmt](path, shard_rows):
            shards.append(Shard(len(shards), *s))
    return shards


PlanItem = tuple[str, str, int, int, int, int, tuple[str, ...]]


def _record_ends(path: str, csv_quotes: bool) -> tuple[list[int], int]:
    """Byte offsets just after each record's newline, and the file size."""
    filesystem, p = _filesystem(path)
    ends: list[int] = []
    offset = 0
    odd = False
    with filesystem.open_input_stream(p) as fh:
        while chunk := fh.read(BLOCK):
            arr = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(arr == 10)
            if csv_quotes:
                parity = (np.cumsum(arr == 34) + int(odd)) % 2
                odd = bool(parity[-1])
                newlines = newlines[parity[newlines] == 0]
            ends.extend((newlines + offset + 1).tolist())
            offset += len(chunk)
    if not ends or ends[-1] != offset:
        ends.append(offset)  # last record without a trailing newline
    return ends, offset


def _plan_lines(path: str, shard_rows: int, fmt: str) -> Iterator[PlanItem]:
    ends, size = _record_ends(path, csv_quotes=fmt == "csv")
    header: tuple[str, ...] = ()
    first_line, start = 1, 0
    if fmt == "csv":
        if size == 0:
            return
        header = tuple(_read_header(path, ends[0]))
        ends, start, first_line = ends[1:], ends[0], 2
    if size == 0 or not ends:
        return
    for i in range(0, len(ends), shard_rows):
        chunk = ends[i:i + shard_rows]
        yield path, fmt, start, chunk[-1], first_line + i, len(chunk), header
        start = chunk[-1]


def _read_header(path: str, end: int) -> list[str]:
    raw = _read_range(path, 0, end).decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(raw)), [])


def _plan_parquet(path: str, shard_rows: int) -> Iterator[PlanItem]:
    import pyarrow.parquet as pq

    filesystem, p = _filesystem(path)
    meta = pq.ParquetFile(filesystem.open_input_file(p)).metadata
    start_group, start_row, rows = 0, 0, 0
    for g in range(meta.num_row_groups):
        rows += meta.row_group(g).num_rows
        if rows >= shard_rows:
            yield path, "parquet", start_group, g + 1, start_row, rows, ()
            start_group, start_row, rows = g + 1, start_row + rows, 0
    if start_group < meta.num_row_groups:
        yield path, "parquet", start_group, meta.num_row_groups, start_row, rows, ()


PLANNERS = {"jsonl": lambda p, n: _plan_lines(p, n, "jsonl"), "csv": lambda p, n: _plan_lines(p, n, "csv"),
            "parquet": _plan_parquet}


def _read_range(path: str, start: int, end: int) -> bytes:
    filesystem, p = _filesystem(path)
    with filesystem.open_input_file(p) as fh:
        fh.seek(start)
        data: bytes = fh.read(end - start)
        return data


def read_shard(shard: Shard) -> Iterator[Row | BadRow]:
    """Every record of the shard, in order, as a Row or a BadRow (blank lines are skipped)."""
    base = shard.index * 1_000_000_000
    for i, item in enumerate(READERS[shard.fmt](shard)):
        if isinstance(item, BadRow):
            yield item
        else:
            yield Row(item[0], base + i, item[1])


RawItem = tuple[str, dict[str, Any]] | BadRow


def _read_jsonl(shard: Shard) -> Iterator[RawItem]:
    data = _read_range(shard.path, shard.start, shard.end)
    for n, raw in enumerate(data.split(b"\n"), start=shard.first_row):
        where = f"{shard.path}:{n}"
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield BadRow(where, "invalid_text", f"line is not valid UTF-8 (byte {exc.start})")
            continue
        except (json.JSONDecodeError, RecursionError) as exc:
            yield BadRow(where, "invalid_input", f"line is not valid JSON: {getattr(exc, 'msg', exc)}")
            continue
        if not isinstance(obj, dict):
            yield BadRow(where, "invalid_input", "line must be a JSON object")
            continue
        yield where, obj


def _read_csv(shard: Shard) -> Iterator[RawItem]:
    text = _read_range(shard.path, shard.start, shard.end).decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    line = shard.first_row
    while True:
        where = f"{shard.path}:{line}"
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRow(where, "invalid_input", f"CSV record cannot be read: {exc}")
            return
        line = shard.first_row + reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != len(shard.header):
            yield BadRow(where, "invalid_input", f"CSV record has {len(values)} fields, the header has "
                         f"{len(shard.header)}")
            continue
        if any(_has_surrogate(v) for v in values):
            yield BadRow(where, "invalid_text", "record is not valid UTF-8")
            continue
        yield where, dict(zip(shard.header, values, strict=True))


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_parquet(shard: Shard) -> Iterator[RawItem]:
    import pyarrow.parquet as pq

    filesystem, p = _filesystem(shard.path)
    pf = pq.ParquetFile(filesystem.open_input_file(p))
    row = shard.first_row
    for g in range(shard.start, shard.end):
        try:
            records = pf.read_row_group(g).to_pylist()
        except Exception as exc:  # a corrupt row group loses its rows, not the scan
            n = pf.metadata.row_group(g).num_rows
            yield BadRow(f"{shard.path}#rows{row}-{row + n - 1}", "invalid_input",
                         f"Parquet row group {g} cannot be read: {exc}")
            row += n
            continue
        for rec in records:
            yield f"{shard.path}#row{row}", rec
            row += 1


READERS = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}
