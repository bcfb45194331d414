"""`photocritic score`: an aesthetic score for every photo."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from photocritic.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    builtin_models,
    check_output_file,
    check_output_folder,
    default_format,
    display_names,
    output_stream,
    plural,
    progress_bar,
    usage_error,
)
from photocritic.library.scan import PathArgumentError, find_photos
from photocritic.reasons import judgement, record_reasons
from photocritic.writers import FORMATS, render_table, write_csv, write_jsonl

SCORE_EPILOG = """
**Examples**

* `photocritic score ~/Pictures/trip` : a table at a terminal, JSONL in a pipe
* `photocritic score ~/Pictures -r -f jsonl -o scores.jsonl`
* `photocritic score 'shoot/*.CR2' --format csv > scores.csv`
* `photocritic score photo.jpg --model runs/my-ava-run`
* `photocritic score ~/Pictures -r --top 10 --explain` : the ten best, with every reason
* `photocritic score shoot/ --min-score 6 --sort time -f jsonl` : the keepers, in shooting order

Each JSONL record holds: path, score (mean rating 1-10), quality_score and aesthetic_score (1-10, null
unless the model gives them), score_std, distribution (10 probabilities for ratings 1..10), error (null or
a one-line reason), width, height, taken_at (ISO 8601 from EXIF), camera, format, model, flags, and
technical (sharpness, exposure_ev, contrast, colorfulness, noise, ...).

The table fits the terminal. Its photo column is each path relative to the folder the photos share; its
why column gives the model's quality and appeal where it gives them, then the two main reasons (all of
them with --explain), in the words the web app uses.

**Exit codes**: 0 every photo scored; 1 some photos failed (their records carry `error`); 2 usage or
environment error; 3 internal error (a bug: please report it).

Results are kept in a SQLite catalog (see --catalog), so a second run over unchanged files decodes nothing.

**On a Ray cluster** (`pip install 'photocritic[ray]'`, see docs/scaling.md):

* `photocritic score /data/photos -r --parquet out/ --ray` : a local Ray on this machine
* `photocritic score /data/photos -r --parquet out/ --ray-address auto` : the cluster `ray start --head` made

Records then arrive in completion order; `--parquet DIR` also writes them as Parquet parts, and a rerun
with the same DIR skips every photo already written there.
"""

TABLE_COLUMNS = [
    ("name", "photo"),
    ("score", "score"),
    ("score_std", "±"),
    ("size", "size"),
    ("taken_at", "taken"),
    ("camera", "camera"),
    ("why", "why"),
]
SORT_KEYS = ("score", "name", "time")


def why(record: dict, explain: bool) -> str:
    """The why column: the model's quality and appeal when it gives them, then the two main reasons
    (every reason with --explain), in the web app's words."""
    if record["error"] is not None:
        return f"failed: {record['error']}"
    reasons = record_reasons(record)
    return "; ".join(filter(None, [judgement(record), *(reasons if explain else reasons[:2])]))


def sort_records(records: list[dict], key: str, names: dict[str, str]) -> list[dict]:
    if key == "name":
        return sorted(records, key=lambda r: names.get(r["path"], r["path"]))
    if key == "time":
        return sorted(records, key=lambda r: (r.get("taken_at") is None, r.get("taken_at") or "", names.get(r["path"], r["path"])))
    return sorted(records, key=lambda r: (r["score"] is None, -(r["score"] or 0), names.get(r["path"], r["path"])))


def score_command(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Photos, folders or glob patterns (quote globs).", show_default=False),
    format: str = typer.Option(None, "--format", "-f", help="table | jsonl | csv. Default: table at a terminal, jsonl otherwise."),
    output: Path = typer.Option(None, "--output", "-o", help="Write records to FILE (complete files only: renamed into place at the end)."),
    model: str = typer.Option("default", "--model", "-m", help=f"A built-in model name ({builtin_models()}) or a model bundle folder."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    sort: str = typer.Option(None, "--sort", help="score (best first) | name | time (capture time). Default: score in a table; input order (streamed) otherwise."),
    top: int = typer.Option(None, "--top", min=1, metavar="N", help="Only the N best photos (by --sort, score unless given)."),
    min_score: float = typer.Option(None, "--min-score", min=1.0, max=10.0, metavar="SCORE", help="Only photos scored at least SCORE (failed photos are left out too)."),
    explain: bool = typer.Option(False, "--explain", "-e", help="Every reason in the table's why column (not just the two main ones), and a reasons list in JSONL and CSV records."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the catalog: decode and score everything afresh."),
    catalog: Path = typer.Option(None, "--catalog", envvar="PHOTOCRITIC_CATALOG", help="The SQLite catalog [default: ~/.cache/photocritic/catalog.sqlite]."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, max=512, help="Photos per model batch (a run starts with batches of 1, 2, 4, ... so the first record is out quickly)."),
    workers: int = typer.Option(None, "--workers", min=1, max=64, help="Decode threads [default: number of cores, at most 8]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary on stderr."),
    ray: bool = typer.Option(False, "--ray", help="Decode and score on a Ray cluster (a local one unless --ray-address); --workers is then the number of model actors."),
    ray_address: str = typer.Option(None, "--ray-address", metavar="ADDRESS", help="Implies --ray. 'auto': the cluster `ray start` made on this machine; host:6379 or ray://host:10001: a remote one; 'local': start one here [default: $RAY_ADDRESS, else local]."),
    parquet: Path = typer.Option(None, "--parquet", metavar="DIR", help="With --ray: also write records as Parquet parts into DIR; a rerun skips photos already there."),
) -> None:
    """Score photos: a 1-10 rating distribution, technical measures and the reasons for each."""
    from photocritic.models.zoo import ModelError
    from photocritic.scoring import Scorer

    format = format or default_format()
    if format not in FORMATS:
        raise usage_error(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    if sort is not None and sort not in SORT_KEYS:
        raise usage_error(f"--sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
    check_output_file(output, example="scores.jsonl")
    check_output_folder(parquet, "--parquet")
    try:
        files = find_photos(paths, recursive=recursive)
    except PathArgumentError as exc:
        raise usage_error(str(exc)) from None
    if not files:
        raise usage_error("no photos found (folders are read one level deep unless you pass --recursive)")
    ray = ray or bool(ray_address)
    if parquet is not None and not ray:
        raise usage_error("--parquet needs --ray")
    names = display_names([str(f) for f in files])
    # a table, a sort or a cut needs every record first; plain JSONL/CSV stream as photos finish
    buffered = format == "table" or sort is not None or top is not None
    shown = 0
    # the bar is up before the model loads: the first line a person sees comes within a second or two
    with progress_bar("loading the model", enabled=not quiet) as progress:
        try:
            if ray:
                from photocritic.cli.ray_options import make_ray_scorer

                scorer = make_ray_scorer(model, ray_address, catalog, not no_cache, parquet, batch_size, workers)
            else:
                scorer = Scorer(model, catalog=catalog, use_catalog=not no_cache, batch_size=batch_size, workers=workers)
        except ModelError as exc:
            raise usage_error(str(exc)) from None
        if progress:
            progress(0, len(files), "scoring")
        try:
            with output_stream(output) as stream:
                records = scorer.iter_records(files, progress=progress)
                if min_score is not None:
                    records = (r for r in records if r["score"] is not None and r["score"] >= min_score)
                if explain and format != "table":
                    records = ({**r, "reasons": record_reasons(r)} for r in records)
                if buffered:
                    records = sort_records(list(records), sort or "score", names)[:top]
                if format == "jsonl":
                    for _ in write_jsonl(records, stream):
                        shown += 1
                elif format == "csv":
                    for _ in write_csv(records, stream):
                        shown += 1
                else:
                    rows = [
                        {
                            **record,
                            "name": names.get(record["path"], record["path"]),
                            "size": f"{record['width']}x{record['height']}" if record["width"] else None,
                            "taken_at": (record.get("taken_at") or "")[:16].replace("T", " ") or None,
                            "why": why(record, explain),
                        }
                        for record in records
                    ]
                    shown = len(rows)
                    render_table(rows, TABLE_COLUMNS, stream, title=f"model: {scorer.model.name}", no_wrap=("name", "score", "score_std", "size", "taken_at"),
                                 optional=("camera", "taken_at", "size", "score_std"))
        finally:
            scorer.close()
    stats = scorer.stats
    if not quiet:
        sources = [
            f"{plural(stats.decoded, 'photo')} read from disk",
            f"{stats.head_only} rescored from stored features",
            f"{stats.from_catalog} from the catalog",
        ]
        if parquet is not None:
            sources.append(f"{stats.skipped} already in {parquet}")
        if getattr(stats, "lost", 0):
            sources.append(f"{stats.lost} lost with failed Ray tasks")
        cut = f"; {shown} shown (--top/--min-score)" if (top is not None or min_score is not None) else ""
        print(
            f"{plural(stats.total, 'photo')}: {stats.total - stats.failed} scored, {stats.failed} failed{cut} ({', '.join(sources)})",
            file=sys.stderr,
        )
    raise typer.Exit(EXIT_SOME_FAILED if stats.failed else EXIT_OK)
