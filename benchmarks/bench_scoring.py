"""Scoring throughput: photocritic's pipeline against a naive one, and a rerun from the catalog.

    python benchmarks/bench_scoring.py [--data ../shared/data/photos-fullres] [--passes 3]

The naive pipeline is what a first script does: decode the full-size file, apply EXIF orientation,
resize to 224x224, run the same network one photo at a time (batch 1), compute the same technical
measures. photocritic's pipeline decodes JPEGs at reduced size (DCT scaling), decodes in threads
while the model runs, and batches the model. Both produce a score per photo from the same model.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from photocritic.library.scan import find_photos
from photocritic.models.backbone import extract_features, load_backbone, model_input
from photocritic.models.technical import measures_vector, technical_measures
from photocritic.models.zoo import load_model
from photocritic.scoring import Scorer

ROOT = Path(__file__).resolve().parents[1]


def naive_scores(files: list[Path]) -> list[float]:
    model = load_model("default")
    backbone = load_backbone(model.backbone)
    scores = []
    for path in files:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image.convert("RGB"))
        pixels = np.asarray(image)
        working = np.asarray(Image.fromarray(pixels).resize((512, round(512 * image.height / image.width))))
        features = extract_features(backbone, model_input(pixels)[None]).astype(np.float16).astype(np.float32)
        technical = measures_vector(technical_measures(working))[None]
        distribution = model.predict_distribution(features if model.needs_backbone else None, technical)
        scores.append(float(distribution[0] @ np.arange(1, 11)))
    return scores


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "photos-fullres"))
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    files = find_photos([args.data])
    n = len(files) * args.passes
    megapixels = sum(Image.open(f).width * Image.open(f).height for f in files) / len(files) / 1e6
    load_backbone()  # load once, outside the timings
    naive_scores(files[:1])  # warm up

    naive_time, _ = timed(lambda: [naive_scores(files) for _ in range(args.passes)])

    def pipeline_fresh():
        scorer = Scorer(use_catalog=False)
        for _ in range(args.passes):
            list(scorer.iter_records(files))

    pipeline_time, _ = timed(pipeline_fresh)

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog.sqlite"
        first_time, _ = timed(lambda: list(Scorer(catalog=catalog).iter_records(files)))
        scorer = Scorer(catalog=catalog)
        rerun_time, _ = timed(lambda: [list(scorer.iter_records(files)) for _ in range(args.passes)])
        rerun_time /= args.passes

    figures = {
        "photos": len(files),
        "mean_megapixels": round(megapixels, 1),
        "passes": args.passes,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "naive_photos_per_s": round(n / naive_time, 2),
        "pipeline_photos_per_s": round(n / pipeline_time, 2),
        "speedup_vs_naive": round(naive_time / pipeline_time, 2),
        "first_run_with_catalog_s": round(first_time, 3),
        "rerun_from_catalog_s": round(rerun_time, 3),
        "rerun_speedup": round(first_time / rerun_time, 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
