"""The NumPy technical measures against a straightforward computation of the same definitions.

The measures are computed with array tricks for speed (separable kernels, per-cell sums, a histogram
to find percentiles); the reference here is the plain way: scipy's convolution with mirrored borders,
np.percentile, numpy var per grid cell, float64 everywhere.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photocritic.models.technical import TECHNICAL_MEASURES, laplacian, luminance, technical_measures

LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)
IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def reference_measures(pixels: np.ndarray) -> dict[str, float]:
    ndimage = pytest.importorskip("scipy.ndimage")
    rgb = pixels.astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = luminance(pixels).astype(np.float64)  # float32 luma is part of the definition
    lap = ndimage.convolve(luma, LAPLACIAN, mode="reflect")
    h, w = luma.shape
    ys, xs = np.linspace(0, h, 5).astype(int), np.linspace(0, w, 5).astype(int)
    grid = [[lap[ys[i] : ys[i + 1], xs[j] : xs[j + 1]] for j in range(4)] for i in range(4)]
    cells = np.array([[cell.var() if cell.size else 0.0 for cell in row] for row in grid])  # empty cell: 0
    p1, p99 = np.percentile(luminance(pixels), [1, 99])
    rg, yb = r - g, 0.5 * (r + g) - b
    cmax, cmin = rgb.max(axis=2), rgb.min(axis=2)
    sat = np.where(cmax > 0, (cmax - cmin) / np.maximum(cmax, 1e-6), 0.0)
    noise = 0.0
    if h > 2 and w > 2:
        response = ndimage.convolve(luma, IMMERKAER, mode="reflect")[1:-1, 1:-1]
        noise = np.sqrt(np.pi / 2) * np.abs(response).sum() / (6.0 * (w - 2) * (h - 2))
    means = rgb.reshape(-1, 3).mean(axis=0) + 1e-3
    return {
        "sharpness": np.log10(1 + lap.var()),
        "sharpness_peak": np.log10(1 + cells.max()),
        "exposure_ev": np.log2(max(luma.mean() / 255, 1e-3) / 0.46) * 2.2,
        "highlights_clipped": np.mean(luma >= 250),
        "shadows_clipped": np.mean(luma <= 5),
        "contrast": luma.std() / 255,
        "dynamic_range": (p99 - p1) / 255,
        "colorfulness": np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()),
        "saturation": sat.mean(),
        "noise": noise,
        "colour_cast": np.linalg.norm(means / means.mean() - 1),
        "subject_isolation": np.log10((1 + cells.max()) / (1 + np.median(cells))),
        "channels_clipped": np.mean(cmax >= 254),
    }


def assert_close(pixels: np.ndarray) -> None:
    got, want = technical_measures(pixels), reference_measures(pixels)
    assert set(got) == set(TECHNICAL_MEASURES)
    for name in TECHNICAL_MEASURES:
        assert got[name] == pytest.approx(want[name], rel=1e-4, abs=1e-6), (name, pixels.shape)


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (3, 5), (4, 4), (7, 13), (64, 48), (384, 512)])
def test_random_and_flat_images_match_the_reference(shape):
    rng = np.random.default_rng(sum(shape))
    assert_close(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
    assert_close(np.zeros((*shape, 3), dtype=np.uint8))
    assert_close(np.full((*shape, 3), 255, dtype=np.uint8))
    # smooth gradients put the percentiles between pixels of one level: the interpolation is exercised
    ramp = np.linspace(0, 255, shape[0] * shape[1]).reshape(shape)
    assert_close(np.stack([ramp, ramp[::-1], np.full(shape, 40.0)], axis=-1).astype(np.uint8))


def test_real_photos_match_the_reference(shared_data):
    paths = sorted((shared_data / "photos").glob("*.jp*g"))[:25]
    assert paths
    for path in paths:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((512, 512))
            assert_close(np.asarray(image))


def test_laplacian_mirrors_borders_without_scipy():
    # a naive loop over the definition, borders mirrored (half-sample symmetric: index -1 reads 0)
    rng = np.random.default_rng(3)
    luma = rng.uniform(0, 255, (6, 9)).astype(np.float32)
    h, w = luma.shape

    def at(y: int, x: int) -> float:
        y = -y - 1 if y < 0 else (2 * h - y - 1 if y >= h else y)
        x = -x - 1 if x < 0 else (2 * w - x - 1 if x >= w else x)
        return float(luma[y, x])

    want = np.array([[at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1) - 4 * at(y, x) for x in range(w)] for y in range(h)])
    np.testing.assert_allclose(laplacian(luma), want, rtol=1e-5, atol=1e-3)
