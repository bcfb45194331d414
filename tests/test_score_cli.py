"""`photocritic score` end to end: the real CLI in a subprocess, real photos, real malformed files."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import photocritic

REQUIRED = {"path", "score", "score_std", "distribution", "error", "width", "height", "taken_at", "camera", "technical"}


def run_cli(*args: str, catalog: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if catalog is not None:
        env["PHOTOCRITIC_CATALOG"] = str(catalog)
    return subprocess.run(
        [sys.executable, "-m", "photocritic", *args], capture_output=True, text=True, env=env, timeout=600, **kwargs
    )


@pytest.fixture(scope="module")
def photos_run(shared_data, tmp_path_factory):
    catalog = tmp_path_factory.mktemp("cat") / "catalog.sqlite"
    result = run_cli("score", str(shared_data / "photos"), "--format", "jsonl", catalog=catalog)
    return result, catalog


def test_scores_every_photo_in_the_folder(photos_run, shared_data):
    result, _ = photos_run
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = sorted(str(p) for p in (shared_data / "photos").iterdir())
    assert sorted(os.path.realpath(r["path"]) for r in records) == sorted(os.path.realpath(p) for p in expected)
    for record in records:
        assert REQUIRED <= record.keys()
        assert record["error"] is None
        distribution = np.array(record["distribution"])
        assert distribution.shape == (10,) and (distribution >= 0).all()
        assert abs(distribution.sum() - 1) < 1e-4
        assert abs(record["score"] - float(distribution @ np.arange(1, 11))) < 1e-3
        assert 1 <= record["score"] <= 10
    scores = np.array([r["score"] for r in records])
    assert scores.std() > 0.2  # photos are told apart, not all given one number
    with_time = [r for r in records if r["taken_at"]]
    assert len(with_time) > len(records) / 2  # most of these photos keep their EXIF


def test_second_run_is_served_from_the_catalog(photos_run, shared_data):
    first, catalog = photos_run
    second = run_cli("score", str(shared_data / "photos"), "--format", "jsonl", catalog=catalog)
    assert second.returncode == 0
    assert second.stdout == first.stdout
    assert "0 photos read from disk" in second.stderr and "185 from the catalog" in second.stderr


def test_edge_cases_give_a_record_each_and_exit_1(shared_data, tmp_path):
    result = run_cli("score", str(shared_data / "jpeg-edge-cases"), "-f", "jsonl", catalog=tmp_path / "c.sqlite")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 51
    failed = [r for r in records if r["error"]]
    assert 0 < len(failed) < 51
    for record in failed:
        assert record["score"] is None and "\n" not in record["error"] and len(record["error"]) < 300
    for record in records:
        if not record["error"]:
            assert abs(sum(record["distribution"]) - 1) < 1e-4


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("score", str(tmp_path / "missing")).returncode == 2
    assert run_cli("score", str(tmp_path), "--format", "xml").returncode == 2
    empty = run_cli("score", str(tmp_path))
    assert empty.returncode == 2 and "no photos" in empty.stderr
    photo = tmp_path / "a.jpg"
    from PIL import Image

    Image.new("RGB", (32, 32), (90, 120, 200)).save(photo)
    bad_model = run_cli("score", str(photo), "--model", "no-such-model", catalog=tmp_path / "c.sqlite")
    assert bad_model.returncode == 2 and "no-such-model" in bad_model.stderr


def test_csv_output_file_and_glob(shared_data, tmp_path):
    out = tmp_path / "scores.csv"
    pattern = str(shared_data / "photos" / "Canon EOS*.jpg")
    result = run_cli("score", pattern, "-f", "csv", "-o", str(out), "--quiet", catalog=tmp_path / "c.sqlite")
    assert result.returncode == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = sorted(p.name for p in (shared_data / "photos").glob("Canon EOS*.jpg"))
    assert sorted(Path(r["path"]).name for r in rows) == expected
    assert {"score", "technical.sharpness", "technical.exposure_ev", "taken_at"} <= rows[0].keys()
    assert not list(tmp_path.glob("*.partial"))


def test_table_format_for_people(shared_data, tmp_path):
    result = run_cli("score", str(shared_data / "photos" / "Apple iPhone 4.jpg"), "-f", "table", catalog=tmp_path / "c.sqlite")
    assert result.returncode == 0
    assert "Apple iPhone 4.jpg" in result.stdout and "score" in result.stdout


def test_python_api_matches_the_cli(shared_data, tmp_path):
    files = sorted((shared_data / "photos").glob("Nikon*.jpg"))[:3] + [shared_data / "photos" / "Sony DSC-P12.jpg"]
    records = photocritic.score(files, catalog=tmp_path / "api.sqlite")
    cli = run_cli("score", *map(str, files), "-f", "jsonl", "--explain", "--no-cache")
    assert records == [json.loads(line) for line in cli.stdout.splitlines()]
    assert all(r["reasons"] for r in records)  # the reasons the CLI gives, in the records themselves
    assert records[-1]["reasons"] == ["almost entirely black"]


def test_python_cull_returns_the_records_the_cli_writes(shared_data, tmp_path):
    from tests.web.conftest import BURST_SOURCE, make_burst

    make_burst(shared_data / "photos" / BURST_SOURCE, tmp_path / "shoot")
    shutil.copy2(shared_data / "photos" / "Apple iPhone 4.jpg", tmp_path / "shoot")
    told = []
    records = photocritic.cull([tmp_path / "shoot"], catalog=tmp_path / "api.sqlite", progress=lambda *step: told.append(step))
    phases = list(dict.fromkeys(step[2] if len(step) > 2 else "scoring" for step in told))
    assert phases == ["scoring", "grouping look-alikes", "faces, eyes and grain", "ranking"]
    assert all(0 < done <= total for done, total, *_ in told) and told[-1][0] == told[-1][1]
    cli = run_cli("cull", str(tmp_path / "shoot"), "-f", "jsonl", catalog=tmp_path / "cli.sqlite")
    assert cli.returncode == 0, cli.stderr
    assert records == [json.loads(line) for line in cli.stdout.splitlines()]
    assert [r["rank"] for r in records if r["group_size"] == 4] == [1, 2, 3, 4]
    assert all(r["reasons"] for r in records)


def test_help_teaches():
    result = run_cli("score", "--help")
    assert result.returncode == 0
    for word in ("--format", "--model", "--recursive", "--no-cache", "Exit codes", "Examples"):
        assert word in result.stdout
