"""Geometric verification: do two photos show one scene, seen through a small camera move?

Frames of one burst differ by a small move of the camera: a shift, a slight zoom, a tilt. Local
features (ORB from kornia-rs: corners with binary descriptors, found on a grey image stretched between its
1st and 99th percentiles, so exposure changes matter little) are matched between the two photos, and RANSAC
(seeded, in NumPy) looks for one similarity transform (shift, rotation, scale) that many matches agree on. Two unrelated photos
rarely have more than a handful of matches agreeing on such a transform; two frames of one scene
have dozens, even when one is cropped, rotated, darkened or brightened, where the backbone
embedding and a perceptual hash both move away. Heavy blur removes the corners, so a blurred frame
often fails here: the check only ever *adds* evidence, it never keeps two photos apart.

Only the transforms a burst can produce count: scale between 0.75 and 1.33 and rotation within 10
degrees. Without that bound a degenerate fit (everything mapped onto a few points) can gather
dozens of "inliers" between unrelated photos.
"""
from __future__ import annotations

import cmath
import math
import os
from dataclasses import dataclass

import numpy as np

#: Long side of the grey image features are found in.
MATCH_LONG_SIDE = 512
#: Below this short side ORB's pyramid (6 levels) has no room for a corner: no keypoints.
MIN_MATCH_SIDE = 48


@dataclass
class Keypoints:
    points: np.ndarray  # k x 2 float32, in the MATCH_LONG_SIDE image
    descriptors: np.ndarray | None  # k x 32 uint8 ORB descriptors


def grey_of(pixels: np.ndarray) -> np.ndarray:
    """Rec. 601 grey of RGB uint8, in OpenCV's fixed point (cvtColor RGB2GRAY: 14-bit weights, rounded)."""
    rgb = pixels[..., :3].astype(np.int32)
    return ((rgb[..., 0] * 4899 + rgb[..., 1] * 9617 + rgb[..., 2] * 1868 + (1 << 13)) >> 14).astype(np.uint8)


def keypoints(pixels: np.ndarray, features: int = 1000) -> Keypoints:
    """ORB keypoints of an RGB uint8 image (already decoded at about :data:`MATCH_LONG_SIDE`)."""
    import kornia_rs.features

    if pixels.ndim != 3 or min(pixels.shape[:2]) < MIN_MATCH_SIDE:
        return Keypoints(np.zeros((0, 2), np.float32), None)  # a 1x1 photo or a 1 px strip has no corners to match
    grey = grey_of(pixels)
    # a linear stretch of the 1st-99th percentiles, so that a darkened copy offers the corner detector
    # the contrast of the clean frame (its fixed threshold found a few dozen corners in a 2-stop
    # darker copy); histogram equalisation instead gives a brightened copy with clipped sky another
    # tone curve than the clean frame, and lost more matches than it won on the shared photos
    low, high = np.percentile(grey, [1, 99])
    grey = np.clip((grey.astype(np.float32) - low) * (255.0 / max(float(high - low), 1.0)), 0, 255).astype(np.uint8)
    try:
        found = kornia_rs.features.orb_detect_and_compute(grey, n_keypoints=features, n_scales=6, downscale=1.2)
    except Exception:  # matching only adds evidence: a photo the detector cannot take simply offers none
        return Keypoints(np.zeros((0, 2), np.float32), None)
    points = np.asarray(found.keypoints_xy, dtype=np.float32).reshape(-1, 2)
    descriptors = np.ascontiguousarray(found.descriptors, dtype=np.uint8).reshape(-1, 32)
    return Keypoints(points, descriptors if len(descriptors) else None)


def keypoints_of_file(path: str | os.PathLike) -> Keypoints | None:
    """:func:`keypoints` of the oriented photo decoded small; None if unreadable."""
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=MATCH_LONG_SIDE, draft_headroom=1.0).pixels
    except PhotoError:
        return None
    return keypoints(pixels)


def look_of_file(path: str | os.PathLike) -> tuple[Keypoints, int] | None:
    """(:func:`keypoints`, faces) of the oriented photo decoded once at :data:`MATCH_LONG_SIDE`: what grouping
    asks of a borderline photo. *faces*: :func:`photocritic.culling.faces.portrait_faces`, the faces of a
    tenth of the short side or more (two portraits join only on content they share). None if unreadable."""
    from photocritic.culling.faces import portrait_faces
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=MATCH_LONG_SIDE, draft_headroom=1.0).pixels
    except PhotoError:
        return None
    return keypoints(pixels), portrait_faces(pixels)


def ransac_similarity(source: np.ndarray, target: np.ndarray, threshold: float = 4.0, hypotheses: int = 2000, seed: int = 0) -> tuple[complex, np.ndarray]:
    """The similarity z -> a z + t (points as complex numbers) most matches agree on within *threshold*
    pixels: up to *hypotheses* two-match samples drawn with a fixed seed (the same pair gives the same
    count whatever came before), fewer once the best one's inlier share makes a miss unlikely; the
    best is refitted by least squares on its inliers. (a, inlier mask)."""
    p = source[:, 0].astype(np.float64) + 1j * source[:, 1]
    q = target[:, 0].astype(np.float64) + 1j * target[:, 1]
    n = len(p)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, hypotheses)
    second = rng.integers(0, n - 1, hypotheses)
    second += second >= first  # two different matches
    span = p[second] - p[first]
    usable = np.abs(span) > 1e-6
    a = np.where(usable, (q[second] - q[first]) / np.where(usable, span, 1.0), 0.0)
    t = q[first] - a * p[first]
    best_a, best_mask = 0j, np.zeros(n, bool)
    for start in range(0, hypotheses, 100):
        inliers = np.abs(a[start : start + 100, None] * p[None, :] + t[start : start + 100, None] - q[None, :]) <= threshold
        inliers &= usable[start : start + 100, None]
        counts = inliers.sum(axis=1)
        k = int(np.argmax(counts))
        if counts[k] > best_mask.sum():
            best_a, best_mask = complex(a[start + k]), inliers[k]
        # stop once a sample of two inliers has been drawn with 99% confidence (as OpenCV's RANSAC)
        share = best_mask.sum() / n
        if share >= 1 or (share > 0 and start + 100 >= math.log(0.01) / math.log(1 - share * share)):
            break
    if best_mask.sum() >= 2:
        pm, qm = p[best_mask], q[best_mask]
        pc, qc = pm - pm.mean(), qm - qm.mean()
        refit = complex(np.vdot(pc, qc) / max(float(np.vdot(pc, pc).real), 1e-12))
        mask = np.abs(refit * p + (qm.mean() - refit * pm.mean()) - q) <= threshold
        if mask.sum() >= best_mask.sum():
            return refit, mask
    return best_a, best_mask


#: Below this many agreeing matches one way, the count is returned without matching the other way: so few
#: are never evidence of one scene (unrelated photos reach 11 one way; a burst's frames have dozens).
BOTH_WAYS_FROM = 8


def _agreeing(a: Keypoints, b: Keypoints, ratio: float, max_scale: float, max_rotation: float) -> int:
    """*a*'s matches in *b* (Lowe's ratio test, one way) that agree on one plausible similarity (RANSAC)."""
    import kornia_rs.features

    pairs = np.asarray(kornia_rs.features.match_descriptors(a.descriptors, b.descriptors, max_ratio=ratio)).reshape(-1, 2)
    if len(pairs) < 6:
        return 0
    transform, inliers = ransac_similarity(a.points[pairs[:, 0]], b.points[pairs[:, 1]])
    scale, rotation = abs(transform), abs(math.degrees(cmath.phase(transform)))
    if not (1.0 / max_scale <= scale <= max_scale and rotation <= max_rotation):
        return 0
    return int(inliers.sum())


def agreeing_matches(a: Keypoints, b: Keypoints, ratio: float = 0.8, max_scale: float = 1.33, max_rotation: float = 10.0) -> int:
    """Matches (Lowe's ratio test) that agree on one plausible similarity transform (RANSAC), the fewer of
    the two ways (*a* in *b*, *b* in *a*; the other way only from :data:`BOTH_WAYS_FROM` up); 0 if none.

    Both ways, because one way can agree by chance where the other finds nothing: two photographers'
    foggy forests of ../shared/data/professional had 15 agreeing matches one way and 0 the other, and
    whether they were one group depended on which file came first."""
    if a.descriptors is None or b.descriptors is None or len(a.descriptors) < 8 or len(b.descriptors) < 8:
        return 0
    forward = _agreeing(a, b, ratio, max_scale, max_rotation)
    if forward < BOTH_WAYS_FROM:
        return forward
    return min(forward, _agreeing(b, a, ratio, max_scale, max_rotation))


def matched_similarity(a: Keypoints, b: Keypoints, ratio: float = 0.8) -> tuple[complex, complex, int] | None:
    """The similarity z -> s z + t (points as complex numbers, *a*'s to *b*'s) that most ratio-test matches
    agree on, any scale, rotation or shift: (s, t, agreeing matches); None with too few matches.
    Where :func:`agreeing_matches` asks "one scene, a small camera move?", this says what the move was
    (a panorama's frames are shifted by a third of the frame or more; a focus stack's are not shifted)."""
    import kornia_rs.features

    if a.descriptors is None or b.descriptors is None or len(a.descriptors) < 8 or len(b.descriptors) < 8:
        return None
    pairs = np.asarray(kornia_rs.features.match_descriptors(a.descriptors, b.descriptors, max_ratio=ratio)).reshape(-1, 2)
    if len(pairs) < 6:
        return None
    source, target = a.points[pairs[:, 0]], b.points[pairs[:, 1]]
    transform, inliers = ransac_similarity(source, target)
    if inliers.sum() < 2:
        return None
    shift = complex(np.mean(target[inliers, 0] + 1j * target[inliers, 1] - transform * (source[inliers, 0] + 1j * source[inliers, 1])))
    return transform, shift, int(inliers.sum())


__all__ = ["BOTH_WAYS_FROM", "MATCH_LONG_SIDE", "MIN_MATCH_SIDE", "Keypoints", "agreeing_matches", "grey_of", "keypoints", "keypoints_of_file", "look_of_file", "matched_similarity", "ransac_similarity"]
