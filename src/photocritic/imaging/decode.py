"""Open any photo as oriented sRGB pixels at the size the model needs, and no larger.

Decoding is the real cost of scoring a library, so JPEGs are decoded with Pillow's draft
mode (libjpeg's DCT scaling: a 20 MP file is decoded straight to 1/4 size) and
camera RAW files through the JPEG preview embedded in them. Everything that can go wrong
with a file becomes a one-line :class:`PhotoError`.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import re
import stat
import struct
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from photocritic.imaging.errors import PhotoError
from photocritic.imaging.exif import read_capture_info
from photocritic.imaging.png_chunks import without_oversized_chunks

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

#: Memory budget for decoded rasters, bytes (``PHOTOCRITIC_MAX_DECODE_MB``, default 1024 MiB). A photo
#: whose raster (width x height x the bytes per pixel Pillow holds for its mode, after JPEG draft
#: scaling) would exceed it is refused before any pixel is decoded; and photos decode at the same
#: time, in one process, only while their rasters fit in it together (:data:`DECODE_BUDGET`).
#: Everything after the raster works on a copy reduced to about twice the working size.
MAX_DECODE_BYTES = int(float(os.environ.get("PHOTOCRITIC_MAX_DECODE_MB", 1024)) * 2**20)

#: Rasters larger than this are reduced before colour conversion (smaller ones keep the exact
#: pixels of earlier versions).
PRE_REDUCE_BYTES = 64 * 2**20

# Pillow's own bomb check must never be looser than ours; ours runs first, and a refusal by Pillow's
# is reworded to cite our limit (_bomb_message).
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

# bytes per pixel of Pillow's raster by mode (its storage, not the file's bit depth)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


class DecodeBudget:
    """A counting semaphore on estimated raster bytes: decodes wait while the rasters being decoded
    would together pass the budget. One photo larger than the whole budget (never admitted by the
    per-photo check, but a caller may raise it) runs alone."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.used = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def hold(self, nbytes: int):
        nbytes = min(max(0, nbytes), self.capacity)
        with self._cond:
            while self.used and self.used + nbytes > self.capacity:
                self._cond.wait()
            self.used += nbytes
        try:
            yield
        finally:
            with self._cond:
                self.used -= nbytes
                self._cond.notify_all()


#: Shared by every decode in this process: CLI decode threads and web requests alike.
DECODE_BUDGET = DecodeBudget(MAX_DECODE_BYTES)


def raster_bytes(image: Image.Image) -> int:
    """What Pillow will allocate to hold *image*'s pixels."""
    return image.width * image.height * _BYTES_PER_PIXEL.get(image.mode, 4)

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
    given=None,
) -> DecodedPhoto:
    """Decode *path* to oriented sRGB with its long side at most *long_side* pixels.

    *draft_headroom* (see :data:`DRAFT_HEADROOM`): 1 decodes JPEGs straight to the requested size,
    faster, for pixels that no measure reads (thumbnails, face and feature detection).
    *keep_drafted*: also return the pixels before the final resize (:attr:`DecodedPhoto.drafted`).
    *given*: the photo already opened (and checked) by the caller, a binary file with a descriptor:
    it is decoded from that open file and never reopened by name; *path* then only names it (its
    extension picks the RAW decoder).

    Raises :class:`PhotoError` with a one-line reason for anything unreadable.
    """
    path = Path(path)
    try:
        with open_regular(path) if given is None else contextlib.nullcontext(given) as stream:
            if path.suffix.lower() in RAW_EXTENSIONS:
                return _decode_raw(path, long_side, max_pixels, draft_headroom, keep_drafted, given)
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                # a PNG's text or ICC chunk too large for Pillow is dropped, not the photo
                with Image.open(without_oversized_chunks(stream)) as image:
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
        raise PhotoError(_bomb_message(exc, max_pixels)) from None
    except MemoryError:
        raise PhotoError("not enough memory to decode this image") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error) as exc:
        raise PhotoError(f"corrupt or truncated image data: {_reason(exc)}") from None


@contextlib.contextmanager
def open_regular(path: Path):
    """The file, opened only if it is a regular file: O_NONBLOCK makes opening a FIFO return at
    once (instead of waiting for a writer), and fstat on the opened descriptor, not the name,
    decides (no race with a rename). An empty file is refused with its own reason."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise PhotoError("is a folder, not a photo")
        if not stat.S_ISREG(info.st_mode):
            raise PhotoError("not a regular file (a FIFO, device or socket): not read")
        if info.st_size == 0:
            raise PhotoError("empty file (0 bytes)")
        os.set_blocking(fd, True)
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with stream:
        yield stream


def _bomb_message(exc: BaseException, max_pixels: int) -> str:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "its size"
    return (
        f"refused: {size} is over the {max_pixels / 1e6:.0f} MP limit "
        "(a possible decompression bomb; set PHOTOCRITIC_MAX_PIXELS to raise the limit)"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if re.fullmatch(r"b'[^']*'", text):  # LibRaw's messages arrive as bytes' repr
        text = text[2:-1]
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
    if getattr(image, "is_animated", False):
        image.seek(0)  # GIF/TIFF/HEIF sequences: the first frame is the photo (is_animated reads two frames at most)
    needed = raster_bytes(image)
    if needed > MAX_DECODE_BYTES:
        raise PhotoError(
            f"refused: decoding {image.width}x{image.height} ({image.mode}) needs about {needed / 2**20:.0f} MiB, "
            f"over the {MAX_DECODE_BYTES / 2**20:.0f} MiB decode budget (set PHOTOCRITIC_MAX_DECODE_MB to raise it)"
        )
    with DECODE_BUDGET.hold(needed):
        image.load()
        # a large raster is shrunk first, in its own mode (as the final resize's reducing gap would),
        # so colour conversion and orientation never copy it at full size
        factor = int(max(image.size) // (long_side * max(1.0, draft_headroom)))
        if factor >= 2 and needed > PRE_REDUCE_BYTES:
            image = _reduced(image, factor)
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


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    info = image.info
    if image.mode in ("1", "P"):  # palette indices must not be averaged
        reduced = image.resize((max(1, image.width // factor), max(1, image.height // factor)), Image.Resampling.NEAREST)
    elif image.mode.startswith("I;16"):  # Image.reduce refuses these modes; BOX is the same average
        reduced = image.resize((max(1, image.width // factor), max(1, image.height // factor)), Image.Resampling.BOX)
    else:
        reduced = image.reduce(factor)
    reduced.info = info  # keeps the ICC profile and EXIF
    return reduced


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
    # an RGB image is returned as it is: convert() would copy the whole raster for nothing (~5 ms a photo)
    return image if image.mode == "RGB" else image.convert("RGB")


def _decode_raw(
    path: Path, long_side: int, max_pixels: int, draft_headroom: float = DRAFT_HEADROOM, keep_drafted: bool = False, given=None
) -> DecodedPhoto:
    import rawpy

    try:
        # by name, not the open stream: rawpy would read a file object whole into memory (a hostile
        # multi-GB ".cr2"), while LibRaw reads a path as it needs; open_regular has checked the entry.
        # A file the caller opened is named by its descriptor (/proc/self/fd/N: that open file, not the name again)
        with rawpy.imread(os.fspath(path) if given is None else _descriptor_name(given)) as raw:
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
    if given is not None:
        given.seek(0)
    taken_at, camera = _raw_capture_info(path if given is None else given)
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


def _descriptor_name(stream) -> str | object:
    """A name that opens the very file *stream* has open (never its path again); the stream itself
    where the system has no such names (rawpy then reads it into memory)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(folder):
            return f"{folder}/{stream.fileno()}"
    return stream


def _raw_capture_info(path) -> tuple[str | None, str | None]:
    """Most RAW formats are TIFF containers whose EXIF Pillow can read without decoding pixels."""
    try:
        with Image.open(path) as container:
            return read_capture_info(container)
    except Exception:
        return None, None


def open_for_display(path: str | os.PathLike, long_side: int, given=None) -> Image.Image:
    """An oriented sRGB PIL image for thumbnails and contact sheets (*given*: as in :func:`decode_for_model`)."""
    decoded = decode_for_model(path, long_side=long_side, draft_headroom=1.0, given=given)
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
