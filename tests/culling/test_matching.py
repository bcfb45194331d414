"""Geometric verification on real photos: a cropped, tilted or re-exposed copy matches; unrelated photos do not."""
from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from photocritic.culling.grouping import GroupingConfig, group_bursts
from photocritic.culling.matching import MATCH_LONG_SIDE, agreeing_matches, keypoints

# chosen for variety (landscape, city, people, objects, a dim interior), not for how well they match
SOURCES = ["Canon EOS 350D.jpg", "Nikon D3100.jpg", "Apple iPhone 5.jpg", "Canon PowerShot G11.jpg", "Olympus E-20.jpg", "Nikon D60.jpg"]
UNRELATED = SOURCES + ["Canon EOS 450D.jpg", "Nokia Lumia 800.jpg", "Sony DSC-H9.jpg", "Kodak DX4900 Zoom.jpg", "Pentax Optio 430.jpg", "Apple iPhone 4.jpg"]
INLIERS = GroupingConfig().match_inliers


def _kp(image: Image.Image):
    small = image.copy()
    small.thumbnail((MATCH_LONG_SIDE, MATCH_LONG_SIDE))
    return keypoints(np.asarray(small))


@pytest.fixture(scope="module")
def photos(shared_data, evalmod):
    return {name: evalmod._load(shared_data / "photos" / name, 1024) for name in UNRELATED}


@pytest.mark.parametrize("geometry,defect", [("crop", "dark"), ("crop", "bright"), ("rotate", "dark"), ("rotate", "bright"), ("shift", "noise")])
def test_a_moved_and_re_exposed_copy_matches_its_clean_frame(photos, evalmod, geometry, defect):
    """The copies that the embedding and pHash both lose in bursts without EXIF (see docs/culling.md)."""
    rng = random.Random(3)
    for name in SOURCES:
        clean = photos[name]
        copy = evalmod.apply_defect(evalmod.apply_geometry(clean, geometry, rng), defect, rng)
        assert agreeing_matches(_kp(clean), _kp(copy)) >= INLIERS, name


def test_unrelated_photos_do_not_match(photos):
    points = {name: _kp(image) for name, image in photos.items()}
    for a, b in combinations(UNRELATED, 2):
        assert agreeing_matches(points[a], points[b]) < INLIERS, (a, b)


def test_a_move_no_burst_makes_does_not_count(photos):
    """A quarter turn is a different photo for culling, however well its features match."""
    clean = photos["Canon EOS 350D.jpg"]
    assert agreeing_matches(_kp(clean), _kp(clean)) >= INLIERS
    assert agreeing_matches(_kp(clean), _kp(clean.rotate(90, expand=True))) == 0
    assert agreeing_matches(_kp(clean), _kp(clean.resize((clean.width // 2, clean.height // 2)).resize(clean.size).crop((0, 0, clean.width // 2, clean.height // 2)).resize(clean.size))) == 0


def test_feature_matches_confirm_borderline_pairs_only():
    pair = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.6, 0.8], np.float32)])  # cosine 0.6
    asked = []

    def matches(a, b):
        asked.append((a, b))
        return INLIERS

    labels = group_bursts(pair, matches_of=matches)
    assert labels[0] == labels[1] and asked == [(0, 1)]
    labels = group_bursts(pair, matches_of=lambda a, b: INLIERS - 1)
    assert labels[0] != labels[1]
    far = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.3, 0.95], np.float32)])  # cosine 0.3: never asked
    asked.clear()
    labels = group_bursts(far, matches_of=matches)
    assert labels[0] != labels[1] and asked == []


def test_one_cameras_frames_seconds_apart_join_on_matches_where_exposure_moved_the_embedding_far():
    """A copy 2 stops brighter can fall below the time neighbours' cosine (0.48 measured); shot by one
    camera within the time gap, agreeing feature matches still make it one burst. Without the times,
    or with too few matches, it stays apart."""
    config = GroupingConfig()
    far = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.45, 0.893], np.float32)])  # cosine 0.45
    assert config.time_match_similarity < 0.45 < config.time_similarity
    asked = []

    def matches(a, b):
        asked.append((a, b))
        return INLIERS

    labels = group_bursts(far, [0.0, 1.0], ["cam", "cam"], matches_of=matches)
    assert labels[0] == labels[1] and asked == [(0, 1)]
    labels = group_bursts(far, [0.0, 1.0], ["cam", "cam"], matches_of=lambda a, b: INLIERS - 1)
    assert labels[0] != labels[1]
    asked.clear()
    for times, cameras in (([None, None], [None, None]), ([0.0, 1.0], ["cam", "other"]), ([0.0, config.time_gap + 1], ["cam", "cam"])):
        labels = group_bursts(far, times, cameras, matches_of=matches)
        assert labels[0] != labels[1] and asked == [], (times, cameras)
    below = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.25, 0.968], np.float32)])  # cosine 0.25
    labels = group_bursts(below, [0.0, 1.0], ["cam", "cam"], matches_of=matches)
    assert labels[0] != labels[1] and asked == []


def test_with_matching_on_a_pair_on_looks_alone_needs_confirmation_below_confirm_below():
    """Unrelated photos reach cosine 0.77: with feature matching available, such a pair must be confirmed."""
    config = GroupingConfig()
    assert config.similarity < 0.8 < config.confirm_below
    pair = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.8, 0.6], np.float32)])  # cosine 0.8
    far = {0: 0, 1: (1 << 64) - 1}
    labels = group_bursts(pair, hash_of=far.get)  # no matching: looks alone, as before
    assert labels[0] == labels[1]
    labels = group_bursts(pair, hash_of=far.get, matches_of=lambda a, b: 0)
    assert labels[0] != labels[1]
    labels = group_bursts(pair, hash_of=far.get, matches_of=lambda a, b: INLIERS)
    assert labels[0] == labels[1]
    labels = group_bursts(pair, [0.0, 0.5], ["cam", "cam"], hash_of=far.get, matches_of=lambda a, b: 0)  # one burst by its times
    assert labels[0] == labels[1]


def test_two_different_peoples_face_crops_are_not_one_burst(shared_data, tmp_path):
    """Two boys, eyes closed, tight black-and-white crops of the same framing (CEW): their embeddings reach
    cosine 0.855, but neither the hash nor the local features say they are one scene; a photographer would
    never put them in one group."""
    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    crops = [shared_data / "faces" / "closed" / name for name in ("cew__closed_eye_1676.BMP_face_1.jpg", "cew__closed_eye_2847.jpg_face_2.jpg")]
    scorer = Scorer(catalog=tmp_path / "catalog.sqlite")
    try:
        records = cull_records(scorer, crops)
    finally:
        scorer.close()
    assert all(r["error"] is None for r in records)
    assert records[0]["group"] != records[1]["group"] and {r["group_size"] for r in records} == {1}
