"""How far each frame of a group leans from level: its lines where it has them, its turn against the others.

A frame's own straight lines (:func:`photocritic.culling.frames.tilt`) say how level it is, but only where
it has lines: a landscape without a horizon, foliage or a face has none to judge by. The frames of one
group show one scene, so the turn between two frames (the rotation of the similarity their local
features agree on, :func:`photocritic.culling.matching.matched_similarity`) carries the level of any frame
that has lines to every frame that matches it. Without lines in any frame, a frame is judged against the
group's median turn: in a burst most frames are held about level, and the odd one out leans.
"""
from __future__ import annotations

import cmath
import math
import os
from collections.abc import Sequence

import numpy as np

#: local features that must agree on a turn before it is believed
MIN_AGREEING = 12
#: a turn or a lean beyond this many degrees is no hand-held frame of one burst (a recomposed shot, a
#: wrong match, lines that are not level by design): no evidence
MAX_TURN = 10.0


def turns(paths: Sequence[str | os.PathLike], found: Sequence | None = None) -> list[float | None]:
    """Degrees each frame is turned against the frame with the most keypoints (0 for that one; None where
    the two do not match at a burst's scale, or turn more than :data:`MAX_TURN`). *found*: the frames'
    :class:`~photocritic.culling.matching.Keypoints` if already known (grouping found most of them)."""
    from photocritic.culling.matching import keypoints_of_file, matched_similarity

    found = list(found) if found is not None else [keypoints_of_file(p) for p in paths]
    sizes = [len(k.points) if k is not None and k.descriptors is not None else 0 for k in found]
    if not any(sizes):
        return [None] * len(paths)
    reference = int(np.argmax(sizes))
    out: list[float | None] = []
    for k, keypoints in enumerate(found):
        if k == reference:
            out.append(0.0)
            continue
        move = matched_similarity(found[reference], keypoints) if keypoints is not None else None
        believed = move is not None and move[2] >= MIN_AGREEING and 0.75 <= abs(move[0]) <= 1.33
        turn = math.degrees(cmath.phase(move[0])) if believed else None
        out.append(turn if turn is not None and abs(turn) <= MAX_TURN else None)
    return out


def group_tilts(paths: Sequence[str | os.PathLike], line_tilts: Sequence[float | None], found: Sequence | None = None) -> list[float | None]:
    """Degrees from level per frame (signed as :func:`~photocritic.culling.frames.tilt`), or, when no frame
    has lines to judge by, from the group's median turn; None for a frame that neither has lines nor
    matches the others, or that leans more than :data:`MAX_TURN`. *found*: as for :func:`turns`."""
    turned = turns(paths, found)
    # the reference frame's own lean, as each frame with lines and a turn sees it (a frame's tilt is the
    # reference's plus its turn)
    seen = [t - r for t, r in zip(line_tilts, turned) if t is not None and r is not None]
    known = [r for r in turned if r is not None]
    if seen:
        offset = float(np.median(seen))
    elif len(known) >= 3:
        offset = -float(np.median(known))
    else:
        return list(line_tilts)
    tilts = [r + offset if r is not None else t for t, r in zip(line_tilts, turned)]
    return [t if t is not None and abs(t) <= MAX_TURN else None for t in tilts]


__all__ = ["MAX_TURN", "MIN_AGREEING", "group_tilts", "turns"]
