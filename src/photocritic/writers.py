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


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 photo', '2 photos': summaries count in words a person reads."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


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


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else printable(str(value))


#: The narrowest the why column may get before an optional column is left out for it.
WHY_MIN = 30


def render_table(records: Sequence[dict], columns: Sequence[tuple[str, str]], stream: IO[str], title: str = "",
                 no_wrap: Sequence[str] = (), optional: Sequence[str] = (), width: int | None = None) -> None:
    """A rich table as wide as the terminal (*width*; default: the terminal's, else ``$COLUMNS``, else 80).

    *columns* is (record key, heading); keys in *no_wrap* keep their cells on one line, except ``name``
    (the photo's), which takes at most a third of the width and folds beyond it; the last
    column folds its text and gets the room that is left. Where it would get less than :data:`WHY_MIN`,
    the *optional* columns are left out, first named first, so no line is ever wider than the terminal.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream, width=width)
    width = console.width
    cells = [[_cell(record.get(key)) for key, _ in columns] for record in records]
    natural = [max([len(heading)] + [len(row[k]) for row in cells]) for k, (_, heading) in enumerate(columns)]
    name_cap = max(12, width // 3)
    kept = list(range(len(columns)))

    def fixed_width() -> int:
        # each column costs its content plus 3 (padding and a border); the last one is the flexible one
        return sum((min(natural[k], name_cap) if columns[k][0] == "name" else natural[k]) + 3 for k in kept[:-1]) + 4

    for key in optional:
        if width - fixed_width() >= min(WHY_MIN, natural[kept[-1]]):
            break
        kept = [k for k in kept if columns[k][0] != key]
    table = Table(title=title or None, show_lines=False)
    for k in kept:
        key, heading = columns[k]
        # a name longer than its share folds inside its cell: never cut, a photo must stay findable
        capped = key == "name"
        table.add_column(heading, overflow="fold", no_wrap=key in no_wrap and not capped, max_width=name_cap if capped else None)
    for row in cells:
        table.add_row(*(row[k] for k in kept))
    console.print(table)
