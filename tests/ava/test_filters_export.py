"""Bias filters and the cleaned export: what is left out, what is written, and how it is split."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from photocritic.ava.export import ExportError, export_clean, hash_uniform, random_split
from photocritic.ava.filters import (
    BIAS_TAGS,
    FilterError,
    apply_filters,
    make_spec,
    resolve,
)
from photocritic.ava.parsing import read_ava, read_names


@pytest.fixture(scope="module")
def ava(ava_dir):
    return read_ava(ava_dir / "AVA_partial.txt"), read_names(ava_dir / "tags.txt"), read_names(ava_dir / "challenges.txt")


def test_names_ids_prefixes_and_the_bias_preset(plain_names):
    tags, challenges = plain_names
    by_name = {v: k for k, v in tags.items()}
    assert resolve(["Advertisement", "58", "humor", "POLITICAL"], tags, "tag") == sorted(
        {by_name["Advertisement"], 58, by_name["Humorous"], by_name["Political"]})
    assert resolve(["bias"], tags, "tag", expand_bias=True) == sorted(by_name[t] for t in BIAS_TAGS)
    assert resolve(["black and white"], tags, "tag") == [by_name["Black and White"]]
    with pytest.raises(FilterError, match="did you mean Political"):
        resolve(["Politcal"], tags, "tag")
    with pytest.raises(FilterError, match="ambiguous"):
        resolve(["S"], tags, "tag")
    with pytest.raises(FilterError, match="no tag names file"):
        resolve(["Horror"], {}, "tag")
    ch_by_name = {v: k for k, v in challenges.items()}
    assert resolve(["Road_Signs"], challenges, "challenge") == [ch_by_name["Road_Signs"]]


def test_filters_remove_exactly_what_they_name(ava, plain_rows):
    data, tags, challenges = ava
    spec = make_spec(["bias"], ["Road_Signs"], 150, tags, challenges)
    result = apply_filters(data, spec, tags, challenges)
    bias_ids = {k for k, v in tags.items() if v in BIAS_TAGS}
    road = next(k for k, v in challenges.items() if v == "Road_Signs")
    expected = [not ({r[12], r[13]} & bias_ids) and r[14] != road and sum(r[2:12]) >= 150 for r in plain_rows]
    assert result.keep.tolist() == expected
    assert sum(n for _, n in result.steps) == len(plain_rows) - sum(expected)


def test_official_export_with_bias_filters(ava, ava_dir, tmp_path):
    data, tags, challenges = ava
    lists = ava_dir / "aesthetics_image_lists"
    spec = make_spec(["bias"], [], 100, tags, challenges)
    result = export_clean(data, tmp_path, spec, score="lcb", split="official", train_list=lists / "generic_ls_train.jpgl",
                          test_list=lists / "generic_test.jpgl", tag_names=tags, challenge_names=challenges)
    test_ids = {int(t) for t in (lists / "generic_test.jpgl").read_text().split()}
    bias_ids = {k for k, v in tags.items() if v in BIAS_TAGS}
    with open(tmp_path / "ava_clean.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == result.manifest["photos"] == sum(result.counts[s] for s in ("train", "val", "test"))
    for row in rows:
        assert {int(row["tag1"]), int(row["tag2"])}.isdisjoint(bias_ids)
        assert int(row["votes"]) >= 100
        assert (row["split"] == "test") == (int(row["image_id"]) in test_ids)
        assert row["score"] == row["score_lcb"]
        assert float(row["score"]) <= float(row["score_naive"]) + 1e-6
    # The AVA-format files hold the original rows and read back cleanly
    plain = {int(line.split()[1]): line.split() for line in (ava_dir / "AVA_partial.txt").read_text().splitlines()}
    for split in ("train", "test"):
        back = read_ava(tmp_path / f"{split}.txt")
        assert back.bad_rows == []
        assert len(back) == result.counts[split]
        for row in back.to_matrix()[:200].tolist():
            assert [str(v) for v in row] == plain[row[1]]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["score"] == "lcb" and manifest["split"]["method"] == "official"


def test_random_split_is_seeded_stable_and_close_to_its_fractions(ava):
    data = ava[0]
    a = random_split(data.image_id, 0.1, 0.05, seed=1)
    assert np.array_equal(a, random_split(data.image_id, 0.1, 0.05, seed=1))
    assert not np.array_equal(a, random_split(data.image_id, 0.1, 0.05, seed=2))
    assert np.mean(a == "test") == pytest.approx(0.1, abs=0.01)
    assert np.mean(a == "val") == pytest.approx(0.05, abs=0.01)
    # the split of a photo does not depend on which other photos are there
    half = data.image_id[::2]
    assert np.array_equal(random_split(half, 0.1, 0.05, seed=1), a[::2])
    u = hash_uniform(np.arange(100000), 0)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    with pytest.raises(ExportError):
        random_split(data.image_id, 0.7, 0.4, seed=0)


def test_export_formats(ava, tmp_path):
    data, tags, challenges = ava
    result = export_clean(data, tmp_path, formats=("csv",), tag_names=tags, challenge_names=challenges)
    assert not (tmp_path / "train.txt").exists()
    assert (tmp_path / "ava_clean.csv").is_file()
    with pytest.raises(ExportError, match="unknown format"):
        export_clean(data, tmp_path, formats=("xlsx",))
    with pytest.raises(ExportError, match="score must be"):
        export_clean(data, tmp_path, score="median")
    assert result.manifest["photos"] == len(data)


def test_parquet_export_matches_the_csv(ava, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    data, tags, challenges = ava
    export_clean(data, tmp_path, formats=("csv", "parquet"), tag_names=tags, challenge_names=challenges)
    table = pq.read_table(tmp_path / "ava_clean.parquet").to_pydict()
    with open(tmp_path / "ava_clean.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(table["image_id"]) == len(rows)
    assert [str(v) for v in table["image_id"][:100]] == [r["image_id"] for r in rows[:100]]
    assert table["split"][:100] == [r["split"] for r in rows[:100]]
    assert table["tag1_name"][:100] == [r["tag1_name"] for r in rows[:100]]
