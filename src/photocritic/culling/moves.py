"""Move rejects into a folder, journalled, and undo it with one command.

The journal (JSON) is written *before* anything moves, listing every planned move (photo and its
sidecars), and rewritten at the end with what happened. Undo does not trust the journal's
statuses: for each entry it moves the file back when it is at its destination and its original
place is free, so a run interrupted half-way is undone just as well. Nothing is ever overwritten:
a name already taken in the reject folder gets a " (1)", " (2)" suffix, and a move back onto an
existing file is refused and reported.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL_VERSION = 1


@dataclass
class MoveResult:
    journal: Path
    moved: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per file left where it was


def _sidecars(photo: Path) -> list[Path]:
    candidates = [photo.with_name(photo.name + ".xmp"), photo.with_suffix(".xmp")]
    for upper in (photo.with_name(photo.name + ".XMP"), photo.with_suffix(".XMP")):
        candidates.append(upper)
    seen: list[Path] = []
    for candidate in candidates:
        if candidate != photo and candidate.is_file() and all(not _same(candidate, s) for s in seen):
            seen.append(candidate)
    return seen


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _free_name(folder: Path, name: str, taken: set[str]) -> Path:
    stem, suffix = os.path.splitext(name)
    if name.lower().endswith(".xmp") and "." in stem:  # IMG_1.JPG.xmp keeps its double suffix
        stem, inner = os.path.splitext(stem)
        suffix = inner + suffix
    candidate, n = folder / name, 0
    while candidate.exists() or str(candidate) in taken:
        n += 1
        candidate = folder / f"{stem} ({n}){suffix}"
    taken.add(str(candidate))
    return candidate


def write_journal(path: Path, data: dict) -> None:
    """Atomically (temp file + rename) write the journal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1, ensure_ascii=False)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, path)


def _move(source: Path, target: Path) -> None:
    if target.exists():
        raise FileExistsError(str(target))
    try:
        os.link(source, target)  # same file system: atomic, and never replaces target
        os.unlink(source)
    except OSError:
        if target.exists() and _same(source, target):
            os.unlink(source)
            return
        shutil.move(str(source), str(target))


def move_rejects(photos: list[str | os.PathLike], folder: str | os.PathLike, journal: str | os.PathLike | None = None) -> MoveResult:
    """Move *photos* (and their XMP sidecars) into *folder*; journal to *journal* (default: inside *folder*)."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    journal_path = Path(journal).expanduser().resolve() if journal else folder / f"photocritic-cull-{time.strftime('%Y%m%d-%H%M%S')}.json"
    taken: set[str] = set()
    entries = []
    for photo in photos:
        photo = Path(photo).resolve()
        if photo.parent == folder:
            continue  # already in the reject folder
        group = [photo, *_sidecars(photo)]
        for source in group:
            target = _free_name(folder, source.name, taken)
            entries.append({"from": str(source), "to": str(target), "status": "planned", "photo": str(photo)})
    data = {"version": JOURNAL_VERSION, "tool": "photocritic cull --move-rejects", "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "folder": str(folder), "moves": entries}
    write_journal(journal_path, data)
    result = MoveResult(journal_path)
    for entry in entries:
        try:
            _move(Path(entry["from"]), Path(entry["to"]))
            entry["status"] = "moved"
            result.moved += 1
        except OSError as exc:
            entry["status"] = f"failed: {exc.strerror or exc}"
            result.skipped.append(f"{entry['from']}: {entry['status']}")
    write_journal(journal_path, data)
    return result


def undo_moves(journal: str | os.PathLike) -> MoveResult:
    """Put back every file a journal moved (newest first); the journal records the undo."""
    journal_path = Path(journal).expanduser()
    try:
        data = json.loads(journal_path.read_text(encoding="utf-8"))
        entries = data["moves"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{journal_path}: not a photocritic move journal ({exc})") from None
    result = MoveResult(journal_path)
    for entry in reversed(entries):
        source, target = Path(entry["from"]), Path(entry["to"])
        if not target.exists():
            if entry.get("status") == "moved":
                result.skipped.append(f"{target}: no longer in the reject folder")
            continue
        if source.exists():
            result.skipped.append(f"{source}: a file is already there; left {target} where it is")
            continue
        try:
            source.parent.mkdir(parents=True, exist_ok=True)
            _move(target, source)
            entry["status"] = "undone"
            result.moved += 1
        except OSError as exc:
            result.skipped.append(f"{target}: {exc.strerror or exc}")
    data["undone"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_journal(journal_path, data)
    return result


__all__ = ["MoveResult", "move_rejects", "undo_moves", "write_journal"]
