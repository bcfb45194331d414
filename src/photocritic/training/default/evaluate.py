"""The default's figures: agreement with people (BIQ2021), with nima-ava, the damage ranking, the failure
tails, curated above snapshots, and the biases a photographer would check (monochrome, low-key, fog,
minimalism). Each function takes per-row predictions made by a model that never saw those rows."""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from photocritic.evaluation import metrics
from photocritic.evaluation.metrics import plcc, srcc
from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.training.degradations import STRENGTH_NAMES

_COL = {name: i for i, name in enumerate(TECHNICAL_MEASURES)}


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a positive outscores a negative (ties count half)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    return metrics.auc(np.concatenate([positive, negative]), np.arange(len(positive) + len(negative)) < len(positive))


def people_figures(pred: np.ndarray, rating: np.ndarray, subsets: np.ndarray) -> dict:
    """SRCC and PLCC against opinion scores, all photos and per BIQ2021 subset."""
    out = {"all": {"srcc": srcc(pred, rating), "plcc": plcc(pred, rating), "n": len(rating)}}
    for subset in sorted(set(subsets.tolist())):
        rows = subsets == subset
        out[subset] = {"srcc": srcc(pred[rows], rating[rows]), "plcc": plcc(pred[rows], rating[rows]), "n": int(rows.sum())}
    return out


def damage_figures(pred: np.ndarray, series: list[tuple[str, list[int]]]) -> dict:
    """Pristine above each damaged copy, per damage and strength; whole series falling with strength.
    *series*: (damage, [pristine row, mild, moderate, strong])."""
    per_type: dict[str, dict] = {}
    monotonic = []
    for damage, chain in series:
        entry = per_type.setdefault(damage, {name: [] for name in STRENGTH_NAMES})
        p = pred[chain[0]]
        for name, row in zip(STRENGTH_NAMES, chain[1:]):
            entry[name].append(1.0 if p > pred[row] else 0.5 if p == pred[row] else 0.0)
        values = pred[chain]
        monotonic.append(bool(np.all(np.diff(values) < 0)))
    table = {d: {name: float(np.mean(v)) for name, v in entry.items()} | {"n": len(entry["mild"])} for d, entry in sorted(per_type.items())}
    summary = {}
    for name in STRENGTH_NAMES:
        values = {d: t[name] for d, t in table.items()}
        worst = min(values, key=values.get)
        summary[name] = {"mean_over_types": float(np.mean(list(values.values()))), "worst_type": worst, "worst": values[worst]}
    return {"pristine_above_damaged": summary, "per_type": table,
            "monotonic": {"share": float(np.mean(monotonic)), "n_series": len(monotonic)}}


def failure_figures(pred_fail: np.ndarray, pred_real: np.ndarray, kinds: np.ndarray) -> dict:
    p10 = float(np.percentile(pred_real, 10))
    return {"below_real_p10": float(np.mean(pred_fail < p10)), "n": len(pred_fail),
            "per_kind": {k: float(np.mean(pred_fail[kinds == k] < p10)) for k in sorted(set(kinds.tolist()))}}


def span(pred_real: np.ndarray) -> dict:
    p5, p50, p95 = np.percentile(pred_real, [5, 50, 95])
    return {"p5": float(p5), "median": float(p50), "p95": float(p95), "p5_p95": float(p95 - p5)}


def bias_figures(pred: np.ndarray, real: np.ndarray, grey_of: dict[int, int], technical: np.ndarray,
                 professional: np.ndarray) -> dict:
    """What a model does to monochrome conversions of curated photos, and where it puts low-key, foggy,
    minimalist and monochrome curated photos among all the real photos (percentile rank, 50 = median).
    *real*: rows of the real photos; *grey_of*: row of a curated colour photo -> row of its greyscale copy."""
    colour = [r for r in grey_of if technical[r, _COL["saturation"]] > 0.15]
    delta = np.array([pred[grey_of[r]] - pred[r] for r in colour])
    pct = dict(zip(real.tolist(), (rankdata(pred[real]) - 1) / (len(real) - 1) * 100))
    curated = [r for r in real if professional[r]]
    t = technical

    def where(rows: list[int]) -> dict:
        return {"n": len(rows), "mean_percentile": float(np.mean([pct[r] for r in rows])) if rows else None}

    return {
        "greyscale_copy": {"n": len(delta), "mean_change": float(delta.mean()), "mean_abs_change": float(np.abs(delta).mean()),
                           "share_lower": float(np.mean(delta < 0))},
        "curated_all": where(curated),
        "curated_low_key (exposure_ev <= -1.5)": where([r for r in curated if t[r, _COL["exposure_ev"]] <= -1.5]),
        "curated_fog (contrast <= 0.13, saturation <= 0.2, not dark)": where(
            [r for r in curated if t[r, _COL["contrast"]] <= 0.13 and t[r, _COL["saturation"]] <= 0.2 and t[r, _COL["exposure_ev"]] > -1.0]),
        "curated_minimalist (sharpness_peak in the lowest quarter)": where(
            [r for r in curated if t[r, _COL["sharpness_peak"]] <= np.percentile(t[curated, _COL["sharpness_peak"]], 25)]),
        "curated_monochrome (saturation <= 0.03)": where([r for r in curated if t[r, _COL["saturation"]] <= 0.03]),
    }
