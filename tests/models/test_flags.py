"""Photos too small to judge are flagged and kept apart from real photos; blank frames are flagged."""
from __future__ import annotations

import numpy as np
from PIL import Image

from photocritic.models.flags import MIN_JUDGED_SIDE, judged, photo_flags
from photocritic.scoring import Scorer


def test_rules_flag_small_and_blank_frames():
    assert photo_flags(1, 1, {}) == ["too small to judge: 1x1 px"]
    assert photo_flags(MIN_JUDGED_SIDE + 1, 4000, {"shadows_clipped": 0.0, "dynamic_range": 0.8}) == []
    assert "almost entirely black" in photo_flags(640, 480, {"shadows_clipped": 0.99, "dynamic_range": 0.0})
    assert "almost entirely white" in photo_flags(640, 480, {"highlights_clipped": 0.97, "dynamic_range": 0.01})
    assert photo_flags(640, 480, {"dynamic_range": 0.01})[0].startswith("flat")
    # a moon on black keeps its lit part: judged, not flagged
    assert photo_flags(640, 480, {"shadows_clipped": 0.97, "dynamic_range": 0.49}) == []
    uniform = [0.1] * 10
    assert judged(["almost entirely black"], 8.3, uniform) == (1.0, [1.0] + [0.0] * 9)
    assert judged([], 5.5, uniform) == (5.5, uniform)


def test_too_small_photos_are_flagged_not_ranked_among_real_photos(tmp_path, shared_data):
    rng = np.random.default_rng(0)
    tiny = tmp_path / "tiny.jpg"
    Image.fromarray(rng.integers(0, 255, (1, 1, 3), dtype=np.uint8)).save(tiny)
    strip = tmp_path / "thumb.jpg"
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(strip)
    real = sorted((shared_data / "professional").glob("*.jpg"))[:2] + [shared_data / "photos" / "Issue 508.jpg"]
    records = {r["path"].rsplit("/", 1)[-1]: r for r in Scorer("default", use_catalog=False).iter_records([tiny, strip, *real])}
    for name, size in (("tiny.jpg", "1x1"), ("thumb.jpg", "64x48"), ("Issue 508.jpg", "1x1")):
        record = records[name]
        assert record["error"] is None
        assert record["flags"] == [f"too small to judge: {size} px"]
        assert record["score"] == 1.0 and record["score_std"] == 0.0
    judged = [records[p.name] for p in real[:2]]
    for record in judged:
        assert record["flags"] == []
        assert record["score"] > 2.0  # well above the floor the unjudged photos sit at
