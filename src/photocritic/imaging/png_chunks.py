"""PNG text and ICC chunks too large for Pillow, dropped so that the pixels still decode.

Pillow refuses a whole PNG when one text chunk (tEXt, zTXt, iTXt) or its ICC profile (iCCP)
decompresses past ``PngImagePlugin.MAX_TEXT_CHUNK`` (1 MB), or when its text passes
``MAX_TEXT_MEMORY``; and it reads an uncompressed chunk whole before it counts it (a 500 MB
chunk is 500 MB of memory). Those chunks say nothing about the pixels, so a PNG holding one is
read through a view that leaves them out: every other chunk, byte for byte, from the same open
file. Chunks are found from their 8-byte headers without reading their data; only compressed
chunks under the limit are read, to see how large they would grow.
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import PngImagePlugin

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_METADATA = (b"tEXt", b"zTXt", b"iTXt", b"iCCP")


def without_oversized_chunks(stream):
    """*stream* itself (at its position) when it is no PNG or Pillow can read all its chunks; else a
    read-only view of it without the text and ICC chunks Pillow would refuse the photo for."""
    start = stream.tell()
    if stream.read(8) != _SIGNATURE:
        stream.seek(start)
        return stream
    limit, budget = PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY
    kept: list[tuple[int, int]] = [(start, 8)]  # (offset, length) of the parts kept
    dropped = False
    position = start + 8
    text = 0
    while True:
        header = stream.read(8)
        if len(header) < 8:  # truncated: Pillow says so as it always did
            kept.append((position, -1))
            break
        length, cid = struct.unpack(">I4s", header)
        size = _grown_size(stream, cid, length, limit) if cid in _METADATA else 0
        if size is None or (cid != b"iCCP" and text + size > budget):
            dropped = True
        else:
            text += size if cid != b"iCCP" else 0
            kept.append((position, 12 + length))
        position += 12 + length
        if cid == b"IEND":
            break
        stream.seek(position)
    stream.seek(start)
    if not dropped:
        return stream
    return io.BufferedReader(_Spliced(stream, kept))


def _grown_size(stream, cid: bytes, length: int, limit: int) -> int | None:
    """How large Pillow would make this chunk's text (bytes), or None when it would refuse it."""
    if length > limit:
        return None
    data = stream.read(length)
    try:
        if cid == b"tEXt":
            return len(data.split(b"\0", 1)[-1])
        if cid in (b"zTXt", b"iCCP"):
            compressed = data.split(b"\0", 1)[1][1:]
        else:  # iTXt: keyword, compression flag and method, language, translated keyword, text
            _, rest = data.split(b"\0", 1)
            flag, method, rest = rest[0], rest[1], rest[2:]
            text = rest.split(b"\0", 2)[2]
            if not flag or method != 0:
                return len(text)
            compressed = text
    except (IndexError, ValueError):
        return 0  # malformed: Pillow's own handling, as before
    inflate = zlib.decompressobj()
    try:
        plain = inflate.decompress(compressed, limit)
    except zlib.error:
        return 0  # Pillow reads a broken one as empty
    return None if inflate.unconsumed_tail else len(plain)


class _Spliced(io.RawIOBase):
    """Parts of a seekable stream, read as one (a length of -1: to the end)."""

    def __init__(self, stream, parts: list[tuple[int, int]]) -> None:
        self._stream = stream
        self._parts = parts
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += self._length()
        self._position = max(0, offset)
        return self._position

    def _length(self) -> int:
        total = 0
        for offset, length in self._parts:
            if length < 0:
                end = self._stream.seek(0, io.SEEK_END)
                length = max(0, end - offset)
            total += length
        return total

    def readinto(self, buffer) -> int:
        virtual = 0
        for offset, length in self._parts:
            if length >= 0 and self._position >= virtual + length:
                virtual += length
                continue
            self._stream.seek(offset + self._position - virtual)
            want = len(buffer) if length < 0 else min(len(buffer), virtual + length - self._position)
            got = self._stream.readinto(memoryview(buffer)[:want]) or 0
            self._position += got
            return got
        return 0
