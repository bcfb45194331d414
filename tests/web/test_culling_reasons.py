"""After the user overrides the pick, the web view's reasons are relative to the frame kept (issue 16)."""
from __future__ import annotations

from photocritic.culling.ranking import Candidate, rank_group
from photocritic.web.culling_view import Group

TECH = {"sharpness_peak": 3.0, "noise": 2.0, "exposure_ev": -0.2, "highlights_clipped": 0.0, "shadows_clipped": 0.01}


def _group() -> Group:
    frames = [
        Candidate(0, 5.0, dict(TECH), faces=1, closed_eyes=0, sharpness=3.0),
        Candidate(1, 5.6, dict(TECH), faces=1, closed_eyes=1, sharpness=3.0),  # blinks
        Candidate(2, 5.2, dict(TECH), faces=1, closed_eyes=0, sharpness=1.8),  # blurred
    ]
    cull = {}
    for ranked in rank_group(frames):
        c = frames[ranked.index]
        cull[f"p{c.index}"] = {"path": f"/shoot/{c.index}.jpg", "rank": ranked.rank, "pick": ranked.pick, "reasons": ranked.reasons, "evidence": c.evidence()}
    members = sorted(cull, key=lambda pid: cull[pid]["rank"])
    return Group(1, members, cull)


def test_suggested_reasons_until_the_user_picks():
    group = _group()
    assert group.suggested == "p0"
    assert group.reasons("p1") == group.cull["p1"]["reasons"] and "eyes closed" in group.reasons("p1")


def test_the_kept_frame_carries_no_reason_from_the_old_pick():
    group = _group()
    group.apply("p2", "pick")  # the user keeps the blurred frame
    kept = group.reasons("p2")
    assert kept[0] == "your pick"
    assert not any(w in r for r in kept for w in ("blurred", "less sharp", "sharper shot", "eyes closed"))
    assert "eyes closed" in group.reasons("p1")  # still true: the eyelids are closed in that frame
    assert not any("blurred" in r or "less sharp" in r for r in group.reasons("p0"))
    group.apply("p2", "reset")
    assert group.reasons("p2") == group.cull["p2"]["reasons"]
