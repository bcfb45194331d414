"""The hostile corpus (hostile.py builds it) through `score -r` and `cull -r --xmp`: one record per
entry, no traceback, bounded time, exit 1, and a sidecar exiftool reads for every good photo."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.reliability.conftest import EXIFTOOL, cli, peak_kb
from tests.reliability.hostile import build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, real_jpeg):
    built = build(tmp_path_factory.mktemp("hostile") / "library", real_jpeg)
    assert len(built.expected) >= 70, len(built.expected)
    yield built
    for folder, _, _ in os.walk(built.root):  # let pytest remove it
        os.chmod(folder, 0o755)
    os.chmod(os.path.join(built.root, "locked_dir"), 0o755)


def _records(stdout: bytes) -> dict[bytes, dict]:
    records = {}
    for line in stdout.decode("utf-8").splitlines():
        record = json.loads(line)
        key = os.fsencode(record["path"])
        assert key not in records, f"two records for {key!r}"
        records[key] = record
    return records


def test_score_gives_one_record_per_entry(corpus, cli_env):
    started = time.monotonic()
    done = cli(["score", "-r", str(corpus.root), "-f", "jsonl", "-q"], cli_env, timeout=900)
    elapsed = time.monotonic() - started
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")[-3000:]
    assert done.returncode == 1, done.stderr.decode(errors="replace")[-2000:]
    records = _records(done.stdout)
    assert set(records) == corpus.expected, {"missing": sorted(corpus.expected - set(records)), "extra": sorted(set(records) - corpus.expected)}
    for path in corpus.good:
        assert records[path]["error"] is None, (path, records[path]["error"])
    for record in records.values():
        assert record["error"] is None or "\n" not in record["error"]
    assert elapsed < 600
    assert peak_kb(done) < 2.5 * 2**20, f"peak RSS {peak_kb(done) / 2**20:.2f} GiB"  # whatever the files
    # the same again from the catalog, with -o: the file lands, no .partial stays
    out = corpus.root.parent / "scores.jsonl"
    again = cli(["score", "-r", str(corpus.root), "-f", "jsonl", "-q", "-o", str(out)], cli_env, timeout=900)
    assert again.returncode == 1 and set(_records(out.read_bytes())) == corpus.expected
    assert not (corpus.root.parent / "scores.jsonl.partial").exists()


def test_score_no_cache_csv_survives_the_corpus(corpus, cli_env):
    done = cli(["score", "-r", str(corpus.root), "-f", "csv", "-q", "--no-cache", "--workers", "2"], cli_env, timeout=900)
    assert b"Traceback" not in done.stderr and done.returncode == 1, done.stderr.decode(errors="replace")[-2000:]
    done.stdout.decode("utf-8")  # valid UTF-8 whatever the names
    # one header + one row per record; names with newlines are quoted by csv, so count records, not lines
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8"), newline="")))
    assert len(rows) == len(corpus.expected)


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed (apt-get install libimage-exiftool-perl)")
def test_cull_xmp_gives_every_good_photo_its_own_sidecar(corpus, cli_env):
    done = cli(["cull", "-r", str(corpus.root), "--xmp", "--rate-singles", "-f", "jsonl", "-q"], cli_env, timeout=900)
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")[-3000:]
    assert done.returncode == 1
    records = _records(done.stdout)
    assert set(records) == corpus.expected
    assert b"readonly_sidecar.xmp" in done.stderr and b"read-only" in done.stderr
    sidecars = {}
    for path in sorted(corpus.good):
        record = records[path]
        assert record["error"] is None, (path, record["error"])
        folder, name = os.path.split(path)
        stem = os.path.splitext(name)[0]
        candidates = [os.path.join(folder, name + b".xmp"), os.path.join(folder, stem + b".xmp")]
        found = [c for c in candidates if os.path.isfile(c)]
        assert found, f"no sidecar for {path!r}"
        sidecar = found[0]
        assert sidecar not in sidecars, f"{path!r} shares {sidecar!r} with {sidecars[sidecar]!r}"
        sidecars[sidecar] = path
        read = subprocess.run([EXIFTOOL, "-j", "-XMP:Rating", os.fsdecode(sidecar)], capture_output=True, check=True)
        rating = json.loads(read.stdout)[0]["Rating"]
        assert rating == (4 if record["pick"] else 1), (path, rating, record["pick"])
