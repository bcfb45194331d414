"""Cull to a target: keep the best N photos of a shoot (``cull --keep N`` or ``--keep 30%``).

Each group's pick comes before any second frame of a group: the picks are kept first, best score
first (a photo with no look-alike is its own group's pick), then the second-best frames of the groups,
best score first, then the third-best, until N are kept. Flagged photos (too small, almost entirely
black or white, flat) are never kept. A pick that does not fit gets the decision ``"left out"`` and
the reason ``"left out: --keep N reached"``; a second frame that fits becomes a pick too.

A set that is not culled (an exposure bracket, a panorama, a focus stack: :mod:`.sets`) is kept whole
and counts as one photo, the one picture it makes once merged; its frames are never left out, even when
the sets alone are more than N. Other frames of a group that holds a set's frames come after every
group's pick, as second frames.
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
    the decision ``"left out"`` and the reason first. Frames of a set (``set_id``) are all kept, each set
    counting as one photo. Returns (photos kept, set frames included; left out)."""
    readable = [r for r in records if r.get("group") is not None]
    target = keep_count(keep, len(readable))
    if label is None:
        label = f"--keep {round(keep * 100, 2):g}%" if isinstance(keep, float) else f"--keep {keep}"
    if isinstance(keep, float):
        label = f"{label} ({target} of {len(readable)})"
    groups: dict[int, list[dict]] = {}
    sets: dict[int, list[dict]] = {}
    for record in readable:
        if record.get("flags"):
            continue
        if record.get("set_id") is not None:
            sets.setdefault(record["set_id"], []).append(record)
        else:
            groups.setdefault(record["group"], []).append(record)
    for frames in sets.values():
        for record in frames:
            record["pick"], record["decision"] = True, "pick"
    with_set = {r["group"] for frames in sets.values() for r in frames}
    # depth: 0 for each group's best frame, 1 for the second, ...; a group whose set frames are kept
    # already has its keeper, so its other frames start at 1
    ranked = [
        (depth + (group in with_set), -_score(r), r["group"], r)
        for group, frames in groups.items()
        for depth, r in enumerate(sorted(frames, key=lambda r: r["rank"]))
    ]
    order = [r for *_, r in sorted(ranked, key=lambda t: t[:3])]
    kept = {id(r) for r in order[: max(0, target - len(sets))]}
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
    return len(kept) + sum(len(frames) for frames in sets.values()), left_out


def _score(record: dict) -> float:
    score = record.get("score")
    return float(score) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0


__all__ = ["keep_best", "keep_count", "parse_keep"]
