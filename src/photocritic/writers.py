"""Write records as JSONL, CSV or a table for people. Shared by every command that emits records.

File names need not be UTF-8: Python keeps the bytes of such a name as lone surrogates
(``surrogateescape``), which no UTF-8 stream can hold. JSONL writes them as ``\\udcXX`` escapes
(valid JSON; ``os.fsencode(json.loads(line)["path"])`` gives back the exact bytes); CSV and tables,
meant for people and spreadsheets, show each such byte as ``\\xXX``.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

FORMATS = ("table", "jsonl", "csv")


def flatten(record: dict) -> dict:
    """Nested dicts become dotted columns; lists become JSON text (for CSV)."""
    flat: dict = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, subvalue in flatten(value).items():
                flat[f"{key}.{sub}"] = subvalue
        elif isinstance(value, (list, tuple)):
            flat[key] = printable(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, str):
            flat[key] = printable(value)
        else:
            flat[key] = value
    return flat


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """*text* with the undecodable bytes of a file name shown as ``\\xXX`` (for CSV and tables)."""
    if not _SURROGATE.search(text):
        return text
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def jsonl_line(record: dict) -> str:
    text = json.dumps({k: _json_safe(v) for k, v in record.items()}, ensure_ascii=False)
    # a lone surrogate can only sit inside a JSON string, where its \u escape is valid JSON
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_jsonl(records: Iterable[dict], stream: IO[str]) -> Iterator[dict]:
    for record in records:
        stream.write(jsonl_line(record) + "\n")
        stream.flush()
        yield record


def write_csv(records: Iterable[dict], stream: IO[str], columns: Sequence[str] | None = None) -> Iterator[dict]:
    """CSV with a fixed header: *columns*, else those of the first record that has no error."""
    writer = None
    buffered: list[dict] = []
    for record in records:
        if writer is None:
            buffered.append(record)
            if columns is None and record.get("error") is not None:
                continue  # an error record lacks nested columns; wait for a full one
            header = list(columns) if columns else list(flatten(record).keys())
            writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
            writer.writeheader()
            for held in buffered:
                writer.writerow(flatten(held))
            buffered = []
        else:
            writer.writerow(flatten(record))
        yield record
    if writer is None and buffered:
        header = list(columns) if columns else list(dict.fromkeys(k for r in buffered for k in flatten(r)))
        writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for held in buffered:
            writer.writerow(flatten(held))
    stream.flush()


def render_table(records: Sequence[dict], columns: Sequence[tuple[str, str]], stream: IO[str], title: str = "",
                 no_wrap: Sequence[str] = ()) -> None:
    """A rich table: *columns* is (record key, heading); keys in *no_wrap* keep their cells on one line."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, show_lines=False)
    for _, heading in columns:
        table.add_column(heading, overflow="fold")
    for (key, _), column in zip(columns, table.columns):
        column.no_wrap = key in no_wrap
    for record in records:
        cells = []
        for key, _ in columns:
            value = record.get(key)
            if isinstance(value, float):
                cells.append(f"{value:.2f}")
            elif value is None:
                cells.append("")
            else:
                cells.append(printable(str(value)))
        table.add_row(*cells)
    Console(file=stream, width=max(100, Console().width)).print(table)
