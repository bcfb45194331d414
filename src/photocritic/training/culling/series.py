"""Real series in BIQ2021: photos of one scene shot one after another by one person, each rated in a lab.

BIQ2021's ``ss01`` (one person's everyday photos) and ``ss02`` (photos shot with missed focus, motion blur
and high ISO on purpose) are numbered in the order they were taken, and hold many series of one scene: the
same toy, plate or street shot two or three times, some frames dark, blurred or blown. A *pair* is two
consecutively numbered photos of one split and subset whose opinion scores are at least :data:`MIN_GAP`
apart (on BIQ2021's 0-1 scale): the one people rated higher should be the pick.

Which consecutive photos show one scene:

* **test split**: :data:`TEST_SAME_SCENE`, judged by eye (one person, from a contact sheet of all 65
  consecutive test pairs at least 0.1 apart, before any ranking was run on them). It is the benchmark;
* **train split**: :func:`same_scene` on 24x24 grey thumbnails (correlation at least
  :data:`SCENE_CORRELATION`), automatic, for fitting. On the test split it agrees with the eye on 56 of
  the 65 pairs: 3 different scenes of like layout pass it, and 6 pairs of one scene (one frame blown,
  hazy or moved) fail it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photocritic.training.default.biq2021 import Rated, load

#: opinion scores at least this far apart (0-1 scale): people see a difference
MIN_GAP = 0.1
#: thumbnail correlation from which two consecutive photos count as one scene (train split)
SCENE_CORRELATION = 0.6

#: consecutive test pairs at least MIN_GAP apart that show one scene, by eye: (subset, first number);
#: the pair is that photo and the next
TEST_SAME_SCENE = frozenset({
    ("ss01", 29), ("ss01", 1160), ("ss01", 1645), ("ss01", 889), ("ss01", 803), ("ss01", 1903), ("ss01", 792),
    ("ss01", 780), ("ss01", 1271), ("ss01", 330), ("ss01", 1559), ("ss01", 1251), ("ss02", 1538), ("ss01", 123),
    ("ss01", 1558), ("ss01", 1607), ("ss01", 1064), ("ss01", 727), ("ss01", 1080), ("ss01", 930), ("ss02", 1407),
    ("ss01", 1606), ("ss02", 1164), ("ss01", 392), ("ss01", 1394), ("ss01", 1250), ("ss01", 393), ("ss01", 1229),
})


@dataclass(frozen=True)
class Pair:
    better: Rated  # the higher opinion score
    worse: Rated

    @property
    def gap(self) -> float:
        return self.better.mos - self.worse.mos


def _thumb(photo: Rated) -> np.ndarray:
    with Image.open(photo.path) as image:
        return np.asarray(image.convert("L").resize((24, 24), Image.Resampling.BILINEAR), np.float32).ravel()


def same_scene(a: Rated, b: Rated) -> bool:
    """Two photos' grey 24x24 thumbnails correlate at least :data:`SCENE_CORRELATION`."""
    x, y = _thumb(a), _thumb(b)
    if x.std() < 1e-6 or y.std() < 1e-6:
        return False
    return float(np.corrcoef(x, y)[0, 1]) >= SCENE_CORRELATION


def pairs(folder: str | os.PathLike, split: str) -> list[Pair]:
    """Consecutive photos of one scene, rated at least :data:`MIN_GAP` apart, of one split."""
    photos = {(p.subset, p.number): p for p in load(folder, split) if p.subset in ("ss01", "ss02")}
    out = []
    for (subset, number), first in sorted(photos.items()):
        second = photos.get((subset, number + 1))
        if second is None or abs(first.mos - second.mos) < MIN_GAP:
            continue
        scene = (subset, number) in TEST_SAME_SCENE if split == "test" else same_scene(first, second)
        if scene:
            out.append(Pair(first, second) if first.mos > second.mos else Pair(second, first))
    return out


__all__ = ["MIN_GAP", "Pair", "TEST_SAME_SCENE", "pairs", "same_scene"]
