"""Turn the user's PATH arguments (files, folders, globs) into a sorted list of entries to read.

Every entry the user asked for gets a record, even when it is not a photo file: a named pipe, a
device, a dangling link, a link loop or a folder named ``x.jpg`` is listed here and turned into an
error record by :func:`photocritic.library.catalog.file_key` (which refuses anything but a regular
file *before* it is opened, so a FIFO never blocks a run). With ``--recursive`` a sub-folder that
cannot be read and a link to a folder (never followed: nothing outside the tree is read) are listed
too, so nothing is skipped silently.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

from photocritic.imaging import PHOTO_EXTENSIONS


class PathArgumentError(Exception):
    """A PATH argument that names nothing: a usage error, not a bad photo."""


def is_photo_name(path: Path) -> bool:
    return path.suffix.lower() in PHOTO_EXTENSIONS and not path.name.startswith(".")


def _walk(folder: Path, recursive: bool) -> list[Path]:
    if not recursive:
        try:
            # every entry with a photo name, whatever it is: what is not a photo file gets an error record
            return [Path(entry.path) for entry in os.scandir(folder) if is_photo_name(Path(entry.name))]
        except OSError:
            return [folder]  # unreadable folder: its record says why
    found: list[Path] = []

    def unreadable(error: OSError) -> None:
        found.append(Path(error.filename) if error.filename else folder)

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        kept = []
        for name in dirs:
            if name.startswith("."):
                continue  # skip .git, .thumbnails, our own
            if os.path.islink(os.path.join(root, name)):
                found.append(Path(root) / name)  # never followed; its record says so
            else:
                kept.append(name)
        dirs[:] = sorted(kept)
        found.extend(Path(root) / name for name in files if is_photo_name(Path(name)))
    return found


def find_photos(arguments: list[str | os.PathLike], recursive: bool = False) -> list[Path]:
    """Entries named by *arguments*, absolute, de-duplicated, sorted.

    A file named explicitly is always taken, whatever its extension or type (the decoder decides;
    a FIFO, device or dangling link gets an error record); folders contribute entries with a photo
    extension; an argument that is neither is tried as a glob pattern. An argument matching
    nothing raises :class:`PathArgumentError`.
    """
    seen: dict[str, Path] = {}
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            matches = _walk(path, recursive)
        elif os.path.lexists(path):
            matches = [path]
        elif glob.has_magic(str(argument)):
            matches = []
            for hit in glob.glob(os.path.expanduser(str(argument)), recursive=True):
                hit_path = Path(hit)
                if hit_path.is_dir():
                    matches.extend(_walk(hit_path, recursive))
                else:
                    matches.append(hit_path)
            if not matches:
                raise PathArgumentError(f"no files match {str(argument)!r}")
        else:
            raise PathArgumentError(f"no such file or folder: {str(argument)!r}")
        for match in matches:
            absolute = os.path.abspath(match)
            seen.setdefault(absolute, Path(absolute))
    return [seen[key] for key in sorted(seen)]
