"""Cost of the technical measures per photo at the working size (512 px long side), on one core.

    python benchmarks/bench_measures.py --n 40 --passes 5
    git show 39614dc:src/photocritic/models/technical.py > /tmp/technical_scipy.py   # the scipy version
    python benchmarks/bench_measures.py --n 40 --passes 5 --also /tmp/technical_scipy.py

Photos are decoded once, before timing; each pass measures all of them; the best pass counts (other
processes on the machine only ever add time). With --also, another file defining
``technical_measures`` is timed in the same run, alternating passes, and the largest relative
difference between the two implementations' values is printed.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from photocritic.imaging import PhotoError, decode_for_model  # noqa: E402
from photocritic.models.technical import technical_measures  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "data" / "photos"


def load(path: Path):
    spec = importlib.util.spec_from_file_location("other_technical", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.technical_measures


def best_ms(fn, images, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for pixels in images:
            fn(pixels)
        best = min(best, (time.perf_counter() - start) / len(images) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--also", type=Path, default=None, help="another technical.py to time in the same run")
    args = parser.parse_args()
    images = []
    for path in sorted(args.photos.iterdir()):
        try:
            images.append(decode_for_model(path).pixels)
        except PhotoError:
            continue
        if len(images) == args.n:
            break
    shapes = {p.shape[:2] for p in images}
    print(f"{len(images)} photos, {len(shapes)} working sizes, e.g. {images[0].shape[1]}x{images[0].shape[0]}")
    other = load(args.also) if args.also else None
    shipped = best_ms(technical_measures, images, args.passes)
    print(f"technical_measures (shipped): {shipped:.2f} ms per photo")
    if other:
        then = best_ms(other, images, args.passes)
        print(f"technical_measures ({args.also}): {then:.2f} ms per photo ({then / shipped:.2f}x the shipped)")
        worst = 0.0
        for pixels in images:
            a, b = technical_measures(pixels), other(pixels)
            worst = max([worst] + [abs(a[k] - b[k]) / max(abs(b[k]), 1e-3) for k in a])
        print(f"largest relative difference of any measure: {worst:.2e}")


if __name__ == "__main__":
    main()
