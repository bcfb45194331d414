"""Running photocritic beyond one machine: scoring and feature extraction on a Ray cluster.

Needs the ``ray`` extra (``pip install 'photocritic[ray]'``). See docs/scaling.md.
"""
from __future__ import annotations

from photocritic.distributed.ray_scoring import (
    RayEmbedder,
    RayRunStats,
    RayScorer,
    RayUnavailable,
    embed_files_on_ray,
    score_on_ray,
)

__all__ = ["RayEmbedder", "RayRunStats", "RayScorer", "RayUnavailable", "embed_files_on_ray", "score_on_ray"]
