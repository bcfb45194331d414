"""`photocritic cull`: group bursts and near-duplicates, pick the best of each, hand the picks on."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from photocritic.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    check_input_file,
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
from photocritic.reasons import judgement
from photocritic.writers import FORMATS, render_table, write_csv, write_jsonl

CULL_EPILOG = """
**Examples**

* `photocritic cull ~/Pictures/trip` : groups, ranks and reasons as a table
* `photocritic cull shoot/ -f jsonl > cull.jsonl`
* `photocritic cull shoot/ --xmp --sidecar append --reject-rating -1` : darktable sidecars, rejects flagged
* `photocritic cull shoot/ --keep 20` : the best 20 photos, one per group of look-alikes before any second
* `photocritic cull shoot/ --keep 30% --xmp` : the best 30% get --pick-rating, every other photo --reject-rating
* `photocritic cull shoot/ --report sheet/` : an HTML contact sheet in sheet/index.html
* `photocritic cull shoot/ --move-rejects shoot/rejects` then `photocritic cull --undo shoot/rejects/photocritic-cull-*.json`

Each record: path, group, group_size, rank (1 = best of its group), pick, score, quality_score and
aesthetic_score (null unless the model gives them), quality, reasons, decision (pick, reject, or left out
by --keep), flags, taken_at, camera, sharpness, exposure_ev, faces, closed_eyes, error, set and set_id.
A flagged photo (too small, almost entirely black or white, flat) is never a pick: it is a reject, its flag
the reason. The frames of an exposure bracket, a panorama or a focus stack (set: "exposure bracket",
"panorama", "focus stack") are all kept, never culled (--no-sets culls them like any burst).
Photos are never modified.

The photo column is each path relative to the folder the photos share.

**Exit codes**: 0 done; 1 some photos could not be read or some sidecars could not be merged; 2 usage or
environment error; 3 internal error (a bug: please report it).
"""

TABLE_COLUMNS = [("group", "group"), ("rank", "rank"), ("mark", "pick"), ("name", "photo"), ("score", "score"), ("why", "reasons")]


def cull_command(
    paths: list[str] = typer.Argument(None, metavar="PATH", help="Photos, folders or glob patterns (quote globs).", show_default=False),
    format: str = typer.Option(None, "--format", "-f", help="table | jsonl | csv. Default: table at a terminal, jsonl otherwise."),
    output: Path = typer.Option(None, "--output", "-o", help="Write records to FILE instead of stdout."),
    model: str = typer.Option("default", "--model", "-m", help="A built-in model name or a model bundle folder."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    catalog: Path = typer.Option(None, "--catalog", envvar="PHOTOCRITIC_CATALOG", help="The SQLite catalog [default: ~/.cache/photocritic/catalog.sqlite]."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the catalog."),
    similarity: float = typer.Option(0.75, "--similarity", min=-1.0, max=1.0, help="Embedding cosine that makes two photos look-alikes on its own (with feature matching on, pairs below 0.88 also need capture times, the hash or matching features)."),
    time_similarity: float = typer.Option(0.50, "--time-similarity", min=-1.0, max=1.0, help="Cosine enough for two frames one camera shot within --time-gap."),
    time_gap: float = typer.Option(4.0, "--time-gap", min=0.0, help="Seconds between two frames of one burst (EXIF capture time, per camera)."),
    hash_distance: int = typer.Option(14, "--hash-distance", min=0, max=64, help="pHash bits that may differ for the hash to confirm a borderline pair."),
    no_hash: bool = typer.Option(False, "--no-hash", help="Do not use perceptual hashes."),
    no_matching: bool = typer.Option(False, "--no-matching", help="Do not confirm borderline look-alikes by matching local features (ORB)."),
    no_faces: bool = typer.Option(False, "--no-faces", help="Do not look for faces and closed eyes."),
    no_sets: bool = typer.Option(False, "--no-sets", help="Cull exposure brackets, panoramas and focus stacks like any burst (by default they are found and kept whole)."),
    xmp: bool = typer.Option(False, "--xmp", help="Merge star ratings (and labels) into XMP sidecars."),
    sidecar: str = typer.Option("replace", "--sidecar", help="Sidecar naming: replace (IMG_1.xmp) | append (IMG_1.JPG.xmp)."),
    pick_rating: int = typer.Option(4, "--pick-rating", min=0, max=5, help="Stars for the pick of each group."),
    reject_rating: int = typer.Option(1, "--reject-rating", min=-1, max=5, help="Stars for the others; -1 = rejected (darktable, digiKam, Bridge)."),
    pick_label: str = typer.Option(None, "--pick-label", help="xmp:Label for picks, e.g. Green."),
    reject_label: str = typer.Option(None, "--reject-label", help="xmp:Label for rejects, e.g. Red."),
    rate_singles: bool = typer.Option(False, "--rate-singles", help="Also give --pick-rating to photos with no look-alike (--keep does)."),
    keep: str = typer.Option(None, "--keep", metavar="N|N%", help="Keep the best N photos (or a share, 30%): each group's pick before any second frame, best score first; the picks that do not fit are 'left out' (rejects for --xmp and --move-rejects)."),
    overwrite_ratings: bool = typer.Option(False, "--overwrite-ratings", help="Replace ratings you set yourself (default: keep them)."),
    move_rejects: Path = typer.Option(None, "--move-rejects", help="Move rejects (and their sidecars) into DIR, journalled."),
    journal: Path = typer.Option(None, "--journal", help="Where to write the move journal [default: inside the --move-rejects folder]."),
    undo: Path = typer.Option(None, "--undo", help="Put back the files a move journal moved, then stop."),
    report: Path = typer.Option(None, "--report", help="Write an HTML contact sheet to DIR/index.html."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary on stderr."),
) -> None:
    """Group bursts and near-duplicates, pick the best shot of each, and say why."""
    if undo is not None:
        check_input_file(undo, "--undo")
        _undo(undo, quiet)
    if not paths:
        raise usage_error("give photos or folders to cull (or --undo JOURNAL)")
    # every output is checked before the photos are read: a wrong name costs a second, not the whole cull
    check_output_file(output, example="cull.jsonl")
    check_output_folder(report, "--report")
    check_output_folder(move_rejects, "--move-rejects")
    check_output_file(journal, "--journal", example="moves.json")
    if journal is not None and os.path.lexists(journal.expanduser()):
        raise usage_error(f"--journal {str(journal)!r} exists (the undo of an earlier run?); give a new name, or leave it out")
    from photocritic.culling import GroupingConfig, cull_records
    from photocritic.models.zoo import ModelError
    from photocritic.scoring import Scorer

    format = format or default_format()
    if format not in FORMATS:
        raise usage_error(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    if sidecar not in ("replace", "append"):
        raise usage_error(f"--sidecar must be replace or append, not {sidecar!r}")
    if keep is not None:
        from photocritic.culling.keep import parse_keep

        try:
            target = parse_keep(keep)
        except ValueError as exc:
            raise usage_error(str(exc)) from None
    try:
        files = find_photos(paths, recursive=recursive)
    except PathArgumentError as exc:
        raise usage_error(str(exc)) from None
    if move_rejects is not None:
        target = move_rejects.expanduser().resolve()
        files = [f for f in files if f.parent != target]
    if not files:
        raise usage_error("no photos found (folders are read one level deep unless you pass --recursive)")
    config = GroupingConfig(similarity=similarity, time_similarity=time_similarity, time_gap=time_gap, hash_distance=hash_distance)
    # the bar is up before the model loads, and names each step after scoring (grouping, faces, ranking)
    with progress_bar("loading the model", enabled=not quiet) as progress:
        try:
            scorer = Scorer(model, catalog=catalog, use_catalog=not no_cache)
        except ModelError as exc:
            raise usage_error(str(exc)) from None
        if progress:
            progress(0, len(files), "scoring")
        try:
            records = cull_records(scorer, files, config, faces=not no_faces, use_hash=not no_hash, progress=progress, use_matching=not no_matching,
                                   sets=not no_sets)
        finally:
            scorer.close()

    if keep is not None:
        from photocritic.culling.keep import keep_best

        kept, left_out = keep_best(records, target, f"--keep {keep.strip()}")
        if not quiet:
            print(f"--keep {keep.strip()}: {kept} kept, {left_out} left out (besides the rejects)", file=sys.stderr)
        rate_singles = True  # every photo is decided on
    problems = 0
    if xmp:
        problems += _write_sidecars(records, sidecar, pick_rating, reject_rating, pick_label, reject_label, rate_singles, overwrite_ratings, quiet)
    if report is not None:
        from photocritic.culling.contact_sheet import write_contact_sheet

        with progress_bar("contact sheet", enabled=not quiet) as progress:
            sheet = write_contact_sheet(records, report, title=f"photocritic cull · {plural(len(records), 'photo')}", progress=progress)
        if not quiet:
            print(f"contact sheet: {sheet}", file=sys.stderr)
    if move_rejects is not None:
        from photocritic.culling.moves import move_rejects as do_move

        rejects = [r["path"] for r in records if r["pick"] is False]
        try:
            moved = do_move(rejects, move_rejects, journal)
        except FileExistsError:  # created since the check above; nothing has moved
            raise usage_error(f"--journal {str(journal)!r} exists (the undo of an earlier run?); give a new name, or leave it out") from None
        problems += len(moved.skipped)
        for line in moved.skipped:
            print(f"photocritic: not moved: {line}", file=sys.stderr)
        if not quiet:
            print(f"moved {len(rejects) - len(moved.skipped)} rejects to {move_rejects}; undo with: photocritic cull --undo '{moved.journal}'", file=sys.stderr)

    _emit(records, format, output)
    failed = sum(1 for r in records if r["error"])
    if not quiet:
        groups = {r["group"] for r in records if r["group"] is not None and (r["group_size"] or 0) > 1}
        rejects = sum(1 for r in records if r["decision"] == "reject")
        sets = {r.get("set_id") for r in records if r.get("set_id") is not None}
        kept_whole = f"{plural(len(sets), 'set')} kept whole (brackets, panoramas, focus stacks), " if sets else ""
        print(f"{plural(len(records), 'photo')}: {plural(len(groups), 'group')} of look-alikes, {kept_whole}{plural(rejects, 'reject')}, "
              f"{failed} could not be read", file=sys.stderr)
    raise typer.Exit(EXIT_SOME_FAILED if failed or problems else EXIT_OK)


def _emit(records: list[dict], format: str, output: Path | None) -> None:
    with output_stream(output) as stream:
        if format == "jsonl":
            for _ in write_jsonl(records, stream):
                pass
        elif format == "csv":
            for _ in write_csv(records, stream, columns=list(records[0].keys()) if records else None):
                pass
        else:
            names = display_names([r["path"] for r in records])
            rows = [
                {
                    **r,
                    "name": names.get(r["path"], r["path"]),
                    "mark": ("✓ set" if r.get("set") else "✓") if r["pick"] else "",
                    "why": "; ".join(filter(None, [judgement(r), *r["reasons"]])),
                    "group": r["group"] if (r["group_size"] or 0) > 1 else (r["group"] and "-"),
                }
                # groups of look-alikes first: they are what a cull is for; singles and failures after
                for r in sorted(records, key=lambda r: (r["group_size"] or 0) <= 1)
            ]
            render_table(rows, TABLE_COLUMNS, stream, title="photocritic cull", no_wrap=("name", "group", "rank", "score"))


def _write_sidecars(records, style, pick_rating, reject_rating, pick_label, reject_label, rate_singles, overwrite, quiet) -> int:
    from photocritic.culling.xmp import XmpError, write_rating_status

    counts = {"written": 0, "unchanged": 0, "kept": 0}
    problems = 0
    for record in records:
        # a kept photo with no look-alike is rated with --rate-singles (or --keep); a reject always is
        if record["pick"] is None or (record["pick"] and record["group_size"] == 1 and not rate_singles):
            continue
        rating, label = (pick_rating, pick_label) if record["pick"] else (reject_rating, reject_label)
        try:
            status, _ = write_rating_status(record["path"], rating, label, style=style, overwrite=overwrite, set_label=label is not None)
        except (XmpError, OSError) as exc:
            problems += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"photocritic: sidecar of {record['path']} left as it was: {reason}", file=sys.stderr)
            continue
        counts[status] += 1
    if not quiet:
        print(
            f"sidecars: {counts['written']} written, {counts['unchanged']} already up to date, "
            f"{counts['kept']} kept your own rating (--overwrite-ratings replaces them)",
            file=sys.stderr,
        )
    return problems


def _undo(journal: Path, quiet: bool) -> None:
    from photocritic.culling.moves import undo_moves

    try:
        result = undo_moves(journal)
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    for line in result.skipped:
        print(f"photocritic: not restored: {line}", file=sys.stderr)
    if not quiet:
        print(f"restored {result.moved} files from {journal}", file=sys.stderr)
    raise typer.Exit(EXIT_SOME_FAILED if result.skipped else EXIT_OK)

