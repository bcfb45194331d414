"""Fit the default model's head: damage ranking plus professional-versus-snapshot targets.

A linear :class:`DistributionHead` over [MLSP features (float16-rounded), technical measures, hinge
terms max(0, measure - knot) at quartiles of each measure], fitted in closed form (see :func:`fit_head`)
to three kinds of rows:

* every pristine photo, target mean professional 7.0 or everyday snapshot 5.5, the two classes
  weighted equally (professional sources by 1/sqrt(size), so no one source's house style dominates);
* every damaged photo, its pristine target lowered by 1, 2 or 3.25 for mild, moderate and strong;
* within each (photo, damage) series the differences pristine - mild - moderate - strong, whose
  targets are the differences of the target means (the ranking signal, content cancelled out).

Ridge regression rather than SGD: the professional-versus-snapshot signal comes from a few hundred
photos and ~2100 inputs, where a strongly regularised linear fit is what generalises to unseen
sources (and it is exact, fast and deterministic).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from photocritic.models.heads import RATINGS, DistributionHead
from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.training.default_data import Job, Photo


@dataclass
class FitConfig:
    inputs: tuple[str, ...] = ("mlsp", "technical")
    ridge: float = 10000.0  # L2 penalty on standardised inputs (rows weigh 1 on average)
    pro_mean: float = 7.0
    snapshot_mean: float = 5.5
    drops: tuple[float, float, float] = (1.0, 2.0, 3.25)
    sigma: float = 1.5  # width of the output distribution (a discretised Gaussian around the score)
    damaged_weight: float = 0.1  # share of damaged rows against pristine rows (pristine total = 1)
    pair_weight: float = 0.5  # share of within-photo difference rows
    hinge_rounds: int = 2  # refits keeping only difference rows not yet ranked by their full gap
    # piecewise-linear responses to the technical measures: a hinge max(0, m - knot) at each of these
    # quantiles (over the training photos) of every measure, so exposure can be best in the middle
    technical_knots: tuple[float, ...] = (0.25, 0.5, 0.75)
    # a lighter L2 penalty on the technical measures that resizing leaves alone (and their hinges): a
    # dozen inputs among ~2100, which the common penalty shrinks to almost nothing. 3,000 on these 11
    # (out of fold: moderate 0.870 against 0.858 with the 9 measures that were resize-stable before the
    # decoder kept draft headroom, and 0.843 with the common penalty). Lighter still (300-1,000), or on
    # the noise measure too, ranked damage a little better but moved the score under 0.75x resizes
    technical_ridge: float | None = 3000.0  # None: ridge for every column
    technical_ridge_measures: tuple[str, ...] = (  # the measures technical_ridge applies to (empty: all)
        "sharpness", "sharpness_peak", "exposure_ev", "highlights_clipped", "shadows_clipped", "contrast",
        "dynamic_range", "colorfulness", "saturation", "colour_cast", "channels_clipped",
    )
    # hidden > 0: a one-hidden-layer head trained by gradient descent on the leading principal
    # components of the inputs (the projection is folded into its first layer when saved)
    hidden: int = 0
    components: int = 256
    dropout: float = 0.2
    epochs: int = 400
    lr: float = 3e-3
    weight_decay: float = 1e-3
    l2: float = 1e-3
    rank_weight: float = 1.0
    margin: float = 0.3
    rank_sharpness: float = 4.0
    seed: int = 0

    def head_config(self) -> dict:
        if self.hidden:
            return {"hidden": [self.hidden], "dropout": self.dropout, "batch_norm": False}
        config = {"hidden": [], "dropout": 0.0, "batch_norm": False}
        if self.technical_knots and "technical" in self.inputs:
            config["hinges"] = len(self.technical_knots) * len(TECHNICAL_MEASURES)
        return config

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class JobTable:
    """Per-job arrays aligned with the feature rows."""

    photo: np.ndarray
    kind: np.ndarray  # str
    damage: np.ndarray  # str ("" when undamaged)
    strength: np.ndarray  # -1 when undamaged
    professional: np.ndarray  # bool
    fold: np.ndarray
    extra: dict = field(default_factory=dict)

    @classmethod
    def build(cls, photos: list[Photo], jobs: list[Job], folds: np.ndarray) -> "JobTable":
        photo = np.array([j.photo for j in jobs], dtype=np.int64)
        return cls(
            photo=photo,
            kind=np.array([j.kind for j in jobs]),
            damage=np.array([j.damage for j in jobs]),
            strength=np.array([j.strength for j in jobs], dtype=np.int64),
            professional=np.array([photos[i].professional for i in photo]),
            fold=np.asarray(folds)[photo],
        )


def model_inputs(features: dict[str, np.ndarray], inputs: tuple[str, ...], mlsp_key: str = "mlsp") -> np.ndarray:
    parts = []
    for group in inputs:
        if group == "mlsp":
            parts.append(features[mlsp_key].astype(np.float32))  # float16-rounded, as scored
        elif group == "technical":
            parts.append(features["technical"].astype(np.float32))
        else:
            raise ValueError(group)
    return np.concatenate(parts, axis=1)


def _training_terms(table: JobTable, rows: np.ndarray, photos: list[Photo], cfg: FitConfig):
    """Targets, EMD weights and ranking pairs for the training rows."""
    pristine = rows[table.kind[rows] == "pristine"]
    damaged = rows[table.kind[rows] == "damaged"]
    used = np.concatenate([pristine, damaged])
    local = {int(r): i for i, r in enumerate(used)}
    base = np.where(table.professional[used], cfg.pro_mean, cfg.snapshot_mean)
    drop = np.where(table.strength[used] >= 0, np.asarray(cfg.drops)[np.clip(table.strength[used], 0, 2)], 0.0)
    target_mean = base - drop
    weights = np.zeros(len(used))
    n_pristine = len(pristine)
    pro = table.professional[pristine]
    groups = np.array([photos[table.photo[r]].group for r in pristine])
    source_sizes = {g: int((groups == g).sum()) for g in set(groups[pro])}
    w = np.array([1 / np.sqrt(source_sizes[g]) if p else 0.0 for g, p in zip(groups, pro)])
    if w.sum() > 0:
        weights[:n_pristine] += 0.5 * w / w.sum()
    if (~pro).sum():
        weights[:n_pristine] += np.where(~pro, 0.5 / (~pro).sum(), 0.0)
    if len(damaged):
        weights[n_pristine:] = cfg.damaged_weight / len(damaged)
    # ranking pairs inside each (photo, damage) series
    pristine_of = {int(table.photo[r]): local[int(r)] for r in pristine}
    series: dict[tuple[int, str], dict[int, int]] = {}
    for r in damaged:
        key = (int(table.photo[r]), str(table.damage[r]))
        series.setdefault(key, {})[int(table.strength[r])] = local[int(r)]
    hi, lo, gap = [], [], []
    for (photo, _), levels in series.items():
        chain = [(-1, pristine_of[photo])] if photo in pristine_of else []
        chain += sorted(levels.items())
        for a in range(len(chain)):
            for b in range(a + 1, len(chain)):
                hi.append(chain[a][1])
                lo.append(chain[b][1])
                gap.append(chain[b][0] - chain[a][0])
    return used, target_mean, weights, np.array(hi, dtype=np.int64), np.array(lo, dtype=np.int64), np.array(gap, dtype=np.float32)


def fit_head(
    X: np.ndarray, table: JobTable, rows: np.ndarray, photos: list[Photo], cfg: FitConfig
) -> DistributionHead:
    """Fit the head on the jobs *rows* (pristine and damaged ones are used), in closed form.

    A weighted ridge regression of the target mean on standardised inputs, with extra rows for
    the within-photo differences (pristine minus damaged, milder minus stronger) whose target is
    the difference of target means: those rows see only what the damage changed, so they teach
    the ranking without the photo's content in the way. The scalar score s is then written into a
    plain linear :class:`DistributionHead` whose logits are those of a discretised Gaussian around s
    (logit_k = r_k s / sigma^2 - r_k^2 / (2 sigma^2) is linear in s, hence in the inputs)."""
    if cfg.hidden:
        return fit_mlp_head(X, table, rows, photos, cfg)
    used, target_mean, weights, hi, lo, _ = _training_terms(table, np.asarray(rows), photos, cfg)
    head = DistributionHead(X.shape[1], **{k: v for k, v in cfg.head_config().items() if k == "hinges"})
    n_technical = len(TECHNICAL_MEASURES) if "technical" in cfg.inputs else 0
    if head.hinges:
        # technical measures are the last columns; knots at quantiles over the training photos
        first = X.shape[1] - n_technical
        pristine = used[table.kind[used] == "pristine"]
        index = np.repeat(np.arange(first, X.shape[1]), len(cfg.technical_knots))
        knots = np.concatenate([np.quantile(X[pristine, j].astype(np.float64), cfg.technical_knots) for j in range(first, X.shape[1])])
        head.set_hinges(index, knots)
    with torch.no_grad():
        Xu = head.expand(torch.from_numpy(np.ascontiguousarray(X[used], dtype=np.float32))).double().numpy()
    penalty = np.full(Xu.shape[1], cfg.ridge)
    if n_technical and cfg.technical_ridge is not None:
        first, knots_per = X.shape[1] - n_technical, len(cfg.technical_knots) if head.hinges else 0
        for j, name in enumerate(TECHNICAL_MEASURES):
            if cfg.technical_ridge_measures and name not in cfg.technical_ridge_measures:
                continue
            penalty[first + j] = cfg.technical_ridge
            penalty[X.shape[1] + j * knots_per : X.shape[1] + (j + 1) * knots_per] = cfg.technical_ridge
    mean = Xu.mean(axis=0)
    std = Xu.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    Z = (Xu - mean) / std
    w = weights * len(used)  # average weight 1
    n_pristine = int((table.kind[used] == "pristine").sum())
    # pointwise rows: centred, so the intercept is the weighted mean target
    t_bar = float((w * target_mean).sum() / w.sum())
    z_bar = (w[:, None] * Z).sum(axis=0) / w.sum()
    Zc = Z - z_bar
    gram = (Zc * w[:, None]).T @ Zc + np.diag(penalty)
    rhs = (Zc * w[:, None]).T @ (target_mean - t_bar)
    if not (len(hi) and cfg.pair_weight):
        beta = np.linalg.solve(gram, rhs)
    else:
        D = Z[hi] - Z[lo]
        gap = target_mean[hi] - target_mean[lo]
        wp = cfg.pair_weight * n_pristine / len(hi)
        active = np.ones(len(hi), dtype=bool)
        for _ in range(cfg.hinge_rounds + 1):
            Da = D[active]
            beta = np.linalg.solve(gram + wp * Da.T @ Da, rhs + wp * Da.T @ gap[active])
            # squared hinge: a pair already ranked by its full target gap pulls no further
            active = D @ beta < gap
    intercept = t_bar - z_bar @ beta
    head.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
    head.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32))
    set_score_head(head, beta, intercept, cfg.sigma)
    return head.eval()


def set_score_head(head: DistributionHead, beta: np.ndarray, intercept: float, sigma: float) -> None:
    """Write score s = z . beta + intercept into the head's single linear layer as Gaussian logits."""
    linear = head.mlp[-1]
    r = RATINGS[:, None]
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(r * beta[None, :] / sigma**2, dtype=torch.float32))
        linear.bias.copy_(torch.as_tensor(RATINGS * intercept / sigma**2 - RATINGS**2 / (2 * sigma**2), dtype=torch.float32))


def fit_mlp_head(
    X: np.ndarray, table: JobTable, rows: np.ndarray, photos: list[Photo], cfg: FitConfig
) -> DistributionHead:
    """One hidden layer, trained full-batch: EMD to the target distributions of pristine (and,
    with damaged_weight, damaged) rows, plus a logistic ranking loss on the means inside each
    (photo, damage) series. Inputs are standardised, then projected on their leading principal
    components (whitened); the projection is folded into the first layer, so the saved head is a
    plain :class:`DistributionHead` on the raw inputs."""
    used, target_mean, weights, hi, lo, gap = _training_terms(table, np.asarray(rows), photos, cfg)
    Xu = X[used].astype(np.float64)
    mean = Xu.mean(axis=0)
    std = Xu.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    Z = (Xu - mean) / std
    eigval, eigvec = np.linalg.eigh(Z.T @ Z / len(Z))
    k = min(cfg.components, Z.shape[1])
    order = np.argsort(eigval)[::-1][:k]
    projection = (eigvec[:, order] / np.sqrt(np.maximum(eigval[order], 1e-6))).T  # k x in_dim, whitening
    P = torch.from_numpy((Z @ projection.T).astype(np.float32))
    torch.manual_seed(cfg.seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(k, cfg.hidden), torch.nn.ReLU(), torch.nn.Dropout(cfg.dropout), torch.nn.Linear(cfg.hidden, 10)
    )
    target = torch.from_numpy(_gaussian(target_mean, cfg.sigma)).float()
    w = torch.from_numpy(weights).float()
    hi_t, lo_t = torch.from_numpy(hi), torch.from_numpy(lo)
    margin = torch.from_numpy(gap) * cfg.margin
    ratings = torch.from_numpy(RATINGS).float()
    optimiser = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    net.train()
    for _ in range(cfg.epochs):
        optimiser.zero_grad()
        probs = torch.softmax(net(P), dim=-1)
        cdf = torch.cumsum(probs, dim=-1) - torch.cumsum(target, dim=-1)
        loss = (cdf.pow(2).mean(dim=-1).sqrt() * w).sum()
        if len(hi) and cfg.rank_weight:
            m = probs @ ratings
            diff = (m[hi_t] - m[lo_t] - margin) * cfg.rank_sharpness
            loss = loss + cfg.rank_weight * torch.nn.functional.softplus(-diff).mean() / cfg.rank_sharpness
        loss = loss + cfg.l2 * net[0].weight.pow(2).sum()
        loss.backward()
        optimiser.step()
    net.eval()
    head = DistributionHead(X.shape[1], hidden=(cfg.hidden,), dropout=cfg.dropout)
    with torch.no_grad():
        head.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        head.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32))
        first = torch.as_tensor(projection, dtype=torch.float32)
        head.mlp[0].weight.copy_(net[0].weight @ first)
        head.mlp[0].bias.copy_(net[0].bias)
        head.mlp[-1].weight.copy_(net[3].weight)
        head.mlp[-1].bias.copy_(net[3].bias)
    return head.eval()


def _gaussian(mean: np.ndarray, sigma: float) -> np.ndarray:
    logits = -((RATINGS[None, :] - np.asarray(mean)[:, None]) ** 2) / (2 * sigma**2)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


@torch.inference_mode()
def predict(head: DistributionHead, X: np.ndarray) -> np.ndarray:
    """N x 10 distributions, computed as the scoring pipeline does (float64 softmax)."""
    return torch.softmax(head(torch.from_numpy(X)).double(), dim=-1).numpy()


def out_of_fold(X: np.ndarray, table: JobTable, photos: list[Photo], cfg: FitConfig, log=print) -> np.ndarray:
    """Distributions for every job from the model that did not see its fold."""
    out = np.zeros((len(X), 10))
    for fold in np.unique(table.fold):
        train = np.flatnonzero(table.fold != fold)
        test = np.flatnonzero(table.fold == fold)
        head = fit_head(X, table, train, photos, cfg)
        out[test] = predict(head, X[test])
        log(f"  fold {fold}: trained on {len(train)} jobs, scored {len(test)}")
    return out
