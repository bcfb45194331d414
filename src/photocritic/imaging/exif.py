"""Capture time and camera from EXIF, read through Pillow's own EXIF parser."""
from __future__ import annotations

import re
from datetime import datetime

from PIL import Image

_EXIF_IFD = 0x8769
_MAKE, _MODEL = 0x010F, 0x0110
_DATETIME = 0x0132
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_SUBSEC_ORIGINAL, _SUBSEC = 0x9291, 0x9290
_OFFSET_ORIGINAL = 0x9011

_EXIF_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text or None


def parse_exif_datetime(value: object, subsec: object = None, offset: object = None) -> str | None:
    """EXIF's 'YYYY:MM:DD HH:MM:SS' (+ sub-seconds, + offset) as ISO 8601, or None if unusable."""
    text = _text(value)
    if not text:
        return None
    match = _EXIF_DATE.match(text)
    if not match:
        return None
    try:
        moment = datetime(*(int(g) for g in match.groups()))
    except ValueError:  # 0000:00:00 00:00:00 and other placeholders cameras write
        return None
    iso = moment.isoformat()
    digits = re.sub(r"\D", "", _text(subsec) or "")
    if digits:
        iso += "." + (digits + "000000")[:6]
    tz = _text(offset)
    if tz and _valid_offset(tz):
        iso += tz
    return iso


def _valid_offset(tz: str) -> bool:
    """'+HH:MM' within the offsets clocks use (-12:00 to +14:00); '+99:99' and the like are dropped,
    so that ``datetime.fromisoformat`` reads every taken_at."""
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", tz)
    if not match or int(match.group(3)) > 59:
        return False
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    return minutes <= (14 * 60 if match.group(1) == "+" else 12 * 60)


def camera_name(make: object, model: object) -> str | None:
    """'Canon Canon EOS 20D' -> 'Canon EOS 20D': makers often repeat the make in the model."""
    make_text, model_text = _text(make), _text(model)
    if not model_text:
        return make_text
    if not make_text:
        return model_text
    first_word = make_text.split()[0].lower()
    if model_text.lower().startswith(first_word):
        return model_text
    return f"{make_text} {model_text}"


def read_capture_info(image: Image.Image) -> tuple[str | None, str | None]:
    """(taken_at as ISO 8601 or None, camera or None). Never raises on odd EXIF."""
    try:
        exif = image.getexif()
    except Exception:  # malformed EXIF must not cost the photo its score
        return None, None
    if not exif:
        return None, None
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:
        sub = {}
    taken_at = parse_exif_datetime(
        sub.get(_DATETIME_ORIGINAL), sub.get(_SUBSEC_ORIGINAL), sub.get(_OFFSET_ORIGINAL)
    ) or parse_exif_datetime(sub.get(_DATETIME_DIGITIZED), sub.get(_SUBSEC)) or parse_exif_datetime(
        exif.get(_DATETIME), sub.get(_SUBSEC)
    )
    return taken_at, camera_name(exif.get(_MAKE), exif.get(_MODEL))
