"""Turn the user's PATH arguments (files, folders, globs) into a sorted list of photo files."""
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
        return [p for p in folder.iterdir() if p.is_file() and is_photo_name(p)]
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # skip .git, .thumbnails, our own
        found.extend(Path(root) / name for name in files if is_photo_name(Path(name)))
    return found


def find_photos(arguments: list[str | os.PathLike], recursive: bool = False) -> list[Path]:
    """Photos named by *arguments*, absolute, de-duplicated, sorted.

    A file named explicitly is always taken, whatever its extension (the decoder decides);
    folders contribute files with a photo extension; an argument that is neither is tried
    as a glob pattern. An argument matching nothing raises :class:`PathArgumentError`.
    """
    seen: dict[str, Path] = {}
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_file():
            matches = [path]
        elif path.is_dir():
            matches = _walk(path, recursive)
        elif glob.has_magic(str(argument)):
            matches = []
            for hit in glob.glob(os.path.expanduser(str(argument)), recursive=True):
                hit_path = Path(hit)
                if hit_path.is_file():
                    matches.append(hit_path)
                elif hit_path.is_dir():
                    matches.extend(_walk(hit_path, recursive))
            if not matches:
                raise PathArgumentError(f"no files match {str(argument)!r}")
        else:
            raise PathArgumentError(f"no such file or folder: {str(argument)!r}")
        for match in matches:
            absolute = os.path.abspath(match)
            seen.setdefault(absolute, Path(absolute))
    return [seen[key] for key in sorted(seen)]
