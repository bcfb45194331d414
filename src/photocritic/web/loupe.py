"""The loupe: a 100% crop of a photo, where a photographer would look first.

That is the largest face, if a frontal face is found (is it sharp, are the eyes open?), else the
sharpest region (did the focus land?). The crop is cut from the photo decoded at full resolution,
so one screen pixel is one photo pixel.
"""
from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photocritic.imaging import decode_for_model

FACE_LONG_SIDE = 1024  # faces are looked for on a smaller copy, as culling does


@dataclass
class LoupeCrop:
    jpeg: bytes
    focus: str  # "face" or "sharpest region"
    scale: float  # photo pixels per crop pixel: 1.0 is a true 100% view
    x: int  # the crop's left and top in the full photo
    y: int


def sharpest_point(grey: np.ndarray, cells: int = 8) -> tuple[float, float]:
    """The centre of the cell with the most fine detail (variance of the Laplacian), as shares of width and height."""
    g = grey.astype(np.float32)
    lap = np.abs(4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:])
    h, w = lap.shape
    best, where = -1.0, (0.5, 0.5)
    for r in range(cells):
        for c in range(cells):
            tile = lap[r * h // cells : (r + 1) * h // cells, c * w // cells : (c + 1) * w // cells]
            if tile.size and float(tile.var()) > best:
                best, where = float(tile.var()), ((c + 0.5) / cells, (r + 0.5) / cells)
    return where


def loupe_crop(path, width: int = 720, height: int = 540, faces: bool = True, given=None) -> LoupeCrop:
    """A ``width`` x ``height`` JPEG at 100%, centred on the largest face or the sharpest region
    (*given*: the photo already opened, as in :func:`decode_for_model`)."""
    # the decoder's pixel limit still holds
    full = decode_for_model(path, long_side=1 << 16, draft_headroom=1.0, given=given)
    pixels = full.pixels
    H, W = pixels.shape[:2]
    small = np.asarray(Image.fromarray(pixels).reduce(max(1, max(H, W) // FACE_LONG_SIDE)))
    focus, centre = "sharpest region", None
    if faces:
        from photocritic.culling.faces import detect_faces

        report = detect_faces(small)
        if report.faces:
            biggest = max(report.faces, key=lambda f: f.box[2] * f.box[3])
            focus, centre = "face", biggest.centre
    if centre is None:
        grey = small.mean(axis=2) if small.ndim == 3 else small
        centre = sharpest_point(grey)
    w, h = min(width, W), min(height, H)
    x = int(np.clip(centre[0] * W - w / 2, 0, W - w))
    y = int(np.clip(centre[1] * H - h / 2, 0, H - h))
    out = io.BytesIO()
    Image.fromarray(pixels[y : y + h, x : x + w]).save(out, "JPEG", quality=90)
    scale = max(full.width, full.height) / max(W, H) if full.width else 1.0
    return LoupeCrop(out.getvalue(), focus, round(scale, 3), x, y)


_CACHE: OrderedDict[tuple, LoupeCrop] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def cached_loupe(root, path, width: int = 720, height: int = 540) -> LoupeCrop:
    """:func:`loupe_crop` of a photo of the library at *root*, remembered for the last photos viewed
    (review goes back and forth). The photo is opened once, checked on its descriptor
    (:func:`open_inside`) and decoded from that open file: a photo swapped for a link out of the
    library is refused (:class:`OutsideRoot`), never cropped."""
    from photocritic.web.library import open_inside

    with open_inside(Path(root), path) as stream:
        info = os.fstat(stream.fileno())
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, width, height)
        with _CACHE_LOCK:
            crop = _CACHE.get(key)
            if crop is not None:
                _CACHE.move_to_end(key)
                return crop
        crop = loupe_crop(path, width, height, given=stream)
    with _CACHE_LOCK:
        _CACHE[key] = crop
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return crop
