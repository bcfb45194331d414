"""`photocritic cull` end to end in a subprocess: JSONL, sidecars, contact sheet, moving rejects and undo."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from photocritic.culling.xmp import read_rating


def run_cli(*args, catalog):
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog)}
    return subprocess.run([sys.executable, "-m", "photocritic", *args], capture_output=True, text=True, env=env, timeout=600)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cull_cli_end_to_end(burst_set, tmp_path):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    burst = next(b for b in burst_set["bursts"] if b.with_exif)
    for frame in burst.frames:
        shutil.copy2(frame.path, shoot / frame.path.name)
    single = burst_set["singles"][0]
    shutil.copy2(single, shoot / single.name)
    before = {p.name: digest(p) for p in shoot.iterdir()}
    catalog = tmp_path / "c.sqlite"

    result = run_cli("cull", str(shoot), "-f", "jsonl", "--xmp", "--sidecar", "append", "--reject-rating", "-1",
                     "--pick-label", "Green", "--report", str(tmp_path / "report"), catalog=catalog)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(before)
    group = [r for r in records if Path(r["path"]).name != single.name]
    assert len({r["group"] for r in group}) == 1 and sum(r["pick"] for r in group) == 1
    assert all(r["reasons"] for r in records)
    for record in group:
        assert read_rating(Path(record["path"]).with_name(Path(record["path"]).name + ".xmp")) == (4 if record["pick"] else -1)
    assert not (shoot / (single.name + ".xmp")).exists()  # no look-alike: not rated unless --rate-singles
    assert {p.name: digest(p) for p in shoot.iterdir() if p.suffix != ".xmp"} == before  # photos untouched
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "PICK" in html and single.name in html

    moved = run_cli("cull", str(shoot), "-f", "csv", "--move-rejects", str(shoot / "rejects"), "-q", catalog=catalog)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines()[0].startswith("path,group,group_size,rank,pick,score")
    rejects = [r for r in group if not r["pick"]]
    assert sorted(p.name for p in (shoot / "rejects").iterdir() if p.suffix.lower() == ".jpg") == sorted(Path(r["path"]).name for r in rejects)
    journal = next((shoot / "rejects").glob("photocritic-cull-*.json"))
    assert all(not Path(r["path"]).exists() for r in rejects)

    undone = run_cli("cull", "--undo", str(journal), catalog=catalog)
    assert undone.returncode == 0, undone.stderr
    assert {p.name: digest(p) for p in shoot.iterdir() if p.is_file() and p.suffix != ".xmp"} == before
    assert all(Path(r["path"] + ".xmp").exists() for r in group)  # sidecars came back too


def test_usage_errors_exit_2(tmp_path):
    catalog = tmp_path / "c.sqlite"
    assert run_cli("cull", catalog=catalog).returncode == 2
    assert run_cli("cull", str(tmp_path / "nowhere"), catalog=catalog).returncode == 2
    assert run_cli("cull", str(tmp_path), "--sidecar", "sideways", catalog=catalog).returncode == 2
