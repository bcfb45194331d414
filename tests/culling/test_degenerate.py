"""Degenerate photos (1x1, 1 px strips, blank frames) through every culling step: a record each, no crash."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from photocritic.culling.matching import agreeing_matches, keypoints


def test_keypoints_of_degenerate_images_are_empty_not_an_error():
    for shape in [(1, 1, 3), (1, 40, 3), (300, 1, 3), (20, 20, 3)]:
        found = keypoints(np.full(shape, 128, np.uint8))
        assert found.points.shape == (0, 2) and found.descriptors is None
    normal = keypoints(np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8))
    assert len(normal.points) > 0
    assert agreeing_matches(keypoints(np.zeros((1, 1, 3), np.uint8)), normal) == 0


def test_cull_gives_a_record_per_degenerate_photo(tmp_path):
    """Near-identical degenerate photos are borderline look-alikes: matching, hashes, faces and the
    contact sheet all see the blank frames (this crashed OpenCV's resize before). Photos too small to
    judge (1 px on a side) are never grouped: each is alone and says why, so a 1x1 pixel is never the
    pick over a real photo; the steps themselves still take them (below)."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    rng = np.random.default_rng(1)
    photos = {
        "one.png": np.full((1, 1, 3), 90, np.uint8),
        "one_b.png": np.full((1, 1, 3), 92, np.uint8),
        "strip.png": np.full((1, 300, 3), 200, np.uint8),
        "strip_b.png": np.full((1, 300, 3), 201, np.uint8),
        "column.png": np.full((300, 1, 3), 10, np.uint8),
        "black.jpg": np.zeros((400, 600, 3), np.uint8),
        "black_b.jpg": np.zeros((400, 600, 3), np.uint8) + 1,
        "white.jpg": np.full((400, 600, 3), 255, np.uint8),
        "noise.jpg": rng.integers(0, 255, (400, 600, 3), dtype=np.uint8),
    }
    for name, pixels in photos.items():
        Image.fromarray(pixels).save(shoot / name)
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(tmp_path / "c.sqlite")}
    result = subprocess.run([sys.executable, "-m", "photocritic", "cull", str(shoot), "-f", "jsonl", "--xmp",
                             "--report", str(tmp_path / "sheet")], capture_output=True, text=True, env=env, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(os.path.basename(r["path"]) for r in records) == sorted(photos)
    assert (tmp_path / "sheet" / "index.html").is_file()
    tiny = {"one.png", "one_b.png", "strip.png", "strip_b.png", "column.png"}
    for r in records:
        if os.path.basename(r["path"]) in tiny:
            assert r["group_size"] == 1 and r["reasons"][0].startswith("too small to judge"), r
    assert any(r["group_size"] > 1 for r in records if os.path.basename(r["path"]) in ("black.jpg", "black_b.jpg"))


def test_every_culling_step_takes_photos_too_small_to_judge(tmp_path):
    from photocritic.culling.faces import inspect_file
    from photocritic.culling.matching import keypoints_of_file
    from photocritic.culling.pipeline import perceptual_hash

    for name, shape in (("one.png", (1, 1, 3)), ("strip.png", (1, 300, 3)), ("column.png", (300, 1, 3))):
        Image.fromarray(np.full(shape, 90, np.uint8)).save(tmp_path / name)
        path = tmp_path / name
        report = inspect_file(path)
        assert report is not None and report.faces.count == 0
        found = keypoints_of_file(path)
        assert found is None or len(found.points) == 0
        bits = perceptual_hash(path)
        assert bits is None or 0 <= bits < 2**64
