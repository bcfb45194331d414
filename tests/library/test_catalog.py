"""The catalog: unchanged files are never decoded twice, changed files are, and SIGKILL loses nothing committed."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from photocritic.library.catalog import Catalog, PhotoRow, file_key
from photocritic.scoring import FEATURES_VERSION, Scorer, open_catalog

SUMMARY = re.compile(
    r"(\d+) photos?: (\d+) scored, (\d+) failed \((\d+) photos? read from disk, (\d+) rescored from stored features, "
    r"(\d+) from the catalog\)"
)


@pytest.fixture
def small_library(tmp_path, shared_data) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    for path in sorted((shared_data / "photos").glob("*.jpg"))[:12]:
        shutil.copy2(path, folder / path.name)
    return folder


def test_second_run_decodes_nothing_and_a_changed_file_is_rescored(small_library, tmp_path):
    catalog_path = tmp_path / "catalog.sqlite"
    files = sorted(small_library.iterdir())
    scorer = Scorer(catalog=catalog_path)
    first = list(scorer.iter_records(files))
    assert scorer.stats.decoded == len(files) and scorer.stats.from_catalog == 0
    second = list(scorer.iter_records(files))
    assert scorer.stats.decoded == 0 and scorer.stats.from_catalog == len(files)
    assert first == second

    changed = files[3]
    with open(changed, "ab") as handle:  # appended bytes: new size, new mtime, same pixels
        handle.write(b"\0" * 16)
    third = list(scorer.iter_records(files))
    assert scorer.stats.decoded == 1 and scorer.stats.from_catalog == len(files) - 1
    assert third[3]["path"] == str(changed)
    scorer.close()
    with sqlite3.connect(catalog_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == len(files)


def test_a_catalog_from_a_version_with_fewer_measures_is_measured_again(small_library, tmp_path):
    """Rows written before a technical measure existed lack it: those photos are decoded again
    (every record carries every measure), the others still come from the catalog."""
    catalog_path = tmp_path / "catalog.sqlite"
    files = sorted(small_library.iterdir())[:5]
    scorer = Scorer(catalog=catalog_path)
    first = list(scorer.iter_records(files))
    scorer.close()
    with sqlite3.connect(catalog_path) as db:
        for path in map(str, files[:2]):
            technical = json.loads(db.execute("SELECT technical FROM photos WHERE path = ?", (path,)).fetchone()[0])
            del technical["channels_clipped"]
            db.execute("UPDATE photos SET technical = ? WHERE path = ?", (json.dumps(technical), path))
    again = Scorer(catalog=catalog_path)
    second = list(again.iter_records(files))
    assert again.stats.decoded == 2 and again.stats.from_catalog == 3
    assert second == first
    again.close()


def test_a_catalog_written_from_older_pixels_is_decoded_again(small_library, tmp_path):
    """Features stored by a version that decoded or measured photos differently are forgotten once,
    with their scores; error rows stay; the next run decodes those photos again and gives fresh records."""
    catalog_path = tmp_path / "catalog.sqlite"
    files = sorted(small_library.iterdir())[:3]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    scorer = Scorer(catalog=catalog_path)
    first = list(scorer.iter_records([*files, broken]))
    scorer.close()
    with sqlite3.connect(catalog_path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'features_version'").fetchone()[0] == FEATURES_VERSION
        db.execute("UPDATE meta SET value = 'pixels 1, measures 2' WHERE key = 'features_version'")  # as an older version left it
        db.execute("UPDATE photos SET features = ? WHERE error IS NULL", (np.zeros(4, np.float16).tobytes(),))
    reopened = open_catalog(catalog_path)
    assert reopened.count("scores") == 0
    assert all(reopened.get_photo(str(f), *file_key(f)).features is None for f in files)
    assert reopened.get_photo(str(broken), *file_key(broken)).error  # what failed still failed
    reopened.close()
    again = Scorer(catalog=catalog_path)
    second = list(again.iter_records([*files, broken]))
    assert again.stats.decoded == len(files) and again.stats.from_catalog == 1
    assert second == first
    again.close()
    last = Scorer(catalog=catalog_path)  # forgotten once, not at every opening
    assert list(last.iter_records([*files, broken])) == first and last.stats.decoded == 0
    last.close()


def test_bypassing_the_catalog_gives_the_same_records(small_library, tmp_path):
    files = sorted(small_library.iterdir())[:4]
    cached = Scorer(catalog=tmp_path / "c.sqlite")
    uncached = Scorer(use_catalog=False)
    assert list(cached.iter_records(files)) == list(uncached.iter_records(files))
    assert uncached.catalog is None


def test_catalog_roundtrip_keeps_features_and_forgets_stale_scores(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    features = np.linspace(-3, 3, 2048).astype(np.float16)
    catalog.put_photo(PhotoRow("/p/a.jpg", 10, 111, width=4, height=3, technical={"x": 1.0}, backbone="b", features=features))
    catalog.put_score("/p/a.jpg", "m1", 6.5, [0.1] * 10)
    catalog.commit()
    row = catalog.get_photo("/p/a.jpg", 10, 111)
    assert np.array_equal(row.features, features) and row.technical == {"x": 1.0}
    assert catalog.get_photo("/p/a.jpg", 10, 112) is None  # mtime changed: not trusted
    assert catalog.get_score("/p/a.jpg", "m1")[0] == 6.5
    catalog.put_photo(PhotoRow("/p/a.jpg", 11, 112))  # the file changed: its scores are void
    assert catalog.get_score("/p/a.jpg", "m1") is None
    assert catalog.embeddings(["/p/a.jpg"], 1280) == {}
    catalog.close()


def _run_cli(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "photocritic", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_then_resume_scores_every_photo_exactly_once(tmp_path, shared_data):
    folder = shared_data / "photos"
    total = len([p for p in folder.iterdir() if p.suffix.lower() == ".jpg"])
    catalog_path = tmp_path / "catalog.sqlite"
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog_path)}
    args = ["score", str(folder), "--format", "jsonl", "--batch-size", "8"]

    run = _run_cli(args + ["--quiet"], env)
    committed = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
        if catalog_path.exists():
            try:
                with sqlite3.connect(catalog_path, timeout=1) as db:
                    committed = db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if committed >= 16:
                break
    assert run.poll() is None, "the run finished before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.communicate()

    with sqlite3.connect(catalog_path) as db:
        photos_before = db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        scores_before = db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    assert 0 < scores_before < total

    resumed = _run_cli(args, env)  # not quiet: its summary line says what was reused
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == total and all(r["error"] is None for r in records)
    assert len({r["path"] for r in records}) == total

    summary = SUMMARY.search(err)
    assert summary, err
    n, scored, failed, decoded, head_only, from_catalog = map(int, summary.groups())
    assert (n, scored, failed) == (total, total, 0)
    assert from_catalog == scores_before  # what was committed is reused as is
    assert head_only == photos_before - scores_before  # decoded but not yet scored: features reused
    assert decoded == total - photos_before  # the rest, decoded exactly once

    with sqlite3.connect(catalog_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == total
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM scores").fetchone() == (total, total)
