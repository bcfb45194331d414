"""Interpretable technical measures a photographer checks first.

Each measure is computed on the decoded working image (long side 512 px), so values are
comparable between photos of any resolution. They appear in every record beside the learned
score, feed the default model's head, and give culling its reasons ("2 stops underexposed").
"""
from __future__ import annotations

import numpy as np

#: Raised whenever a measure's computation changes, so caches of measured values are refreshed.
TECHNICAL_VERSION = 2

#: Order matters: models store their head weights against this list (a bundle names the measures it
#: reads; new measures are appended, so bundles trained on fewer keep working).
TECHNICAL_MEASURES: tuple[str, ...] = (
    "sharpness",  # log10 variance of the Laplacian over the whole frame
    "sharpness_peak",  # the same in the sharpest cell of a 4x4 grid: "sharp where the subject is"
    "exposure_ev",  # stops away from a mid-grey mean luminance (negative = underexposed)
    "highlights_clipped",  # share of pixels at the top of the range
    "shadows_clipped",  # share of pixels crushed to black
    "contrast",  # RMS contrast of luminance, 0..1
    "dynamic_range",  # 1st to 99th percentile of luminance, 0..1
    "colorfulness",  # Hasler & Suesstrunk (2003), 0..~150
    "saturation",  # mean HSV saturation, 0..1
    "noise",  # Immerkaer (1996) estimate of the noise sigma, in 8-bit levels
    "colour_cast",  # distance of the grey-world channel balance from neutral, 0..~1
    "subject_isolation",  # sharpness of the sharpest cell over the median cell, log10
    "channels_clipped",  # share of pixels with any colour channel at the top of the range (blown colour)
)

_LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in 0..255 as float32."""
    rgb = pixels.astype(np.float32)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def laplacian(luma: np.ndarray) -> np.ndarray:
    from scipy import ndimage  # here, not at import: scipy costs ~0.7 s of `photocritic score --help`

    return ndimage.convolve(luma, _LAPLACIAN, mode="reflect")


def grid_sharpness(lap: np.ndarray, cells: int = 4) -> np.ndarray:
    """Variance of the Laplacian *lap* in each cell of a cells x cells grid."""
    h, w = lap.shape
    ys = np.linspace(0, h, cells + 1).astype(int)
    xs = np.linspace(0, w, cells + 1).astype(int)
    out = np.empty((cells, cells), dtype=np.float64)
    for i in range(cells):
        for j in range(cells):
            cell = lap[ys[i] : ys[i + 1], xs[j] : xs[j + 1]]
            out[i, j] = cell.var() if cell.size else 0.0
    return out


def technical_measures(pixels: np.ndarray) -> dict[str, float]:
    """All :data:`TECHNICAL_MEASURES` for one uint8 RGB image."""
    luma = luminance(pixels)
    lap = laplacian(luma)
    cells = grid_sharpness(lap)
    sharp_all = float(lap.var())
    sharp_peak = float(cells.max())
    sharp_median = float(np.median(cells))

    mean_luma = float(luma.mean()) / 255.0
    # a well exposed scene averages about 18% reflectance, i.e. ~0.46 in gamma-encoded sRGB
    exposure_ev = float(np.log2(max(mean_luma, 1e-3) / 0.46) * 2.2)

    p1, p99 = np.percentile(luma, [1, 99])
    rgb = pixels.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    colorfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    cmax = np.maximum(np.maximum(r, g), b)
    cmin = np.minimum(np.minimum(r, g), b)
    saturation = float(np.mean(np.where(cmax > 0, (cmax - cmin) / np.maximum(cmax, 1e-6), 0.0)))

    h, w = luma.shape
    noise = 0.0
    if h > 2 and w > 2:
        from scipy import ndimage

        response = ndimage.convolve(luma, _IMMERKAER, mode="reflect")[1:-1, 1:-1]
        noise = float(np.sqrt(np.pi / 2) * np.abs(response).sum() / (6.0 * (w - 2) * (h - 2)))

    channel_means = rgb.reshape(-1, 3).mean(axis=0) + 1e-3
    balance = channel_means / channel_means.mean()
    colour_cast = float(np.linalg.norm(balance - 1.0))

    return {
        "sharpness": float(np.log10(1.0 + sharp_all)),
        "sharpness_peak": float(np.log10(1.0 + sharp_peak)),
        "exposure_ev": exposure_ev,
        "highlights_clipped": float(np.mean(luma >= 250)),
        "shadows_clipped": float(np.mean(luma <= 5)),
        "contrast": float(luma.std() / 255.0),
        "dynamic_range": float((p99 - p1) / 255.0),
        "colorfulness": colorfulness,
        "saturation": saturation,
        "noise": noise,
        "colour_cast": colour_cast,
        "subject_isolation": float(np.log10((1.0 + sharp_peak) / (1.0 + sharp_median))),
        "channels_clipped": float(np.mean(cmax >= 254)),
    }


def measures_vector(measures: dict[str, float], names: tuple[str, ...] | list[str] = TECHNICAL_MEASURES) -> np.ndarray:
    """The measures *names* (default: all, in :data:`TECHNICAL_MEASURES` order) as a float32 vector."""
    return np.array([measures[name] for name in names], dtype=np.float32)
