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
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/train_default_model.py --biq2021 DIR"
#: fixed before any figure was computed: the synthetic bursts' seed and number
BURST_SEED = 15
N_BURSTS = 60


def burst_figures(biq_dir: Path, models: dict[str, str]) -> dict:
    """Share of synthetic bursts (benchmarks/eval_culling.py's generator) whose clean frame each model scores
    highest, scored as users score them. The bursts are made from BIQ2021 test photos (ss01 and ss03, whose
    pixels no model here was fitted on; their opinion scores are not read)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from eval_culling import make_bursts
    from photocritic.scoring import Scorer
    from photocritic.training.default.biq2021 import load

    rng = random.Random(BURST_SEED)
    sources = [p.path for p in load(biq_dir, "test") if p.subset != "ss02"]
    rng.shuffle(sources)
    out = {}
    with tempfile.TemporaryDirectory(prefix="default-bursts-") as work:
        bursts = make_bursts(sources[:N_BURSTS], Path(work), rng)
        frames = [f for b in bursts for f in b.frames]
        for name, model in models.items():
            scores = {r["path"]: r["score"] for r in Scorer(model, use_catalog=False).iter_records([f.path for f in frames])}
            wins = []
            for burst in bursts:
                clean = next(f for f in burst.frames if f.clean)
                wins.append(all(scores[str(clean.path)] > scores[str(f.path)] for f in burst.frames if f is not clean))
            out[name] = float(sum(wins) / len(wins))
    out["n_bursts"] = len(bursts)
    out["n_frames"] = len(frames)
    return out


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
    log("synthetic bursts from BIQ2021 test photos, scored by the new default and nima-ava")
    result["bursts"] = burst_figures(args.biq2021, {"default": str(args.out), "nima-ava": "nima-ava"})
    (args.out / "evaluation.json").write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    log(f"done: BIQ2021 test quality_score SRCC {test['quality_score']['all']['srcc']:.3f}, score {test['score']['all']['srcc']:.3f}; "
        f"bundle in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
