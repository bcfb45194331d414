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
FACE_SOURCE = "metadata-extractor-dotnet issue 51.jpg"


def load_eval_module():
    spec = importlib.util.spec_from_file_location("eval_culling", ROOT / "benchmarks" / "eval_culling.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_culling"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def evalmod():
    return load_eval_module()


def close_eyes(image: Image.Image) -> Image.Image:
    """Blur the eye band of every face whose eyes the cascade finds: a stand-in for a blink."""
    from photocritic.culling.faces import FACE_LONG_SIDE, detect_faces

    scale = max(image.size) / FACE_LONG_SIDE
    small = image.copy()
    small.thumbnail((FACE_LONG_SIDE, FACE_LONG_SIDE))
    out = image.copy()
    for face in detect_faces(np.asarray(small)).faces:
        if not face.eyes:
            continue
        x, y, w, h = (int(v * scale) for v in face.box)
        band = (x + int(w * 0.12), y + int(h * 0.2), x + int(w * 0.88), y + int(h * 0.5))
        out.paste(out.crop(band).filter(ImageFilter.GaussianBlur(w * 0.05)), band[:2])
    return out


@pytest.fixture(scope="session")
def burst_set(shared_data, tmp_path_factory, evalmod):
    """Bursts with and without EXIF times, a blink burst, and unrelated singles."""
    from datetime import datetime, timedelta

    photos = shared_data / "photos"
    work = tmp_path_factory.mktemp("bursts")
    rng = random.Random(7)
    with_exif = evalmod.make_bursts([photos / n for n in EXIF_SOURCES], work / "exif", rng, exif_share=1.0)
    without = evalmod.make_bursts([photos / n for n in PLAIN_SOURCES], work / "plain", rng, exif_share=0.0)
    # a portrait burst: the clean frame, a blink, and a slightly shifted frame
    face_dir = work / "face"
    face_dir.mkdir()
    base = evalmod._load(photos / FACE_SOURCE, 1024)
    start = datetime(2024, 7, 1, 15, 0, 0)
    face_frames = {
        "clean": base,
        "blink": close_eyes(base),
        "shift_blink": close_eyes(evalmod.apply_geometry(base, "shift", rng)),
    }
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
