"""Builds a hostile corpus for real: files that are truncated, lie about their size, are not files,
have names no tool expects. :func:`build` returns what the tools must report on.

Nothing here is a fixture file in the repository: every entry is generated from one real photo
(shared data) at test time, so the corpus grows by adding a line, and a check that passes for it
passes because of a class of fixes, not a list of names.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class Corpus:
    root: Path
    expected: set[bytes] = field(default_factory=set)  # absolute paths (bytes) that must get a record with -r
    good: set[bytes] = field(default_factory=set)  # photos that must score and get a sidecar
    skipped_cases: list[str] = field(default_factory=list)  # what cannot be built here, and why

    def add(self, name: str | bytes, data: bytes | None = None, *, good: bool = False, record: bool = True) -> bytes:
        path = os.path.join(os.fsencode(self.root), os.fsencode(name))
        if data is not None:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as stream:
                stream.write(data)
        if record:
            self.expected.add(path)
        if good:
            self.good.add(path)
        return path


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_header_only(width: int, height: int, bit_depth: int = 8, colour: int = 0) -> bytes:
    """A PNG whose header claims *width* x *height* and whose data is a few bytes: a bomb by header."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b"")


def write_zero_png(path: str | os.PathLike, width: int, height: int, bit_depth: int = 16, colour: int = 0) -> None:
    """A real, complete, all-black PNG of any size, streamed (a 14000x14000 16-bit one is ~400 KB on
    disk and needs ~400 MB to hold decoded): the decompression bomb of issue 18."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\x00" * (1 + width * channels * bit_depth // 8)
    compressor = zlib.compressobj(9)
    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)))
        block = row * 256
        left = height
        while left:
            n = min(256, left)
            data = compressor.compress(block if n == 256 else row * n)
            if data:
                stream.write(png_chunk(b"IDAT", data))
            left -= n
        stream.write(png_chunk(b"IDAT", compressor.flush()) + png_chunk(b"IEND", b""))


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _tiff_header(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\x00" * 16 + ifd


def _jpeg_huge_header(photo_jpeg: bytes, width: int, height: int) -> bytes:
    """The real JPEG with its frame header rewritten to claim another size."""
    data = bytearray(photo_jpeg)
    i = 2
    while i < len(data) - 9:
        if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", data, i + 5, height, width)
            return bytes(data)
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return bytes(data)


def build(root: Path, photo: Path) -> Corpus:
    """The corpus under *root*, from one real JPEG *photo*."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(root)
    with Image.open(photo) as opened:
        base = opened.convert("RGB")
        base.thumbnail((640, 640))
    jpeg = _encoded(base, "JPEG", quality=88)
    encodings = {
        "jpg": jpeg,
        "png": _encoded(base, "PNG"),
        "webp": _encoded(base, "WEBP", quality=80),
        "tif": _encoded(base, "TIFF"),
        "gif": _encoded(base.convert("P"), "GIF"),
        "bmp": _encoded(base, "BMP"),
    }
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        encodings["heic"] = _encoded(base, "HEIF", quality=70)
    except Exception as exc:  # pragma: no cover - depends on the wheel
        corpus.skipped_cases.append(f"HEIC: pillow-heif cannot write here ({exc})")
    # a TIFF container with a JPEG inside, named as a Canon RAW: "CR2-ish"
    cr2ish = b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 4 + jpeg

    # good photos, every format, and odd but legal names
    for ext, data in encodings.items():
        corpus.add(f"good.{ext}", data, good=True)
    sixteen = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
    corpus.add("gray16.png", _encoded(sixteen, "PNG"), good=True)
    odd_names: list[str | bytes] = [
        "new\nline.jpg", 'double"quote.jpg', "it's.jpg", "back\\slash.jpg", "-rf.jpg", " leading space.jpg",
        "café ☕ 写真.jpg", "UPPER.JPG", "tab\there.jpeg", "semi;colon,comma.jpg", "$(touch pwned).jpg",
        "<script>alert(1)<script>.jpg", b"latin1_\xe9\xff.jpg", b"\xff\xfe.jpg", "a" * 231 + ".jpg",
        "%s%n%x.jpg", "emoji 🙂.jpg",
    ]
    for name in odd_names:
        corpus.add(name, jpeg, good=True)
    corpus.add(os.path.join(b"latin1_dir_\xe9", b"inside.jpg"), jpeg, good=True)
    corpus.add(os.path.join("sub", "deeper", "nested.jpg"), jpeg, good=True)
    corpus.add("jpeg_named.png", jpeg, good=True)  # the decoder decides, not the name
    # photos sharing a stem: each must get its own sidecar
    corpus.add("IMG_1.JPG", jpeg, good=True)
    corpus.add("IMG_1.PNG", encodings["png"], good=True)
    corpus.add("pair.jpg", jpeg, good=True)
    corpus.add("pair.webp", encodings["webp"], good=True)

    # truncated files of every format, at three places
    for ext, data in {**encodings, "cr2": cr2ish}.items():
        for cut, label in ((len(data) // 2, "half"), (64, "head"), (8, "magic")):
            corpus.add(f"truncated_{label}.{ext}", data[:cut])
    # broken but complete-looking
    corpus.add("random.jpg", os.urandom(4096))
    corpus.add("text.jpg", b"this is not a photo\n" * 50)
    corpus.add("page.png", b"<html><script>alert(1)</script></html>")
    corpus.add("png_named.cr2", encodings["png"])
    corpus.add("cr2ish.cr2", cr2ish)
    # sparse 8 GB files (no disk used): nothing may read them whole into memory
    for ext in ("cr2", "jpg"):
        with open(corpus.add(f"sparse_8g.{ext}"), "wb") as stream:
            stream.truncate(8 * 2**30)
    # zero-byte files
    for ext in ("jpg", "png", "cr2", "heic", "tif"):
        corpus.add(f"empty.{ext}", b"")
    # bombs: headers that claim more pixels than any camera makes
    corpus.add("bomb_header.png", png_header_only(30000, 30000))
    corpus.add("bomb_header16.png", png_header_only(20000, 20000, 16))
    corpus.add("bomb_wide.png", png_header_only(1_000_000, 1))
    corpus.add("bomb_header.jpg", _jpeg_huge_header(jpeg, 65000, 65000))
    corpus.add("bomb_header.tif", _tiff_header(100_000, 100_000))
    corpus.add("bomb_header.gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00" + b"\x2c" + b"\x00" * 9 + b"\x02\x02\x44\x01\x00\x3b")
    corpus.add("bomb_header.bmp", b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 50000, 50000, 1, 24, 0, 0, 0, 0, 0, 0))
    zero_png = os.path.join(os.fsencode(root), b"bomb_real16.png")
    write_zero_png(zero_png, 9000, 9000, 16, 0)  # complete and real: 81 MP, 160 MB decoded at 16 bit
    corpus.add("bomb_real16.png", good=True)

    # entries that are not regular files
    fifo = corpus.add("fifo.jpg")
    os.mkfifo(fifo)
    corpus.add("subfifo/fifo.png", b"")  # placeholder replaced by a FIFO below
    os.unlink(os.path.join(os.fsencode(root), b"subfifo/fifo.png"))
    os.mkfifo(os.path.join(os.fsencode(root), b"subfifo/fifo.png"))
    os.symlink("does-not-exist.jpg", corpus.add("dangling.jpg"))
    os.symlink("loop.jpg", corpus.add("loop.jpg"))
    os.symlink("loop_b.jpg", corpus.add("loop_a.jpg"))
    os.symlink("loop_a.jpg", corpus.add("loop_b.jpg"))
    os.symlink("/dev/zero", corpus.add("devzero.jpg"))
    os.symlink("/dev/null", corpus.add("devnull.png"))
    os.symlink("good.jpg", corpus.add("link_to_good.jpg"), )
    corpus.good.add(os.path.join(os.fsencode(root), b"link_to_good.jpg"))
    os.symlink(".", corpus.add("folder_loop"))  # a link to a folder: reported, never followed
    os.symlink("/etc", corpus.add("link_out"))
    # folders named like photos: descended with -r (their photos count), entries without -r
    corpus.add(os.path.join("folder.jpg", "in_folder_named_jpg.jpg"), jpeg, good=True)
    os.makedirs(os.path.join(os.fsencode(root), b"empty_folder.png"))
    # hidden files are not read (and need no record)
    corpus.add(".hidden.jpg", jpeg, record=False)
    # an unreadable file and folder: root reads them anyway, so they only count when not root
    locked = corpus.add("locked.jpg", jpeg, good=os.geteuid() == 0)
    os.chmod(locked, 0)
    locked_dir = os.path.join(os.fsencode(root), b"locked_dir")
    os.makedirs(locked_dir)
    with open(os.path.join(locked_dir, b"inside.jpg"), "wb") as stream:
        stream.write(jpeg)
    if os.geteuid() == 0:
        corpus.add(os.path.join(b"locked_dir", b"inside.jpg"), good=True)
        corpus.skipped_cases.append("unreadable file and folder: running as root, which reads them anyway")
    else:
        corpus.add(b"locked_dir")
    os.chmod(locked_dir, 0)
    # a read-only sidecar beside a good photo: the photo scores, its sidecar is left and reported
    corpus.add("readonly_sidecar.jpg", jpeg)
    sidecar = os.path.join(os.fsencode(root), b"readonly_sidecar.xmp")
    with open(sidecar, "w") as stream:
        stream.write('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="0"/></rdf:RDF></x:xmpmeta>')
    os.chmod(sidecar, 0o444)
    return corpus


def entries(corpus: Corpus) -> int:
    return len(corpus.expected)
