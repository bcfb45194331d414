#!/usr/bin/env python
"""Development runs for the default model's head, on inner folds only.

    python scripts/dev_default_head.py --outer 0 3 6 --cands '[{}, {"hidden": 32, "mlp_decay": 0.1}]'

For each outer fold given, every candidate (overrides of CombinedConfig) is judged by
default_nested.choose on the other folds (each inner fold scored by a fit that saw neither it nor the
outer fold); the outer fold itself is never scored. Prints each candidate's inner figures and their
mean over the outer folds given. Uses the feature cache of scripts/train_default_model.py.
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

from photocritic.models.flags import too_small  # noqa: E402
from photocritic.training import default_data as data  # noqa: E402
from photocritic.training.default_combined import CombinedConfig  # noqa: E402
from photocritic.training.default_model import JobTable, model_inputs  # noqa: E402
from photocritic.training.default_nested import _train_rows, choose  # noqa: E402
from photocritic.training.teacher import default_teacher_path, load_teacher  # noqa: E402


def load(data_dir: Path, cache_dir: Path):
    base = CombinedConfig()
    photos = data.list_photos(data_dir)
    folds = data.assign_folds(photos)
    jobs = data.plan_jobs(photos, seed=base.seed)
    judged = np.array([not too_small(p.width, p.height) for p in photos])
    teacher_path = default_teacher_path(data_dir)
    teacher_id = f"{teacher_path.name}:{teacher_path.stat().st_size}"
    keep = data.cached_photos(photos, jobs, cache_dir, data.random_baseline_photos(photos), teacher_id)
    if len(keep) < len(photos):
        raise SystemExit(f"only {len(keep)} of {len(photos)} photos cached: run scripts/train_default_model.py --features-only")
    features = data.extract_job_features(photos, jobs, cache_dir, data.random_baseline_photos(photos),
                                         teacher=load_teacher(teacher_path), teacher_id=teacher_id, log=lambda *a: None)
    table = JobTable.build(photos, jobs, folds)
    return photos, table, model_inputs(features, ("mlsp", "technical")), features["teacher"].astype(np.float64), judged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "default_model")
    parser.add_argument("--outer", type=int, nargs="+", default=[0])
    parser.add_argument("--cands", type=json.loads, default=[{}])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--snapshot", type=Path, default=None, help="pickle of the loaded inputs (made if absent)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    import pickle

    # --snapshot: the loaded inputs pickled, so repeated runs skip the cache walk (not invalidated when
    # features change: delete it then)
    if args.snapshot and args.snapshot.is_file():
        photos, table, X, T, judged = pickle.loads(args.snapshot.read_bytes())
    else:
        photos, table, X, T, judged = load(args.data, args.cache_dir)
        if args.snapshot:
            args.snapshot.write_bytes(pickle.dumps((photos, table, X, T, judged)))
    base = CombinedConfig()
    cands = [CombinedConfig(**{**base.as_dict(), **c}) for c in args.cands]
    keys = ("objective", "moderate", "mild", "monotonic", "auc", "spearman", "failures")
    per = {i: [] for i in range(len(cands))}
    for outer in args.outer:
        started = time.time()
        train = _train_rows(table, judged, outer)
        _, results = choose(X, table, photos, T, train, cands, judged, log=lambda *a: None)
        for i, r in enumerate(results):
            per[i].append(r)
            print(f"outer {outer} cand {i} " + " ".join(f"{k} {r[k]:.3f}" for k in keys) + f"  {r['config']}", flush=True)
        print(f"  ({time.time() - started:.0f} s)", flush=True)
    print("mean over outer folds", args.outer)
    summary = []
    for i, rs in per.items():
        mean = {k: float(np.mean([r[k] for r in rs])) for k in keys}
        summary.append({"config": rs[0]["config"], **mean})
        print(f"cand {i} " + " ".join(f"{k} {mean[k]:.3f}" for k in keys) + f"  {rs[0]['config']}")
    if args.json:
        args.json.write_text(json.dumps({"outer": args.outer, "per_outer": per, "mean": summary}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
