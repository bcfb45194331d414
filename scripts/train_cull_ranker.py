"""Fit culling's ranking (src/photocritic/zoo/cull-ranker.json) to bursts of three generators and BIQ2021's real series.

    python scripts/train_cull_ranker.py --biq2021 DIR [--cache DIR]

Everything it fits and chooses on is training data only:

* bursts made by each generator of :mod:`photocritic.training.culling.generators` from the *tuning* half
  of ../shared/data/photos (benchmarks/eval_culling.py's ``photo_split``) and of the open-eyed portraits
  (the person-level split of benchmarks/eval_faces.py): the clean frame is better than each copy;
* BIQ2021's *train* split series (:func:`photocritic.training.culling.series.pairs`): the photo people
  rated higher is better.

The L2 penalty is chosen by the mean of: each generator's bursts ranked by a fit on the other two
generators and BIQ2021 (leave one generator out), and BIQ2021's pairs out of fold (its 5 folds, series
kept whole). The figures it prints are those out-of-generator and out-of-fold figures; the held-out
half of the photos, new seeds and BIQ2021's test split are for benchmarks/eval_culling.py.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/train_cull_ranker.py --biq2021 DIR"
SEED = 7  # fixed before any figure was computed
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1)
#: BIQ2021's share of the fit (the three generators share the rest)
REAL_SHARES = (0.1, 0.25, 0.5)


def generated_series(generator: str, cache: Path, scorer, n_photos: int, n_portraits: int, log) -> list:
    from eval_culling import SHARED_PHOTOS, _big_enough, face_sources, photo_split

    from photocritic.training.culling.evidence import Series, load, measure, save
    from photocritic.training.culling.generators import write_bursts

    saved = cache / f"{generator}.jsonl"
    if saved.is_file():
        return load(saved)
    rng = random.Random(f"{SEED}-{generator}")
    photos = sorted(p for p in SHARED_PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg") and photo_split(p.name) == "tuning" and _big_enough(p))
    rng.shuffle(photos)
    portraits = [p for p, _ in face_sources("tuning")]
    rng.shuffle(portraits)
    bursts = write_bursts(generator, photos[:n_photos], cache / "bursts" / generator, rng, reuse=True)
    bursts += write_bursts(generator, portraits[:n_portraits], cache / "bursts" / generator, rng, frames=(4, 6), portrait=True, prefix="f", reuse=True)
    log(f"{generator}: {len(bursts)} bursts, {sum(len(b.frames) for b in bursts)} frames")
    measured = measure(scorer, [[f.path for f in b.frames] for b in bursts], log=log)
    out = []
    for burst, candidates in zip(bursts, measured):
        if candidates is None:
            continue
        clean = next(k for k, f in enumerate(burst.frames) if f.clean)
        portrait = burst.frames[0].path.name.startswith("f")
        out.append(Series(f"{generator}/{'portrait' if portrait else 'photo'}/{burst.source}", generator, candidates,
                          [(clean, k) for k in range(len(burst.frames)) if k != clean], [f.defect or "clean" for f in burst.frames]))
    save(out, saved)
    return out


def biq_series(biq: Path, cache: Path, scorer, log) -> list:
    from photocritic.training.culling.evidence import Series, load, measure, save
    from photocritic.training.culling.series import pairs

    saved = cache / "biq2021-train.jsonl"
    if saved.is_file():
        return load(saved)
    found = pairs(biq, "train")
    log(f"BIQ2021 train: {len(found)} pairs")
    measured = measure(scorer, [[p.better.path, p.worse.path] for p in found], log=log)
    out = [Series(f"biq/{p.better.subset} ({min(p.better.number, p.worse.number)})", "biq2021", c, [(0, 1)], [p.better.name, p.worse.name])
           for p, c in zip(found, measured) if c is not None]
    save(out, saved)
    return out


def held_out_figures(series: list, l2: float, real_share: float) -> dict:
    """Each generator's bursts ranked by a fit without that generator; BIQ2021 pairs out of fold."""
    import hashlib

    from photocritic.training.culling.fit import accuracy, fit

    figures = {}
    generators = sorted({s.kind for s in series if s.kind != "biq2021"})
    for generator in generators:
        weights = fit([s for s in series if s.kind != generator], l2, real_share)
        held = [s for s in series if s.kind == generator]
        figures[f"{generator} photo bursts"] = accuracy([s for s in held if "/photo/" in s.name], weights)
        figures[f"{generator} portrait bursts"] = accuracy([s for s in held if "/portrait/" in s.name], weights)
    biq = [s for s in series if s.kind == "biq2021"]
    fold = {s.name: int(hashlib.sha256(s.name.split(" (")[0].encode() + str(int(s.name.split("(")[1].rstrip(")")) // 40).encode()).hexdigest()[:8], 16) % 5 for s in biq}
    right = []
    for k in range(5):
        weights = fit([s for s in series if s.kind != "biq2021" or fold[s.name] != k], l2, real_share)
        test = [s for s in biq if fold[s.name] == k]
        right += [accuracy([s], weights) for s in test]
    figures["BIQ2021 train pairs"] = float(np.mean(right)) if right else float("nan")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--biq2021", type=Path, required=True, help="a checkout of github.com/nisarahmedrana/BIQ2021")
    parser.add_argument("--cache", type=Path, default=Path("build/cull-ranker"), help="bursts and evidence (kept: a rerun fits at once)")
    parser.add_argument("--photos", type=int, default=40, help="photo bursts per generator")
    parser.add_argument("--portraits", type=int, default=15, help="portrait bursts per generator")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "photocritic" / "zoo" / "cull-ranker.json")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from photocritic.scoring import Scorer
    from photocritic.training.culling.fit import fit
    from photocritic.training.culling.generators import GENERATORS

    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)
    scorer = Scorer(catalog=args.cache / "catalog.sqlite")
    try:
        series = [s for g in GENERATORS for s in generated_series(g, args.cache, scorer, args.photos, args.portraits, log)]
        series += biq_series(args.biq2021, args.cache, scorer, log)
    finally:
        scorer.close()
    log(f"evidence ready in {time.perf_counter() - started:.0f} s: {len(series)} series")

    trials = {(l2, share): held_out_figures(series, l2, share) for l2 in L2_GRID for share in REAL_SHARES}
    for (l2, share), figures in trials.items():
        log(f"l2 {l2:g}, BIQ2021 share {share:g}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()) + f"; mean {np.mean(list(figures.values())):.3f}")
    chosen = max(trials, key=lambda setting: np.mean(list(trials[setting].values())))
    l2, share = chosen
    weights = fit(series, l2, share)
    for generator in GENERATORS:  # for benchmarks/eval_culling.py --ranker: each generator's bursts, held out
        without = fit([s for s in series if s.kind != generator], l2, share)
        (args.cache / f"ranker-without-{generator}.json").write_text(json.dumps({"weights": without, "l2": l2, "real_share": share}, indent=2) + "\n")
    result = {
        "weights": weights,
        "l2": l2,
        "real_share": share,
        "trained_on": {kind: sum(1 for s in series if s.kind == kind) for kind in sorted({s.kind for s in series})},
        "held_out": {k: round(v, 4) for k, v in trials[chosen].items()},
        "command": COMMAND,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
