"""Phase 1: a head on frozen, cached features. Losses, sampling, checkpoints, resume, early stopping.

Randomness is drawn per epoch from (seed, epoch), never carried over from the epoch before, so a run
resumed from the checkpoint of epoch k goes on exactly as the uninterrupted run did.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from photocritic.models.heads import RATINGS, DistributionHead
from photocritic.training.config import TrainConfig

EpochCallback = Callable[[dict], None]


def make_head(config: TrainConfig, in_dim: int) -> DistributionHead:
    """The trainable head: 10 logits (distribution), 1 mean (regression) or 1 logit (binary)."""
    outputs = 10 if config.head == "distribution" else 1
    return DistributionHead(in_dim, hidden=tuple(config.hidden), dropout=config.dropout,
                            batch_norm=config.batch_norm, n_bins=outputs)


def targets_for(config: TrainConfig, distributions: np.ndarray, means: np.ndarray, good: np.ndarray) -> np.ndarray:
    if config.head == "distribution":
        return distributions.astype(np.float32)
    if config.head == "regression":
        return means.astype(np.float32)[:, None]
    return good.astype(np.float32)[:, None]


def strata(config: TrainConfig, means: np.ndarray, good: np.ndarray) -> np.ndarray:
    """The groups that sampling and class weights balance: rating bins 1..10, or the two classes."""
    if config.head == "binary":
        return good.astype(np.int64)
    return np.clip(np.rint(means), 1, 10).astype(np.int64)


def sample_weights(groups: np.ndarray) -> np.ndarray:
    """Inverse-frequency weights, normalised to mean 1 over the set."""
    values, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weights = (1.0 / counts)[inverse]
    return weights / weights.mean()


def epoch_order(groups: np.ndarray, sampling: str, rng: np.random.Generator) -> np.ndarray:
    """Indices for one epoch: shuffled; with under/over-sampling every group gets the same number."""
    if sampling == "none":
        return rng.permutation(groups.size)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    target = min(m.size for m in members) if sampling == "under" else max(m.size for m in members)
    picked = [rng.choice(m, size=target, replace=m.size < target) if m.size != target else m for m in members]
    return rng.permutation(np.concatenate(picked))


def loss_per_sample(kind: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if kind == "distribution":  # EMD, r = 2 (Talebi & Milanfar 2018)
        cdf = torch.cumsum(torch.softmax(output, dim=-1), dim=-1) - torch.cumsum(target, dim=-1)
        return cdf.pow(2).mean(dim=-1).sqrt()
    if kind == "regression":
        return (output - target).pow(2).squeeze(-1)
    return torch.nn.functional.binary_cross_entropy_with_logits(output, target, reduction="none").squeeze(-1)


@torch.no_grad()
def head_outputs(head: torch.nn.Module, features: torch.Tensor, batch_size: int = 4096) -> np.ndarray:
    head.eval()
    return np.concatenate([head(features[i:i + batch_size].float()).float().cpu().numpy()
                           for i in range(0, features.shape[0], batch_size)]) if features.shape[0] else np.zeros((0, 1))


def predicted_means(kind: str, outputs: np.ndarray) -> np.ndarray:
    """A mean rating from raw head outputs (binary: 3 + 5 p, the mean of the exported distribution)."""
    if kind == "distribution":
        e = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)) @ RATINGS
    if kind == "regression":
        return outputs[:, 0].astype(np.float64)
    return 3.0 + 5.0 / (1.0 + np.exp(-outputs[:, 0].astype(np.float64)))


# -- checkpoints -----------------------------------------------------------------------------------
def save_checkpoint(folder: Path, epoch: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> Path:
    """``epoch-NNN.safetensors`` (weights and optimiser moments) and ``epoch-NNN.json`` (the rest); no pickles."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, slots in opt["state"].items():
        for name, value in slots.items():
            tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    stem = folder / f"epoch-{epoch:03d}"
    partials = [Path(str(stem) + ".safetensors.partial"), Path(str(stem) + ".json.partial")]
    try:
        save_file(tensors, str(partials[0]))
        partials[0].replace(str(stem) + ".safetensors")
        meta = {**state, "epoch": epoch, "param_groups": opt["param_groups"]}
        partials[1].write_text(json.dumps(meta, indent=1), encoding="utf-8")
        partials[1].replace(str(stem) + ".json")  # written last: the checkpoint is complete
    finally:
        for partial in partials:  # never left behind by a failure
            partial.unlink(missing_ok=True)
    return stem


def latest_checkpoint(folder: Path) -> Path | None:
    stems = sorted(p.with_suffix("") for p in folder.glob("epoch-*.json")) if folder.is_dir() else []
    return stems[-1] if stems else None


def load_checkpoint(stem: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    tensors = load_file(str(stem) + ".safetensors")
    meta = json.loads(Path(str(stem) + ".json").read_text(encoding="utf-8"))
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta.pop("param_groups")})
    return meta


# -- the loop --------------------------------------------------------------------------------------
@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    stopped_early: bool = False
    resumed_from: int | None = None


def fit_head(*args, device: str = "cpu", **kwargs) -> FitResult:
    """Train ``head`` for ``config.epochs`` epochs; a checkpoint after each; keeps the best weights on val.

    On CPU the loop runs on one thread: a head's matrices are small, and one thread beats two busy
    ones (see docs/benchmarks.md)."""
    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    try:
        return _fit_head(*args, device=device, **kwargs)
    finally:
        torch.set_num_threads(threads)


def _fit_head(head: DistributionHead, config: TrainConfig, X_train: torch.Tensor, y_train: torch.Tensor,
             groups_train: np.ndarray, X_val: torch.Tensor, y_val: torch.Tensor, checkpoint_dir: Path, *,
             resume: bool = False, device: str = "cpu", validate: Callable[[np.ndarray], dict] | None = None,
             on_epoch_end: EpochCallback | None = None, progress=None) -> FitResult:
    head.to(device)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    weights = torch.as_tensor(sample_weights(groups_train) if config.class_weights else np.ones(len(groups_train)),
                              dtype=torch.float32)
    result = FitResult()
    X_rows = X_train.numpy() if X_train.device.type == "cpu" else X_train  # NumPy gathers float16 rows ~25x faster
    start = 1
    stem = latest_checkpoint(checkpoint_dir) if resume else None
    if stem is not None:
        meta = load_checkpoint(stem, head, optimizer)
        result.history, result.best_epoch, result.best_val_loss = meta["history"], meta["best_epoch"], meta["best_val_loss"]
        result.resumed_from = start = meta["epoch"] + 1
        if meta.get("stopped_early"):
            result.stopped_early, start = True, config.epochs + 1
    for epoch in range(start, config.epochs + 1):
        began = time.perf_counter()
        torch.manual_seed(config.seed * 100_003 + epoch)  # dropout masks
        order = epoch_order(groups_train, config.sampling, np.random.default_rng([config.seed, epoch]))
        head.train()
        total, count = 0.0, 0
        n_batches = max(1, -(-order.size // config.batch_size))
        for b in range(n_batches):
            index = torch.from_numpy(order[b * config.batch_size:(b + 1) * config.batch_size])
            if index.numel() < 2 and config.batch_norm:
                continue  # batch norm cannot train on a batch of one
            rows = X_rows[index.numpy()] if isinstance(X_rows, np.ndarray) else X_rows[index]
            x = torch.as_tensor(rows).to(device, non_blocking=True).float()
            y = y_train[index].to(device, non_blocking=True)
            loss = (loss_per_sample(config.head, head(x), y) * weights[index].to(device)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * index.numel()
            count += index.numel()
            if progress:
                progress(b + 1, n_batches)
        outputs = head_outputs(head, X_val.to(device)) if X_val.shape[0] else np.zeros((0, 1))
        val_loss = float(loss_per_sample(config.head, torch.from_numpy(outputs), y_val).mean()) if X_val.shape[0] else float("nan")
        row = {"phase": "head", "epoch": epoch, "train_loss": total / max(count, 1), "val_loss": val_loss,
               **(validate(outputs) if validate and X_val.shape[0] else {}), "seconds": time.perf_counter() - began}
        result.history.append(row)
        improved = not np.isfinite(result.best_val_loss) or (np.isfinite(val_loss) and val_loss < result.best_val_loss - 1e-6)
        if improved or not X_val.shape[0]:
            result.best_epoch, result.best_val_loss = epoch, (val_loss if np.isfinite(val_loss) else result.best_val_loss)
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
            save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}, str(checkpoint_dir / "best.safetensors"))
        result.stopped_early = config.patience > 0 and epoch - result.best_epoch >= config.patience
        save_checkpoint(checkpoint_dir, epoch, head, optimizer,
                        {"history": result.history, "best_epoch": result.best_epoch,
                         "best_val_loss": result.best_val_loss, "stopped_early": result.stopped_early})
        if on_epoch_end:
            on_epoch_end(row)
        if result.stopped_early:
            break
    if (checkpoint_dir / "best.safetensors").is_file():
        head.load_state_dict(load_file(str(checkpoint_dir / "best.safetensors")))
    head.cpu().eval()
    return result
