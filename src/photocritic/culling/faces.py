"""Faces and open eyes, with the Haar cascades that ship inside OpenCV (``cv2.data.haarcascades``).

Why Haar cascades: they come with the ``opencv-python-headless`` wheel (no model download, nothing
to host, works offline), run in a few milliseconds per photo on a CPU, and the eye cascade was
trained on *open* eyes, which is exactly the signal culling needs: a frontal face in which no eye
is found, when the same face had eyes in another frame of the burst, is a blink. They miss
profiles and small faces and sometimes fire on textures, so culling uses them only *relatively*,
inside one group of near-identical frames, never to judge a photo on its own.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

#: Long side of the image faces are searched in (the working image for the model is too small).
FACE_LONG_SIDE = 1024


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in the FACE_LONG_SIDE image
    eyes: int  # open eyes found (0, 1 or 2)
    eye_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # in the image's coordinates
    centre: tuple[float, float] = (0.0, 0.0)  # face centre as a share of the image's width and height


@dataclass
class FaceReport:
    faces: list[Face] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.faces)

    @property
    def open_eyes(self) -> int:
        return sum(min(f.eyes, 2) for f in self.faces)

    @property
    def closed(self) -> int:
        """Faces in which no open eye was found (Haar faces without eyes are often not faces at all)."""
        return sum(1 for f in self.faces if f.eyes == 0)


def blinks(report: FaceReport, reference: FaceReport, tolerance: float = 0.08) -> int:
    """Faces with open eyes in *reference* whose counterpart (a face at about the same place) in
    *report* shows none: blinks. Faces found in only one frame are not counted either way, which
    keeps the cascade's false faces (textures, never with eyes) from inventing closed eyes."""
    count = 0
    for face in reference.faces:
        if face.eyes == 0:
            continue
        for other in report.faces:
            if abs(other.centre[0] - face.centre[0]) <= tolerance and abs(other.centre[1] - face.centre[1]) <= tolerance:
                count += other.eyes == 0
                break
    return count


_local = threading.local()  # a classifier is not shared between threads
_import_lock = threading.Lock()


def _cascades():
    cached = getattr(_local, "cascades", None)
    if cached is not None:
        return cached
    with _import_lock:  # cv2's lazy sub-modules are not safe to import from two threads at once
        import cv2
        from cv2 import data as cv2_data

        root = cv2_data.haarcascades
        face = cv2.CascadeClassifier(os.path.join(root, "haarcascade_frontalface_default.xml"))
        eye = cv2.CascadeClassifier(os.path.join(root, "haarcascade_eye_tree_eyeglasses.xml"))
    if face.empty() or eye.empty():  # pragma: no cover - a broken OpenCV install
        raise RuntimeError(f"OpenCV's Haar cascades are missing from {root}")
    _local.cascades = (face, eye)
    return _local.cascades


def detect_faces(pixels: np.ndarray, min_face: float = 0.06) -> FaceReport:
    """Frontal faces at least *min_face* of the short side, each with its count of open eyes."""
    face_cascade, eye_cascade = _cascades()
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    grey = cv2.equalizeHist(grey)
    side = max(24, int(min(grey.shape) * min_face))
    found = face_cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=6, minSize=(side, side))
    report = FaceReport()
    for x, y, w, h in (found if len(found) else []):
        # eyes sit in the upper part of the face box
        roi = grey[y + int(h * 0.15) : y + int(h * 0.6), x : x + w]
        eye_side = max(8, int(w * 0.12))
        top = y + int(h * 0.15)
        eyes = eye_cascade.detectMultiScale(roi, scaleFactor=1.05, minNeighbors=4, minSize=(eye_side, eye_side), maxSize=(int(w * 0.45), int(w * 0.45)))
        boxes = [(int(x + ex), int(top + ey), int(ew), int(eh)) for ex, ey, ew, eh in (eyes if len(eyes) else [])]
        centre = ((x + w / 2) / grey.shape[1], (y + h / 2) / grey.shape[0])
        report.faces.append(Face((int(x), int(y), int(w), int(h)), eyes=min(2, len(boxes)), eye_boxes=boxes, centre=centre))
    return report


def noise_sigma(pixels: np.ndarray) -> float:
    """Grain in 8-bit levels (of the frame scaled to mean 128): median |finest Haar detail| / 0.6745 (Donoho).

    The median ignores the few large coefficients that edges and texture make, so unlike the
    Laplacian's variance this does not mistake detail for grain (and grain for detail).
    """
    luma = pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    luma = luma * (128.0 / max(float(luma.mean()), 1.0))  # in levels of a frame of mean 128: exposure-free
    h, w = (luma.shape[0] // 2) * 2, (luma.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    q = luma[:h, :w]
    diagonal = (q[0::2, 0::2] - q[0::2, 1::2] - q[1::2, 0::2] + q[1::2, 1::2]) / 2.0
    return float(np.median(np.abs(diagonal)) / 0.6745)


def directional_sharpness(pixels: np.ndarray, cells: int = 4) -> float:
    """log10 of the weaker of the horizontal and vertical gradient energies, in the sharpest grid cell.

    Camera shake smears one direction and leaves the other crisp, which fools the Laplacian's
    variance; taking the weaker direction catches it. The sharpest cell stands for the subject.
    Luminance is divided by its mean first, so a brighter copy of a frame is not "sharper".
    """
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


@dataclass
class FrameReport:
    """What culling measures on a larger decode of each photo in a group of look-alikes."""

    faces: FaceReport
    noise: float
    sharpness: float = 0.0  # directional_sharpness


def inspect_file(path: str | os.PathLike, find_faces: bool = True) -> FrameReport | None:
    """Faces (with open eyes) and grain of a photo decoded at :data:`FACE_LONG_SIDE`; None if unreadable."""
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        decoded = decode_for_model(path, long_side=FACE_LONG_SIDE, draft_headroom=1.0)
    except PhotoError:
        return None
    faces = detect_faces(decoded.pixels) if find_faces else FaceReport()
    return FrameReport(faces, noise_sigma(decoded.pixels), directional_sharpness(decoded.pixels))


__all__ = ["FACE_LONG_SIDE", "Face", "FaceReport", "FrameReport", "blinks", "detect_faces", "directional_sharpness", "inspect_file", "noise_sigma"]
