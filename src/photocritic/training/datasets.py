"""Rated photos for training: AVA on disk, a CSV of ratings, or good/bad folders; labels and splits.

Every loader returns a :class:`RatedPhotos`: absolute paths, vote counts (10 bins) where known,
mean ratings, a split (train / val / test) and the problems found on the way (a missing image,
an unusable CSV row), each with its reason. Problem photos are left out, never silently: the
caller prints them and writes them into the run folder. Corrupt images are found later, when
the feature cache decodes them through the scoring pipeline, and are reported the same way.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from photocritic.ava.parsing import read_ava, read_id_list, read_names
from photocritic.imaging import PHOTO_EXTENSIONS
from photocritic.models.heads import RATINGS, gaussian_distribution

SPLITS = ("train", "val", "test")
VOTE_COLUMN_PREFIXES = ("n", "votes_", "count_", "r")


@dataclass
class Problem:
    item: str  # a path, an image id or a CSV line
    reason: str

    def __str__(self) -> str:
        return f"{self.item}: {self.reason}"


@dataclass
class RatedPhotos:
    paths: list[str]
    means: np.ndarray  # (n,) mean rating 1..10; NaN where only good/bad is known
    counts: np.ndarray | None = None  # (n, 10) vote counts for ratings 1..10, where known
    good: np.ndarray | None = None  # (n,) bool, for good/bad folders
    split: np.ndarray | None = None  # (n,) "train" | "val" | "test"
    groups: np.ndarray | None = None  # photos of one group always share a split
    source: str = ""
    problems: list[Problem] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)  # path -> AVA semantic tags / challenge

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, mask: np.ndarray) -> RatedPhotos:
        index = np.flatnonzero(mask)
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        paths = [self.paths[i] for i in index]
        return RatedPhotos(paths, self.means[index], pick(self.counts), pick(self.good), pick(self.split),
                           pick(self.groups), self.source, list(self.problems),
                           {p: self.tags[p] for p in paths if p in self.tags})

    def distributions(self) -> np.ndarray:
        """Normalised vote distributions; a discretised normal around the mean where no votes are known."""
        if self.counts is not None:
            counts = self.counts.astype(np.float64)
            return counts / counts.sum(axis=1, keepdims=True)
        return gaussian_distribution(self.means)


def assign_splits(n: int, val_fraction: float, test_fraction: float, seed: int,
                  test_mask: np.ndarray | None = None, train_mask: np.ndarray | None = None,
                  groups: np.ndarray | None = None) -> np.ndarray:
    """A fixed-seed split. With official lists, test = the test list and val comes out of train."""
    rng = np.random.default_rng(seed)
    keys = np.asarray(groups) if groups is not None else np.arange(n)
    unique = np.unique(keys)
    draw = dict(zip(unique.tolist(), rng.random(unique.size).tolist()))
    u = np.array([draw[k] for k in keys.tolist()]) if n else np.zeros(0)
    split = np.full(n, "train", dtype=object)
    if test_mask is not None:
        split[test_mask] = "test"
        if train_mask is not None:
            split[~test_mask & ~train_mask] = "unused"
        split[(split == "train") & (u < val_fraction)] = "val"
    else:
        split[u < test_fraction] = "test"
        split[(u >= test_fraction) & (u < test_fraction + val_fraction)] = "val"
    return split.astype(str)


def _find_image(folder: Path, image_id: int, names: dict[str, Path] | None) -> Path | None:
    candidate = folder / f"{image_id}.jpg"
    if candidate.is_file():
        return candidate
    if names is not None:
        return names.get(str(image_id))
    return None


def load_ava(ava_txt: str | os.PathLike, image_dir: str | os.PathLike, *, train_list: str | os.PathLike | None = None,
             test_list: str | os.PathLike | None = None, tags_txt: str | os.PathLike | None = None,
             challenges_txt: str | os.PathLike | None = None, val_fraction: float = 0.1, test_fraction: float = 0.1,
             seed: int = 0, limit: int | None = None) -> RatedPhotos:
    """AVA.txt (or any file in its format) and the folder of images named ``<image id>.jpg``.

    With ``test_list`` (e.g. ``generic_test.jpgl``) the official split is used; ``train_list``
    (``generic_ls_train.jpgl``, or a category list) keeps only its ids for training. Rows whose image
    is missing or empty are reported and left out.
    """
    data = read_ava(ava_txt)
    problems = [Problem(f"{ava_txt} line {row.line}", row.reason) for row in data.bad_rows]
    folder = Path(image_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    wanted = None
    if train_list is not None:  # only the listed photos (train and test lists); a test list alone keeps every row
        wanted = set()
        for listed in (train_list, test_list):
            if listed is not None:
                wanted |= set(read_id_list(listed).tolist())
    other_names = {p.stem: p for p in folder.iterdir() if p.suffix.lower() in PHOTO_EXTENSIONS and p.suffix.lower() != ".jpg"}
    tag_names = read_names(tags_txt) if tags_txt else {}
    challenge_names = read_names(challenges_txt) if challenges_txt else {}
    paths, keep, tags = [], [], {}
    for i, image_id in enumerate(data.image_id.tolist()):
        if wanted is not None and image_id not in wanted:
            continue
        path = _find_image(folder, image_id, other_names or None)
        if path is None:
            problems.append(Problem(f"image {image_id}", f"no image file {folder / f'{image_id}.jpg'}"))
            continue
        if path.stat().st_size == 0:
            problems.append(Problem(str(path), "empty file (0 bytes)"))
            continue
        paths.append(str(path.resolve()))
        keep.append(i)
        labels = [tag_names.get(int(t), f"tag {t}") for t in (data.tag1[i], data.tag2[i]) if t]
        if data.challenge[i] and challenge_names:
            labels.append(challenge_names.get(int(data.challenge[i]), f"challenge {data.challenge[i]}"))
        if labels:
            tags[paths[-1]] = labels
        if limit is not None and len(paths) >= limit:
            break
    keep_index = np.array(keep, dtype=np.int64)
    counts = data.counts[keep_index].astype(np.float64)
    ids = data.image_id[keep_index]
    test_mask = np.isin(ids, read_id_list(test_list)) if test_list is not None else None
    train_mask = np.isin(ids, read_id_list(train_list)) if train_list is not None else None
    split = assign_splits(len(paths), val_fraction, test_fraction, seed, test_mask, train_mask)
    means = counts @ RATINGS / counts.sum(axis=1) if len(paths) else np.zeros(0)
    return RatedPhotos(paths, means, counts, None, split, None, str(ava_txt), problems, tags)


def _vote_columns(header: list[str]) -> list[str] | None:
    lowered = [h.strip().lower() for h in header]
    for prefix in VOTE_COLUMN_PREFIXES:
        names = [f"{prefix}{k}" for k in range(1, 11)]
        if all(name in lowered for name in names):
            return [header[lowered.index(name)] for name in names]
    return None


def load_ratings_csv(csv_path: str | os.PathLike, root: str | os.PathLike | None = None, *, val_fraction: float = 0.1,
                     test_fraction: float = 0.1, seed: int = 0) -> RatedPhotos:
    """A CSV with a ``path`` column and either ``mean`` (or ``score``) or ten vote columns ``n1..n10``.

    Relative paths are read from ``root`` (default: the CSV's folder). An optional ``split`` column
    (train / val / test) fixes the split.
    """
    csv_path = Path(csv_path)
    root = Path(root) if root is not None else csv_path.parent
    with open(csv_path, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        header = reader.fieldnames or []
        lowered = {h.strip().lower(): h for h in header}
        if "path" not in lowered:
            raise ValueError(f"{csv_path}: needs a 'path' column (has: {', '.join(header) or 'none'})")
        vote_columns = _vote_columns(header)
        mean_column = lowered.get("mean") or lowered.get("score")
        if vote_columns is None and mean_column is None:
            raise ValueError(f"{csv_path}: needs a 'mean' column or ten vote columns n1..n10")
        paths, means, counts, splits, problems = [], [], [], [], []
        for line, row in enumerate(reader, start=2):
            raw_path = (row.get(lowered["path"]) or "").strip()
            path = Path(raw_path) if os.path.isabs(raw_path) else root / raw_path
            try:
                if vote_columns is not None:
                    votes = [float(row[c]) for c in vote_columns]
                    if min(votes) < 0 or sum(votes) <= 0:
                        raise ValueError("vote counts must be non-negative and not all zero")
                    mean = float(np.dot(votes, RATINGS) / sum(votes))
                else:
                    mean = float(row[mean_column])
                    if not 1.0 <= mean <= 10.0:
                        raise ValueError(f"mean {mean} is outside 1..10")
            except (TypeError, ValueError) as exc:
                problems.append(Problem(f"{csv_path} line {line}", f"unusable rating: {exc}"))
                continue
            if not raw_path or not path.is_file():
                problems.append(Problem(str(path), "image file not found"))
                continue
            paths.append(str(path.resolve()))
            means.append(mean)
            if vote_columns is not None:
                counts.append(votes)
            splits.append((row.get(lowered.get("split", ""), "") or "").strip().lower())
    means_array = np.array(means, dtype=np.float64)
    given = np.array(splits, dtype=object)
    if len(paths) and all(s in SPLITS for s in splits):
        split = given.astype(str)
    else:
        split = assign_splits(len(paths), val_fraction, test_fraction, seed)
    counts_array = np.array(counts, dtype=np.float64) if vote_columns is not None else None
    return RatedPhotos(paths, means_array, counts_array, None, split, None, str(csv_path), problems)


def load_good_bad(folder: str | os.PathLike, *, val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0) -> RatedPhotos:
    """``folder/good`` and ``folder/bad``; files with the same name stem share a split (a photo and its
    damaged copy never straddle train and test)."""
    folder = Path(folder)
    paths, good, groups = [], [], []
    for label, sub in ((True, "good"), (False, "bad")):
        if not (folder / sub).is_dir():
            raise FileNotFoundError(f"{folder / sub} is not a folder (good/bad datasets need both)")
        for path in sorted((folder / sub).iterdir()):
            if path.suffix.lower() in PHOTO_EXTENSIONS and path.is_file():
                paths.append(str(path.resolve()))
                good.append(label)
                groups.append(path.stem)
    groups_array = np.array(groups, dtype=object)
    split = assign_splits(len(paths), val_fraction, test_fraction, seed, groups=groups_array)
    return RatedPhotos(paths, np.full(len(paths), np.nan), None, np.array(good, dtype=bool), split, groups_array, str(folder))


def binary_labels(photos: RatedPhotos, rule: str = "threshold", threshold: float = 5.0,
                  fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(good, keep): good = mean > threshold; with ``top_bottom`` only the top and bottom ``fraction``
    of each split by mean are kept (cut-offs from the training split, as seed 001 did)."""
    if photos.good is not None:
        return photos.good.copy(), np.ones(len(photos), dtype=bool)
    means = photos.means
    if rule == "threshold":
        return means > threshold, np.ones(len(photos), dtype=bool)
    train = means[photos.split == "train"] if photos.split is not None else means
    low, high = np.quantile(train, [fraction, 1 - fraction])
    return means >= high, (means <= low) | (means >= high)
