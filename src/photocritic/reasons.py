"""What a record says in words: the notes on its technical measures, and the judgement a person reads.

One source for every view: the CLI's why column and ``reasons`` lists, :func:`photocritic.score`, and the
web pages. A record without ``quality_score`` / ``aesthetic_score`` (or with them null) simply says less.
"""
from __future__ import annotations

import math

#: The luma levels the technical measures count as clipped (``highlights_clipped``: 250 and up;
#: ``shadows_clipped``: 5 and below), as 0..1.
CLIP_HIGH, CLIP_LOW = 250 / 255, 5 / 255
#: No exposure note claims more stops than this: 8-bit data this far off holds little to recover.
MAX_CLAIM = 4.0


def _linear(level: float) -> float:
    """sRGB-encoded 0..1 -> linear light."""
    return level / 12.92 if level <= 0.04045 else ((level + 0.055) / 1.055) ** 2.4


def _mean_level(ev: float) -> float:
    """The mean luma (0..1) that ``exposure_ev`` was computed from (see models.technical)."""
    return 0.46 * 2 ** (ev / 2.2)


def exposure_stops(technical: dict) -> float:
    """Stops the frame is under- (negative) or overexposed (positive), claimed only as far as its own tones show it.

    The whole frame's mean says how dark or bright it is, not whether that is a defect: a star trail or
    a lit face on black is dark by intent. What it can show is the subject's tones, here the brightest
    1% of a dark frame (the darkest 1% of a bright one): a frame is underexposed only by as many stops as
    its brightest tones could be raised before they clip, overexposed only by as many as its darkest
    tones could be lowered before they crush. Both ends are bounded from the mean and the 1st-99th
    percentile range, so the claim errs short.
    """
    ev = technical.get("exposure_ev", 0.0)
    spread = technical.get("dynamic_range", 1.0)
    mean = _mean_level(ev)
    if ev < 0:
        top = min(1.0, mean + spread)  # at least the 99th percentile
        return -max(0.0, min(-ev, math.log2(_linear(CLIP_HIGH) / max(_linear(top), 1e-9))))
    bottom = max(0.0, mean - spread)  # at most the 1st percentile
    if bottom <= CLIP_LOW:
        return 0.0
    return max(0.0, min(ev, math.log2(_linear(bottom) / _linear(CLIP_LOW))))


def _stops_text(stops: float) -> str:
    return f"more than {MAX_CLAIM:g} stops" if stops > MAX_CLAIM else f"about {stops:.1f} stops"


def technical_reasons(technical: dict | None) -> list[dict]:
    """Plain-language notes on the technical measures, worst first: [{"level", "text"}].

    level is "bad", "warn" or "good". Thresholds are on the decoded working image (long side 512),
    the scale every measure is computed on.
    """
    if not technical:
        return []
    t = technical
    notes: list[tuple[int, str, str]] = []  # (order, level, text)

    def add(level: str, text: str) -> None:
        notes.append(({"bad": 0, "warn": 1, "good": 2}[level], level, text))

    # thresholds sit near the 5th/10th and 90th/95th percentiles of ../shared/data/photos (everyday photos)
    ev = t.get("exposure_ev", 0.0)
    stops = exposure_stops(t)
    hi = t.get("highlights_clipped", 0.0)
    if stops <= -2.0:
        add("bad", f"underexposed by {_stops_text(-stops)}")
    elif stops <= -1.0:
        add("warn", f"on the dark side (about {-stops:.1f} stops under)")
    elif ev <= -1.0:
        add("good", "low-key: dark overall, its highlights bright")
    elif stops >= 1.3 and hi >= 0.05:
        add("bad", f"overexposed by {_stops_text(stops)}")
    elif stops >= 0.6 and hi >= 0.05:
        add("warn", f"on the bright side (about {stops:.1f} stops over)")
    elif ev >= 0.6:
        add("good", "high-key: bright overall, its shadows kept")
    else:
        add("good", f"well exposed ({ev:+.1f} EV)")
    if hi >= 0.05:
        add("bad" if hi >= 0.15 else "warn", f"{hi:.0%} of the frame is blown-out highlights")
    lo = t.get("shadows_clipped", 0.0)
    if lo >= 0.08:
        add("bad" if lo >= 0.25 else "warn", f"{lo:.0%} of the frame is crushed to black")
    peak = t.get("sharpness_peak", 0.0)
    if peak < 2.0:
        add("bad", "nothing in the frame is sharp (blur or missed focus)")
    elif peak < 2.5:
        add("warn", "soft: even the sharpest part lacks fine detail")
    else:
        add("good", "sharp where it matters")
    if t.get("subject_isolation", 0.0) >= 1.0 and peak >= 2.5:
        add("good", "the subject stands out from a softer background")
    contrast = t.get("contrast", 0.0)
    if contrast < 0.11:
        add("warn", "flat, low contrast")
    elif contrast > 0.33:
        add("warn", "very high contrast")
    noise = t.get("noise", 0.0)
    if noise >= 6:
        add("bad" if noise >= 10 else "warn", f"visible noise (sigma {noise:.1f} levels)")
    saturation = t.get("saturation", 0.0)
    if t.get("colour_cast", 0.0) >= 0.45 and saturation < 0.45:
        add("warn", "a colour cast (check the white balance)")
    colorfulness = t.get("colorfulness", 0.0)
    if colorfulness >= 70:
        add("good", "rich, saturated colour")
    elif colorfulness < 10 and saturation < 0.08:
        add("warn", "almost no colour (or black and white)")
    notes.sort(key=lambda n: n[0])
    return [{"level": level, "text": text} for _, level, text in notes]


def photo_notes(record: dict) -> list[dict]:
    """A record's notes, worst first: its flags (an empty or too small frame: its measures mean nothing
    then, and nothing else is said), else :func:`technical_reasons`."""
    flags = list(record.get("flags") or [])
    if flags:
        return [{"level": "bad", "text": flag} for flag in flags]
    return technical_reasons(record.get("technical"))


def record_reasons(record: dict) -> list[str]:
    """The reasons a record carries (``reasons`` in JSONL and CSV, and in :func:`photocritic.score`)."""
    return [note["text"] for note in photo_notes(record)]


def judgement(record: dict) -> str:
    """``quality 6.8/10, appeal 5.9/10`` from ``quality_score`` and ``aesthetic_score``; "" when the model
    gives neither."""
    parts = [f"{word} {record[key]:.1f}/10" for key, word in (("quality_score", "quality"), ("aesthetic_score", "appeal"))
             if isinstance(record.get(key), (int, float)) and math.isfinite(record[key])]
    return ", ".join(parts)


__all__ = ["exposure_stops", "judgement", "photo_notes", "record_reasons", "technical_reasons"]
