"""Two real processes on one catalog while a third holds its write lock longer than SQLite's busy
timeout: both finish, the catalog passes integrity_check, no photo is recorded twice."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

from tests.reliability.conftest import SRC


def test_two_scores_and_a_long_writer_share_one_catalog(tmp_path, shared_data):
    library = tmp_path / "lib"
    library.mkdir()
    photos = sorted(p for p in (shared_data / "photos").iterdir() if p.suffix.lower() == ".jpg")[:12]
    for photo in photos:
        shutil.copy(photo, library / photo.name)
    catalog = tmp_path / "catalog.sqlite"
    env = {**os.environ, "PYTHONPATH": SRC, "PHOTOCRITIC_CATALOG": str(catalog)}
    # create the catalog, then hold its write lock as a long transaction elsewhere would
    subprocess.run([sys.executable, "-m", "photocritic", "score", str(library / photos[0].name), "-q", "-f", "jsonl"], env=env, check=True, capture_output=True, timeout=300)
    holder = sqlite3.connect(catalog, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    runs = [
        subprocess.Popen([sys.executable, "-m", "photocritic", "score", str(library), "-q", "-f", "jsonl", "--batch-size", "3", "--workers", "2"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    time.sleep(70)  # start-up plus the 30 s the old code waited before "database is locked"
    holder.execute("COMMIT")
    holder.close()
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err.decode(errors="replace")[-2000:]
        paths = [json.loads(line)["path"] for line in out.decode().splitlines()]
        assert sorted(paths) == sorted(str(library / p.name) for p in photos)  # each once
    with sqlite3.connect(catalog) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == len(photos)
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM scores").fetchone() == (len(photos), len(photos))
