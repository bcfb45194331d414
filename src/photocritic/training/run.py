"""One training run, start to finish, into a run folder.

``RUN_DIR/`` holds: ``config.json``, ``problems.txt`` (every photo left out, with why),
``checkpoints/head`` and ``checkpoints/finetune`` (one per epoch; ``--resume`` goes on from the last),
``history.csv``, ``loss.png`` and ``metric.png``, ``timings.json``, ``train_stats.json``,
``predictions-val.csv`` / ``predictions-test.csv``, ``metrics.json``, ``evaluation-test.md`` and
``model/`` (the bundle: ``photocritic score --model RUN_DIR`` loads it). A double-column net needs two
views that the scoring pipeline does not make, so its run keeps ``network.safetensors`` instead of ``model/``.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from photocritic.evaluation.metrics import compute_metrics
from photocritic.evaluation.report import evaluate_run, json_safe, write_predictions
from photocritic.models.heads import gaussian_distribution
from photocritic.training.config import TrainConfig, resolve_device
from photocritic.training.datasets import FEW_TEST, Problem, RatedPhotos, binary_labels
from photocritic.training.export import export_bundle, model_card
from photocritic.training.feature_cache import FeatureCache
from photocritic.training.trainer import (
    fit_head,
    make_head,
    predicted_means,
    sample_weights,
    strata,
    targets_for,
)


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict
    history: list[dict]
    problems: list[Problem]
    resumed_from: int | None = None


class ConfigMismatch(ValueError):
    pass


def _write_history(run_dir: Path, history: list[dict]) -> None:
    columns = sorted({k for row in history for k in row}, key=lambda k: (k not in ("phase", "epoch"), k))
    with open(run_dir / "history.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)


def _plots(run_dir: Path, history: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(1, len(history) + 1)
    for name, keys in (("loss", ("train_loss", "val_loss")), ("metric", ("val_srcc", "val_accuracy", "val_auc"))):
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            values = [row.get(key, np.nan) for row in history]
            if np.isfinite(np.asarray(values, dtype=float)).any():
                ax.plot(x, values, marker="o", label=key)
        phases = [row["phase"] for row in history]
        if "finetune" in phases and "head" in phases:
            ax.axvline(phases.index("finetune") + 0.5, color="grey", linestyle=":", label="phase 2 starts")
        ax.set_xlabel("epoch (head, then whole net)")
        ax.set_title(f"{name} per epoch")
        ax.legend()
        fig.tight_layout()
        fig.savefig(run_dir / f"{name}.png", dpi=100)
        plt.close(fig)


def _check_config(run_dir: Path, config: TrainConfig, resume: bool) -> None:
    stored = run_dir / "config.json"
    if stored.is_file() and resume:
        old = json.loads(stored.read_text(encoding="utf-8"))
        new = json.loads(config.to_json())
        ignore = {"device", "workers", "amp"}
        diff = sorted(k for k in set(old) | set(new) if k not in ignore and old.get(k) != new.get(k))
        if diff:
            raise ConfigMismatch(f"{run_dir} was started with another config ({', '.join(diff)} differ); use a new folder")
    elif stored.is_file() and any((run_dir / "checkpoints").glob("*/epoch-*.json")):
        raise ConfigMismatch(f"{run_dir} holds a run already: pass --resume to go on, or choose a new folder")
    stored.write_text(config.to_json(), encoding="utf-8")


def train_run(photos: RatedPhotos, config: TrainConfig, run_dir: str | Path, cache_dir: str | Path, *, resume: bool = False,
              name: str | None = None, log=lambda message: None, progress_factory=None, on_epoch_end=None,
              classic: bool = False, n_boot: int = 1000) -> RunResult:
    """Extract (or reuse) features, train phase 1 (and phase 2), evaluate, write the run folder.

    A run that stops on an error before it trained anything removes the folder it created: no
    half-made run is left to be mistaken for a model."""
    config.validate()
    run_dir = Path(run_dir)
    planned = int(np.sum(photos.split == "train")) if photos.split is not None else len(photos)
    if planned < 2:
        raise ValueError(f"only {planned} training photo(s) in the dataset" + (f" ({photos.note})" if photos.note else ""))
    created = not run_dir.exists()
    try:
        return _train_run(photos, config, run_dir, cache_dir, resume=resume, name=name, log=log,
                          progress_factory=progress_factory, on_epoch_end=on_epoch_end, classic=classic, n_boot=n_boot)
    except BaseException:
        if created and not any((run_dir / "checkpoints").glob("*/epoch-*.json")):
            import shutil

            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _train_run(photos: RatedPhotos, config: TrainConfig, run_dir: Path, cache_dir, *, resume, name, log, progress_factory,
               on_epoch_end, classic, n_boot) -> RunResult:
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_config(run_dir, config, resume)
    if photos.note:
        log(photos.note)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    timings: dict[str, float] = {}
    problems = list(photos.problems)

    began = time.perf_counter()
    views = ["global", "local"] if config.double_column else ["global"]
    blocks, errors = [], {}
    for view in views:
        cache = FeatureCache(cache_dir, config.backbone, view)
        progress = progress_factory(f"features ({view})") if progress_factory else None
        features, view_errors = cache.extract(photos.paths, workers=config.workers, device=device, progress=progress)
        blocks.append(features)
        errors.update(view_errors)
    features = np.concatenate(blocks, axis=1)
    timings["features_s"] = time.perf_counter() - began
    readable = np.isfinite(features).all(axis=1)
    problems += [Problem(photos.paths[i], reason) for i, reason in sorted(errors.items())]
    good, keep = binary_labels(photos, config.binary_rule, config.threshold, config.top_bottom_fraction)
    if config.head != "binary" and not np.isfinite(photos.means).all():
        raise ValueError("this dataset has only good/bad labels: train it with --head binary")
    usable = readable & keep & np.isin(photos.split, ("train", "val", "test"))
    data = photos.subset(usable)
    X = torch.from_numpy(features[usable].astype(np.float16))
    good = good[usable]
    means = data.means if np.isfinite(data.means).all() else np.where(good, 7.0, 3.0)
    distributions = data.distributions() if np.isfinite(data.means).all() else gaussian_distribution(means)
    y = torch.from_numpy(targets_for(config, distributions, means, good))
    part = {s: np.flatnonzero(data.split == s) for s in ("train", "val", "test")}
    counts = {s: int(v.size) for s, v in part.items()} | {"left_out": int((~readable).sum())}
    if counts["train"] < 2:
        raise ValueError(f"only {counts['train']} usable training photos")
    (run_dir / "problems.txt").write_text("".join(f"{p}\n" for p in problems), encoding="utf-8")
    labelled = (f"{int(good[part[k]].sum())} good" for k in ("train", "val", "test")) if photos.kind == "good/bad" else None
    shares = f" ({', '.join(f'{k}: {v}' for k, v in zip(('train', 'val', 'test'), labelled))})" if labelled else ""
    log(f"{len(data)} photos: {counts['train']} train, {counts['val']} val, {counts['test']} test{shares}, stratified by "
        f"{'class' if photos.kind == 'good/bad' else 'rating band'}; {len(problems)} problem(s) listed in {run_dir / 'problems.txt'}")
    if 0 < counts["test"] < FEW_TEST:
        log(f"warning: only {counts['test']} test photos: the held-out figures are rough, read them with their 95% intervals "
            f"(a few hundred labelled photos give figures to trust)")
    in_dim = X.shape[1]
    sigma = float(np.sqrt(np.clip(distributions @ (np.arange(1, 11) ** 2) - (distributions @ np.arange(1, 11)) ** 2, 0, None)).mean())
    stats = {"threshold": config.threshold, "means": means[part["train"]].tolist(), "good": good[part["train"]].astype(int).tolist(),
             "mean_distribution": distributions[part["train"]].mean(axis=0).tolist(), "head": config.head,
             "kind": photos.kind, "source": photos.source}
    (run_dir / "train_stats.json").write_text(json.dumps(stats), encoding="utf-8")

    def validate(outputs: np.ndarray) -> dict:
        m = compute_metrics(predicted_means(config.head, outputs), means[part["val"]], good[part["val"]])
        return {"val_srcc": m["srcc"], "val_accuracy": m["accuracy"], "val_auc": m["auc"]}

    head = make_head(config, in_dim)
    head.set_standardisation(X[part["train"]].float().numpy())
    with torch.no_grad():  # start regression at the training mean and binary at the training base rate
        last = head.mlp[-1]
        if config.head == "regression":
            last.bias.fill_(float(means[part["train"]].mean()))
        elif config.head == "binary":
            rate = float(np.clip(good[part["train"]].mean(), 0.01, 0.99))
            last.bias.fill_(float(np.log(rate / (1 - rate))))
    groups = strata(config, means, good)
    began = time.perf_counter()
    fit = fit_head(head, config, X[part["train"]], y[part["train"]], groups[part["train"]], X[part["val"]], y[part["val"]],
                   run_dir / "checkpoints" / "head", resume=resume, device=device, validate=validate,
                   on_epoch_end=on_epoch_end, progress=progress_factory("head epoch") if progress_factory else None)
    timings["phase1_s"] = time.perf_counter() - began
    timings["phase1_epoch_s"] = float(np.mean([r["seconds"] for r in fit.history])) if fit.history else 0.0
    history = list(fit.history)

    net = None
    if config.finetune_epochs or config.double_column:
        from photocritic.training.finetune import AestheticNet, finetune, net_outputs

        net = AestheticNet(config.backbone, head, config.double_column)
        if config.finetune_epochs:
            weights = torch.as_tensor(sample_weights(groups[part["train"]]) if config.class_weights else np.ones(counts["train"]),
                                      dtype=torch.float32)
            began = time.perf_counter()
            history += finetune(net, config, [data.paths[i] for i in part["train"]], y[part["train"]], weights,
                                [data.paths[i] for i in part["val"]], y[part["val"]], run_dir / "checkpoints" / "finetune",
                                resume=resume, device=device, validate=validate, on_epoch_end=on_epoch_end)
            timings["phase2_s"] = time.perf_counter() - began
        outputs_of = lambda idx: net_outputs(net, [data.paths[i] for i in idx], config, device)  # noqa: E731
    else:
        from photocritic.training.trainer import head_outputs

        outputs_of = lambda idx: head_outputs(head, X[idx])  # noqa: E731
    _write_history(run_dir, history)
    _plots(run_dir, history)

    name = name or run_dir.name
    results = {}
    for split in ("val", "test"):
        idx = part[split]
        outputs = outputs_of(idx) if idx.size else np.zeros((0, 10 if config.head == "distribution" else 1))
        pred_mean = predicted_means(config.head, outputs)
        if config.head == "distribution":
            e = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            pred_dist = e / e.sum(axis=1, keepdims=True)
            pred_good = pred_mean > config.threshold
        elif config.head == "regression":
            pred_dist, pred_good = gaussian_distribution(pred_mean, sigma) if idx.size else None, pred_mean > config.threshold
        else:
            pred_dist, pred_good = None, outputs[:, 0] > 0
        true_mean = means[idx] if np.isfinite(data.means).all() else None
        write_predictions(run_dir / f"predictions-{split}.csv", [data.paths[i] for i in idx], pred_mean, pred_good,
                          pred_dist if idx.size else None, true_mean, good[idx], distributions[idx] if true_mean is not None else None)
        results[split] = compute_metrics(pred_mean, true_mean, good[idx], pred_dist, distributions[idx] if true_mean is not None else None, pred_good)
    evaluation = evaluate_run(run_dir, "test", n_boot=n_boot) if part["test"].size else None
    metrics = {"test": results["test"], "val": results["val"], "best_epoch": fit.best_epoch, "stopped_early": fit.stopped_early,
               "counts": counts}
    if evaluation:
        metrics["test_ci95"] = evaluation["ci95"]
        metrics["baselines"] = evaluation["baselines"]
    if classic:
        from photocritic.training.classic import classic_baselines

        began = time.perf_counter()
        metrics["classic"] = classic_baselines(X[part["train"]].float().numpy(), means[part["train"]], good[part["train"]],
                                               X[part["test"]].float().numpy(), means[part["test"]], good[part["test"]],
                                               seed=config.seed, regression=config.head != "binary")
        timings["classic_s"] = time.perf_counter() - began
    notes = ["No AVA figure in this card unless the dataset above is AVA: check the dataset line."]
    card = model_card(name, config, photos.source or "a folder of rated photos", results["test"], counts, notes, kind=photos.kind)
    if config.double_column:
        save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(run_dir / "network.safetensors"))
        (run_dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    else:
        export_bundle(run_dir / "model", head, config, in_dim, name, card, sigma=sigma if config.head == "regression" else 1.5,
                      backbone=net.column if net is not None and config.finetune_epochs else None)
    (run_dir / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2) + "\n", encoding="utf-8")
    (run_dir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    return RunResult(run_dir, metrics, history, problems, fit.resumed_from)
