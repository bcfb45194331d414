"""The model zoo: named models shipped in the package, or any bundle folder on disk.

A bundle is a folder with ``config.json`` (what the head reads and how it is built),
``weights.safetensors`` (the head, standardisation included) and ``MODEL_CARD.md``.
Never a pickle: safetensors holds only tensors, so loading a stranger's model runs no code.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from photocritic.models.backbone import BACKBONES
from photocritic.models.heads import DistributionHead, LogisticScoreHead
from photocritic.models.technical import TECHNICAL_MEASURES

ZOO_DIR = Path(__file__).resolve().parent.parent / "zoo"
BUNDLE_FORMAT = "photocritic-model"
# "base_score": the mean score of another model (config "base_model"), e.g. a taste model on top of default
FEATURE_GROUPS = ("mlsp", "technical", "base_score")


class ModelError(Exception):
    """A model name or bundle that cannot be used."""


@dataclass
class ScoringModel:
    """A head over backbone features and/or technical measures, producing 10-bin distributions."""

    name: str
    config: dict
    head: torch.nn.Module
    path: Path | None = None
    fingerprint: str = ""
    base: "ScoringModel | None" = None  # the model behind "base_score" inputs and "blend"

    @property
    def backbone(self) -> str:
        return self.config.get("backbone") or "efficientnet-lite0"

    @property
    def inputs(self) -> list[str]:
        return list(self.config["inputs"])

    @property
    def technical_measures(self) -> list[str]:
        """The technical measures the head reads, in its column order (a bundle trained by an older
        version may read fewer than this version computes)."""
        return list(self.config.get("technical_measures", TECHNICAL_MEASURES))

    @property
    def needs_backbone(self) -> bool:
        return "mlsp" in self.inputs or (self.base is not None and self.base.needs_backbone)

    @property
    def card(self) -> str:
        if self.path and (self.path / "MODEL_CARD.md").is_file():
            return (self.path / "MODEL_CARD.md").read_text(encoding="utf-8")
        return ""

    def head_inputs(self, features: np.ndarray | None, technical: np.ndarray) -> np.ndarray:
        """*technical* holds every measure of :data:`TECHNICAL_MEASURES`, in that order."""
        parts = []
        technical = np.asarray(technical, dtype=np.float32)
        own = self.technical_measures
        if own != list(TECHNICAL_MEASURES):
            technical = technical[:, [TECHNICAL_MEASURES.index(name) for name in own]]
        for group in self.inputs:
            if group == "mlsp":
                if features is None:
                    raise ModelError(f"model {self.name!r} needs backbone features")
                parts.append(np.asarray(features, dtype=np.float32))
            elif group == "technical":
                parts.append(np.asarray(technical, dtype=np.float32))
            elif group == "base_score":
                base = self.base.predict_distribution(features, technical)
                parts.append((base @ np.arange(1, base.shape[1] + 1))[:, None].astype(np.float32))
        return np.concatenate(parts, axis=1)

    @torch.inference_mode()
    def predict_distribution(self, features: np.ndarray | None, technical: np.ndarray) -> np.ndarray:
        """N x 10 probabilities for ratings 1..10."""
        x = torch.from_numpy(self.head_inputs(features, technical))
        own = torch.softmax(self.head(x).double(), dim=-1).numpy()
        weight = float(self.config.get("blend", {}).get("weight", 0.0))
        if weight <= 0:
            return own
        # blend = share of the base model in the final distribution ("--blend 0.5": half and half)
        return (1 - weight) * own + weight * self.base.predict_distribution(features, technical)


def _input_dim(config: dict) -> int:
    dim = 0
    for group in config["inputs"]:
        if group not in FEATURE_GROUPS:
            raise ModelError(f"unknown input group {group!r} (known: {', '.join(FEATURE_GROUPS)})")
        if group == "mlsp":
            backbone = config.get("backbone") or "efficientnet-lite0"
            if backbone not in BACKBONES:
                raise ModelError(f"unknown backbone {backbone!r}")
            dim += BACKBONES[backbone].feature_dim
        elif group == "technical":
            dim += len(config.get("technical_measures", TECHNICAL_MEASURES))
        else:
            dim += 1
    return dim


def build_head(config: dict) -> torch.nn.Module:
    spec = config.get("head", {})
    if spec.get("type") == "logistic":
        return LogisticScoreHead(_input_dim(config), sigma=float(spec.get("sigma", 1.5)))
    return DistributionHead(
        _input_dim(config),
        hidden=tuple(spec.get("hidden", ())),
        dropout=float(spec.get("dropout", 0.0)),
        batch_norm=bool(spec.get("batch_norm", False)),
        hinges=int(spec.get("hinges", 0)),
    )


def available_models() -> list[str]:
    if not ZOO_DIR.is_dir():
        return []
    return sorted(p.name for p in ZOO_DIR.iterdir() if (p / "config.json").is_file())


def resolve_bundle_dir(name_or_path: str | os.PathLike) -> Path:
    candidate = Path(name_or_path).expanduser()
    if str(name_or_path) in available_models() and not candidate.exists():
        return ZOO_DIR / str(name_or_path)
    if (candidate / "model" / "config.json").is_file() and not (candidate / "weights.safetensors").is_file():
        return candidate / "model"  # a training run folder: its own config.json is the training config
    for folder in (candidate, candidate / "model"):  # a training run folder holds its bundle in model/
        if (folder / "config.json").is_file():
            return folder
    known = ", ".join(available_models()) or "none"
    raise ModelError(f"no model named or found at {str(name_or_path)!r} (built-in models: {known})")


def load_model(name_or_path: str | os.PathLike = "default", _depth: int = 0) -> ScoringModel:
    """Load a built-in model by name, or a bundle folder by path."""
    if isinstance(name_or_path, ScoringModel):
        return name_or_path
    folder = resolve_bundle_dir(name_or_path)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"unreadable model config in {folder}: {exc}") from None
    if config.get("format") != BUNDLE_FORMAT:
        raise ModelError(f"{folder} is not a photocritic model bundle (config.json has no format {BUNDLE_FORMAT!r})")
    unknown = [m for m in config.get("technical_measures", ()) if m not in TECHNICAL_MEASURES]
    if unknown:
        raise ModelError(f"model {folder} reads technical measures this version does not compute: {', '.join(map(str, unknown))}")
    if config.get("backbone_weights"):  # a fine-tuned backbone ships in the bundle (photocritic train, phase 2)
        from photocritic.models.backbone import register_finetuned_backbone

        backbone_file = folder / str(config["backbone_weights"])
        if not backbone_file.is_file() or backbone_file.parent != folder:
            raise ModelError(f"model {folder} names a backbone weights file it does not hold: {config['backbone_weights']!r}")
        digest_of_backbone = hashlib.sha256(backbone_file.read_bytes()).hexdigest()[:12]
        config = {**config, "backbone": register_finetuned_backbone(config.get("backbone") or "efficientnet-lite0", backbone_file, digest_of_backbone)}
    head = build_head(config)
    weights = folder / "weights.safetensors"
    try:
        state = load_file(str(weights))
        head.load_state_dict(state)
    except Exception as exc:  # safetensors raises its own error type for a corrupt header
        raise ModelError(f"cannot load weights {weights}: {str(exc).splitlines()[0]}") from None
    head.eval()
    digest = hashlib.sha256(weights.read_bytes() + json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    name = config.get("name") or folder.name
    base = None
    if "base_score" in config["inputs"] or config.get("blend"):
        base_name = config.get("base_model") or config.get("blend", {}).get("model") or "default"
        if _depth > 3:
            raise ModelError(f"model {folder} stacks base models too deep")
        base = load_model(base_name, _depth=_depth + 1)
        if base.backbone != (config.get("backbone") or "efficientnet-lite0"):
            raise ModelError(f"model {folder} and its base model {base_name!r} use different backbones")
        digest += "+" + base.fingerprint.rsplit("-", 1)[-1][:8]
    return ScoringModel(name=name, config=config, head=head, path=folder, fingerprint=f"{name}-{digest}", base=base)


def save_bundle(folder: str | os.PathLike, config: dict, head: DistributionHead, card: str) -> Path:
    """Write a bundle: config.json, weights.safetensors and MODEL_CARD.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"format": BUNDLE_FORMAT, "format_version": 1, "technical_measures": list(TECHNICAL_MEASURES), **config}
    state = {k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}
    save_file(state, str(folder / "weights.safetensors"))
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return folder
