#!/usr/bin/env python
"""Rebuild the built-in ``default`` model from ../shared/data, with every figure of its model card.

    python scripts/train_default_model.py            # features cached under .cache/default_model/

Steps: list the professional photos and snapshots; extract features of every job (pristine,
damaged, re-encoded, resized; see photocritic.training.default_data); evaluate out of fold
(leave-one-professional-source-out, snapshots split by camera make) for the model and two
baselines; fit the final head on everything; write the bundle and evaluation.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from photocritic.models.heads import DistributionHead  # noqa: E402
from photocritic.models.zoo import save_bundle  # noqa: E402
from photocritic.training import default_data as data  # noqa: E402
from photocritic.training.default_eval import evaluate  # noqa: E402
from photocritic.training.default_model import FitConfig, JobTable, fit_head, model_inputs, out_of_fold, predict  # noqa: E402
from photocritic.training.degradations import STRENGTHS  # noqa: E402


def card_text(figures: dict, command: str) -> str:
    m = figures["model"]
    d, ps, rb, cal = m["damage"], m["professional_vs_snapshot"], m["robustness"], m["calibration"]
    pad = d["pristine_above_damaged"]
    return f"""# default

Built-in photocritic model: a linear head on frozen EfficientNet-Lite0 MLSP features (2048), the 13
technical measures and piecewise-linear (hinge) terms of those measures, giving a 10-bin score distribution.

**Not trained on human aesthetic ratings.** It learned two proxies: a photo ranks above its own damaged
versions (noise, JPEG, defocus, motion blur, under/over exposure, low contrast, desaturation, white
balance cast, tilt), and curated professional wallpaper photographs (target 7.0) rank above everyday
camera snapshots (target 5.5). See docs/models/default.md in the repository for the full card.

Held out (leave-one-source-out): pristine above damaged at moderate strength {pad['moderate']['mean_over_types']:.3f}
(worst type {pad['moderate']['worst_type_name']} {pad['moderate']['worst_type']:.3f}), mild {pad['mild']['mean_over_types']:.3f};
monotonic series {d['monotonic_series']['pristine_mild_moderate_strong']:.3f}; professional above snapshot AUC
{ps['auc_as_scored']:.3f}; |change| < 0.1 after q95 re-encode {rb['q95']['share_within_0.1']:.3f}, after 0.75x resize
{rb['resize075']['share_within_0.1']:.3f}. Mean score: professional {cal['professional_pristine']['mean']:.2f},
snapshots {cal['snapshot_as_scored']['mean']:.2f}, strong damage {cal['damaged_strong']['mean']:.2f}.
Nearly blind to colour casts and tilted horizons (near chance on those damages), misses a quarter of overexposed copies; the
score range is compressed, so rank photos rather than read absolute values.

Rebuild: `{command}`
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "default_model")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "photocritic" / "zoo" / "default")
    parser.add_argument("--eval-json", type=Path, default=None, help="default: <out>/evaluation.json")
    parser.add_argument("--limit", type=int, default=None, help="photos per class (quick trial runs)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.time()
    cfg = FitConfig()

    photos = data.list_photos(args.data, args.limit)
    folds = data.assign_folds(photos)
    jobs = data.plan_jobs(photos, seed=cfg.seed)
    random_photos = set() if args.no_baselines else data.random_baseline_photos(photos)
    print(f"{sum(p.professional for p in photos)} professional photos, {sum(not p.professional for p in photos)} snapshots, "
          f"{len(jobs)} jobs, {len(set(folds))} folds")
    features = data.extract_job_features(photos, jobs, args.cache_dir, random_photos)
    t_features = time.time() - started
    table = JobTable.build(photos, jobs, folds)

    figures: dict = {"config": cfg.as_dict(), "strengths": {k: list(v) for k, v in STRENGTHS.items()}}
    print("model: out-of-fold")
    X = model_inputs(features, cfg.inputs)
    oof = out_of_fold(X, table, photos, cfg)
    figures["model"] = evaluate(oof, table, photos)
    if not args.no_baselines:
        print("baseline: technical measures alone, same head and training")
        tech_cfg = FitConfig(inputs=("technical",))
        oof_tech = out_of_fold(model_inputs(features, tech_cfg.inputs), table, photos, tech_cfg)
        figures["baseline_technical_only"] = evaluate(oof_tech, table, photos)
        print("baseline: untrained backbone with a random head (an eighth of the photos)")
        rows = np.flatnonzero(np.isin(table.photo, sorted(random_photos)))
        Xr = model_inputs(features, cfg.inputs, mlsp_key="mlsp_random")[rows]
        torch.manual_seed(cfg.seed)
        random_head = DistributionHead(Xr.shape[1]).eval()
        random_head.set_standardisation(Xr)
        dist_random = np.zeros_like(oof)
        dist_random[rows] = predict(random_head, Xr)
        figures["baseline_random_backbone_random_head"] = evaluate(dist_random, table, photos, rows)
        figures["model_on_the_same_eighth"] = evaluate(oof, table, photos, rows)

    print("final fit on every photo")
    head = fit_head(X, table, np.arange(len(jobs)), photos, cfg)
    figures["final_in_sample"] = evaluate(predict(head, X), table, photos)
    t_total = time.time() - started
    figures["runtime_s"] = {"features": round(t_features, 1), "total": round(t_total, 1)}
    command = "python scripts/train_default_model.py"
    if args.limit is None:
        config = {
            "name": "default",
            "description": "damage ranking + professional-vs-snapshot proxy on frozen EfficientNet-Lite0 MLSP features "
                           "and technical measures; not trained on human aesthetic ratings",
            "backbone": "efficientnet-lite0",
            "inputs": list(cfg.inputs),
            "head": cfg.head_config(),
            "training": {"script": command, "seed": cfg.seed},
        }
        save_bundle(args.out, config, head, card_text(figures, command))
        (args.out / "weights.safetensors").chmod(0o644)  # package data: readable by everyone
        print(f"bundle written to {args.out}")
    eval_json = args.eval_json or args.out / "evaluation.json"
    eval_json.parent.mkdir(parents=True, exist_ok=True)
    eval_json.write_text(json.dumps(figures, indent=1, default=float) + "\n", encoding="utf-8")
    print_summary(figures)
    print(f"figures written to {eval_json}; {t_total / 60:.1f} min in all ({t_features / 60:.1f} min of features)")
    return 0


def print_summary(figures: dict) -> None:
    for name in ("model", "baseline_technical_only", "baseline_random_backbone_random_head", "model_on_the_same_eighth", "final_in_sample"):
        if name not in figures:
            continue
        f = figures[name]
        pad = f["damage"]["pristine_above_damaged"]
        ps = f["professional_vs_snapshot"]
        line = (f"{name:40s} moderate {pad['moderate']['mean_over_types']:.3f} (worst {pad['moderate']['worst_type_name']} "
                f"{pad['moderate']['worst_type']:.3f})  mild {pad['mild']['mean_over_types']:.3f}  "
                f"monotonic {f['damage']['monotonic_series']['pristine_mild_moderate_strong']:.3f}  AUC {ps['auc_as_scored']:.3f}")
        if f.get("robustness"):
            rb = f["robustness"]
            line += f"  robust q95 {rb['q95']['share_within_0.1']:.3f} x0.75 {rb['resize075']['share_within_0.1']:.3f}"
        if f.get("calibration"):
            c = f["calibration"]
            line += (f"  means pro {c['professional_pristine']['mean']:.2f} snap {c['snapshot_as_scored']['mean']:.2f} "
                     f"dmg {c['damaged_mild']['mean']:.2f}/{c['damaged_moderate']['mean']:.2f}/{c['damaged_strong']['mean']:.2f}")
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
