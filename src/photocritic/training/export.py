"""Turn a trained head into a model bundle that ``photocritic score`` loads like any other.

Every bundle head produces 10 logits. A distribution head is stored as it is. The other two are
rewritten exactly into that form:

* regression (a mean m): logits_k = (r_k m) / s^2 - r_k^2 / (2 s^2), a discretised normal of width s
  around m (the m^2 term is the same for every bin and cancels in the softmax), so the last linear
  layer stays linear;
* binary (a logit z): logits_k = z for ratings 6..10 and 0 for 1..5, so the probability mass above 5
  is exactly sigmoid(z), and the mean score is 3 + 5 sigmoid(z).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from photocritic.models.heads import RATINGS, DistributionHead
from photocritic.models.zoo import save_bundle
from photocritic.training.config import TrainConfig


def to_distribution_head(head: DistributionHead, config: TrainConfig, in_dim: int, sigma: float = 1.5) -> DistributionHead:
    out = DistributionHead(in_dim, hidden=tuple(config.hidden), dropout=config.dropout, batch_norm=config.batch_norm)
    state = {k: v.clone() for k, v in head.state_dict().items()}
    last = f"mlp.{len(head.mlp) - 1}"
    w, b = state[f"{last}.weight"].double(), state[f"{last}.bias"].double()
    r = torch.as_tensor(RATINGS, dtype=torch.float64)
    if config.head == "regression":
        state[f"{last}.weight"] = (r[:, None] * w / sigma**2).float()
        state[f"{last}.bias"] = (r * b / sigma**2 - r**2 / (2 * sigma**2)).float()
    elif config.head == "binary":
        upper = (r > 5).double()
        state[f"{last}.weight"] = (upper[:, None] * w).float()
        state[f"{last}.bias"] = (upper * b).float()
    out.load_state_dict(state)
    return out.eval()


def model_card(name: str, config: TrainConfig, dataset: str, metrics: dict, counts: dict, notes: list[str],
               kind: str = "ratings") -> str:
    """The bundle's card; good/bad folders get the figures that classes allow (no rating correlations)."""
    def fmt(v):
        return "-" if v is None or v != v else (f"{v:.4f}" if isinstance(v, float) else str(v))

    classes = kind == "good/bad"
    rows = "\n".join(f"| {k} | {fmt(v)} |" for k, v in metrics.items() if k != "n" and not (classes and fmt(v) == "-"))
    loss = ("EMD loss, NIMA" if config.head == "distribution" else "MSE on the mean" if config.head == "regression"
            else "cross-entropy, good = the good/ folder" if classes else f"cross-entropy, good = mean > {config.threshold:g}")
    see = "intervals and the majority-class baseline" if classes else (
        "intervals, naive baselines and published AVA results" if kind == "ava" else "intervals and naive baselines")
    return f"""# {name}

Trained by `photocritic train` (photocritic.training) on {dataset}.

* head: {config.head} ({loss}), hidden layers {config.hidden or 'none'}, dropout {config.dropout}, batch norm {config.batch_norm}
* backbone: {config.backbone} (MLSP features); phase 1 {config.epochs} epochs on cached features, phase 2 (whole net) {config.finetune_epochs} epochs
* photos: {counts.get('train', 0)} train, {counts.get('val', 0)} validation, {counts.get('test', 0)} test; {counts.get('left_out', 0)} left out (unreadable or missing)
* seed {config.seed}

## Measured on the held-out test split ({metrics.get('n', 0)} photos)

| metric | value |
|---|---|
{rows}

{chr(10).join('* ' + n for n in notes)}

See `evaluation-test.md` in the run folder for {see}.
"""


def export_bundle(folder: Path, head: DistributionHead, config: TrainConfig, in_dim: int, name: str, card: str,
                  sigma: float = 1.5, backbone: torch.nn.Module | None = None) -> Path:
    """Write ``folder`` as a bundle; with a fine-tuned ``backbone`` its weights travel in the bundle."""
    bundle_config = {
        "name": name,
        "backbone": config.backbone,
        "inputs": ["mlsp"],
        "head": {"type": "distribution", "hidden": list(config.hidden), "dropout": config.dropout, "batch_norm": config.batch_norm},
        "trained_as": config.head,
        "training": json.loads(config.to_json()),
    }
    if config.head == "regression":
        bundle_config["head"]["regression_sigma"] = sigma
    if backbone is not None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in backbone.state_dict().items()}, str(folder / "backbone.safetensors"))
        bundle_config["backbone_weights"] = "backbone.safetensors"
    return save_bundle(folder, bundle_config, to_distribution_head(head, config, in_dim, sigma), card)
