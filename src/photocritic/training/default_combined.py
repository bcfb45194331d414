"""The default model's head: three signals, one linear score, a teacher-like distribution.

One linear score s over [MLSP features, technical measures, hinge terms of the measures] is fitted
in closed form (weighted ridge) to four blocks of rows, each weighed as a whole:

``distil``  every photo, crop, re-encode and damaged copy: the teacher's mean (idealo's NIMA, trained
            on AVA's human votes) - human aesthetic judgement, learned on our own features;
``class``   every pristine photo: curated professional photos at the training snapshots' median
            teacher score plus ``class_gap``, snapshots at that median;
``pairs``   within each (photo, damage) series, pristine - mild - moderate - strong differences with
            target gaps ``drops`` (RankIQA: the content cancels, only the damage is left);
``fail``    the obvious failures (black, blown, flat, extreme blur / exposure / noise), at the
            training snapshots' median minus ``fail_drop``.

The MLSP features are standardised and projected on their leading ``components`` principal
components (of the training photos and crops), so a fit is a small linear solve; the projection is
folded back into the head's single linear layer. The score is then put on the readable scale
(training snapshots' median at ``centre``, the training real photos' 5th-95th percentiles ``span``
apart), and written into a plain linear :class:`DistributionHead` as a discretised Gaussian whose
width is the teacher's spread distilled per photo (see :func:`head_from_score`).

Every quantity a fit uses (knots, standardisation, projection, medians, scale) comes from its
training rows only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from photocritic.models.heads import RATINGS, DistributionHead
from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.training.default_data import Photo
from photocritic.training.default_model import JobTable

DISTIL_KINDS = ("pristine", "original", "q95", "resize075", "crop", "damaged")


@dataclass(frozen=True)
class CombinedConfig:
    components: int = 64  # inner folds: 64 distilled nima-ava better than 384 (Spearman 0.58 against 0.51)
    ridge: float = 10000.0  # on the principal components (per 1,000 rows of weight; chosen by nested CV)
    technical_ridge: float = 3.0  # on the technical measures and their hinges
    technical_knots: tuple[float, ...] = (0.25, 0.5, 0.75)
    w_distil: float = 1.0
    # weight of a damaged copy's teacher row against an undamaged one's: 0, because on inner folds distilling
    # nima-ava's (weak) reactions to damage halved how well its ranking of photos was learned (Spearman 0.34 vs 0.51)
    distil_damaged: float = 0.0
    w_class: float = 1.0
    class_gap: float = 1.0  # teacher-scale points between curated photos and snapshots
    w_pairs: float = 1.0
    drops: tuple[float, float, float] = (0.4, 0.8, 1.4)  # teacher-scale gaps pristine -> mild/moderate/strong
    w_fail: float = 0.0  # failure rows inside the linear fit (0: they are handled by the tail terms alone)
    fail_drop: float = 2.5
    # obvious failures: after the score is fitted without them, non-positive terms on the tails of the
    # measures (beyond their tail_quantiles over the training photos) are fitted so that failures land at
    # fail_score; real photos sit inside the tails, so their scores do not move
    tail_quantiles: tuple[float, float] = (0.02, 0.98)
    fail_score: float = -1.0  # below the scale: the distribution then puts nearly everything on 1
    tail_ridge: float = 1.0
    centre: float = 5.5  # where the training snapshots' median lands
    span: float = 3.2  # the training real photos' 5th-95th percentile span on the readable scale
    # "fixed": a Gaussian of width fixed_sigma; "teacher": the width distilled per photo from the teacher (its
    # first-order packing into one linear layer moved the mean by up to 2 points: not used)
    spread: str = "fixed"
    fixed_sigma: float = 1.5
    # hidden > 0: the score is the linear one plus a one-hidden-layer network on the leading
    # mlp_components principal components and the measures, trained jointly (default_mlp)
    hidden: int = 0
    mlp_components: int = 64
    mlp_decay: float = 1e-3
    mlp_epochs: int = 400
    mlp_lr: float = 3e-3
    pair_loss: str = "square"  # "square": gaps fitted exactly (as the ridge does); "hinge": at least the gap
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Basis:
    """What a training set fixes before any fit: hinge knots, standardisation, projection."""

    n_mlsp: int
    hinge_index: np.ndarray
    hinge_knot: np.ndarray
    mean: np.ndarray  # of the expanded inputs
    std: np.ndarray
    components: np.ndarray  # n_mlsp x k


def expand(X: np.ndarray, basis: Basis) -> np.ndarray:
    hinges = np.maximum(0.0, X[:, basis.hinge_index] - basis.hinge_knot)
    return np.concatenate([X, hinges.astype(np.float32)], axis=1)


def make_basis(X: np.ndarray, table: JobTable, train: np.ndarray, cfg: CombinedConfig) -> Basis:
    n_tech = len(TECHNICAL_MEASURES)
    n_mlsp = X.shape[1] - n_tech
    pristine = train[table.kind[train] == "pristine"]
    index = np.repeat(np.arange(n_mlsp, X.shape[1]), len(cfg.technical_knots))
    knots = np.concatenate([np.quantile(X[pristine, j].astype(np.float64), cfg.technical_knots) for j in range(n_mlsp, X.shape[1])])
    basis = Basis(n_mlsp, index, knots.astype(np.float32), np.zeros(0), np.zeros(0), np.zeros(0))
    used = train[table.kind[train] != "failure"]
    E = expand(X[used], basis).astype(np.float64)
    basis.mean = E.mean(axis=0)
    std = E.std(axis=0)
    basis.std = np.where(std > 1e-6, std, 1.0)
    photo_rows = train[np.isin(table.kind[train], ("pristine", "crop"))]
    Zm = (X[photo_rows, :n_mlsp].astype(np.float64) - basis.mean[:n_mlsp]) / basis.std[:n_mlsp]
    basis.components = leading_components(Zm, cfg.components, cfg.seed)
    return basis


def leading_components(Z: np.ndarray, k: int, seed: int = 0, power: int = 3) -> np.ndarray:
    """The *k* leading right singular vectors of *Z* (columns), by a seeded randomised range finder
    (Halko et al. 2011): a few products with Z instead of a full eigendecomposition, which costs a
    minute on two busy cores."""
    k = min(k, *Z.shape)
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(Z.T @ (Z @ rng.standard_normal((Z.shape[1], k + 16))))[0]
    for _ in range(power):
        Q = np.linalg.qr(Z.T @ (Z @ Q))[0]
    B = Z @ Q  # n x (k + 16)
    _, _, vt = np.linalg.svd(B, full_matrices=False)
    V = Q @ vt.T[:, :k]
    # a sign convention, so the same data always gives the same basis
    return V * np.where(V[np.abs(V).argmax(axis=0), np.arange(k)] < 0, -1.0, 1.0)


def project(X: np.ndarray, basis: Basis) -> np.ndarray:
    """Rows -> [principal components of the MLSP part, standardised measures and hinges, 1]."""
    Z = (expand(X, basis).astype(np.float64) - basis.mean) / basis.std
    return np.concatenate([Z[:, : basis.n_mlsp] @ basis.components, Z[:, basis.n_mlsp :], np.ones((len(Z), 1))], axis=1)


@dataclass
class Blocks:
    """Per-fold sufficient statistics of each block (G = P'WP, h = P'Wy, total weight), so a fit on
    any union of folds is a sum and one small solve."""

    folds: list[int]
    G: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    h: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    W: dict[str, dict[int, float]] = field(default_factory=dict)
    # for the spread: teacher log-std target on the distil rows
    hs: dict[int, np.ndarray] = field(default_factory=dict)
    levels: dict = field(default_factory=dict)


def teacher_stats(teacher: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = teacher @ RATINGS
    std = np.sqrt(np.clip(teacher @ RATINGS**2 - mean**2, 1e-6, None))
    return mean, std


def build_blocks(P: np.ndarray, table: JobTable, photos: list[Photo], teacher: np.ndarray, train: np.ndarray,
                 cfg: CombinedConfig) -> Blocks:
    t_mean, t_std = teacher_stats(teacher)
    folds = sorted(int(f) for f in np.unique(table.fold[train]))
    blocks = Blocks(folds)
    kind = table.kind
    snap_pristine = train[(kind[train] == "pristine") & ~table.professional[train]]
    median = float(np.median(t_mean[snap_pristine])) if len(snap_pristine) else float(np.median(t_mean[train]))
    blocks.levels = {"snapshot": median, "professional": median + cfg.class_gap, "failure": median - cfg.fail_drop}
    pro_pristine = train[(kind[train] == "pristine") & table.professional[train]]
    groups = np.array([photos[table.photo[r]].group for r in pro_pristine])
    source_size = {g: int((groups == g).sum()) for g in set(groups)}
    pro_weight = {int(r): 1 / np.sqrt(source_size[g]) for r, g in zip(pro_pristine, groups)}
    n_pro, n_snap = len(pro_pristine), len(snap_pristine)
    pro_total = sum(pro_weight.values()) or 1.0
    series: dict[tuple[int, str], dict[int, int]] = {}
    pristine_of = {int(table.photo[r]): int(r) for r in train[kind[train] == "pristine"]}
    for r in train[kind[train] == "damaged"]:
        series.setdefault((int(table.photo[r]), str(table.damage[r])), {})[int(table.strength[r])] = int(r)
    drops = np.asarray(cfg.drops)
    for name in ("distil", "class", "fail", "pairs"):
        blocks.G[name], blocks.h[name], blocks.W[name] = {}, {}, {}
    for f in folds:
        rows = train[table.fold[train] == f]
        # distil
        d = rows[np.isin(kind[rows], DISTIL_KINDS)]
        w = np.where(kind[d] == "damaged", cfg.distil_damaged, 1.0)
        _put(blocks, "distil", f, P[d], t_mean[d], w)
        blocks.hs[f] = (P[d] * w[:, None]).T @ np.log(t_std[d])
        # class
        c = rows[kind[rows] == "pristine"]
        target = np.where(table.professional[c], blocks.levels["professional"], blocks.levels["snapshot"])
        w = np.array([0.5 * pro_weight[int(r)] / pro_total if table.professional[r] else 0.5 / max(1, n_snap) for r in c])
        w = w * max(1, n_pro + n_snap)  # average weight about 1, like the other blocks
        _put(blocks, "class", f, P[c], target, w)
        # fail
        fr = rows[kind[rows] == "failure"]
        _put(blocks, "fail", f, P[fr], np.full(len(fr), blocks.levels["failure"]), np.ones(len(fr)))
        # pairs (no intercept: the last column cancels)
        hi, lo, gap = [], [], []
        for (photo, _), levels in series.items():
            if table.fold[pristine_of.get(photo, next(iter(levels.values())))] != f:
                continue
            chain = ([(-1, pristine_of[photo])] if photo in pristine_of else []) + sorted(levels.items())
            for row_hi, row_lo, target in series_pairs(chain, drops):
                hi.append(row_hi)
                lo.append(row_lo)
                gap.append(target)
        D = P[hi] - P[lo] if hi else np.zeros((0, P.shape[1]))
        _put(blocks, "pairs", f, D, np.asarray(gap, dtype=np.float64), np.ones(len(hi)))
    return blocks


def series_pairs(chain: list[tuple[int, int]], drops: np.ndarray):
    """(higher row, lower row, target gap) for every ordered pair of one damage series: *chain* is
    (strength, row) from the pristine photo (strength -1) up, *drops* the target gap of each strength."""
    for a in range(len(chain)):
        for b in range(a + 1, len(chain)):
            yield chain[a][1], chain[b][1], drops[chain[b][0]] - (drops[chain[a][0]] if chain[a][0] >= 0 else 0.0)


def _put(blocks: Blocks, name: str, fold: int, A: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
    Aw = A * w[:, None]
    blocks.G[name][fold] = Aw.T @ A
    blocks.h[name][fold] = Aw.T @ y
    blocks.W[name][fold] = float(w.sum())


def _penalty(n_cols: int, n_components: int, cfg: CombinedConfig) -> np.ndarray:
    penalty = np.full(n_cols, cfg.technical_ridge)
    penalty[:n_components] = cfg.ridge
    penalty[-1] = 1e-6  # intercept (a tiny penalty keeps a fit of difference rows alone solvable)
    return penalty


def solve(blocks: Blocks, folds: list[int], n_components: int, cfg: CombinedConfig) -> tuple[np.ndarray, np.ndarray]:
    """(score coefficients, log-spread coefficients) in projected space, fitted on *folds*."""
    weights = {"distil": cfg.w_distil, "class": cfg.w_class, "pairs": cfg.w_pairs, "fail": cfg.w_fail}
    n = next(iter(blocks.G["distil"].values())).shape[0]
    A = np.zeros((n, n))
    b = np.zeros(n)
    total_rows = sum(blocks.W["distil"][f] for f in folds)
    for name, weight in weights.items():
        W = sum(blocks.W[name][f] for f in folds)
        if not weight or W <= 0:
            continue
        scale = weight * total_rows / W  # each block weighs *weight* times the distil block as a whole
        A += scale * sum(blocks.G[name][f] for f in folds)
        b += scale * sum(blocks.h[name][f] for f in folds)
    penalty = _penalty(n, n_components, cfg) * total_rows / 1000.0
    beta = np.linalg.solve(A + np.diag(penalty), b)
    Gd = sum(blocks.G["distil"][f] for f in folds)
    hs = sum(blocks.hs[f] for f in folds)
    gamma = np.linalg.solve(Gd + np.diag(penalty), hs)
    return beta, gamma


@dataclass
class Scale:
    """Internal score -> readable scale: score = centre + slope * (s - median of training snapshots)."""

    offset: float
    slope: float

    def __call__(self, s: np.ndarray) -> np.ndarray:
        return self.offset + self.slope * np.asarray(s)


def fit_scale(s_rows: np.ndarray, table: JobTable, rows: np.ndarray, cfg: CombinedConfig) -> Scale:
    """*s_rows*: the internal scores of the training jobs *rows*."""
    pristine = table.kind[rows] == "pristine"
    real_s = s_rows[pristine]
    snap_s = s_rows[pristine & ~table.professional[rows]]
    if not len(snap_s):
        snap_s = real_s
    p5, p95 = np.percentile(real_s, [5, 95])
    slope = cfg.span / max(p95 - p5, 1e-6)
    return Scale(cfg.centre - slope * float(np.median(snap_s)), slope)


def distributions(score: np.ndarray, log_sigma: np.ndarray | None, cfg: CombinedConfig) -> np.ndarray:
    """Discretised Gaussians over 1..10 around *score* with width exp(log_sigma) (or the fixed one)."""
    sigma = np.full(len(score), cfg.fixed_sigma) if log_sigma is None or cfg.spread == "fixed" else np.exp(log_sigma)
    logits = -((RATINGS[None, :] - np.asarray(score)[:, None]) ** 2) / (2 * sigma[:, None] ** 2)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


@dataclass
class Tails:
    """Failure terms: score += sum_j hi_j * max(0, m_j - knot_hi_j) + lo_j * max(0, knot_lo_j - m_j), all <= 0."""

    n_mlsp: int
    knot_lo: np.ndarray
    knot_hi: np.ndarray
    coef_lo: np.ndarray
    coef_hi: np.ndarray

    def features(self, X: np.ndarray) -> np.ndarray:
        m = X[:, self.n_mlsp : self.n_mlsp + len(self.knot_lo)].astype(np.float64)
        return np.concatenate([np.maximum(0.0, m - self.knot_hi), np.maximum(0.0, self.knot_lo - m)], axis=1)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.features(X) @ np.concatenate([self.coef_hi, self.coef_lo])


def fit_tails(X: np.ndarray, score: np.ndarray, table: JobTable, train: np.ndarray, n_mlsp: int, cfg: CombinedConfig) -> Tails:
    """Non-positive tail terms that bring the training failures down to cfg.fail_score (non-negative
    least squares with a ridge, on features scaled by each measure's spread over the training photos)."""
    from scipy.optimize import nnls

    n_tech = X.shape[1] - n_mlsp
    pristine = train[table.kind[train] == "pristine"]
    tech = X[pristine, n_mlsp:].astype(np.float64)
    lo, hi = np.quantile(tech, cfg.tail_quantiles[0], axis=0), np.quantile(tech, cfg.tail_quantiles[1], axis=0)
    spread = np.maximum(hi - lo, 1e-6)
    tails = Tails(n_mlsp, lo, hi, np.zeros(n_tech), np.zeros(n_tech))
    rows = np.concatenate([train[table.kind[train] == "failure"], pristine, train[table.kind[train] == "crop"]])
    if not (table.kind[rows] == "failure").any():
        return tails
    F = tails.features(X[rows]) / np.concatenate([spread, spread])
    target = np.where(table.kind[rows] == "failure", np.minimum(0.0, cfg.fail_score - score[rows]), 0.0)
    A = np.concatenate([F, np.sqrt(cfg.tail_ridge) * np.eye(F.shape[1])])
    b = np.concatenate([-target, np.zeros(F.shape[1])])
    c = nnls(A, b, maxiter=50 * F.shape[1])[0] / np.concatenate([spread, spread])
    tails.coef_hi, tails.coef_lo = -c[:n_tech], -c[n_tech:]
    return tails


@dataclass
class Fitted:
    basis: Basis
    beta: np.ndarray
    gamma: np.ndarray
    scale: Scale
    cfg: CombinedConfig
    tails: Tails | None = None

    def score_and_spread(self, P: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score = self.scale(P @ self.beta)
        if self.tails is not None:
            score = score + self.tails(X)
        return score, P @ self.gamma


def fit(X: np.ndarray, table: JobTable, photos: list[Photo], teacher: np.ndarray, train: np.ndarray, cfg: CombinedConfig,
        basis: Basis | None = None, P: np.ndarray | None = None, blocks: Blocks | None = None,
        folds: list[int] | None = None) -> Fitted:
    """Fit on the jobs *train* (or, given the outer training set's *blocks*, on its *folds*)."""
    if cfg.hidden:
        from photocritic.training.default_mlp import fit_mlp

        return fit_mlp(X, table, photos, teacher, train, cfg, basis, P, blocks, folds)
    if basis is None:
        basis = make_basis(X, table, train, cfg)
    if P is None:
        P = project(X, basis)
    if blocks is None:
        blocks = build_blocks(P, table, photos, teacher, train, cfg)
    folds = blocks.folds if folds is None else folds
    beta, gamma = solve(blocks, folds, basis.components.shape[1], cfg)
    rows = train[np.isin(table.fold[train], folds)]
    scale = fit_scale(P[rows] @ beta, table, rows, cfg)
    score = np.zeros(len(X))
    score[rows] = scale(P[rows] @ beta)
    tails = fit_tails(X, score, table, rows, basis.n_mlsp, cfg)
    return Fitted(basis, beta, gamma, scale, cfg, tails)


@dataclass
class InputLinear:
    """The readable score (scale and tail terms included) as one linear function of a head's
    standardised inputs: hinges (index, knot), standardisation (mean, std), weights ws and constant cs."""

    index: np.ndarray
    knots: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    ws: np.ndarray
    cs: float


def to_inputs(basis: Basis, coef: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients in projected space -> (weights on the standardised expanded inputs, constant)."""
    k = basis.components.shape[1]
    return np.concatenate([basis.components @ coef[:k], coef[k:-1]]), float(coef[-1])


def readable_linear(fitted: Fitted) -> InputLinear:
    b = fitted.basis
    ws, cs = to_inputs(b, fitted.beta)
    ws, cs = ws * fitted.scale.slope, cs * fitted.scale.slope + fitted.scale.offset  # readable score
    # the tail terms: max(0, m - hi) is a hinge; max(0, lo - m) = (lo - m) + max(0, m - lo), a hinge plus
    # the measure's own (linear) column. Tail hinge columns are appended unstandardised (mean 0, std 1)
    t = fitted.tails
    n_tech = len(TECHNICAL_MEASURES)
    tech_cols = np.arange(b.n_mlsp, b.n_mlsp + n_tech)
    if t is None:
        return InputLinear(b.hinge_index, b.hinge_knot, b.mean, b.std, ws, cs)
    index = np.concatenate([b.hinge_index, tech_cols, tech_cols])
    knots = np.concatenate([b.hinge_knot, t.knot_hi, t.knot_lo])
    mean = np.concatenate([b.mean, np.zeros(2 * n_tech)])
    std = np.concatenate([b.std, np.ones(2 * n_tech)])
    ws = np.concatenate([ws, t.coef_hi, t.coef_lo])
    ws[tech_cols] -= t.coef_lo * b.std[tech_cols]  # -coef_lo * m, in standardised units
    cs = cs - float(t.coef_lo @ b.mean[tech_cols]) + float(t.coef_lo @ t.knot_lo)
    return InputLinear(index, knots, mean, std, ws, cs)


def gaussian_output(fitted_cfg: CombinedConfig, wscore: np.ndarray, cscore: float) -> tuple[np.ndarray, np.ndarray]:
    """(weight, bias) of a last linear layer whose logits are a discretised Gaussian of fixed width
    around the score wscore . h + cscore (h: that layer's inputs)."""
    v0 = 1 / (2 * fitted_cfg.fixed_sigma**2)
    r = RATINGS[:, None]
    return r * (2 * v0 * wscore)[None, :], RATINGS * 2 * v0 * cscore - RATINGS**2 * v0


def head_from_fit(fitted: Fitted) -> DistributionHead:
    """A plain linear :class:`DistributionHead` (inputs, hinges, standardisation, one linear layer).

    Its logits are those of a discretised Gaussian, logit_k = r_k u - r_k^2 v (up to a constant), with
    u = score / sigma^2 and v = 1 / (2 sigma^2). Both must be linear in the inputs for the head to stay
    one linear layer, so v is the teacher's precision distilled linearly (from the fitted log-spread,
    to first order around the training mean) and u = 2 v0 score + 2 mean_score (v - v0), exact at the
    typical spread v0; the figures are measured on the head's own output (:func:`head_distributions`)."""
    if getattr(fitted, "mlp", None) is not None:
        from photocritic.training.default_mlp import mlp_head_from_fit

        return mlp_head_from_fit(fitted)
    b = fitted.basis
    lin = readable_linear(fitted)
    ws, cs, mean = lin.ws, lin.cs, lin.mean
    n_tech = len(TECHNICAL_MEASURES)
    n_in = len(mean)
    head = DistributionHead(b.n_mlsp + n_tech, hinges=len(lin.index))
    head.set_hinges(lin.index, lin.knots)
    head.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
    head.feature_std.copy_(torch.as_tensor(lin.std, dtype=torch.float32))
    if fitted.cfg.spread == "fixed":
        v0 = 1 / (2 * fitted.cfg.fixed_sigma**2)
        wv, cv = np.zeros(n_in), v0
        wu, cu = 2 * v0 * ws, 2 * v0 * cs
    else:
        wg, cg = to_inputs(b, fitted.gamma)  # log sigma = wg.z + cg; at the training mean z = 0: log sigma0 = cg
        wg = np.concatenate([wg, np.zeros(n_in - len(wg))])
        v0 = np.exp(-2 * cg) / 2
        wv, cv = -2 * v0 * wg, v0  # d v / d log sigma = -2 v
        wu, cu = 2 * v0 * ws + 2 * cs * wv, 2 * v0 * cs
    r = RATINGS[:, None]
    linear = head.mlp[-1]
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(r * wu[None, :] - r**2 * wv[None, :], dtype=torch.float32))
        linear.bias.copy_(torch.as_tensor(RATINGS * cu - RATINGS**2 * cv, dtype=torch.float32))
    return head.eval()


@torch.inference_mode()
def head_distributions(head: DistributionHead, X: np.ndarray) -> np.ndarray:
    return torch.softmax(head(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).double(), dim=-1).numpy()


def with_overrides(cfg: CombinedConfig, **changes) -> CombinedConfig:
    return replace(cfg, **changes)
