"""`photocritic ava ...`: AVA metadata analysis, bias filters and cleaned exports.

Thin: parse arguments, call `photocritic.ava`, print. Paths of written files go to stdout;
progress, bad-row listings and summaries go to stderr.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from photocritic.cli.common import EXIT_OK, EXIT_SOME_FAILED, usage_error

ava_app = typer.Typer(help="Analyse AVA's votes, tags and challenges; export cleaned sets.", no_args_is_help=True,
                      rich_markup_mode="markdown")

AVA_EPILOG = """
**Input**: any file in AVA.txt format: 15 whitespace-separated integer columns (index, image id, votes for
ratings 1..10, tag 1, tag 2, challenge id; tag 0 = none). `tags.txt` and `challenges.txt` are picked up from
the same folder unless given.

**Bad rows** (wrong column count, non-integers, no votes, repeated image id) are listed with their line
numbers on stderr and in `bad_rows.txt`, excluded, and the exit code is 1. With `--strict` nothing is
written. **Exit codes**: 0 clean input; 1 bad rows found; 2 usage error.
"""

FILTER_HELP = {
    "drop_tags": "Leave out photos with these tags: names or ids, comma-separated or repeated. "
                 "`bias` = Advertisement, Horror, Humorous, Political. Names are case-insensitive prefixes.",
    "drop_challenges": "Leave out photos from these challenges (names or ids).",
    "min_votes": "Leave out photos with fewer votes than this.",
}


def _names(path: Path | None, ava: Path, default: str, quiet: bool) -> tuple[dict[int, str], Path | None]:
    from photocritic.ava.parsing import AvaFormatError, read_names

    if path is None:
        candidate = ava.parent / default
        if not candidate.is_file():
            return {}, None
        path = candidate
        if not quiet:
            typer.echo(f"using {candidate}", err=True)
    try:
        return read_names(path), path
    except (OSError, AvaFormatError) as exc:
        raise usage_error(str(exc)) from None


def _load(ava: Path, tags: Path | None, challenges: Path | None, strict: bool, quiet: bool, drop_tags, drop_challenges, min_votes):
    from photocritic.ava.filters import FilterError, make_spec
    from photocritic.ava.parsing import AvaFormatError, read_ava

    tag_names, _ = _names(tags, ava, "tags.txt", quiet)
    challenge_names, _ = _names(challenges, ava, "challenges.txt", quiet)
    try:
        spec = make_spec(drop_tags, drop_challenges, min_votes, tag_names, challenge_names)
    except FilterError as exc:
        raise usage_error(str(exc)) from None
    start = time.perf_counter()
    try:
        data = read_ava(ava, strict=strict)
    except AvaFormatError as exc:
        if strict and len(exc.bad_rows) and "no usable rows" not in str(exc):
            typer.echo(f"photocritic: {exc}", err=True)  # --strict: every bad row, then stop
            raise typer.Exit(EXIT_SOME_FAILED) from None
        # nothing usable at all: not an AVA file, a usage error like any other wrong input
        first = f" ({exc.bad_rows[0]})" if exc.bad_rows else ""
        raise usage_error(f"{str(exc).splitlines()[0]}{first}: is it an AVA.txt file? "
                          f"`photocritic ava check {ava}` lists every bad row") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"{ava}: {exc}") from None
    if not quiet:
        typer.echo(f"read {len(data):,} photos from {ava} in {time.perf_counter() - start:.2f} s", err=True)
    return data, tag_names, challenge_names, spec


def _report_bad_rows(data, where: Path | None) -> int:
    if not data.bad_rows:
        return EXIT_OK
    typer.echo(f"photocritic: {len(data.bad_rows)} bad row(s) in {data.source} were excluded:", err=True)
    for row in data.bad_rows[:20]:
        typer.echo(f"  {row}", err=True)
    if len(data.bad_rows) > 20:
        typer.echo(f"  ... and {len(data.bad_rows) - 20} more" + (f" (all listed in {where})" if where else ""), err=True)
    return EXIT_SOME_FAILED


ARG_AVA = typer.Argument(..., metavar="AVA_TXT", exists=True, dir_okay=False, readable=True, help="AVA.txt or any file in its format.")
OPT_TAGS = typer.Option(None, "--tags", exists=True, dir_okay=False, help="tags.txt [default: beside the AVA file].")
OPT_CHALLENGES = typer.Option(None, "--challenges", exists=True, dir_okay=False, help="challenges.txt [default: beside the AVA file].")
OPT_DROP_TAGS = typer.Option(None, "--drop-tags", help=FILTER_HELP["drop_tags"])
OPT_DROP_CHALLENGES = typer.Option(None, "--drop-challenges", help=FILTER_HELP["drop_challenges"])
OPT_MIN_VOTES = typer.Option(0, "--min-votes", min=0, help=FILTER_HELP["min_votes"])
OPT_PRIOR = typer.Option(None, "--prior-votes", min=0.0, help="m of the Bayesian score [default: estimated from the data].")
OPT_STRICT = typer.Option(False, "--strict", help="Abort (exit 1, write nothing) when any row is bad.")
OPT_QUIET = typer.Option(False, "--quiet", "-q", help="No progress messages on stderr (bad rows are still listed).")


@ava_app.command("report", epilog="""
**Examples**

* `photocritic ava report AVA.txt` : writes ./ava-report/report.html (+ figures/, data/*.csv)
* `photocritic ava report AVA.txt --out reports/ava --tags tags.txt --challenges challenges.txt`
* `photocritic ava report AVA.txt --drop-tags bias --min-votes 100` : the report of the cleaned set
* `xdg-open "$(photocritic ava report AVA.txt -q)"` : stdout is the path of report.html
""" + AVA_EPILOG)
def report_command(
    ava: Path = ARG_AVA,
    tags: Path = OPT_TAGS,
    challenges: Path = OPT_CHALLENGES,
    out: Path = typer.Option(Path("ava-report"), "--out", "-o", file_okay=False, help="Folder for report.html, figures/ and data/."),
    drop_tags: list[str] = OPT_DROP_TAGS,
    drop_challenges: list[str] = OPT_DROP_CHALLENGES,
    min_votes: int = OPT_MIN_VOTES,
    prior_votes: float = OPT_PRIOR,
    strict: bool = OPT_STRICT,
    quiet: bool = OPT_QUIET,
) -> None:
    """Know your data: an HTML report of AVA's ratings, tags, challenges, votes and scores.

    Covers the normalised distribution of ratings and histograms of mean scores (global, per tag, per
    challenge), votes per rating, photos per tag with the untagged share, the top and bottom 70
    challenges by submissions, mean votes per photo per challenge (the real reliability measure),
    extreme votes, and how the naive, Bayesian, lower-bound and extreme-weighted scores re-rank photos.
    """
    from photocritic.ava.report import build_report

    data, tag_names, challenge_names, spec = _load(ava, tags, challenges, strict, quiet, drop_tags, drop_challenges, min_votes)
    try:
        result = build_report(data, out, tag_names, challenge_names, spec, prior_votes)
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    if not quiet:
        for label, removed in result.filters.steps:
            typer.echo(f"left out {removed:,} photos: {label}", err=True)
        typer.echo(f"report on {result.analysis.photos:,} photos in {result.seconds['total']:.1f} s: {result.html}", err=True)
    code = _report_bad_rows(data, out / "bad_rows.txt")
    typer.echo(str(result.html))
    raise typer.Exit(code)


@ava_app.command("export", epilog="""
**Examples**

* `photocritic ava export AVA.txt --out clean/ --drop-tags bias --min-votes 50`
* `photocritic ava export AVA.txt --out clean/ --split official --lists aesthetics_image_lists/`
* `photocritic ava export AVA.txt --out clean/ --score lcb --test-fraction 0.1 --val-fraction 0.05 --seed 7`

Writes train.txt / val.txt / test.txt (AVA format), ava_clean.csv (and .parquet when pyarrow is
installed) and manifest.json; stdout lists the files. Scores: naive, bayes, lcb, extreme (formulas in
docs/ava.md and the report). Random splits hash each image id with the seed, so a photo keeps its split
whatever the filters remove. With `--split official`, photos in neither list go to train
(`--unlisted train`, the usual practice) or are left out (`--unlisted drop`).
""" + AVA_EPILOG)
def export_command(
    ava: Path = ARG_AVA,
    out: Path = typer.Option(..., "--out", "-o", file_okay=False, help="Folder for the cleaned files."),
    tags: Path = OPT_TAGS,
    challenges: Path = OPT_CHALLENGES,
    drop_tags: list[str] = OPT_DROP_TAGS,
    drop_challenges: list[str] = OPT_DROP_CHALLENGES,
    min_votes: int = OPT_MIN_VOTES,
    score: str = typer.Option("bayes", "--score", help="naive | bayes | lcb | extreme: the `score` column."),
    split: str = typer.Option("random", "--split", help="random | official."),
    lists: Path = typer.Option(None, "--lists", exists=True, file_okay=False,
                               help="aesthetics_image_lists/ (generic_ls_train.jpgl, generic_test.jpgl) [default: beside the AVA file]."),
    train_list: Path = typer.Option(None, "--train-list", exists=True, dir_okay=False, help="Official train list (overrides --lists)."),
    test_list: Path = typer.Option(None, "--test-list", exists=True, dir_okay=False, help="Official test list (overrides --lists)."),
    unlisted: str = typer.Option("train", "--unlisted", help="official split: photos in neither list go to `train` or are `drop`ped."),
    test_fraction: float = typer.Option(0.1, "--test-fraction", help="random split: share of photos in test."),
    val_fraction: float = typer.Option(0.0, "--val-fraction", help="Share of photos in val (random), or carved from train (official)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random split and of the val draw."),
    formats: str = typer.Option("ava,csv,parquet", "--format", help="Comma-separated: ava, csv, parquet (parquet only if pyarrow is importable)."),
    prior_votes: float = OPT_PRIOR,
    strict: bool = OPT_STRICT,
    quiet: bool = OPT_QUIET,
) -> None:
    """Write the cleaned set for training: filters applied, a chosen score, official or seeded random splits."""
    from photocritic.ava.export import ExportError, export_clean, parquet_available

    data, tag_names, challenge_names, spec = _load(ava, tags, challenges, strict, quiet, drop_tags, drop_challenges, min_votes)
    if split == "official":
        folder = lists or (ava.parent / "aesthetics_image_lists")
        train_list = train_list or (folder / "generic_ls_train.jpgl" if (folder / "generic_ls_train.jpgl").is_file() else None)
        test_list = test_list or (folder / "generic_test.jpgl" if (folder / "generic_test.jpgl").is_file() else None)
        if test_list is None:
            raise usage_error(f"--split official: no generic_test.jpgl in {folder}; pass --lists or --test-list")
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if "parquet" in chosen and not parquet_available() and not quiet and formats != "ava,csv,parquet":
        typer.echo("pyarrow is not installed: no Parquet file", err=True)
    try:
        result = export_clean(data, out, spec, score, split, test_fraction, val_fraction, seed, train_list, test_list, unlisted,
                              chosen, tag_names, challenge_names, prior_votes)
    except ExportError as exc:
        raise usage_error(str(exc)) from None
    if not quiet:
        for item in result.manifest["filters"]:
            typer.echo(f"left out {item['photos']:,} photos: {item['left_out']}", err=True)
        typer.echo(f"exported {result.manifest['photos']:,} photos ({json.dumps(result.counts)}), score={score}", err=True)
    code = _report_bad_rows(data, None)
    for path in result.files:
        typer.echo(str(path))
    raise typer.Exit(code)


@ava_app.command("check", epilog="""
**Examples**

* `photocritic ava check AVA.txt` : prints every bad row (`line 17: expected 15 columns, got 9`), exit 1 if any
""" + AVA_EPILOG)
def check_command(ava: Path = ARG_AVA) -> None:
    """Validate a file in AVA format: list bad rows with line numbers on stdout, a summary on stderr."""
    from photocritic.ava.parsing import AvaFormatError, read_ava

    try:
        data = read_ava(ava)
    except AvaFormatError as exc:  # nothing usable at all
        for row in exc.bad_rows:
            typer.echo(str(row))
        typer.echo(f"photocritic: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_SOME_FAILED) from None
    for row in data.bad_rows:
        typer.echo(str(row))
    typer.echo(f"{len(data):,} good rows, {len(data.bad_rows):,} bad rows in {ava}", err=True)
    raise typer.Exit(EXIT_SOME_FAILED if data.bad_rows else EXIT_OK)
