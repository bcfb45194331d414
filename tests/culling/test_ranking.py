"""Ranking inside a group: sharpness, exposure, grain, eyes, and the reasons given."""
from __future__ import annotations

import numpy as np

from photocritic.culling.ranking import Candidate, rank_group

TECH = {"sharpness_peak": 3.0, "noise": 2.0, "exposure_ev": -0.2, "highlights_clipped": 0.0, "shadows_clipped": 0.01}


def tech(**changes):
    return {**TECH, **changes}


def test_a_single_photo_is_its_own_pick():
    (only,) = rank_group([Candidate(0, 5.0, tech())])
    assert only.pick and only.rank == 1 and only.reasons


def test_the_sharp_frame_beats_a_blurred_one_with_a_higher_score():
    ranked = rank_group([Candidate(0, 5.0, tech()), Candidate(1, 5.6, tech(sharpness_peak=1.8))], similarities=np.array([[1, 0.95], [0.95, 1]]))
    by = {r.index: r for r in ranked}
    assert by[0].pick and not by[1].pick
    assert "nearly identical to a sharper shot" in by[1].reasons
    assert any("sharpest" in reason for reason in by[0].reasons)


def test_underexposure_is_said_in_stops():
    ranked = rank_group([Candidate(0, 5.0, tech()), Candidate(1, 5.0, tech()), Candidate(2, 5.1, tech(exposure_ev=-2.2))])
    dark = next(r for r in ranked if r.index == 2)
    assert not dark.pick and "2 stops underexposed" in dark.reasons


def test_eyes_closed_loses_and_is_the_first_reason():
    ranked = rank_group([Candidate(0, 5.0, tech(), faces=1, closed_eyes=0), Candidate(1, 5.4, tech(), faces=1, closed_eyes=1)])
    blink = next(r for r in ranked if r.index == 1)
    assert not blink.pick and blink.reasons[0] == "eyes closed"


def test_grain_does_not_pass_for_sharpness():
    quiet = Candidate(0, 5.0, tech(sharpness_peak=3.0), grain=1.0)
    grainy = Candidate(1, 5.3, tech(sharpness_peak=3.4), grain=9.0)
    soft = Candidate(2, 4.8, tech(sharpness_peak=2.9), grain=0.8)
    ranked = {r.index: r for r in rank_group([quiet, grainy, soft])}
    assert ranked[0].pick
    assert "noisier than the others" in ranked[1].reasons


def test_grain_in_most_frames_does_not_hide_the_clean_one():
    """Two of three frames carry sensor noise, which raises their measured sharpness by about a third of
    a decade: the clean frame must still count as crisp, the grainy ones as noisy, and the clean one win."""
    clean = Candidate(0, 5.5, tech(sharpness_peak=2.35, noise=1.3), grain=1.3, sharpness=2.35)
    grainy = [Candidate(i, 5.3, tech(sharpness_peak=2.7, noise=13.0), grain=13.0, sharpness=2.7) for i in (1, 2)]
    ranked = {r.index: r for r in rank_group([clean, *grainy])}
    assert ranked[0].pick
    assert all("noisier than the others" in ranked[i].reasons for i in (1, 2))


def test_a_spoiled_subject_never_beats_one_that_holds_it():
    """Skin blown in a brighter copy that the model likes and that measures sharper: still below the clean frame."""
    clean = Candidate(0, 5.0, tech(exposure_ev=-1.6), faces=1, subject_ev=0.2, subject_blown=0.0, subject_crushed=0.0, face_sharpness=2.0)
    blown = Candidate(1, 6.5, tech(exposure_ev=-0.2, highlights_clipped=0.2), faces=1, subject_ev=1.6, subject_blown=0.4, subject_crushed=0.0, face_sharpness=2.3)
    soft = Candidate(2, 5.0, tech(exposure_ev=-1.6), faces=1, subject_ev=0.2, subject_blown=0.0, subject_crushed=0.0, face_sharpness=1.0)
    ranked = {r.index: r for r in rank_group([clean, blown, soft])}
    assert ranked[0].pick
    assert ranked[1].rank == 3, "a blown face ranks below even a soft frame that holds the skin"
    assert any("highlights blown on the face" in reason for reason in ranked[1].reasons)


def test_a_low_key_frame_with_its_subject_right_is_not_underexposed():
    low_key = Candidate(0, 5.0, tech(exposure_ev=-2.1), faces=1, subject_ev=0.1, subject_blown=0.0, subject_crushed=0.0)
    brighter = Candidate(1, 5.2, tech(exposure_ev=-0.6), faces=1, subject_ev=1.6, subject_blown=0.01, subject_crushed=0.0)
    ranked = {r.index: r for r in rank_group([low_key, brighter])}
    assert ranked[0].pick
    assert not any("underexposed" in reason for r in ranked.values() for reason in r.reasons)


def test_no_landmark_evidence_no_blink():
    """Faces found but no eyes measured closed (closed_eyes 0): nobody is said to blink."""
    ranked = rank_group([Candidate(0, 5.0, tech(), faces=2), Candidate(1, 5.5, tech(), faces=1), Candidate(2, 5.2, tech(), faces=None)])
    assert not any("eyes closed" in reason for r in ranked for reason in r.reasons)


def test_reasons_are_relative_to_the_users_pick():
    """The user keeps the blinking frame: it is 'your pick' with no reason against it, and the frame
    that was suggested is not said to blink or to be worse."""
    open_eyes = Candidate(0, 5.0, tech(), faces=1, closed_eyes=0)
    blink = Candidate(1, 5.4, tech(sharpness_peak=2.6), faces=1, closed_eyes=1)
    suggested = {r.index: r for r in rank_group([open_eyes, blink])}
    assert suggested[0].pick and "eyes closed" in suggested[1].reasons
    overridden = {r.index: r for r in rank_group([open_eyes, blink], pick=1)}
    assert overridden[1].pick and overridden[1].rank == 1 and overridden[1].reasons[0] == "your pick"
    assert not any(w in reason for reason in overridden[1].reasons for w in ("eyes closed", "blurred", "less sharp"))
    assert not any("eyes closed" in reason for reason in overridden[0].reasons)
    assert overridden[0].rank == 2


def test_evidence_round_trips():
    c = Candidate(3, 5.5, tech(), faces=1, closed_eyes=1, grain=2.0, sharpness=2.5, subject_ev=0.3, subject_blown=0.01, subject_crushed=0.0, face_sharpness=1.9)
    back = Candidate.from_evidence(3, c.evidence())
    assert back == c
