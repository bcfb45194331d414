"""`photocritic score`: an aesthetic score for every photo."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from photocritic.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    default_format,
    output_stream,
    progress_bar,
    usage_error,
)
from photocritic.library.scan import PathArgumentError, find_photos
from photocritic.models.zoo import ModelError, available_models
from photocritic.writers import FORMATS, render_table, write_csv, write_jsonl

SCORE_EPILOG = """
**Examples**

* `photocritic score ~/Pictures/trip` : a table at a terminal, JSONL in a pipe
* `photocritic score ~/Pictures -r -f jsonl -o scores.jsonl`
* `photocritic score 'shoot/*.CR2' --format csv > scores.csv`
* `photocritic score photo.jpg --model runs/my-ava-run`

Each JSONL record holds: path, score (mean rating 1-10), score_std, distribution (10 probabilities
for ratings 1..10), error (null or a one-line reason), width, height, taken_at (ISO 8601 from EXIF),
camera, format, model, and technical (sharpness, exposure_ev, contrast, colorfulness, noise, ...).

**Exit codes**: 0 every photo scored; 1 some photos failed (their records carry `error`); 2 usage error.

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
    ("error", "error"),
]


def score_command(
    paths: list[str] = typer.Argument(..., help="Photos, folders or glob patterns (quote globs).", show_default=False),
    format: str = typer.Option(None, "--format", "-f", help="table | jsonl | csv. Default: table at a terminal, jsonl otherwise."),
    output: Path = typer.Option(None, "--output", "-o", help="Write records to FILE (complete files only: renamed into place at the end)."),
    model: str = typer.Option("default", "--model", "-m", help=f"A built-in model name ({', '.join(available_models()) or 'default'}) or a model bundle folder."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the catalog: decode and score everything afresh."),
    catalog: Path = typer.Option(None, "--catalog", envvar="PHOTOCRITIC_CATALOG", help="The SQLite catalog [default: ~/.cache/photocritic/catalog.sqlite]."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, max=512, help="Photos per model batch."),
    workers: int = typer.Option(None, "--workers", min=1, max=64, help="Decode threads [default: number of cores, at most 8]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary on stderr."),
    ray: bool = typer.Option(False, "--ray", help="Decode and score on a Ray cluster (a local one unless --ray-address); --workers is then the number of model actors."),
    ray_address: str = typer.Option(None, "--ray-address", metavar="ADDRESS", help="Implies --ray. 'auto': the cluster `ray start` made on this machine; host:6379 or ray://host:10001: a remote one; 'local': start one here [default: $RAY_ADDRESS, else local]."),
    parquet: Path = typer.Option(None, "--parquet", metavar="DIR", help="With --ray: also write records as Parquet parts into DIR; a rerun skips photos already there."),
) -> None:
    """Score photos: a 1-10 rating distribution and technical measures for each."""
    from photocritic.scoring import Scorer

    format = format or default_format()
    if format not in FORMATS:
        raise usage_error(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    try:
        files = find_photos(paths, recursive=recursive)
    except PathArgumentError as exc:
        raise usage_error(str(exc)) from None
    if not files:
        raise usage_error("no photos found (folders are read one level deep unless you pass --recursive)")
    ray = ray or bool(ray_address)
    if parquet is not None and not ray:
        raise usage_error("--parquet needs --ray")
    try:
        if ray:
            from photocritic.cli.ray_options import make_ray_scorer

            scorer = make_ray_scorer(model, ray_address, catalog, not no_cache, parquet, batch_size, workers)
        else:
            scorer = Scorer(model, catalog=catalog, use_catalog=not no_cache, batch_size=batch_size, workers=workers)
    except ModelError as exc:
        raise usage_error(str(exc)) from None

    try:
        with progress_bar("scoring", enabled=not quiet) as progress, output_stream(output) as stream:
            records = scorer.iter_records(files, progress=progress)
            if format == "jsonl":
                for _ in write_jsonl(records, stream):
                    pass
            elif format == "csv":
                for _ in write_csv(records, stream):
                    pass
            else:
                rows = []
                for record in records:
                    rows.append(
                        {
                            **record,
                            "name": Path(record["path"]).name,
                            "size": f"{record['width']}x{record['height']}" if record["width"] else None,
                        }
                    )
                rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0)))
                render_table(rows, TABLE_COLUMNS, stream, title=f"model: {scorer.model.name}")
    finally:
        scorer.close()
    stats = scorer.stats
    if not quiet:
        print(
            f"{stats.total} photos: {stats.total - stats.failed} scored, {stats.failed} failed "
            f"({stats.decoded} decoded, {stats.head_only} rescored from stored features, {stats.from_catalog} from the catalog"
            + (f", {stats.skipped} already in {parquet}" if parquet is not None else "")
            + (f", {stats.lost} lost with failed Ray tasks" if getattr(stats, "lost", 0) else "")
            + ")",
            file=sys.stderr,
        )
    raise typer.Exit(EXIT_SOME_FAILED if stats.failed else EXIT_OK)
