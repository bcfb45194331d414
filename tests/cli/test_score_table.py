"""`photocritic score` for people: names that tell two folders apart, the reasons, cuts and sorts, true counts."""
from __future__ import annotations

import json
import shutil

import pytest

from photocritic.reasons import record_reasons, technical_reasons
from tests.cli.test_errors_and_help import run_cli

PHOTOS = ["Oppo R7 Plus.jpg", "Apple iPhone 4.jpg", "Canon EOS 1000D.jpg"]


@pytest.fixture(scope="module")
def tree(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    for folder, names in (("a", PHOTOS[:1]), ("b", PHOTOS)):
        (root / "shoot" / folder).mkdir(parents=True)
        for name in names:
            shutil.copy2(shared_data / "photos" / name, root / "shoot" / folder / name)
    (root / "shoot" / "a" / "notes.jpg").write_text("not a photo at all")
    return root


@pytest.fixture(scope="module")
def records(tree):
    result = run_cli("score", "shoot", "-r", "-f", "jsonl", "--explain", cwd=tree)
    assert result.returncode == 1, result.stderr  # one file is not a photo
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_table_names_photos_relative_to_their_shared_folder_with_reasons(tree, records):
    result = run_cli("score", "shoot", "-r", "-f", "table", cwd=tree)
    assert result.returncode == 1
    assert "a/Oppo R7 Plus.jpg" in result.stdout and "b/Oppo R7 Plus.jpg" in result.stdout
    good = next(r for r in records if r["error"] is None)
    first_reason = technical_reasons(good["technical"])[0]["text"]
    assert first_reason.split()[0] in result.stdout
    assert "failed: " in result.stdout  # the photo that is not one says why, in the same column


def test_explain_adds_the_web_apps_reasons_to_each_record(records):
    for record in records:
        assert record["reasons"] == record_reasons(record)
    assert any(r["reasons"] for r in records)


def test_top_min_score_and_sort(tree, records):
    scored = sorted((r for r in records if r["score"] is not None), key=lambda r: -r["score"])
    top = run_cli("score", "shoot", "-r", "-f", "jsonl", "--top", "2", cwd=tree)
    got = [json.loads(line) for line in top.stdout.splitlines()]
    assert [r["score"] for r in got] == [r["score"] for r in scored[:2]]
    assert "2 shown" in top.stderr
    cut = (scored[1]["score"] + scored[-1]["score"]) / 2
    high = run_cli("score", "shoot", "-r", "-f", "jsonl", "--min-score", f"{cut:.4f}", cwd=tree)
    kept = [json.loads(line) for line in high.stdout.splitlines()]
    assert kept and all(r["score"] >= cut for r in kept)
    assert len(kept) == sum(r["score"] >= cut for r in scored)
    by_name = run_cli("score", "shoot", "-r", "-f", "jsonl", "--sort", "name", cwd=tree)
    paths = [json.loads(line)["path"] for line in by_name.stdout.splitlines()]
    assert paths == sorted(paths) and len(paths) == len(records)
    by_time = run_cli("score", "shoot", "-r", "-f", "jsonl", "--sort", "time", cwd=tree)
    times = [json.loads(line)["taken_at"] for line in by_time.stdout.splitlines()]
    known = [t for t in times if t]
    assert known == sorted(known) and times[: len(known)] == known  # photos without a time come last


def test_summary_counts_are_true_for_a_file_that_is_not_a_photo(tree):
    result = run_cli("score", "shoot/a/notes.jpg", "-f", "jsonl", cwd=tree)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("1 photo: 0 scored, 1 failed")
    assert "decoded" not in result.stderr
