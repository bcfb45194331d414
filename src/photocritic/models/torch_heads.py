"""The heads as PyTorch modules, for training (and Grad-CAM). Scoring runs the NumPy forward of
:class:`photocritic.models.heads.NumpyHead` over the same safetensors weights."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from photocritic.models.distributions import N_BINS


class DistributionHead(nn.Module):
    """Standardise inputs, a small MLP (or a linear layer), 10 logits.

    The standardisation statistics are buffers, saved with the weights, so a bundle is
    self-contained.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: tuple[int, ...] | list[int] = (),
        dropout: float = 0.0,
        batch_norm: bool = False,
        n_bins: int = N_BINS,
        hinges: int = 0,
    ) -> None:
        super().__init__()
        self.hinges = int(hinges)
        if self.hinges:
            # max(0, x[i] - knot): with the linear term, a piecewise-linear response to input i (a
            # measure can then be best in the middle, as exposure is); set by set_hinges
            self.register_buffer("hinge_index", torch.zeros(self.hinges, dtype=torch.long))
            self.register_buffer("hinge_knot", torch.zeros(self.hinges))
        width = in_dim + self.hinges
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))
        layers: list[nn.Module] = []
        for size in hidden:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        if dropout and not hidden:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(width, n_bins))
        self.mlp = nn.Sequential(*layers)

    def set_standardisation(self, features: np.ndarray) -> None:
        """Standardise with the statistics of *features* (raw inputs; their hinge terms are added here)."""
        if self.hinges:
            with torch.no_grad():
                features = self.expand(torch.as_tensor(features, dtype=torch.float32)).numpy()
        mean = features.mean(axis=0)
        std = features.std(axis=0)
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(np.where(std > 1e-6, std, 1.0), dtype=torch.float32))

    def set_hinges(self, index: np.ndarray, knots: np.ndarray) -> None:
        self.hinge_index.copy_(torch.as_tensor(np.asarray(index), dtype=torch.long))
        self.hinge_knot.copy_(torch.as_tensor(np.asarray(knots), dtype=torch.float32))

    def expand(self, x: torch.Tensor) -> torch.Tensor:
        """The inputs with their hinge terms appended (the inputs alone without hinges)."""
        if not self.hinges:
            return x
        return torch.cat([x, torch.relu(x[:, self.hinge_index] - self.hinge_knot)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp((self.expand(x) - self.feature_mean) / self.feature_std)


class LogisticScoreHead(nn.Module):
    """A linear keep/reject score mapped onto the 1-10 scale: p = sigmoid(w.x + b), mean = 1 + 9p.

    The distribution is a discretised normal around that mean, so a personal taste model speaks
    the same language (a 10-bin distribution) as every other model.
    """

    def __init__(self, in_dim: int, sigma: float = 1.5, n_bins: int = N_BINS) -> None:
        super().__init__()
        self.register_buffer("weight", torch.zeros(in_dim))
        self.register_buffer("bias", torch.zeros(()))
        self.sigma = sigma
        self.register_buffer("ratings", torch.arange(1, n_bins + 1, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(x @ self.weight + self.bias)
        mean = 1.0 + (self.ratings.numel() - 1) * p
        return -((self.ratings[None, :] - mean[:, None]) ** 2) / (2 * self.sigma**2)


def emd_loss(logits_or_probs: torch.Tensor, target: torch.Tensor, r: int = 2, from_logits: bool = True) -> torch.Tensor:
    """Earth mover's distance between ordered distributions (Talebi & Milanfar 2018, r=2)."""
    predicted = torch.softmax(logits_or_probs, dim=-1) if from_logits else logits_or_probs
    cdf_diff = torch.cumsum(predicted, dim=-1) - torch.cumsum(target, dim=-1)
    return (cdf_diff.abs().pow(r).mean(dim=-1)).pow(1.0 / r).mean()
