"""The Ray path on a real local Ray cluster: same records as the single-machine path, resumable, fault tolerant.

Uses 40 of ../shared/data/photos/ plus 6 files of ../shared/data/jpeg-edge-cases/ (most of them malformed)
so the module stays around three minutes on a 2-core machine.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from photocritic.library.catalog import Catalog
from photocritic.scoring import Scorer, window_of

PHOTOS = 40
EDGE_CASES = 6


@pytest.fixture(scope="module")
def files(shared_data) -> list[str]:
    photos = sorted((shared_data / "photos").iterdir())[:PHOTOS]
    edge = sorted((shared_data / "jpeg-edge-cases").iterdir())[:EDGE_CASES]
    # edge cases in the middle, so some model batches hold failed decodes as they do in real folders
    return [str(p) for p in photos[:20] + edge + photos[20:]]


@pytest.fixture(scope="module")
def reference(files) -> dict[str, dict]:
    """The single-machine records, keyed by path (the backbone on one thread, as in each Ray actor here)."""
    scorer = Scorer("default", use_catalog=False, batch_size=16, torch_threads=1)
    try:
        records = list(scorer.iter_records(files))
    finally:
        scorer.close()
    assert any(r["error"] for r in records) and any(r["error"] is None for r in records)
    return {r["path"]: r for r in records}


def close_to(got, expected) -> bool:
    """Equal, but floats within the rounding of the stored digits. Model batches that hold other photos
    (a rerun that skips what is done) change float sums in the last bit, which can flip the 6th decimal
    of a stored probability; anything the model or the decode got wrong moves far more than that."""
    if isinstance(expected, float) and isinstance(got, float):
        return math.isclose(got, expected, rel_tol=1e-4, abs_tol=2e-6)
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(close_to(got[k], expected[k]) for k in expected)
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(close_to(g, e) for g, e in zip(got, expected))
    return got == expected


def assert_same_records(got: dict[str, dict], expected: dict[str, dict]) -> None:
    assert got.keys() == expected.keys()
    wrong = [p for p in expected if not close_to(got[p], expected[p])]
    assert not wrong, (wrong[:3], [(got[p], expected[p]) for p in wrong[:1]])


def descendants(pid: int) -> list[int]:
    """Processes started (directly or not) by *pid*, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def by_path(records: list[dict]) -> dict[str, dict]:
    counts = Counter(r["path"] for r in records)
    assert max(counts.values()) == 1, [p for p, n in counts.items() if n > 1]
    return {r["path"]: r for r in records}


def test_ray_records_equal_single_machine_records(ray_cluster, files, reference, tmp_path):
    from photocritic.distributed import RayScorer
    from photocritic.distributed.parquet import read_records

    scorer = RayScorer("default", use_catalog=False, parquet_dir=tmp_path / "out", batch_size=16)
    try:
        records = list(scorer.iter_records(files))
    finally:
        scorer.close()
    assert ray_cluster.is_initialized()  # the runner leaves a cluster it did not start running
    got = by_path(records)
    assert got.keys() == reference.keys()
    for path, expected in reference.items():
        assert got[path] == expected, path
    assert list(got[files[0]].keys()) == list(reference[files[0]].keys())
    assert scorer.stats.decoded == len(files) and scorer.stats.failed == sum(r["error"] is not None for r in records)

    written = by_path(read_records(tmp_path / "out"))
    assert written == reference  # Parquet reads back as the very same records

    # a rerun over a complete folder redoes nothing
    again = RayScorer("default", use_catalog=False, parquet_dir=tmp_path / "out")
    try:
        assert by_path(list(again.iter_records(files))) == reference
    finally:
        again.close()
    assert again.stats.skipped == len(files) and again.stats.decoded == 0


def test_rerun_skips_what_is_already_written(ray_cluster, files, reference, tmp_path):
    from photocritic.distributed import RayScorer
    from photocritic.distributed.parquet import PartWriter, read_records, records_schema, records_table
    from photocritic.models.zoo import load_model

    model = load_model("default")
    done = files[:10] + files[25:30]
    writer = PartWriter(tmp_path, records_schema(model.fingerprint), records_table)
    for path in done:
        writer.add(reference[os.path.abspath(path)])
    writer.flush()

    scorer = RayScorer(model, use_catalog=False, parquet_dir=tmp_path)
    try:
        records = list(scorer.iter_records(files))
    finally:
        scorer.close()
    assert scorer.stats.skipped == len(done)
    assert scorer.stats.decoded == len(files) - len(done)  # nothing written before is decoded again
    assert_same_records(by_path(records), reference)
    assert_same_records(by_path(read_records(tmp_path)), reference)  # every photo exactly once


def test_a_killed_run_resumes_where_it_stopped(ray_cluster, files, reference, tmp_path):
    from photocritic.distributed import RayScorer
    from photocritic.distributed.parquet import part_files, read_records

    out = tmp_path / "out"
    listing = tmp_path / "files.json"
    listing.write_text(json.dumps(files))
    script = textwrap.dedent(
        f"""
        import json, time, ray
        from photocritic.distributed import RayScorer
        ray.init(address="local", num_cpus=2, object_store_memory=300 * 1024**2, include_dashboard=False)
        scorer = RayScorer("default", use_catalog=False, parquet_dir={str(out)!r}, part_rows=4, windows_per_block=1)
        for _ in scorer.iter_records(json.load(open({str(listing)!r}))):
            time.sleep(0.5)  # a slow consumer, so the kill below always lands midway
        """
    )
    # a session of its own, so the driver and the Ray processes it started die together, like a lost machine
    driver = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not part_files(out) and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    parts = part_files(out)
    assert parts, "the first run wrote nothing before it was killed"
    before = read_records(out)
    assert 0 < len(before) < len(files), "the run was not killed midway"

    scorer = RayScorer("default", use_catalog=False, parquet_dir=out)
    try:
        records = list(scorer.iter_records(files))
    finally:
        scorer.close()
    assert scorer.stats.skipped == len(before)
    assert scorer.stats.decoded == len(files) - len(before)
    assert_same_records(by_path(records), reference)
    assert_same_records(by_path(read_records(out)), reference)
    assert not list(out.glob(".*.tmp"))


def test_a_model_worker_killed_midway_loses_nothing(ray_cluster, files, reference):
    from photocritic.distributed import RayScorer

    killed = []

    def kill_a_model_worker(done: int, total: int) -> None:
        if killed or done < 1:
            return
        for pid in descendants(os.getpid()):  # only processes of this test's own cluster
            if "ModelWorker" in cmdline(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                killed.append(pid)
                return

    scorer = RayScorer("default", use_catalog=False, windows_per_block=1)
    try:
        records = list(scorer.iter_records(files, progress=kill_a_model_worker))
    finally:
        scorer.close()
    assert killed, "no model worker process was found to kill"
    assert scorer.stats.lost == 0
    assert_same_records(by_path(records), reference)


def test_catalog_written_on_ray_serves_the_single_machine_path(ray_cluster, files, reference, tmp_path):
    from photocritic.distributed import RayScorer

    subset = files[15:30]
    scorer = RayScorer("default", catalog=tmp_path / "catalog.sqlite")
    try:
        assert_same_records(by_path(list(scorer.iter_records(subset))), {os.path.abspath(p): reference[os.path.abspath(p)] for p in subset})
    finally:
        scorer.close()

    single = Scorer("default", catalog=tmp_path / "catalog.sqlite")
    try:
        records = list(single.iter_records(subset))
    finally:
        single.close()
    assert single.stats.from_catalog == len(subset) and single.stats.decoded == 0
    assert_same_records(by_path(records), {os.path.abspath(p): reference[os.path.abspath(p)] for p in subset})

    # and the Ray path serves a catalog hit without touching the cluster
    again = RayScorer("default", catalog=tmp_path / "catalog.sqlite")
    try:
        assert_same_records(by_path(list(again.iter_records(subset))), {os.path.abspath(p): reference[os.path.abspath(p)] for p in subset})
    finally:
        again.close()
    assert again.stats.from_catalog == len(subset) and again.stats.decoded == 0


def test_embed_files_on_ray_gives_the_single_machine_features(ray_cluster, files, tmp_path):
    from photocritic.distributed import RayEmbedder, embed_files_on_ray
    from photocritic.distributed.parquet import read_rows

    subset = files[14:34]
    # float16 features are bit-identical for the same batches and the same number of backbone threads
    single = Scorer("default", use_catalog=False, batch_size=16, torch_threads=1)
    try:
        expected = {record["path"]: row for record, row in single.iter_scored(subset)}
    finally:
        single.close()

    rows = embed_files_on_ray(subset, parquet_dir=tmp_path / "features", catalog=tmp_path / "catalog.sqlite")
    assert sorted(r.path for r in rows) == sorted(expected)
    for row in rows:
        want = expected[row.path]
        assert row.error == want.error
        if want.error is None:
            assert row.features.dtype == np.float16 and np.array_equal(row.features, want.features), row.path
            assert row.technical == want.technical and (row.width, row.height) == (want.width, want.height)

    stored = {r.path: r for r in read_rows(tmp_path / "features")}
    assert stored.keys() == expected.keys()
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        for path, want in expected.items():
            cached = catalog.get_photo(path, want.size, want.mtime_ns)
            assert cached is not None and cached.error == want.error == stored[path].error
            if want.error is None:
                assert np.array_equal(stored[path].features, want.features)
                assert np.array_equal(cached.features, want.features)

    # a rerun finds everything in the Parquet folder and computes nothing
    again = RayEmbedder(parquet_dir=tmp_path / "features", use_catalog=False)
    try:
        rows = list(again.iter_rows(subset))
    finally:
        again.close()
    assert again.stats.skipped == len(subset) and again.stats.decoded == 0
    assert all(np.array_equal(r.features, expected[r.path].features) for r in rows if r.error is None)


def test_cli_score_with_ray(files, reference, tmp_path):
    subset = files[18:26]
    env = {**os.environ, "PHOTOCRITIC_RAY_OBJECT_STORE_MB": "300", "PHOTOCRITIC_CATALOG": str(tmp_path / "catalog.sqlite")}
    env.pop("RAY_ADDRESS", None)
    result = subprocess.run(
        [sys.executable, "-m", "photocritic", "score", *subset, "-f", "jsonl", "--parquet", str(tmp_path / "out"), "--ray"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    expected = [reference[os.path.abspath(p)] for p in subset]
    assert result.returncode == (1 if any(r["error"] for r in expected) else 0), result.stderr
    got = by_path([json.loads(line) for line in result.stdout.splitlines()])
    assert got == {r["path"]: r for r in expected}
    assert f"0 already in {tmp_path / 'out'}" in result.stderr
    # Ray's own chatter (C++ core log lines, the token-authentication notice) stays off the user's terminal
    from photocritic.cli.ray_options import RAY_CORE_LINE

    assert not [line for line in result.stderr.splitlines() if RAY_CORE_LINE.match(line.encode())], result.stderr
    assert "Token authentication" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"{len(subset)} photos: ")

    from photocritic.distributed.parquet import read_records

    assert by_path(read_records(tmp_path / "out")) == got


def test_cli_refuses_parquet_without_ray(files, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "photocritic", "score", files[0], "--parquet", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "--parquet needs --ray" in result.stderr


def _decode_failing_on_one_photo(batch: dict, backbone: str) -> dict:
    from photocritic.distributed.ray_scoring import decode_block

    if any(str(p).endswith("/Canon EOS 20D (2).jpg") for p in batch["path"]):
        raise RuntimeError("injected failure: this block's task fails on every try")
    return decode_block(batch, backbone)


def test_a_block_that_keeps_failing_is_reported_lost_and_retried_next_run(ray_cluster, files, reference, tmp_path):
    from ray import cloudpickle  # Ray's own copy pickles the tasks

    from photocritic.distributed import RayScorer
    from photocritic.distributed.parquet import read_records
    from photocritic.distributed.ray_scoring import LOST

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # this module is not importable on the workers

    class FailingScorer(RayScorer):
        decode = staticmethod(_decode_failing_on_one_photo)

    # windows of 1, 2, 4, 8, 16 and 1 photos; blocks of whole windows up to 16 photos: 15, 16 and 1. The first fails
    subset = files[:32]
    first_full_window = window_of(15, 16)
    assert next(i for i, p in enumerate(subset) if p.endswith("/Canon EOS 20D (2).jpg")) < 15
    expected_lost = {os.path.abspath(p) for i, p in enumerate(subset) if window_of(i, 16) < first_full_window}
    assert len(expected_lost) == 15  # the whole block is lost, not only the photo
    failing = FailingScorer("default", use_catalog=False, parquet_dir=tmp_path, max_errored_blocks=1)
    try:
        records = by_path(list(failing.iter_records(subset)))
    finally:
        failing.close()
    lost = {p for p, r in records.items() if r["error"] == LOST}
    assert lost == expected_lost
    assert failing.stats.lost == len(expected_lost)
    assert all(close_to(records[p], reference[p]) for p in records if p not in lost)
    assert by_path(read_records(tmp_path)).keys() == records.keys() - lost  # lost photos are not written

    again = RayScorer("default", use_catalog=False, parquet_dir=tmp_path)
    try:
        assert_same_records(by_path(list(again.iter_records(subset))), {os.path.abspath(p): reference[os.path.abspath(p)] for p in subset})
    finally:
        again.close()
    assert again.stats.decoded == len(expected_lost) and again.stats.skipped == len(subset) - len(expected_lost)
