"""Grouping keeps people and scenes apart (issue 28), on real photos through the code behind the CLI.

* Different people photographed one after another by one camera are not one burst: capture times a second
  apart say *when*, not *what* (three different men's portrait bursts were one group of 15), while each
  person's own burst, with its blurred, shaken, blown, darkened and noisy copies, stays one group.
* Mood is not content: two photographers' foggy forests (``../shared/data/professional``) are not one group
  (15 feature matches agreed one way, none the other), while a foggy forest's own moved and re-exposed copies
  still join it.
"""
from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

import pytest

from photocritic.culling.grouping import GroupingConfig
from photocritic.culling.matching import agreeing_matches, keypoints_of_file

#: three different men, head and shoulders (the tuning and held-out halves alike), shot one after another
MEN = ["ibmmax__Chris.jpeg", "ibmmax__Paul.jpeg", "ibmmax__Luciano.png"]
FOG = ["ubuntu-wallpapers__TCP118v1_by_Tiziano_Consonni.jpg", "ubuntu-wallpapers__Foggy_Forest_by_Jake_Stewart.jpg"]
INLIERS = GroupingConfig().match_inliers


def _cull(files, catalog):
    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    scorer = Scorer(catalog=catalog)
    try:
        records = cull_records(scorer, files, faces=False)
    finally:
        scorer.close()
    assert all(r["error"] is None for r in records)
    return {os.path.realpath(r["path"]): r["group"] for r in records}


@pytest.fixture(scope="module")
def portrait_session(shared_data, evalmod, tmp_path_factory):
    """Each man's burst (the untouched portrait plus 3-4 shifted copies with one defect each, always one
    brighter and one darker), one camera, 0.35 s between frames, the next man 3 s after the last started."""
    work = tmp_path_factory.mktemp("portrait-session")
    rng = random.Random(28)
    bursts = []
    for k, name in enumerate(MEN):
        bursts += evalmod.make_bursts(
            [shared_data / "faces" / "open" / name], work, rng, frames_per_burst=(4, 5), defects=evalmod.FACE_DEFECTS,
            geometry=("shift", "none"), prefix=f"m{k}", both_exposures=True, exif_share=1.0,
            start=datetime(2024, 6, 2, 9, 0, 0) + timedelta(seconds=3 * k),
        )
    groups = _cull([f.path for b in bursts for f in b.frames], work / "catalog.sqlite")
    return bursts, groups


def test_different_men_photographed_seconds_apart_are_not_one_burst_while_each_mans_burst_is(portrait_session):
    bursts, groups = portrait_session
    people_of: dict[object, set[str]] = {}
    for burst in bursts:
        for frame in burst.frames:
            people_of.setdefault(groups[os.path.realpath(frame.path)], set()).add(burst.source)
    assert all(len(people) == 1 for people in people_of.values()), people_of
    for burst in bursts:
        assert len({groups[os.path.realpath(f.path)] for f in burst.frames}) == 1, [f.path.name for f in burst.frames]


def test_two_photographers_foggy_forests_are_not_one_group_while_a_foggy_burst_is(shared_data, evalmod, tmp_path):
    """Whichever of the two forests comes first, they stay apart; the features agree on no small camera move
    either way. Requiring shared content still keeps a low-contrast burst together: the forest's moved and
    noisy, darker and brighter copies join it."""
    paths = [shared_data / "professional" / name for name in FOG]
    for order, folder in ((paths, "ab"), (paths[::-1], "ba")):
        groups = _cull(order, tmp_path / f"catalog-{folder}.sqlite")
        assert groups[os.path.realpath(paths[0])] != groups[os.path.realpath(paths[1])], folder
    a, b = (keypoints_of_file(p) for p in paths)
    assert agreeing_matches(a, b) < INLIERS and agreeing_matches(b, a) < INLIERS

    rng = random.Random(5)
    clean = evalmod._load(paths[1], 1024)
    burst = [tmp_path / "clean.jpg"]
    clean.save(burst[0], quality=92)
    for k, (geometry, defect) in enumerate([("shift", "noise"), ("crop", "dark"), ("shift", "bright")]):
        burst.append(tmp_path / f"copy{k}_{geometry}_{defect}.jpg")
        evalmod.apply_defect(evalmod.apply_geometry(clean, geometry, rng), defect, rng).save(burst[-1], quality=92)
    groups = _cull(burst, tmp_path / "catalog-burst.sqlite")
    assert len(set(groups.values())) == 1, groups
