"""Capture time, camera and exposure settings from EXIF, read through Pillow's own EXIF parser."""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

_EXIF_IFD = 0x8769
_MAKE, _MODEL = 0x010F, 0x0110
_DATETIME = 0x0132
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_SUBSEC_ORIGINAL, _SUBSEC = 0x9291, 0x9290
_OFFSET_ORIGINAL = 0x9011
_EXPOSURE_TIME, _F_NUMBER, _ISO, _EXPOSURE_BIAS = 0x829A, 0x829D, 0x8827, 0x9204

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


@dataclass(frozen=True)
class ExposureSettings:
    """What the camera was set to: exposure compensation (EV), shutter time (s), f-number, ISO; None where
    EXIF does not say (or says something no camera can: a zero denominator, a negative time, a string)."""

    bias: float | None = None
    time: float | None = None
    f_number: float | None = None
    iso: float | None = None

    @property
    def light(self) -> float | None:
        """Stops of exposure the settings give, relative to 1 s at f/1 and ISO 100 (the sensor's EV of the
        settings, sign reversed: +1 is one stop brighter); None unless time and f-number are known."""
        if self.time is None or self.f_number is None:
            return None
        return math.log2(self.time) - 2.0 * math.log2(self.f_number) + math.log2((self.iso or 100.0) / 100.0)


def _number(value: object, low: float, high: float) -> float | None:
    """An EXIF number (int, float, rational; of a tuple, its first value) within [low, high], else None."""
    try:
        if isinstance(value, (tuple, list)):  # ISO written as several values
            value = value[0] if value else None
        if isinstance(value, (bytes, str)) or value is None:
            return None
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def read_exposure_settings(image: Image.Image) -> ExposureSettings:
    """:class:`ExposureSettings` of an open image; all None when it has no (readable) EXIF. Never raises."""
    try:
        sub = image.getexif().get_ifd(_EXIF_IFD)
    except Exception:  # malformed EXIF: no settings, the photo is still judged
        return ExposureSettings()
    time = _number(sub.get(_EXPOSURE_TIME), 1e-6, 86400.0)
    f_number = _number(sub.get(_F_NUMBER), 0.5, 512.0)
    iso = _number(sub.get(_ISO), 1.0, 1e7)
    return ExposureSettings(_number(sub.get(_EXPOSURE_BIAS), -20.0, 20.0), time if time and time > 0 else None, f_number, iso)


def exposure_settings_of_file(path: str | os.PathLike) -> ExposureSettings | None:
    """:func:`read_exposure_settings` of a photo file, reading its header only; None if Pillow cannot open it."""
    try:
        with Image.open(path) as image:
            return read_exposure_settings(image)
    except Exception:  # not an image Pillow knows (a RAW it cannot parse, a truncated file)
        return None
