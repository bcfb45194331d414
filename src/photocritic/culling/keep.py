"""Cull to a target: keep the best N photos of a shoot (``cull --keep N`` or ``--keep 30%``).

Each group's pick comes before any second frame of a group: the picks are kept first, best score
first (a photo with no look-alike is its own group's pick), then the second-best frames of the groups,
best score first, then the third-best, until N are kept. Flagged photos (too small, almost entirely
black or white, flat) are never kept. A pick that does not fit gets the decision ``"left out"`` and
the reason ``"left out: --keep N reached"``; a second frame that fits becomes a pick too.
"""
from __future__ import annotations

import math

SINGLE_KEPT = "no similar photo: kept"


def parse_keep(value) -> int | float:
    """``--keep``'s value: a number of photos (``20``: an int) or a share (``"30%"``: a float in (0, 1]).
    Raises ValueError, in words, for anything else (0, a negative count, 0% or more than 100%)."""
    text = str(value).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not (math.isfinite(share) and 0 < share <= 100):
                raise ValueError(f"--keep takes a share above 0% and up to 100%, not {text}")
            return share / 100.0
        count = int(text)
    except ValueError as exc:
        if str(exc).startswith("--keep"):
            raise
        raise ValueError(f"--keep takes a number of photos (--keep 20) or a share of them (--keep 30%), not {text!r}") from None
    if isinstance(value, bool) or count < 1:
        raise ValueError(f"--keep must keep at least 1 photo, not {text}")
    return count


def keep_count(keep: int | float, photos: int) -> int:
    """How many of *photos* (readable photos) --keep keeps: the count itself, or the share rounded (at least 1)."""
    if isinstance(keep, float):
        return max(1, math.floor(keep * photos + 0.5))
    return keep


def keep_best(records: list[dict], keep: int | float, label: str | None = None) -> tuple[int, int]:
    """Mark *records* (as :func:`photocritic.culling.cull_records` returns them) for a cull to a target.

    *keep*: from :func:`parse_keep`; *label*: how the reasons name the target (default ``--keep 20``).
    Kept photos get ``pick`` true and the decision ``"pick"``; picks that do not fit get ``pick`` false,
    the decision ``"left out"`` and the reason first. Returns (kept, left out)."""
    readable = [r for r in records if r.get("group") is not None]
    target = keep_count(keep, len(readable))
    if label is None:
        label = f"--keep {round(keep * 100, 2):g}%" if isinstance(keep, float) else f"--keep {keep}"
    if isinstance(keep, float):
        label = f"{label} ({target} of {len(readable)})"
    groups: dict[int, list[dict]] = {}
    for record in readable:
        if not record.get("flags"):
            groups.setdefault(record["group"], []).append(record)
    order: list[dict] = []
    for depth in range(max((len(g) for g in groups.values()), default=0)):
        layer = [sorted(g, key=lambda r: r["rank"])[depth] for g in groups.values() if len(g) > depth]
        order += sorted(layer, key=lambda r: (-_score(r), r["group"]))
    kept = {id(r) for r in order[:target]}
    left_out = 0
    for record in order:
        if id(record) in kept:
            if not record["pick"]:
                record["reasons"] = [f"kept: {label} has room for more than one frame of this group", *record["reasons"]]
            record["pick"], record["decision"] = True, "pick"
        elif record["pick"]:
            record["pick"], record["decision"] = False, "left out"
            # a single's "no similar photo: kept" no longer holds
            record["reasons"] = [f"left out: {label} reached", *(r for r in record["reasons"] if r != SINGLE_KEPT)]
            left_out += 1
    return len(kept), left_out


def _score(record: dict) -> float:
    score = record.get("score")
    return float(score) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0


__all__ = ["keep_best", "keep_count", "parse_keep"]
