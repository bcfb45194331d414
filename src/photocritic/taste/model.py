"""A personal taste model that behaves like a scikit-learn estimator.

    >>> taste = TasteModel().fit(paths, keep)          # doctest: +SKIP
    >>> taste.predict_proba(new_paths)[:, 1]           # doctest: +SKIP
    >>> taste.save("models/my-taste", blend=0.5)       # then: photocritic score --model models/my-taste

Inputs are what the catalog already holds for every scored photo: the backbone's MLSP features,
the technical measures and the default model's score. The estimator is a logistic regression
(scikit-learn) behind a standardiser; its strength and its class weighting are chosen by
cross-validation, so a 3:1 imbalance like seed 003's is handled by whichever works better.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from photocritic.models.technical import TECHNICAL_MEASURES

FEATURE_DIM = 2048


class PhotoFeatures:
    """Turns photo paths into feature rows through the scoring pipeline (and its catalog)."""

    def __init__(self, base_model: str = "default", catalog: str | os.PathLike | None = None) -> None:
        self.base_model = base_model
        self.catalog = catalog
        self.errors: dict[str, str] = {}

    def __call__(self, paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
        """(X, ok): one row per path; rows of unreadable photos are zero and ok is False."""
        from photocritic.scoring import Scorer

        scorer = Scorer(self.base_model, catalog=self.catalog)
        rows = np.zeros((len(paths), FEATURE_DIM + len(TECHNICAL_MEASURES) + 1), dtype=np.float32)
        ok = np.zeros(len(paths), dtype=bool)
        try:
            for index, (record, row) in enumerate(scorer.iter_scored(paths)):
                if record["error"] or row is None or row.features is None:
                    self.errors[record["path"]] = record["error"] or "no features"
                    continue
                rows[index] = np.concatenate(
                    [row.features.astype(np.float32), [row.technical[m] for m in TECHNICAL_MEASURES], [record["score"]]]
                )
                ok[index] = True
        finally:
            scorer.close()
        return rows, ok


def _as_matrix(X, featurizer: PhotoFeatures) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return X.astype(np.float32, copy=False), np.ones(len(X), dtype=bool)
    return featurizer([os.fspath(p) for p in X])


class TasteModel(ClassifierMixin, BaseEstimator):
    """Learns keep/reject from a person's own picks.

    ``X`` is a list of photo paths (features come from the catalog, computed on first use) or
    an already computed feature matrix (rows as :class:`PhotoFeatures` makes them).
    """

    def __init__(
        self,
        C: float | None = None,
        class_weight: str | None = "auto",
        base_model: str = "default",
        catalog: str | os.PathLike | None = None,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.base_model = base_model
        self.catalog = catalog
        self.random_state = random_state

    # -- scikit-learn API --------------------------------------------------------------------------
    def fit(self, X, y) -> "TasteModel":
        featurizer = PhotoFeatures(self.base_model, self.catalog)
        matrix, ok = _as_matrix(X, featurizer)
        y = np.asarray(y, dtype=int)
        matrix, y = matrix[ok], y[ok]
        self.skipped_ = featurizer.errors
        self.classes_ = np.array([0, 1])
        if len(np.unique(y)) < 2:
            raise ValueError("need photos of both kinds (keep and reject) to learn a taste")
        pipeline = Pipeline(
            [("scale", StandardScaler()), ("logistic", LogisticRegression(max_iter=5000, random_state=self.random_state))]
        )
        grid = {
            "logistic__C": [self.C] if self.C else [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
            "logistic__class_weight": [None, "balanced"] if self.class_weight == "auto" else [self.class_weight],
        }
        folds = max(2, min(5, int(np.bincount(y).min())))
        search = GridSearchCV(
            pipeline,
            grid,
            scoring="roc_auc",
            cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state),
            n_jobs=1,
        )
        search.fit(matrix, y)
        self.pipeline_ = search.best_estimator_
        self.best_params_ = {k.split("__")[1]: v for k, v in search.best_params_.items()}
        self.cv_auc_ = float(search.best_score_)
        self.n_features_in_ = matrix.shape[1]
        self.n_labels_ = int(len(y))
        return self

    def decision_function(self, X) -> np.ndarray:
        matrix, ok = _as_matrix(X, PhotoFeatures(self.base_model, self.catalog))
        scores = self.pipeline_.decision_function(matrix)
        return np.where(ok, scores, np.nan)

    def predict_proba(self, X) -> np.ndarray:
        z = self.decision_function(X)
        p = 1.0 / (1.0 + np.exp(-np.nan_to_num(z)))
        p = np.where(np.isnan(z), 0.5, p)  # an unreadable photo gets no opinion
        return np.stack([1 - p, p], axis=1)

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    # -- what it learned ---------------------------------------------------------------------------
    def linear_weights(self) -> tuple[np.ndarray, float]:
        """(w, b) in raw feature units: z = X @ w + b."""
        scaler: StandardScaler = self.pipeline_.named_steps["scale"]
        logistic: LogisticRegression = self.pipeline_.named_steps["logistic"]
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        w = logistic.coef_[0] / scale
        b = float(logistic.intercept_[0] - np.sum(logistic.coef_[0] * scaler.mean_ / scale))
        return w.astype(np.float64), b

    def save(self, folder: str | os.PathLike, blend: float = 0.0, name: str | None = None, card: str = "") -> Path:
        """Write a model bundle usable wherever a model is (score --model, cull --model, the web app)."""
        from photocritic.taste.bundle import save_taste_bundle

        return save_taste_bundle(self, folder, blend=blend, name=name, card=card)
