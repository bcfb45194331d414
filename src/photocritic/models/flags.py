"""What a score cannot say: flags on a record, and the photos no model should rank.

A photo too small to judge (a thumbnail, a 1x1 tracking pixel) gets the flag ``"too small to judge:
W x H px"`` and the floor of the scale instead of a model's opinion: score 1.0, all of its
distribution on 1, spread 0, so it sorts below every judged photo and never among them. Frames with
nothing in them, almost entirely black, white or one flat colour, are flagged and floored the same way:
a model (a personal taste model above all) can score an empty frame anywhere, and no ranking may put
one above a real photo. The rules read only the photo's size and its technical measures.
"""
from __future__ import annotations

import numpy as np

#: Photos whose short side is at most this many pixels are not judged (the model sees a 224 x 224
#: squeeze of the frame: below this, a photo's content is mostly upsampling).
MIN_JUDGED_SIDE = 64
TOO_SMALL = "too small to judge"
#: A frame counts as empty only if even its brightest (darkest) 1% stays within a quarter of the tonal
#: range of black (white): a moon or a star field on black keeps its lit part and is judged.
EMPTY_RANGE = 0.25


def too_small(width: int | None, height: int | None) -> bool:
    return width is not None and height is not None and min(width, height) <= MIN_JUDGED_SIDE


def photo_flags(width: int | None, height: int | None, technical: dict | None) -> list[str]:
    """Reasons, in words, why a score should not be read as a judgement of a real photo."""
    if too_small(width, height):  # its measures say nothing either
        return [f"{TOO_SMALL}: {width}x{height} px"]
    flags = []
    t = technical or {}
    empty = t.get("dynamic_range", 1.0) < EMPTY_RANGE
    if t.get("shadows_clipped", 0.0) >= 0.95 and empty:
        flags.append("almost entirely black")
    elif t.get("highlights_clipped", 0.0) >= 0.95 and empty:
        flags.append("almost entirely white")
    elif t and t.get("dynamic_range", 1.0) <= 0.03:
        flags.append("flat: almost no detail or tone")
    return flags


def floor_distribution(n_bins: int = 10) -> np.ndarray:
    """The distribution given to a photo that is not judged: everything on the lowest rating."""
    out = np.zeros(n_bins)
    out[0] = 1.0
    return out


def judged(flags: list[str], score: float, distribution) -> tuple[float, list[float]]:
    """(score, distribution) as a record carries them: the model's, or the floor for a flagged photo."""
    if not flags:
        return score, distribution
    return 1.0, floor_distribution(len(distribution)).tolist()
