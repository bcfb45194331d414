"""Fit the default's three outputs: ``quality_score``, ``aesthetic_score`` and ``score``.

All three are linear in one vector per photo: the backbone's 2048 MLSP features, the 13 technical
measures and hinge terms max(0, measure - knot) at the 2nd, 25th, 50th, 75th and 98th percentiles of
each measure over the training photos. Each is fitted in closed form (weighted ridge regression on
standardised inputs, a lighter penalty on the measures and hinges than on the MLSP features) to
blocks of rows, each block weighed as a whole:

``quality_score``  what people rate: BIQ2021's train photos, target the opinion score on the 1-10 scale
                   (1 + 9 x MOS); the damage ranking (RankIQA): within each (photo, damage) series the
                   differences pristine - mild - moderate - strong, target gaps of :data:`GAPS`; and
                   monochrome invariance: a photo minus its greyscale copy, target 0.
``aesthetic_score`` what AVA's voters like, borrowed: nima-ava's mean rating on every photo it saw (BIQ2021's
                   12,000 and their greyscale copies, the project's photos, their crops).
``score``          ``quality_weight`` x quality + (1 - quality_weight) x appeal, each first divided by its
                   spread over the photos below, then stretched so their median lies at
                   5.5 and their 5th-95th percentiles :data:`SPAN` points apart (the project's photos:
                   snapshots and curated work, the mix a user's library holds).

The *failure tails* come last, for each output on its own: non-negative penalties on how far each
measure lies beyond its 2nd or 98th percentile (darker than almost any real photo, noisier, flatter...),
fitted (non-negative least squares) so obvious failures fall below the real photos' 2nd percentile
while real photos stay where they were. Being hinge terms, they are part of the same linear outputs.

The head written to the bundle computes all three at once: 10 logits of a discretised Gaussian of
fixed width around ``score`` (the rating distribution), then the two sub-scores.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy.optimize import nnls

from photocritic.models.heads import RATINGS
from photocritic.models.technical import TECHNICAL_MEASURES

N_MLSP = 2048
N_TECH = len(TECHNICAL_MEASURES)
KNOT_QUANTILES = (0.02, 0.25, 0.5, 0.75, 0.98)
#: target gaps between consecutive steps pristine > mild > moderate > strong, in rating points
GAPS = (0.4, 0.8, 1.4)
SPAN = 3.1  # the real photos' 5th-95th percentile span of ``score``
CENTRE = 5.5  # where their median lies
SIGMA = 1.5  # width of the rating distribution around ``score``


@dataclass(frozen=True)
class FitConfig:
    ridge: float = 1.0  # L2 penalty on the standardised MLSP columns (the blocks' rows weigh 1, w_pairs, w_grey in all)
    ridge_measures: float = 0.1  # on the measures and hinges
    w_pairs: float = 0.3  # the damage ranking's block, against BIQ2021's (1)
    w_grey: float = 0.1  # the monochrome-invariance block
    ridge_aesthetic: float = 0.3  # the MLSP penalty of ``aesthetic_score``
    w_own_taught: float = 1.0  # the project's pictures in the distillation, against BIQ2021's (1)
    quality_weight: float = 0.6  # quality's share of ``score``
    tail_keep: float = 1.0  # how much keeping real photos where they are weighs in the tails' fit, against the failures

    def describe(self) -> dict:
        return asdict(self)


@dataclass
class Block:
    """Rows of one kind for one output: *A* standardised inputs (or differences of them), *y* targets;
    *absolute* rows carry the intercept, differences do not."""

    A: np.ndarray
    y: np.ndarray
    absolute: bool = True


@dataclass
class Expansion:
    """Raw inputs (MLSP + measures) -> hinge-expanded inputs, and their standardisation."""

    hinge_index: np.ndarray  # which raw column each hinge reads
    hinge_knot: np.ndarray
    mean: np.ndarray  # of the expanded columns over the training photos
    std: np.ndarray

    def expand(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return np.concatenate([X, np.maximum(X[:, self.hinge_index] - self.hinge_knot, 0)], axis=1)

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (self.expand(X) - self.mean) / self.std


def raw_inputs(mlsp: np.ndarray, technical: np.ndarray) -> np.ndarray:
    """What the head reads: float16-rounded MLSP features (as the catalog stores them) and measures."""
    return np.concatenate([np.asarray(mlsp, np.float16).astype(np.float64), np.asarray(technical, np.float64)], axis=1)


def make_expansion(X_train: np.ndarray) -> Expansion:
    tech = X_train[:, N_MLSP:]
    index, knots = [], []
    for m in range(N_TECH):
        for q in KNOT_QUANTILES:
            index.append(N_MLSP + m)
            knots.append(float(np.quantile(tech[:, m], q)))
    expansion = Expansion(np.array(index), np.array(knots), np.zeros(0), np.zeros(0))
    E = expansion.expand(X_train)
    std = E.std(axis=0)
    # a hinge is measured in its measure's units (a knot near the edge leaves a hinge almost constant
    # over the training photos, and a photo beyond it would get an enormous standardised value); an MLSP
    # feature almost constant over the training photos gets at least a tenth of their typical spread
    std[N_MLSP + N_TECH:] = std[expansion.hinge_index]
    std[:N_MLSP] = np.maximum(std[:N_MLSP], 0.1 * np.median(std[:N_MLSP]))
    expansion.mean, expansion.std = E.mean(axis=0), np.maximum(std, 1e-6)
    return expansion


@dataclass
class Gram:
    """One block's normal equations (A'A/n, A'y/n) over standardised columns plus an intercept column
    (1 for absolute rows, 0 for differences, where it cancels)."""

    AtA: np.ndarray
    Aty: np.ndarray

    @classmethod
    def of(cls, block: Block) -> "Gram":
        A = np.concatenate([block.A, np.full((len(block.A), 1), 1.0 if block.absolute else 0.0)], axis=1)
        n = max(1, len(block.y))
        return cls(A.T @ A / n, A.T @ block.y / n)


def solve(grams: list[tuple[Gram, float]], cfg: FitConfig) -> tuple[np.ndarray, float]:
    """Weighted ridge over standardised columns, each block weighing its weight in all: coefficients
    and intercept."""
    n = grams[0][0].AtA.shape[0]
    G = np.zeros((n, n))
    b = np.zeros(n)
    for gram, weight in grams:
        G += weight * gram.AtA
        b += weight * gram.Aty
    penalty = np.full(n, cfg.ridge_measures)
    penalty[:N_MLSP] = cfg.ridge
    penalty[-1] = 0.0
    coef = np.linalg.solve(G + np.diag(penalty), b)
    return coef[:-1], float(coef[-1])


def chain_pairs(Z: np.ndarray, series: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Difference rows pristine - mild, mild - moderate, moderate - strong (and pristine - each level)
    for each series [pristine row, mild, moderate, strong], with their target gaps."""
    rows, targets = [], []
    for chain in series:
        for i in range(len(chain)):
            for j in range(i + 1, len(chain)):
                rows.append(Z[chain[i]] - Z[chain[j]])
                targets.append(sum(GAPS[i:j]))
    if not rows:
        return np.zeros((0, Z.shape[1])), np.zeros(0)
    return np.stack(rows), np.array(targets)


@dataclass
class Linear:
    """An output as a linear function of standardised inputs, plus the failure tails (raw units)."""

    coef: np.ndarray
    intercept: float
    tails: np.ndarray | None = None  # non-negative, one per tail column (see tail_columns)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """The output before its tails."""
        return Z @ self.coef + self.intercept


def tail_columns(X: np.ndarray, expansion: Expansion) -> np.ndarray:
    """How far each measure lies below its 2nd / above its 98th percentile: N x 2*N_TECH."""
    tech = np.asarray(X, np.float64)[:, N_MLSP:]
    low = np.array([expansion.hinge_knot[m * len(KNOT_QUANTILES)] for m in range(N_TECH)])
    high = np.array([expansion.hinge_knot[m * len(KNOT_QUANTILES) + len(KNOT_QUANTILES) - 1] for m in range(N_TECH)])
    return np.concatenate([np.maximum(low - tech, 0), np.maximum(tech - high, 0)], axis=1)


def fit_tails(values_real: np.ndarray, T_real: np.ndarray, values_fail: np.ndarray, T_fail: np.ndarray,
              keep: float = 1.0) -> np.ndarray:
    """Non-negative tail penalties: failures pushed below the real photos' 2nd percentile, real photos
    (whose tail columns are mostly 0) kept where they are; *keep*: the second's weight against the first."""
    target = float(np.percentile(values_real, 2)) - 0.5
    need = np.maximum(values_fail - target, 0)
    scale = np.maximum(np.abs(np.concatenate([T_real, T_fail])).max(axis=0), 1e-9)
    A = np.concatenate([T_fail, T_real * np.sqrt(keep * len(T_fail) / max(1, len(T_real)))]) / scale
    y = np.concatenate([need, np.zeros(len(T_real))])
    coef, _ = nnls(A, y, maxiter=50 * A.shape[1])
    return coef / scale


@dataclass
class Scale:
    """``score`` = centre + stretch * (w * quality / sd_q + (1 - w) * appeal / sd_a - mid)."""

    quality_weight: float
    sd_quality: float
    sd_aesthetic: float
    mid: float
    stretch: float

    def combine(self, quality: np.ndarray, aesthetic: np.ndarray) -> np.ndarray:
        mix = self.quality_weight * quality / self.sd_quality + (1 - self.quality_weight) * aesthetic / self.sd_aesthetic
        return CENTRE + self.stretch * (mix - self.mid)


def fit_scale(quality: np.ndarray, aesthetic: np.ndarray, quality_weight: float) -> Scale:
    scale = Scale(quality_weight, float(np.std(quality)), float(np.std(aesthetic)), 0.0, 1.0)
    mix = scale.combine(quality, aesthetic) - CENTRE
    p5, p50, p95 = np.percentile(mix, [5, 50, 95])
    scale.mid, scale.stretch = float(p50), SPAN / float(p95 - p5)
    return scale


@dataclass
class Fitted:
    cfg: FitConfig
    expansion: Expansion
    quality: Linear
    aesthetic: Linear
    scale: Scale
    score_tails: np.ndarray

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """``quality_score``, ``aesthetic_score``, ``score`` for raw inputs (N x 2061)."""
        Z, T = self.expansion.standardise(X), tail_columns(X, self.expansion)
        q, a = self.quality(Z), self.aesthetic(Z)
        score = self.scale.combine(q, a) - T @ self.score_tails
        return {"quality_score": q - T @ self.quality.tails, "aesthetic_score": a - T @ self.aesthetic.tails, "score": score}


@dataclass
class TrainingRows:
    """Everything one fit learns from, as raw inputs and targets (see the module docstring)."""

    X_rated: np.ndarray  # BIQ2021 train photos
    rating: np.ndarray  # their opinion scores, 1-10
    X_taught: np.ndarray  # BIQ2021 pictures nima-ava saw
    teacher_mean: np.ndarray
    X_taught_own: np.ndarray  # the project's pictures nima-ava saw
    teacher_mean_own: np.ndarray
    X_series: np.ndarray  # pictures of the damage series
    series: list[list[int]]  # rows of X_series: [pristine, mild, moderate, strong]
    X_grey_pairs: np.ndarray  # 2N rows: N photos then their N greyscale copies
    X_real: np.ndarray  # real photos as they are (the tails leave them where they are)
    X_scale: np.ndarray  # the photos whose spread sets the scale of ``score`` (the project's own)
    X_fail: np.ndarray  # obvious failures


@dataclass
class Prepared:
    """What every fit on the same rows shares, whatever its settings: the expansion, each block's
    normal equations, the real photos' and failures' inputs."""

    expansion: Expansion
    rated: Gram
    pairs: Gram
    grey: Gram
    taught: Gram
    taught_own: Gram
    Z_real: np.ndarray
    T_real: np.ndarray
    Z_scale: np.ndarray
    Z_fail: np.ndarray
    T_fail: np.ndarray


def prepare(rows: TrainingRows) -> Prepared:
    expansion = make_expansion(np.concatenate([rows.X_rated, rows.X_real]))
    Zg = expansion.standardise(rows.X_grey_pairs)
    half = len(Zg) // 2
    pairs_A, pairs_y = chain_pairs(expansion.standardise(rows.X_series), rows.series)
    return Prepared(
        expansion,
        Gram.of(Block(expansion.standardise(rows.X_rated), rows.rating)),
        Gram.of(Block(pairs_A, pairs_y, absolute=False)),
        Gram.of(Block(Zg[:half] - Zg[half:], np.zeros(half), absolute=False)),
        Gram.of(Block(expansion.standardise(rows.X_taught), rows.teacher_mean)),
        Gram.of(Block(expansion.standardise(rows.X_taught_own), rows.teacher_mean_own)),
        expansion.standardise(rows.X_real), tail_columns(rows.X_real, expansion), expansion.standardise(rows.X_scale),
        expansion.standardise(rows.X_fail), tail_columns(rows.X_fail, expansion),
    )


def fit(rows: TrainingRows | Prepared, cfg: FitConfig) -> Fitted:
    prep = rows if isinstance(rows, Prepared) else prepare(rows)
    quality = Linear(*solve([(prep.rated, 1.0), (prep.pairs, cfg.w_pairs), (prep.grey, cfg.w_grey)], cfg))
    aesthetic = Linear(*solve([(prep.taught, 1.0), (prep.taught_own, cfg.w_own_taught)], replace(cfg, ridge=cfg.ridge_aesthetic)))
    q_real, a_real = quality(prep.Z_real), aesthetic(prep.Z_real)
    q_fail, a_fail = quality(prep.Z_fail), aesthetic(prep.Z_fail)
    scale = fit_scale(quality(prep.Z_scale), aesthetic(prep.Z_scale), cfg.quality_weight)
    quality.tails = fit_tails(q_real, prep.T_real, q_fail, prep.T_fail, cfg.tail_keep)
    aesthetic.tails = fit_tails(a_real, prep.T_real, a_fail, prep.T_fail, cfg.tail_keep)
    s_real, s_fail = scale.combine(q_real, a_real), scale.combine(q_fail, a_fail)
    return Fitted(cfg, prep.expansion, quality, aesthetic, scale, fit_tails(s_real, prep.T_real, s_fail, prep.T_fail, cfg.tail_keep))


def _raw_linear(fitted: Fitted, coef: np.ndarray, intercept: float, tails: np.ndarray) -> tuple[np.ndarray, float]:
    """An output as weights on the expanded raw columns (what the bundle's head reads) and a bias."""
    e = fitted.expansion
    w = coef / e.std
    bias = intercept - float(w @ e.mean)
    # tails: low_m = max(0, k2 - m) = hinge(m, k2) - (m - k2); high_m = hinge(m, k98)
    k = len(KNOT_QUANTILES)
    for m in range(N_TECH):
        low, high = tails[m], tails[N_TECH + m]
        w[N_MLSP + N_TECH + m * k] -= low  # the hinge at the 2nd percentile
        w[N_MLSP + m] += low
        bias -= low * e.hinge_knot[m * k]
        w[N_MLSP + N_TECH + m * k + k - 1] -= high  # the hinge at the 98th percentile
    return w, bias


def head_tensors(fitted: Fitted) -> dict[str, np.ndarray]:
    """The bundle's head (see :class:`photocritic.models.heads.NumpyHead`): hinges, no standardisation
    (folded into the weights), one linear layer with 12 outputs: the 10 logits of ``score``'s
    distribution, then ``quality_score`` and ``aesthetic_score``."""
    e = fitted.expansion
    wq, bq = _raw_linear(fitted, fitted.quality.coef, fitted.quality.intercept, fitted.quality.tails)
    wa, ba = _raw_linear(fitted, fitted.aesthetic.coef, fitted.aesthetic.intercept, fitted.aesthetic.tails)
    sc = fitted.scale
    cq = sc.stretch * sc.quality_weight / sc.sd_quality
    ca = sc.stretch * (1 - sc.quality_weight) / sc.sd_aesthetic
    zero_tails = np.zeros(2 * N_TECH)
    wq0, bq0 = _raw_linear(fitted, fitted.quality.coef, fitted.quality.intercept, zero_tails)
    wa0, ba0 = _raw_linear(fitted, fitted.aesthetic.coef, fitted.aesthetic.intercept, zero_tails)
    wt, bt = _raw_linear(fitted, np.zeros_like(fitted.quality.coef), 0.0, fitted.score_tails)
    ws = cq * wq0 + ca * wa0 + wt
    bs = CENTRE - sc.stretch * sc.mid + cq * bq0 + ca * ba0 + bt
    r = RATINGS
    W = np.concatenate([(r / SIGMA**2)[:, None] * ws[None, :], wq[None, :], wa[None, :]])
    B = np.concatenate([(r / SIGMA**2) * bs - r**2 / (2 * SIGMA**2), [bq, ba]])
    width = len(e.mean)
    return {
        "hinge_index": e.hinge_index.astype(np.int64),
        "hinge_knot": e.hinge_knot.astype(np.float64),
        "feature_mean": np.zeros(width),
        "feature_std": np.ones(width),
        "mlp.0.weight": W,
        "mlp.0.bias": B,
    }
