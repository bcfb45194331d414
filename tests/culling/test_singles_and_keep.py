"""`photocritic cull` on photos without look-alikes (flagged ones rejected, closed eyes and strong defects
said) and culling to a target (`--keep N`, `--keep 30%`), end to end in a subprocess on real photos."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

import photocritic
from photocritic.culling.xmp import read_rating

#: ../shared/data/photos: all black (flagged), 1x1 px (too small), flat (flagged), and ordinary photos
FLAGGED = {"Sony DSC-P12.jpg": "almost entirely black", "Issue 508.jpg": "too small to judge: 1x1 px", "Issue 614.jpg": "flat: almost no detail or tone"}
ORDINARY = ["Canon EOS 450D.jpg", "Nokia Lumia 800.jpg", "Sony DSC-H9.jpg"]


def run_cli(*args, catalog):
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog)}
    return subprocess.run([sys.executable, "-m", "photocritic", *args], capture_output=True, text=True, env=env, timeout=600)


def records_of(result) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.suffix.lower() != ".xmp"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return tmp_path_factory.mktemp("catalog") / "c.sqlite"  # scores are computed once for the module


def test_flagged_singles_are_rejects_with_their_flag_and_the_reject_rating(shared_data, tmp_path, catalog):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    for name in [*FLAGGED, ORDINARY[0]]:
        shutil.copy2(shared_data / "photos" / name, shoot / name)
    before = digests(shoot)

    got = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "--xmp", "--sidecar", "append", catalog=catalog))
    for name, flag in FLAGGED.items():
        record = got[name]
        assert record["pick"] is False and record["decision"] == "reject", record
        assert record["reasons"] == [f"{flag}, rejected"] and record["flags"] == [flag]
        assert read_rating(shoot / f"{name}.xmp") == 1  # the reject rating, without --rate-singles
    single = got[ORDINARY[0]]
    assert single["pick"] is True and single["decision"] == "pick" and single["reasons"][0] == "no similar photo: kept"
    assert not (shoot / f"{ORDINARY[0]}.xmp").exists()  # a kept single is rated only with --rate-singles

    rated = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", "--xmp", "--sidecar", "append", "--rate-singles",
                               "--reject-rating", "-1", catalog=catalog))
    assert all(rated[name]["pick"] is False for name in FLAGGED)
    assert all(read_rating(shoot / f"{name}.xmp") == -1 for name in FLAGGED)
    assert read_rating(shoot / f"{ORDINARY[0]}.xmp") == 4
    assert digests(shoot) == before  # photos untouched


def test_a_flagged_frame_is_never_the_pick_of_its_group(tmp_path, catalog):
    """Two all-black frames look alike; neither is kept, both are rejects that say why."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    Image.fromarray(np.zeros((400, 600, 3), np.uint8)).save(shoot / "black.jpg")
    Image.fromarray(np.zeros((400, 600, 3), np.uint8) + 1).save(shoot / "black_b.jpg")
    got = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", catalog=catalog))
    assert got["black.jpg"]["group"] == got["black_b.jpg"]["group"]
    for record in got.values():
        assert record["pick"] is False and record["reasons"] == ["almost entirely black, rejected"], record


def test_singles_say_closed_eyes_and_strong_defects(shared_data, tmp_path, catalog):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    closed = shared_data / "faces" / "closed" / "mei__JVC_GR-DC2000.jpg"  # a grandfather's eyes closed, and a sleeping baby
    open_ = shared_data / "faces" / "open" / "ibmmax__tom_cruise.jpg"
    dark = shared_data / "photos" / "Canon PowerShot S400.jpg"  # about 3.5 stops under
    for path in (closed, open_, dark):
        shutil.copy2(path, shoot / path.name)
    got = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", catalog=catalog))
    assert all(r["group_size"] == 1 and r["pick"] is True and r["reasons"][0] == "no similar photo: kept" for r in got.values())
    assert any(reason.startswith("eyes closed") for reason in got[closed.name]["reasons"]), got[closed.name]
    assert got[closed.name]["closed_eyes"] >= 1
    assert not any("eyes closed" in reason for reason in got[open_.name]["reasons"]), got[open_.name]
    assert got[open_.name]["faces"] == 1 and got[open_.name]["closed_eyes"] == 0
    assert any(reason.startswith("underexposed by") for reason in got[dark.name]["reasons"]), got[dark.name]


@pytest.fixture(scope="module")
def shoot_with_a_burst(shared_data, tmp_path_factory):
    """A burst of three (a real photo, a blurred and a darker copy with its EXIF), three
    unrelated photos and an all-black frame."""
    shoot = tmp_path_factory.mktemp("keep") / "shoot"
    shoot.mkdir()
    source = shared_data / "photos" / "Canon EOS 350D.jpg"
    shutil.copy2(source, shoot / "burst_0.jpg")
    image = Image.open(source)
    exif = image.getexif()
    image.filter(ImageFilter.GaussianBlur(6)).save(shoot / "burst_1.jpg", quality=92, exif=exif)
    darker = Image.fromarray((np.asarray(image, np.float32) * 0.8).astype(np.uint8))
    darker.save(shoot / "burst_2.jpg", quality=92, exif=exif)
    for name in [*ORDINARY, "Sony DSC-P12.jpg"]:
        shutil.copy2(shared_data / "photos" / name, shoot / name)
    return shoot


def test_keep_n_keeps_one_per_group_first_and_says_what_it_left_out(shoot_with_a_burst, catalog):
    shoot = shoot_with_a_burst
    full = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", catalog=catalog))
    burst = {n: r for n, r in full.items() if n.startswith("burst_")}
    assert len({r["group"] for r in burst.values()}) == 1, burst
    picks = sorted((r for r in full.values() if r["pick"]), key=lambda r: -r["score"])
    assert len(picks) == 4  # the burst's pick and three singles; the black frame is a reject

    result = run_cli("cull", str(shoot), "-f", "jsonl", "--keep", "3", catalog=catalog)
    got = records_of(result)
    kept = [n for n, r in got.items() if r["pick"]]
    assert len(kept) == 3 and all(got[n]["decision"] == "pick" for n in kept)
    assert sorted(kept) == sorted(Path(r["path"]).name for r in picks[:3])  # the best three groups' picks
    left = Path(picks[3]["path"]).name
    assert got[left]["pick"] is False and got[left]["decision"] == "left out"
    assert got[left]["reasons"][0] == "left out: --keep 3 reached" and "no similar photo: kept" not in got[left]["reasons"]
    assert "--keep 3: 3 kept, 1 left out" in result.stderr
    assert got["Sony DSC-P12.jpg"]["decision"] == "reject"

    # room for more than the groups: the burst's second-best frame comes next; the black frame never
    got = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", "--keep", "5", catalog=catalog))
    second = next(n for n, r in burst.items() if r["rank"] == 2)
    assert sorted(n for n, r in got.items() if r["pick"]) == sorted([*(Path(r["path"]).name for r in picks), second])
    assert got[second]["reasons"][0].startswith("kept: --keep 5 has room")
    everything = records_of(run_cli("cull", str(shoot), "-f", "jsonl", "-q", "--keep", "100%", catalog=catalog))
    assert [n for n, r in everything.items() if not r["pick"]] == ["Sony DSC-P12.jpg"]


def test_keep_a_share_with_xmp_csv_and_the_python_api(shoot_with_a_burst, catalog, tmp_path):
    shoot = tmp_path / "shoot"
    shutil.copytree(shoot_with_a_burst, shoot)
    before = digests(shoot)
    # 30% of 7 photos: 2 kept
    result = run_cli("cull", str(shoot), "-f", "csv", "--keep", "30%", "--xmp", "--sidecar", "append", "-o", str(tmp_path / "cull.csv"), catalog=catalog)
    assert result.returncode == 0, result.stderr
    rows = {Path(r["path"]).name: r for r in csv.DictReader((tmp_path / "cull.csv").open(encoding="utf-8"))}
    assert sorted(r["decision"] for r in rows.values()).count("pick") == 2
    left_out = [n for n, r in rows.items() if r["decision"] == "left out"]
    assert len(left_out) == 2 and all("left out: --keep 30% (2 of 7) reached" in rows[n]["reasons"] for n in left_out)
    for name, row in rows.items():  # every photo rated: the kept ones as picks, the rest as rejects
        assert read_rating(shoot / f"{name}.xmp") == (4 if row["decision"] == "pick" else 1), name
    assert digests(shoot) == before

    api = {Path(r["path"]).name: r for r in photocritic.cull(shoot, catalog=catalog, keep="30%")}
    assert {n: r["decision"] for n, r in api.items()} == {n: r["decision"] for n, r in rows.items()}
    with pytest.raises(ValueError, match="--keep"):
        photocritic.cull(shoot, catalog=catalog, keep="abc")


@pytest.mark.parametrize("value", ["0", "abc", "150%", "0%", "-3", "2.5"])
def test_bad_keep_values_are_usage_errors(value, tmp_path, shared_data):
    result = run_cli("cull", str(shared_data / "photos" / ORDINARY[0]), f"--keep={value}", catalog=tmp_path / "c.sqlite")
    assert result.returncode == 2, result.stderr
    assert "--keep" in result.stderr and "Traceback" not in result.stderr
    assert "keep at least 1 photo" in result.stderr or "--keep takes" in result.stderr, result.stderr


def test_help_teaches_keep_with_an_example(tmp_path):
    result = run_cli("cull", "--help", catalog=tmp_path / "c.sqlite")
    assert result.returncode == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "--keep" in text and "photocritic cull shoot/ --keep 20" in text
