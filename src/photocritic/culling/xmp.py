"""XMP sidecars: read a star rating, merge a rating and a colour label in, never lose anything else.

Lightroom, darktable, digiKam, Bridge, Capture One and exiftool all read ``xmp:Rating`` (0-5 stars;
-1 means "rejected" in Bridge, darktable and digiKam) and ``xmp:Label`` (a colour label's name)
from a sidecar next to the photo. Two naming conventions exist, both supported:

* ``"replace"``: ``IMG_1.xmp`` (Lightroom, Capture One, digiKam's default);
* ``"append"``: ``IMG_1.JPG.xmp`` (darktable, digiKam's option; unambiguous when IMG_1.JPG and
  IMG_1.CR2 sit side by side).

Writing merges: an existing sidecar is parsed with a real XML parser (defusedxml: no entity
expansion, no external resources), only ``xmp:Rating`` / ``xmp:Label`` (and our own
``photocritic:`` note) change, and every other property, namespace, comment and the xpacket
wrapper survive. A sidecar we cannot parse is left alone and reported (:class:`XmpError`), never
replaced. Writes go to a temporary file in the same folder and are renamed into place.

The photo itself is never opened for writing.
"""
from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import iterparse as safe_iterparse

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_PHOTOCRITIC = "https://github.com/photocritic/ns/1.0/"

STYLES = ("replace", "append")
_WELL_KNOWN = {"x": NS_X, "rdf": NS_RDF, "xmp": NS_XMP, "photocritic": NS_PHOTOCRITIC}

# processing instructions (the xpacket wrapper), comments and blanks around the root element
_OUTSIDE = r"(?:\s|<\?[^>]*\?>|<!--(?:(?!--).)*-->)*"
_PROLOGUE = re.compile(r"\A" + _OUTSIDE, re.S)
_EPILOGUE = re.compile(_OUTSIDE + r"\Z", re.S)

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
    """Where the sidecar of *photo* lives: ``IMG_1.xmp`` ("replace") or ``IMG_1.JPG.xmp`` ("append")."""
    photo = Path(photo)
    if style == "append":
        return photo.with_name(photo.name + ".xmp")
    if style == "replace":
        return photo.with_suffix(".xmp")
    raise ValueError(f"sidecar style must be one of {STYLES}, not {style!r}")


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
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
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

    try:
        with Image.open(photo) as image:
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
    wrote there) is kept. Returns True if the file was written. Raises :class:`XmpError` for a
    sidecar that exists but is not readable XMP (it is left as it was).
    """
    sidecar = Path(sidecar)
    if rating is not None and not -1 <= int(rating) <= 5:
        raise ValueError(f"xmp:Rating must be -1..5, not {rating}")
    if sidecar.exists():
        text = _read_text(sidecar)
    else:
        text = _NEW_SIDECAR
    root = _parse(text)
    rdf, descriptions = _descriptions(root)
    current = _get(descriptions, NS_XMP, "Rating")
    ours = _get(descriptions, NS_PHOTOCRITIC, "Rating")
    if not overwrite and current not in (None, "", "0") and current != ours:
        return False
    value = None if rating is None else str(int(rating))
    _set(descriptions, rdf, NS_XMP, "Rating", value)
    _set(descriptions, rdf, NS_PHOTOCRITIC, "Rating", value)
    if set_label:
        _set(descriptions, rdf, NS_XMP, "Label", label or None)
    prologue = _PROLOGUE.match(text).group(0)
    epilogue = _EPILOGUE.search(text).group(0)
    body = _serialise(root, _namespaces(text))
    _atomic_write(sidecar, prologue + body + epilogue if (prologue or epilogue) else body + "\n")
    return True


def _serialise(root: ET.Element, declared: list[tuple[str, str]]) -> str:
    # keep the prefixes the file used (ElementTree would invent ns0, ns1, ...)
    for prefix, uri in [*declared, *_WELL_KNOWN.items()]:
        if prefix and not re.fullmatch(r"ns\d+", prefix):
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:
                pass
    return ET.tostring(root, encoding="unicode")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            try:
                os.chmod(temp, os.stat(path).st_mode & 0o7777)
            except OSError:
                pass
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
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
) -> Path | None:
    """Merge a rating (and optionally a label) into the sidecar of *photo*; the sidecar's path, or None if kept."""
    sidecar = sidecar_path(photo, style)
    return sidecar if merge_rating(sidecar, rating, label, overwrite=overwrite, set_label=set_label) else None


__all__ = [
    "NS_XMP",
    "STYLES",
    "XmpError",
    "find_sidecar",
    "merge_rating",
    "read_rating",
    "read_sidecar",
    "sidecar_path",
    "write_rating",
]
