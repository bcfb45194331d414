"""Three independent ways to make a burst from one real photo: a clean frame and copies with one defect each.

The ranking is fitted on some and judged on the one held out, so what it learns is what a defect does
to a frame, not how one generator makes it. They differ in every step:

``shifted`` (the first, :mod:`benchmarks.eval_culling`'s): the clean frame is the photo untouched; copies
    are shifted, cropped or tilted and carry Gaussian or box motion blur, 1-2 stops in linear light, or
    per-channel Gaussian noise.
``handheld``: every frame, the clean one too, is hand-held (a small rotation, shift and zoom, bicubic);
    defects are mild: a defocus disk, motion blur at any angle, 0.7-1.3 stops, a 2.5-4 degree tilt, or
    sensor noise of one of five kinds (per-channel Gaussian, luminance plus blotchy chroma, signal-dependent
    shot noise, noise then a JPEG at quality 70-80, noise on a Bayer mosaic then demosaiced).
``sensor``: a camera in linear light: every frame is a crop window (Lanczos), carries a little shot
    noise of its own and leaves at its own JPEG quality; defects are a missed focus (Gaussian), shake along
    a random-walk path, an exposure error with the highlights clipped in linear light, high ISO
    (Poisson-Gaussian noise on the mosaic, demosaiced), or a tilt.

Each returns ``(image, defect)`` frames, the clean one with defect None; :func:`write_bursts` saves them.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps
from scipy import ndimage

from photocritic.training.degradations import linear_to_srgb, srgb_to_linear

Frames = list[tuple[Image.Image, str | None]]


# --- colour helpers -----------------------------------------------------------------------------------

def to_linear(pixels: np.ndarray) -> np.ndarray:
    """0-255 sRGB to linear light (0-1)."""
    return srgb_to_linear(pixels.astype(np.float32) / 255.0)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light to 0-255 sRGB (floats; clipped to the range)."""
    return linear_to_srgb(linear) * 255.0


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))


def _convolve(pixels: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kernel = kernel / kernel.sum()
    return np.stack([ndimage.convolve(pixels[..., c], kernel, mode="reflect") for c in range(pixels.shape[-1])], axis=-1)


def disk(radius: float) -> np.ndarray:
    size = int(math.ceil(radius)) * 2 + 1
    y, x = np.mgrid[:size, :size] - size // 2
    return (x * x + y * y <= radius * radius + 0.5).astype(np.float32)


def line(length: float, angle: float) -> np.ndarray:
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    for t in np.linspace(-length / 2, length / 2, int(length * 3) + 1):
        kernel[int(round(c + t * math.sin(angle))), int(round(c + t * math.cos(angle)))] = 1.0
    return kernel


def random_walk(length: float, rng: random.Random) -> np.ndarray:
    size = int(math.ceil(length)) * 2 + 1
    kernel = np.zeros((size, size), np.float32)
    x = y = size / 2
    angle = rng.uniform(0, 2 * math.pi)
    for _ in range(int(length * 4)):
        angle += rng.gauss(0, 0.35)
        x = min(max(x + 0.25 * math.cos(angle), 0), size - 1)
        y = min(max(y + 0.25 * math.sin(angle), 0), size - 1)
        kernel[int(y), int(x)] += 1.0
    return kernel


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    from io import BytesIO

    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as out:
        return out.convert("RGB").copy()


def mosaic_noise(pixels: np.ndarray, sigma: float, rng: np.random.Generator, shot: bool = False) -> np.ndarray:
    """Noise added to an RGGB Bayer mosaic of *pixels* (0-255 floats), then bilinear demosaicing: grain
    correlated over two or three pixels and between channels, as a camera's."""
    h, w = pixels.shape[:2]
    masks = np.zeros((h, w, 3), np.float32)
    masks[0::2, 0::2, 0] = 1
    masks[0::2, 1::2, 1] = 1
    masks[1::2, 0::2, 1] = 1
    masks[1::2, 1::2, 2] = 1
    raw = (pixels * masks).sum(-1)
    if shot:  # variance proportional to the signal (in linear light), sigma at mid-grey
        linear = to_linear(np.clip(raw, 0, 255)[..., None])[..., 0]
        noisy = linear + rng.normal(0, 1, raw.shape) * np.sqrt(np.maximum(linear, 0) * (sigma / 305.0) ** 2 / 0.18 + 1e-6)
        raw = to_srgb(noisy[..., None])[..., 0]
    else:
        raw = raw + rng.normal(0, sigma, raw.shape)
    kernel_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    kernel_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    out = np.empty_like(pixels)
    for c, kernel in ((0, kernel_rb), (1, kernel_g), (2, kernel_rb)):
        out[..., c] = ndimage.convolve(raw * masks[..., c], kernel, mode="mirror")
    return out


# --- the handheld generator ----------------------------------------------------------------------------

def handhold(image: Image.Image, rng: random.Random, tilt: float = 0.0) -> Image.Image:
    """The frame as a hand-held camera took it: rotated by up to 1 degree (plus *tilt*), shifted by up
    to 2% and zoomed 4-8% to hide the borders, bicubic."""
    w, h = image.size
    angle = math.radians(rng.uniform(-1.0, 1.0) + tilt)
    zoom = rng.uniform(1.04, 1.08) + abs(math.sin(angle)) * 1.2
    dx, dy = rng.uniform(-0.02, 0.02) * w, rng.uniform(-0.02, 0.02) * h
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    cx, cy = w / 2, h / 2
    # output (x, y) -> input: centre, rotate and scale, shift back
    a, b = cos, -sin
    d, e = sin, cos
    c = cx + dx - a * cx - b * cy
    f = cy + dy - d * cx - e * cy
    return image.transform(image.size, Image.Transform.AFFINE, (a, b, c, d, e, f), resample=Image.Resampling.BICUBIC)


NOISE_KINDS = ("gaussian", "luma_chroma", "shot", "jpeg", "demosaic")


def add_noise(image: Image.Image, kind: str, sigma: float, rng: random.Random) -> Image.Image:
    """*sigma* levels of sensor noise of one *kind* (see :data:`NOISE_KINDS`)."""
    pixels = np.asarray(image, np.float32)
    g = np.random.default_rng(rng.randrange(1 << 30))
    if kind == "gaussian":
        return _image(pixels + g.normal(0, sigma, pixels.shape))
    if kind == "luma_chroma":
        h, w = pixels.shape[:2]
        luma = g.normal(0, sigma, (h, w, 1))
        chroma = g.normal(0, sigma * 0.7, (h // 3 + 1, w // 3 + 1, 2))
        chroma = np.stack([ndimage.zoom(chroma[..., k], 3, order=1)[:h, :w] for k in range(2)], axis=-1)
        rgb = np.stack([chroma[..., 0], -0.5 * chroma[..., 0] - 0.5 * chroma[..., 1], chroma[..., 1]], axis=-1)
        return _image(pixels + luma + rgb)
    if kind == "shot":
        linear = to_linear(pixels)
        scale = (sigma / 305.0) ** 2 / 0.18  # sigma levels at mid-grey (sRGB's slope there is 1.2)
        noisy = linear + g.normal(0, 1, linear.shape) * np.sqrt(linear * scale + 1e-6)
        return _image(to_srgb(noisy))
    if kind == "jpeg":
        return jpeg(_image(pixels + g.normal(0, sigma, pixels.shape)), rng.randint(70, 80))
    if kind == "demosaic":
        return _image(mosaic_noise(pixels, sigma, g))
    raise ValueError(kind)


def expose(image: Image.Image, stops: float) -> Image.Image:
    return _image(to_srgb(to_linear(np.asarray(image)) * 2.0**stops))


HANDHELD_DEFECTS = ("defocus", "motion", "under", "over", "noise", "tilt")


def handheld(image: Image.Image, count: int, rng: random.Random, defects: tuple[str, ...] = HANDHELD_DEFECTS) -> Frames:
    long_side = max(image.size)
    frames: Frames = [(handhold(image, rng), None)]
    for _ in range(count - 1):
        defect = rng.choice(defects)
        if defect == "tilt":
            frames.append((handhold(image, rng, tilt=rng.choice([-1, 1]) * rng.uniform(2.5, 4.0)), defect))
            continue
        frame = handhold(image, rng)
        if defect == "defocus":
            frame = _image(_convolve(np.asarray(frame, np.float32), disk(long_side * rng.uniform(0.0025, 0.005))))
        elif defect == "motion":
            frame = _image(_convolve(np.asarray(frame, np.float32), line(long_side * rng.uniform(0.007, 0.015), rng.uniform(0, math.pi))))
        elif defect in ("under", "over"):
            frame = expose(frame, rng.uniform(0.7, 1.3) * (-1 if defect == "under" else 1))
        elif defect == "noise":
            kind = rng.choice(NOISE_KINDS)
            frame, defect = add_noise(frame, kind, rng.uniform(6, 14), rng), f"noise-{kind}"
        frames.append((frame, defect))
    rng.shuffle(frames)
    return frames


# --- the sensor generator ------------------------------------------------------------------------------

def window(image: Image.Image, rng: random.Random, tilt: float = 0.0) -> Image.Image:
    """A 92-97% crop window at a random place (rotated by *tilt* degrees first), Lanczos back to size."""
    w, h = image.size
    source = image
    if tilt:
        source = image.rotate(tilt, resample=Image.Resampling.BILINEAR)
        margin = math.sin(math.radians(abs(tilt))) * 1.1
        dx, dy = int(h * margin), int(w * margin)
        source = source.crop((dx, dy, w - dx, h - dy))
    sw, sh = source.size
    f = rng.uniform(0.92, 0.97)
    cw, ch = int(sw * f), int(sh * f)
    x, y = rng.randint(0, sw - cw), rng.randint(0, sh - ch)
    return source.crop((x, y, x + cw, y + ch)).resize((w, h), Image.Resampling.LANCZOS)


SENSOR_DEFECTS = ("focus", "shake", "exposure", "iso", "tilt")


def sensor(image: Image.Image, count: int, rng: random.Random, defects: tuple[str, ...] = SENSOR_DEFECTS) -> Frames:
    long_side = max(image.size)
    frames: Frames = []
    plan = [None] + [rng.choice(defects) for _ in range(count - 1)]
    for defect in plan:
        tilt = rng.choice([-1, 1]) * rng.uniform(2.0, 3.5) if defect == "tilt" else 0.0
        linear = to_linear(np.asarray(window(image, rng, tilt)))
        if defect == "focus":
            sigma = long_side * rng.uniform(0.0015, 0.003)
            linear = np.stack([ndimage.gaussian_filter(linear[..., c], sigma) for c in range(3)], axis=-1)
        elif defect == "shake":
            linear = _convolve(linear, random_walk(long_side * rng.uniform(0.006, 0.012), rng))
        elif defect == "exposure":
            linear = np.clip(linear * 2.0 ** (rng.choice([-1, 1]) * rng.uniform(0.8, 1.5)), 0, 1)
        g = np.random.default_rng(rng.randrange(1 << 30))
        if defect == "iso":
            pixels = mosaic_noise(to_srgb(linear), rng.uniform(7, 13), g, shot=True)
        else:  # base ISO: a little shot noise in every frame
            pixels = to_srgb(linear + g.normal(0, 1, linear.shape) * np.sqrt(linear * 2e-5 + 1e-7))
        frames.append((jpeg(_image(pixels), rng.randint(85, 95)), defect))
    order = list(range(count))
    rng.shuffle(order)
    return [frames[k] for k in order]


# --- the shifted generator (benchmarks/eval_culling.py's first) -----------------------------------------

SHIFTED_GEOMETRY = ("shift", "crop", "rotate", "none")
SHIFTED_DEFECTS = ("blur", "motion", "dark", "bright", "noise")


def shifted_geometry(image: Image.Image, kind: str, rng: random.Random) -> Image.Image:
    """A burst's frames all leave the camera at one size, so a changed frame is resized back."""
    w, h = image.size
    if kind == "shift":  # the photographer moved a little: a 94% window at another place
        cw, ch = int(w * 0.94), int(h * 0.94)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        changed = image.crop((x, y, x + cw, y + ch))
    elif kind == "crop":  # zoomed in a little: an 80-90% window
        f = rng.uniform(0.80, 0.90)
        cw, ch = int(w * f), int(h * f)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        changed = image.crop((x, y, x + cw, y + ch))
    elif kind == "rotate":  # a tilted horizon: 2-5 degrees, cropped to hide the corners
        angle = rng.choice([-1, 1]) * rng.uniform(2, 5)
        rotated = image.rotate(angle, resample=Image.Resampling.BICUBIC)
        margin = math.sin(math.radians(abs(angle))) * 1.1
        dx, dy = int(h * margin), int(w * margin)
        changed = rotated.crop((dx, dy, w - dx, h - dy))
    else:
        changed = image.copy()
    return changed if changed.size == image.size else changed.resize(image.size, Image.Resampling.LANCZOS)


def _truncated(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))  # as the first generator always did


def shifted_defect(image: Image.Image, kind: str, rng: random.Random) -> Image.Image:
    long_side = max(image.size)
    if kind == "blur":  # missed focus: Gaussian, 0.4-0.8% of the long side
        return image.filter(ImageFilter.GaussianBlur(long_side * rng.uniform(0.004, 0.008)))
    if kind == "motion":  # camera shake: a horizontal or vertical box blur, 1-2% of the long side
        length = max(3, int(long_side * rng.uniform(0.01, 0.02)) | 1)
        kernel = np.zeros((length, length), np.float32)
        if rng.random() < 0.5:
            kernel[length // 2, :] = 1.0
        else:
            kernel[:, length // 2] = 1.0
        return _truncated(_convolve(np.asarray(image, dtype=np.float32), kernel))
    if kind in ("dark", "bright"):  # 1-2 stops in linear light
        return expose(image, rng.uniform(1.0, 2.0) * (-1 if kind == "dark" else 1))
    if kind == "blown":  # a flash or a wrong setting: brightened 1.6-2.2x in sRGB, skin clipped to white
        return _truncated(np.asarray(image, dtype=np.float32) * rng.uniform(1.6, 2.2))
    if kind == "noise":  # high ISO: Gaussian noise, sigma 10-18 levels
        pixels = np.asarray(image, dtype=np.float32)
        return _truncated(pixels + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(10, 18), pixels.shape))
    raise ValueError(kind)


def shifted(image: Image.Image, count: int, rng: random.Random, defects: tuple[str, ...] = SHIFTED_DEFECTS,
            geometry: tuple[str, ...] = SHIFTED_GEOMETRY, forced: tuple[str, ...] = ()) -> Frames:
    clean_at = rng.randrange(count)
    pending = list(forced)
    frames: Frames = []
    for frame_no in range(count):
        if frame_no == clean_at:
            frames.append((image, None))
            continue
        kind = rng.choice(geometry)
        defect = pending.pop(0) if pending else rng.choice(defects)
        frames.append((shifted_defect(shifted_geometry(image, kind, rng), defect, rng), defect))
    return frames


GENERATORS: dict[str, Callable[..., Frames]] = {"shifted": shifted, "handheld": handheld, "sensor": sensor}
#: what each generator does to a portrait: its own defects, always with an exposure both ways where it has them
PORTRAIT_DEFECTS = {
    "shifted": dict(defects=("blur", "motion", "blown", "dark", "noise"), geometry=("shift", "none"), forced=("blown", "dark")),
    "handheld": dict(defects=("defocus", "motion", "under", "over", "noise")),
    "sensor": dict(defects=("focus", "shake", "exposure", "iso")),
}


# --- writing bursts ------------------------------------------------------------------------------------

@dataclass
class Frame:
    path: Path
    source: str
    clean: bool
    defect: str | None


@dataclass
class Burst:
    source: str
    generator: str
    frames: list[Frame] = field(default_factory=list)
    with_exif: bool = True


def load_source(path: Path, long_side: int = 1024) -> Image.Image:
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        if max(image.size) > long_side:
            image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        return image.copy()


def save_frame(image: Image.Image, path: Path, taken_at: datetime | None, camera: tuple[str, str] | None, quality: int = 92) -> None:
    """JPEG, with EXIF DateTimeOriginal + SubSecTimeOriginal + Make/Model when *taken_at* is given."""
    if taken_at is None:
        image.save(path, "JPEG", quality=quality)
        return
    exif = Image.Exif()
    make, model = camera or ("Synthetic", "Burst Cam")
    exif[0x010F] = make
    exif[0x0110] = model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9291] = f"{taken_at.microsecond // 1000:03d}"
    image.save(path, "JPEG", quality=quality, exif=exif)


def write_bursts(generator: str, sources: list[Path], out_dir: Path, rng: random.Random, frames: tuple[int, int] = (3, 6),
                 portrait: bool = False, exif_share: float = 0.5, prefix: str = "", start: datetime = datetime(2024, 6, 1, 9),
                 reuse: bool = False) -> list[Burst]:
    """One burst per source photo from *generator* (a key of :data:`GENERATORS`), saved as JPEGs in *out_dir*;
    half of the bursts (*exif_share*) carry capture times 0.35 s apart. *reuse*: a frame already on disk is
    not written again (the same seed makes the same frames), so its score stays in the catalog."""
    out_dir.mkdir(parents=True, exist_ok=True)
    make = GENERATORS[generator]
    options = PORTRAIT_DEFECTS[generator] if portrait else {}
    bursts = []
    for index, source in enumerate(sources):
        image = load_source(source)
        with_exif = rng.random() < exif_share
        burst = Burst(source.name, generator, with_exif=with_exif)
        base = start + timedelta(minutes=7 * index)
        for frame_no, (frame, defect) in enumerate(make(image, rng.randint(*frames), rng, **options)):
            path = out_dir / f"{prefix}{generator[:2]}{index:03d}_{frame_no}_{defect or 'clean'}.jpg"
            taken_at = base + timedelta(seconds=0.35 * frame_no) if with_exif else None
            if not (reuse and path.is_file()):
                save_frame(frame, path, taken_at, ("Synthetic", f"Burst Cam {index % 3}"))
            burst.frames.append(Frame(path, source.name, defect is None, defect))
        bursts.append(burst)
    return bursts


__all__ = ["GENERATORS", "NOISE_KINDS", "Burst", "Frame", "add_noise", "handheld", "sensor", "shifted", "write_bursts"]
