"""Issue 29's small surprises, through the real command line: one folder given as both --good and --bad,
the contact sheet's counts in words, and heat maps that keep a scale and show low scorers too."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.cli.test_errors_and_help import assert_one_line_error, run_cli
from tests.web.conftest import BURST_SOURCE, make_burst


def test_taste_fit_refuses_a_folder_that_is_both_good_and_bad(shared_data, tmp_path):
    photos = tmp_path / "photos"
    (photos / "inner").mkdir(parents=True)
    for source in sorted((shared_data / "photos").glob("Canon*.jpg"))[:6]:
        shutil.copy2(source, photos / source.name)
    shutil.copy2(shared_data / "photos" / "Apple iPhone 4.jpg", photos / "inner")
    same = run_cli("taste", "fit", "--good", str(photos), "--bad", str(photos), "-o", str(tmp_path / "m"), cwd=tmp_path)
    assert_one_line_error(same, "both --good and --bad")
    inside = run_cli("taste", "fit", "--good", str(photos), "--bad", str(photos / "inner"), "-o", str(tmp_path / "m"), cwd=tmp_path)
    assert_one_line_error(inside, "both --good and --bad")
    assert not (tmp_path / "m").exists()


def test_contact_sheet_counts_in_words(shared_data, tmp_path):
    make_burst(shared_data / "photos" / BURST_SOURCE, tmp_path / "shoot", count=2)
    shutil.copy2(shared_data / "photos" / "Apple iPhone 4.jpg", tmp_path / "shoot")
    result = run_cli("cull", str(tmp_path / "shoot"), "-f", "jsonl", "--report", str(tmp_path / "sheet"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "sheet" / "index.html").read_text(encoding="utf-8")
    summary = re.search(r'<div class="summary">(.*?)</div>', text).group(1)
    assert summary == "3 photos · 1 group of look-alikes · 1 frame to reject · 1 photo with no look-alike", summary
    assert "· 2 photos</h3>" in text


def test_contact_sheet_shows_quality_and_appeal_when_given(tmp_path):
    from photocritic.culling.contact_sheet import write_contact_sheet

    Image.new("RGB", (300, 200), (120, 140, 90)).save(tmp_path / "a.jpg")
    record = {"path": str(tmp_path / "a.jpg"), "group": 1, "group_size": 1, "rank": 1, "pick": True, "score": 6.1,
              "quality_score": 6.84, "aesthetic_score": 5.91, "reasons": ["no similar photo: kept"]}
    text = write_contact_sheet([record], tmp_path / "sheet").read_text(encoding="utf-8")
    assert "score 6.10 · quality 6.8/10, appeal 5.9/10" in text


def test_taste_explain_draws_a_scale_and_shows_a_low_scorer(shared_data, tmp_path):
    pytest.importorskip("torch")
    photo = shared_data / "photos" / "Multiple ICC segments.jpg"  # scored 3.1: its map was empty
    result = run_cli("taste", "explain", str(photo), "-o", str(tmp_path / "maps"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    made = np.asarray(Image.open(line["heatmap"]).convert("RGB"), dtype=np.int16)
    from photocritic.imaging import decode_for_model

    plain = decode_for_model(photo).pixels.astype(np.int16)
    height, width = plain.shape[:2]
    assert made.shape[1] == width and made.shape[0] > height  # the colour scale below the photo
    scale = made[height + 2 : height + 6]
    assert (scale[:, 0, 2] > scale[:, 0, 0] + 40).all() and (scale[:, -1, 0] > scale[:, -1, 2] + 40).all()  # blue to red
    changed = np.abs(made[:height] - plain).max(axis=2) > 24
    assert changed.mean() > 0.05, changed.mean()  # the map shows where a low score comes from
