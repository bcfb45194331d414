"""A catalog in trouble, each state built for real and met through the real CLI: a damaged or foreign
catalog is set aside (renamed, never deleted) and rebuilt with one warning line; what is not ours, a
folder or a full disk is refused with exit 2 and one line. None exits 3; every photo is scored."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest

from tests.reliability.conftest import cli


@pytest.fixture(scope="module")
def photos(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("Canon EOS 350D.jpg", "Canon EOS 7D.jpg", "Apple iPhone 4.jpg"):
        shutil.copy(shared_data / "photos" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def good_catalog(tmp_path_factory, photos) -> bytes:
    """The bytes of a real catalog that scored the photos (checkpointed: one file)."""
    path = tmp_path_factory.mktemp("good") / "catalog.sqlite"
    done = cli(["score", str(photos), "-f", "jsonl", "-q", "--catalog", str(path)], {})
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.read_bytes()


def score(photos, catalog, tmp_path):
    done = cli(["score", str(photos), "-f", "jsonl", "--catalog", str(catalog)], {"XDG_CONFIG_HOME": str(tmp_path / "config")}, timeout=300)
    stderr = done.stderr.rsplit(b"\nPEAK_RSS_KB=", 1)[0].decode("utf-8", "replace")
    assert done.returncode != 3 and "Traceback" not in stderr and "internal error" not in stderr, stderr
    return done, stderr


def damaged(kind: str, good: bytes) -> bytes:
    if kind == "cut in half":
        return good[: len(good) // 2]
    page = 4096
    assert len(good) >= 6 * page
    middle = len(good) // page // 2 * page  # one page in the middle overwritten
    return good[:middle] + os.urandom(page) + good[middle + page :]


def foreign(path, kind: str) -> None:
    db = sqlite3.connect(path)
    if kind == "another schema":  # an older layout: the tables this version reads lack columns ("no such column")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("CREATE TABLE photos (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, score REAL)")
        db.execute("INSERT INTO photos VALUES ('/x.jpg', 1, 1, 7.5)")
    else:  # "another schema version": meta says so
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '9')")
    db.commit()
    db.close()


@pytest.mark.parametrize("kind", ["cut in half", "one page overwritten", "another schema", "another schema version"])
def test_a_damaged_or_foreign_catalog_is_set_aside_and_rebuilt(kind, photos, good_catalog, tmp_path):
    catalog = tmp_path / "catalog.sqlite"
    if kind in ("cut in half", "one page overwritten"):
        catalog.write_bytes(damaged(kind, good_catalog))
    else:
        foreign(catalog, kind)
    before = catalog.read_bytes()
    done, stderr = score(photos, catalog, tmp_path)
    assert done.returncode == 0, stderr
    warnings = [line for line in stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "set aside" in warnings[0], stderr
    (aside,) = tmp_path.glob("catalog.sqlite.corrupt-*")
    assert aside.read_bytes() == before  # renamed, never deleted or changed
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 3 and all(r["error"] is None and r["score"] for r in records)  # every score recomputed
    db = sqlite3.connect(catalog)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 3
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"
    db.close()
    again, stderr = score(photos, catalog, tmp_path)  # and the new catalog serves the next run
    assert again.returncode == 0 and "warning" not in stderr and "3 from the catalog" in stderr, stderr


@pytest.mark.parametrize("kind", ["random bytes", "another program's database", "a folder", "a named pipe"])
def test_what_is_not_a_catalog_is_refused_with_exit_2_and_left_as_it_is(kind, photos, good_catalog, tmp_path):
    catalog = tmp_path / "catalog.sqlite"
    if kind == "random bytes":
        catalog.write_bytes(os.urandom(len(good_catalog)))
    elif kind == "a folder":
        catalog.mkdir()
    elif kind == "a named pipe":  # never opened: it would block
        os.mkfifo(catalog)
    else:
        db = sqlite3.connect(catalog)
        db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        db.execute("INSERT INTO contacts VALUES ('Ann', '555')")
        db.commit()
        db.close()
    before = catalog.read_bytes() if catalog.is_file() else os.stat(catalog).st_mode
    try:
        done, stderr = score(photos, catalog, tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run never ended with {kind} for its catalog")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("photocritic: error: "), stderr
    assert "--catalog" in lines[0], stderr  # says what to do
    assert before == (catalog.read_bytes() if catalog.is_file() else os.stat(catalog).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("catalog")) == ["catalog.sqlite"]


def test_serve_with_a_folder_for_catalog_is_exit_2_before_it_serves(photos, tmp_path):
    (tmp_path / "folder").mkdir()
    try:
        done = cli(["serve", str(photos), "--port", "0", "--catalog", str(tmp_path / "folder")], {}, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("serve started with a folder for its catalog")
    stderr = done.stderr.rsplit(b"\nPEAK_RSS_KB=", 1)[0].decode()
    assert done.returncode == 2 and stderr.strip().splitlines() == [stderr.strip()] and "is a folder" in stderr, stderr


@pytest.fixture
def full_disk(tmp_path):
    """A real file system with no room left: a 256 KB tmpfs, filled (needs root; skipped otherwise)."""
    mount = tmp_path / "full"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a full disk is made with a tmpfs mount, which needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", f"photocritic-{uuid.uuid4().hex[:8]}", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room_kb", [4, 120])
def test_a_catalog_on_a_full_disk_is_exit_2(full_disk, room_kb, photos, tmp_path):
    """No room to create it (4 KB left), or room for a few rows only (120 KB): exit 2, one line."""
    free = os.statvfs(full_disk).f_bavail * os.statvfs(full_disk).f_frsize
    with open(full_disk / "filler", "wb") as filler:
        filler.write(b"\0" * (free - room_kb * 1024))
    done, stderr = score(photos, full_disk / "catalog.sqlite", tmp_path)
    errors = [line for line in stderr.splitlines() if line.startswith("photocritic: error: ")]
    assert done.returncode == 2 and len(errors) == 1 and "no space left" in errors[0], stderr
