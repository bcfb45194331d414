"""The default model's score with one hidden layer: the linear score plus a small network.

The linear head (:mod:`default_combined`) trades its blocks off against each other: one direction in
feature space has to carry human taste (distil), curated-vs-snapshot (class) and the damage ranking
(pairs) at once. Here the score is

    s(x) = P(x) . beta  +  w2 . relu(W1 p(x) + b1) + b2

where P(x) is the linear head's projected input ([principal components, measures, hinges, 1]) and
p(x) the same, standardised, on the leading ``mlp_components`` components. beta is the ridge
solution (the linear head); the network is trained on top of it, full batch, on the very losses the
ridge minimises (each block's weighted mean squared error, weighed as a whole) plus weight decay,
which pulls it back to the linear head. The scale and the tail terms for obvious failures are fitted after the
score, as for the linear head.

The saved head is still a plain :class:`DistributionHead` (NumPy at scoring time): one hidden layer
of ``hidden`` units plus two that carry the linear part (relu(l) - relu(-l) = l), the projection
folded into the first layer, and a last layer writing a discretised Gaussian around the score.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from photocritic.models.technical import TECHNICAL_MEASURES
from photocritic.training.default_combined import (
    DISTIL_KINDS, Basis, Blocks, CombinedConfig, Fitted, build_blocks, fit_scale, fit_tails, gaussian_output,
    make_basis, project, readable_linear, series_pairs, solve, teacher_stats,
)
from photocritic.training.default_data import Photo
from photocritic.training.default_model import JobTable


@dataclass
class FittedMlp(Fitted):
    mlp: dict | None = None  # W1 (H x p), b1, w2 (H), b2, mu, sd (over the network's inputs), n_pc

    def raw(self, P: np.ndarray) -> np.ndarray:
        """The internal (teacher-scale) score of projected rows."""
        m = self.mlp
        inp = (_mlp_inputs(P, m["n_pc"], self.basis.components.shape[1]) - m["mu"]) / m["sd"]
        return P @ self.beta + np.maximum(inp @ m["W1"].T + m["b1"], 0.0) @ m["w2"] + m["b2"]

    def score_and_spread(self, P: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score = self.scale(self.raw(P))
        if self.tails is not None:
            score = score + self.tails(X)
        return score, np.zeros(len(P))


def _mlp_inputs(P: np.ndarray, n_pc: int, k: int) -> np.ndarray:
    """The network's inputs: the first n_pc principal components and the measures with their hinges."""
    return np.concatenate([P[:, :n_pc], P[:, k:-1]], axis=1)


def training_rows(table: JobTable, photos: list[Photo], t_mean: np.ndarray, rows: np.ndarray, cfg: CombinedConfig) -> dict:
    """The blocks of :func:`default_combined.build_blocks` as rows (indices, targets, weights)."""
    kind = table.kind
    pristine = rows[kind[rows] == "pristine"]
    snap = pristine[~table.professional[pristine]]
    pro = pristine[table.professional[pristine]]
    median = float(np.median(t_mean[snap])) if len(snap) else float(np.median(t_mean[rows]))
    d = rows[np.isin(kind[rows], DISTIL_KINDS)]
    d_w = np.where(kind[d] == "damaged", cfg.distil_damaged, 1.0)
    d, d_w = d[d_w > 0], d_w[d_w > 0]
    groups = np.array([photos[table.photo[r]].group for r in pro])
    size = {g: int((groups == g).sum()) for g in set(groups)}
    pro_w = np.array([1 / np.sqrt(size[g]) for g in groups])
    c_w = np.where(table.professional[pristine], 0.0, 0.5 / max(1, len(snap)))
    c_w[table.professional[pristine]] = 0.5 * pro_w / (pro_w.sum() or 1.0)
    c_t = np.where(table.professional[pristine], median + cfg.class_gap, median)
    pristine_of = {int(table.photo[r]): int(r) for r in pristine}
    series: dict[tuple[int, str], dict[int, int]] = {}
    for r in rows[kind[rows] == "damaged"]:
        series.setdefault((int(table.photo[r]), str(table.damage[r])), {})[int(table.strength[r])] = int(r)
    drops = np.asarray(cfg.drops)
    hi, lo, gap = [], [], []
    for (photo, _), levels in series.items():
        chain = ([(-1, pristine_of[photo])] if photo in pristine_of else []) + sorted(levels.items())
        for row_hi, row_lo, target in series_pairs(chain, drops):
            hi.append(row_hi)
            lo.append(row_lo)
            gap.append(target)
    return {"distil": (d, t_mean[d], d_w), "class": (pristine, c_t, c_w / c_w.sum()),
            "pairs": (np.array(hi, dtype=np.int64), np.array(lo, dtype=np.int64), np.array(gap))}


def fit_mlp(X: np.ndarray, table: JobTable, photos: list[Photo], teacher: np.ndarray, train: np.ndarray,
            cfg: CombinedConfig, basis: Basis | None = None, P: np.ndarray | None = None, blocks: Blocks | None = None,
            folds: list[int] | None = None) -> FittedMlp:
    if basis is None or basis.components.shape[1] != cfg.mlp_components:
        basis = make_basis(X, table, train, replace(cfg, components=cfg.mlp_components))
        P, blocks = None, None
    if P is None:
        P = project(X, basis)
    if blocks is None:
        blocks = build_blocks(P, table, photos, teacher, train, cfg)
    folds = blocks.folds if folds is None else folds
    k = basis.components.shape[1]
    beta0, _ = solve(blocks, folds, k, cfg)  # the linear head: where training starts
    rows = train[np.isin(table.fold[train], folds)]
    t_mean, _ = teacher_stats(teacher)
    terms = training_rows(table, photos, t_mean, rows, cfg)

    used = np.unique(np.concatenate([terms["distil"][0], terms["class"][0], terms["pairs"][0], terms["pairs"][1]]))
    local = np.full(len(X), -1, dtype=np.int64)
    local[used] = np.arange(len(used))
    Pu = P[used]
    inp = _mlp_inputs(Pu, cfg.mlp_components, k)
    mu, sd = inp.mean(axis=0), inp.std(axis=0)
    sd = np.where(sd > 1e-6, sd, 1.0)

    torch.manual_seed(cfg.seed)
    Pt = torch.from_numpy(Pu).float()
    It = torch.from_numpy((inp - mu) / sd).float()
    # beta stays at the ridge solution: Adam's per-coordinate steps would move the principal components'
    # tiny coefficients far off it; the network learns what the linear score leaves, pulled to zero by
    # its weight decay
    beta = torch.from_numpy(beta0).float()
    first = torch.nn.Linear(It.shape[1], cfg.hidden)
    second = torch.nn.Linear(cfg.hidden, 1)
    with torch.no_grad():  # the network starts at zero: training starts from the linear head
        second.weight.zero_()
        second.bias.zero_()

    def t(a, dtype=torch.float32):
        return torch.as_tensor(np.asarray(a), dtype=dtype)

    d_i, d_y, d_w = (t(local[terms["distil"][0]], torch.long), t(terms["distil"][1]), t(terms["distil"][2]))
    c_i, c_y, c_w = (t(local[terms["class"][0]], torch.long), t(terms["class"][1]), t(terms["class"][2]))
    p_hi, p_lo, p_gap = (t(local[terms["pairs"][0]], torch.long), t(local[terms["pairs"][1]], torch.long), t(terms["pairs"][2]))
    optimiser = torch.optim.Adam([*first.parameters(), *second.parameters()], lr=cfg.mlp_lr)
    for _ in range(cfg.mlp_epochs):
        optimiser.zero_grad()
        s = Pt @ beta + second(torch.relu(first(It))).squeeze(1)
        loss = cfg.w_distil * (d_w * (s[d_i] - d_y) ** 2).sum() / d_w.sum()
        loss = loss + cfg.w_class * (c_w * (s[c_i] - c_y) ** 2).sum()
        if len(p_hi) and cfg.w_pairs:
            diff = s[p_hi] - s[p_lo] - p_gap
            loss = loss + cfg.w_pairs * (torch.relu(-diff) if cfg.pair_loss == "hinge" else diff).pow(2).mean()
        loss = loss + cfg.mlp_decay * (first.weight.pow(2).sum() + second.weight.pow(2).sum())
        loss.backward()
        optimiser.step()

    mlp = {"W1": first.weight.detach().double().numpy(), "b1": first.bias.detach().double().numpy(),
           "w2": second.weight.detach().double().numpy()[0], "b2": float(second.bias.detach()),
           "mu": mu, "sd": sd, "n_pc": cfg.mlp_components}
    fitted = FittedMlp(basis, beta0, np.zeros_like(beta0), None, cfg, None, mlp)
    raw = fitted.raw(P[rows])
    fitted.scale = fit_scale(raw, table, rows, cfg)
    score = np.zeros(len(X))
    score[rows] = fitted.scale(raw)
    fitted.tails = fit_tails(X, score, table, rows, basis.n_mlsp, cfg)
    return fitted


def mlp_head_from_fit(fitted: FittedMlp):
    """A :class:`DistributionHead` with one hidden layer: the network's units, then two units carrying
    the linear part (scale and tail terms included), then a fixed-width Gaussian around the score."""
    from photocritic.models.torch_heads import DistributionHead

    b, m = fitted.basis, fitted.mlp
    lin = readable_linear(fitted)  # the linear part of the readable score, on the head's standardised inputs
    n_in = len(lin.mean)
    k = b.components.shape[1]
    n_rest = len(b.mean) - b.n_mlsp  # measures and their hinges
    # the network's inputs as a linear map of the head's standardised inputs z: [first n_pc PCs, measures, hinges]
    A = np.zeros((m["n_pc"] + n_rest, n_in))
    A[: m["n_pc"], : b.n_mlsp] = b.components[:, : m["n_pc"]].T
    A[m["n_pc"] :, b.n_mlsp : b.n_mlsp + n_rest] = np.eye(n_rest)
    W1 = (m["W1"] / m["sd"][None, :]) @ A
    b1 = m["b1"] - m["W1"] @ (m["mu"] / m["sd"])
    slope = fitted.scale.slope
    hidden_w = np.concatenate([W1, lin.ws[None, :], -lin.ws[None, :]])
    hidden_b = np.concatenate([b1, [lin.cs, -lin.cs]])
    out_w = np.concatenate([slope * m["w2"], [1.0, -1.0]])
    out_b = slope * m["b2"]
    head = DistributionHead(b.n_mlsp + len(TECHNICAL_MEASURES), hidden=(len(hidden_b),), hinges=len(lin.index))
    head.set_hinges(lin.index, lin.knots)
    weight, bias = gaussian_output(fitted.cfg, out_w, out_b)
    with torch.no_grad():
        head.feature_mean.copy_(torch.as_tensor(lin.mean, dtype=torch.float32))
        head.feature_std.copy_(torch.as_tensor(lin.std, dtype=torch.float32))
        head.mlp[0].weight.copy_(torch.as_tensor(hidden_w, dtype=torch.float32))
        head.mlp[0].bias.copy_(torch.as_tensor(hidden_b, dtype=torch.float32))
        head.mlp[-1].weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        head.mlp[-1].bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return head.eval()
