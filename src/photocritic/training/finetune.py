"""Phase 2: the whole net (backbone and head) at a lower learning rate, on augmented photos.

Photos are decoded by the scoring pipeline's decoder (:func:`decode_for_model`), then augmented as
NIMA did: resize to ``resize`` x ``resize``, a random ``crop`` x ``crop`` crop, a random horizontal
flip. Evaluation feeds the whole frame resized to ``crop``, as scoring does. The double-column net
(seed 004, after Lu et al.'s RAPID) has a second column that sees a random ``crop`` x ``crop`` patch
of the working-size photo at its own resolution (the centre patch at evaluation), and the head reads
both columns' features side by side. Batch-norm statistics stay frozen (small batches would ruin them).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from photocritic.imaging import decode_for_model
from photocritic.models.backbone import build_backbone, model_input
from photocritic.training.config import TrainConfig
from photocritic.training.trainer import latest_checkpoint, load_checkpoint, loss_per_sample, save_checkpoint


class AestheticNet(nn.Module):
    """Backbone column(s) + head: the trainable whole of phase 2."""

    def __init__(self, backbone: str, head: nn.Module, double_column: bool = False, pretrained: bool = True) -> None:
        super().__init__()
        self.column = build_backbone(backbone, pretrained=pretrained)
        self.local_column = build_backbone(backbone, pretrained=pretrained) if double_column else None
        self.head = head

    def forward(self, x: torch.Tensor, local: torch.Tensor | None = None) -> torch.Tensor:
        features = self.column(x)
        if self.local_column is not None:
            features = torch.cat([features, self.local_column(local)], dim=1)
        return self.head(features)

    def train(self, mode: bool = True):  # noqa: D401 - keep batch norm frozen
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self


def augmented_views(path: str, config: TrainConfig, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(global view, local view or None) as normalised 3 x crop x crop arrays; rng None = evaluation."""
    pixels = decode_for_model(path).pixels
    if rng is None:
        glob = model_input(pixels, config.crop)
    else:
        resized = np.asarray(Image.fromarray(pixels).resize((config.resize, config.resize), Image.Resampling.BILINEAR))
        top, left = rng.integers(0, config.resize - config.crop + 1, 2)
        glob_pixels = resized[top:top + config.crop, left:left + config.crop]
        if rng.random() < 0.5:
            glob_pixels = glob_pixels[:, ::-1]
        glob = model_input(np.ascontiguousarray(glob_pixels), config.crop)
    if not config.double_column:
        return glob, None
    h, w = pixels.shape[:2]
    if min(h, w) < config.crop:
        return glob, model_input(pixels, config.crop)
    if rng is None:
        top, left = (h - config.crop) // 2, (w - config.crop) // 2
    else:
        top, left = int(rng.integers(0, h - config.crop + 1)), int(rng.integers(0, w - config.crop + 1))
    patch = pixels[top:top + config.crop, left:left + config.crop]
    if rng is not None and rng.random() < 0.5:
        patch = patch[:, ::-1]
    return glob, model_input(np.ascontiguousarray(patch), config.crop)


def _batches(paths: list[str], order: np.ndarray, config: TrainConfig, rng: np.random.Generator | None, pool: ThreadPoolExecutor):
    for start in range(0, order.size, config.finetune_batch_size):
        index = order[start:start + config.finetune_batch_size]
        seeds = rng.integers(0, 2**31, index.size) if rng is not None else [None] * index.size
        views = list(pool.map(lambda a: augmented_views(paths[a[0]], config, None if a[1] is None else np.random.default_rng(a[1])),
                              zip(index.tolist(), seeds)))
        glob = torch.from_numpy(np.stack([v[0] for v in views]))
        local = torch.from_numpy(np.stack([v[1] for v in views])) if config.double_column else None
        yield index, glob, local


@torch.no_grad()
def net_outputs(net: AestheticNet, paths: list[str], config: TrainConfig, device: str) -> np.ndarray:
    net.eval()
    outputs = []
    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        for _, glob, local in _batches(paths, np.arange(len(paths)), config, None, pool):
            with torch.autocast("cuda", enabled=device == "cuda" and config.amp):
                out = net(glob.to(device), None if local is None else local.to(device))
            outputs.append(out.float().cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, 1))


def finetune(net: AestheticNet, config: TrainConfig, train_paths: list[str], y_train: torch.Tensor, weights: torch.Tensor,
             val_paths: list[str], y_val: torch.Tensor, checkpoint_dir: Path, *, resume: bool = False, device: str = "cpu",
             validate: Callable[[np.ndarray], dict] | None = None, on_epoch_end=None, progress=None) -> list[dict]:
    """Phase 2 epochs with a checkpoint after each; returns the history rows."""
    net.to(device)
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=config.finetune_lr,
                                  weight_decay=config.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda" and config.amp)
    history: list[dict] = []
    start = 1
    stem = latest_checkpoint(checkpoint_dir) if resume else None
    if stem is not None:
        meta = load_checkpoint(stem, net, optimizer)
        history, start = meta["history"], meta["epoch"] + 1
    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        for epoch in range(start, config.finetune_epochs + 1):
            began = time.perf_counter()
            torch.manual_seed(config.seed * 100_003 + 50_000 + epoch)
            rng = np.random.default_rng([config.seed, 1000 + epoch])
            order = rng.permutation(len(train_paths))
            net.train()
            total, count = 0.0, 0
            n_batches = max(1, -(-order.size // config.finetune_batch_size))
            for b, (index, glob, local) in enumerate(_batches(train_paths, order, config, rng, pool)):
                t_index = torch.from_numpy(index)
                with torch.autocast("cuda", enabled=device == "cuda" and config.amp):
                    out = net(glob.to(device), None if local is None else local.to(device))
                loss = (loss_per_sample(config.head, out.float(), y_train[t_index].to(device)) * weights[t_index].to(device)).mean()
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                total += loss.item() * index.size
                count += index.size
                if progress:
                    progress(b + 1, n_batches)
            outputs = net_outputs(net, val_paths, config, device) if val_paths else np.zeros((0, 1))
            val_loss = float(loss_per_sample(config.head, torch.from_numpy(outputs), y_val).mean()) if val_paths else float("nan")
            row = {"phase": "finetune", "epoch": epoch, "train_loss": total / max(count, 1), "val_loss": val_loss,
                   **(validate(outputs) if validate and val_paths else {}), "seconds": time.perf_counter() - began}
            history.append(row)
            save_checkpoint(checkpoint_dir, epoch, net, optimizer, {"history": history})
            if on_epoch_end:
                on_epoch_end(row)
    net.cpu().eval()
    return history
