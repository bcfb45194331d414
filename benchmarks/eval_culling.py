"""How well does `photocritic cull` group bursts and pick the clean frame? Pairwise precision/recall.

Builds synthetic bursts from the real photos in ../shared/data/photos/: for each source photo, the
untouched ("clean") frame plus a few copies that are shifted, cropped or slightly rotated AND carry
one defect (Gaussian or motion blur, 1-2 stops of over/under exposure, sensor noise). Half of the
bursts carry EXIF capture times a fraction of a second apart (DateTimeOriginal + SubSecTimeOriginal,
one camera), half carry no EXIF at all. They are mixed with the remaining photos, left as they are,
as unrelated singles. Then everything goes through the same code as the CLI (score -> group -> rank)
and we report:

* pairwise precision / recall / F1 of the grouping (a pair is "together" when both photos share a
  group; truth = same source photo);
* pick accuracy: the share of bursts whose pick is the clean frame;
* unrelated photos wrongly merged with anything.

    python benchmarks/eval_culling.py --split held-out --seed 100 --faces 12   # what docs/culling.md reports first
    python benchmarks/eval_culling.py --split tuning --seed 0 --faces 12       # what ranking changes are tried on
    python benchmarks/eval_culling.py --bursts 20 --seed 1                     # sources from all photos (before the split)

Held out means held out: ``--split`` takes burst sources only from one half of ../shared/data/photos,
fixed by a hash of the file name (:func:`photo_split`), and face bursts only from that half of
../shared/data/faces/open (the person-level split of ``benchmarks/eval_faces.py``). Seeds 0-9 were used
while developing; seeds from 100 up are drawn for held-out runs only (100-134 have been seen: draw new ones from 135). The photos not made into bursts
stay in the mix, unchanged, as unrelated singles.

Face bursts (``--faces N``): a real portrait with open eyes, untouched, plus copies that are shifted a
little and carry one defect each: blurred, shaken, skin blown (brightened 1.6-2.2x, then clipped), darkened
1-2 stops, or noisy; always at least one brighter and one darker copy, so exposure is tested in both
directions.

The same synthesis is used by tests/culling (imported from this file).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from photocritic.training.culling.generators import SHIFTED_DEFECTS, SHIFTED_GEOMETRY, save_frame  # noqa: E402
from photocritic.training.culling.generators import load_source as _load  # noqa: E402
from photocritic.training.culling.generators import shifted_defect as apply_defect  # noqa: E402
from photocritic.training.culling.generators import shifted_geometry as apply_geometry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = Path(os.environ.get("PHOTOCRITIC_SHARED_DATA", ROOT.parent / "shared" / "data")) / "photos"

#: Files in ../shared/data/photos that are one photo twice (re-saved copies): one truth group.
KNOWN_DUPLICATES = {"Issue 600 (1).jpg": "Issue 600", "Issue 600 (2).jpg": "Issue 600"}
#: Photos smaller than this (test files: a 1x1 pixel, a 100x100 flat patch) are left out of the mix.
MIN_SIDE = 256

GEOMETRY = SHIFTED_GEOMETRY
DEFECTS = SHIFTED_DEFECTS
FACE_DEFECTS = ("blur", "motion", "blown", "dark", "noise")
SHARED_FACES = SHARED_PHOTOS.parent / "faces"


def photo_split(name: str) -> str:
    """'tuning' or 'held-out' for a photo of ../shared/data/photos, by a hash of its file name (fixed)."""
    import hashlib

    return "tuning" if hashlib.sha1(name.encode()).digest()[0] % 2 == 0 else "held-out"


def face_sources(split: str | None, folder: Path = SHARED_FACES) -> list[tuple[Path, str]]:
    """(photo, name of the same photo in ../photos or '') for the open-eyed portraits of one split."""
    import csv
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_faces", ROOT / "benchmarks" / "eval_faces.py")
    faces_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(faces_module)
    with open(folder / "MANIFEST.tsv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["state"] == "open"]
    chosen = [r for r in rows if split is None or faces_module.split_of(r["file"]) == split]
    return [(folder / r["file"], Path(r["path_in_source"]).name if "metadata-extractor-images" in r["source"] else "") for r in chosen]


@dataclass
class Frame:
    path: Path
    source: str  # the burst's source photo (truth label)
    clean: bool
    geometry: str
    defect: str | None
    taken_at: datetime | None


@dataclass
class Burst:
    source: str
    frames: list[Frame] = field(default_factory=list)
    with_exif: bool = True


def make_bursts(
    sources: list[Path],
    out_dir: Path,
    rng: random.Random,
    frames_per_burst: tuple[int, int] = (3, 6),
    long_side: int = 1024,
    exif_share: float = 0.5,
    exposure_away_from_normal: bool = False,
    defects: tuple[str, ...] = DEFECTS,
    geometry: tuple[str, ...] = GEOMETRY,
    prefix: str = "b",
    both_exposures: bool = False,
    start: datetime = datetime(2024, 6, 1, 9, 0, 0),
    reuse: bool = False,
) -> list[Burst]:
    """One burst per source photo: the clean frame plus defective near-copies (never the source file itself).

    With *exposure_away_from_normal*, an exposure defect on a source that is itself more than a stop
    from a normal exposure pushes it further away (darker for a dark photo, brighter for a bright one):
    brightening a photo that is 3 stops under is a repair, not a defect. The random draws are the same,
    so both variants build the same bursts but for the direction of those copies."""
    from photocritic.models.technical import technical_measures

    out_dir.mkdir(parents=True, exist_ok=True)
    bursts = []
    for index, source in enumerate(sources):
        image = _load(source, long_side)
        working = image.copy()
        working.thumbnail((512, 512))
        source_ev = technical_measures(np.asarray(working))["exposure_ev"]
        with_exif = rng.random() < exif_share
        burst = Burst(source=source.name, with_exif=with_exif)
        count = rng.randint(*frames_per_burst)
        clean_at = rng.randrange(count)
        # with both_exposures the first two defective frames are one brighter and one darker copy
        forced = [d for d in ("blown" if "blown" in defects else "bright", "dark")] if both_exposures else []
        base = start + timedelta(minutes=7 * index)
        camera = ("Synthetic", f"Burst Cam {index % 3}")
        for frame_no in range(count):
            taken_at = base + timedelta(seconds=0.35 * frame_no) if with_exif else None
            if frame_no == clean_at:
                geometry_kind, defect, frame = "none", None, image
            else:
                geometry_kind = rng.choice(geometry)
                defect = forced.pop(0) if forced else rng.choice(defects)
                if exposure_away_from_normal and defect in ("dark", "bright") and abs(source_ev) > 1.0:
                    defect = "dark" if source_ev < 0 else "bright"
                frame = apply_defect(apply_geometry(image, geometry_kind, rng), defect, rng)
            path = out_dir / f"{prefix}{index:03d}_{frame_no}_{geometry_kind}_{defect or 'clean'}.jpg"
            if not (reuse and path.is_file()):  # same seed, same draws: the file on disk is this frame
                save_frame(frame, path, taken_at, camera)
            burst.frames.append(Frame(path, source.name, frame_no == clean_at, geometry_kind, defect, taken_at))
        bursts.append(burst)
    return bursts


def pairwise_scores(truth: dict[str, str], predicted: dict[str, object]) -> dict[str, float]:
    """Pairwise precision/recall/F1 of a clustering: *truth* and *predicted* map path -> cluster label."""
    paths = sorted(truth)
    tp = fp = fn = 0
    for a, b in combinations(paths, 2):
        same_truth = truth[a] == truth[b]
        same_pred = predicted[a] == predicted[b]
        tp += same_truth and same_pred
        fp += same_pred and not same_truth
        fn += same_truth and not same_pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluate(bursts: list[Burst], singles: list[Path], records: list[dict], face_bursts: list[Burst] | None = None) -> dict:
    """Grouping and pick figures; face bursts count in the grouping and get their own pick figure."""
    face_bursts = face_bursts or []
    result = _evaluate(bursts + face_bursts, singles, records)
    by_path = {os.path.realpath(r["path"]): r for r in records}
    wrong_faces = [w for w in result["wrong_picks"] if w["burst"] in {b.source for b in face_bursts}]
    photo_wrong = [w for w in result["wrong_picks"] if w not in wrong_faces]
    result["pick_clean"] = 1 - len(photo_wrong) / len(bursts) if bursts else 1.0
    result["face_bursts"] = len(face_bursts)
    result["face_pick_clean"] = 1 - len(wrong_faces) / len(face_bursts) if face_bursts else float("nan")
    result["wrong_face_picks"] = wrong_faces
    result["wrong_picks"] = photo_wrong
    result["bursts"] = len(bursts)
    # a blink is claimed only with landmark evidence: these portraits all have open eyes
    result["false_blinks"] = [Path(p).name for b in face_bursts for f in b.frames for p in [os.path.realpath(f.path)] if (by_path[p].get("closed_eyes") or 0) > 0]
    return result


def _evaluate(bursts: list[Burst], singles: list[Path], records: list[dict]) -> dict:
    by_path = {os.path.realpath(r["path"]): r for r in records}
    truth: dict[str, str] = {}
    for burst in bursts:
        for frame in burst.frames:
            truth[os.path.realpath(frame.path)] = "burst:" + burst.source
    for single in singles:
        truth[os.path.realpath(single)] = "single:" + KNOWN_DUPLICATES.get(single.name, single.name)
    predicted = {p: by_path[p]["group"] for p in truth}
    result = pairwise_scores(truth, predicted)
    for subset in (True, False):
        chosen = [b for b in bursts if b.with_exif == subset]
        sub_truth = {p: t for p, t in truth.items() if any(os.path.realpath(f.path) == p for b in chosen for f in b.frames) or t.startswith("single:")}
        result["exif" if subset else "no_exif"] = pairwise_scores(sub_truth, {p: predicted[p] for p in sub_truth})
    clean_picks = 0
    wrong = []
    for burst in bursts:
        picks = [f for f in burst.frames if by_path[os.path.realpath(f.path)]["pick"]]
        clean = [f for f in burst.frames if f.clean][0]
        if any(f.clean for f in picks) and len(picks) == 1:
            clean_picks += 1
        else:
            wrong.append({"burst": burst.source, "picked": [f.path.name for f in picks], "clean": clean.path.name})
    group_sizes: dict[object, int] = {}
    for p in truth:
        group_sizes[predicted[p]] = group_sizes.get(predicted[p], 0) + 1
    # singles wrongly merged: in a group with a photo of another truth label
    members: dict[object, set[str]] = {}
    for p in truth:
        members.setdefault(predicted[p], set()).add(truth[p])
    merged_singles = [Path(p).name for p, t in truth.items() if t.startswith("single:") and len(members[predicted[p]]) > 1]
    result.update(
        bursts=len(bursts),
        frames=sum(len(b.frames) for b in bursts),
        singles=len(singles),
        pick_clean=clean_picks / len(bursts) if bursts else 1.0,
        wrong_picks=wrong,
        merged_singles=merged_singles,
    )
    return result


def evaluate_series(biq: Path, split: str) -> dict:
    """BIQ2021's real series (photocritic.training.culling.series.pairs): every ss01/ss02 photo of *split*
    culled at once, as one person's shoots; per pair of one scene rated at least 0.1 apart, whether cull
    groups it, and whether the photo people rated higher ranks above the other (in cull's groups, and by
    the ranking alone on the two photos, grouped or not)."""
    from photocritic.culling import cull_records
    from photocritic.culling.pipeline import group_candidates, inspect_frame
    from photocritic.culling.ranking import rank_group
    from photocritic.scoring import Scorer
    from photocritic.training.culling.series import pairs
    from photocritic.training.default.biq2021 import load

    found = pairs(biq, split)
    photos = [p.path for p in load(biq, split) if p.subset in ("ss01", "ss02")]
    with tempfile.TemporaryDirectory(prefix="cull-series-") as work:
        scorer = Scorer(catalog=Path(work) / "catalog.sqlite")
        try:
            records = cull_records(scorer, photos)
        finally:
            scorer.close()
    by_path = {os.path.realpath(r["path"]): r for r in records}
    grouped = ordered = alone = 0
    for pair in found:
        better, worse = by_path[os.path.realpath(pair.better.path)], by_path[os.path.realpath(pair.worse.path)]
        if better["group"] is not None and better["group"] == worse["group"]:
            grouped += 1
            ordered += better["rank"] < worse["rank"]
        looked = [inspect_frame(pair.better.path), inspect_frame(pair.worse.path)]
        candidates, _ = group_candidates([better, worse], [0, 1], {k: report for k, (report, _) in enumerate(looked)}, True, [found for _, found in looked])
        alone += next(r for r in rank_group(candidates) if r.index == 0).pick
    n = len(found)
    return {"split": split, "pairs": n, "grouped": grouped, "ordered_in_groups": ordered, "ranked_alone": alone,
            "grouped_share": grouped / n, "ordered_share": ordered / max(grouped, 1), "ranked_alone_share": alone / n}


def print_series(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"BIQ2021 {result['split']} split: {result['pairs']} pairs of one scene rated at least 0.1 apart")
    print(f"  grouped together: {result['grouped']} ({result['grouped_share'] * 100:.1f}%)")
    print(f"  of those, ordered as people rated them: {result['ordered_in_groups']} ({result['ordered_share'] * 100:.1f}%)")
    print(f"  ranked as people rated them by the ranking alone (the two photos as one group): {result['ranked_alone']} ({result['ranked_alone_share'] * 100:.1f}%)")


def _big_enough(path: Path) -> bool:
    with Image.open(path) as image:
        return min(image.size) >= MIN_SIDE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bursts", type=int, default=40, help="how many source photos become bursts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photos", type=Path, default=SHARED_PHOTOS)
    parser.add_argument("--keep", type=Path, default=None, help="build the bursts here and keep them, with the cull records in records.jsonl")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--reuse", action="store_true", help="with --keep: frames already there are not written again, so their scores come from the catalog")
    parser.add_argument("--split", choices=("tuning", "held-out"), default=None, help="take burst and face sources from one half only")
    parser.add_argument("--faces", type=int, default=0, help="how many face bursts from ../shared/data/faces/open (0: none)")
    parser.add_argument("--exposure-away-from-normal", action="store_true",
                        help="exposure defects on a photo already over a stop off push it further off, never back to normal")
    parser.add_argument("--generator", choices=("shifted", "handheld", "sensor"), default="shifted",
                        help="how bursts are made (photocritic.training.culling.generators); 'shifted' is this file's own")
    parser.add_argument("--ranker", type=Path, default=None, metavar="JSON",
                        help="rank with these fitted weights (scripts/train_cull_ranker.py writes one per generator held out) instead of the shipped ones")
    parser.add_argument("--biq2021", type=Path, default=None, metavar="DIR",
                        help="instead of bursts: BIQ2021's real series (a checkout's DIR), see --series-split")
    parser.add_argument("--series-split", choices=("train", "test"), default="train",
                        help="with --biq2021: which split's series (read the test split once, at the end)")
    args = parser.parse_args()
    if args.biq2021 is not None:
        print_series(evaluate_series(args.biq2021, args.series_split), args.json)
        return

    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    rng = random.Random(args.seed)
    portraits = face_sources(args.split) if args.faces else []
    rng.shuffle(portraits)
    portraits = portraits[: args.faces]
    same_as_portrait = {name for _, name in portraits if name}  # the same photo is also in ../photos
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg") and _big_enough(p) and p.name not in same_as_portrait)
    rng.shuffle(photos)
    eligible = [p for p in photos if args.split is None or photo_split(p.name) == args.split]
    sources = eligible[: args.bursts]
    singles = [p for p in photos if p not in sources]
    # a source's re-saved duplicate belongs to its burst, not among the unrelated photos
    duplicated = {KNOWN_DUPLICATES[p.name] for p in sources if p.name in KNOWN_DUPLICATES}
    singles = [p for p in singles if KNOWN_DUPLICATES.get(p.name) not in duplicated]
    work = args.keep or Path(tempfile.mkdtemp(prefix="cull-eval-"))
    try:
        if args.generator == "shifted":
            bursts = make_bursts(sources, work / "bursts", rng, exposure_away_from_normal=args.exposure_away_from_normal, reuse=args.reuse)
            face_bursts = make_bursts([p for p, _ in portraits], work / "faces", rng, frames_per_burst=(4, 6), defects=FACE_DEFECTS, geometry=("shift", "none"), prefix="f", both_exposures=True, start=datetime(2024, 6, 2, 9, 0, 0), reuse=args.reuse)
        else:
            from photocritic.training.culling.generators import write_bursts

            bursts = write_bursts(args.generator, sources, work / "bursts", rng)
            face_bursts = write_bursts(args.generator, [p for p, _ in portraits], work / "faces", rng, frames=(4, 6), portrait=True, prefix="f", start=datetime(2024, 6, 2, 9))
        files = [f.path for b in bursts + face_bursts for f in b.frames] + singles
        started = time.perf_counter()
        scorer = Scorer(catalog=work / "catalog.sqlite")
        weights = None
        if args.ranker is not None:
            from photocritic.culling.ranking import RankWeights

            weights = RankWeights(learned=json.loads(args.ranker.read_text())["weights"])
        try:
            records = cull_records(scorer, files, weights=weights)
        finally:
            scorer.close()
        elapsed = time.perf_counter() - started
        result = evaluate(bursts, singles, records, face_bursts)
        if args.keep is not None:  # what ranking read, so ranking changes can be tried without culling again
            with open(work / "records.jsonl", "w") as out:
                out.writelines(json.dumps(r, default=str) + "\n" for r in records)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['bursts']} bursts + {result['face_bursts']} face bursts ({result['frames']} frames) + {result['singles']} unrelated photos, "
          f"generator {args.generator}, split {args.split or 'none'}, seed {args.seed}, {elapsed:.0f} s")
    for name, part in (("all", result), ("bursts with EXIF times", result["exif"]), ("bursts without EXIF", result["no_exif"])):
        print(f"  {name:24s} pairwise precision {part['precision']:.3f}  recall {part['recall']:.3f}  F1 {part['f1']:.3f}")
    print(f"  pick is the clean frame in {result['pick_clean'] * 100:.1f}% of bursts")
    if result["face_bursts"]:
        print(f"  pick is the clean frame in {result['face_pick_clean'] * 100:.1f}% of face bursts; frames claimed to blink: {len(result['false_blinks'])} {result['false_blinks'][:5]}")
        for miss in result["wrong_face_picks"]:
            print(f"    wrong face pick: {miss}")
    print(f"  unrelated photos merged into a group: {len(result['merged_singles'])} {result['merged_singles'][:10]}")
    for miss in result["wrong_picks"]:
        print(f"    wrong pick: {miss}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
