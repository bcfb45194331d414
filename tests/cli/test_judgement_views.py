"""quality_score and aesthetic_score in the command line's views: the why column (the table, --explain),
CSV's flat columns, cull's reasons column. The records are made by hand (the view is what is tested),
with the scores, without the keys, and with them null."""
from __future__ import annotations

import csv
import io

from photocritic.cli.cull import _emit
from photocritic.cli.score import TABLE_COLUMNS, why
from photocritic.writers import render_table, write_csv

BASE = {"path": "/shoot/a.jpg", "score": 6.1, "score_std": 1.4, "error": None, "width": 800, "height": 600,
        "taken_at": None, "camera": None, "flags": [],
        "technical": {"exposure_ev": 0.1, "sharpness_peak": 3.0, "contrast": 0.2, "dynamic_range": 0.8, "colorfulness": 30.0, "saturation": 0.3}}
JUDGED = {**BASE, "quality_score": 6.84, "aesthetic_score": 5.91}
WORDS = "quality 6.8/10, appeal 5.9/10"


def test_why_column_names_quality_and_appeal_first_and_only_when_given():
    assert why(JUDGED, explain=False).startswith(WORDS + "; well exposed")
    assert why(JUDGED, explain=True).startswith(WORDS + "; ")
    for plain in (BASE, {**BASE, "quality_score": None, "aesthetic_score": None}):
        assert why(plain, explain=False).startswith("well exposed")
    assert why({**BASE, "aesthetic_score": 7.04}, explain=False).startswith("appeal 7.0/10; ")


def test_table_at_80_columns_keeps_the_words_whole():
    stream = io.StringIO()
    rows = [{**r, "name": "a.jpg", "size": "800x600", "why": why(r, explain=True)} for r in (JUDGED, BASE)]
    render_table(rows, TABLE_COLUMNS, stream, no_wrap=("name", "score"), optional=("camera", "taken_at", "size"), width=80)
    text = stream.getvalue()
    assert max(map(len, text.splitlines())) <= 80
    assert "quality 6.8/10, appeal" in text.replace("│", "")  # not split inside a word


def test_csv_has_flat_columns_empty_where_a_model_gives_none():
    stream = io.StringIO()
    list(write_csv([JUDGED, {**BASE, "quality_score": None, "aesthetic_score": None}], stream))
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert (rows[0]["quality_score"], rows[0]["aesthetic_score"]) == ("6.84", "5.91")
    assert (rows[1]["quality_score"], rows[1]["aesthetic_score"]) == ("", "")


def test_cull_table_starts_its_reasons_with_them(tmp_path, capsys):
    record = {"path": "/shoot/a.jpg", "group": 1, "group_size": 1, "rank": 1, "pick": True, "score": 6.1,
              "quality_score": 6.84, "aesthetic_score": 5.91, "reasons": ["no similar photo: kept"]}
    _emit([record, {**record, "path": "/shoot/b.jpg", "group": 2, "quality_score": None, "aesthetic_score": None}], "table", None)
    out = capsys.readouterr().out
    assert f"{WORDS}; no similar photo: kept" in " ".join(out.replace("│", " ").split())
    assert out.count("quality") == 1
