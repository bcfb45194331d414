"""Grain in a burst: clipping does not hide it, blurred copies do not set its reference, and the aesthetic
model is not credited for it (frames.noise_sigma, ranking.rank_group), on real photos."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from photocritic.culling.frames import noise_sigma
from photocritic.culling.ranking import Candidate, rank_group

PHOTOS = ["Canon EOS 350D.jpg", "Nikon D3100.jpg", "Canon PowerShot G11.jpg"]


def _decode(path):
    from photocritic.imaging import decode_for_model

    return decode_for_model(path, long_side=1024, draft_headroom=1.0).pixels


def _grainy(pixels: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, pixels.shape)
    return np.clip(pixels.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def test_clipping_does_not_hide_grain(shared_data):
    for name in PHOTOS:
        frame = _grainy(_decode(shared_data / "photos" / name), 8.0)
        blown = np.clip(frame.astype(np.float32) * 2.0, 0, 255).astype(np.uint8)  # a brightened copy: sky and skin at white
        clipped = (blown.astype(np.float32) @ [0.299, 0.587, 0.114] >= 250).mean()
        assert clipped > 0.05, name  # the test needs a copy that clips
        # the same grain, stretched 2x and measured on a frame of mean 128: about the same sigma, not less
        assert noise_sigma(blown) > 0.8 * noise_sigma(frame), name


def test_blurred_copies_do_not_make_the_untouched_frame_noisy(shared_data, as_candidates):
    """Blur removes grain with the detail: when most frames of a burst are blurred, the grainy untouched
    frame is still the pick, and nothing calls it noisier than the others."""
    for name in PHOTOS[:2]:  # not on a smooth frame whose measured sharpness is mostly its own grain (G11 here): a known limit
        clean = _grainy(_decode(shared_data / "photos" / name), 6.0)
        image = Image.fromarray(clean)
        blurred = [np.asarray(image.filter(ImageFilter.GaussianBlur(r))) for r in (4, 5, 6)]
        members = as_candidates([clean, *blurred], [5.0, 4.9, 4.9, 4.9])
        ranked = sorted(rank_group(members), key=lambda r: r.index)
        assert ranked[0].pick, (name, [r.reasons for r in ranked])
        assert not any("noisier" in text for r in ranked for text in r.reasons), name


def test_a_noisy_frame_gets_no_credit_for_the_score_its_grain_earns():
    """The aesthetic model scores grain as detail (a dark smooth frame: 3.6 untouched, 6.9 with noise on the
    evaluation's bursts); a frame flagged noisy is credited no more than the group's median score."""
    technical = {"exposure_ev": -2.6, "sharpness_peak": 1.0, "highlights_clipped": 0.02, "shadows_clipped": 0.0}
    common = {"faces": 0, "subject_ev": -2.4, "subject_blown": 0.02, "subject_crushed": 0.0, "tones": 3.85}
    members = [
        Candidate(0, 3.55, dict(technical), grain=0.0, sharpness=1.41, **common),  # untouched
        Candidate(1, 6.91, dict(technical), grain=18.5, sharpness=2.98, **common),  # noise: sharper by its grain alone
        Candidate(2, 3.39, dict(technical, exposure_ev=-3.6), grain=0.0, sharpness=1.39, **common),  # darkened
    ]
    ranked = sorted(rank_group(members), key=lambda r: r.index)
    assert ranked[0].pick, [r.reasons for r in ranked]
    assert "noisier than the others" in ranked[1].reasons
