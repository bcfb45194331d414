"""Where a person's taste is already written down: good/bad folders, star ratings, a CSV.

Every source gives the same thing: a list of :class:`Label` (path, keep or not), plus the
files it had to pass over and why, so a user can see what was learned from.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from photocritic.library.scan import find_photos

#: Stars at or above which a rated photo counts as "keep" (Lightroom's usual 3-star cut).
DEFAULT_STAR_THRESHOLD = 3


@dataclass(frozen=True)
class Label:
    path: str
    keep: bool
    source: str  # "folder", "xmp", "csv"


@dataclass
class LabelSet:
    labels: list[Label] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def paths(self) -> list[str]:
        return [label.path for label in self.labels]

    @property
    def y(self) -> list[int]:
        return [int(label.keep) for label in self.labels]

    def summary(self) -> str:
        keep = sum(self.y)
        return f"{len(self.labels)} labelled photos ({keep} keep, {len(self.labels) - keep} not), {len(self.skipped)} skipped"


def labels_from_folders(good: str | os.PathLike, bad: str | os.PathLike, recursive: bool = True) -> LabelSet:
    """Seed 003's layout: one folder of keepers, one of the rest. Raises ValueError if a photo is in both
    (one folder given twice, or one inside the other): it cannot be kept and not kept."""
    out = LabelSet()
    for folder, keep in ((good, True), (bad, False)):
        for path in find_photos([folder], recursive=recursive):
            out.labels.append(Label(str(path), keep, "folder"))
    kept = {os.path.realpath(label.path) for label in out.labels if label.keep}
    both = sorted(label.path for label in out.labels if not label.keep and os.path.realpath(label.path) in kept)
    if both:
        raise ValueError(f"{len(both)} of the photos are under both --good and --bad (e.g. {both[0]!r}): a photo cannot be "
                         "kept and not kept; give two folders that share no photo")
    return out


def stars_to_keep(rating: int | None, threshold: int = DEFAULT_STAR_THRESHOLD) -> bool | None:
    """Stars -> keep (True), not (False), or unknown (None).

    -1 is the "rejected" flag Lightroom and darktable write; 0 or no rating means the photographer
    never judged the photo, which is no evidence either way, so it is left out.
    """
    if rating is None or rating == 0:
        return None
    if rating < 0:
        return False
    return rating >= threshold


def labels_from_ratings(
    paths: list[str | os.PathLike], threshold: int = DEFAULT_STAR_THRESHOLD, recursive: bool = True
) -> LabelSet:
    """Star ratings from XMP sidecars (IMG_1.xmp or IMG_1.JPG.xmp) or XMP embedded in the photo."""
    from photocritic.culling.xmp import read_rating

    out = LabelSet()
    for path in find_photos(list(paths), recursive=recursive):
        try:
            rating = read_rating(path)
        except Exception as exc:  # an unreadable sidecar skips one photo, not the set
            out.skipped.append((str(path), f"unreadable XMP: {exc}"))
            continue
        keep = stars_to_keep(rating, threshold)
        if keep is None:
            out.skipped.append((str(path), "no star rating"))
        else:
            out.labels.append(Label(str(path), keep, "xmp"))
    return out


def labels_from_csv(csv_path: str | os.PathLike, threshold: float = DEFAULT_STAR_THRESHOLD) -> LabelSet:
    """A CSV with a `path` column and either `label` (keep/good/1/true vs the rest) or `rating` (stars)."""
    csv_path = Path(csv_path)
    out = LabelSet()
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {c.strip().lower(): c for c in reader.fieldnames or []}
        if "path" not in columns or not ({"label", "rating"} & columns.keys()):
            raise ValueError(f"{csv_path}: needs a 'path' column and a 'label' or 'rating' column")
        for line_number, row in enumerate(reader, start=2):
            raw_path = (row.get(columns["path"]) or "").strip()
            if not raw_path:
                out.skipped.append((f"{csv_path}:{line_number}", "empty path"))
                continue
            path = Path(raw_path).expanduser()
            if not path.is_absolute():
                path = csv_path.parent / path
            path_text = os.path.abspath(path)
            if not path.is_file():
                out.skipped.append((path_text, f"line {line_number}: file not found"))
                continue
            if "label" in columns:
                value = (row.get(columns["label"]) or "").strip().lower()
                if value in {"1", "true", "yes", "keep", "good", "pick"}:
                    keep = True
                elif value in {"0", "false", "no", "reject", "bad", "drop"}:
                    keep = False
                else:
                    out.skipped.append((path_text, f"line {line_number}: label {value!r} is not keep/reject"))
                    continue
            else:
                try:
                    keep = stars_to_keep(round(float(row.get(columns["rating"]) or 0)), int(threshold))
                except ValueError:
                    keep = None
                if keep is None:
                    out.skipped.append((path_text, f"line {line_number}: no usable rating"))
                    continue
            out.labels.append(Label(path_text, keep, "csv"))
    return out
