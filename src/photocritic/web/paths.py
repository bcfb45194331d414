"""Paths inside the library root: the one check every route and sidecar write makes before touching a file."""
from __future__ import annotations

import os
from pathlib import Path


class OutsideRoot(ValueError):
    """A path that does not resolve inside the library root."""


def resolve_inside(root: Path, candidate: str | os.PathLike) -> Path:
    """*candidate* (relative to *root*, or absolute) resolved with symlinks; raises if not inside *root*."""
    root = root.resolve()
    path = Path(candidate)
    if "\x00" in str(candidate):
        raise OutsideRoot("path contains a NUL byte")
    full = (path if path.is_absolute() else root / path).resolve()
    if full != root and root not in full.parents:
        raise OutsideRoot(f"{candidate!s} is outside the library")
    return full


__all__ = ["OutsideRoot", "resolve_inside"]
