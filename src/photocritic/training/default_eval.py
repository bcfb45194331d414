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


def real_rows(table: JobTable, photos: list[Photo], judged: np.ndarray | None = None) -> np.ndarray:
    """The row standing for each real photo as scored, leaving out photos flagged as too small."""
    scored = scored_row(table)
    return np.array([scored[i] for i in sorted(scored) if judged is None or judged[i]], dtype=np.int64)


def failure_figures(means: np.ndarray, table: JobTable, photos: list[Photo], judged: np.ndarray | None = None) -> dict:
    """Share of obvious failures below the 10th percentile of real photos (and below the lowest)."""
    real = real_rows(table, photos, judged)
    p10 = float(np.percentile(means[real], 10))
    fail = np.flatnonzero(table.kind == "failure")
    if not len(fail):
        return {}
    per_kind = {str(k): float(np.mean(means[fail[table.damage[fail] == k]] < p10)) for k in sorted(set(table.damage[fail]))}
    return {
        "real_p10": p10,
        "below_real_p10": float(np.mean(means[fail] < p10)),
        "below_every_real_photo": float(np.mean(means[fail] < means[real].min())),
        "per_kind_below_p10": per_kind,
        "failure_mean": float(means[fail].mean()),
        "n": len(fail),
    }


def agreement_figures(means: np.ndarray, stds: np.ndarray, teacher: np.ndarray, table: JobTable, photos: list[Photo],
                      judged: np.ndarray | None = None) -> dict:
    """Rank agreement with the teacher (nima-ava) on real photos as scored, and of the spreads."""
    from scipy.stats import pearsonr, spearmanr

    real = real_rows(table, photos, judged)
    t_mean = teacher @ RATINGS_
    t_std = np.sqrt(np.clip(teacher @ RATINGS_**2 - t_mean**2, 0, None))
    p5, p50, p95 = np.percentile(means[real], [5, 50, 95])
    pro = table.professional[real]
    return {
        "spearman_with_teacher": float(spearmanr(means[real], t_mean[real])[0]),
        "spearman_with_teacher_professional": float(spearmanr(means[real][pro], t_mean[real][pro])[0]),
        "spearman_with_teacher_snapshots": float(spearmanr(means[real][~pro], t_mean[real][~pro])[0]),
        "std_pearson_with_teacher_std": float(pearsonr(stds[real], t_std[real])[0]) if np.std(stds[real]) > 0 else float("nan"),
        "std_range_p5_p95": [float(np.percentile(stds[real], 5)), float(np.percentile(stds[real], 95))],
        "real_p5_p50_p95": [float(p5), float(p50), float(p95)],
        "real_span_p5_p95": float(p95 - p5),
        "snapshot_median": float(np.median(means[real][~pro])),
        "professional_median": float(np.median(means[real][pro])),
    }


def goal_figures(distributions: np.ndarray, teacher: np.ndarray, table: JobTable, photos: list[Photo],
                 judged: np.ndarray | None = None) -> dict:
    """Everything :func:`evaluate` reports plus failures, teacher agreement and the scale."""
    means = distributions @ RATINGS_
    stds = np.sqrt(np.clip(distributions @ RATINGS_**2 - means**2, 0, None))
    out = evaluate(distributions, table, photos)
    out["failures"] = failure_figures(means, table, photos, judged)
    out["agreement"] = agreement_figures(means, stds, teacher, table, photos, judged)
    return out


def dev_objective(means: np.ndarray, table: JobTable, photos: list[Photo], teacher_mean: np.ndarray, rows: np.ndarray,
                  judged: np.ndarray | None = None) -> tuple[float, dict]:
    """One number to choose a variant by on inner folds: the mean of each goal's attainment (value over
    target, capped at 1), with a small reward beyond the targets as tie-breaker. *rows*: the jobs scored."""
    from scipy.stats import spearmanr

    keep = np.zeros(len(table.kind), bool)
    keep[rows] = True
    d = damage_figures(means, table, rows)
    pad = d["pristine_above_damaged"]
    scored = scored_row(table)
    real = np.array([scored[i] for i in sorted(scored) if keep[scored[i]] and (judged is None or judged[i])])
    pro = table.professional[real]
    fail = np.flatnonzero((table.kind == "failure") & keep)
    p10 = np.percentile(means[real], 10)
    values = {
        "moderate": pad["moderate"]["mean_over_types"],
        "mild": pad["mild"]["mean_over_types"],
        "monotonic": d["monotonic_series"]["pristine_mild_moderate_strong"],
        "auc": auc(means[real][pro], means[real][~pro]),
        "spearman": float(spearmanr(means[real], teacher_mean[real])[0]),
        "failures": float(np.mean(means[fail] < p10)) if len(fail) else 1.0,
    }
    targets = {"moderate": 0.92, "mild": 0.85, "monotonic": 0.85, "auc": 0.93, "spearman": 0.75, "failures": 0.95}
    ratio = [values[k] / targets[k] for k in targets]
    return float(np.mean(np.minimum(ratio, 1.0)) + 0.01 * np.mean(ratio)), values
