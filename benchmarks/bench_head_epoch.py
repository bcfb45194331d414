"""Time one phase-1 epoch of the head over N cached feature vectors (default 255,000, AVA's size).

The vectors are synthetic (float16, as the feature cache stores them); the loop is the real one
(photocritic.training.trainer.fit_head: shuffling, batches, EMD loss, AdamW, a validation pass,
a checkpoint). Usage:

    python benchmarks/bench_head_epoch.py [--n 255000] [--threads 2] [--batch-size 128] [--hidden 0]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from photocritic.models.heads import gaussian_distribution
from photocritic.training.config import TrainConfig
from photocritic.training.trainer import fit_head, make_head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=255_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=0, help="one hidden layer of this width (0: linear, as NIMA)")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.standard_normal((args.n, args.dim), dtype=np.float32).astype(np.float16))
    means = rng.normal(5.4, 0.7, args.n)
    y = torch.from_numpy(gaussian_distribution(means).astype(np.float32))
    n_val = args.n // 20
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, hidden=[args.hidden] if args.hidden else [], patience=0)
    head = make_head(config, args.dim)
    head.set_standardisation(X[:10_000].float().numpy())
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        fit = fit_head(head, config, X[n_val:], y[n_val:], np.clip(np.rint(means[n_val:]), 1, 10).astype(int),
                       X[:n_val], y[:n_val], Path(folder))
        total = time.perf_counter() - began
    epochs = [round(r["seconds"], 2) for r in fit.history]
    print(json.dumps({"n_train": args.n - n_val, "n_val": n_val, "dim": args.dim, "threads": args.threads,
                      "batch_size": args.batch_size, "hidden": args.hidden, "epoch_seconds": epochs, "total_seconds": round(total, 2)}))


if __name__ == "__main__":
    main()
