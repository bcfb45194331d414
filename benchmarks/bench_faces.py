"""Where the face step's time goes: `photocritic.culling.faces.detect_faces` per photo with faces, by stage.

    python benchmarks/bench_faces.py                # 3 passes over ../shared/data/faces at 1024 px
    python benchmarks/bench_faces.py --repeats 5

CPU time of one thread per photo (each of culling's two workers runs one photo on one thread, so on 2
cores the step adds CPU / 2 per photo), after a warm-up pass (sessions opened, buffers allocated).
Each photo is timed *repeats* times and its fastest pass is kept: on a shared machine the other passes
measure the neighbours as much as the code (the mean over all passes is printed too, with the load
average). Stages: the three networks (time inside ONNX Runtime's ``run``, per input), the face measures
(:func:`photocritic.culling.faces.measure_face`: sharpness, clipping, skin), and the rest (decoding
BlazeFace's output, suppression, resizing the tiles, warping the face and eye crops). Not counted, because
culling does them for every look-alike with or without faces: decoding the photo at this size and its
5x5 box mean (``frames.smooth_rgb``, which the faces' clipping is read from). The last line checks that
by timing what the step adds in culling itself: ``inspect_pixels`` with faces minus without, in the same run.
Machines differ (the same code measured 32.5 and 16.1 ms CPU a photo on two 2-core machines of this
project), so the decode of the same photos is timed in the same run as a yardstick.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FACES = ROOT.parent / "shared" / "data" / "faces"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if not FACES.is_dir():
        print(f"no {FACES}", file=sys.stderr)
        return 2
    import photocritic.culling.faces as faces
    import photocritic.engine as engine
    from photocritic.imaging import decode_for_model

    files = sorted(p for p in FACES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    images = [decode_for_model(p, long_side=faces.FACE_LONG_SIDE, draft_headroom=1.0).pixels for p in files]
    # the yardstick, in the same run: decoding the same photos at this size (what culling does for every
    # look-alike, faces or not), fastest of the passes; the step's cost in decodes travels between machines
    decode = np.full(len(files), np.inf)
    for _ in range(args.repeats):
        for k, path in enumerate(files):
            start = time.process_time()
            decode_for_model(path, long_side=faces.FACE_LONG_SIDE, draft_headroom=1.0)
            decode[k] = min(decode[k], time.process_time() - start)
    smooths = [faces.smooth_rgb(pixels) for pixels in images]

    spent: dict[str, float] = collections.defaultdict(float)  # stage -> CPU seconds in the current call
    inputs: collections.Counter = collections.Counter()
    opened = engine.open_session

    class Timed:
        def __init__(self, session, name):
            self.session, self.name = session, name

        def run(self, outputs, feeds):
            start = time.process_time()
            out = self.session.run(outputs, feeds)
            spent[self.name] += time.process_time() - start
            inputs[self.name] += len(next(iter(feeds.values())))
            return out

    engine.open_session = lambda path, threads=None: Timed(opened(path, threads), Path(path).stem)
    measure = getattr(faces, "measure_face", None)

    def timed_measure(*a, **k):
        start = time.process_time()
        out = measure(*a, **k)
        spent["face measures"] += time.process_time() - start
        return out

    if hasattr(faces, "measure_face"):  # (older code measured faces inline: counted in the rest)
        faces.measure_face = timed_measure
    for pixels, smooth in zip(images, smooths):  # warm-up
        faces.detect_faces(pixels, threads=1, smooth=smooth)
    best = np.full(len(images), np.inf)
    total = np.zeros(len(images))
    stages = [dict() for _ in images]
    found = [0] * len(images)
    for _ in range(args.repeats):
        for k, pixels in enumerate(images):
            spent.clear()
            inputs.clear()
            start = time.process_time()
            found[k] = faces.detect_faces(pixels, threads=1, smooth=smooths[k]).count
            cpu = time.process_time() - start
            total[k] += cpu
            if cpu < best[k]:
                best[k] = cpu
                stages[k] = {**spent, "rest": cpu - sum(spent.values()), "_inputs": dict(inputs)}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with_faces = [k for k in range(len(images)) if found[k]]
    ms = best[with_faces] * 1000
    print(f"{len(with_faces)} photos with faces ({sum(found)} faces), {faces.FACE_LONG_SIDE} px, fastest of {args.repeats} passes, "
          f"load average {load:.1f} on {os.cpu_count()} cores:")
    print(f"  CPU, 1 thread: {ms.mean():.1f} ms mean, {np.median(ms):.1f} ms median, {ms.max():.1f} ms max per photo "
          f"-> {ms.mean() / 2:.1f} ms per photo on 2 cores with culling's 2 workers "
          f"(mean of all passes: {total[with_faces].mean() / args.repeats * 1000:.1f} ms)")
    print(f"  yardstick: decoding the same photos at {faces.FACE_LONG_SIDE} px {decode[with_faces].mean() * 1000:.1f} ms CPU per photo: "
          f"the step costs {ms.mean() / (decode[with_faces].mean() * 1000):.2f} decodes")
    names = sorted({s for k in with_faces for s in stages[k] if not s.startswith("_")}, key=lambda s: -sum(stages[k].get(s, 0) for k in with_faces))
    for name in names:
        per_photo = sum(stages[k].get(name, 0.0) for k in with_faces) / len(with_faces) * 1000
        count = sum(stages[k]["_inputs"].get(name, 0) for k in with_faces)
        extra = f", {count} inputs, {per_photo * len(with_faces) / count:.2f} ms each" if count else ""
        print(f"    {name:28s} {per_photo:5.1f} ms per photo{extra}")
    faces.measure_face = measure
    engine.open_session = opened
    with_, without = np.full(len(images), np.inf), np.full(len(images), np.inf)
    for _ in range(args.repeats):
        for k in with_faces:
            for found_faces, fastest in ((True, with_), (False, without)):
                start = time.process_time()
                faces.inspect_pixels(images[k], find_faces=found_faces, threads=1)
                fastest[k] = min(fastest[k], time.process_time() - start)
    added = (with_[with_faces] - without[with_faces]) * 1000
    print(f"  in culling (inspect_pixels with faces minus without, fastest of {args.repeats} each): {added.mean():.1f} ms CPU per photo "
          f"-> {added.mean() / 2:.1f} ms on 2 cores (without faces: {without[with_faces].mean() * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
