"""Metadata that is wrong or too large costs the metadata, never the photo: a PNG text or ICC chunk
past Pillow's limits is dropped and the pixels decode; an impossible EXIF time offset is dropped."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from photocritic.imaging import decode_for_model

PHOTO = "Canon EOS 350D.jpg"


def chunk(cid: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", zlib.crc32(cid + data))


@pytest.fixture(scope="module")
def png(shared_data) -> bytes:
    with Image.open(shared_data / "photos" / PHOTO) as image:
        image = image.convert("RGB")
        image.thumbnail((400, 400))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def inserted(png: bytes, extra: bytes, after_pixels: bool = False) -> bytes:
    at = png.rindex(b"IEND") - 4 if after_pixels else 8 + 25  # before IEND, or right after IHDR
    return png[:at] + extra + png[at:]


def oversized(kind: str) -> bytes:
    """A chunk Pillow refuses the whole PNG for (today's Pillow: 1 MB per chunk, 64 MB of text)."""
    bomb = zlib.compress(b"x" * (PngImagePlugin.MAX_TEXT_CHUNK + 1000), 9)  # a few KB that grow past the limit
    if kind == "zTXt":
        return chunk(b"zTXt", b"Comment\0\0" + bomb)
    if kind == "iTXt":
        return chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0en\0\0" + bomb)
    if kind == "iCCP":
        return chunk(b"iCCP", b"ICC Profile\0\0" + bomb)
    # tEXt, uncompressed and past the text budget (the 500 MB chunk of the report, smaller)
    return chunk(b"tEXt", b"Comment\0" + b"y" * (PngImagePlugin.MAX_TEXT_MEMORY + 1000))


@pytest.mark.parametrize("kind", ["zTXt", "iTXt", "iCCP", "tEXt"])
def test_a_png_with_an_oversized_text_or_icc_chunk_decodes_as_its_pixels(kind, png, tmp_path):
    plain = tmp_path / "plain.png"
    plain.write_bytes(png)
    hostile = tmp_path / f"{kind}.png"
    hostile.write_bytes(inserted(png, oversized(kind)))
    expected = decode_for_model(plain)
    decoded = decode_for_model(hostile)
    assert decoded.format == "PNG" and (decoded.width, decoded.height) == (expected.width, expected.height)
    assert np.array_equal(decoded.pixels, expected.pixels)


def test_an_oversized_chunk_after_the_pixels_and_small_ones_kept(png, tmp_path):
    small = chunk(b"tEXt", b"Author\0someone") + chunk(b"zTXt", b"Note\0\0" + zlib.compress(b"short"))
    path = tmp_path / "both.png"
    path.write_bytes(inserted(inserted(png, small), oversized("zTXt"), after_pixels=True))
    plain = tmp_path / "plain.png"
    plain.write_bytes(png)
    assert np.array_equal(decode_for_model(path).pixels, decode_for_model(plain).pixels)
    from photocritic.imaging.png_chunks import without_oversized_chunks

    with open(path, "rb") as stream, Image.open(without_oversized_chunks(stream)) as image:
        image.load()
        assert image.info["Author"] == "someone" and image.info["Note"] == "short"  # only the oversized one went


@pytest.mark.parametrize("offset, kept", [("+99:99", None), ("+24:00", None), ("-13:00", None), ("+01:60", None),
                                          ("+05:45", "+05:45"), ("-03:30", "-03:30"), ("+14:00", "+14:00")])
def test_an_impossible_exif_offset_is_dropped_and_taken_at_always_parses(offset, kept, shared_data, tmp_path):
    with Image.open(shared_data / "photos" / PHOTO) as image:
        image = image.convert("RGB")
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2020:01:01 10:20:30"  # DateTimeOriginal
    sub[0x9011] = offset  # OffsetTimeOriginal
    path = tmp_path / "offset.jpg"
    image.save(path, "JPEG", exif=exif)
    taken_at = decode_for_model(path).taken_at
    moment = datetime.fromisoformat(taken_at)
    assert taken_at == "2020-01-01T10:20:30" + (kept or "")
    assert (moment.tzinfo is None) == (kept is None)
