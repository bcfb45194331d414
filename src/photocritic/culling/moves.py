"""Move rejects into a folder, journalled, and undo it with one command.

The journal (JSON) is written *before* anything moves, listing every planned move (photo and its
sidecars), and rewritten at the end with what happened. Undo does not trust the journal's
statuses: for each entry it moves the file back when it is at its destination and its original
place is free, so a run interrupted half-way is undone just as well. Nothing is ever overwritten:
a name already taken in the reject folder gets a " (1)", " (2)" suffix (the same one for the photo
and its sidecars, so they still belong together), and a move back onto an existing file is refused
and reported.

Links are never followed: a photo or sidecar that is a symbolic link (or sits in a linked folder)
is left where it is and reported, so nothing outside the library moves. A sidecar shared by several
photos of one stem (``IMG_1.xmp`` beside ``IMG_1.JPG`` and ``IMG_1.CR2``) stays with the photos
that remain.

Undo trusts nothing it cannot check. The journal is signed (HMAC-SHA256 with a key kept in
``$XDG_CONFIG_HOME/photocritic/journal.key``, readable by its owner only) over the reject folder
and every move with the moved file's identity (size, mtime, inode). A journal whose signature does
not match (forged, edited, or from another account) moves nothing; an entry moves back only when
its file sits directly in the journal's reject folder, is not a link, and still has the recorded
identity.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL_VERSION = 2


@dataclass
class MoveResult:
    journal: Path
    moved: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per file left where it was


def _sidecars(photo: Path) -> list[Path]:
    """Sidecars that belong to *photo* alone (a stem-named one shared with another photo stays)."""
    from photocritic.culling.xmp import shares_stem

    candidates = [photo.with_name(photo.name + ".xmp"), photo.with_name(photo.name + ".XMP")]
    if not shares_stem(photo):
        candidates += [photo.with_suffix(".xmp"), photo.with_suffix(".XMP")]
    seen: list[Path] = []
    for candidate in candidates:
        if candidate != photo and os.path.lexists(candidate) and all(not _same(candidate, s) for s in seen):
            seen.append(candidate)
    return seen


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(a), os.lstat(b))
    except OSError:
        return False


def _numbered(name: str, n: int) -> str:
    if n == 0:
        return name
    stem, suffix = os.path.splitext(name)
    if name.lower().endswith(".xmp") and "." in stem:  # IMG_1.JPG.xmp keeps its double suffix
        stem, inner = os.path.splitext(stem)
        suffix = inner + suffix
    return f"{stem} ({n}){suffix}"


def _free_names(folder: Path, names: list[str], taken: set[str]) -> list[Path]:
    """One suffix for the whole group (photo and sidecars): the first under which every name is free."""
    n = 0
    while True:
        candidates = [folder / _numbered(name, n) for name in names]
        if not any(os.path.lexists(c) or str(c) in taken for c in candidates):
            taken.update(str(c) for c in candidates)
            return candidates
        n += 1


def _identity(path: Path) -> dict:
    info = os.lstat(path)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "ino": info.st_ino, "dev": info.st_dev}


def _key_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "photocritic" / "journal.key"


def _key() -> bytes:
    """This account's journal key, made on first use. Runs started at once on a new machine all end
    up with the first key written: a new key is written whole to a file of its own, then linked into
    place, which fails if another run got there first (its key is read instead)."""
    path = _key_path()
    for _ in range(5):
        try:
            key = bytes.fromhex(path.read_text().strip())
            if len(key) == 32:
                return key
            broken = True
        except FileNotFoundError:
            broken = False
        except (OSError, ValueError):
            broken = True
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as stream:
                stream.write(secrets.token_hex(32))
            if broken:  # an unreadable key signs nothing that can be checked: replaced
                os.replace(fresh, path)
            else:
                try:
                    os.link(fresh, path)
                except FileExistsError:
                    pass
        finally:
            fresh.unlink(missing_ok=True)
    raise OSError(f"cannot read or make the journal key {path}")


def _signature(data: dict) -> str:
    signed = {
        "folder": data["folder"],
        "moves": [{k: m.get(k) for k in ("from", "to", "identity")} for m in data["moves"]],
    }
    message = json.dumps(signed, sort_keys=True, ensure_ascii=True).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def create_journal(folder: Path, data: dict) -> Path:
    """Write a new journal under a name no other run can have: the time, this process's id and a
    random part, created with O_EXCL (never replacing a journal, whose undo would be lost)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        path = folder / f"photocritic-cull-{stamp}-{os.getpid()}-{secrets.token_hex(3)}.json"
        try:
            _write_new(path, data)
            return path
        except FileExistsError:
            continue


def _write_new(path: Path, data: dict) -> None:
    """Write *path*, which must not exist (FileExistsError otherwise; a journal is never replaced)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, ensure_ascii=False)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        os.unlink(path)
        raise


def write_journal(path: Path, data: dict) -> None:
    """Atomically (temp file + rename) rewrite this run's own journal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1, ensure_ascii=False)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, path)


def _move(source: Path, target: Path) -> None:
    """Move *source* to *target*, never replacing anything there (FileExistsError: another run may
    have taken the name since it was planned)."""
    try:
        os.link(source, target)  # same file system: atomic, and never replaces target
    except FileExistsError:
        raise
    except OSError:  # another file system, or one without hard links: copy into a new file
        _copy_new(source, target)
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)  # the file stays where it was, once
        raise


def _copy_new(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with open(source, "rb") as reading, os.fdopen(fd, "wb") as writing:
            shutil.copyfileobj(reading, writing)
            writing.flush()
            os.fsync(writing.fileno())
        shutil.copystat(source, target, follow_symlinks=False)
    except BaseException:
        os.unlink(target)
        raise


def move_rejects(photos: list[str | os.PathLike], folder: str | os.PathLike, journal: str | os.PathLike | None = None) -> MoveResult:
    """Move *photos* (and their XMP sidecars) into *folder*; journal to *journal* (default: inside *folder*)."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    entries = []
    skipped: list[str] = []
    for photo in photos:
        photo = Path(os.path.abspath(photo))  # not resolve(): a link is reported, never followed
        if os.path.realpath(photo.parent) == str(folder):
            continue  # already in the reject folder
        if os.path.islink(photo) or os.path.realpath(photo.parent) != os.path.normpath(photo.parent):
            skipped.append(f"{photo}: a symbolic link (or in a linked folder): not moved, links are never followed")
            continue
        group = [photo]
        for sidecar in _sidecars(photo):
            if os.path.islink(sidecar):
                skipped.append(f"{sidecar}: a symbolic link: not moved, links are never followed")
            else:
                group.append(sidecar)
        try:
            identities = [_identity(source) for source in group]
        except OSError as exc:
            skipped.append(f"{photo}: {exc.strerror or exc}")
            continue
        for source, target, identity in zip(group, _free_names(folder, [p.name for p in group], taken), identities):
            entries.append({"from": str(source), "to": str(target), "status": "planned", "photo": str(photo), "identity": identity})
    data = {"version": JOURNAL_VERSION, "tool": "photocritic cull --move-rejects", "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "folder": str(folder), "moves": entries}
    data["signature"] = _signature(data)
    if journal:
        journal_path = Path(journal).expanduser().resolve()
        journal_path.parent.mkdir(parents=True, exist_ok=True)
        _write_new(journal_path, data)
    else:
        journal_path = create_journal(folder, data)
    result = MoveResult(journal_path, skipped=skipped)
    for i, entry in enumerate(entries):
        try:
            if _identity(Path(entry["from"])) != entry["identity"]:
                raise OSError(0, "changed since it was listed")
            while True:
                try:
                    _move(Path(entry["from"]), Path(entry["to"]))
                    break
                except FileExistsError:
                    # another run into this folder took the name since it was planned: the next free
                    # one (for the photo and its sidecars alike), in the journal before the file moves
                    group = [e for e in entries[i:] if e["photo"] == entry["photo"]] if entry["from"] == entry["photo"] else [entry]
                    for moving, target in zip(group, _free_names(folder, [Path(e["from"]).name for e in group], taken)):
                        moving["to"] = str(target)
                    data["signature"] = _signature(data)
                    write_journal(journal_path, data)
            entry["status"] = "moved"
            result.moved += 1
        except OSError as exc:
            entry["status"] = f"failed: {exc.strerror or exc}"
            result.skipped.append(f"{entry['from']}: {entry['status']}")
    write_journal(journal_path, data)
    return result


def _same_identity(path: Path, recorded: object, source_parent: Path) -> bool:
    """Whether the file at *path* is still the one the journal moved (the inode counts only when
    the move stayed on one file system; across file systems a move copies)."""
    if not isinstance(recorded, dict):
        return False
    try:
        now = _identity(path)
        source_dev = os.stat(source_parent).st_dev
    except OSError:
        return False
    if now["size"] != recorded.get("size") or now["mtime_ns"] != recorded.get("mtime_ns"):
        return False
    return now["ino"] == recorded.get("ino") or (now["dev"] != source_dev and recorded.get("dev") == source_dev)


def undo_moves(journal: str | os.PathLike) -> MoveResult:
    """Put back every file a journal moved (newest first); the journal records the undo.
    Raises ValueError for a file that is not a journal photocritic wrote on this account."""
    journal_path = Path(journal).expanduser()
    try:
        data = json.loads(journal_path.read_text(encoding="utf-8"))
        entries = data["moves"]
        folder = Path(data["folder"])
        signature = data["signature"]
        expected = _signature(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{journal_path}: not a photocritic move journal ({exc})") from None
    if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
        raise ValueError(
            f"{journal_path}: the journal's signature does not match (edited, forged, or written by another "
            "account); nothing was moved"
        )
    real_folder = os.path.realpath(folder)
    result = MoveResult(journal_path)
    for entry in reversed(entries):
        source, target = Path(entry["from"]), Path(entry["to"])
        if not os.path.lexists(target):
            if entry.get("status") == "moved":
                result.skipped.append(f"{target}: no longer in the reject folder")
            continue
        if os.path.islink(target) or target.parent != folder or os.path.realpath(target.parent) != real_folder:
            result.skipped.append(f"{target}: not a file in the journal's reject folder {folder}; left where it is")
            continue
        if not _same_identity(target, entry.get("identity"), source.parent if source.parent.is_dir() else folder):
            result.skipped.append(f"{target}: not the file the journal moved (size, time or inode differ); left where it is")
            continue
        if os.path.lexists(source):
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


__all__ = ["MoveResult", "create_journal", "move_rejects", "undo_moves", "write_journal"]
