"""Measures of one frame that culling compares between look-alikes: grain, directional sharpness,
clipping maps and a 3x3 grid of exposure statistics (for the salient region when there are no faces)."""
from __future__ import annotations

import numpy as np


#: blocks (pixels, on the side) whose spread the grain and detail measures compare
BLOCK = 32
#: brightness bands: signal-dependent noise (shot noise) is judged against blocks of like brightness
BANDS = 4


def _luma(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _blocks(plane: np.ndarray, block: int) -> np.ndarray:
    h, w = (plane.shape[0] // block) * block, (plane.shape[1] // block) * block
    return plane[:h, :w].reshape(h // block, block, w // block, block)


def _band_floors(values: np.ndarray, level: np.ndarray, usable: np.ndarray, share: float = 10.0) -> np.ndarray:
    """Per block: the *share*-th percentile of *values* among the usable blocks of its brightness band
    (the flattest blocks of like brightness: what grain alone gives there)."""
    if usable.sum() < 3:
        usable = np.ones_like(usable)
    edges = np.quantile(level[usable], np.linspace(0, 1, BANDS + 1)[1:-1]) if usable.sum() >= 4 * BANDS else np.zeros(0)
    band = np.digitize(level, edges)
    whole = np.percentile(values[usable], share)
    floors = np.full(values.shape, whole, np.float64)
    for b in range(len(edges) + 1):
        chosen = usable & (band == b)
        if chosen.sum() >= 3:
            floors[band == b] = np.percentile(values[chosen], share)
    return floors


def _box_mean(plane: np.ndarray, size: int) -> np.ndarray:
    """The mean of each *size* x *size* neighbourhood (borders mirrored), from summed-area tables."""
    r = size // 2
    table = np.pad(np.pad(plane.astype(np.float64), r, mode="symmetric").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]
    return (sums / (size * size)).astype(plane.dtype)


def _sobel(plane: np.ndarray, axis: int) -> np.ndarray:
    """The Sobel derivative along *axis* (1: horizontal), borders mirrored."""
    padded = np.pad(plane, 1, mode="symmetric")
    if axis == 1:
        step = padded[:, 2:] - padded[:, :-2]
        return step[:-2] + 2 * step[1:-1] + step[2:]
    step = padded[2:] - padded[:-2]
    return step[:, :-2] + 2 * step[:, 1:-1] + step[:, 2:]


#: a Gaussian of sigma 2 over 17 taps, for the tilt's votes
_GAUSS_2 = np.exp(-0.5 * (np.arange(-8, 9) / 2.0) ** 2) / np.exp(-0.5 * (np.arange(-8, 9) / 2.0) ** 2).sum()


def prepared(pixels: np.ndarray, luma: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Luminance scaled to mean 128 (exposure-free), its blocks' mean level, and which blocks are free
    of clipping: at most 2% of their pixels at white (253 or more) or black (2 or less; a dark frame's
    shadows at 3-5 levels still carry grain), since clipping flattens grain: a blown sky would measure
    as the quietest part. What :func:`noise_sigma` and :func:`detail` both read: compute it once and pass
    it to both."""
    luma = _luma(pixels) if luma is None else luma
    blocks = _blocks(luma, BLOCK)
    unclipped = ((blocks >= 253.0).mean(axis=(1, 3)) <= 0.02) & ((blocks <= 2.0).mean(axis=(1, 3)) <= 0.02)
    scale = 128.0 / max(float(luma.mean()), 1.0)
    return luma * scale, blocks.mean(axis=(1, 3)) * scale, unclipped


def noise_sigma(pixels: np.ndarray, luma: np.ndarray | None = None, ready: tuple | None = None) -> float:
    """Grain in 8-bit levels of the luminance (of the frame scaled to mean 128, so exposure-free).

    What is left after a 5x5 box blur is fine detail and grain; in the flattest blocks
    it is grain alone: the 10th percentile of the blocks' spread of that residue is taken. Blocks more
    than 2% clipped at white or black are left out (one brightness band at a time would follow shot
    noise better, but on a frame of text or foliage every bright band is texture). It holds for per-channel Gaussian noise, luminance plus chroma noise, shot noise,
    noise under a JPEG and demosaiced noise (whose grain spans two or three pixels and is measured at
    0.6-0.9 of its spread), within about 20% elsewhere (``tests/culling/test_grain.py``).
    *luma*: the frame's luminance (float32) if already computed; *ready*: :func:`prepared` of the frame.
    """
    if min(pixels.shape[:2]) < 2 * BLOCK:
        return 0.0
    luma, _, unclipped = ready or prepared(pixels, luma)
    residue = luma - _box_mean(luma, 5)
    spread = _blocks(residue, BLOCK).std(axis=(1, 3))
    usable = spread[unclipped] if unclipped.sum() >= 3 else spread.ravel()
    # a 5x5 box mean keeps 1/25 of white grain's variance (the residue keeps 0.96 of it), and the 10th
    # percentile of 1024 samples' spread lies 4% below it
    return float(np.percentile(usable, 10) / (0.98 * 0.96))


def detail(pixels: np.ndarray, cells: int = 4, luma: np.ndarray | None = None, ready: tuple | None = None) -> float:
    """Sharpness that grain does not raise: log10 of the weaker of the horizontal and vertical gradient
    energies in the sharpest cell of a *cells* x *cells* grid, less what grain gives.

    Per block, the gradient energy of the flattest blocks of like brightness (the 10th percentile, per
    band: shot noise grows with the signal) is taken away before the cells are compared: that is what
    the grain adds everywhere, whatever its kind, so a noisy copy of a frame measures about as sharp as
    the frame (within 0.1 decade on a detailed frame), while blur lowers the measure by a decade or more.
    As with :func:`directional_sharpness`, the weaker direction catches camera shake. *luma* and
    *ready* as for :func:`noise_sigma`.
    """
    if min(pixels.shape[:2]) < 2 * BLOCK:
        return directional_sharpness(pixels, cells, luma)
    luma, level, unclipped = ready or prepared(pixels, luma)
    gx = _blocks(np.diff(luma, axis=1)[:-1, :] ** 2, BLOCK).mean(axis=(1, 3))
    gy = _blocks(np.diff(luma, axis=0)[:, :-1] ** 2, BLOCK).mean(axis=(1, 3))
    rows, cols = min(gx.shape[0], level.shape[0]), min(gx.shape[1], level.shape[1])
    gx, gy, level, unclipped = gx[:rows, :cols], gy[:rows, :cols], level[:rows, :cols], unclipped[:rows, :cols]
    # the 10th percentile of ~1,000 values' mean lies ~8% below their expectation
    ex = np.maximum(gx - _band_floors(gx, level, unclipped) / 0.92, 0.0)
    ey = np.maximum(gy - _band_floors(gy, level, unclipped) / 0.92, 0.0)
    ys = np.linspace(0, rows, min(cells, rows) + 1).astype(int)
    xs = np.linspace(0, cols, min(cells, cols) + 1).astype(int)
    best = 0.0
    for i in range(len(ys) - 1):
        for j in range(len(xs) - 1):
            cell = (slice(ys[i], max(ys[i + 1], ys[i] + 1)), slice(xs[j], max(xs[j + 1], xs[j] + 1)))
            best = max(best, float(min(ex[cell].mean(), ey[cell].mean())))
    return float(np.log10(best + 1e-3))


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


def tilt(pixels: np.ndarray, luma: np.ndarray | None = None, span: float = 8.0) -> float | None:
    """How far the frame's straight lines lean from level and plumb, in degrees (signed); None when the
    frame has no lines to judge by (a landscape without a horizon, foliage, a face).

    The strongest 5% of Sobel gradients vote, weighted by their strength, for their edge's deviation
    from the nearest axis (within *span* degrees); a tilted camera turns every such edge by the same
    angle, so the votes peak at the tilt. Only a clear peak (1.5x the mean vote or more) is an answer.
    """
    luma = _luma(pixels) if luma is None else luma
    if min(luma.shape) < 64:
        return None
    if min(luma.shape) >= 512:  # lines are as straight at half the size, for a quarter of the work
        h, w = (luma.shape[0] // 2) * 2, (luma.shape[1] // 2) * 2
        luma = luma[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    gx, gy = _sobel(luma, 1), _sobel(luma, 0)
    strength = np.hypot(gx, gy)
    strong = strength > np.percentile(strength, 95)
    deviation = (np.degrees(np.arctan2(gy[strong], gx[strong])) + 45.0) % 90.0 - 45.0
    near = np.abs(deviation) <= span
    if near.sum() < 100:
        return None
    votes, edges = np.histogram(deviation[near], bins=int(8 * span), range=(-span, span), weights=strength[strong][near])
    votes = np.convolve(np.pad(votes.astype(np.float64), 8, mode="symmetric"), _GAUSS_2, mode="valid")
    peak = int(np.argmax(votes))
    if votes[peak] < 1.5 * max(float(votes.mean()), 1e-9):
        return None
    return float((edges[peak] + edges[peak + 1]) / 2)


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


__all__ = ["cell_stats", "clip_maps", "detail", "directional_sharpness", "noise_sigma", "prepared", "region_exposure", "salient_cells", "smooth_rgb", "tilt", "tonal_entropy"]
