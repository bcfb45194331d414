"""Personal taste: learn what this user keeps, from the picks they already made."""
from photocritic.taste.labels import (
    DEFAULT_STAR_THRESHOLD,
    Label,
    LabelSet,
    labels_from_csv,
    labels_from_folders,
    labels_from_ratings,
)
from photocritic.taste.model import PhotoFeatures, TasteModel

__all__ = [
    "DEFAULT_STAR_THRESHOLD",
    "Label",
    "LabelSet",
    "PhotoFeatures",
    "TasteModel",
    "labels_from_csv",
    "labels_from_folders",
    "labels_from_ratings",
]
