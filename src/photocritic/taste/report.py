"""An honest report on a taste model: cross-validated figures with confidence intervals, the
majority-class baseline, a learning curve, the most and least "you" photos, and which
interpretable measures push the score up or down.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.taste.model import FEATURE_DIM, TasteModel


@dataclass
class TasteReport:
    n_labels: int
    n_keep: int
    cv_auc: float
    cv_auc_ci: tuple[float, float]
    cv_accuracy: float
    cv_accuracy_ci: tuple[float, float]
    majority_accuracy: float
    folds: int
    learning_curve: list[dict] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    most_you: list[dict] = field(default_factory=list)
    least_you: list[dict] = field(default_factory=list)


def bootstrap_ci(y: np.ndarray, p: np.ndarray, metric, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of metric(y, p) over resampled photos."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        values.append(metric(y[idx], p[idx]))
    return (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == y))


def cross_validated_probabilities(X: np.ndarray, y: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Each photo's keep probability from a model that never saw it (model selection nested inside)."""
    out = np.zeros(len(y))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y):
        out[test] = TasteModel(random_state=seed).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return out


def learning_curve(X: np.ndarray, y: np.ndarray, sizes: list[int], repeats: int = 5, seed: int = 0) -> list[dict]:
    """Held-out AUC when fitting on n labels (random subsets, the rest held out), mean and spread."""
    rng = np.random.default_rng(seed)
    curve = []
    for n in sizes:
        if n >= len(y) - 10:
            continue
        aucs = []
        for _ in range(repeats):
            order = rng.permutation(len(y))
            train, test = order[:n], order[n:]
            if len(np.unique(y[train])) < 2 or np.bincount(y[train]).min() < 2 or len(np.unique(y[test])) < 2:
                continue
            p = TasteModel(random_state=seed).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
            aucs.append(roc_auc_score(y[test], p))
        if aucs:
            curve.append({"n_labels": n, "auc_mean": float(np.mean(aucs)), "auc_sd": float(np.std(aucs)), "repeats": len(aucs)})
    return curve


def measure_effects(X: np.ndarray, y: np.ndarray) -> list[dict]:
    """Which technical measures go with "keep": standardised logistic coefficients and single-measure AUC."""
    technical = X[:, FEATURE_DIM : FEATURE_DIM + len(TECHNICAL_MEASURES)]
    scaled = StandardScaler().fit_transform(technical)
    coefficients = LogisticRegression(C=1.0, max_iter=2000).fit(scaled, y).coef_[0]
    effects = []
    for index, name in enumerate(TECHNICAL_MEASURES):
        effects.append(
            {"measure": name, "coefficient": float(coefficients[index]), "auc_alone": float(roc_auc_score(y, technical[:, index]))}
        )
    return sorted(effects, key=lambda e: -abs(e["coefficient"]))


def evaluate_taste(X: np.ndarray, y: np.ndarray, paths: list[str], seed: int = 0, top: int = 12,
                   log=lambda message: None) -> TasteReport:
    """The report's figures; ``log`` hears each stage (cross-validation and the learning curve refit
    the model, with its own model selection, dozens of times: minutes, not seconds)."""
    y = np.asarray(y, dtype=int)
    folds = max(2, min(5, int(np.bincount(y).min())))
    log(f"report: cross-validating over {folds} folds (model selection nested inside each)")
    p = cross_validated_probabilities(X, y, folds, seed)
    sizes = sorted({n for n in (10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000) if n < len(y) - 10})
    log(f"report: learning curve at {len(sizes)} training-set sizes, 5 repeats each" if sizes else
        "report: too few labels for a learning curve")
    curve = learning_curve(X, y, sizes, seed=seed)
    log("report: bootstrap intervals and measure effects")
    order = np.argsort(-p)
    return TasteReport(
        n_labels=len(y),
        n_keep=int(y.sum()),
        cv_auc=float(roc_auc_score(y, p)),
        cv_auc_ci=bootstrap_ci(y, p, roc_auc_score, seed=seed),
        cv_accuracy=_accuracy(y, p),
        cv_accuracy_ci=bootstrap_ci(y, p, _accuracy, seed=seed),
        majority_accuracy=float(max(y.mean(), 1 - y.mean())),
        folds=folds,
        learning_curve=curve,
        measures=measure_effects(X, y),
        most_you=[{"path": paths[i], "p_keep": float(p[i]), "kept": bool(y[i])} for i in order[:top]],
        least_you=[{"path": paths[i], "p_keep": float(p[i]), "kept": bool(y[i])} for i in order[::-1][:top]],
    )


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _grid(items: list[dict], thumb: int = 220) -> bytes:
    from PIL import Image, ImageDraw

    from photocritic.imaging import PhotoError, open_for_display

    columns = 6
    rows = max(1, (len(items) + columns - 1) // columns)
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + 22)), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    for index, item in enumerate(items):
        x, y = (index % columns) * thumb, (index // columns) * (thumb + 22)
        try:
            image = open_for_display(item["path"], thumb - 8)
            sheet.paste(image, (x + (thumb - image.width) // 2, y + (thumb - image.height) // 2))
        except PhotoError:
            pass
        mark = "kept" if item["kept"] else "rejected"
        draw.text((x + 6, y + thumb + 4), f"p={item['p_keep']:.2f} ({mark})", fill=(20, 20, 20))
    buffer = io.BytesIO()
    sheet.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def write_report(report: TasteReport, folder: str | os.PathLike) -> Path:
    """report.json, learning_curve.png, most_you.jpg, least_you.jpg and a self-contained index.html."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(asdict(report), indent=2))

    figure, axis = plt.subplots(figsize=(5.5, 3.4))
    if report.learning_curve:
        n = [c["n_labels"] for c in report.learning_curve]
        mean = np.array([c["auc_mean"] for c in report.learning_curve])
        sd = np.array([c["auc_sd"] for c in report.learning_curve])
        axis.plot(n, mean, marker="o", color="#1f6f8b", label="held-out AUC")
        axis.fill_between(n, mean - sd, mean + sd, color="#1f6f8b", alpha=0.2)
    axis.axhline(0.5, color="grey", linestyle="--", label="chance")
    axis.set_xlabel("labelled photos used for fitting")
    axis.set_ylabel("AUC on the other photos")
    axis.set_ylim(0.4, 1.0)
    axis.legend(loc="lower right")
    axis.set_title("How much better with more labels")
    curve_png = _png(figure)
    plt.close(figure)
    (folder / "learning_curve.png").write_bytes(curve_png)
    most, least = _grid(report.most_you), _grid(report.least_you)
    (folder / "most_you.jpg").write_bytes(most)
    (folder / "least_you.jpg").write_bytes(least)

    def img(data: bytes, mime: str) -> str:
        return f'<img alt="" src="data:{mime};base64,{base64.b64encode(data).decode()}">'

    rows = "".join(
        f"<tr><td>{html.escape(m['measure'])}</td><td>{m['coefficient']:+.2f}</td><td>{m['auc_alone']:.2f}</td></tr>"
        for m in report.measures
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Your taste model</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;color:#222}}img{{max-width:100%}}
table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}}</style></head><body>
<h1>Your taste model</h1>
<p>{report.n_labels} labelled photos ({report.n_keep} kept). Figures are {report.folds}-fold cross-validated: every photo is
scored by a model that did not see it. Intervals are 95% bootstrap intervals over photos.</p>
<table><tr><th>measure</th><th>value</th><th>95% interval</th></tr>
<tr><td>AUC</td><td>{report.cv_auc:.3f}</td><td>{report.cv_auc_ci[0]:.3f} to {report.cv_auc_ci[1]:.3f}</td></tr>
<tr><td>accuracy</td><td>{report.cv_accuracy:.3f}</td><td>{report.cv_accuracy_ci[0]:.3f} to {report.cv_accuracy_ci[1]:.3f}</td></tr>
<tr><td>always the majority class</td><td>{report.majority_accuracy:.3f}</td><td></td></tr></table>
<h2>Learning curve</h2>{img(curve_png, "image/png")}
<h2>Most "you" (held-out predictions)</h2>{img(most, "image/jpeg")}
<h2>Least "you"</h2>{img(least, "image/jpeg")}
<h2>What pushes the score up or down</h2>
<p>Logistic coefficients on standardised technical measures (positive: goes with photos you keep), and each
measure's AUC on its own (0.5 = unrelated).</p>
<table><tr><th>measure</th><th>coefficient</th><th>AUC alone</th></tr>{rows}</table>
</body></html>"""
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder / "index.html"
