"""What draft headroom costs and buys: decode time, and sharpness stability under a 0.75x resize.

    python benchmarks/bench_decode.py [--data ../shared/data] [--n 40] [--passes 2]

For the first N camera snapshots (`photos/`, up to 2048 px), professional photos (`professional/`,
1280 px) and full-resolution originals (`photos-fullres/`, 8-20 MP), decodes each to the 512 px working
image with ``draft_headroom`` 1 (libjpeg scaled straight to the working size) and 2 (the default:
at least twice the working size, then resized), best of the passes. Then, for the professional
photos, the sharpness measure of a q95 re-encode against that of a 0.75x Lanczos resize (q95), both
decoded the same way: the smaller the gap, the less the measures depend on the file's resolution.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from photocritic.imaging.decode import decode_for_model  # noqa: E402
from photocritic.models.technical import technical_measures  # noqa: E402

HEADROOMS = (1.0, 2.0)


def decode_ms(files: list[Path], headroom: float, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for path in files:
            decode_for_model(path, draft_headroom=headroom)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(files)


def resize_gaps(files: list[Path], workdir: Path) -> dict[float, list[float]]:
    gaps: dict[float, list[float]] = {h: [] for h in HEADROOMS}
    for path in files:
        with Image.open(path) as image:
            full = image.convert("RGB")
        variants = {}
        for name, img in (("q95", full), ("resize075", full.resize((round(full.width * 0.75), round(full.height * 0.75)), Image.Resampling.LANCZOS))):
            buffer = io.BytesIO()
            img.save(buffer, format="JPEG", quality=95)
            variants[name] = workdir / f"{name}.jpg"
            variants[name].write_bytes(buffer.getvalue())
        for headroom in HEADROOMS:
            a, b = (technical_measures(decode_for_model(variants[k], draft_headroom=headroom).pixels)["sharpness"] for k in ("q95", "resize075"))
            gaps[headroom].append(abs(a - b))
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    sets = {name: sorted((args.data / name).glob("*.jpg"))[: args.n] for name in ("photos", "professional", "photos-fullres")}
    result: dict = {"decode_ms_per_photo": {}}
    for name, files in sets.items():
        result["decode_ms_per_photo"][name] = {f"headroom_{h:g}": round(decode_ms(files, h, args.passes), 1) for h in HEADROOMS}
        result["decode_ms_per_photo"][name]["n"] = len(files)
    with tempfile.TemporaryDirectory() as tmp:
        gaps = resize_gaps(sets["professional"], Path(tmp))
    result["sharpness_gap_q95_vs_resize075_log10"] = {
        f"headroom_{h:g}": {"median": round(float(np.median(g)), 3), "p90": round(float(np.quantile(g, 0.9)), 3)} for h, g in gaps.items()
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
