"""Faces, eyes and the face's own sharpness and exposure, with MediaPipe's BlazeFace and Face Mesh.

Both networks come from the ``mediapipe==0.10.14`` wheel (Apache-2.0), converted to ONNX by
``scripts/convert_mediapipe_faces.py`` and run through ONNX Runtime (:mod:`photocritic.engine`):

1. **BlazeFace (short range)**, 128x128 input: boxes and six keypoints (eyes, nose, mouth, ears).
   It is trained for faces that fill a good part of the frame, so it runs on the whole (letterboxed)
   photo and, in one batch, on overlapping tiles of it, which finds faces down to ~1/12 of the short side;
   anchors, decoding and weighted non-maximum suppression are MediaPipe's, in numpy.
2. **Face Mesh**, 192x192 input: 468 landmarks on a crop around each face, rotated so the eyes are
   level (as MediaPipe crops it), and a face-presence score that rejects BlazeFace's false faces.

Per face: the eye aspect ratio of each eye from its eyelid landmarks (:func:`eye_aspect_ratio`), the
gradient sharpness of the face, the share of skin blown to white or crushed to black and its median
brightness, its size and position. An eye state is claimed only with landmark evidence: a face too
small or turned too far for the eyelids to be measured has ``eyes_closed = None`` (unknown).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from photocritic.culling.frames import BLOCK, cell_stats, clip_maps, detail, directional_sharpness, noise_sigma, prepared, region_exposure, salient_cells, smooth_rgb, tilt, tonal_entropy

#: Long side of the image faces are searched in (the working image for the model is too small).
FACE_LONG_SIDE = 1024

#: Eye aspect ratio (mean of both eyes) below which a face's eyes are closed. Chosen on the tuning half
#: of ../shared/data/faces (benchmarks/eval_faces.py); see docs/culling.md for the held-out figures.
EAR_CLOSED = 0.20

#: Face Mesh's own eye aspect ratio (mean of both eyes) above which the eyes are open without asking the
#: eyelid model (it saves that model's 6-7 ms per face). Highest seen on a closed-eyed face of the tuning
#: half: 0.26. The mesh alone is too coarse to say "closed" (closed eyes measure up to 0.26, open down to 0.17).
MESH_OPEN = 0.30

#: Eyes are measured on at most this many faces per photo, the largest first (the people a burst is about).
MAX_EYE_FACES = 4

#: A face this share of the short side found on the whole frame makes the tiles unnecessary.
BIG_FACE = 0.25

#: A face this many decades of gradient energy less sharp than the same face in another frame of the
#: group says nothing about its eyes (blinks): shaken copies on the tuning seeds measured 0.7-1.1 decades
#: below the untouched face (and were called closed); grain raises a sharp face's measure by up to ~0.45.
SMEARED = 0.6

#: Faces whose box is smaller than this (pixels, in the FACE_LONG_SIDE image) get no eye state.
MIN_EYE_FACE = 40

DETECTOR = "blazeface-short-range.onnx"
LANDMARKS = "face-landmark-468.onnx"
EYELIDS = "iris-landmark.onnx"

# the mesh's own eyelid points: corners, then (upper, lower) pairs
_MESH_EYES = ((33, 133, ((160, 144), (159, 145), (158, 153))), (362, 263, ((385, 380), (386, 374), (387, 373))))
# eye corners in the 468-point mesh (outer, inner): where the eyelid model's crop is taken
_RIGHT_EYE_CORNERS = (33, 133)
_LEFT_EYE_CORNERS = (263, 362)  # outer first: the crop is mirrored to look like a right eye
# the eyelid model's 71 points start with the lower lid (0 corner .. 8 corner) and the upper lid
# (9 .. 15, between the corners); (lower, upper) pairs at the same place across the eye:
_LID_PAIRS = ((2, 11), (3, 12), (4, 13), (5, 14))
# cheeks, forehead and nose: the skin whose brightness is the face's exposure
_SKIN = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 50, 280, 101, 330, 205, 425, 117, 346, 118, 347, 108, 337, 69, 299)


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in the FACE_LONG_SIDE image
    score: float = 0.0  # detector confidence
    centre: tuple[float, float] = (0.0, 0.0)  # face centre as a share of the image's width and height
    size: float = 0.0  # box width as a share of the image's short side
    ear: tuple[float, float] | None = None  # eye aspect ratio of the right and left eye; None: not measured
    eyes_closed: bool | None = None  # None: no landmark evidence (small, turned away, mesh not confident)
    sharpness: float = 0.0  # directional_sharpness of the face box
    skin_level: float = 0.0  # median luminance (0-255) of the skin landmarks' neighbourhood
    blown: float = 0.0  # share of the face box at the white point (any channel >= 250)
    crushed: float = 0.0  # share of the face box at the black point (luminance <= 6)
    landmarks: np.ndarray | None = field(default=None, repr=False)  # 468 x 2 in image pixels


@dataclass
class FaceReport:
    faces: list[Face] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.faces)

    @property
    def closed(self) -> int:
        """Faces whose eyes the landmarks show closed."""
        return sum(1 for f in self.faces if f.eyes_closed)

    @property
    def open_eyes(self) -> int:
        """Faces whose eyes the landmarks show open."""
        return sum(1 for f in self.faces if f.eyes_closed is False)


def _match(face: Face, others: list[Face], tolerance: float) -> Face | None:
    best, best_d = None, tolerance
    for other in others:
        d = max(abs(other.centre[0] - face.centre[0]), abs(other.centre[1] - face.centre[1]))
        if d <= best_d:
            best, best_d = other, d
    return best


def blinks(report: FaceReport, reference: FaceReport, tolerance: float = 0.08, group: list[FaceReport] | None = None, smeared: float = SMEARED) -> int:
    """Faces of *report* whose eyes the landmarks show closed while the same face (at about the same
    place) has open eyes in *reference*. Without a counterpart the face still counts when its eyes
    are measured closed: that is landmark evidence on its own.

    *group*: the reports of all frames of the group (this one included). A face more than *smeared*
    decades less sharp than the same face's sharpest frame there is no evidence: shake or missed focus
    smears the eyelids together (the frame loses on sharpness anyway). Nor is a face whose eyes are
    closed in more frames of the group than they are open: a blink is the moment in a burst, and eyes
    closed throughout (a sleeping baby, a downcast look) are no reason to prefer one frame; the odd
    "open" among them is a defect fooling the eyelid model (grain was seen to)."""
    count = 0
    for face in report.faces:
        if not face.eyes_closed:
            continue
        if group:
            same = [m for m in (_match(face, other.faces, tolerance) for other in group) if m is not None]
            if same and face.sharpness < max(m.sharpness for m in same) - smeared:
                continue
            if sum(m.eyes_closed is True for m in same) > sum(m.eyes_closed is False for m in same):
                continue
        other = _match(face, reference.faces, tolerance)
        count += other is None or other.eyes_closed is not True
    return count


def eye_aspect_ratio(contour: np.ndarray) -> float:
    """Mean eyelid gap over the eye's width (Soukupova & Cech 2016) from the eyelid model's contour
    (its first 16 points): ~0.3 open, under ~0.2 closed."""
    width = float(np.linalg.norm(contour[0] - contour[8]))
    if width <= 1e-6:
        return 0.0
    return float(np.mean([np.linalg.norm(contour[u] - contour[v]) for u, v in _LID_PAIRS]) / width)


def _eye_crop(pixels: np.ndarray, outer: np.ndarray, inner: np.ndarray, mirror: bool) -> np.ndarray:
    """MediaPipe's eye crop: a square 2.3x the corner-to-corner width, eye level, 64x64."""
    from photocritic.imaging.resample import warp_affine

    centre = (outer + inner) / 2
    width = max(float(np.linalg.norm(inner - outer)), 1e-6)
    angle = math.atan2(inner[1] - outer[1], inner[0] - outer[0]) if not mirror else math.atan2(outer[1] - inner[1], outer[0] - inner[0])
    scale = 64.0 / (2.3 * width)
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[c * scale, s * scale, 0.0], [-s * scale, c * scale, 0.0]])
    m[:, 2] = np.array([32.0, 32.0]) - m[:, :2] @ centre
    crop = warp_affine(pixels, m, (64, 64))
    return np.ascontiguousarray(crop[:, ::-1]) if mirror else crop


# ---- BlazeFace ---------------------------------------------------------------------------------


def _anchors() -> np.ndarray:
    """MediaPipe's SSD anchors for the short-range model: 2 per cell at stride 8, 6 per cell at 16."""
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = 128 // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


_ANCHORS = _anchors()


def _decode(raw: np.ndarray, logits: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (x0, y0, x1, y1), keypoints (6 x 2) and scores in [0, 1] of the 128x128 input, above threshold."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -80, 80)))
    keep = scores >= threshold
    raw, anchors = raw[keep] / 128.0, _ANCHORS[keep]
    centre = raw[:, :2] + anchors
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
    return boxes, keypoints, scores[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou: float = 0.3):
    """MediaPipe's weighted suppression: each kept face is the score-weighted mean of its overlaps."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    out = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        overlap = alive & (_iou(boxes[i], boxes) >= iou)
        w = scores[overlap][:, None]
        out.append(((boxes[overlap] * w).sum(0) / w.sum(), (keypoints[overlap] * w[:, :, None]).sum(0) / w.sum(), float(scores[i])))
        alive &= ~overlap
    # a tile sees part of a large face as a small one: drop faces mostly inside a larger kept face
    kept = []
    for face in sorted(out, key=lambda f: -(f[0][2] - f[0][0]) * (f[0][3] - f[0][1])):
        box = face[0]
        if all(_iou_inside(box, other[0]) < 0.5 for other in kept):
            kept.append(face)
    return kept


def _iou_inside(box: np.ndarray, other: np.ndarray) -> float:
    """Share of *box* that lies inside *other*."""
    w = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    h = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    return w * h / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)


def _square_crops(height: int, width: int) -> list[tuple[int, int, int]]:
    """(x, y, side) squares fed to the detector: the whole photo (letterboxed) and, when it is large
    enough, four overlapping tiles of 0.7x its short side at the corners (each face is seen ~1.7x larger
    there). Measured on the tuning half of ../shared/data/faces: the whole photo alone found 30 of 39
    faces, with these tiles 36, with a 3x2 grid 39 but at 8 detector runs instead of 5."""
    crops = [(0, 0, max(height, width))]
    short = min(height, width)
    if short >= 192:
        side = int(math.ceil(short * 0.7))
        crops += [(x, y, side) for y in (0, height - side) for x in (0, width - side)]
    return crops


def detect_faces(pixels: np.ndarray, threshold: float = 0.5, threads: int = 1, smooth: np.ndarray | None = None) -> FaceReport:
    """Faces in an RGB uint8 image, each with eye state, sharpness and exposure of the face itself.

    *smooth*: the image's 5x5 box mean (:func:`photocritic.culling.frames.smooth_rgb`) if already
    computed; the faces' clipping is read from it."""
    from photocritic.engine import graph_path, open_session
    from photocritic.imaging.resample import halve

    pixels = np.ascontiguousarray(pixels[..., :3])
    height, width = pixels.shape[:2]
    if min(height, width) < 16:  # nothing a face could be found in
        return FaceReport()
    # every square of 256 px or more is cut from a half-size copy (2x2 means): one cheap halving of the
    # photo, then area resizes of a quarter of the pixels
    half = halve(pixels) if min(height, width) >= 256 else None
    detector = open_session(graph_path(DETECTOR), threads)
    crops = _square_crops(height, width)
    boxes, points, scores = _detect(detector, pixels, half, crops[:1], threshold)
    # the tiles look for smaller faces; a photo whose whole frame already shows a face of a quarter of
    # its short side or more is about that face, and people far smaller than it do not decide a pick
    big = any(b[2] - b[0] >= BIG_FACE * min(height, width) for b in boxes)
    if len(crops) > 1 and not big:
        more = _detect(detector, pixels, half, crops[1:], threshold)
        boxes, points, scores = np.concatenate([boxes, more[0]]), np.concatenate([points, more[1]]), np.concatenate([scores, more[2]])
    if not len(boxes):
        return FaceReport()
    found = _weighted_nms(boxes, points, scores)
    return FaceReport(_describe(pixels, found, threads, smooth))


def _detect(detector, pixels: np.ndarray, half: np.ndarray | None, crops, threshold: float):
    """BlazeFace on a batch of square crops: boxes, keypoints and scores in the image's pixels."""
    from photocritic.imaging.resample import resize_area

    batch = np.empty((len(crops), 128, 128, 3), np.float32)
    for k, (x, y, side) in enumerate(crops):
        source, f = (half, 2) if half is not None and side >= 256 else (pixels, 1)
        s_side = max(1, side // f)
        tile = np.zeros((s_side, s_side, 3), np.uint8)
        part = source[y // f : y // f + s_side, x // f : x // f + s_side]
        tile[: part.shape[0], : part.shape[1]] = part
        batch[k] = resize_area(tile, (128, 128))
    raw, logits = detector.run(["regressors", "classificators"], {"input": batch / 127.5 - 1.0})
    boxes, points, scores = [], [], []
    for k, (x, y, side) in enumerate(crops):
        b, p, s = _decode(raw[k], logits[k], threshold)
        boxes.append(b * side + [x, y, x, y])
        points.append(p * side + [x, y])
        scores.append(s)
    return np.concatenate(boxes).reshape(-1, 4), np.concatenate(points).reshape(-1, 6, 2), np.concatenate(scores)


def _describe(pixels: np.ndarray, found, threads: int, smooth: np.ndarray | None = None) -> list[Face]:
    from photocritic.engine import graph_path, open_session
    from photocritic.imaging.resample import invert_affine, warp_affine

    height, width = pixels.shape[:2]
    crops, transforms = [], []
    for box, keys, _ in found:
        # MediaPipe's face crop: a square 1.5x the box around its centre, rotated so the eyes are level
        right_eye, left_eye = keys[0], keys[1]
        angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
        centre = (box[:2] + box[2:]) / 2
        side = 1.5 * max(box[2] - box[0], box[3] - box[1])
        c, s = math.cos(angle), math.sin(angle)
        scale = 192.0 / max(side, 1e-6)
        # image -> crop: rotate by -angle about the centre, scale, move the centre to (96, 96)
        m = np.array([[c * scale, s * scale, 0.0], [-s * scale, c * scale, 0.0]], np.float64)
        m[:, 2] = np.array([96.0, 96.0]) - m[:, :2] @ centre
        crops.append(warp_affine(pixels, m, (192, 192)))
        transforms.append(m)
    mesh = open_session(graph_path(LANDMARKS), threads)
    coords, presence = mesh.run(["conv2d_21", "conv2d_31"], {"input": np.stack(crops).astype(np.float32) / 255.0})
    candidates = []
    for (box, keys, score), m, xyz, logit in zip(found, transforms, coords.reshape(len(crops), 468, 3), presence.reshape(-1)):
        inverse = invert_affine(m)
        landmarks = xyz[:, :2].astype(np.float64) @ inverse[:, :2].T + inverse[:, 2]
        x0, y0 = int(max(0, box[0])), int(max(0, box[1]))
        x1, y1 = int(min(width, box[2])), int(min(height, box[3]))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        mesh_sure = 1.0 / (1.0 + math.exp(-float(np.clip(logit, -80, 80)))) >= 0.5
        if not mesh_sure and score < 0.75:  # neither network is sure: a texture or part of a face
            continue
        candidates.append((box, score, landmarks, (x0, y0, x1, y1), mesh_sure and x1 - x0 >= MIN_EYE_FACE and not _turned_away(landmarks)))
    # eyelids: both eyes of the largest measurable faces whose mesh does not show them clearly open, in
    # one batch through the eyelid model
    by_size = sorted(range(len(candidates)), key=lambda k: -(candidates[k][3][2] - candidates[k][3][0]))
    measured = [k for k in by_size if candidates[k][4]][:MAX_EYE_FACES]
    mesh_ear = {k: float(np.mean([_mesh_ear(candidates[k][2], eye) for eye in _MESH_EYES])) for k in measured}
    asked = [k for k in measured if mesh_ear[k] < MESH_OPEN]
    eye_crops = []
    for k in asked:
        landmarks = candidates[k][2]
        eye_crops.append(_eye_crop(pixels, landmarks[_RIGHT_EYE_CORNERS[0]], landmarks[_RIGHT_EYE_CORNERS[1]], mirror=False))
        eye_crops.append(_eye_crop(pixels, landmarks[_LEFT_EYE_CORNERS[0]], landmarks[_LEFT_EYE_CORNERS[1]], mirror=True))
    ears: dict[int, tuple[float, float]] = {k: (mesh_ear[k], mesh_ear[k]) for k in measured}
    if eye_crops:
        lids = open_session(graph_path(EYELIDS), threads)
        contours = lids.run(["output_eyes_contours_and_brows"], {"input": np.stack(eye_crops).astype(np.float32) / 255.0})[0]
        lid_ears = [eye_aspect_ratio(c.reshape(71, 3)[:16, :2]) for c in contours]
        for n, k in enumerate(asked):
            ears[k] = (lid_ears[2 * n], lid_ears[2 * n + 1])
    faces = []
    for k, (box, score, landmarks, (x0, y0, x1, y1), _) in enumerate(candidates):
        ear = ears.get(k)
        face = Face(
            box=(x0, y0, x1 - x0, y1 - y0),
            score=float(score),
            centre=(((box[0] + box[2]) / 2) / width, ((box[1] + box[3]) / 2) / height),
            size=(x1 - x0) / min(width, height),
            ear=ear,
            eyes_closed=(float(np.mean(ear)) < EAR_CLOSED) if ear is not None else None,
            landmarks=landmarks.astype(np.float32),
        )
        measure_face(pixels, face, landmarks, smooth)
        faces.append(face)
    return faces


def measure_face(pixels: np.ndarray, face: Face, landmarks: np.ndarray | None = None, smooth: np.ndarray | None = None) -> Face:
    """The face's own sharpness and exposure (skin level, shares blown and crushed), set on *face*
    (*landmarks*: the mesh's points at full precision, else ``face.landmarks``; *smooth*: the whole
    image's 5x5 box mean if already computed, else it is computed around the box).

    Only what is needed is computed: the clipping maps on the box plus the 2 pixels a 5x5 box mean
    reads around it, the skin's luminance on the small patches around its landmarks (a face can fill
    the photo; its whole neighbourhood took ~10 ms a photo)."""
    landmarks = landmarks if landmarks is not None else face.landmarks
    height, width = pixels.shape[:2]
    x0, y0, w, h = face.box
    x1, y1 = x0 + w, y0 + h
    region = pixels[y0:y1, x0:x1]
    # the skin's landmarks may lie a little outside the box: a neighbourhood a quarter larger each side
    near = (max(0, x0 - w // 4), max(0, y0 - h // 4), min(width, x1 + w // 4), min(height, y1 + h // 4))
    # the same 5x5 box mean as on that neighbourhood: 2 pixels of context (fewer where it had fewer)
    cx0, cy0 = max(near[0], x0 - 2), max(near[1], y0 - 2)
    cx1, cy1 = min(near[2], x1 + 2), min(near[3], y1 + 2)
    white, black, luma = clip_maps(pixels[cy0:cy1, cx0:cx1], None if smooth is None else smooth[cy0:cy1, cx0:cx1])
    inside = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
    skin = _skin_values(pixels, landmarks, w, near) if landmarks is not None else np.zeros(0, np.float32)
    face.sharpness = directional_sharpness(region, cells=1, luma=luma[inside]) if min(region.shape[:2]) >= 8 else 0.0
    face.skin_level = float(np.median(skin)) if skin.size else float(np.median(luma[inside]))
    face.blown = float(white[inside].mean())
    face.crushed = float(black[inside].mean())
    return face


def _mesh_ear(landmarks: np.ndarray, eye) -> float:
    a, b, pairs = eye
    width = float(np.linalg.norm(landmarks[a] - landmarks[b]))
    return float(np.mean([np.linalg.norm(landmarks[u] - landmarks[v]) for u, v in pairs]) / width) if width > 1e-6 else 0.0


def _turned_away(landmarks: np.ndarray) -> bool:
    """A profile: the nose tip far nearer one eye's outer corner than the other's (eyelids foreshortened)."""
    nose = landmarks[1]
    right = np.linalg.norm(landmarks[33] - nose)
    left = np.linalg.norm(landmarks[263] - nose)
    return min(right, left) < 0.4 * max(right, left)


def _skin_values(pixels: np.ndarray, landmarks: np.ndarray, face_width: int, bounds: tuple[int, int, int, int]) -> np.ndarray:
    """Luminance of the patches around the skin landmarks, each cut to *bounds* (x0, y0, x1, y1)."""
    radius = max(1, int(face_width * 0.03))
    bx0, by0, bx1, by1 = bounds
    values = []
    for index in _SKIN:
        x, y = int(round(landmarks[index, 0] - bx0)), int(round(landmarks[index, 1] - by0))
        if 0 <= x < bx1 - bx0 and 0 <= y < by1 - by0:
            patch = pixels[by0 + max(0, y - radius) : by0 + min(by1 - by0, y + radius + 1), bx0 + max(0, x - radius) : bx0 + min(bx1 - bx0, x + radius + 1), :3]
            values.append(patch.reshape(-1, 3).astype(np.float32) @ _LUMA)
    return np.concatenate(values) if values else np.zeros(0, np.float32)


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass
class FrameReport:
    """What culling measures on a larger decode of each photo in a group of look-alikes."""

    faces: FaceReport
    noise: float
    sharpness: float = 0.0  # directional_sharpness
    subject_blown: float = 0.0  # share of the subject (faces, else the sharpest region) clipped to white
    subject_crushed: float = 0.0  # ... crushed to black
    subject_level: float = 0.0  # median luminance (0-255) of the subject
    cells: dict | None = None  # 3x3 grid: energy, white, black, level, pixels (see frames.cell_stats)
    tones: float | None = None  # frames.tonal_entropy, bits
    detail: float | None = None  # frames.detail: sharpness that grain does not raise
    tilt: float | None = None  # frames.tilt: degrees from level; None: no lines to judge by


def subject_exposure(pixels: np.ndarray, faces: FaceReport) -> tuple[float, float, float]:
    """(blown, crushed, median level) of the subject: the faces if any, else the salient region.

    The salient region is the 3x3 grid cell with the most gradient energy and its neighbours (what is
    in focus is what the photographer framed), so a low-key portrait's dark background or a high-key
    frame's white wall does not count as the subject being under- or overexposed. Inside a group,
    culling chooses the region once for all frames (:func:`salient_cells` over their summed energies).
    """
    if faces.faces:
        weights = np.array([f.box[2] * f.box[3] for f in faces.faces], np.float64)
        weights /= weights.sum()
        return (
            float(sum(w * f.blown for w, f in zip(weights, faces.faces))),
            float(sum(w * f.crushed for w, f in zip(weights, faces.faces))),
            float(sum(w * f.skin_level for w, f in zip(weights, faces.faces))),
        )
    white, black, luma = clip_maps(pixels)
    cells = cell_stats(white, black, luma)
    return region_exposure(cells, salient_cells(np.array(cells["energy"])))


def inspect_pixels(pixels: np.ndarray, find_faces: bool = True, threads: int = 1, measures: bool = True) -> FrameReport:
    """*measures*: the frame's grain, detail, tilt, tones and subject exposure too (a photo without
    look-alikes needs only its faces and eyes)."""
    smooth = smooth_rgb(pixels)  # the frame's clipping and its faces' read the same box mean
    faces = detect_faces(pixels, threads=threads, smooth=smooth) if find_faces else FaceReport()
    if not measures:
        return FrameReport(faces, 0.0)
    white, black, luma = clip_maps(pixels, smooth)
    cells = cell_stats(white, black, luma)
    blown, crushed, level = subject_exposure(pixels, faces) if faces.faces else region_exposure(cells, salient_cells(np.array(cells["energy"])))
    ready = prepared(pixels, luma) if min(pixels.shape[:2]) >= 2 * BLOCK else None  # grain and detail read the same blocks
    return FrameReport(faces, noise_sigma(pixels, luma, ready), directional_sharpness(pixels, luma=luma), blown, crushed, level, cells,
                       tonal_entropy(pixels, luma=luma), detail(pixels, luma=luma, ready=ready), tilt(pixels, luma))


#: A face at least this share of the short side makes a photo a portrait for grouping (:func:`portrait_faces`).
PORTRAIT_FACE = 0.1


def portrait_faces(pixels: np.ndarray, min_share: float = PORTRAIT_FACE, threshold: float = 0.5) -> int:
    """Faces BlazeFace finds on the whole frame, at least *min_share* of the short side wide: one detector run
    on a 128x128 copy, no tiles and no landmarks (about 2 ms). Grouping asks it of borderline pairs: two
    photos that both show a face join only on content they share (hash, feature matches), never on capture
    times or the global embedding alone, which two different people's portraits can share."""
    from photocritic.engine import graph_path, open_session
    from photocritic.imaging.resample import halve

    pixels = np.ascontiguousarray(pixels[..., :3])
    height, width = pixels.shape[:2]
    if min(height, width) < 16:
        return 0
    half = halve(pixels) if min(height, width) >= 256 else None
    boxes, points, scores = _detect(open_session(graph_path(DETECTOR), 1), pixels, half, _square_crops(height, width)[:1], threshold)
    if not len(boxes):
        return 0
    return sum(1 for box, _, _ in _weighted_nms(boxes, points, scores) if box[2] - box[0] >= min_share * min(height, width))


def inspect_file(path: str | os.PathLike, find_faces: bool = True, threads: int = 1, measures: bool = True) -> FrameReport | None:
    """Faces (with eye state), grain and subject exposure of a photo decoded at :data:`FACE_LONG_SIDE`;
    None if unreadable."""
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        decoded = decode_for_model(path, long_side=FACE_LONG_SIDE, draft_headroom=1.0)
    except PhotoError:
        return None
    return inspect_pixels(decoded.pixels, find_faces, threads, measures)


__all__ = [
    "EAR_CLOSED",
    "FACE_LONG_SIDE",
    "Face",
    "FaceReport",
    "FrameReport",
    "blinks",
    "detect_faces",
    "directional_sharpness",
    "eye_aspect_ratio",
    "inspect_file",
    "inspect_pixels",
    "noise_sigma",
    "portrait_faces",
    "region_exposure",
    "salient_cells",
    "subject_exposure",
]
