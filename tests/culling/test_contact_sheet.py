"""The HTML contact sheet: self-contained, the pick marked, names escaped."""
from __future__ import annotations

import re
import shutil

from PIL import Image

from photocritic.culling.contact_sheet import write_contact_sheet


def test_sheet_marks_the_pick_and_escapes_names(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    nasty = photos / 'a <script>alert(1)<script> & "b" <img src=x onerror=alert(2)>.jpg'
    plain = photos / "plain.jpg"
    Image.new("RGB", (300, 200), (200, 100, 50)).save(nasty, "JPEG")
    Image.new("RGB", (300, 200), (50, 100, 200)).save(plain, "JPEG")
    records = [
        {"path": str(nasty), "group": 1, "group_size": 2, "rank": 1, "pick": True, "score": 5.5, "reasons": ["sharpest of 2 <b>"]},
        {"path": str(plain), "group": 1, "group_size": 2, "rank": 2, "pick": False, "score": 5.1, "reasons": ["2 stops underexposed"]},
        {"path": str(photos / "missing.jpg"), "group": None, "group_size": None, "rank": None, "pick": None, "score": None, "reasons": ["could not be judged: file not found"]},
    ]
    sheet = write_contact_sheet(records, tmp_path / "report")
    text = sheet.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text and "sharpest of 2 &lt;b&gt;" in text
    assert text.count('class="pick"') == 1 and "PICK" in text
    assert "2 stops underexposed" in text and "could not be judged" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from anywhere
    thumbs = re.findall(r'src="thumbs/([^"]+)"', text)
    assert len(thumbs) == 2 and all((tmp_path / "report" / "thumbs" / t).is_file() for t in thumbs)
    shutil.rmtree(photos)  # the sheet stands on its own
    assert all((tmp_path / "report" / "thumbs" / t).stat().st_size < 40_000 for t in thumbs)
