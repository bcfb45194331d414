"""The few pixel operations the face networks and clipping maps need, in NumPy.

They follow OpenCV's arithmetic (cv2.warpAffine's 1/32-pixel fixed point, cv2.resize's INTER_AREA
weights, cv2.blur's mirrored borders), which the face networks were tuned against, so the crops
they see stay what they were (tests/imaging/test_resample.py holds them to OpenCV when it is
installed) without a 170 MB dependency in the core install.
"""
from __future__ import annotations

import functools
import math

import numpy as np

_INTER_BITS = 5  # OpenCV: sample positions in 1/32 pixel
_AB_BITS = 10  # OpenCV: affine coefficients in 1/1024


def invert_affine(m: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 affine matrix (cv2.invertAffineTransform)."""
    m = np.asarray(m, dtype=np.float64)
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    d = 1.0 / det if det != 0 else 0.0
    a11, a22, a12, a21 = m[1, 1] * d, m[0, 0] * d, -m[0, 1] * d, -m[1, 0] * d
    return np.array([[a11, a12, -a11 * m[0, 2] - a12 * m[1, 2]], [a21, a22, -a21 * m[0, 2] - a22 * m[1, 2]]])


def warp_affine(pixels: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """cv2.warpAffine(pixels, m, size, INTER_LINEAR, BORDER_CONSTANT 0) of a uint8 H x W x C image:
    the output pixel (x, y) samples the source at m^-1 (x, y), bilinear, black outside."""
    width, height = size
    inv = invert_affine(m)
    scale = 1 << _AB_BITS
    delta = scale >> (_INTER_BITS + 1)
    xs, ys = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    # np.rint rounds half to even, as OpenCV's saturate_cast<int>
    ax, ay = np.rint(inv[0, 0] * xs * scale).astype(np.int64), np.rint(inv[1, 0] * xs * scale).astype(np.int64)
    bx = np.rint((inv[0, 1] * ys + inv[0, 2]) * scale).astype(np.int64) + delta
    by = np.rint((inv[1, 1] * ys + inv[1, 2]) * scale).astype(np.int64) + delta
    shift = _AB_BITS - _INTER_BITS
    fixed_x = (bx[:, None] + ax[None, :]) >> shift
    fixed_y = (by[:, None] + ay[None, :]) >> shift
    src_h, src_w = pixels.shape[:2]
    source = pixels.reshape(src_h, src_w, -1)
    sx, sy = fixed_x >> _INTER_BITS, fixed_y >> _INTER_BITS
    fx, fy = (fixed_x & 31).astype(np.float32), (fixed_y & 31).astype(np.float32)
    gy, gx = 32.0 - fy, 32.0 - fx
    # OpenCV's weights in 1/32768 sum to 32768; each product and sum is an integer below 2^24, exact in float32
    weights = (gy * gx * 32.0, gy * fx * 32.0, fy * gx * 32.0, fy * fx * 32.0)
    if sx.min() >= 0 and sy.min() >= 0 and sx.max() + 1 < src_w and sy.max() + 1 < src_h:
        # every 2x2 neighbourhood inside the photo (a face well inside the frame): gathers from the photo
        flat, stride = np.ascontiguousarray(source).reshape(src_h * src_w, -1), src_w
        base = sy * src_w + sx
    else:  # from a copy of the box the neighbourhoods lie in, black outside the photo
        sx, sy = np.clip(sx, -2, src_w), np.clip(sy, -2, src_h)  # further out: black all the same
        x0, y0, x1, y1 = int(sx.min()), int(sy.min()), int(sx.max()) + 2, int(sy.max()) + 2
        region = np.zeros((y1 - y0, x1 - x0, source.shape[2]), np.uint8)
        cy0, cx0, cy1, cx1 = max(y0, 0), max(x0, 0), min(y1, src_h), min(x1, src_w)
        if cy1 > cy0 and cx1 > cx0:
            region[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = source[cy0:cy1, cx0:cx1]
        flat, stride = region.reshape(-1, region.shape[2]), x1 - x0
        base = (sy - y0) * stride + (sx - x0)
    total = np.take(flat, base, axis=0) * weights[0][..., None]
    for offset, weight in zip((1, stride, stride + 1), weights[1:]):
        total += np.take(flat, base + offset, axis=0) * weight[..., None]
    out = np.floor((total + float(1 << 14)) * (1.0 / (1 << 15))).astype(np.uint8)
    return out.reshape(height, width, *pixels.shape[2:])


def _area_slots(source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """INTER_AREA weights as (index, share), each target x slots: output pixel d is the sum over k
    of share[d, k] * source pixel index[d, k] (OpenCV's computeResizeAreaTab when shrinking, its
    linear interpolation with area fractions when enlarging)."""
    d = np.arange(target)
    scale = source / target
    if scale < 1:
        s = np.floor(d * scale).astype(np.int64)
        f = (d + 1) - (s + 1) / scale
        f = np.where(f <= 0, 0.0, f - np.floor(f))
        edge = s >= source - 1
        s, f = np.where(edge, source - 1, s), np.where(edge, 0.0, f)
        return np.stack([s, np.minimum(s + 1, source - 1)], 1), np.stack([1 - f, f], 1).astype(np.float32)
    start = d * scale
    stop = start + scale
    cell = np.minimum(scale, source - start)
    last = np.minimum(np.floor(stop).astype(np.int64), source - 1)
    first = np.minimum(np.ceil(start).astype(np.int64), last)
    span = int(math.ceil(scale)) + 2  # a partial pixel, the whole ones, a partial pixel
    index = np.zeros((target, span), np.int64)
    share = np.zeros((target, span), np.float32)
    head = first - start > 1e-3
    index[:, 0] = np.maximum(first - 1, 0)
    share[:, 0] = np.where(head, (first - start) / cell, 0.0)
    for k in range(span - 2):
        whole = first + k < last
        index[:, k + 1] = np.where(whole, first + k, 0)
        share[:, k + 1] = np.where(whole, 1.0 / cell, 0.0)
    tail = stop - last > 1e-3
    index[:, -1] = last
    share[:, -1] = np.where(tail, np.minimum(np.minimum(stop - last, 1.0), cell) / cell, 0.0)
    return index, share


def _area_pass(x: np.ndarray, target: int) -> np.ndarray:
    """INTER_AREA along axis 0, in float32 as OpenCV: each output row is a weighted sum of the few
    source rows it covers (gathered per weight slot, not a dense matrix product)."""
    index, share = _area_slots(x.shape[0], target)
    out = x[index[:, 0]] * share[:, 0, None, None]
    for k in range(1, index.shape[1]):
        if share[:, k].any():
            out += x[index[:, k]] * share[:, k, None, None]
    return out


def resize_area(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """cv2.resize(pixels, size, interpolation=INTER_AREA) of a uint8 H x W x C image."""
    width, height = size
    src_h, src_w = pixels.shape[:2]
    source = pixels.reshape(src_h, src_w, -1)
    if src_w == 2 * width and src_h == 2 * height:  # OpenCV's exact halving: 2x2 means, rounded half up
        out = halve(source).reshape(height, width, -1)
    elif src_w % width == 0 and src_h % height == 0:  # whole blocks: their means, rounded half to even
        kx, ky = src_w // width, src_h // height
        rows = source[0::ky].astype(np.uint16 if kx * ky <= 257 else np.uint32)  # sums of slices: numpy's
        for k in range(1, ky):  # reductions over strided block axes are ~10x slower
            rows += source[k::ky]
        columns = rows.reshape(height, width, kx, -1)
        blocks = columns[:, :, 0].copy()
        for k in range(1, kx):
            blocks += columns[:, :, k]
        out = np.rint(blocks.astype(np.float32) * np.float32(1.0 / (kx * ky))).astype(np.uint8)
    else:
        rows = _area_pass(source, height)  # uint8 rows times float32 shares: float32
        out = _area_pass(np.ascontiguousarray(rows.transpose(1, 0, 2)), width).transpose(1, 0, 2)
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.reshape(height, width, *pixels.shape[2:])


def halve(pixels: np.ndarray) -> np.ndarray:
    """The means of 2x2 blocks, rounded half up (cv2.resize to half size with INTER_AREA when both
    sides are even); an odd last row or column is left out."""
    h, w = (pixels.shape[0] // 2) * 2, (pixels.shape[1] // 2) * 2
    rows = pixels[0:h:2, :w].astype(np.uint16)
    rows += pixels[1:h:2, :w]
    pairs = rows.reshape(h // 2, w // 2, 2, -1)
    quads = pairs[:, :, 0] + pairs[:, :, 1]
    quads += 2
    quads >>= 2
    return quads.astype(np.uint8).reshape(h // 2, w // 2, *pixels.shape[2:])


def box_blur(pixels: np.ndarray, size: int = 5) -> np.ndarray:
    """cv2.blur(pixels, (size, size)) of a uint8 H x W x C image: the mean of each size x size
    neighbourhood, borders mirrored without repeating the edge (BORDER_REFLECT_101), rounded."""
    if size > 15:
        raise ValueError("box_blur sums in uint16: size 15 at most")
    r = size // 2
    h, w = pixels.shape[:2]
    padded = np.pad(pixels, ((r, r), (r, r)) + ((0, 0),) * (pixels.ndim - 2), mode="reflect").astype(np.uint16)
    rows = padded[:h].copy()  # sums of size x size uint8 values fit in uint16 up to size 15
    for k in range(1, size):
        rows += padded[k : k + h]
    summed = rows[:, :w].copy()
    for k in range(1, size):
        summed += rows[:, k : k + w]
    return _mean_table(size)[summed]


@functools.lru_cache(maxsize=4)
def _mean_table(size: int) -> np.ndarray:
    """sum -> rounded mean of size x size values (an odd area never puts a mean exactly half way, so
    plain rounding is OpenCV's)."""
    sums = np.arange(255 * size * size + 1, dtype=np.int64)
    return ((2 * sums + size * size) // (2 * size * size)).astype(np.uint8)


__all__ = ["box_blur", "halve", "invert_affine", "resize_area", "warp_affine"]
