"""`photocritic taste ...`: learn a person's own taste from the picks they already made."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from photocritic.cli.common import EXIT_OK, EXIT_SOME_FAILED, check_output_folder, plural, usage_error
from photocritic.library.scan import PathArgumentError, find_photos

taste_app = typer.Typer(
    help="Learn what you keep from your own picks, score with it, see what it looks at.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

FEW_LABELS = 20  # below this a cross-validated AUC swings by more than the difference between tastes

FIT_EPILOG = """
**Examples**

* `photocritic taste fit --good trips/good --bad trips/bad -o my-taste --report my-taste/report`
* `photocritic taste fit --ratings ~/Pictures/2024 --threshold 4 -o my-taste` : stars from XMP sidecars
  (`IMG_1.xmp` or `IMG_1.JPG.xmp`) or XMP embedded in the photo
* `photocritic taste fit --csv labels.csv -o my-taste` : columns `path` and `label` (keep/reject) or `rating`
* `photocritic score ~/Pictures/new --model my-taste`

Star ratings: at or above --threshold is "keep"; below it, or rejected (-1), is "not"; unrated photos are left out.
The model is a logistic regression on the catalog's backbone features, the technical measures and the base
model's score; its strength and class weighting are chosen by cross-validation. Fitting takes seconds once
the photos are in the catalog; --report refits it dozens of times (cross-validation, learning curve) and
prints each stage: minutes for a few hundred labels. Fewer than 20 labels get a warning: too few to learn from.
"""

EXPLAIN_EPILOG = """
**Examples**

* `photocritic taste explain photo.jpg` : heatmaps/photo.jpg.heatmap.png, and a JSON line per photo
* `photocritic taste explain shoot/*.jpg --model my-taste -o why/` : what your taste model looks at

Each JSON line: path, heatmap (the overlay written), score, error.
"""


@taste_app.command("fit", epilog=FIT_EPILOG)
def fit_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the taste model bundle to."),
    good: Path = typer.Option(None, "--good", help="Folder of photos you kept."),
    bad: Path = typer.Option(None, "--bad", help="Folder of photos you did not keep."),
    ratings: list[str] = typer.Option(None, "--ratings", help="Photos or folders whose XMP star ratings are the labels."),
    threshold: int = typer.Option(3, "--threshold", min=1, max=5, help="Stars that count as keep."),
    csv_file: Path = typer.Option(None, "--csv", help="CSV of path and label (keep/reject, 1/0) or rating (stars)."),
    blend: float = typer.Option(0.0, "--blend", min=0.0, max=1.0, help="Share of the base model in the bundle's score (0.5: half and half)."),
    base_model: str = typer.Option("default", "--model", "-m", help="Base model whose features and score the taste model builds on."),
    report: Path = typer.Option(None, "--report", help="Write an HTML report with cross-validated figures, learning curve and grids."),
    catalog: Path = typer.Option(None, "--catalog", envvar="PHOTOCRITIC_CATALOG", help="The SQLite catalog."),
) -> None:
    """Fit a taste model from good/bad folders, star ratings or a CSV; print its figures as JSON."""
    from photocritic.models.zoo import ModelError
    from photocritic.taste import PhotoFeatures, TasteModel, labels_from_csv, labels_from_folders, labels_from_ratings

    check_output_folder(out, "--out")
    check_output_folder(report, "--report")
    if report is not None:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:  # say so before the fit, not after it
            raise usage_error('--report draws figures with matplotlib: pip install "photocritic[plots]"')
    sources = sum(x is not None and x != [] for x in (good or bad, ratings, csv_file))
    if sources != 1:
        raise usage_error("give exactly one label source: --good and --bad, --ratings, or --csv")
    try:
        if good or bad:
            if not (good and bad):
                raise usage_error("--good and --bad go together")
            labels = labels_from_folders(good, bad)
        elif ratings:
            labels = labels_from_ratings(ratings, threshold=threshold)
        else:
            labels = labels_from_csv(csv_file, threshold=threshold)
    except (PathArgumentError, ValueError, OSError) as exc:
        raise usage_error(str(exc)) from None
    print(labels.summary(), file=sys.stderr)
    y = labels.y
    if len(set(y)) < 2 or min(y.count(0), y.count(1)) < 2:
        raise usage_error("need at least two photos you kept and two you did not")
    if len(y) < FEW_LABELS or min(y.count(0), y.count(1)) < FEW_LABELS // 4:
        print(f"photocritic: warning: {plural(len(y), 'label')} ({y.count(1)} kept, {y.count(0)} not) are too few to learn a "
              f"taste from: expect a model close to chance and wide intervals; {FEW_LABELS}+ labels with 5+ of each kind "
              "are a start, a few hundred are better", file=sys.stderr)
    print(f"features of {plural(len(y), 'photo')} (photos already in the catalog cost nothing)", file=sys.stderr)

    try:
        features, ok = PhotoFeatures(base_model, catalog)(labels.paths)
    except ModelError as exc:
        raise usage_error(str(exc)) from None
    import numpy as np

    paths = [p for p, good_row in zip(labels.paths, ok) if good_row]
    X, y_ok = features[ok], np.asarray(y)[ok]
    failed = int((~ok).sum())
    print("fitting (strength and class weighting chosen by cross-validation)", file=sys.stderr)
    taste = TasteModel(base_model=base_model, catalog=catalog).fit(X, y_ok)
    folder = taste.save(out, blend=blend)
    summary = {
        "model": str(folder),
        "labels": int(len(y_ok)),
        "kept": int(y_ok.sum()),
        "unreadable": failed,
        "skipped": len(labels.skipped),
        "cv_auc": round(taste.cv_auc_, 4),
        **taste.best_params_,
    }
    if report:
        from photocritic.taste.report import evaluate_taste, write_report

        result = evaluate_taste(X, y_ok, paths, log=lambda m: print(m, file=sys.stderr, flush=True))
        page = write_report(result, report)
        summary.update(
            report=str(page),
            report_cv_auc=round(result.cv_auc, 4),
            report_cv_auc_ci=[round(v, 4) for v in result.cv_auc_ci],
            majority_accuracy=round(result.majority_accuracy, 4),
        )
    print(json.dumps(summary))
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@taste_app.command("explain", epilog=EXPLAIN_EPILOG)
def explain_command(
    photos: list[str] = typer.Argument(..., metavar="PHOTO", help="Photos to explain."),
    model: str = typer.Option("default", "--model", "-m", help="Model name or bundle folder."),
    out: Path = typer.Option(Path("heatmaps"), "--out", "-o", help="Folder for the overlays (PHOTO.heatmap.png)."),
) -> None:
    """What does it look at? A Grad-CAM heat map over each photo: red where the score comes from, blue where it is lost."""
    from photocritic.imaging import PhotoError

    try:
        from photocritic.models.saliency import overlay, score_heatmap
    except ImportError as exc:  # Grad-CAM needs gradients, the one part of scoring left to PyTorch
        if (exc.name or "").split(".")[0] == "torch":
            raise usage_error('heat maps need PyTorch: pip install "photocritic[train]"') from None
        raise
    from photocritic.models.zoo import ModelError

    try:
        files = find_photos(photos)
    except PathArgumentError as exc:
        raise usage_error(str(exc)) from None
    check_output_folder(out, "--out")
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in files:
        try:
            heat, pixels, score = score_heatmap(path, model)
        except ModelError as exc:
            raise usage_error(str(exc)) from None
        except PhotoError as exc:
            failed += 1
            print(json.dumps({"path": str(path), "heatmap": None, "error": str(exc)}))
            continue
        target = out / f"{path.name}.heatmap.png"
        overlay(pixels, heat).save(target)
        print(json.dumps({"path": str(path), "heatmap": str(target), "score": round(score, 4), "error": None}))
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)
