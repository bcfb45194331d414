"""Held-out figures for the default model: damage ranking, professional vs snapshot, robustness,
calibration and shortcut checks. Every function takes per-job mean scores (out of fold)."""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from photocritic.training.default_data import Photo
from photocritic.training.default_model import JobTable
from photocritic.training.degradations import DAMAGES, STRENGTH_NAMES


def auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """Probability that a positive outscores a negative (ties count half); NaN if a side is empty."""
    scores_pos, scores_neg = np.asarray(scores_pos, float), np.asarray(scores_neg, float)
    if len(scores_pos) == 0 or len(scores_neg) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([scores_pos, scores_neg]))
    return float((ranks[: len(scores_pos)].sum() - len(scores_pos) * (len(scores_pos) + 1) / 2) / (len(scores_pos) * len(scores_neg)))


def _row_index(table: JobTable, kind: str) -> dict[int, int]:
    return {int(table.photo[r]): int(r) for r in np.flatnonzero(table.kind == kind)}


def scored_row(table: JobTable) -> dict[int, int]:
    """The row that stands for each photo as the scoring pipeline reads it (original file)."""
    rows = _row_index(table, "pristine")
    rows.update(_row_index(table, "original"))
    return rows


def damage_figures(means: np.ndarray, table: JobTable, rows: np.ndarray | None = None) -> dict:
    """Pristine-above-damaged accuracy per type and strength, and monotonic series."""
    keep = np.ones(len(table.kind), bool) if rows is None else np.isin(np.arange(len(table.kind)), rows)
    pristine = _row_index(table, "pristine")
    series: dict[tuple[int, str], dict[int, float]] = {}
    for r in np.flatnonzero((table.kind == "damaged") & keep):
        series.setdefault((int(table.photo[r]), str(table.damage[r])), {})[int(table.strength[r])] = means[r]
    per_type: dict[str, dict[str, float]] = {}
    mono_full, mono_damaged, n_series = 0, 0, 0
    for damage in DAMAGES:
        wins = {s: [] for s in range(3)}
        for (photo, d), levels in series.items():
            if d != damage or photo not in pristine:
                continue
            p = means[pristine[photo]]
            for s, m in levels.items():
                wins[s].append(1.0 if p > m else 0.5 if p == m else 0.0)
            if len(levels) == 3:
                chain = [p] + [levels[s] for s in range(3)]
                n_series += 1
                mono_full += all(a > b for a, b in zip(chain, chain[1:]))
                mono_damaged += all(a > b for a, b in zip(chain[1:], chain[2:]))
        per_type[damage] = {STRENGTH_NAMES[s]: float(np.mean(v)) if v else float("nan") for s, v in wins.items()}
        per_type[damage]["n"] = len(wins[1])
    summary = {}
    for name in STRENGTH_NAMES:
        values = [per_type[d][name] for d in DAMAGES if per_type[d]["n"]]
        summary[name] = {"mean_over_types": float(np.mean(values)), "worst_type": float(np.min(values)),
                         "worst_type_name": DAMAGES[int(np.argmin([per_type[d][name] if per_type[d]["n"] else 9 for d in DAMAGES]))]}
    return {
        "pristine_above_damaged": summary,
        "per_type": per_type,
        "monotonic_series": {
            "n_series": n_series,
            "pristine_mild_moderate_strong": mono_full / max(1, n_series),
            "mild_moderate_strong": mono_damaged / max(1, n_series),
        },
    }


def pro_snapshot_figures(means: np.ndarray, table: JobTable, photos: list[Photo], rows=None) -> dict:
    """AUC of professional above snapshot (pooled out of fold and per held-out source)."""
    scored = scored_row(table)
    pristine = _row_index(table, "pristine")
    ids = [i for i in scored if rows is None or scored[i] in set(rows)]
    pro = [i for i in ids if photos[i].professional]
    snap = [i for i in ids if not photos[i].professional]
    out = {
        "auc_as_scored": auc(means[[scored[i] for i in pro]], means[[scored[i] for i in snap]]),
        "auc_fed_the_same_way": auc(means[[pristine[i] for i in pro]], means[[pristine[i] for i in snap]]),
        "n_professional": len(pro),
        "n_snapshot": len(snap),
    }
    folds = sorted({int(table.fold[scored[i]]) for i in ids})
    fold_aucs = []
    for f in folds:
        fp = [scored[i] for i in pro if table.fold[scored[i]] == f]
        fs = [scored[i] for i in snap if table.fold[scored[i]] == f]
        if fp and fs:
            fold_aucs.append(auc(means[fp], means[fs]))
    out["auc_per_fold_mean"] = float(np.mean(fold_aucs)) if fold_aucs else float("nan")
    out["auc_per_fold_min"] = float(np.min(fold_aucs)) if fold_aucs else float("nan")
    snap_scores = means[[scored[i] for i in snap]]
    out["auc_per_source_vs_all_snapshots"] = {
        src: auc(means[[scored[i] for i in pro if photos[i].group == src]], snap_scores)
        for src in sorted({photos[i].group for i in pro})
    }
    return out


def robustness_figures(means: np.ndarray, table: JobTable, threshold: float = 0.1) -> dict:
    scored = scored_row(table)
    out = {}
    for kind in ("q95", "resize075"):
        variant = _row_index(table, kind)
        delta = np.array([abs(means[variant[i]] - means[scored[i]]) for i in variant if i in scored])
        out[kind] = {
            "share_within_0.1": float(np.mean(delta < threshold)),
            "median_abs_change": float(np.median(delta)),
            "p95_abs_change": float(np.percentile(delta, 95)),
            "max_abs_change": float(delta.max()),
            "n": len(delta),
        }
    return out


def calibration_figures(means: np.ndarray, stds: np.ndarray, table: JobTable) -> dict:
    scored = scored_row(table)
    def stats(rows):
        rows = np.asarray(rows, dtype=np.int64)
        return {"mean": float(means[rows].mean()), "sd": float(means[rows].std()), "p10": float(np.percentile(means[rows], 10)),
                "p90": float(np.percentile(means[rows], 90)), "mean_distribution_std": float(stds[rows].mean()), "n": len(rows)}
    out = {
        "professional_pristine": stats([scored[i] for i in scored if table.professional[scored[i]]]),
        "snapshot_as_scored": stats([scored[i] for i in scored if not table.professional[scored[i]]]),
    }
    for s, name in enumerate(STRENGTH_NAMES):
        out[f"damaged_{name}"] = stats(np.flatnonzero((table.kind == "damaged") & (table.strength == s)))
    return out


def shortcut_figures(means: np.ndarray, table: JobTable, photos: list[Photo]) -> dict:
    """How strong the easy cues are alone, and the model's AUC where a cue cannot help."""
    scored = scored_row(table)
    ids = sorted(scored)
    pro = np.array([photos[i].professional for i in ids])
    w = np.array([photos[i].width for i in ids], float)
    h = np.array([photos[i].height for i in ids], float)
    cues = {
        "aspect_ratio_w_over_h": w / h,
        "long_over_short_side": np.maximum(w, h) / np.minimum(w, h),
        "portrait_orientation": (h > w).astype(float),
        "file_pixels": w * h,
        "file_long_side": np.maximum(w, h),
    }
    cue_auc = {}
    for name, v in cues.items():
        a = auc(v[pro], v[~pro])
        cue_auc[name] = max(a, 1 - a)  # the cue's strength whichever way it points
    score = means[[scored[i] for i in ids]]
    ratio = cues["long_over_short_side"]
    buckets = {
        "portrait_only": h > w,
        "landscape_only": w > h,
        "aspect_3_2_or_4_3_(1.25-1.55)": (ratio >= 1.25) & (ratio < 1.55),
        "aspect_16_10_or_16_9_(1.55-1.85)": (ratio >= 1.55) & (ratio < 1.85),
        "snapshots_at_least_1280px_long_side": ~(~pro & (np.maximum(w, h) < 1280)),
    }
    within = {}
    for name, mask in buckets.items():
        within[name] = {"auc": auc(score[mask & pro], score[mask & ~pro]), "n_professional": int((mask & pro).sum()),
                        "n_snapshot": int((mask & ~pro).sum())}
    return {"single_cue_auc": cue_auc, "model_auc_within_bucket": within}


def evaluate(distributions: np.ndarray, table: JobTable, photos: list[Photo], rows=None) -> dict:
    means = distributions @ RATINGS_
    stds = np.sqrt(np.clip(distributions @ RATINGS_**2 - means**2, 0, None))
    result = {
        "damage": damage_figures(means, table, rows),
        "professional_vs_snapshot": pro_snapshot_figures(means, table, photos, rows),
        "calibration": calibration_figures(means, stds, table) if rows is None else None,
    }
    if rows is None:
        result["robustness"] = robustness_figures(means, table)
        result["shortcuts"] = shortcut_figures(means, table, photos)
    return result


RATINGS_ = np.arange(1, 11, dtype=np.float64)
