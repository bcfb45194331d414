"""Reasons that respect intent: a dark frame is called underexposed only as far as its own brightest tones
show it, never by more than a few stops, and an empty frame is only called what its flag says."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
from PIL import Image

from tests.cli.test_errors_and_help import run_cli

STAR_TRAILS = "solus-artwork__circumpolar-trails-sunset.jpg"  # scored 8.1: dark by intent
BLACK = "Sony DSC-P12.jpg"
WELL_EXPOSED = "Oppo R7 Plus.jpg"


def darkened(source, target, stops: float) -> None:
    """*source* with its light divided by 2**stops (in linear light, as a camera would record it)."""
    rgb = np.asarray(Image.open(source).convert("RGB"), dtype=np.float64) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4) / 2**stops
    encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    Image.fromarray(np.round(encoded * 255).astype(np.uint8)).save(target, quality=95)


def test_exposure_reasons_name_a_defect_only_where_the_frame_shows_one(shared_data, tmp_path):
    for name, folder in ((STAR_TRAILS, "professional"), (BLACK, "photos"), (WELL_EXPOSED, "photos")):
        shutil.copy2(shared_data / folder / name, tmp_path / name)
    darkened(shared_data / "photos" / WELL_EXPOSED, tmp_path / "three stops under.jpg", 3.0)
    result = run_cli("score", str(tmp_path), "-f", "jsonl", "--explain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reasons = {r["path"].rsplit("/", 1)[-1]: r["reasons"] for r in map(json.loads, result.stdout.splitlines())}
    assert not [r for r in reasons[STAR_TRAILS] if "exposed" in r or "dark side" in r], reasons[STAR_TRAILS]
    assert reasons[BLACK] == ["almost entirely black"]  # not "underexposed by about 19.5 stops"
    assert not [r for r in reasons[WELL_EXPOSED] if "exposed by" in r], reasons[WELL_EXPOSED]
    claims = [r for r in reasons["three stops under.jpg"] if r.startswith("underexposed by")]
    assert len(claims) == 1, reasons["three stops under.jpg"]
    stops = float(re.search(r"([\d.]+) stops", claims[0]).group(1))
    assert 2.0 <= stops <= 4.0, claims  # what was done to it, within the cap
