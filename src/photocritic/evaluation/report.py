"""Evaluate a run's held-out predictions: metrics with intervals, naive baselines, published results.

A training run writes ``predictions-<split>.csv`` (one row per photo: path, predicted and true mean,
true class, both distributions) and ``train_stats.json`` (what the naive baselines need). This module
turns them into ``evaluation.json``, a markdown report and the top/bottom grids.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from photocritic.evaluation.grids import top_bottom_grids
from photocritic.evaluation.metrics import METRICS, bootstrap_intervals, compute_metrics, naive_baselines
from photocritic.evaluation.published import published_table_markdown

DIST_COLUMNS = [f"pred_p{k}" for k in range(1, 11)]
TRUE_DIST_COLUMNS = [f"true_p{k}" for k in range(1, 11)]


def write_predictions(path: Path, paths: list[str], pred_mean, pred_good, pred_dist, true_mean, true_good, true_dist) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "pred_mean", "pred_good", "true_mean", "true_good", *DIST_COLUMNS, *TRUE_DIST_COLUMNS])
        for i, p in enumerate(paths):
            pd = [f"{v:.6f}" for v in pred_dist[i]] if pred_dist is not None else [""] * 10
            td = [f"{v:.6f}" for v in true_dist[i]] if true_dist is not None else [""] * 10
            tm = "" if true_mean is None or not np.isfinite(true_mean[i]) else f"{true_mean[i]:.6f}"
            writer.writerow([p, f"{pred_mean[i]:.6f}", int(pred_good[i]), tm, int(true_good[i]), *pd, *td])
    return path


def read_predictions(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    def column(name, dtype=float):
        return np.array([dtype(r[name]) if r[name] != "" else np.nan for r in rows], dtype=np.float64)
    def matrix(names):
        if not rows or any(rows[0][n] == "" for n in names):
            return None
        return np.array([[float(r[n]) for n in names] for r in rows])
    true_mean = column("true_mean")
    return {"paths": [r["path"] for r in rows], "pred_mean": column("pred_mean"), "pred_good": column("pred_good").astype(bool),
            "true_mean": true_mean if np.isfinite(true_mean).all() and rows else None,
            "true_good": column("true_good").astype(bool), "pred_dist": matrix(DIST_COLUMNS), "true_dist": matrix(TRUE_DIST_COLUMNS)}


def evaluate_predictions(pred: dict, train_stats: dict, threshold: float = 5.0, n_boot: int = 1000, seed: int = 0) -> dict:
    args = (pred["pred_mean"], pred["true_mean"], pred["true_good"], pred["pred_dist"], pred["true_dist"], pred["pred_good"])
    ours = compute_metrics(*args, threshold=threshold)
    intervals = bootstrap_intervals(*args, threshold=threshold, n_boot=n_boot, seed=seed)
    train_mean = np.array(train_stats["means"]) if train_stats.get("means") is not None else None
    train_dist = np.array(train_stats["mean_distribution"])[None] if train_stats.get("mean_distribution") else None
    baselines = naive_baselines(train_mean, np.array(train_stats["good"], dtype=bool), train_dist, pred["true_mean"],
                                pred["true_good"], pred["true_dist"], threshold)
    return {"n": ours["n"], "model": ours, "ci95": intervals, "baselines": baselines, "bootstrap_samples": n_boot,
            "positive_share": float(np.mean(pred["true_good"])) if pred["true_good"].size else float("nan"),
            "kind": train_stats.get("kind", "ava" if pred["true_dist"] is not None else "ratings"), "threshold": threshold}


def json_safe(value):
    """JSON has no NaN: undefined figures (the SRCC of good/bad labels, say) are written as null."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _fmt(value: float, metric: str) -> str:
    if value is None or not np.isfinite(value):
        return "undefined" if metric in ("srcc", "plcc") else "-"
    return f"{value * 100:.2f}%" if metric == "accuracy" else f"{value:.3f}"


def report_markdown(evaluation: dict, title: str = "held-out test split") -> str:
    """The figures in words that fit the labels: good/bad folders have no rating to correlate with,
    no training mean to be a baseline, and no published AVA result to stand beside."""
    kind = evaluation.get("kind", "ava")
    threshold = evaluation.get("threshold", 5.0)
    rated = kind != "good/bad"
    share = evaluation["positive_share"]
    share_text = "-" if share is None or not np.isfinite(share) else f"{share * 100:.1f}%"
    what = f"{share_text} good, i.e. mean rating > {threshold:g}" if rated else f"{share_text} from the good folder"
    lines = [f"Evaluation on the {title}: {evaluation['n']} photos ({what}). 95% bootstrap intervals over photos.", ""]
    base = evaluation["baselines"]
    metrics = [m for m in METRICS if np.isfinite(evaluation["model"].get(m, np.nan))] if not rated else list(METRICS)
    if rated:
        lines += ["| metric | this model (ours) | 95% CI | always the training mean | always the majority class |", "|---|---|---|---|---|"]
    else:
        lines += ["| metric | this model (ours) | 95% CI | always the majority class |", "|---|---|---|---|"]
    for m in metrics:
        low, high = evaluation["ci95"][m]
        ci = "-" if low is None or not np.isfinite(low) else f"{_fmt(low, m)} .. {_fmt(high, m)}"
        row = f"| {m} | {_fmt(evaluation['model'][m], m)} | {ci} | "
        row += (f"{_fmt(base['training mean'][m], m)} | " if rated else "") + f"{_fmt(base['majority class'][m], m)} |"
        lines.append(row)
    majority = base["majority class"]
    lines += ["", f"The majority class ('{majority['class']}') alone scores {_fmt(majority['accuracy'], 'accuracy')} accuracy here, "
              "so accuracy must be read beside it; a constant prediction has an AUC of 0.5"
              + (" and no SRCC/PLCC (undefined)." if rated else ".")]
    if not rated:
        lines += ["Good/bad folders give classes, not ratings: SRCC, PLCC, MAE, MSE and EMD do not apply, and the "
                  "predicted 'mean' is the model's keep score on the 1-10 scale, not a rating anyone gave."]
    if evaluation["n"] < 30:
        lines += ["", f"Only {evaluation['n']} photos were held out: the intervals above are wide, and a difference smaller "
                  "than them means nothing. More labelled photos, not more epochs, narrow them."]
    if kind == "ava":
        lines += ["", "On AVA the majority class alone scores about 70%. Published AVA results (theirs, from the papers, "
                  "on AVA's official test split):", "", published_table_markdown()]
    return "\n".join(lines)


def evaluate_run(run_dir: str | Path, split: str = "test", n_boot: int = 1000, grids: bool = True, grid_size: int = 100) -> dict:
    """Read a run folder's predictions, write ``evaluation-<split>.json`` / ``.md`` and the grids."""
    run_dir = Path(run_dir)
    predictions_file = run_dir / f"predictions-{split}.csv"
    if not predictions_file.is_file():
        raise FileNotFoundError(f"{predictions_file} not found: is {run_dir} a finished training run?")
    stats = json.loads((run_dir / "train_stats.json").read_text(encoding="utf-8"))
    pred = read_predictions(predictions_file)
    evaluation = evaluate_predictions(pred, stats, stats.get("threshold", 5.0), n_boot=n_boot)
    evaluation["split"] = split
    if grids and pred["paths"]:
        made = top_bottom_grids(pred["paths"], pred["pred_mean"], pred["true_mean"], run_dir / "grids" / split, n=grid_size,
                                true_good=pred["true_good"])
        evaluation["grids"] = {k: str(v) for k, v in made.items()}
    (run_dir / f"evaluation-{split}.json").write_text(json.dumps(json_safe(evaluation), indent=2) + "\n", encoding="utf-8")
    (run_dir / f"evaluation-{split}.md").write_text(report_markdown(evaluation, f"{split} split"), encoding="utf-8")
    return evaluation
