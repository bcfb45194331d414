"""Rebuild the built-in `default` model from ../shared and a BIQ2021 checkout, offline.

    python scripts/train_default_model.py --biq2021 DIR

DIR is a checkout of https://github.com/nisarahmedrana/BIQ2021 (its two CSV tables and Images/). The
build extracts every picture's features (about 20,000: BIQ2021's train photos and a quarter of them in
greyscale, the project's photos and their copies; cached, so an interrupted build resumes), chooses its
settings on folds of BIQ2021's train split, fits, computes the held-out figures, reads BIQ2021's test
split once, and writes the bundle to src/photocritic/zoo/default/ (config.json, weights.safetensors,
MODEL_CARD.md, evaluation.json). See photocritic.training.default and docs/models/default.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/train_default_model.py --biq2021 DIR"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--biq2021", type=Path, required=True, help="a BIQ2021 checkout")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="the project's photos")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "default_model")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "photocritic" / "zoo" / "default")
    args = parser.parse_args(argv)
    from photocritic.training.default.biq2021 import DatasetError
    from photocritic.training.default.build import main as build

    started = time.time()

    def log(message: str) -> None:
        print(f"[{(time.time() - started) / 60:5.1f} min] {message}", file=sys.stderr, flush=True)

    try:
        result = build(args.shared, args.biq2021, args.cache_dir, args.out, COMMAND, log)
    except DatasetError as exc:
        print(f"train_default_model: {exc}", file=sys.stderr)
        return 2
    test = result["test"]
    log(f"done: BIQ2021 test quality_score SRCC {test['quality_score']['all']['srcc']:.3f}, score {test['score']['all']['srcc']:.3f}; "
        f"bundle in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
