"""The working size's decode, chosen anew with the default retrained (issue 27): libjpeg's DCT scale straight to
the 512 px working size (``draft_headroom`` 1: 1/8 for most camera originals) against the shipped headroom 2
(at least twice the working size, then an averaging resize). What each costs and what each does to the scores.

    python benchmarks/bench_working_size.py --rounds 3

* speed: the decode floor (bench_engine's: the files opened at 1024 px with DCT scaling, 2 threads) and
  ``Scorer("default")`` with each headroom, interleaved over the rounds, on the 12 full-resolution originals
  of ``../shared/data/photos-fullres/`` times ``--copies`` (symbolic links); photos/s and the share of the floor.
* scores: on the 457 curated photos (1280 px) and the 12 originals, the default's score with headroom 1 against
  headroom 2, and how far a q95 re-encode and a 0.75x resize of each curated photo move its score under each.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import photocritic.scoring as scoring  # noqa: E402
from bench_engine import decode_floor, rate  # noqa: E402
from photocritic.imaging.decode import decode_for_model  # noqa: E402
from photocritic.scoring import Scorer  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def with_headroom(headroom: float):
    """Scoring's decoder with *headroom* (the pipeline reads it through ``photocritic.scoring``)."""
    scoring.decode_for_model = functools.partial(decode_for_model, draft_headroom=headroom)


def scores(files: list[str], headroom: float) -> np.ndarray:
    with_headroom(headroom)
    records = {r["path"]: r["score"] for r in Scorer("default", use_catalog=False).iter_records(files)}
    return np.array([records[os.path.abspath(f)] for f in files])


def speed(files: list[str], rounds: int) -> dict:
    got: dict[str, list[float]] = {"decode_floor": [], "headroom_2": [], "headroom_1": []}
    scores(files[:16], 2.0)  # warm
    for _ in range(rounds):
        got["decode_floor"].append(rate(len(files), lambda: decode_floor(files)))
        for headroom in (2.0, 1.0):
            got[f"headroom_{headroom:.0f}"].append(rate(len(files), lambda h=headroom: scores(files, h)))
    floor = float(np.median(got["decode_floor"]))
    return {k: {"photos_per_s": round(float(np.median(v)), 2), "share_of_floor": round(float(np.median(v)) / floor, 3),
                "runs": [round(x, 2) for x in v]} for k, v in got.items()}


def robustness(files: list[Path], work: Path) -> dict:
    """Score change from a q95 re-encode and from a 0.75x resize, under each headroom."""
    variants: dict[str, list[str]] = {"q95": [], "resize075": []}
    for path in files:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        for kind, copy in (("q95", rgb), ("resize075", rgb.resize((round(rgb.width * 0.75), round(rgb.height * 0.75)), Image.Resampling.LANCZOS))):
            target = work / f"{kind}-{path.stem}.jpg"
            buffer = io.BytesIO()
            copy.save(buffer, format="JPEG", quality=95)
            target.write_bytes(buffer.getvalue())
            variants[kind].append(str(target))
    out = {}
    for headroom in (2.0, 1.0):
        q95, resized = scores(variants["q95"], headroom), scores(variants["resize075"], headroom)
        gap = np.abs(q95 - resized)
        out[f"headroom_{headroom:.0f}"] = {"q95_vs_resize075_median": round(float(np.median(gap)), 3),
                                            "p90": round(float(np.percentile(gap, 90)), 3), "share_within_0.1": round(float(np.mean(gap < 0.1)), 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    originals = sorted(str(p) for p in (DATA / "photos-fullres").iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    curated = sorted((DATA / "professional").glob("*.jpg"))
    result: dict = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = []
        for k in range(args.copies):
            for path in originals:
                link = work / f"{k}-{Path(path).name}"
                link.symlink_to(path)
                files.append(str(link))
        result["speed"] = speed(files, args.rounds)
        for name, group in (("curated", [str(p) for p in curated]), ("originals", originals)):
            delta = scores(group, 1.0) - scores(group, 2.0)
            result[f"score_change_headroom_1_vs_2_{name}"] = {"mean": round(float(delta.mean()), 3),
                                                              "mean_abs": round(float(np.abs(delta).mean()), 3),
                                                              "max_abs": round(float(np.abs(delta).max()), 3), "n": len(delta)}
        result["robustness_curated"] = robustness(curated[::4], work)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
