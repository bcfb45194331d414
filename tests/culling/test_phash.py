"""The NumPy pHash gives imagehash's bits: catalogs store these hashes, so they must not change."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photocritic.culling.pipeline import perceptual_hash, phash_bits
from photocritic.imaging import decode_for_model


def test_equals_imagehash_on_the_real_photos(shared_data):
    imagehash = pytest.importorskip("imagehash")
    paths = sorted((shared_data / "photos").iterdir())
    compared = flat = 0
    differ = []
    for path in paths:
        try:
            pixels = decode_for_model(path, long_side=256, draft_headroom=1.0).pixels
        except Exception:
            continue
        image = Image.fromarray(pixels)
        compared += 1
        if phash_bits(image) != int(str(imagehash.phash(image)), 16):
            # a uniform frame has no frequencies: its bits are rounding noise in either DCT
            grey = np.asarray(image.convert("L").resize((32, 32), Image.LANCZOS))
            if np.ptp(grey) == 0:
                flat += 1
            else:
                differ.append(path.name)
    assert compared > 100 and flat <= 3
    assert differ == []


def test_bits_follow_the_definition():
    imagehash = pytest.importorskip("imagehash")
    rng = np.random.default_rng(5)
    for size in [(32, 32), (300, 200), (7, 90)]:
        image = Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        assert phash_bits(image) == int(str(imagehash.phash(image)), 16)


def test_look_alikes_hash_close_and_unreadable_files_hash_none(shared_data, tmp_path):
    photo = sorted((shared_data / "photos").glob("*.jpg"))[0]
    with Image.open(photo) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2)).save(tmp_path / "half.jpg", quality=80)
    a, b = perceptual_hash(photo), perceptual_hash(tmp_path / "half.jpg")
    assert bin(a ^ b).count("1") <= 6
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    assert perceptual_hash(tmp_path / "broken.jpg") is None
