"""Parquet output of distributed runs: a folder of part files, written atomically, read back exactly.

A run writes ``part-<run>-<seq>.parquet`` files into one folder. Each part is written beside its final
name (a hidden ``.part-....tmp``) and renamed into place when complete, so a killed run leaves only whole
parts; the next run reads their ``path`` column and skips those photos. Every part carries the model
fingerprint (or backbone) in its schema metadata, and a run refuses a folder written by another model.

Score records (``kind="scores"``): the JSONL record fields in the same order. ``distribution`` is a
``list<double>`` of 10 probabilities, ``technical`` a ``struct`` of the 13 technical measures (query it as
``technical.sharpness``); both are null in error records; ``flags`` a ``list<string>`` (empty for most photos). Reading a part back with
:func:`read_records` gives dicts equal to the records the single-machine path yields.

Feature rows (``kind="features"``): the catalog's photo row (path, size, mtime_ns, format, width, height,
taken_at, camera, error, technical, backbone) and ``features``, a ``fixed_size_list<halffloat>`` (the
float16 MLSP vector the catalog stores; the last 1280 values are the embedding).
"""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from photocritic.library.catalog import PhotoRow
from photocritic.models.technical import TECHNICAL_MEASURES

META_KIND = b"photocritic.kind"
META_MODEL = b"photocritic.model"  # model fingerprint (scores) or backbone name (features)

TECHNICAL_TYPE = pa.struct([(name, pa.float64()) for name in TECHNICAL_MEASURES])

RECORD_FIELDS = [
    pa.field("path", pa.string(), nullable=False),
    pa.field("score", pa.float64()),
    pa.field("score_std", pa.float64()),
    pa.field("distribution", pa.list_(pa.float64())),
    pa.field("error", pa.string()),
    pa.field("width", pa.int64()),
    pa.field("height", pa.int64()),
    pa.field("taken_at", pa.string()),
    pa.field("camera", pa.string()),
    pa.field("format", pa.string()),
    pa.field("model", pa.string()),
    pa.field("technical", TECHNICAL_TYPE),
    pa.field("flags", pa.list_(pa.string())),
    pa.field("quality_score", pa.float64()),  # null where the model gives none (and in parts of older versions)
    pa.field("aesthetic_score", pa.float64()),
]

ROW_FIELDS = [
    pa.field("path", pa.string(), nullable=False),
    pa.field("size", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
    pa.field("format", pa.string()),
    pa.field("width", pa.int64()),
    pa.field("height", pa.int64()),
    pa.field("taken_at", pa.string()),
    pa.field("camera", pa.string()),
    pa.field("error", pa.string()),
    pa.field("technical", TECHNICAL_TYPE),
    pa.field("backbone", pa.string()),
]


class ParquetFolderError(Exception):
    """A --parquet folder that belongs to another model or kind of output."""


def records_schema(model_fingerprint: str) -> pa.Schema:
    return pa.schema(RECORD_FIELDS, metadata={META_KIND: b"scores", META_MODEL: model_fingerprint.encode()})


def features_schema(backbone: str, feature_dim: int) -> pa.Schema:
    fields = [*ROW_FIELDS, pa.field("features", pa.list_(pa.float16(), feature_dim))]
    return pa.schema(fields, metadata={META_KIND: b"features", META_MODEL: backbone.encode()})


def _technical(value: dict | None) -> dict | None:
    if value is None:
        return None
    return {name: value.get(name) for name in TECHNICAL_MEASURES}


def records_table(records: list[dict], schema: pa.Schema) -> pa.Table:
    columns = {f.name: [r.get(f.name) for r in records] for f in RECORD_FIELDS}
    columns["technical"] = [_technical(t) for t in columns["technical"]]
    return pa.table(columns, schema=schema)


def rows_table(rows: list[PhotoRow], schema: pa.Schema) -> pa.Table:
    columns: dict[str, list] = {f.name: [getattr(r, f.name) for r in rows] for f in ROW_FIELDS}
    columns["technical"] = [_technical(t) for t in columns["technical"]]
    dim = schema.field("features").type.list_size
    flat = np.zeros((len(rows), dim), dtype=np.float16)
    valid = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        if row.features is not None:
            flat[i] = row.features
            valid[i] = True
    features = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel(), type=pa.float16()), dim, mask=pa.array(~valid))
    arrays = [pa.array(columns[f.name], type=f.type) for f in ROW_FIELDS] + [features]
    return pa.Table.from_arrays(arrays, schema=schema)


def record_from_arrow(item: dict) -> dict:
    """A record dict from a ``to_pylist()`` row, in the order and types the scorer yields."""
    record = {f.name: item.get(f.name) for f in RECORD_FIELDS}
    if record["technical"] is not None:
        record["technical"] = dict(record["technical"])
    record["flags"] = list(record["flags"] or [])
    return record


def row_from_arrow(item: dict) -> PhotoRow:
    features = item.get("features")
    return PhotoRow(
        item["path"],
        item["size"],
        item["mtime_ns"],
        format=item["format"],
        width=item["width"],
        height=item["height"],
        taken_at=item["taken_at"],
        camera=item["camera"],
        error=item["error"],
        technical=dict(item["technical"]) if item["technical"] is not None else None,
        backbone=item["backbone"],
        features=np.asarray(features, dtype=np.float16) if features is not None else None,
    )


def part_files(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))


def _check_part(path: Path, kind: bytes, model: str | None) -> bool:
    """True for a readable part of this kind and model; a part that cannot be read is set aside."""
    try:
        schema = pq.read_schema(path)
    except Exception:  # a truncated or foreign file: never trusted, kept for inspection
        path.rename(path.with_name(f".corrupt-{path.name}"))
        return False
    meta = schema.metadata or {}
    if meta.get(META_KIND) != kind:
        raise ParquetFolderError(f"{path} holds {meta.get(META_KIND, b'unknown').decode()} output, not {kind.decode()}")
    if model is not None and meta.get(META_MODEL, b"").decode() != model:
        raise ParquetFolderError(
            f"{path.parent} holds output of {meta.get(META_MODEL, b'?').decode()!r}, not {model!r}: use another folder"
        )
    return True


def written_paths(folder: str | os.PathLike, kind: str, model: str | None = None) -> set[str]:
    """Paths already present in the folder's parts (what a restarted run skips)."""
    done: set[str] = set()
    for part in part_files(folder):
        if _check_part(part, kind.encode(), model):
            done.update(pq.read_table(part, columns=["path"]).column("path").to_pylist())
    return done


def iter_parts(folder: str | os.PathLike, kind: str, model: str | None = None, paths: set[str] | None = None) -> Iterator[dict]:
    for part in part_files(folder):
        if not _check_part(part, kind.encode(), model):
            continue
        for batch in pq.ParquetFile(part).iter_batches(batch_size=1024):
            for item in batch.to_pylist():
                if paths is None or item["path"] in paths:
                    yield item


def read_records(folder: str | os.PathLike, model: str | None = None, paths: Iterable[str] | None = None) -> list[dict]:
    """The score records in a --parquet folder (optionally only for *paths*), as the scorer yields them."""
    wanted = set(paths) if paths is not None else None
    return [record_from_arrow(item) for item in iter_parts(folder, "scores", model, wanted)]


def read_rows(folder: str | os.PathLike, backbone: str | None = None, paths: Iterable[str] | None = None) -> list[PhotoRow]:
    """The feature rows in a folder written by ``embed_files_on_ray``."""
    wanted = set(paths) if paths is not None else None
    return [row_from_arrow(item) for item in iter_parts(folder, "features", backbone, wanted)]


class PartWriter:
    """Buffers rows and writes them as whole part files: every *rows* rows or *seconds* seconds."""

    def __init__(self, folder: str | os.PathLike, schema: pa.Schema, to_table, rows: int = 2000, seconds: float = 60.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".part-*.tmp"):  # left by a killed run; never complete
            stale.unlink(missing_ok=True)
        self.schema = schema
        self.to_table = to_table
        self.rows = max(1, rows)
        self.seconds = seconds
        self.run = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.seq = 0
        self.written = 0
        self._buffer: list = []
        self._since = time.monotonic()

    def add(self, item) -> None:
        self._buffer.append(item)
        if len(self._buffer) >= self.rows or time.monotonic() - self._since > self.seconds:
            self.flush()

    def flush(self) -> None:
        self._since = time.monotonic()
        if not self._buffer:
            return
        table = self.to_table(self._buffer, self.schema)
        name = f"part-{self.run}-{self.seq:05d}.parquet"
        partial = self.folder / f".{name}.tmp"
        pq.write_table(table, partial)
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, self.folder / name)
        self.seq += 1
        self.written += len(self._buffer)
        self._buffer = []
