#!/usr/bin/env python
"""Rebuild the built-in ``default`` model from ../shared, with every figure of its model card.

    python scripts/train_default_model.py            # features cached under .cache/default_model/

Steps: list the professional photos and snapshots; extract features and the teacher's (idealo's
NIMA) distributions of every job (pristine, damaged, cropped, failed, re-encoded, resized; see
photocritic.training.default_data); evaluate out of fold (leave-one-professional-source-out,
snapshots split by camera make) the new default (weights chosen by nested cross-validation), each of
its three signals alone, nima-ava itself and the previous default; score synthetic bursts built as
benchmarks/eval_culling.py builds them; fit the shipped head on every photo; write the bundle and
evaluation.json.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from photocritic.models.flags import too_small  # noqa: E402
from photocritic.models.heads import RATINGS  # noqa: E402
from photocritic.models.zoo import save_bundle  # noqa: E402
from photocritic.training import default_data as data  # noqa: E402
from photocritic.training.default_combined import CombinedConfig, head_distributions, head_from_fit  # noqa: E402
from photocritic.training.default_eval import goal_figures  # noqa: E402
from photocritic.training.default_model import FitConfig, JobTable, fit_head, model_inputs, predict  # noqa: E402
from photocritic.training.default_nested import GRID, final_fit, fixed_out_of_fold, nested_out_of_fold  # noqa: E402
from photocritic.training.degradations import FAILURES, STRENGTHS  # noqa: E402
from photocritic.training.teacher import TEACHER_VERSION, default_teacher_path, load_teacher, teacher_distributions, teacher_input  # noqa: E402

COMMAND = "python scripts/train_default_model.py"
#: Fixed before any figure was computed: the synthetic bursts' seed and size (eval_culling's own
#: figures use seeds 0-9, so these bursts are new to everything tuned on them).
BURST_SEED = 15
N_BURSTS = 60

#: The shipped head: one hidden layer of 32 units on top of the linear score (frozen on inner folds
#: before any outer figure was computed; see docs/models/default-experiments.md).
HEAD = dict(hidden=32, mlp_decay=0.1)

#: The three signals alone (no selection, linear heads) beside the combined model.
SIGNALS_ALONE = {
    "distillation_alone": dict(w_class=0.0, w_pairs=0.0, w_fail=0.0, hidden=0),
    "damage_ranking_alone": dict(w_distil=0.0, w_class=0.0, w_fail=0.0, hidden=0),
    "curated_vs_snapshot_alone": dict(w_distil=0.0, w_pairs=0.0, w_fail=0.0, hidden=0),
}


def burst_features(data_dir: Path, cache_dir: Path, teacher, teacher_id: str, log=print) -> dict:
    """Frames of synthetic bursts (eval_culling's synthesis, our seed), with features and teacher outputs."""
    from eval_culling import KNOWN_DUPLICATES, _big_enough, make_bursts  # benchmarks/eval_culling.py
    from photocritic.imaging.decode import decode_for_model
    from photocritic.models.backbone import extract_features, load_backbone, model_input
    from photocritic.models.technical import measures_vector, technical_measures

    cache = cache_dir / "bursts" / f"seed{BURST_SEED}-n{N_BURSTS}-t{TEACHER_VERSION}-p{data.PIXELS_VERSION}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    import tempfile

    rng = random.Random(BURST_SEED)
    photos = sorted(p for p in (data_dir / "photos").iterdir() if p.suffix.lower() in (".jpg", ".jpeg") and _big_enough(p))
    rng.shuffle(photos)
    sources = [p for p in photos if p.name not in KNOWN_DUPLICATES][:N_BURSTS]
    log(f"bursts: building {len(sources)} (seed {BURST_SEED}) and extracting their features")
    with tempfile.TemporaryDirectory(prefix="default-bursts-") as work:
        bursts = make_bursts(sources, Path(work), rng)
        frames = [f for b in bursts for f in b.frames]
        pixels = [decode_for_model(f.path).pixels for f in frames]
    backbone = load_backbone()
    mlsp = np.concatenate([extract_features(backbone, np.stack([model_input(p) for p in pixels[i : i + 32]]))
                           for i in range(0, len(pixels), 32)]).astype(np.float16)
    out = {
        "mlsp": mlsp,
        "technical": np.stack([measures_vector(technical_measures(p)) for p in pixels]),
        "teacher": teacher_distributions(teacher, np.stack([teacher_input(p) for p in pixels])),
        "source": np.array([f.source for f in frames]),
        "clean": np.array([f.clean for f in frames]),
        "defect": np.array([f.defect or "" for f in frames]),
    }
    data._save_npz(cache, **out)
    return out


def burst_picks(means: np.ndarray, bursts: dict) -> float:
    """Share of bursts whose clean frame has the highest score (a tie is no pick)."""
    wins = []
    for source in np.unique(bursts["source"]):
        rows = np.flatnonzero(bursts["source"] == source)
        clean = rows[bursts["clean"][rows]][0]
        others = rows[rows != clean]
        wins.append(bool(np.all(means[clean] > means[others])))
    return float(np.mean(wins))


def bias_figures(means: np.ndarray, table: JobTable, photos, features, judged) -> dict:
    """What a model does to monochrome conversions, low-key and foggy photos (out of fold)."""
    from photocritic.models.technical import TECHNICAL_MEASURES
    from photocritic.training.default_eval import real_rows

    pristine = {int(table.photo[r]): int(r) for r in np.flatnonzero(table.kind == "pristine")}
    grey = np.flatnonzero((table.kind == "damaged") & (table.damage == "desaturation") & (table.strength == 2))
    tech = features["technical"]
    col = {n: i for i, n in enumerate(TECHNICAL_MEASURES)}
    colour = [r for r in grey if tech[pristine[int(table.photo[r])], col["saturation"]] > 0.15]
    delta = np.array([means[r] - means[pristine[int(table.photo[r])]] for r in colour])
    real = real_rows(table, photos, judged)
    pct = np.argsort(np.argsort(means[real])) / (len(real) - 1) * 100  # percentile rank among real photos
    pct_of = dict(zip(real.tolist(), pct.tolist()))
    pro_real = [r for r in real if table.professional[r]]
    low_key = [r for r in pro_real if tech[r, col["exposure_ev"]] <= -1.5]
    fog = [r for r in pro_real if tech[r, col["contrast"]] <= 0.13 and tech[r, col["saturation"]] <= 0.2 and tech[r, col["exposure_ev"]] > -1.0]
    mono = [r for r in real if tech[r, col["saturation"]] <= 0.03]

    def group(rows):
        return {"n": len(rows), "mean_percentile_among_real": float(np.mean([pct_of[r] for r in rows])) if rows else None,
                "professional_mean_percentile": float(np.mean([pct_of[r] for r in pro_real]))}

    return {
        "greyscale_copy_of_colour_photo": {"n": len(colour), "mean_score_change": float(delta.mean()),
                                           "share_scored_lower": float(np.mean(delta < 0))},
        "low_key_professional (exposure_ev <= -1.5)": group(low_key),
        "foggy_professional (contrast <= 0.13, saturation <= 0.2, not dark)": group(fog),
        "monochrome_real_photos (saturation <= 0.03)": group(mono),
    }


def previous_default_out_of_fold(X, table, photos, judged, bursts_X) -> tuple[np.ndarray, np.ndarray]:
    cfg = FitConfig()
    out = np.zeros((len(X), 10))
    burst_out = np.zeros((len(bursts_X["X"]), 10))
    for fold in np.unique(table.fold):
        train = np.flatnonzero((table.fold != fold) & judged[table.photo])
        head = fit_head(X, table, train, photos, cfg)
        test = np.flatnonzero(table.fold == fold)
        out[test] = predict(head, X[test])
        rows = np.flatnonzero(bursts_X["fold"] == fold)
        burst_out[rows] = predict(head, bursts_X["X"][rows])
    return out, burst_out


def card_text(figures: dict) -> str:
    m = figures["held_out"]["default"]
    pad = m["damage"]["pristine_above_damaged"]
    ag, fl = m["agreement"], m["failures"]
    return f"""# default

photocritic's built-in model: a small head over the frozen EfficientNet-Lite0 MLSP features (2048),
the 13 technical measures and hinge terms of those measures (a linear score plus one hidden layer of 32
units), giving a 10-bin score distribution.

It learned three things at once: the judgement of idealo's NIMA (trained on AVA's human votes),
distilled onto our own features over every photo, its crops and re-encodes; that a photo ranks above
its own damaged copies (noise, JPEG, blur, exposure, contrast, saturation, casts, tilt); and that
curated professional photographs rank above everyday snapshots. Obvious failures (black, blown, flat
frames, extreme blur, exposure, noise) are pushed to the bottom by terms on the tails of the technical
measures; photos too small to judge (64 px or less on the short side) are flagged and put at 1.0
without being scored. The distribution has a fixed width: score_std carries no per-photo information.

Held out (nested cross-validation, whole sources held out, {figures['photos']['used']} of {figures['photos']['listed']} photos):
pristine above damaged at moderate strength {pad['moderate']['mean_over_types']:.3f} (worst {pad['moderate']['worst_type_name']}
{pad['moderate']['worst_type']:.3f}), mild {pad['mild']['mean_over_types']:.3f}; curated above snapshots AUC
{m['professional_vs_snapshot']['auc_as_scored']:.3f}; Spearman with nima-ava {ag['spearman_with_teacher']:.3f}; obvious failures below the
10th percentile of real photos {fl['below_real_p10']:.3f}; clean frame of a synthetic burst highest
{figures['held_out_bursts'].get('default', float('nan')):.3f}; real photos' 5th-95th percentile span {ag['real_span_p5_p95']:.2f} points. A greyscale copy
of a colour photo scores lower (the damage ranking teaches it); it is not a judge of monochrome work.

See docs/models/default.md in the repository for the full card. Rebuild: `{COMMAND}`
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "default_model")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "photocritic" / "zoo" / "default")
    parser.add_argument("--eval-json", type=Path, default=None, help="default: <out>/evaluation.json")
    parser.add_argument("--limit", type=int, default=None, help="photos per class (quick trial runs; writes no bundle)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--teacher", type=Path, default=None, help="idealo NIMA HDF5 (default: ../shared/weights/...)")
    parser.add_argument("--features-only", action="store_true", help="fill the cache and stop")
    parser.add_argument("--no-bursts", action="store_true")
    parser.add_argument("--cached-only", action="store_true",
                        help="use only the photos already cached (a fair sample: photos are extracted in a shuffled order); "
                             "writes no bundle unless --ship-anyway")
    parser.add_argument("--ship-anyway", action="store_true", help="with --cached-only: write the bundle all the same")
    parser.add_argument("--grid", type=json.loads, default=None, help="trial runs: candidates as JSON, e.g. '{\"w_class\": [2.0]}'")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.time()
    base = CombinedConfig(**HEAD)

    photos = data.list_photos(args.data, args.limit)
    folds = data.assign_folds(photos)
    jobs = data.plan_jobs(photos, seed=base.seed)
    judged = np.array([not too_small(p.width, p.height) for p in photos])
    print(f"{sum(p.professional for p in photos)} professional photos, {sum(not p.professional for p in photos)} snapshots "
          f"({int((~judged).sum())} too small to judge, left out of training), {len(jobs)} jobs, {len(set(folds))} folds")
    teacher_path = args.teacher or default_teacher_path(args.data)
    teacher = load_teacher(teacher_path)
    teacher_id = f"{teacher_path.name}:{teacher_path.stat().st_size}"
    random_photos = data.random_baseline_photos(photos)
    if args.cached_only:
        keep = data.cached_photos(photos, jobs, args.cache_dir, random_photos, teacher_id)
        jobs = [j for j in jobs if j.photo in keep]
        judged &= np.isin(np.arange(len(photos)), sorted(keep))
        print(f"trial run on the {len(keep)} photos cached")
    features = data.extract_job_features(photos, jobs, args.cache_dir, random_photos, teacher=teacher, teacher_id=teacher_id)
    t_features = time.time() - started
    if args.features_only:
        print(f"features cached in {t_features / 60:.1f} min")
        return 0
    table = JobTable.build(photos, jobs, folds)
    X = model_inputs(features, ("mlsp", "technical"))
    T = features["teacher"].astype(np.float64)

    bursts = None
    if not args.no_bursts and args.limit is None:
        bursts = burst_features(args.data, args.cache_dir, teacher, teacher_id)
        fold_of = {photos[i].path.name: int(folds[i]) for i in range(len(photos)) if not photos[i].professional}
        bursts["X"] = np.concatenate([bursts["mlsp"].astype(np.float32), bursts["technical"].astype(np.float32)], axis=1)
        bursts["fold"] = np.array([fold_of[s] for s in bursts["source"]])

    figures: dict = {"config": base.as_dict(), "grid": {k: list(v) for k, v in (args.grid or GRID).items()},
                     "strengths": {k: list(v) for k, v in STRENGTHS.items()}, "failures": list(FAILURES),
                     "held_out": {}, "held_out_bursts": {}, "bias": {}}
    oof: dict[str, np.ndarray] = {}
    burst_means: dict[str, np.ndarray] = {}

    print(f"default (nested: weights chosen on inner folds), out of fold [{(time.time() - started) / 60:.1f} min]")
    grid = {**GRID, **{k: tuple(v) for k, v in (args.grid or {}).items()}}
    linear: dict = {}
    oof["default"], heads, chosen = nested_out_of_fold(X, table, photos, T, base, judged, grid=grid, linear=linear)
    figures["chosen_per_outer_fold"] = chosen
    per_fold_heads = {"default": heads}
    if base.hidden:  # the same nested choice with the linear head alone (the previous design)
        oof["linear_head"] = linear["out"]
        per_fold_heads["linear_head"] = linear["heads"]
    if bursts is not None:
        for name, fold_heads in per_fold_heads.items():
            bm = np.zeros(len(bursts["X"]))
            for fold, head in fold_heads.items():
                rows = np.flatnonzero(bursts["fold"] == fold)
                bm[rows] = head_distributions(head, bursts["X"][rows]) @ RATINGS
            burst_means[name] = bm
    for name, overrides in SIGNALS_ALONE.items():
        print(f"{name}, out of fold [{(time.time() - started) / 60:.1f} min]")
        cfg = CombinedConfig(**{**base.as_dict(), **overrides})
        oof[name], heads = fixed_out_of_fold(X, table, photos, T, cfg, judged)
        if bursts is not None:
            bm = np.zeros(len(bursts["X"]))
            for fold, head in heads.items():
                rows = np.flatnonzero(bursts["fold"] == fold)
                bm[rows] = head_distributions(head, bursts["X"][rows]) @ RATINGS
            burst_means[name] = bm
    print("nima-ava (the teacher itself) and the previous default, out of fold")
    oof["nima_ava"] = T
    oof["previous_default"], prev_bursts = previous_default_out_of_fold(
        X, table, photos, judged, bursts if bursts is not None else {"X": np.zeros((0, X.shape[1]), np.float32), "fold": np.zeros(0)})
    if bursts is not None:
        burst_means["nima_ava"] = bursts["teacher"].astype(np.float64) @ RATINGS
        burst_means["previous_default"] = prev_bursts @ RATINGS
    for name, dist in oof.items():
        figures["held_out"][name] = goal_figures(dist, T, table, photos, judged)
        figures["bias"][name] = bias_figures(dist @ RATINGS, table, photos, features, judged)
        if name in burst_means:
            figures["held_out_bursts"][name] = burst_picks(burst_means[name], bursts)

    print(f"final fit on every judged photo (weights chosen on all folds as inner folds) [{(time.time() - started) / 60:.1f} min]")
    fitted, final_cfg, inner = final_fit(X, table, photos, T, base, judged, grid=grid)
    head = head_from_fit(fitted)
    figures["final"] = {"chosen": {k: getattr(final_cfg, k) for k in GRID}, "inner_figures": inner,
                        "in_sample": goal_figures(head_distributions(head, X), T, table, photos, judged)}
    t_total = time.time() - started
    figures["runtime_s"] = {"features": round(t_features, 1), "total": round(t_total, 1)}
    used = sorted({int(j.photo) for j in jobs})
    figures["photos"] = {"used": len(used), "listed": len(photos), "judged_used": int(judged[used].sum()),
                         "professional_used": int(sum(photos[i].professional for i in used)),
                         "snapshots_used": int(sum(not photos[i].professional for i in used))}
    if args.limit is None and args.grid is None and (not args.cached_only or args.ship_anyway):
        config = {
            "name": "default",
            "description": "idealo NIMA (AVA human votes) distilled onto frozen EfficientNet-Lite0 MLSP features and "
                           "technical measures, with the damage ranking and curated-vs-snapshot signals",
            "backbone": "efficientnet-lite0",
            "inputs": ["mlsp", "technical"],
            "head": {"hidden": [int(head.mlp[0].out_features)] if len(head.mlp) > 1 else [], "dropout": 0.0,
                     "batch_norm": False, "hinges": int(head.hinges)},
            "training": {"script": COMMAND, "seed": base.seed, "chosen": figures["final"]["chosen"],
                         "teacher": "idealo image-quality-assessment weights_mobilenet_aesthetic_0.07.hdf5 (Apache-2.0)"},
        }
        save_bundle(args.out, config, head, card_text(figures))
        (args.out / "weights.safetensors").chmod(0o644)  # package data: readable by everyone
        print(f"bundle written to {args.out}")
    eval_json = args.eval_json or args.out / "evaluation.json"
    eval_json.parent.mkdir(parents=True, exist_ok=True)
    eval_json.write_text(json.dumps(figures, indent=1, default=float) + "\n", encoding="utf-8")
    print_summary(figures)
    print(f"figures written to {eval_json}; {t_total / 60:.1f} min in all ({t_features / 60:.1f} min of features)")
    return 0


def print_summary(figures: dict) -> None:
    print(f"{'held out':28s} {'moderate':>8s} {'worst':>14s} {'mild':>6s} {'monot':>6s} {'AUC':>6s} {'rho_T':>6s} "
          f"{'fail<p10':>8s} {'span':>5s} {'burst':>6s}")
    for name, f in figures["held_out"].items():
        pad = f["damage"]["pristine_above_damaged"]
        print(f"{name:28s} {pad['moderate']['mean_over_types']:8.3f} {pad['moderate']['worst_type_name'][:9]:>9s} "
              f"{pad['moderate']['worst_type']:.3f} {pad['mild']['mean_over_types']:6.3f} "
              f"{f['damage']['monotonic_series']['pristine_mild_moderate_strong']:6.3f} "
              f"{f['professional_vs_snapshot']['auc_as_scored']:6.3f} {f['agreement']['spearman_with_teacher']:6.3f} "
              f"{f['failures']['below_real_p10']:8.3f} {f['agreement']['real_span_p5_p95']:5.2f} "
              f"{figures['held_out_bursts'].get(name, float('nan')):6.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
