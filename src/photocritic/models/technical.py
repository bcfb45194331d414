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

_LUMA = (np.float32(0.299), np.float32(0.587), np.float32(0.114))


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in 0..255 as float32."""
    # uint8 channel times a float32 scalar is the same float32 product as converting the image first
    return pixels[..., 0] * _LUMA[0] + pixels[..., 1] * _LUMA[1] + pixels[..., 2] * _LUMA[2]


def _second_differences(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d2/dx2 over rows 0..h+1 of the padded image, d2/dy2), borders mirrored like a half-sample
    symmetric ("reflect") convolution: the two add up to the 3x3 Laplacian, and d2/dy2 of d2/dx2 is
    Immerkaer's kernel [[1,-2,1],[-2,4,-2],[1,-2,1]] (separable, so 6 array passes instead of 9)."""
    padded = np.pad(luma, 1, mode="symmetric")
    centre = padded[:, 1:-1]
    dxx = padded[:, :-2] + padded[:, 2:]
    dxx -= centre
    dxx -= centre
    middle = centre[1:-1]
    dyy = centre[:-2] + centre[2:]
    dyy -= middle
    dyy -= middle
    return dxx, dyy


def laplacian(luma: np.ndarray) -> np.ndarray:
    """The 3x3 Laplacian [[0,1,0],[1,-4,1],[0,1,0]] with mirrored borders."""
    dxx, dyy = _second_differences(luma)
    dyy += dxx[1:-1]
    return dyy


def _cell_edges(size: int, cells: int) -> np.ndarray:
    return np.linspace(0, size, cells + 1).astype(int)


def grid_sharpness(lap: np.ndarray, cells: int = 4) -> np.ndarray:
    """Variance of the Laplacian *lap* in each cell of a cells x cells grid."""
    h, w = lap.shape
    ys, xs = _cell_edges(h, cells), _cell_edges(w, cells)
    out = np.empty((cells, cells), dtype=np.float64)
    for i in range(cells):
        for j in range(cells):
            cell = lap[ys[i] : ys[i + 1], xs[j] : xs[j + 1]]
            out[i, j] = cell.var() if cell.size else 0.0
    return out


def _variances(lap: np.ndarray, cells: int = 4) -> tuple[float, np.ndarray]:
    """(variance of *lap*, :func:`grid_sharpness`) from one pass of per-cell sums in float64 (one
    pass instead of seventeen; float64 sums are at least as exact as numpy's float32 var)."""
    h, w = lap.shape
    ys, xs = _cell_edges(h, cells), _cell_edges(w, cells)
    if h < cells or w < cells:  # empty cells: the straightforward way
        return float(lap.var()), grid_sharpness(lap, cells)
    rows = np.add.reduceat(lap, ys[:-1], axis=0, dtype=np.float64)
    sums = np.add.reduceat(rows, xs[:-1], axis=1)
    square = np.square(lap, dtype=np.float64)  # float32 squares would lose the small variances
    rows = np.add.reduceat(square, ys[:-1], axis=0)
    squares = np.add.reduceat(rows, xs[:-1], axis=1)
    counts = np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)
    means = sums / counts
    cell_var = np.maximum(squares / counts - means * means, 0.0)
    n = float(h * w)
    mean = sums.sum() / n
    return float(max(squares.sum() / n - mean * mean, 0.0)), cell_var


def _percentiles_1_99(luma: np.ndarray) -> tuple[float, float]:
    """``np.percentile(luma, [1, 99])`` (linear interpolation) without partitioning the whole
    image: a 256-bin count finds the integer level holding each wanted order statistic, and only the
    pixels of that level are sorted."""
    flat = luma.reshape(-1)
    n = flat.size
    levels = flat.astype(np.uint8)  # floor: luma is in 0..255
    counts = np.bincount(levels, minlength=256)
    below = np.concatenate(([0], np.cumsum(counts)))
    cache: dict[int, np.ndarray] = {}

    def order_statistic(k: int) -> float:
        level = int(np.searchsorted(below, k, side="right")) - 1
        if level not in cache:
            cache[level] = np.sort(flat[levels == level])
        return float(cache[level][k - below[level]])

    out = []
    for q in (1.0, 99.0):
        position = (n - 1) * q / 100.0
        lo = int(np.floor(position))
        hi = min(lo + 1, n - 1)
        t = position - lo
        a, b = order_statistic(lo), order_statistic(hi)
        # numpy's _lerp: from the nearer end, so t = 0 or 1 give a or b exactly
        out.append(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)
    return out[0], out[1]


def _colorfulness(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> float:
    """Hasler & Suesstrunk's sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2), rg = r - g,
    yb = (r + g) / 2 - b, from exact integer sums of rg and 2 yb and their squares."""
    n = float(r.size)
    rg = np.subtract(r, g, dtype=np.int32).reshape(-1)
    yb2 = np.add(r, g, dtype=np.int32)
    yb2 -= b
    yb2 -= b
    yb2 = yb2.reshape(-1)
    rg_mean, yb_mean = int(rg.sum(dtype=np.int64)) / n, int(yb2.sum(dtype=np.int64)) / (2.0 * n)
    rg_var = max(int(np.square(rg).sum(dtype=np.int64)) / n - rg_mean * rg_mean, 0.0)
    yb_var = max(int(np.square(yb2).sum(dtype=np.int64)) / (4.0 * n) - yb_mean * yb_mean, 0.0)
    return float(np.hypot(np.sqrt(rg_var), np.sqrt(yb_var)) + 0.3 * np.hypot(rg_mean, yb_mean))


def technical_measures(pixels: np.ndarray) -> dict[str, float]:
    """All :data:`TECHNICAL_MEASURES` for one uint8 RGB image."""
    luma = luminance(pixels)
    h, w = luma.shape
    dxx, dyy = _second_differences(luma)
    noise = 0.0
    if h > 2 and w > 2:
        # Immerkaer's response on the interior only (no mirrored pixels): d2/dy2 of d2/dx2
        inner = dxx[2:-2, 1:-1]
        response = dxx[1:-3, 1:-1] + dxx[3:-1, 1:-1]
        response -= inner
        response -= inner
        noise = float(np.sqrt(np.pi / 2) * np.abs(response, out=response).sum(dtype=np.float64) / (6.0 * (w - 2) * (h - 2)))
    dyy += dxx[1:-1]
    sharp_all, cells = _variances(dyy)
    sharp_peak = float(cells.max())
    sharp_median = float(np.median(cells))

    mean_luma = float(luma.mean(dtype=np.float64)) / 255.0
    # a well exposed scene averages about 18% reflectance, i.e. ~0.46 in gamma-encoded sRGB
    exposure_ev = float(np.log2(max(mean_luma, 1e-3) / 0.46) * 2.2)

    p1, p99 = _percentiles_1_99(luma)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    colorfulness = _colorfulness(r, g, b)
    cmax = np.maximum(np.maximum(r, g), b)
    cmin = np.minimum(np.minimum(r, g), b)
    # (cmax - cmin) / cmax, and 0 where cmax is 0 (then cmin is 0 too)
    spread = np.subtract(cmax, cmin, dtype=np.float32)
    spread /= np.maximum(cmax, np.float32(1e-6), dtype=np.float32)
    saturation = float(spread.mean(dtype=np.float64))

    # summing each column of the (h, 3w) view, then the columns, is ~25x faster than .sum over (N, 3)
    channel_sums = pixels.reshape(h, w * 3).sum(axis=0, dtype=np.uint32).reshape(w, 3).sum(axis=0, dtype=np.int64)
    channel_means = channel_sums / float(h * w) + 1e-3
    balance = channel_means / channel_means.mean()
    colour_cast = float(np.linalg.norm(balance - 1.0))

    return {
        "sharpness": float(np.log10(1.0 + sharp_all)),
        "sharpness_peak": float(np.log10(1.0 + sharp_peak)),
        "exposure_ev": exposure_ev,
        "highlights_clipped": float(np.count_nonzero(luma >= 250) / luma.size),
        "shadows_clipped": float(np.count_nonzero(luma <= 5) / luma.size),
        "contrast": float(luma.std(dtype=np.float64) / 255.0),
        "dynamic_range": float((p99 - p1) / 255.0),
        "colorfulness": colorfulness,
        "saturation": saturation,
        "noise": noise,
        "colour_cast": colour_cast,
        "subject_isolation": float(np.log10((1.0 + sharp_peak) / (1.0 + sharp_median))),
        "channels_clipped": float(np.count_nonzero(cmax >= 254) / cmax.size),
    }


def measures_vector(measures: dict[str, float], names: tuple[str, ...] | list[str] = TECHNICAL_MEASURES) -> np.ndarray:
    """The measures *names* (default: all, in :data:`TECHNICAL_MEASURES` order) as a float32 vector."""
    return np.array([measures[name] for name in names], dtype=np.float32)
