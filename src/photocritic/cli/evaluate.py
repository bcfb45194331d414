"""`photocritic evaluate`: a training run's held-out figures beside naive baselines and the papers."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from photocritic.cli.common import EXIT_OK, usage_error

EVALUATE_EPILOG = """
**Examples**

* `photocritic evaluate runs/nima` : the test split, a markdown report on stdout
* `photocritic evaluate runs/nima --split val --json` : figures as JSON
* `photocritic evaluate runs/nima --bootstrap 2000 --grid-size 100`

Reports what the labels allow, with 95% bootstrap intervals: for ratings, accuracy at the run's
threshold (mean > 5 unless set), SRCC, PLCC, EMD, MAE, MSE and AUC beside two naive baselines (always
the training mean; always the majority class); for good/bad folders, accuracy and AUC beside the
majority class. AVA runs also show the published AVA results (theirs, from the papers). JSON writes
undefined figures as null.

Writes evaluation-SPLIT.json/.md and grids/SPLIT/topN_predicted.png, bottomN_predicted.png (and, with
ratings, topN_truth.png, bottomN_truth.png) into the run folder, N being --grid-size or the split's size
if smaller. Each tile reads "pred" (the model's score) over "true" (the label).

**Exit codes**: 0 evaluated; 2 usage error (not a run folder, no such split); 3 internal error (a bug:
please report it).
"""


def evaluate_command(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A folder written by `photocritic train`."),
    split: str = typer.Option("test", "--split", help="test | val."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, max=100_000, help="Bootstrap resamples for the intervals."),
    grid_size: int = typer.Option(100, "--grid-size", min=1, max=1000, help="Photos in each top/bottom grid."),
    no_grids: bool = typer.Option(False, "--no-grids", help="Skip the top/bottom grids."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON instead of markdown."),
) -> None:
    """Evaluate a training run: metrics with intervals, naive baselines, published results, grids."""
    from photocritic.evaluation.report import evaluate_run, report_markdown

    if split not in ("test", "val"):
        raise usage_error("--split must be test or val")
    try:
        evaluation = evaluate_run(run_dir, split, n_boot=bootstrap, grids=not no_grids, grid_size=grid_size)
    except FileNotFoundError as exc:
        missing = getattr(exc, "filename", None)
        raise usage_error(f"{run_dir} is not a finished training run (no {Path(missing).name})" if missing else str(exc)) from None
    except (json.JSONDecodeError, KeyError, ValueError, IndexError) as exc:
        raise usage_error(f"{run_dir}: its predictions or train_stats.json are damaged ({type(exc).__name__}: {exc}); "
                          "train again into a new folder") from None
    if as_json:
        from photocritic.evaluation.report import json_safe

        typer.echo(json.dumps(json_safe(evaluation), indent=2))
    else:
        typer.echo(report_markdown(evaluation, f"{split} split"))
    raise typer.Exit(EXIT_OK)
