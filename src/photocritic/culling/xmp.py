"""XMP sidecars: read a star rating, merge a rating and a colour label in, never lose anything else.

Lightroom, darktable, digiKam, Bridge, Capture One and exiftool all read ``xmp:Rating`` (0-5 stars;
-1 means "rejected" in Bridge, darktable and digiKam) and ``xmp:Label`` (a colour label's name)
from a sidecar next to the photo. Two naming conventions exist, both supported:

* ``"replace"``: ``IMG_1.xmp`` (Lightroom, Capture One, digiKam's default);
* ``"append"``: ``IMG_1.JPG.xmp`` (darktable, digiKam's option; unambiguous when IMG_1.JPG and
  IMG_1.CR2 sit side by side).

Photos that share a stem in one folder (``IMG_1.JPG`` + ``IMG_1.CR2``, ``pair.jpg`` + ``pair.png``)
would share ``IMG_1.xmp``, so in the "replace" style each of them gets the unambiguous
``IMG_1.JPG.xmp`` form instead (:func:`sidecar_path`); a photo alone with its stem keeps ``IMG_1.xmp``.

Ratings the user set are kept (``overwrite=False``): one in the sidecar that is not the last one we
wrote, or one embedded in the photo's own XMP (what Lightroom writes into JPEGs). darktable writes
``xmp:Rating="1"`` into every sidecar it creates (its default, not a choice), so in a darktable
sidecar (one declaring darktable's namespace) that we never wrote, a 1 does not count as the user's.
digiKam's ``MicrosoftPhoto:Rating`` (a percentage), where a sidecar has one, is kept in step.

Writing merges: an existing sidecar is parsed with a real XML parser (defusedxml: no entity
expansion, no external resources), only ``xmp:Rating`` / ``xmp:Label`` (and our own
``photocritic:`` note) change, and every other property, namespace, comment and the xpacket
wrapper survive. A sidecar we cannot parse is left alone and reported (:class:`XmpError`), never
replaced. Writes go to a temporary file in the same folder (a short name, so a photo name near
the 255-byte limit still gets a sidecar) and are renamed into place; temporary files left by a
killed write are removed. A sidecar whose content would not change is not rewritten (its mtime
stays); a read-only sidecar is never replaced (:class:`XmpError`); a new sidecar gets the
permissions the umask allows (as any file the user creates); a UTF-16 sidecar stays UTF-16.

The photo itself is never opened for writing.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import iterparse as safe_iterparse

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_PHOTOCRITIC = "https://github.com/photocritic/ns/1.0/"
NS_MICROSOFT_PHOTO = "http://ns.microsoft.com/photo/1.0/"
NS_DARKTABLE = "http://darktable.sf.net/"
#: digiKam's stars -> MicrosoftPhoto:Rating percentages
_MICROSOFT_PERCENT = {0: "0", 1: "1", 2: "25", 3: "50", 4: "75", 5: "99"}
#: a temporary file of ours older than this (seconds) is left over from a killed write
STALE_TEMP_S = 2.0

STYLES = ("replace", "append")
_WELL_KNOWN = {"x": NS_X, "rdf": NS_RDF, "xmp": NS_XMP, "photocritic": NS_PHOTOCRITIC}

# processing instructions (the xpacket wrapper), comments and blanks around the root element
_OUTSIDE = r"(?:\s|<\?[^>]*\?>|<!--(?:(?!--).)*-->)*"
_PROLOGUE = re.compile(r"\A" + _OUTSIDE, re.S)  # anchored and greedy: linear


def _epilogue(text: str) -> str:
    """The longest tail of *text* made of what ``_OUTSIDE`` matches (blanks, processing instructions,
    comments): what ``re.search(_OUTSIDE + r"\\Z", text)`` finds, found from the end in linear time.
    That search is unanchored and tries every start, so a long run of blanks in the body cost the
    square of its length (a 150 KB run held the interpreter lock for minutes)."""
    start = len(text)
    while start:
        last = text[start - 1]
        if last.isspace():  # what \s matches in a str pattern
            start -= 1
        elif text.endswith("?>", 0, start):  # <?[^>]*?>: the leftmost "<?" after the previous ">"
            previous = text.rfind(">", 0, start - 1)
            opening = text.find("<?", previous + 1, start - 2)
            if opening < 0:
                break
            start = opening
        elif text.endswith("-->", 0, start):  # <!--(?:(?!--).)*-->: no "--" from the content to the closing "-"
            dashes = text.rfind("--", 0, start - 2)
            opening = next((p for p in (dashes - 3, dashes - 2) if p >= 0 and text.startswith("<!--", p)), -1)
            if opening < 0 or opening + 7 > start:
                break
            start = opening
        else:
            break
    return text[start:]

_NEW_SIDECAR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="photocritic">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


class XmpError(Exception):
    """A sidecar that exists but cannot be read as XMP; it is left untouched."""


def sidecar_path(photo: str | os.PathLike, style: str = "replace") -> Path:
    """Where the sidecar of *photo* lives: ``IMG_1.xmp`` ("replace") or ``IMG_1.JPG.xmp`` ("append");
    "replace" falls back to ``IMG_1.JPG.xmp`` when another photo in the folder shares the stem."""
    photo = Path(photo)
    if style == "append":
        return photo.with_name(photo.name + ".xmp")
    if style == "replace":
        if shares_stem(photo):
            return photo.with_name(photo.name + ".xmp")
        return photo.with_suffix(".xmp")
    raise ValueError(f"sidecar style must be one of {STYLES}, not {style!r}")


_STEMS: dict[str, tuple[int, dict[str, int]]] = {}
_STEMS_LOCK = threading.Lock()


def shares_stem(photo: str | os.PathLike) -> bool:
    """Whether another photo file in *photo*'s folder has the same stem (case-insensitive, as the
    sidecar name would clash on case-insensitive file systems too)."""
    from photocritic.imaging import PHOTO_EXTENSIONS

    photo = Path(photo)
    folder = os.fspath(photo.parent)
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return False
    with _STEMS_LOCK:
        cached = _STEMS.get(folder)
    if cached is None or cached[0] != stamp:
        counts: dict[str, int] = {}
        try:
            for entry in os.scandir(folder):
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() in PHOTO_EXTENSIONS:
                    counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
        except OSError:
            return False
        cached = (stamp, counts)
        with _STEMS_LOCK:
            _STEMS[folder] = cached
    return cached[1].get(photo.stem.lower(), 0) > 1


def find_sidecar(photo: str | os.PathLike) -> Path | None:
    """An existing sidecar of *photo* (``IMG_1.JPG.xmp`` first, then ``IMG_1.xmp``), or None."""
    for style in ("append", "replace"):
        candidate = sidecar_path(photo, style)
        if candidate.is_file():
            return candidate
    return None


def _parse(text: str) -> ET.Element:
    parser = DefusedXMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True), forbid_dtd=True)
    try:
        parser.feed(text)
        return parser.close()
    except Exception as exc:  # ParseError and defusedxml's refusals alike
        raise XmpError(f"not valid XML: {exc}") from None


def _namespaces(text: str) -> list[tuple[str, str]]:
    import io

    found = []
    try:
        for _, (prefix, uri) in safe_iterparse(io.BytesIO(text.encode("utf-8")), events=("start-ns",), forbid_dtd=True):
            found.append((prefix, uri))
    except Exception:
        pass
    return found


def _read_text(path: Path) -> str:
    return _read_encoded(path.read_bytes(), path)[0]


def _read_encoded(data: bytes, path: Path) -> tuple[str, str]:
    """(text, the codec that writes it back the same way)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codecs = ("utf-16",)
    else:
        codecs = ("utf-8-sig", "utf-16")
    for encoding in codecs:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise XmpError(f"{path}: not UTF-8 or UTF-16 text")


def _descriptions(root: ET.Element) -> tuple[ET.Element, list[ET.Element]]:
    if root.tag == f"{{{NS_RDF}}}RDF":
        rdf = root
    else:
        rdf = root.find(f".//{{{NS_RDF}}}RDF")
        if rdf is None:
            raise XmpError("no rdf:RDF element: not an XMP packet")
    return rdf, rdf.findall(f"{{{NS_RDF}}}Description")


def _get(descriptions: list[ET.Element], ns: str, name: str) -> str | None:
    key = f"{{{ns}}}{name}"
    for description in descriptions:
        if key in description.attrib:
            return description.attrib[key].strip()
        child = description.find(key)
        if child is not None and child.text is not None:
            return child.text.strip()
    return None


def _read_packet(text: str) -> dict:
    root = _parse(text)
    _, descriptions = _descriptions(root)
    rating = _get(descriptions, NS_XMP, "Rating")
    try:
        value = int(float(rating)) if rating not in (None, "") else None
    except ValueError:
        value = None
    return {"rating": value, "label": _get(descriptions, NS_XMP, "Label") or None, "written_by_us": _get(descriptions, NS_PHOTOCRITIC, "Rating")}


def read_sidecar(path: str | os.PathLike) -> dict:
    """{"rating": int | None, "label": str | None} from a sidecar file; raises XmpError if unreadable."""
    return _read_packet(_read_text(Path(path)))


def read_embedded(photo: str | os.PathLike) -> dict | None:
    """The XMP packet embedded in the photo itself (JPEG APP1, PNG iTXt, WebP, TIFF), as read_sidecar
    gives it; None when the photo holds none or cannot be opened. Pillow finds the packet while
    reading the headers only: no pixel is decoded."""
    from PIL import Image

    from photocritic.imaging.decode import open_regular

    try:  # open_regular: a FIFO or device named like a photo is never opened (it would block)
        with open_regular(Path(photo)) as stream, Image.open(stream) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    except Exception:  # not an image Pillow knows, truncated headers, ...: simply no embedded XMP
        return None
    if not packet:
        return None
    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", "replace")
    try:
        return _read_packet(packet.strip("\x00"))
    except XmpError:
        return None


def read_rating(photo_or_sidecar: str | os.PathLike) -> int | None:
    """The ``xmp:Rating`` of a photo or of a sidecar file. -1 means rejected.

    For a photo the sidecar (either convention) wins, as in darktable and digiKam, since it is
    what those tools update; without one, the XMP embedded in the photo (what Lightroom writes into
    JPEGs) is read. None when neither holds a rating or they cannot be read.
    """
    path = Path(photo_or_sidecar)
    if path.suffix.lower() == ".xmp":
        try:
            return read_sidecar(path)["rating"] if path.is_file() else None
        except (XmpError, OSError):
            return None
    sidecar = find_sidecar(path)
    if sidecar is not None:
        try:
            rating = read_sidecar(sidecar)["rating"]
        except (XmpError, OSError):
            rating = None
        if rating is not None:
            return rating
    embedded = read_embedded(path)
    return embedded["rating"] if embedded else None


def _set(descriptions: list[ET.Element], rdf: ET.Element, ns: str, name: str, value: str | None) -> None:
    """Set (or with None remove) one simple property wherever it is; add it as an attribute if absent."""
    key = f"{{{ns}}}{name}"
    placed = False
    for description in descriptions:
        if key in description.attrib:
            if value is None or placed:
                del description.attrib[key]
            else:
                description.attrib[key] = value
                placed = True
        for child in description.findall(key):
            if value is None or placed:
                description.remove(child)
            else:
                for grandchild in list(child):
                    child.remove(grandchild)
                child.text = value
                placed = True
    if value is not None and not placed:
        if not descriptions:
            description = ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})
            descriptions.append(description)
        descriptions[0].set(key, value)


def merge_rating(
    sidecar: str | os.PathLike,
    rating: int | None,
    label: str | None = None,
    *,
    overwrite: bool = True,
    set_label: bool = False,
) -> bool:
    """Write *rating* (and, with *set_label*, *label*; None removes it) into *sidecar*, merging.

    With ``overwrite=False`` a rating the user set (one that differs from the last rating we
    wrote there) is kept. Returns True if the sidecar now holds what was asked (written, or already
    so), False if a rating of the user's was kept. Raises :class:`XmpError` for a sidecar that
    exists but is not readable XMP, or is read-only (it is left as it was).
    """
    return merge_rating_status(sidecar, rating, label, overwrite=overwrite, set_label=set_label) != "kept"


def merge_rating_status(
    sidecar: str | os.PathLike,
    rating: int | None,
    label: str | None = None,
    *,
    overwrite: bool = True,
    set_label: bool = False,
    inside: str | os.PathLike | None = None,
) -> str:
    """As :func:`merge_rating`; says what happened: "written", "unchanged" (the sidecar already said
    so; not rewritten) or "kept" (the user's own rating). With *inside* (the web app's library), the
    sidecar's folder is opened once and must lie inside it (checked on the open folder, whose files
    are then read and written by name relative to it): a folder swapped for a link out of it since it
    was listed is refused (:class:`XmpError`), never written into."""
    sidecar = Path(sidecar)
    if rating is not None and not -1 <= int(rating) <= 5:
        raise ValueError(f"xmp:Rating must be -1..5, not {rating}")
    with _Folder(sidecar.parent, inside) as folder:
        return _merge(folder, sidecar, rating, label, overwrite, set_label)


def _merge(folder: "_Folder", sidecar: Path, rating, label, overwrite: bool, set_label: bool) -> str:
    name = sidecar.name
    try:
        info = folder.lstat(name)
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):  # never followed: its target may be anywhere
            raise XmpError(f"{sidecar} is a symbolic link: left as it was")
        if not stat.S_ISREG(info.st_mode):
            raise XmpError(f"{sidecar} is not a regular file")
        if not info.st_mode & 0o222 or not folder.access(name, os.W_OK):
            raise XmpError(f"{sidecar} is read-only (mode {info.st_mode & 0o777:o}): left as it was")
        original = _read_no_link(folder, sidecar)
        text, encoding = _read_encoded(original, sidecar)
    else:
        original, text, encoding = None, _NEW_SIDECAR, "utf-8"
    root = _parse(text)
    rdf, descriptions = _descriptions(root)
    current = _get(descriptions, NS_XMP, "Rating")
    ours = _get(descriptions, NS_PHOTOCRITIC, "Rating")
    darktable_default = current == "1" and ours is None and f'"{NS_DARKTABLE}"' in text
    if not overwrite and current not in (None, "", "0") and current != ours and not darktable_default:
        return "kept"
    value = None if rating is None else str(int(rating))
    _set(descriptions, rdf, NS_XMP, "Rating", value)
    _set(descriptions, rdf, NS_PHOTOCRITIC, "Rating", value)
    if _get(descriptions, NS_MICROSOFT_PHOTO, "Rating") is not None:  # digiKam's copy, kept in step
        _set(descriptions, rdf, NS_MICROSOFT_PHOTO, "Rating", _MICROSOFT_PERCENT.get(rating) if rating is not None else None)
    if set_label:
        _set(descriptions, rdf, NS_XMP, "Label", label or None)
    prologue = _PROLOGUE.match(text).group(0)
    epilogue = _epilogue(text)
    body = _serialise(root, _namespaces(text))
    data = (prologue + body + epilogue if (prologue or epilogue) else body + "\n").encode(encoding)
    if data == original:
        return "unchanged"
    _atomic_write(folder, name, data)
    return "written"


class _Folder:
    """A sidecar's folder, opened once where the system can name files relative to an open folder:
    every file of it is then reached through that descriptor, never through the folder's path again."""

    def __init__(self, path: Path, inside: str | os.PathLike | None = None) -> None:
        if inside is None:  # inside a library nothing is created: the folder holds the photo
            path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = None
        if {os.open, os.stat, os.access, os.rename, os.unlink, os.chmod} <= os.supports_dir_fd and os.scandir in os.supports_fd:
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        if inside is not None and not self._inside(Path(inside).resolve()):
            self.close()
            raise XmpError(f"{path} is not a folder inside {inside} (a link out of it?): nothing written")

    def _inside(self, root: Path) -> bool:
        try:
            where = Path(os.readlink(f"/proc/self/fd/{self.fd}")) if self.fd is not None else None
        except OSError:
            where = None
        if where is None:  # no /proc: the path resolved now must be the folder held open
            where = self.path.resolve()
            if self.fd is not None and not os.path.samestat(os.fstat(self.fd), os.stat(where)):
                return False
        return where == root or root in where.parents

    def _at(self, name: str) -> tuple[str, dict]:
        return (name, {"dir_fd": self.fd}) if self.fd is not None else (os.path.join(self.path, name), {})

    def lstat(self, name: str) -> os.stat_result:
        where, at = self._at(name)
        return os.stat(where, follow_symlinks=False, **at)

    def access(self, name: str, mode: int) -> bool:
        where, at = self._at(name)
        return os.access(where, mode, **at)

    def open(self, name: str, flags: int, mode: int = 0o777) -> int:
        where, at = self._at(name)
        return os.open(where, flags, mode, **at)

    def chmod(self, name: str, mode: int) -> None:
        where, at = self._at(name)
        os.chmod(where, mode, **at)

    def replace(self, source: str, target: str) -> None:
        (a, at), (b, _) = self._at(source), self._at(target)
        os.replace(a, b, src_dir_fd=at.get("dir_fd"), dst_dir_fd=at.get("dir_fd"))

    def unlink(self, name: str) -> None:
        where, at = self._at(name)
        os.unlink(where, **at)

    def scandir(self):
        return os.scandir(self.fd if self.fd is not None else self.path)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "_Folder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_no_link(folder: _Folder, sidecar: Path) -> bytes:
    """The sidecar's bytes, read from what was opened without following a link: one swapped for a
    link (or a FIFO) since it was checked is refused, never read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = folder.open(sidecar.name, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise XmpError(f"{sidecar} is a symbolic link: left as it was") from None
        raise
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise XmpError(f"{sidecar} is not a regular file")
        os.set_blocking(fd, True)
        return stream.read()


def _serialise(root: ET.Element, declared: list[tuple[str, str]]) -> str:
    # keep the prefixes the file used (ElementTree would invent ns0, ns1, ...)
    for prefix, uri in [*declared, *_WELL_KNOWN.items()]:
        if prefix and not re.fullmatch(r"ns\d+", prefix):
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:
                pass
    return ET.tostring(root, encoding="unicode")


_CLEANED: set[str] = set()


def _remove_stale_temps(folder: _Folder) -> None:
    """Temporary files a killed write left (ours: ``.pc-*.xmp.tmp``; older versions':
    ``.NAME.xmp.XXXX.tmp``), once per folder and process; a fresh one may be another writer's."""
    key = os.fspath(folder.path)
    if key in _CLEANED:
        return
    _CLEANED.add(key)
    now = time.time()
    try:
        with folder.scandir() as listing:
            entries = list(listing)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not name.endswith(".tmp") or not (name.startswith(".pc-") or (name.startswith(".") and ".xmp." in name.lower())):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_S:
                folder.unlink(name)
        except OSError:
            pass


def _umask() -> int:
    with _STEMS_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _atomic_write(folder: _Folder, name: str, data: bytes) -> None:
    _remove_stale_temps(folder)
    # short and unique whatever the sidecar's name (a 250-byte name plus a suffix would pass 255)
    digest = hashlib.sha1(os.fsencode(name)).hexdigest()[:10]
    temp = f".pc-{digest}-{secrets.token_hex(4)}.xmp.tmp"
    try:
        existing = folder.lstat(name).st_mode & 0o7777
    except FileNotFoundError:
        existing = None
    mode = existing if existing is not None else 0o666 & ~_umask()
    fd = folder.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        folder.chmod(temp, mode)
        folder.replace(temp, name)
    except BaseException:
        try:
            folder.unlink(temp)
        except OSError:
            pass
        raise


def write_rating(
    photo: str | os.PathLike,
    rating: int | None,
    label: str | None = None,
    *,
    style: str = "replace",
    overwrite: bool = True,
    set_label: bool = False,
    inside: str | os.PathLike | None = None,
) -> Path | None:
    """Merge a rating (and optionally a label) into the sidecar of *photo*; the sidecar's path, or None if kept."""
    status, sidecar = write_rating_status(photo, rating, label, style=style, overwrite=overwrite, set_label=set_label, inside=inside)
    return None if status == "kept" else sidecar


def write_rating_status(
    photo: str | os.PathLike,
    rating: int | None,
    label: str | None = None,
    *,
    style: str = "replace",
    overwrite: bool = True,
    set_label: bool = False,
    inside: str | os.PathLike | None = None,
) -> tuple[str, Path]:
    """As :func:`write_rating`: ("written" | "unchanged" | "kept", the sidecar's path). Without
    *overwrite*, a rating embedded in the photo (Lightroom's, in the JPEG) counts as the user's.
    *inside*: as in :func:`merge_rating_status`."""
    sidecar = sidecar_path(photo, style)
    if not overwrite:
        embedded = read_embedded(photo)
        if embedded and embedded["rating"] not in (None, 0):
            return "kept", sidecar
    return merge_rating_status(sidecar, rating, label, overwrite=overwrite, set_label=set_label, inside=inside), sidecar


__all__ = [
    "NS_XMP",
    "STYLES",
    "XmpError",
    "find_sidecar",
    "merge_rating",
    "merge_rating_status",
    "shares_stem",
    "read_rating",
    "read_sidecar",
    "sidecar_path",
    "write_rating",
    "write_rating_status",
]
