"""Open any photo as oriented sRGB pixels at the size the model needs."""
from photocritic.imaging.decode import (
    HEIF_AVAILABLE,
    PHOTO_EXTENSIONS,
    RAW_EXTENSIONS,
    WORKING_LONG_SIDE,
    DecodedPhoto,
    decode_for_model,
    open_for_display,
)
from photocritic.imaging.errors import PhotoError

__all__ = [
    "DecodedPhoto",
    "PhotoError",
    "decode_for_model",
    "open_for_display",
    "HEIF_AVAILABLE",
    "PHOTO_EXTENSIONS",
    "RAW_EXTENSIONS",
    "WORKING_LONG_SIDE",
]
