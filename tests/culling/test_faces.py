"""Blinks are claimed against a face with both eyes found, on a real portrait."""
from __future__ import annotations

import numpy as np
from PIL import ImageFilter

from photocritic.culling.faces import blinks, detect_faces

from .conftest import FACE_SOURCE, close_eyes


def test_one_eye_found_is_no_evidence_of_open_eyes(shared_data, evalmod):
    """The eye cascade finds one eye of a small face in some frames and none in others: a frame where it
    found one must not make every other frame of the burst blink; a frame with both eyes still does."""
    base = evalmod._load(shared_data / "photos" / FACE_SOURCE, 1024)
    clean = detect_faces(np.asarray(base))
    face = next(f for f in clean.faces if f.eyes == 2)
    x, y, w, h = face.eye_boxes[0]
    pad = w // 3
    box = (x - pad, y - pad, x + w + pad, y + h + pad)
    one_eye = base.copy()
    one_eye.paste(one_eye.crop(box).filter(ImageFilter.GaussianBlur(w * 0.3)), box[:2])
    one = detect_faces(np.asarray(one_eye))
    assert [f.eyes for f in one.faces] == [1]
    shut = detect_faces(np.asarray(close_eyes(base)))
    assert [f.eyes for f in shut.faces] == [0]
    assert blinks(shut, clean) == 1
    assert blinks(shut, one) == 0
