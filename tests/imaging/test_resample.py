"""The NumPy crops, resizes and blur give the face networks OpenCV's pixels (OpenCV is in [test])."""
from __future__ import annotations

import math

import numpy as np
import pytest

from photocritic.imaging import decode_for_model
from photocritic.imaging.resample import box_blur, halve, invert_affine, resize_area, warp_affine

cv2 = pytest.importorskip("cv2")


def images(shared_data):
    rng = np.random.default_rng(0)
    paths = sorted((shared_data / "faces" / "open").glob("*.jp*g"))[:3] + sorted((shared_data / "photos").glob("*.jpg"))[:2]
    return [decode_for_model(p, long_side=640).pixels for p in paths] + [rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)]


def test_warp_affine_equals_opencv(shared_data):
    rng = np.random.default_rng(1)
    for pixels in images(shared_data):
        h, w = pixels.shape[:2]
        for _ in range(3):  # rotated, scaled either way, partly outside the photo
            angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(0.2, 3.0)
            c, s = math.cos(angle), math.sin(angle)
            m = np.array([[c * scale, s * scale, 0.0], [-s * scale, c * scale, 0.0]])
            m[:, 2] = np.array([96.0, 96.0]) - m[:, :2] @ np.array([rng.uniform(0, w), rng.uniform(0, h)])
            want = cv2.warpAffine(pixels, m, (192, 160), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            np.testing.assert_array_equal(warp_affine(pixels, m, (192, 160)), want)
            np.testing.assert_allclose(invert_affine(m), cv2.invertAffineTransform(m), rtol=1e-12, atol=1e-9)


def test_area_resize_and_blur_equal_opencv(shared_data):
    for pixels in images(shared_data):
        h, w = pixels.shape[:2]
        for size in [(w // 2, h // 2), (128, 128), (w // 3, h // 5)]:
            if min(size) < 1 or min(h, w) < 128:  # enlarging: below
                continue
            square = np.ascontiguousarray(pixels[: min(h, w), : min(h, w)]) if size == (128, 128) else pixels
            want = cv2.resize(square, size, interpolation=cv2.INTER_AREA).astype(int)
            got = resize_area(square, size).astype(int)
            # float sums in another order: a level apart at most, rarely
            assert np.abs(got - want).max() <= 1 and (got != want).mean() < 0.01
        np.testing.assert_array_equal(box_blur(pixels, 5), cv2.blur(pixels, (5, 5)))
    small = np.random.default_rng(2).integers(0, 256, (40, 40, 3), dtype=np.uint8)  # enlarging (tiny photos)
    diff = np.abs(resize_area(small, (128, 128)).astype(int) - cv2.resize(small, (128, 128), interpolation=cv2.INTER_AREA))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.15


def test_whole_blocks_halving_and_far_warps_equal_opencv(shared_data):
    rng = np.random.default_rng(3)
    for pixels in images(shared_data):
        h, w = pixels.shape[:2]
        for k in (2, 3, 4, 8):  # whole k x k blocks (the detector's 512 -> 128): OpenCV's means exactly
            if min(h, w) // k < 2:
                continue
            block = np.ascontiguousarray(pixels[: (h // k) * k, : (w // k) * k])
            want = cv2.resize(block, (w // k, h // k), interpolation=cv2.INTER_AREA)
            np.testing.assert_array_equal(resize_area(block, (w // k, h // k)), want)
        # halving drops an odd last row or column, then is OpenCV's exact halving
        want = cv2.resize(np.ascontiguousarray(pixels[: h // 2 * 2, : w // 2 * 2]), (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(halve(pixels), want)
        # a crop wholly outside the photo, one straddling a corner, and a one-channel image
        for centre in ((-400.0, -300.0), (w + 500.0, h / 2), (0.0, 0.0), (w - 1.0, h - 1.0)):
            angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(0.2, 3.0)
            c, s = math.cos(angle), math.sin(angle)
            m = np.array([[c * scale, s * scale, 0.0], [-s * scale, c * scale, 0.0]])
            m[:, 2] = np.array([32.0, 32.0]) - m[:, :2] @ np.array(centre)
            want = cv2.warpAffine(pixels, m, (64, 64), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            np.testing.assert_array_equal(warp_affine(pixels, m, (64, 64)), want)
            grey = np.ascontiguousarray(pixels[..., 1])
            want = cv2.warpAffine(grey, m, (64, 64), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            np.testing.assert_array_equal(warp_affine(grey, m, (64, 64)), want)
