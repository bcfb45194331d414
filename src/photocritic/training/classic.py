"""Classic baselines on frozen features (seed 001): an SVM and a random forest, scikit-learn.

Reported beside the learned head on the same test photos: a learned head that cannot beat these
has not earned its complexity.
"""
from __future__ import annotations

import numpy as np

from photocritic.evaluation.metrics import auc, compute_metrics


def classic_baselines(X_train: np.ndarray, mean_train: np.ndarray, good_train: np.ndarray, X_test: np.ndarray,
                      mean_test: np.ndarray, good_test: np.ndarray, seed: int = 0, regression: bool = True,
                      max_train: int = 20_000) -> dict[str, dict]:
    """Fit an SVM (RBF; SVR for means, SVC for good/bad) and a random forest; their test metrics.

    Kernel SVMs scale quadratically, so at most ``max_train`` training photos are used (a fixed-seed
    sample), said in the result."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    rng = np.random.default_rng(seed)
    if len(X_train) > max_train:
        pick = rng.choice(len(X_train), max_train, replace=False)
        X_train, mean_train, good_train = X_train[pick], mean_train[pick], good_train[pick]
    if len(X_test) == 0 or len(np.unique(good_train)) < 2 and not regression:
        return {}
    results = {}
    models = {
        "svm": make_pipeline(StandardScaler(), SVR(C=1.0) if regression else SVC(C=1.0)),
        "random_forest": (RandomForestRegressor if regression else RandomForestClassifier)(n_estimators=200, min_samples_leaf=2,
                                                                                          random_state=seed, n_jobs=-1),
    }
    for name, model in models.items():
        model.fit(X_train, mean_train if regression else good_train)
        if regression:
            predicted = model.predict(X_test)
            row = compute_metrics(predicted, mean_test, good_test)
        else:
            score = model.decision_function(X_test) if hasattr(model, "decision_function") else model.predict_proba(X_test)[:, 1]
            row = compute_metrics(np.where(model.predict(X_test), 7.0, 3.0), None, good_test, pred_good=model.predict(X_test).astype(bool))
            row["auc"] = auc(score, good_test)
        row["trained_on"] = int(len(X_train))
        results[name] = row
    return results
