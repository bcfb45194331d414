"""Open any photo as oriented sRGB pixels at the size the model needs, and no larger.

Decoding is the real cost of scoring a library, so JPEGs are decoded with Pillow's draft
mode (libjpeg's DCT scaling: a 20 MP file is decoded straight to 1/4 size) and
camera RAW files through the JPEG preview embedded in them. Everything that can go wrong
with a file becomes a one-line :class:`PhotoError`.
"""
from __future__ import annotations

import io
import math
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from photocritic.imaging.errors import PhotoError
from photocritic.imaging.exif import read_capture_info

try:  # HEIC/HEIF/AVIF from phones; optional at import so a broken wheel costs only those files
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except Exception:  # pragma: no cover - depends on the platform's wheel
    HEIF_AVAILABLE = False

#: Long side of the pixels handed to the model and the technical measures.
WORKING_LONG_SIDE = 512
#: JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8) that keeps at least this many times the
#: requested size, so the final resize always averages two or more source pixels per output pixel. With no
#: headroom the working pixels depended on the file's resolution: a 1280 px file (drafted to 640, resized
#: 1.25x) and its 0.75x resize (960 px, resized 1.9x) differed in sharpness by 0.08 log10 units at the
#: median, half what a 2-degree rotation changes; with it, 0.013, for 10-14 ms more per decode of a 1-3 MP
#: JPEG (benchmarks/bench_decode.py).
DRAFT_HEADROOM = 2.0
#: Raised whenever the working pixels of a photo change, so features stored from older pixels are refreshed.
PIXELS_VERSION = 2
#: Largest photo we agree to decode (pixels). 200 MP is above every production camera.
DEFAULT_MAX_PIXELS = int(os.environ.get("PHOTOCRITIC_MAX_PIXELS", 200_000_000))
#: Longest side we accept, whatever the area (a 1 x 10,000,000 strip is not a photo).
MAX_SIDE = 65_535

# Pillow's own bomb check must never be looser than ours; ours runs first with a clearer message.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

RAW_EXTENSIONS = frozenset(
    ".3fr .ari .arw .cr2 .cr3 .crw .dcr .dng .erf .iiq .k25 .kdc .mef .mos .mrw .nef .nrw .orf .pef "
    ".raf .raw .rw2 .rwl .sr2 .srf .srw .x3f".split()
)
RASTER_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .webp .tif .tiff .bmp .dib .gif .heic .heif .hif .avif".split()
)
PHOTO_EXTENSIONS = RAW_EXTENSIONS | RASTER_EXTENSIONS

_SRGB = ImageCms.createProfile("sRGB")
# LibRaw's flip code -> the EXIF orientation that undoes it
_RAW_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


@dataclass
class DecodedPhoto:
    """A photo ready for the model: oriented sRGB pixels, long side at most the working size."""

    pixels: np.ndarray  # uint8, H x W x 3, sRGB
    width: int  # of the original photo, after EXIF orientation
    height: int
    format: str
    taken_at: str | None
    camera: str | None
    #: with ``keep_drafted``: the oriented sRGB pixels as decoded (DCT-scaled, before the resize to the
    #: working size), for a network that wants its own resize (nima-ava squashes with nearest neighbours)
    drafted: np.ndarray | None = None


def decode_for_model(
    path: str | os.PathLike,
    long_side: int = WORKING_LONG_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft_headroom: float = DRAFT_HEADROOM,
    keep_drafted: bool = False,
) -> DecodedPhoto:
    """Decode *path* to oriented sRGB with its long side at most *long_side* pixels.

    *draft_headroom* (see :data:`DRAFT_HEADROOM`): 1 decodes JPEGs straight to the requested size,
    faster, for pixels that no measure reads (thumbnails, face and feature detection).
    *keep_drafted*: also return the pixels before the final resize (:attr:`DecodedPhoto.drafted`).

    Raises :class:`PhotoError` with a one-line reason for anything unreadable.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in RAW_EXTENSIONS:
            return _decode_raw(path, long_side, max_pixels, draft_headroom, keep_drafted)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _decode_opened(image, long_side, max_pixels, draft_headroom=draft_headroom, keep_drafted=keep_drafted)
    except PhotoError:
        raise
    except FileNotFoundError:
        raise PhotoError("file not found") from None
    except IsADirectoryError:
        raise PhotoError("is a folder, not a photo") from None
    except PermissionError:
        raise PhotoError("permission denied") from None
    except UnidentifiedImageError:
        raise PhotoError("not a recognised image format (or the header is corrupt)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(f"refused as a possible decompression bomb: {exc}") from None
    except MemoryError:
        raise PhotoError("not enough memory to decode this image") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error) as exc:
        raise PhotoError(f"corrupt or truncated image data: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise PhotoError(f"image has no pixels ({width}x{height})")
    if max(width, height) > MAX_SIDE:
        raise PhotoError(f"refused: {width}x{height} has a side longer than {MAX_SIDE} pixels")
    if width * height > max_pixels:
        raise PhotoError(
            f"refused: {width}x{height} is {width * height / 1e6:.0f} MP, over the {max_pixels / 1e6:.0f} MP limit "
            "(set PHOTOCRITIC_MAX_PIXELS to raise it)"
        )


def _decode_opened(
    image: Image.Image, long_side: int, max_pixels: int, orientation_fallback: int = 1, draft_headroom: float = DRAFT_HEADROOM,
    keep_drafted: bool = False,
) -> DecodedPhoto:
    fmt = image.format or "unknown"
    _check_dimensions(image.width, image.height, max_pixels)
    original_size = image.size
    taken_at, camera = read_capture_info(image)
    if fmt == "JPEG":
        scale = long_side * max(1.0, draft_headroom) / max(image.size)
        if scale < 1:
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below the requested size
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # GIF/TIFF/HEIF sequences: the first frame is the photo
    image.load()
    orientation = image.getexif().get(0x0112, orientation_fallback) if hasattr(image, "getexif") else 1
    if orientation == 1 and orientation_fallback != 1:
        orientation = orientation_fallback
    rgb = _to_srgb(image)
    rgb = _apply_orientation(rgb, orientation)
    original_w, original_h = _oriented_size(original_size, orientation)
    drafted = np.asarray(rgb, dtype=np.uint8) if keep_drafted else None
    if max(rgb.size) > long_side:
        factor = long_side / max(rgb.size)
        target = (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor)))
        rgb = rgb.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(rgb, dtype=np.uint8)
    return DecodedPhoto(pixels, original_w, original_h, fmt, taken_at, camera, drafted)


def _oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def _apply_orientation(image: Image.Image, orientation: object) -> Image.Image:
    for step in _TRANSPOSE.get(orientation if isinstance(orientation, int) else 1, []):
        image = image.transpose(step)
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Any mode, any embedded ICC profile -> 8-bit sRGB."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        image = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK", "L", "RGBA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile is common; the pixels are still worth scoring
    return image.convert("RGB")


def _decode_raw(path: Path, long_side: int, max_pixels: int, draft_headroom: float = DRAFT_HEADROOM, keep_drafted: bool = False) -> DecodedPhoto:
    import rawpy

    try:
        with rawpy.imread(str(path)) as raw:
            flip = raw.sizes.flip
            try:
                thumb = raw.extract_thumb()
            except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
                raise PhotoError(
                    "this RAW file has no embedded preview photocritic can read; export a JPEG or TIFF to score it"
                ) from None
    except PhotoError:
        raise
    except rawpy.LibRawFileUnsupportedError:
        raise PhotoError("not a RAW format LibRaw can read") from None
    except (rawpy.LibRawError, OSError) as exc:
        raise PhotoError(f"unreadable RAW file: {_reason(exc)}") from None
    taken_at, camera = _raw_capture_info(path)
    orientation = _RAW_FLIP_TO_ORIENTATION.get(flip, 1)
    if thumb.format == rawpy.ThumbFormat.JPEG:
        with Image.open(io.BytesIO(thumb.data)) as preview:
            decoded = _decode_opened(preview, long_side, max_pixels, orientation, draft_headroom, keep_drafted)
    else:
        decoded = _decode_opened(Image.fromarray(thumb.data), long_side, max_pixels, orientation, draft_headroom, keep_drafted)
    decoded.format = "RAW"
    decoded.taken_at = decoded.taken_at or taken_at
    decoded.camera = decoded.camera or camera
    return decoded


def _raw_capture_info(path: Path) -> tuple[str | None, str | None]:
    """Most RAW formats are TIFF containers whose EXIF Pillow can read without decoding pixels."""
    try:
        with Image.open(path) as container:
            return read_capture_info(container)
    except Exception:
        return None, None


def open_for_display(path: str | os.PathLike, long_side: int) -> Image.Image:
    """An oriented sRGB PIL image for thumbnails and contact sheets."""
    decoded = decode_for_model(path, long_side=long_side, draft_headroom=1.0)
    return Image.fromarray(decoded.pixels)


__all__ = [
    "DecodedPhoto",
    "PhotoError",
    "decode_for_model",
    "open_for_display",
    "PHOTO_EXTENSIONS",
    "RAW_EXTENSIONS",
    "WORKING_LONG_SIDE",
    "HEIF_AVAILABLE",
]
