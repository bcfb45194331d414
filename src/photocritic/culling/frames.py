"""Measures of one frame that culling compares between look-alikes: grain, directional sharpness,
clipping maps and a 3x3 grid of exposure statistics (for the salient region when there are no faces)."""
from __future__ import annotations

import numpy as np


def noise_sigma(pixels: np.ndarray, luma: np.ndarray | None = None) -> float:
    """Grain in 8-bit levels (of the frame scaled to mean 128): median |finest Haar detail| / 0.6745 (Donoho).

    The median ignores the few large coefficients that edges and texture make, so unlike the
    Laplacian's variance this does not mistake detail for grain (and grain for detail). Blocks with a
    pixel at white or black (luminance 250 or more, 5 or less) are left out: clipping flattens grain, so
    a brightened copy that blew its sky, or a darkened one that crushed its shadows, would otherwise
    measure quieter than the untouched frame. *luma*: the frame's luminance (float32) if already computed.
    """
    if luma is None:
        luma = pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = (luma.shape[0] // 2) * 2, (luma.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    corners = (luma[0:h:2, 0:w:2], luma[0:h:2, 1:w:2], luma[1:h:2, 0:w:2], luma[1:h:2, 1:w:2])
    scale = 128.0 / max(float(luma.mean()), 1.0)  # in levels of a frame of mean 128: exposure-free
    diagonal = np.abs(corners[0] - corners[1] - corners[2] + corners[3]) * (scale / 2.0)
    top = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    bottom = np.minimum(np.minimum(corners[0], corners[1]), np.minimum(corners[2], corners[3]))
    unclipped = (top < 250.0) & (bottom > 5.0)
    if unclipped.sum() >= max(64, 0.01 * unclipped.size):  # else the frame is all clipping: every block
        diagonal = diagonal[unclipped]
    return float(np.median(diagonal) / 0.6745)


def directional_sharpness(pixels: np.ndarray, cells: int = 4, luma: np.ndarray | None = None) -> float:
    """log10 of the weaker of the horizontal and vertical gradient energies, in the sharpest grid cell.

    Camera shake smears one direction and leaves the other crisp, which fools the Laplacian's
    variance; taking the weaker direction catches it. The sharpest cell stands for the subject.
    Luminance is divided by its mean first, so a brighter copy of a frame is not "sharper".
    *luma*: the frame's luminance (float32) if already computed.
    """
    if luma is None:
        luma = pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    luma = luma * (128.0 / max(float(luma.mean()), 1.0))
    gx = np.diff(luma, axis=1)[:-1, :] ** 2
    gy = np.diff(luma, axis=0)[:, :-1] ** 2
    h, w = gx.shape
    if h < cells or w < cells:
        return 0.0
    ys = np.linspace(0, h, cells + 1).astype(int)
    xs = np.linspace(0, w, cells + 1).astype(int)
    best = 0.0
    for i in range(cells):
        for j in range(cells):
            ex = float(gx[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean())
            ey = float(gy[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean())
            best = max(best, min(ex, ey))
    return float(np.log10(best + 1e-3))


def tonal_entropy(pixels: np.ndarray, block: int = 4, bins: int = 32, luma: np.ndarray | None = None) -> float:
    """Tonal information of a frame in bits: the entropy of its luminance histogram (*bins* levels) on
    *block* x *block* means.

    A tone curve applied to a frame can only merge levels, never add any: a darkened copy squeezes
    its tones into fewer levels and a brightened one piles them up at white, so among frames of one
    scene the untouched one holds the most. Grain and blur add levels of their own (noise spreads
    them, a blurred edge fills the steps between flat areas); the block means damp the grain, and
    ranking does not credit a noisy or soft frame with more than the group's median. *luma*: the
    frame's luminance (float32) if already computed.
    """
    if luma is None:
        luma = pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = (luma.shape[0] // block) * block, (luma.shape[1] // block) * block
    if h == 0 or w == 0:
        return 0.0
    means = luma[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    counts = np.histogram(means, bins=bins, range=(0, 256))[0].astype(np.float64)
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * np.log2(shares)).sum())


def clip_maps(pixels: np.ndarray, smooth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(white, black, luma): clipping judged on a 5x5 box mean, so sensor noise does not dither a blown
    area below the white point (nor a blur's soft edge count), while a real blown area stays blown.

    *smooth*: that box mean of *pixels* if already computed (:func:`smooth_rgb`; a part of the frame's
    box mean is the part's, given 2 pixels of context)."""
    rgb = pixels[..., :3]
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    smooth = smooth_rgb(rgb) if smooth is None else smooth
    smooth_luma = smooth.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    # np.maximum over the three planes, not .max(axis=-1): numpy reduces a last axis of 3 ~20x slower
    brightest = np.maximum(np.maximum(smooth[..., 0], smooth[..., 1]), smooth[..., 2])
    return brightest >= _white_point(brightest), smooth_luma <= 6, luma


def smooth_rgb(pixels: np.ndarray) -> np.ndarray:
    """The 5x5 box mean of an RGB frame that clipping is judged on (the frame itself when smaller)."""
    from photocritic.imaging.resample import box_blur

    rgb = pixels[..., :3]
    return box_blur(rgb, 5) if min(rgb.shape[:2]) >= 5 else rgb


#: Off (for comparisons): clipping only at the fixed white point.
PLATEAU = True


def _white_point(brightest: np.ndarray) -> float:
    """250, or the frame's own top (its 99.9th percentile, less 2 levels) when that is lower: an area
    blown to white and then darkened (a copy pulled down in exposure, an export with a lower white
    point) is still a flat plateau at the top of the frame's range, and it holds no more detail than
    the white it was. In a frame without such a plateau only ~0.1% of pixels lie that near its top.
    Only a bright top (128 or more: white pulled down by at most ~2.5 stops) above darker tones (64
    levels or more below it) counts: a flat or a dark frame has no highlights to lose."""
    if not PLATEAU or brightest.size == 0:
        return 250.0
    cumulative = np.cumsum(np.bincount(brightest.reshape(-1), minlength=256))
    top = int(np.searchsorted(cumulative, 0.999 * brightest.size))
    bottom = int(np.searchsorted(cumulative, 0.001 * brightest.size))
    if top < 128 or top - bottom < 64:
        return 250.0
    return float(min(250, top - 2))


def cell_stats(white: np.ndarray, black: np.ndarray, luma: np.ndarray, n: int = 3) -> dict[str, list[float]]:
    """Per cell of an n x n grid (row-major): gradient energy, shares clipped white / black, median luma."""
    h, w = luma.shape
    ys = np.linspace(0, h, n + 1).astype(int)
    xs = np.linspace(0, w, n + 1).astype(int)
    gx = np.abs(np.diff(luma, axis=1)) if w > 1 else np.zeros((h, 1), np.float32)
    out: dict[str, list[float]] = {"energy": [], "white": [], "black": [], "level": [], "pixels": []}
    for i in range(n):
        for j in range(n):
            y0, y1, x0, x1 = ys[i], max(ys[i + 1], ys[i] + 1), xs[j], max(xs[j + 1], xs[j] + 1)
            y0, x0 = min(y0, h - 1), min(x0, w - 1)
            g = gx[y0:y1, x0 : min(x1, gx.shape[1])]
            out["energy"].append(float(g.mean()) if g.size else 0.0)
            out["white"].append(float(white[y0:y1, x0:x1].mean()))
            out["black"].append(float(black[y0:y1, x0:x1].mean()))
            out["level"].append(float(np.median(luma[y0:y1, x0:x1])))
            out["pixels"].append(float((y1 - y0) * (x1 - x0)))
    return out


def salient_cells(energy: np.ndarray, n: int = 3) -> list[int]:
    """The cell with the most (summed) gradient energy and its neighbours: where the subject is."""
    i, j = divmod(int(np.argmax(energy)), n)
    return [a * n + b for a in range(max(0, i - 1), min(n, i + 2)) for b in range(max(0, j - 1), min(n, j + 2))]


def region_exposure(cells: dict[str, list[float]], chosen: list[int]) -> tuple[float, float, float]:
    """(blown, crushed, level) over the *chosen* cells, weighted by their pixels."""
    weights = np.array([cells["pixels"][k] for k in chosen], np.float64)
    weights /= max(weights.sum(), 1e-9)
    pick = lambda key: float(sum(wt * cells[key][k] for wt, k in zip(weights, chosen)))  # noqa: E731
    return pick("white"), pick("black"), pick("level")


__all__ = ["cell_stats", "clip_maps", "directional_sharpness", "noise_sigma", "region_exposure", "salient_cells", "smooth_rgb", "tonal_entropy"]
