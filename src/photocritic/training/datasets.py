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
    kind: str = "ratings"  # the labels: "ava" (AVA votes), "votes" (n1..n10), "ratings" (a mean), "good/bad"
    note: str = ""  # what the loader found, for the run's log

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, mask: np.ndarray) -> RatedPhotos:
        index = np.flatnonzero(mask)
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        paths = [self.paths[i] for i in index]
        return RatedPhotos(paths, self.means[index], pick(self.counts), pick(self.good), pick(self.split),
                           pick(self.groups), self.source, list(self.problems),
                           {p: self.tags[p] for p in paths if p in self.tags}, self.kind, self.note)

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


#: Held-out sets smaller than this give figures whose 95% intervals span most of the scale: a small
#: dataset gives up a larger share to them (never more than a quarter each) and the run says so.
MIN_TEST = 20
MIN_VAL = 10
FEW_TEST = 30


def stratified_splits(strata: np.ndarray, val_fraction: float, test_fraction: float, seed: int,
                      groups: np.ndarray | None = None, min_test: int = MIN_TEST, min_val: int = MIN_VAL) -> np.ndarray:
    """A fixed-seed split in which every stratum (a class, a rating band) keeps its share in each part.

    Photos of one group (a photo and its copies) share a part. A small dataset gives its held-out
    parts at least ``min_test`` / ``min_val`` photos where a quarter (a fifth) of it allows, so that
    41 photos are not judged on 4.
    """
    n = len(strata)
    split = np.full(n, "train", dtype=object)
    if n == 0:
        return split.astype(str)
    keys = np.asarray(groups, dtype=object) if groups is not None else np.arange(n)
    test_share = max(test_fraction, min(min_test, n // 4) / n) if test_fraction > 0 else 0.0
    val_share = max(val_fraction, min(min_val, n // 5) / n) if val_fraction > 0 else 0.0
    rng = np.random.default_rng(seed)
    # a group's stratum is that of its first member; groups are drawn, whole, within their stratum
    first: dict = {}
    for i, key in enumerate(keys.tolist()):
        first.setdefault(key, i)
    by_stratum: dict = {}
    for key, i in first.items():
        by_stratum.setdefault(strata[i], []).append(key)
    part_of: dict = {}
    for stratum in sorted(by_stratum, key=str):
        members = by_stratum[stratum]
        order = rng.permutation(len(members))
        k_test = int(round(test_share * len(members)))
        k_val = int(round(val_share * len(members)))
        if len(members) - k_test - k_val < 1 and len(members) > 2:  # keep one of each stratum to learn from
            k_val = max(0, len(members) - k_test - 1)
        for rank, j in enumerate(order.tolist()):
            part_of[members[j]] = "test" if rank < k_test else ("val" if rank < k_test + k_val else "train")
    for i, key in enumerate(keys.tolist()):
        split[i] = part_of[key]
    return split.astype(str)


def rating_strata(means: np.ndarray, bands: int = 4) -> np.ndarray:
    """Rating bands by quantile, so that each part covers the low, middling and high photos alike."""
    if means.size == 0:
        return np.zeros(0, dtype=int)
    edges = np.quantile(means, np.linspace(0, 1, bands + 1)[1:-1])
    return np.searchsorted(edges, means, side="right")


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
    looked_for = 0
    example = None
    for i, image_id in enumerate(data.image_id.tolist()):
        if wanted is not None and image_id not in wanted:
            continue
        looked_for += 1
        example = example or f"{image_id}.jpg"
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
    if not paths:
        present = sorted(p.name for p in folder.iterdir() if p.is_file())[:3]
        raise ValueError(
            f"none of the {looked_for} AVA images was found: looked for <image id>.jpg (e.g. {example or 'none listed'}) "
            f"in {folder}" + (f", which holds {', '.join(present)}, ..." if present else ", which is empty")
            + ("; --train-list/--test-list also narrow the ids" if wanted is not None else ""))
    keep_index = np.array(keep, dtype=np.int64)
    counts = data.counts[keep_index].astype(np.float64)
    ids = data.image_id[keep_index]
    test_mask = np.isin(ids, read_id_list(test_list)) if test_list is not None else None
    train_mask = np.isin(ids, read_id_list(train_list)) if train_list is not None else None
    means = counts @ RATINGS / counts.sum(axis=1) if len(paths) else np.zeros(0)
    if test_mask is not None:
        split = assign_splits(len(paths), val_fraction, test_fraction, seed, test_mask, train_mask)
    else:
        split = stratified_splits(rating_strata(means), val_fraction, test_fraction, seed)
    found = f"found {len(paths)} of the {looked_for} AVA images (<image id>.jpg) in {folder}"
    return RatedPhotos(paths, means, counts, None, split, None, str(ava_txt), problems, tags, kind="ava", note=found)


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
    try:
        return _load_ratings_csv(csv_path, root, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
    except (UnicodeDecodeError, csv.Error) as exc:  # a photo or another binary file given as the CSV
        raise ValueError(f"{csv_path}: not a CSV text file (UTF-8, a header line with a 'path' column): {exc}") from None


def _load_ratings_csv(csv_path, root, *, val_fraction: float, test_fraction: float, seed: int) -> RatedPhotos:
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
        split = stratified_splits(rating_strata(means_array), val_fraction, test_fraction, seed)
    counts_array = np.array(counts, dtype=np.float64) if vote_columns is not None else None
    return RatedPhotos(paths, means_array, counts_array, None, split, None, str(csv_path), problems,
                       kind="votes" if vote_columns is not None else "ratings")


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
    good_array = np.array(good, dtype=bool)
    split = stratified_splits(good_array, val_fraction, test_fraction, seed, groups=groups_array)
    return RatedPhotos(paths, np.full(len(paths), np.nan), None, good_array, split, groups_array, str(folder),
                       kind="good/bad")


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
