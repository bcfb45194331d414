"""The default's build: features of every picture, the choice of settings on BIQ2021's train split, held-out
figures, the bundle. ``python scripts/train_default_model.py --biq2021 DIR`` runs :func:`main`.

What is held out from what:

* settings are chosen by 5-fold cross-validation on BIQ2021's **train** split (folds keep series of one
  scene together) and the project's photos (whole curated sources held out), by the mean attainment of
  the goals (:data:`GOALS`);
* the project-photo figures (damage, failures, curated vs snapshots, biases) are out of fold: each photo
  is judged by the fold model that saw neither it nor any of its copies;
* BIQ2021's **test** split is read once, at the end, by the shipped model (fitted on all train photos);
  nothing is chosen on it.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from photocritic.models.heads import distribution_mean
from photocritic.training.default import biq2021, evaluate, shared
from photocritic.training.default.features import Features, extract
from photocritic.training.default.fit import FitConfig, Fitted, TrainingRows, fit, prepare, raw_inputs

N_FOLDS = 5
#: the settings tried (each judged on the train folds only)
GRID = {"ridge": (0.3, 1.0), "w_pairs": (0.3, 1.0), "ridge_aesthetic": (0.3, 1.0), "w_own_taught": (0.5, 2.0),
        "quality_weight": (0.5, 0.65, 0.8), "tail_keep": (1.0, 10.0)}
#: issue 27's goals: (figure, target, higher is better)
GOALS = {
    "quality_srcc": (0.85, True),
    "score_srcc": (0.80, True),
    "aesthetic_vs_nima": (0.85, True),
    "moderate": (0.92, True),
    "mild": (0.85, True),
    "monotonic": (0.85, True),
    "curated_auc": (0.93, True),
    "failures": (0.95, True),
    "span": (2.5, True),
    "grey_shift": (0.3, False),
}
TAUGHT_KINDS = ("pristine", "original", "crop", "grey")


@dataclass
class Data:
    """Every picture's raw inputs and what it is, BIQ2021's rows first, then the project's."""

    biq_train: list[biq2021.Rated]
    biq: Features  # train photos and their grey copies
    photos: list[shared.Photo]
    jobs: list[shared.SharedJob]
    own: Features  # the project's jobs, in job order

    def __post_init__(self) -> None:
        self.X_biq = raw_inputs(self.biq.mlsp, self.biq.technical)
        self.X_own = raw_inputs(self.own.mlsp, self.own.technical)
        self.biq_row = self.biq.rows([f"biq/{p.name}" for p in self.biq_train])
        self.rating = np.array([p.rating for p in self.biq_train])
        self.subset = np.array([p.subset for p in self.biq_train])
        self.biq_fold = biq2021.assign_folds(self.biq_train, N_FOLDS)
        grey = [i for i, p in enumerate(self.biq_train) if biq2021.has_grey_copy(p)]
        self.grey_photo = np.array(grey, dtype=np.int64)  # index into biq_train
        self.grey_row = self.biq.rows([f"biq/{self.biq_train[i].name}/grey" for i in grey])
        self.photo_fold = shared.assign_folds(self.photos) % N_FOLDS
        self.kind = np.array([j.kind for j in self.jobs])
        self.job_photo = np.array([j.photo for j in self.jobs])
        self.job_fold = self.photo_fold[self.job_photo]
        self.professional = np.array([self.photos[j.photo].professional for j in self.jobs])
        self.failure_kind = np.array([j.damage if j.kind == "failure" else "" for j in self.jobs])
        # the row each photo is scored by as users have it: the file as read (snapshots), pristine (curated)
        as_read = {}
        for r, j in enumerate(self.jobs):
            if j.kind == "original" or (j.kind == "pristine" and self.photos[j.photo].professional):
                as_read[j.photo] = r
        self.real_row = np.array([as_read[i] for i in range(len(self.photos))])
        pristine = {j.photo: r for r, j in enumerate(self.jobs) if j.kind == "pristine"}
        self.pristine_row = np.array([pristine[i] for i in range(len(self.photos))])
        grey_of = {j.photo: r for r, j in enumerate(self.jobs) if j.kind == "grey"}
        self.own_grey_row = np.array([grey_of[i] for i in range(len(self.photos))])
        chains: dict[tuple[int, str], dict[int, int]] = {}
        for r, j in enumerate(self.jobs):
            if j.kind == "damaged":
                chains.setdefault((j.photo, j.damage), {})[j.strength] = r
        self.series = [(d, [pristine[p]] + [levels[s] for s in range(3)]) for (p, d), levels in sorted(chains.items())]

    def rows(self, biq_mask: np.ndarray, photo_mask: np.ndarray) -> TrainingRows:
        """What a fit on the BIQ2021 train photos of *biq_mask* and the project's photos of *photo_mask* learns from."""
        taught_own = np.flatnonzero(np.isin(self.kind, TAUGHT_KINDS) & photo_mask[self.job_photo])
        grey_keep = biq_mask[self.grey_photo]
        biq_rows = self.biq_row[biq_mask]
        taught_biq = np.concatenate([biq_rows, self.grey_row[grey_keep]])
        series = [(d, chain) for d, chain in self.series if photo_mask[self.job_photo[chain[0]]]]
        series_rows = np.array([r for _, chain in series for r in chain], dtype=np.int64)
        own_real = self.real_row[photo_mask]
        fails = np.flatnonzero((self.kind == "failure") & photo_mask[self.job_photo])
        return TrainingRows(
            X_rated=self.X_biq[biq_rows],
            rating=self.rating[biq_mask],
            X_taught=self.X_biq[taught_biq],
            teacher_mean=distribution_mean(self.biq.teacher[taught_biq]),
            X_taught_own=self.X_own[taught_own],
            teacher_mean_own=distribution_mean(self.own.teacher[taught_own]),
            X_series=self.X_own[series_rows],
            series=[list(range(4 * k, 4 * k + 4)) for k in range(len(series))],
            X_grey_pairs=np.concatenate([self.X_biq[self.biq_row[self.grey_photo[grey_keep]]], self.X_biq[self.grey_row[grey_keep]]]),
            X_real=np.concatenate([self.X_biq[biq_rows], self.X_own[own_real]]),
            X_scale=self.X_own[own_real],
            X_fail=self.X_own[fails],
        )


def load(shared_data: Path, biq_dir: Path, cache: Path, log=print, cached_only: bool = False) -> tuple[Data, list[biq2021.Rated]]:
    train = biq2021.load(biq_dir, "train")
    test = biq2021.load(biq_dir, "test")
    biq = extract(biq2021.jobs(train), cache / "biq", label="BIQ2021 train", log=log, cached_only=cached_only)
    photos = shared.list_photos(shared_data)
    jobs = shared.plan_jobs(photos)
    own = extract(shared.feature_jobs(photos, jobs), cache / "shared", label="project photos", log=log, cached_only=cached_only)
    return Data(train, biq, photos, jobs, own), test


@dataclass
class Predictions:
    """Out-of-fold (or held-out) outputs: for BIQ2021 train photos and for the project's jobs."""

    biq: dict[str, np.ndarray]
    own: dict[str, np.ndarray]


def out_of_fold(data: Data, configs: list[FitConfig], log=print) -> list[Predictions]:
    """Each configuration's predictions for every row, by the fold model that did not see it."""
    keys = ("quality_score", "aesthetic_score", "score")
    out = [Predictions({k: np.zeros(len(data.biq_train)) for k in keys}, {k: np.zeros(len(data.jobs)) for k in keys}) for _ in configs]
    for fold in range(N_FOLDS):
        prepared = prepare(data.rows(data.biq_fold != fold, data.photo_fold != fold))
        held_biq = np.flatnonzero(data.biq_fold == fold)
        held_own = np.flatnonzero(data.job_fold == fold)
        for cfg, pred in zip(configs, out):
            fitted = fit(prepared, cfg)
            for target, rows, X in ((pred.biq, held_biq, data.X_biq[data.biq_row[held_biq]]), (pred.own, held_own, data.X_own[held_own])):
                for key, value in fitted.predict(X).items():
                    target[key][rows] = value
        log(f"  fold {fold + 1}/{N_FOLDS} done")
    return out


def figures(data: Data, pred: Predictions) -> dict:
    """Every held-out figure of one model's out-of-fold predictions (see the module docstring)."""
    teacher_own = distribution_mean(data.own.teacher)
    teacher_biq = distribution_mean(data.biq.teacher[data.biq_row])
    real = data.real_row
    snapshots = real[~data.professional[real]]
    fails = np.flatnonzero(data.kind == "failure")
    curated = np.array([p.professional for p in data.photos])
    s = pred.own["score"]
    out = {
        "people": {k: evaluate.people_figures(pred.biq[k], data.rating, data.subset) for k in pred.biq},
        "aesthetic_vs_nima": {
            "snapshots": evaluate.srcc(pred.own["aesthetic_score"][snapshots], teacher_own[snapshots]),
            "biq2021_ss01": evaluate.srcc(pred.biq["aesthetic_score"][data.subset == "ss01"], teacher_biq[data.subset == "ss01"]),
            "biq2021_all": evaluate.srcc(pred.biq["aesthetic_score"], teacher_biq),
        },
        "damage": evaluate.damage_figures(s, data.series),
        "failures": evaluate.failure_figures(s[fails], s[real], data.failure_kind[fails]),
        "curated_auc": evaluate.auc(s[real[data.professional[real]]], s[snapshots]),
        "span": evaluate.span(s[real]),
        "bias": evaluate.bias_figures(s, real, dict(zip(data.pristine_row[curated].tolist(), data.own_grey_row[curated].tolist())),
                                      data.own.technical, data.professional),
    }
    out["goals"] = goal_values(out)
    return out


def goal_values(fig: dict) -> dict:
    return {
        "quality_srcc": fig["people"]["quality_score"]["all"]["srcc"],
        "score_srcc": fig["people"]["score"]["all"]["srcc"],
        "aesthetic_vs_nima": fig["aesthetic_vs_nima"]["snapshots"],
        "moderate": fig["damage"]["pristine_above_damaged"]["moderate"]["mean_over_types"],
        "mild": fig["damage"]["pristine_above_damaged"]["mild"]["mean_over_types"],
        "monotonic": fig["damage"]["monotonic"]["share"],
        "curated_auc": fig["curated_auc"],
        "failures": fig["failures"]["below_real_p10"],
        "span": fig["span"]["p5_p95"],
        "grey_shift": abs(fig["bias"]["greyscale_copy"]["mean_change"]),
    }


def attainment(goals: dict) -> float:
    """Mean over the goals of how far each is met (1 = met)."""
    parts = []
    for name, (target, higher) in GOALS.items():
        value = goals[name]
        parts.append(min(1.0, value / target) if higher else min(1.0, target / max(value, 1e-9)))
    return float(np.mean(parts))


def choose(data: Data, log=print) -> tuple[FitConfig, list[dict], dict]:
    """The setting of :data:`GRID` with the best mean attainment out of fold (train split only), every
    setting's goals, and the chosen one's out-of-fold figures."""
    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    trials, every = [], []
    for values, pred in zip(grid, out_of_fold(data, [replace(FitConfig(), **v) for v in grid], log)):
        every.append(figures(data, pred))
        goals = every[-1]["goals"]
        trials.append({"config": replace(FitConfig(), **values).describe(), "goals": goals, "attainment": attainment(goals)})
        log(f"  {values}: attainment {trials[-1]['attainment']:.4f}, quality {goals['quality_srcc']:.3f}, "
            f"score {goals['score_srcc']:.3f}, moderate {goals['moderate']:.3f}, auc {goals['curated_auc']:.3f}")
    best = max(range(len(trials)), key=lambda i: trials[i]["attainment"])
    return FitConfig(**trials[best]["config"]), trials, every[best]


def test_figures(fitted: Fitted, test: list[biq2021.Rated], cache: Path, log=print) -> dict:
    """BIQ2021's test split, read once by the shipped model."""
    feats = extract(biq2021.jobs(test), cache / "biq", label="BIQ2021 test", log=log)
    rows = feats.rows([f"biq/{p.name}" for p in test])
    pred = fitted.predict(raw_inputs(feats.mlsp[rows], feats.technical[rows]))
    rating = np.array([p.rating for p in test])
    subsets = np.array([p.subset for p in test])
    teacher = distribution_mean(feats.teacher[rows])
    out = {k: evaluate.people_figures(v, rating, subsets) for k, v in pred.items()}
    out["nima-ava"] = evaluate.people_figures(teacher, rating, subsets)
    out["aesthetic_vs_nima"] = {"all": evaluate.srcc(pred["aesthetic_score"], teacher),
                                "ss01": evaluate.srcc(pred["aesthetic_score"][subsets == "ss01"], teacher[subsets == "ss01"])}
    return out


def save_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, default=float) + "\n", encoding="utf-8")


def baseline_figures(data: Data, model) -> dict:
    """A shipped model's figures on the same pictures (nothing of BIQ2021 trained it; the project's
    photos may have: those are marked as not held out)."""
    def mean_of(features: Features, rows: np.ndarray) -> np.ndarray:
        return distribution_mean(model.predict_distribution(features.mlsp[rows].astype(np.float32), features.technical[rows]))

    biq = mean_of(data.biq, data.biq_row)
    own = mean_of(data.own, np.arange(len(data.jobs)))
    curated = np.array([p.professional for p in data.photos])
    grey = own[data.own_grey_row[curated]] - own[data.pristine_row[curated]]
    return {"people": evaluate.people_figures(biq, data.rating, data.subset),
            "greyscale_copy_mean_change (not held out)": float(grey.mean())}


def card(figures: dict, command: str) -> str:
    """The bundle's short card (the full one is docs/models/default.md)."""
    test = figures["test"]
    oof = figures["held_out"]
    d = oof["damage"]["pristine_above_damaged"]
    return f"""# default

photocritic's built-in model: one linear head over the frozen EfficientNet-Lite0 MLSP features (2048), the
13 technical measures and hinge terms of those measures. It gives three things per photo:

* `quality_score`: technical quality as people rate it, fitted to the opinion scores of BIQ2021's 10,000
  train photos (30 observers each, in a lab), with the damage ranking of the project's photos and
  monochrome invariance;
* `aesthetic_score`: appeal as AVA's voters rate it, nima-ava's mean rating distilled over every photo;
* `score`: {figures['config']['quality_weight']:.2f} x quality + {1 - figures['config']['quality_weight']:.2f} x appeal (each over its spread), stretched to the
  1-10 scale, with the rating distribution around it (fixed width: `score_std` carries no per-photo
  information).

BIQ2021 test split (2,000 photos, never trained or chosen on; docs/models/default.md says how often it was read): quality_score SRCC
{test['quality_score']['all']['srcc']:.3f} / PLCC {test['quality_score']['all']['plcc']:.3f} (ss02 {test['quality_score']['ss02']['srcc']:.3f}); score SRCC {test['score']['all']['srcc']:.3f};
nima-ava {test['nima-ava']['all']['srcc']:.3f}. Out of fold on the project's photos: pristine above damaged
{d['moderate']['mean_over_types']:.3f} (moderate), {d['mild']['mean_over_types']:.3f} (mild); obvious failures below the real photos' 10th percentile
{oof['failures']['below_real_p10']:.3f}; a greyscale copy moves score by {oof['bias']['greyscale_copy']['mean_change']:+.2f} on average.

Full card: docs/models/default.md in the repository. Rebuild: `{command}`
"""


def main(shared_data: Path, biq_dir: Path, cache: Path, out: Path, command: str, log=print) -> dict:
    """The whole build (see the module docstring); writes the bundle and its evaluation.json to *out*."""
    from photocritic.models.zoo import load_model, save_bundle
    from photocritic.training.default.fit import head_tensors

    previous = load_model(out) if (out / "config.json").is_file() else None
    data, test = load(shared_data, biq_dir, cache, log)
    log(f"choosing among {int(np.prod([len(v) for v in GRID.values()]))} settings on {N_FOLDS} folds of the train split")
    cfg, trials, held_out = choose(data, log)
    log(f"chosen: {cfg.describe()}")
    fitted = fit(data.rows(np.ones(len(data.biq_train), bool), np.ones(len(data.photos), bool)), cfg)
    result = {
        "command": command,
        "config": cfg.describe(),
        "held_out": held_out,
        "attainment_out_of_fold": attainment(held_out["goals"]),
        "trials": trials,
        "previous_default": baseline_figures(data, previous) if previous is not None and previous.subscores == [] else None,
        "photos": {"biq2021_train": len(data.biq_train), "project": len(data.photos), "pictures": len(data.biq.keys) + len(data.own.keys)},
    }
    log("BIQ2021 test split: read once, by the model fitted on the whole train split")
    result["test"] = test_figures(fitted, test, cache, log)
    config = {
        "name": "default",
        "description": "quality as people rate it (BIQ2021), appeal as AVA's voters rate it (nima-ava distilled), and a score "
                       "combining both, over frozen EfficientNet-Lite0 MLSP features and technical measures",
        "backbone": "efficientnet-lite0",
        "inputs": ["mlsp", "technical"],
        "head": {"hidden": [], "dropout": 0.0, "batch_norm": False, "hinges": len(fitted.expansion.hinge_index)},
        "subscores": ["quality_score", "aesthetic_score"],
        "training": {"script": command, "chosen": cfg.describe(),
                     "data": "BIQ2021 train split (Ahmed et al. 2022), ../shared/data, nima-ava as teacher"},
    }
    save_bundle(out, config, head_tensors(fitted), card(result, command))
    save_json(out / "evaluation.json", result)
    return result
