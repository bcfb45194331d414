"""Choosing the default model's weights without looking at the photos it is judged on.

Nested cross-validation over the project's folds (one professional source per fold, snapshots by
camera make): for each outer fold, every candidate of :data:`GRID` is fitted on the other folds
minus one inner fold at a time, scored on that inner fold, and judged by
:func:`default_eval.dev_objective` over all inner folds together. The best candidate is then fitted
on every other fold and scores the outer fold, which took no part in any of it. The shipped model is
chosen the same way with all folds as the inner folds.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from photocritic.training.default_combined import (
    CombinedConfig, Fitted, build_blocks, fit, head_distributions, head_from_fit, make_basis, project, teacher_stats,
)
from photocritic.training.default_data import Photo
from photocritic.training.default_eval import dev_objective
from photocritic.training.default_model import JobTable

#: The candidates: how much the curated-vs-snapshot and ranking blocks weigh against distillation,
#: and the ridge penalty. Set from development runs on the photos cached first, judged on inner-fold
#: figures only (see docs/models/default-experiments.md).
GRID: dict[str, tuple] = {
    "w_class": (0.5, 1.0),
    "w_pairs": (1.0, 2.0),
    "ridge": (10000.0, 30000.0),
}


def candidates(base: CombinedConfig, grid: dict[str, tuple] = GRID) -> list[CombinedConfig]:
    names = sorted(grid)
    return [CombinedConfig(**{**base.as_dict(), **dict(zip(names, values))}) for values in itertools.product(*(grid[n] for n in names))]


def _train_rows(table: JobTable, judged: np.ndarray, exclude_fold: int | None) -> np.ndarray:
    ok = judged[table.photo]
    if exclude_fold is not None:
        ok &= table.fold != exclude_fold
    return np.flatnonzero(ok)


def describe(cfg: CombinedConfig) -> dict:
    """The grid's settings of *cfg* and whatever else differs from the defaults."""
    default = CombinedConfig()
    return {n: v for n, v in cfg.as_dict().items() if n in GRID or v != getattr(default, n)}


def _components(cfg: CombinedConfig) -> int:
    return cfg.mlp_components if cfg.hidden else cfg.components


def choose(X, table, photos, teacher, train, cands, judged, log=print) -> tuple[CombinedConfig, list[dict]]:
    """The candidate with the best inner-fold objective on the jobs *train* (ties: the first)."""
    t_mean, _ = teacher_stats(teacher)
    prepared = {}  # per number of principal components: basis, projection, blocks
    results = []
    for cfg in cands:
        k = _components(cfg)
        if k not in prepared:
            basis = make_basis(X, table, train, replace(cfg, components=k))
            P = project(X, basis)
            # blocks depend on the config only through targets the grid leaves alone
            prepared[k] = (basis, P, build_blocks(P, table, photos, teacher, train, cfg))
        basis, P, blocks = prepared[k]
        means = np.full(len(X), np.nan)
        for f in blocks.folds:
            fitted = fit(X, table, photos, teacher, train, cfg, basis=basis, P=P, blocks=blocks,
                         folds=[g for g in blocks.folds if g != f])
            rows = train[table.fold[train] == f]
            means[rows] = fitted.score_and_spread(P[rows], X[rows])[0]
        objective, values = dev_objective(means, table, photos, t_mean, train, judged)
        results.append({"config": describe(cfg), "objective": objective, **values})
    best = int(np.argmax([r["objective"] for r in results]))
    log(f"  chosen {results[best]['config']} (inner objective {results[best]['objective']:.4f})")
    return cands[best], results


def linear_candidates(base: CombinedConfig, grid: dict[str, tuple]) -> list[CombinedConfig]:
    """The grid's candidates, judged as linear heads: the hidden layer (base.hidden) is trained on top
    of the chosen weights afterwards, so a choice costs closed-form fits only."""
    return [replace(c, hidden=0) for c in candidates(base, grid)]


def nested_out_of_fold(X, table: JobTable, photos: list[Photo], teacher, base: CombinedConfig, judged: np.ndarray,
                       grid: dict[str, tuple] = GRID, log=print, linear: dict | None = None):
    """Out-of-fold distributions (N x 10) from the nested procedure, with the per-fold heads and choices.
    With base.hidden and a *linear* dict, the linear head of the same choice is scored too (into
    linear["out"], linear["heads"])."""
    out = np.zeros((len(X), 10))
    heads, chosen = {}, {}
    cands = linear_candidates(base, grid)
    if linear is not None:
        linear.update(out=np.zeros((len(X), 10)), heads={})
    for fold in np.unique(table.fold):
        train = _train_rows(table, judged, int(fold))
        cfg, _ = choose(X, table, photos, teacher, train, cands, judged, log=lambda *a: None)
        test = np.flatnonzero(table.fold == fold)
        if linear is not None and base.hidden:
            lhead = head_from_fit(fit(X, table, photos, teacher, train, cfg))
            linear["out"][test] = head_distributions(lhead, X[test])
            linear["heads"][int(fold)] = lhead
        cfg = replace(cfg, hidden=base.hidden)
        fitted = fit(X, table, photos, teacher, train, cfg)
        head = head_from_fit(fitted)
        out[test] = head_distributions(head, X[test])
        heads[int(fold)], chosen[int(fold)] = head, {k: getattr(cfg, k) for k in grid}
        log(f"  outer fold {fold}: chose {chosen[int(fold)]}, scored {len(test)} jobs")
    return out, heads, chosen


def fixed_out_of_fold(X, table: JobTable, photos: list[Photo], teacher, cfg: CombinedConfig, judged: np.ndarray, log=print):
    """Out-of-fold distributions of one fixed configuration (for the single-signal variants)."""
    out = np.zeros((len(X), 10))
    heads = {}
    for fold in np.unique(table.fold):
        train = _train_rows(table, judged, int(fold))
        head = head_from_fit(fit(X, table, photos, teacher, train, cfg))
        test = np.flatnonzero(table.fold == fold)
        out[test] = head_distributions(head, X[test])
        heads[int(fold)] = head
    return out, heads


def final_fit(X, table: JobTable, photos: list[Photo], teacher, base: CombinedConfig, judged: np.ndarray,
              grid: dict[str, tuple] = GRID, log=print) -> tuple[Fitted, CombinedConfig, list[dict]]:
    """The shipped model: chosen on all folds as inner folds, then fitted on every judged photo."""
    train = _train_rows(table, judged, None)
    cfg, results = choose(X, table, photos, teacher, train, linear_candidates(base, grid), judged, log=log)
    cfg = replace(cfg, hidden=base.hidden)
    return fit(X, table, photos, teacher, train, cfg), cfg, results
