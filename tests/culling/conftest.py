"""Fixtures for culling: real photos from ../shared/data/photos turned into bursts, scored once per session."""
from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[2]

# chosen for variety (landscape, city, people, objects), not for how well they cull
EXIF_SOURCES = ["Canon EOS 350D.jpg", "Nikon D3100.jpg", "Apple iPhone 5.jpg"]
PLAIN_SOURCES = ["Canon PowerShot G11.jpg", "Olympus E-20.jpg"]
SINGLES = ["Canon EOS 450D.jpg", "Nokia Lumia 800.jpg", "Sony DSC-H9.jpg", "Kodak DX4900 Zoom.jpg", "Pentax Optio 430.jpg", "Apple iPhone 4.jpg"]
#: the studio portrait of issue 16: a normal low-key exposure with her eyes open
FACE_SOURCE = "Canon EOS 7D.jpg"


def load_eval_module():
    spec = importlib.util.spec_from_file_location("eval_culling", ROOT / "benchmarks" / "eval_culling.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_culling"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def evalmod():
    return load_eval_module()


@pytest.fixture(scope="session")
def burst_set(shared_data, tmp_path_factory, evalmod):
    """Bursts with and without EXIF times, a portrait burst, and unrelated singles."""
    from datetime import datetime, timedelta

    photos = shared_data / "photos"
    work = tmp_path_factory.mktemp("bursts")
    rng = random.Random(7)
    with_exif = evalmod.make_bursts([photos / n for n in EXIF_SOURCES], work / "exif", rng, exif_share=1.0)
    without = evalmod.make_bursts([photos / n for n in PLAIN_SOURCES], work / "plain", rng, exif_share=0.0)
    # issue 16's portrait burst: the untouched low-key studio frame, a blurred copy, a copy brightened
    # 1.6x (skin blown), and a shifted copy darkened 1.5 stops
    face_dir = work / "face"
    face_dir.mkdir()
    base = evalmod._load(photos / FACE_SOURCE, 1024)
    start = datetime(2024, 7, 1, 15, 0, 0)
    brighter = Image.fromarray(np.clip(np.asarray(base, np.float32) * 1.6, 0, 255).astype(np.uint8))
    darker = evalmod.apply_defect(evalmod.apply_geometry(base, "shift", rng), "dark", random.Random(3))
    face_frames = {"clean": base, "blurred": base.filter(ImageFilter.GaussianBlur(4)), "blown": brighter, "dark": darker}
    face_paths = {}
    for n, (name, image) in enumerate(face_frames.items()):
        path = face_dir / f"portrait_{n}_{name}.jpg"
        evalmod.save_frame(image, path, start + timedelta(seconds=0.4 * n), ("Synthetic", "Portrait Cam"))
        face_paths[name] = path
    singles = [photos / n for n in SINGLES]
    return {"bursts": with_exif + without, "face": face_paths, "singles": singles, "work": work}


@pytest.fixture(scope="session")
def culled(burst_set, tmp_path_factory):
    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    files = [f.path for b in burst_set["bursts"] for f in b.frames] + list(burst_set["face"].values()) + burst_set["singles"]
    catalog = tmp_path_factory.mktemp("catalog") / "c.sqlite"
    scorer = Scorer(catalog=catalog)
    try:
        records = cull_records(scorer, files)
    finally:
        scorer.close()
    return {"records": records, "by_path": {r["path"]: r for r in records}, "catalog": catalog}


@pytest.fixture(scope="session")
def as_candidates():
    """frames (RGB arrays at 1024 px), scores -> rank_group's candidates, measured as culling measures them
    (no faces looked for)."""
    from photocritic.culling.faces import inspect_pixels
    from photocritic.culling.pipeline import _subject_evidence
    from photocritic.culling.ranking import Candidate
    from photocritic.models.technical import technical_measures

    def build(frames: list[np.ndarray], scores: list[float]) -> list:
        members = []
        for k, (frame, score) in enumerate(zip(frames, scores)):
            small = Image.fromarray(frame)
            small.thumbnail((512, 512))
            report = inspect_pixels(frame, find_faces=False)
            members.append(Candidate(k, score, technical_measures(np.asarray(small)), faces=0, grain=report.noise, sharpness=report.sharpness, tones=report.tones,
                                     detail=report.detail, **_subject_evidence(report)))
        return members

    return build
