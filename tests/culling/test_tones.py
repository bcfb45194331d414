"""Tonal information (frames.tonal_entropy) and blinks on smeared faces, on real photos."""
from __future__ import annotations

import random

import numpy as np
import pytest

from photocritic.culling.faces import SMEARED, blinks, inspect_pixels
from photocritic.culling.frames import tonal_entropy
from photocritic.culling.pipeline import _subject_evidence
from photocritic.culling.ranking import Candidate, rank_group

PHOTOS = ["Canon EOS 350D.jpg", "Nikon D3100.jpg", "Olympus E-20.jpg", "Canon PowerShot G11.jpg"]


def _decode(path):
    from photocritic.imaging import decode_for_model

    return decode_for_model(path, long_side=1024, draft_headroom=1.0).pixels


def _stops(pixels: np.ndarray, stops: float) -> np.ndarray:
    """The evaluation's exposure change: in linear light, back to sRGB, clipped."""
    srgb = pixels.astype(np.float32) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4) * 2.0**stops
    linear = np.clip(linear, 0, 1)
    out = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return (out * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("name", PHOTOS)
def test_a_tone_curve_leaves_fewer_tones_than_the_untouched_frame(shared_data, name):
    pixels = _decode(shared_data / "photos" / name)
    clean = tonal_entropy(pixels)
    assert tonal_entropy(_stops(pixels, -1.0)) < clean - 0.2
    assert tonal_entropy(_stops(pixels, -2.0)) < tonal_entropy(_stops(pixels, -1.0))
    brighter = np.clip(pixels.astype(np.float32) * 1.8, 0, 255).astype(np.uint8)
    if name != "Canon PowerShot G11.jpg":  # a dark frame brightened is stretched, not clipped: no loss to see
        assert tonal_entropy(brighter) < clean  # brightened 1.8x and clipped: the tones pile up at white


#: photos whose subject is exposed right (within 0.7 stop of normal) and holds its highlights: darkening
#: them is a defect, not a repair, and only the tones tell it (the clipping measures see nothing)
WELL_EXPOSED = ["Canon PowerShot G11.jpg", "Nokia Lumia 800.jpg"]


@pytest.mark.parametrize("name", WELL_EXPOSED)
def test_the_tones_decide_what_exposure_cannot(shared_data, as_candidates, name, weights=None):
    """The untouched frame and a copy 0.8 stop darker that the model scores a little higher: each is as
    far from the pair's median exposure, neither subject is off by more than the tolerance, so what
    the darker copy lost (its tones squeezed into fewer levels) must decide, before the score."""
    pixels = _decode(shared_data / "photos" / name)
    members = as_candidates([pixels, _stops(pixels, -0.8)], [5.0, 5.2])
    assert abs(members[0].subject_ev) <= 0.7 and members[0].subject_blown <= 0.01
    ranked = rank_group(members, weights)
    assert next(r for r in ranked if r.pick).index == 0, [(r.index, r.quality, r.reasons) for r in ranked]


def test_a_shaken_copy_is_no_evidence_of_a_blink(shared_data):
    """Camera shake smears the eyelids together; a face far less sharp than itself in another frame of
    the group is not called blinking there (the untouched portrait has her eyes open)."""
    from scipy import ndimage

    pixels = _decode(shared_data / "faces" / "open" / "ibmmax__tom_cruise.jpg")
    length = int(max(pixels.shape[:2]) * 0.018) | 1
    kernel = np.full((1, length), 1.0 / length, np.float32)
    shaken = np.stack([ndimage.convolve(pixels[..., c].astype(np.float32), kernel, mode="reflect") for c in range(3)], -1)
    shaken = np.clip(shaken, 0, 255).astype(np.uint8)
    clean, smeared = inspect_pixels(pixels).faces, inspect_pixels(shaken).faces
    assert clean.count == smeared.count == 1
    assert clean.faces[0].eyes_closed is False
    assert smeared.faces[0].sharpness < clean.faces[0].sharpness - SMEARED
    assert blinks(smeared, clean, group=[clean, smeared]) == 0
    # a face measured closed at the same sharpness is evidence
    smeared.faces[0].eyes_closed = True
    smeared.faces[0].sharpness = clean.faces[0].sharpness
    assert blinks(smeared, clean, group=[clean, smeared]) == 1


def test_grain_is_not_credited_with_tones(shared_data):
    """Noise spreads a frame's levels; a grainy copy must not win on tones over the untouched frame."""
    pixels = _decode(shared_data / "photos" / PHOTOS[0])
    rng = np.random.default_rng(random.Random(5).randrange(1 << 30))
    noisy = np.clip(pixels + rng.normal(0, 16, pixels.shape), 0, 255).astype(np.uint8)
    reports = [inspect_pixels(f, find_faces=False) for f in (pixels, noisy, _stops(pixels, -1.0))]
    tech = {"sharpness_peak": 3.0, "noise": 2.0, "exposure_ev": 0.0, "highlights_clipped": 0.0, "shadows_clipped": 0.0}
    members = [Candidate(k, 5.0, dict(tech), faces=0, grain=r.noise, sharpness=r.sharpness, tones=r.tones) for k, r in enumerate(reports)]
    ranked = {r.index: r for r in rank_group(members)}
    assert ranked[0].pick


def test_a_darkened_copy_of_blown_highlights_is_still_blown(shared_data):
    """Pulled down 1-1.5 stops, an area blown to white is a flat plateau at the frame's top: it holds no
    more than the white did, so it must not count as highlights the copy holds and the original lost."""
    pixels = _decode(shared_data / "photos" / "Kodak DX4900 Zoom.jpg")
    clean = _subject_evidence(inspect_pixels(pixels, find_faces=False))["subject_blown"]
    assert clean > 0.1
    for stops in (-1.0, -1.5):
        darker = _subject_evidence(inspect_pixels(_stops(pixels, stops), find_faces=False))["subject_blown"]
        assert darker > 0.6 * clean
    # a frame that is merely dark, or flat, has no highlights to lose
    assert _subject_evidence(inspect_pixels(_stops(pixels, -4.0), find_faces=False))["subject_blown"] < 0.01


def test_eyes_closed_through_most_of_a_burst_are_no_blink(shared_data):
    """A blink is the odd frame of a burst. A face measured closed in more frames than open (a real
    closed-eyed face, here in its untouched and a slightly darker frame, with one frame where a defect
    fooled the eyelid model into "open") costs no frame anything; closed in one of two frames it does."""
    import copy

    pixels = _decode(shared_data / "faces" / "closed" / "cew__closed_eye_0091.jpg_face_1.jpg")
    closed, darker = inspect_pixels(pixels).faces, inspect_pixels(_stops(pixels, -0.3)).faces
    assert closed.count == darker.count == 1
    assert closed.faces[0].eyes_closed is True and darker.faces[0].eyes_closed is True
    fooled = copy.deepcopy(closed)
    fooled.faces[0].eyes_closed = False
    assert blinks(closed, fooled, group=[closed, darker, fooled]) == 0
    assert blinks(closed, fooled, group=[closed, fooled]) == 1
