"""A flagged frame (black, white, flat, too small) sorts below every judged photo for every model,
a personal taste model included: a taste learned from dark, moody picks must not crown a black frame."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

BLACK = "Sony DSC-P12.jpg"  # an all-black frame


def photocritic(*args, env):
    return subprocess.run([sys.executable, "-m", "photocritic", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def folders(shared_data, tmp_path_factory):
    """good/: the 12 darkest professional photos; bad/: 12 bright everyday ones; new/: 19 others and the black frame."""
    root = tmp_path_factory.mktemp("flagged")
    pro = sorted((shared_data / "professional").glob("*.jpg"))
    everyday = sorted(p for p in (shared_data / "photos").glob("*.jpg") if p.name != BLACK)
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(root / "catalog.sqlite")}
    scored = photocritic("score", *map(str, pro[:120]), *map(str, everyday[:60]), "-f", "jsonl", "-q", env=env)
    ev = {json.loads(line)["path"]: (json.loads(line)["technical"] or {}).get("exposure_ev", 0.0) for line in scored.stdout.splitlines()}
    dark = sorted((p for p in pro[:120] if str(p) in ev), key=lambda p: ev[str(p)])[:12]
    bright = sorted((p for p in everyday[:60] if str(p) in ev), key=lambda p: -ev[str(p)])[:12]
    for name, files in (("good", dark), ("bad", bright), ("new", everyday[60:79] + [shared_data / "photos" / BLACK])):
        (root / name).mkdir()
        for f in files:
            shutil.copy2(f, root / name / f.name)
    return root, env


def test_every_model_puts_the_black_frame_last_a_taste_for_dark_picks_and_its_blend_included(folders):
    root, env = folders
    for name, blend in (("taste", "0"), ("blend", "0.5")):
        fit = photocritic("taste", "fit", "--good", str(root / "good"), "--bad", str(root / "bad"), "--blend", blend, "-o", str(root / name), env=env)
        assert fit.returncode == 0, fit.stderr
    for model in (str(root / "taste"), str(root / "blend"), "default", "nima-ava"):
        run = photocritic("score", str(root / "new"), "--model", model, "--sort", "score", "-f", "jsonl", env=env)
        assert run.returncode == 0, run.stderr
        records = [json.loads(line) for line in run.stdout.splitlines()]
        assert len(records) == 20
        flagged = [r for r in records if r["flags"]]
        assert any(r["path"].endswith(BLACK) for r in flagged)
        assert records[-len(flagged):] == flagged, model  # every flagged frame below every judged photo
        judged = [r["score"] for r in records if not r["flags"]]
        assert all(r["score"] < min(judged) for r in flagged), model
