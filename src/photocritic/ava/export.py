"""Write a cleaned AVA set, ready for training: filters applied, a chosen score, train/val/test splits.

Output folder::

    train.txt, val.txt, test.txt   AVA.txt format (15 columns, the original rows), one file per split
    ava_clean.csv                  one row per kept photo: image_id, split, score (the chosen one), every
                                   score, votes, vote_sd, votes_1..votes_10, tags, challenge (ids and names)
    ava_clean.parquet              the same table, when pyarrow is importable
    manifest.json                  source, filters, score formula, split method and seed, counts

Splits
    ``official``: a photo listed in the test list (``generic_test.jpgl``) is test, one in the train list
    (``generic_ls_train.jpgl``) is train; photos in neither are train (``unlisted="train"``, the usual
    AVA practice: everything not in the official test set) or left out (``unlisted="drop"``).
    ``random``: each photo draws a uniform number from a seeded hash of its image id
    (splitmix64); below ``test_fraction`` it is test, below ``test_fraction + val_fraction`` val.
    Hashing instead of shuffling keeps a photo in the same split whatever the filters remove.
    With ``official``, ``val_fraction`` carves a validation set out of train the same way.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photocritic.ava.filters import FilterSpec, apply_filters
from photocritic.ava.parsing import AvaData, read_id_list
from photocritic.ava.scores import SCORE_FORMULAS, SCORE_NAMES, compute_scores

SPLITS = ("train", "val", "test")
FORMATS = ("ava", "csv", "parquet")


class ExportError(ValueError):
    """Bad export settings (a usage error)."""


@dataclass
class ExportResult:
    folder: Path
    counts: dict[str, int]
    files: list[Path]
    manifest: dict


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def hash_uniform(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per id, from splitmix64(id + seed * golden)."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, dtype=np.uint64) + np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def random_split(ids: np.ndarray, test_fraction: float, val_fraction: float, seed: int) -> np.ndarray:
    if not (0 <= test_fraction < 1 and 0 <= val_fraction < 1 and test_fraction + val_fraction < 1):
        raise ExportError("test and val fractions must be in [0, 1) and sum to less than 1")
    u = hash_uniform(ids, seed)
    split = np.full(ids.shape, "train", dtype=object)
    split[u < test_fraction + val_fraction] = "val"
    split[u < test_fraction] = "test"
    return split


def official_split(ids: np.ndarray, train_ids: np.ndarray | None, test_ids: np.ndarray, unlisted: str = "train",
                   val_fraction: float = 0.0, seed: int = 0) -> np.ndarray:
    if unlisted not in ("train", "drop"):
        raise ExportError("unlisted must be 'train' or 'drop'")
    split = np.full(ids.shape, "train" if unlisted == "train" else "", dtype=object)
    if train_ids is not None:
        split[np.isin(ids, train_ids)] = "train"
    split[np.isin(ids, test_ids)] = "test"
    if val_fraction > 0:
        split[(split == "train") & (hash_uniform(ids, seed) < val_fraction)] = "val"
    return split


def _name(names: dict[int, str], value: int) -> str:
    return names.get(int(value), "") if value else ""


def export_clean(data: AvaData, out_dir: Path, spec: FilterSpec | None = None, score: str = "bayes", split: str = "random",
                 test_fraction: float = 0.1, val_fraction: float = 0.0, seed: int = 0, train_list: Path | None = None,
                 test_list: Path | None = None, unlisted: str = "train", formats: tuple[str, ...] = ("ava", "csv", "parquet"),
                 tag_names: dict[int, str] | None = None, challenge_names: dict[int, str] | None = None,
                 prior_votes: float | None = None) -> ExportResult:
    """Filter, score and split `data`; write the files listed in the module docstring."""
    tag_names, challenge_names = tag_names or {}, challenge_names or {}
    if score not in SCORE_NAMES:
        raise ExportError(f"score must be one of {', '.join(SCORE_NAMES)}, not {score!r}")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ExportError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    spec = spec or FilterSpec()
    filters = apply_filters(data, spec, tag_names, challenge_names)
    kept = data.subset(filters.keep)
    if len(kept) == 0:
        raise ExportError("the filters left no photos")
    # Scores are computed on the kept photos: challenge priors and rarity weights reflect the cleaned set.
    scores = compute_scores(kept.counts, kept.challenge, prior_votes)
    if split == "random":
        assignment = random_split(kept.image_id, test_fraction, val_fraction, seed)
        split_info = {"method": "random (splitmix64 hash of image id)", "seed": seed, "test_fraction": test_fraction,
                      "val_fraction": val_fraction}
    elif split == "official":
        if test_list is None:
            raise ExportError("--split official needs the official test list (generic_test.jpgl)")
        train_ids = read_id_list(train_list) if train_list else None
        assignment = official_split(kept.image_id, train_ids, read_id_list(test_list), unlisted, val_fraction, seed)
        split_info = {"method": "official", "train_list": str(train_list) if train_list else None, "test_list": str(test_list),
                      "unlisted": unlisted, "val_fraction": val_fraction, "seed": seed}
    else:
        raise ExportError(f"split must be 'random' or 'official', not {split!r}")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    counts = {name: int((assignment == name).sum()) for name in SPLITS}
    counts["left_out_unlisted"] = int((assignment == "").sum())
    matrix = kept.to_matrix()
    if "ava" in formats:
        for name in SPLITS:
            rows = matrix[assignment == name]
            path = out_dir / f"{name}.txt"
            if rows.size:
                _atomic_text(path, "".join(" ".join(map(str, row)) + "\n" for row in rows.tolist()))
                files.append(path)
            elif path.exists():
                path.unlink()
    columns, table = _clean_table(kept, scores, score, assignment, tag_names, challenge_names)
    if "csv" in formats:
        path = out_dir / "ava_clean.csv"
        partial = path.with_name(path.name + ".partial")
        try:
            with open(partial, "w", newline="", encoding="utf-8") as stream:
                writer = csv.writer(stream)
                writer.writerow(columns)
                writer.writerows(zip(*[_csv_values(col) for col in table]))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)  # never left behind by a failure
        files.append(path)
    if "parquet" in formats and parquet_available():
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = out_dir / "ava_clean.parquet"
        pq.write_table(pa.table({name: (col.tolist() if col.dtype.kind in "OU" else col) for name, col in zip(columns, table)}), path)
        files.append(path)
    manifest = {"source": data.source, "rows_read": len(data) + len(data.bad_rows), "bad_rows": len(data.bad_rows),
                "filters": [{"left_out": label, "photos": n} for label, n in filters.steps], "photos": len(kept),
                "score": score, "score_formula": SCORE_FORMULAS[score], "prior_votes": scores.prior_votes, "split": split_info,
                "counts": counts, "columns": columns, "files": [p.name for p in files]}
    manifest_path = out_dir / "manifest.json"
    _atomic_text(manifest_path, json.dumps(manifest, indent=2))
    files.append(manifest_path)
    return ExportResult(out_dir, counts, files, manifest)


def _atomic_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # never left behind by a failure


def _csv_values(column: np.ndarray) -> list:
    if column.dtype.kind == "f":
        return [f"{v:.6f}" for v in column.tolist()]
    return column.tolist()


def _clean_table(kept: AvaData, scores, score: str, assignment, tag_names, challenge_names):
    columns = ["image_id", "split", "score"] + [f"score_{n}" for n in SCORE_NAMES] + ["votes", "vote_sd"] + \
        [f"votes_{k}" for k in range(1, 11)] + ["tag1", "tag2", "tag1_name", "tag2_name", "challenge", "challenge_name", "source_line"]
    table = [kept.image_id, assignment.astype(str), scores.scores[score]] + [scores.scores[n] for n in SCORE_NAMES] + \
        [kept.votes, scores.sd] + [kept.counts[:, k] for k in range(10)] + \
        [kept.tag1, kept.tag2, np.array([_name(tag_names, t) for t in kept.tag1.tolist()], dtype=object),
         np.array([_name(tag_names, t) for t in kept.tag2.tolist()], dtype=object), kept.challenge,
         np.array([challenge_names.get(int(c), "") for c in kept.challenge.tolist()], dtype=object), kept.line]
    keep = assignment != ""
    return columns, [np.asarray(col)[keep] for col in table]
