"""Eye state ("eyes closed") precision and recall per face on the real photos of ../shared/data/faces.

The folder is split once, before any threshold was chosen, into a tuning half and a held-out half by a
hash of the *person* (photos of one person or one shoot share a key, see :func:`person_key`), so no one
is in both halves. ``EAR_CLOSED`` in ``photocritic.culling.faces`` was chosen on the tuning half only;
the held-out half is reported first.

    python benchmarks/eval_faces.py                 # held-out, then tuning, then all
    python benchmarks/eval_faces.py --sweep         # EAR thresholds on the TUNING half only
    python benchmarks/eval_faces.py --time          # face step cost per photo with faces (2 threads)

Counting, per face: a face in ``closed/`` claimed closed is a true positive; a face listed in the
MANIFEST but not claimed closed (missed, unknown, or called open) is a false negative; every "closed"
claim on a face in ``open/`` is a false positive (a false face called closed counts against us too).
``mei__Kodak_DX6490.jpg`` holds one closed-eyed baby and one open-eyed man: one "closed" claim there
is a true positive, any further one a false positive, and the man is not counted as a closed face.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACES = ROOT.parent / "shared" / "data" / "faces"
MIXED = {"closed/mei__Kodak_DX6490.jpg": 1}  # closed faces among the listed ones


def person_key(file: str) -> str:
    """The same person (or the same couple) must not be on both sides of the split."""
    stem = Path(file).stem
    if stem.startswith("ibmmax__Paul"):
        return "ibmmax__Paul"
    if stem.startswith("photoprism__face-testdata"):
        return "photoprism__face-testdata"
    return stem


def split_of(file: str) -> str:
    """'tuning' or 'held-out', fixed by a hash of the person key (decided before any tuning)."""
    return "tuning" if hashlib.sha1(person_key(file).encode()).digest()[0] % 2 == 0 else "held-out"


def manifest(folder: Path = FACES) -> list[dict]:
    with open(folder / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["faces"] = int(row["faces"])
        row["split"] = split_of(row["file"])
    return rows


def analyse(rows: list[dict], folder: Path = FACES, threads: int = 1) -> list[dict]:
    """One entry per photo: the decoded faces with their eye states."""
    from photocritic.culling.faces import FACE_LONG_SIDE, detect_faces
    from photocritic.imaging import decode_for_model

    out = []
    for row in rows:
        pixels = decode_for_model(folder / row["file"], long_side=FACE_LONG_SIDE, draft_headroom=1.0).pixels
        out.append({**row, "found": detect_faces(pixels, threads=threads).faces})
    return out


def counts(results: list[dict], threshold: float | None = None) -> dict:
    """TP/FP/FN per face; *threshold* re-decides closed from the measured EAR (for the sweep)."""
    tp = fp = fn = unknown = detected = listed = 0
    for r in results:
        claims = 0
        for face in r["found"]:
            closed = face.eyes_closed
            if threshold is not None and closed is not None:
                closed = sum(face.ear) / 2 < threshold
            claims += bool(closed)
            unknown += closed is None
        detected += len(r["found"])
        listed += r["faces"]
        if r["state"] == "open":
            fp += claims
            continue
        closed_faces = MIXED.get(r["file"], r["faces"])
        tp += min(claims, closed_faces)
        fp += max(0, claims - closed_faces)
        fn += max(0, closed_faces - claims)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "faces_listed": listed, "faces_found": detected, "no_eye_state": unknown}


def _line(label: str, c: dict) -> str:
    return (
        f"{label:9s} closed-eye precision {c['precision']:.3f} recall {c['recall']:.3f} "
        f"(TP {c['tp']}, FP {c['fp']}, FN {c['fn']}); faces found {c['faces_found']} of {c['faces_listed']} listed, "
        f"{c['no_eye_state']} without an eye state"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="EAR thresholds on the tuning half")
    parser.add_argument("--time", action="store_true", help="time the face step (2 threads) on the photos with faces")
    parser.add_argument("--list", action="store_true", help="each photo's faces and EARs")
    args = parser.parse_args(argv)
    if not FACES.is_dir():
        print(f"no {FACES}", file=sys.stderr)
        return 2
    rows = manifest()
    if args.sweep:
        tuning = analyse([r for r in rows if r["split"] == "tuning"])
        for t in [0.10, 0.12, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.20, 0.22, 0.24]:
            print(_line(f"EAR<{t:.2f}", counts(tuning, t)))
        return 0
    if args.time:
        return _time(rows)
    results = analyse(rows)
    for split in ("held-out", "tuning"):
        part = [r for r in results if r["split"] == split]
        print(_line(split, counts(part)) + f"; {len(part)} photos")
    print(_line("all", counts(results)) + f"; {len(results)} photos")
    if args.list:
        for r in results:
            ears = ", ".join("?" if f.ear is None else f"{sum(f.ear) / 2:.3f}{'' if f.eyes_closed is not None else '(no state)'}" for f in r["found"])
            print(f"{r['split']:8s} {r['state']:6s} {r['faces']} {len(r['found'])} {r['file']}: {ears}")
    return 0


def _time(rows: list[dict]) -> int:
    """Cost of detect_faces (detector on the photo and its tiles, landmarks per face, eyelids, face
    measures) per photo with faces, at FACE_LONG_SIDE; the decode is not counted (culling decodes each
    look-alike at this size for its grain and sharpness anyway).

    Two figures: CPU time with one thread per photo (what each of culling's two workers spends, so
    on 2 cores the step adds CPU/2 per photo), and wall time with two threads on one photo at a time,
    which depends on what else the machine is doing (the load average is printed with it)."""
    import numpy as np

    from photocritic.culling.faces import FACE_LONG_SIDE, detect_faces
    from photocritic.imaging import decode_for_model

    images = [decode_for_model(FACES / r["file"], long_side=FACE_LONG_SIDE, draft_headroom=1.0).pixels for r in rows]
    # one thread, then two: ONNX Runtime's pool threads spin for a while after a run, and that CPU time
    # would be counted against the next single-threaded call if the two were interleaved
    cpu, wall, found = [], [], []
    for pixels in images:  # sessions are opened, and buffers for each batch size allocated, once per process
        detect_faces(pixels, threads=1)
    for pixels in images:
        start = time.process_time()
        found.append(detect_faces(pixels, threads=1).count)
        cpu.append(time.process_time() - start)
    for pixels in images:
        detect_faces(pixels, threads=2)
    for pixels in images:
        start = time.perf_counter()
        detect_faces(pixels, threads=2)
        wall.append(time.perf_counter() - start)
    cpu, wall = np.array(cpu) * 1000, np.array(wall) * 1000
    faces = np.array(found) > 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{faces.sum()} photos with faces ({sum(found)} faces), {FACE_LONG_SIDE} px long side:")
    print(f"  CPU, 1 thread: {cpu[faces].mean():.1f} ms mean, {np.median(cpu[faces]):.1f} ms median, {cpu[faces].max():.1f} ms max per photo"
          f" -> {cpu[faces].mean() / 2:.1f} ms per photo on 2 cores with culling's 2 workers")
    print(f"  wall, 2 threads: {wall[faces].mean():.1f} ms mean, {np.median(wall[faces]):.1f} ms median (load average {load:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
