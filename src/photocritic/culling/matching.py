"""Geometric verification: do two photos show one scene, seen through a small camera move?

Frames of one burst differ by a small move of the camera: a shift, a slight zoom, a tilt. Local
features (OpenCV's ORB: corners with binary descriptors, found on a grey image stretched between its
1st and 99th percentiles, so exposure changes matter little) are matched between the two photos, and RANSAC looks for one
similarity transform (shift, rotation, scale) that many matches agree on. Two unrelated photos
rarely have more than a handful of matches agreeing on such a transform; two frames of one scene
have dozens, even when one is cropped, rotated, darkened or brightened, where the backbone
embedding and a perceptual hash both move away. Heavy blur removes the corners, so a blurred frame
often fails here: the check only ever *adds* evidence, it never keeps two photos apart.

Only the transforms a burst can produce count: scale between 0.75 and 1.33 and rotation within 10
degrees. Without that bound a degenerate fit (everything mapped onto a few points) can gather
dozens of "inliers" between unrelated photos.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: Long side of the grey image features are found in.
MATCH_LONG_SIDE = 512
#: Below this short side ORB's pyramid (6 levels, a 15 px border) has no room for a corner: no keypoints.
MIN_MATCH_SIDE = 48


@dataclass
class Keypoints:
    points: np.ndarray  # k x 2 float32, in the MATCH_LONG_SIDE image
    descriptors: np.ndarray | None  # k x 32 uint8 ORB descriptors


def keypoints(pixels: np.ndarray, features: int = 1000) -> Keypoints:
    """ORB keypoints of an RGB uint8 image (already decoded at about :data:`MATCH_LONG_SIDE`)."""
    import cv2

    if pixels.ndim != 3 or min(pixels.shape[:2]) < MIN_MATCH_SIDE:
        return Keypoints(np.zeros((0, 2), np.float32), None)  # a 1x1 photo or a 1 px strip has no corners to match
    grey = cv2.cvtColor(np.ascontiguousarray(pixels[..., :3]), cv2.COLOR_RGB2GRAY)
    # a linear stretch of the 1st-99th percentiles, so that a darkened copy offers the corner detector
    # the contrast of the clean frame (its fixed threshold found a few dozen corners in a 2-stop
    # darker copy); histogram equalisation instead gives a brightened copy with clipped sky another
    # tone curve than the clean frame, and lost more matches than it won on the shared photos
    low, high = np.percentile(grey, [1, 99])
    grey = np.clip((grey.astype(np.float32) - low) * (255.0 / max(float(high - low), 1.0)), 0, 255).astype(np.uint8)
    orb = cv2.ORB_create(nfeatures=features, fastThreshold=10, edgeThreshold=15, patchSize=15, nlevels=6)
    try:
        found, descriptors = orb.detectAndCompute(grey, None)
    except cv2.error:  # matching only adds evidence: a photo OpenCV cannot take simply offers none
        return Keypoints(np.zeros((0, 2), np.float32), None)
    points = np.array([k.pt for k in found], dtype=np.float32).reshape(-1, 2)
    return Keypoints(points, descriptors)


def keypoints_of_file(path: str | os.PathLike) -> Keypoints | None:
    """:func:`keypoints` of the oriented photo decoded small; None if unreadable."""
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=MATCH_LONG_SIDE, draft_headroom=1.0).pixels
    except PhotoError:
        return None
    return keypoints(pixels)


def agreeing_matches(a: Keypoints, b: Keypoints, ratio: float = 0.8, max_scale: float = 1.33, max_rotation: float = 10.0) -> int:
    """Matches (Lowe's ratio test) that agree on one plausible similarity transform (RANSAC); 0 if none."""
    import cv2

    if a.descriptors is None or b.descriptors is None or len(a.descriptors) < 8 or len(b.descriptors) < 8:
        return 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    if len(good) < 6:
        return 0
    source = a.points[[m.queryIdx for m in good]]
    target = b.points[[m.trainIdx for m in good]]
    cv2.setRNGSeed(0)  # RANSAC draws from OpenCV's generator: the same pair gives the same count, whatever came before
    transform, inliers = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    if transform is None or inliers is None:
        return 0
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    rotation = abs(float(np.degrees(np.arctan2(transform[1, 0], transform[0, 0]))))
    if not (1.0 / max_scale <= scale <= max_scale and rotation <= max_rotation):
        return 0
    return int(inliers.sum())


__all__ = ["MATCH_LONG_SIDE", "MIN_MATCH_SIDE", "Keypoints", "agreeing_matches", "keypoints", "keypoints_of_file"]
