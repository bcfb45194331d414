"""The model zoo: named models shipped in the package, or any bundle folder on disk.

A bundle is a folder with ``config.json`` (what the head reads and how it is built),
``weights.safetensors`` (the head, standardisation included) and ``MODEL_CARD.md``.
Never a pickle: safetensors holds only tensors, so loading a stranger's model runs no code.
Heads run in NumPy (:class:`~photocritic.models.heads.NumpyHead`); torch is needed only to write one.

A *whole-network* bundle (``nima-ava``) has no head: its config's ``network`` names an ONNX graph (in
the bundle or in ``zoo/graphs/``) that reads the photo itself, squashed to ``input_size`` (``resize``:
``squash`` bilinear from the working image, or ``squash-nearest`` from the decode before it) and scaled as
``preprocess`` says, and outputs the 10-bin distribution; scoring runs it through :mod:`photocritic.engine`.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import load_file

from photocritic.models.backbone import BACKBONES, IMAGENET_MEAN, IMAGENET_STD, squash
from photocritic.models.heads import N_BINS, HeadWeightsError, NumpyHead, softmax
from photocritic.models.technical import TECHNICAL_MEASURES

ZOO_DIR = Path(__file__).resolve().parent.parent / "zoo"
BUNDLE_FORMAT = "photocritic-model"
# "base_score": the mean score of another model (config "base_model"), e.g. a taste model on top of default
FEATURE_GROUPS = ("mlsp", "technical", "base_score")
#: how a whole network wants its pixels (config "network": {"preprocess": ...}), from uint8 RGB
NETWORK_PREPROCESSING = {
    "keras-mobilenet": lambda rgb: rgb / np.float32(127.5) - np.float32(1.0),  # [-1, 1], as idealo's NIMA
    "imagenet": lambda rgb: (rgb - IMAGENET_MEAN) / IMAGENET_STD,
}
GRAPHS_DIR = ZOO_DIR / "graphs"


class ModelError(Exception):
    """A model name or bundle that cannot be used."""


@dataclass
class ScoringModel:
    """A head over backbone features and/or technical measures, producing 10-bin distributions."""

    name: str
    config: dict
    head: NumpyHead | None  # None for a whole-network model
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
    def network(self) -> dict | None:
        """The whole network this model runs on the photo (``{"graph", "input_size", "preprocess"}``), if any."""
        own = self.config.get("network")
        return own if own else (self.base.network if self.base is not None else None)

    @property
    def network_graph(self) -> Path:
        graph = str(self.network["graph"])
        for folder in ([self.path] if self.path else []) + [GRAPHS_DIR]:
            if (folder / graph).is_file() and (folder / graph).resolve().parent == folder.resolve():
                return folder / graph
        raise ModelError(f"model {self.name!r} needs the network {graph!r}, which this installation lacks")

    def network_input(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 H x W x 3 -> the network's 3 x S x S float32 input (the whole frame squashed to S x S).
        *pixels*: the decoded photo before the working-size resize (``DecodedPhoto.drafted``), when the
        network resizes with nearest neighbours as it was trained (``"resize": "squash-nearest"``)."""
        spec = self.network
        size = int(spec.get("input_size", 224))
        if spec.get("resize", "squash") == "squash-nearest":
            rgb = np.asarray(Image.fromarray(pixels).resize((size, size), Image.Resampling.NEAREST), dtype=np.float32)
        else:
            rgb = squash(pixels, size).astype(np.float32)
        return np.ascontiguousarray(NETWORK_PREPROCESSING[spec.get("preprocess", "imagenet")](rgb).transpose(2, 0, 1))

    @property
    def subscores(self) -> list[str]:
        """Names of the scores this model's head gives beside the distribution (its last outputs, in
        this order): ``quality_score`` and ``aesthetic_score`` for ``default``; none for most models."""
        return list(self.config.get("subscores", ())) if self.head is not None else []

    def predict_subscores(self, features: np.ndarray | None, technical: np.ndarray,
                          network_output: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each of :attr:`subscores` for N photos (an empty dict for a model that gives none)."""
        if not self.subscores:
            return {}
        out = self.head(self.head_inputs(features, technical, network_output))[:, N_BINS:]
        return {name: out[:, i] for i, name in enumerate(self.subscores)}

    @property
    def needs_backbone(self) -> bool:
        return "mlsp" in self.inputs or (self.base is not None and self.base.needs_backbone)

    @property
    def card(self) -> str:
        if self.path and (self.path / "MODEL_CARD.md").is_file():
            return (self.path / "MODEL_CARD.md").read_text(encoding="utf-8")
        return ""

    def head_inputs(self, features: np.ndarray | None, technical: np.ndarray, network_output: np.ndarray | None = None) -> np.ndarray:
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
                base = self.base.predict_distribution(features, technical, network_output)
                parts.append((base @ np.arange(1, base.shape[1] + 1))[:, None].astype(np.float32))
        return np.concatenate(parts, axis=1)

    def predict_distribution(self, features: np.ndarray | None, technical: np.ndarray,
                             network_output: np.ndarray | None = None) -> np.ndarray:
        """N x 10 probabilities for ratings 1..10. *network_output*: what :attr:`network`'s graph gave for
        these photos (a whole-network model, or one stacked on it, needs it)."""
        if self.head is None:
            if network_output is None:
                raise ModelError(f"model {self.name!r} runs a whole network on the photos: it needs their pixels")
            own = np.asarray(network_output, dtype=np.float64)
            own = own / own.sum(axis=1, keepdims=True)
        else:
            own = softmax(self.head(self.head_inputs(features, technical, network_output))[:, :N_BINS])
        weight = float(self.config.get("blend", {}).get("weight", 0.0))
        if weight <= 0:
            return own
        # blend = share of the base model in the final distribution ("--blend 0.5": half and half)
        return (1 - weight) * own + weight * self.base.predict_distribution(features, technical, network_output)

    def torch_head(self):
        """The head as a PyTorch module (Grad-CAM needs its gradients); imports torch."""
        import torch

        if self.head is None:
            raise ModelError(f"model {self.name!r} has no head over backbone features")
        head = build_head(self.config)
        state = {k: torch.from_numpy(np.array(v)) for k, v in self.head.state.items()}
        if self.subscores:  # the distribution's logits only: the sub-scores are the last outputs
            last = max((k for k in state if k.startswith("mlp.") and k.endswith(".weight")), key=lambda k: int(k.split(".")[1]))
            state[last] = state[last][:N_BINS]
            state[last.replace(".weight", ".bias")] = state[last.replace(".weight", ".bias")][:N_BINS]
        head.load_state_dict(state)
        return head.eval()


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


def build_head(config: dict):
    """A fresh PyTorch head for *config* (training); imports torch."""
    from photocritic.models.torch_heads import DistributionHead, LogisticScoreHead

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
    name = config.get("name") or folder.name
    if config.get("network"):  # a whole network: no head, the graph is what identifies it
        head = None
        probe = ScoringModel(name=name, config=config, head=None, path=folder)
        if config["network"].get("preprocess", "imagenet") not in NETWORK_PREPROCESSING:
            raise ModelError(f"model {folder}: unknown preprocessing {config['network'].get('preprocess')!r}")
        if config["network"].get("resize", "squash") not in ("squash", "squash-nearest"):
            raise ModelError(f"model {folder}: unknown resize {config['network'].get('resize')!r}")
        identity = probe.network_graph.read_bytes()
    else:
        weights = folder / "weights.safetensors"
        try:
            head = NumpyHead(config.get("head", {}), load_file(str(weights)), _input_dim(config))
        except (HeadWeightsError, KeyError) as exc:
            raise ModelError(f"weights {weights} do not fit the head in config.json: {exc}") from None
        except Exception as exc:  # safetensors raises its own error type for a corrupt header
            raise ModelError(f"cannot load weights {weights}: {str(exc).splitlines()[0]}") from None
        identity = weights.read_bytes()
    digest = hashlib.sha256(identity + json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
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


def save_bundle(folder: str | os.PathLike, config: dict, head, card: str) -> Path:
    """Write a bundle: config.json, weights.safetensors and MODEL_CARD.md. *head*: a PyTorch head, or its
    tensors as a mapping of names to NumPy arrays (what a head fitted without torch writes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"format": BUNDLE_FORMAT, "format_version": 1, "technical_measures": list(TECHNICAL_MEASURES), **config}
    if isinstance(head, dict):
        from safetensors.numpy import save_file

        save_file({k: np.asarray(v, order="C") for k, v in head.items()}, str(folder / "weights.safetensors"))
    else:
        from safetensors.torch import save_file

        save_file({k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}, str(folder / "weights.safetensors"))
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return folder
