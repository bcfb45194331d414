"""`photocritic cull` over each folder of ../shared/data: one record per photo, no traceback (issue 16)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from photocritic.imaging.decode import PHOTO_EXTENSIONS

FOLDERS = ["jpeg-edge-cases", "ava", "photos-fullres", "faces", "photos", "professional"]


@pytest.mark.slow
@pytest.mark.parametrize("folder", FOLDERS)
def test_cull_gives_a_record_per_photo(folder, shared_data, tmp_path):
    root = shared_data / folder
    if not root.is_dir():
        pytest.skip(f"no {root}")
    photos = sorted(
        os.path.realpath(os.path.join(d, name))
        for d, _, names in os.walk(root)
        for name in names
        if os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS and not name.startswith(".")
    )
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(tmp_path / "c.sqlite")}
    result = subprocess.run([sys.executable, "-m", "photocritic", "cull", str(root), "-r", "-f", "jsonl", "-q"],
                            capture_output=True, text=True, env=env, timeout=3000)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if not photos:  # ava/ holds only the AVA lists: a usage error, said in one line
        assert result.returncode == 2 and "no photos found" in result.stderr
        return
    assert result.returncode in (0, 1), result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert sorted(os.path.realpath(r["path"]) for r in records) == photos
    for record in records:
        assert record["reasons"], record
        assert (record["error"] is None) == (record["group"] is not None), record
