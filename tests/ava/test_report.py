"""The report built from the real AVA_partial.txt: its CSV numbers against independent plain-Python
computations, its figures, and its HTML."""
from __future__ import annotations

import base64
import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def mean_of(counts) -> float:
    return sum((k + 1) * c for k, c in enumerate(counts)) / sum(counts)


def test_rating_distribution_and_votes_per_rating(report_dir, plain_rows):
    rows = read_csv(report_dir / "data" / "rating_distribution.csv")
    totals = [sum(r[2 + k] for r in plain_rows) for k in range(10)]
    assert [int(r["votes"]) for r in rows] == totals
    assert sum(float(r["share_of_votes"]) for r in rows) == pytest.approx(1.0, abs=1e-4)
    per_rating = read_csv(report_dir / "data" / "votes_per_rating.csv")
    for k in range(10):
        column = [r[2 + k] for r in plain_rows]
        assert float(per_rating[k]["mean_votes"]) == pytest.approx(np.mean(column), rel=1e-5)
        assert float(per_rating[k]["sd_votes"]) == pytest.approx(np.std(column), rel=1e-5)
        assert float(per_rating[k]["share_photos_with_any"]) == pytest.approx(np.mean([c > 0 for c in column]), rel=1e-5)


def test_histogram_of_mean_scores_counts_every_photo(report_dir, plain_rows):
    rows = read_csv(report_dir / "data" / "score_histogram.csv")
    assert sum(int(r["photos"]) for r in rows) == len(plain_rows)
    edges = [float(r["bin_low"]) for r in rows] + [float(rows[-1]["bin_high"])]
    means = [mean_of(r[2:12]) for r in plain_rows]
    expected, _ = np.histogram(means, bins=edges)
    assert [int(r["photos"]) for r in rows] == expected.tolist()


def test_photos_per_tag_and_the_untagged_share(report_dir, plain_rows, plain_names):
    tag_names, _ = plain_names
    rows = read_csv(report_dir / "data" / "tags.csv")
    counts = Counter()
    for r in plain_rows:
        tags = {t for t in (r[12], r[13]) if t}
        counts.update(tags or {0})
    got = {int(r["tag_id"]): int(r["photos"]) for r in rows}
    assert got == dict(counts)
    untagged = sum(1 for r in plain_rows if r[12] == 0 and r[13] == 0)
    by_id = {int(r["tag_id"]): r for r in rows}
    assert by_id[0]["tag"] == "(untagged)"
    assert float(by_id[0]["share_of_photos"]) == pytest.approx(untagged / len(plain_rows), rel=1e-5)
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["untagged"] == untagged
    assert summary["untagged_share"] == pytest.approx(untagged / len(plain_rows))
    for tag_id, row in by_id.items():
        if tag_id:
            assert row["tag"] == tag_names[tag_id]
    assert [int(r["photos"]) for r in rows] == sorted((int(r["photos"]) for r in rows), reverse=True)
    hist_rows = read_csv(report_dir / "data" / "tag_score_histograms.csv")
    for r in hist_rows:
        bins = [int(v) for k, v in r.items() if k not in ("tag_id", "tag")]
        assert sum(bins) == got[int(r["tag_id"])]


def test_per_challenge_numbers_match_an_independent_computation(report_dir, plain_rows, plain_names):
    _, challenge_names = plain_names
    photos = defaultdict(list)
    for r in plain_rows:
        photos[r[14]].append(r)
    rows = read_csv(report_dir / "data" / "challenges.csv")
    assert len(rows) == len(photos)
    for row in rows:
        members = photos[int(row["challenge_id"])]
        assert int(row["submissions"]) == len(members)
        assert row["challenge"] == challenge_names[int(row["challenge_id"])]
        assert float(row["mean_score"]) == pytest.approx(np.mean([mean_of(m[2:12]) for m in members]), rel=1e-5)
        assert float(row["mean_votes_per_photo"]) == pytest.approx(np.mean([sum(m[2:12]) for m in members]), rel=1e-5)
        assert float(row["sd_votes_per_photo"]) == pytest.approx(np.std([sum(m[2:12]) for m in members]), rel=1e-4, abs=1e-4)
    # top / bottom 70 by submissions
    sizes = sorted(len(v) for v in photos.values())
    top = [int(r["submissions"]) for r in rows if r["group"] == "top"]
    bottom = [int(r["submissions"]) for r in rows if r["group"] == "bottom"]
    assert len(top) == len(bottom) == 70
    assert sorted(top) == sizes[-70:] and sorted(bottom) == sizes[:70]
    hist = read_csv(report_dir / "data" / "challenge_score_histograms.csv")
    for r in hist:
        assert sum(int(v) for k, v in r.items() if "-" in k) == int(r["submissions"])


def test_reliability_and_extreme_votes(report_dir, plain_rows):
    summary = json.loads((report_dir / "summary.json").read_text())
    photos = defaultdict(list)
    for r in plain_rows:
        photos[r[14]].append(sum(r[2:12]))
    ranked = sorted(photos, key=lambda c: (-len(photos[c]), c))
    top_votes = np.mean([np.mean(photos[c]) for c in ranked[:70]])
    bottom_votes = np.mean([np.mean(photos[c]) for c in ranked[-70:]])
    assert summary["top_mean_votes"] == pytest.approx(top_votes)
    assert summary["bottom_mean_votes"] == pytest.approx(bottom_votes)
    reliability = {r["challenges"]: r for r in read_csv(report_dir / "data" / "reliability.csv")}
    assert float(reliability["all"]["mean_votes_per_photo"]) == pytest.approx(np.mean([sum(r[2:12]) for r in plain_rows]), rel=1e-5)
    any_extreme = np.mean([(r[2] + r[11]) > 0 for r in plain_rows])
    assert summary["share_any_extreme"] == pytest.approx(any_extreme)
    assert summary["share_votes_extreme"] == pytest.approx(sum(r[2] + r[11] for r in plain_rows) / sum(sum(r[2:12]) for r in plain_rows))
    extreme = read_csv(report_dir / "data" / "extreme_votes.csv")
    assert sum(int(r["photos"]) for r in extreme) == len(plain_rows)


def test_figures_are_real_pngs_and_embedded_in_the_html(report_dir):
    figures = sorted((report_dir / "figures").glob("*.png"))
    assert len(figures) >= 10
    html = (report_dir / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == len(figures)
    for path in figures:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 400 and image.height >= 200
            # a figure is not blank: it has many distinct colours
            assert len(image.convert("RGB").getcolors(1 << 20) or []) > 20, path.name
        assert base64.b64encode(path.read_bytes()).decode() in embedded
    for name in re.findall(r'href="(data/[a-z_]+\.csv)"', html):
        assert (report_dir / name).is_file(), name
    for needle in ("Normalised distribution of ratings", "untagged", "Top 70", "votes per photo", "Spearman", "s / √N"):
        assert needle.lower() in html.lower() or needle in html, needle


def test_score_comparison_tables(report_dir):
    rerank = {r["score"]: r for r in read_csv(report_dir / "data" / "score_reranking.csv")}
    assert set(rerank) == {"naive", "bayes", "lcb", "extreme"}
    assert float(rerank["naive"]["spearman_vs_naive"]) == pytest.approx(1.0)
    for row in rerank.values():
        assert -1 <= float(row["spearman_vs_naive"]) <= 1
        overlaps = [float(v) for k, v in row.items() if k.startswith("top")]
        assert all(0 <= v <= 1 for v in overlaps)
    spearman = read_csv(report_dir / "data" / "score_spearman.csv")
    matrix = np.array([[float(r[c]) for c in ("naive", "bayes", "lcb", "extreme")] for r in spearman])
    assert np.allclose(matrix, matrix.T, atol=1e-6) and np.allclose(np.diag(matrix), 1)
