"""Damage a photo on purpose: the technical half of the default model's training signal.

RankIQA's idea (Liu et al. 2017): a real photo is better than the same photo after added noise,
heavier compression, blur... so ranking pairs come for free. Every damage here takes uint8 RGB
pixels at the working size (long side 512, what the model and the technical measures see, so a
strength means "as seen at screen size"), a strength level in natural units, and a seed; the
same arguments always give the same pixels.
"""
from __future__ import annotations

import io
import math
import zlib

import numpy as np
from PIL import Image
from scipy import ndimage, signal

#: Levels (mild, moderate, strong) in each damage's natural unit.
STRENGTHS: dict[str, tuple[float, float, float]] = {
    "noise": (5.0, 10.0, 20.0),  # sigma of Gaussian noise per channel, 8-bit levels
    "jpeg": (30.0, 15.0, 6.0),  # JPEG quality (4:2:0); lower is worse
    "defocus": (1.0, 2.0, 4.0),  # sigma of a Gaussian blur, pixels
    "motion_blur": (5.0, 11.0, 21.0),  # length of a straight motion streak, pixels, random angle
    "underexposure": (1.0, 2.0, 3.0),  # stops removed, in linear light
    "overexposure": (0.75, 1.5, 2.5),  # stops added, in linear light, clipped
    "low_contrast": (0.65, 0.45, 0.25),  # luminance contrast kept (1 = unchanged), toward the mean
    "desaturation": (0.6, 0.3, 0.0),  # chroma kept (0 = black and white)
    "white_balance": (0.25, 0.5, 0.9),  # stops of channel gain: a warm, cool, green or magenta cast
    "tilt": (2.0, 4.0, 8.0),  # degrees of rotation, cropped back to the same aspect ratio
}
DAMAGES: tuple[str, ...] = tuple(STRENGTHS)
STRENGTH_NAMES: tuple[str, ...] = ("mild", "moderate", "strong")


def seed_for(*parts: object) -> int:
    """A stable seed from any labels (Python's hash() is salted per process; CRC32 is not)."""
    return zlib.crc32("|".join(str(p) for p in parts).encode("utf-8"))


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB values in 0-1 to linear light."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear light to sRGB values in 0-1 (clipped to the range first)."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def add_noise(pixels: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(0.0, sigma, size=pixels.shape).astype(np.float32)
    return _to_uint8(pixels.astype(np.float32) + noise)


def jpeg_compress(pixels: np.ndarray, quality: float, rng: np.random.Generator | None = None) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(round(quality)), subsampling=2)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def defocus(pixels: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    out = ndimage.gaussian_filter(pixels.astype(np.float32), sigma=(sigma, sigma, 0), mode="reflect")
    return _to_uint8(out)


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised straight streak of *length* pixels at *angle_deg*, anti-aliased by supersampling."""
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), dtype=np.float64)
    centre = (size - 1) / 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, int(length * 8)):
        x, y = centre + t * dx, centre - t * dy
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        for xx, yy, w in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)), (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
            if 0 <= xx < size and 0 <= yy < size:
                kernel[yy, xx] += w
    return kernel / kernel.sum()


def motion_blur(pixels: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    kernel = motion_kernel(length, float(rng.uniform(0.0, 180.0)))
    pad = kernel.shape[0] // 2
    padded = np.pad(pixels.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    out = np.stack([signal.fftconvolve(padded[..., c], kernel, mode="valid") for c in range(3)], axis=-1)
    return _to_uint8(out)


def exposure(pixels: np.ndarray, stops: float, rng: np.random.Generator | None = None) -> np.ndarray:
    linear = srgb_to_linear(pixels.astype(np.float64) / 255.0) * (2.0**stops)
    return _to_uint8(linear_to_srgb(linear) * 255.0)


def low_contrast(pixels: np.ndarray, kept: float, rng: np.random.Generator | None = None) -> np.ndarray:
    rgb = pixels.astype(np.float32)
    mean = float(_luma(rgb).mean())
    return _to_uint8(mean + (rgb - mean) * kept)


def desaturate(pixels: np.ndarray, kept: float, rng: np.random.Generator | None = None) -> np.ndarray:
    rgb = pixels.astype(np.float32)
    grey = _luma(rgb)[..., None]
    return _to_uint8(grey + (rgb - grey) * kept)


_CASTS = {  # log2 channel gains per stop of cast
    "warm": (1.0, 0.0, -1.0),
    "cool": (-1.0, 0.0, 1.0),
    "green": (-0.5, 1.0, -0.5),
    "magenta": (0.5, -1.0, 0.5),
}


def white_balance(pixels: np.ndarray, stops: float, rng: np.random.Generator) -> np.ndarray:
    cast = list(_CASTS)[int(rng.integers(len(_CASTS)))]
    gains = 2.0 ** (np.asarray(_CASTS[cast]) * stops / 2.0)
    gains = gains / np.exp(np.log(gains).mean())  # keep overall brightness
    linear = srgb_to_linear(pixels.astype(np.float64) / 255.0) * gains
    return _to_uint8(linear_to_srgb(linear) * 255.0)


def tilt(pixels: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate by +-degrees and crop the largest centred rectangle of the same aspect, resized back."""
    angle = degrees if rng.random() < 0.5 else -degrees
    h, w = pixels.shape[:2]
    image = Image.fromarray(pixels).rotate(angle, resample=Image.Resampling.BICUBIC, expand=False)
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    k = min(w / (w * c + h * s), h / (w * s + h * c))
    cw, ch = w * k, h * k
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return np.asarray(image.resize((w, h), Image.Resampling.BICUBIC, box=box), dtype=np.uint8).copy()


_FUNCTIONS = {
    "noise": add_noise,
    "jpeg": jpeg_compress,
    "defocus": defocus,
    "motion_blur": motion_blur,
    "underexposure": lambda p, level, rng: exposure(p, -level),
    "overexposure": lambda p, level, rng: exposure(p, level),
    "low_contrast": low_contrast,
    "desaturation": desaturate,
    "white_balance": white_balance,
    "tilt": tilt,
}


def apply_damage(pixels: np.ndarray, damage: str, level: float, seed: int = 0) -> np.ndarray:
    """*pixels* (uint8 HxWx3) damaged by *damage* at *level*; deterministic given *seed*."""
    if damage not in _FUNCTIONS:
        raise ValueError(f"unknown damage {damage!r}; known: {', '.join(DAMAGES)}")
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError("pixels must be uint8 H x W x 3")
    return _FUNCTIONS[damage](pixels, level, np.random.default_rng(seed))


def damage_at(pixels: np.ndarray, damage: str, strength: int, seed: int = 0) -> np.ndarray:
    """*pixels* damaged at strength index 0 (mild), 1 (moderate) or 2 (strong)."""
    return apply_damage(pixels, damage, STRENGTHS[damage][strength], seed)


#: Obvious failures made from real photos: frames no photographer would keep. The model is taught
#: (and checked) to put them below every real photo; each keeps a trace of its photo (a little of
#: its light, its layout) so it is not one fixed image the model could memorise.
FAILURES: tuple[str, ...] = ("black", "blown_white", "flat", "extreme_blur", "extreme_dark", "extreme_bright", "extreme_noise")


def make_failure(pixels: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """*pixels* turned into the obvious failure *kind* (deterministic given *seed*)."""
    rng = np.random.default_rng(seed)
    if kind == "black":  # lens cap or a shutter that never opened: 8 stops down, sensor read noise
        return add_noise(exposure(pixels, -8.0), 1.5, rng)
    if kind == "blown_white":  # pointed at the sun or a flash at point-blank range
        return exposure(pixels, 6.0)
    if kind == "flat":  # one colour, the photo's mean, with a little noise
        mean = pixels.reshape(-1, 3).astype(np.float32).mean(axis=0)
        return add_noise(_to_uint8(np.broadcast_to(mean, pixels.shape)), 2.0, rng)
    if kind == "extreme_blur":
        return defocus(pixels, 12.0)
    if kind == "extreme_dark":
        return exposure(pixels, -5.0)
    if kind == "extreme_bright":
        return exposure(pixels, 3.5)
    if kind == "extreme_noise":
        return add_noise(pixels, 60.0, rng)
    raise ValueError(f"unknown failure {kind!r}; known: {', '.join(FAILURES)}")
