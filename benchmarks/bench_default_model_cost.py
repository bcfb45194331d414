"""What the default model adds to the backbone: per-photo cost of each stage.

    python benchmarks/bench_default_model_cost.py [--data ../shared/data/photos] [--n 64] [--passes 3]

Stages, each timed over the same photos (best of --passes, per photo):
  backbone      EfficientNet-Lite0 MLSP forward pass alone (batch 16, inputs prepared beforehand)
  head          the default model's head on those features and technical measures
  technical     the 13 technical measures (they are in every record, whatever the model)
  pipeline      the whole `Scorer("default")` run without a catalog: decode, measures, backbone, head
  backbone_only_pipeline   the same run minus the technical measures and the head: decode, resize, backbone
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from photocritic.imaging.decode import decode_for_model
from photocritic.models.backbone import extract_features, load_backbone, model_input
from photocritic.models.technical import measures_vector, technical_measures
from photocritic.models.zoo import load_model
from photocritic.scoring import Scorer, default_workers

ROOT = Path(__file__).resolve().parents[1]


def best(fn, passes: int) -> float:
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "photos"))
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    files = sorted(p for p in Path(args.data).iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))[: args.n]
    n = len(files)
    model = load_model("default")
    backbone = load_backbone(model.backbone)
    pixels = [decode_for_model(f).pixels for f in files]
    inputs = np.stack([model_input(p) for p in pixels])
    feats = np.concatenate([extract_features(backbone, inputs[i : i + 16]) for i in range(0, n, 16)]).astype(np.float16)
    tech = np.stack([measures_vector(technical_measures(p)) for p in pixels])

    def run_backbone():
        for i in range(0, n, 16):
            extract_features(backbone, inputs[i : i + 16])

    def run_head():
        for i in range(0, n, 16):
            model.predict_distribution(feats[i : i + 16].astype(np.float32), tech[i : i + 16])

    def run_technical():
        for p in pixels:
            technical_measures(p)

    def run_pipeline():
        list(Scorer(model, use_catalog=False).iter_records(files))

    def run_backbone_only_pipeline():
        def prep(path):
            return model_input(decode_for_model(path).pixels)

        with ThreadPoolExecutor(max_workers=default_workers()) as pool:
            batch = []
            for tensor in pool.map(prep, files):
                batch.append(tensor)
                if len(batch) == 16:
                    extract_features(backbone, np.stack(batch))
                    batch = []
            if batch:
                extract_features(backbone, np.stack(batch))

    stages = {
        "backbone": run_backbone,
        "head": run_head,
        "technical": run_technical,
        "backbone_only_pipeline": run_backbone_only_pipeline,
        "pipeline": run_pipeline,
    }
    ms = {name: 1000 * best(fn, args.passes) / n for name, fn in stages.items()}
    figures = {
        "photos": n,
        "torch_threads": torch.get_num_threads(),
        "ms_per_photo": {k: round(v, 3) for k, v in ms.items()},
        "head_over_backbone": round(ms["head"] / ms["backbone"], 5),
        "pipeline_over_backbone_only_pipeline": round(ms["pipeline"] / ms["backbone_only_pipeline"], 3),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
