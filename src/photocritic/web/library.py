"""A library folder served to the browser: photos by opaque id, a background scoring job, thumbnails.

Photos are only ever reached through an id handed out by this module (a hash of the path relative to
the root). The list of photos comes from :func:`find_photos` and is then filtered to files whose real
path (symlinks resolved) lies inside the root, so nothing outside the root can be named, listed,
thumbnailed or written beside, whatever the request holds.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from photocritic.imaging import PhotoError, open_for_display
from photocritic.library.scan import find_photos
from photocritic.models.zoo import ScoringModel
from photocritic.web.paths import OutsideRoot, resolve_inside


def open_inside(root: Path, candidate: str | os.PathLike):
    """*candidate*, opened once for reading: a regular file whose real path lies inside *root*.

    Checked on the open descriptor, never again by name, so a photo swapped for a symlink (or a
    folder swapped for a link out of the library) between the check and the read is refused
    instead of served: the real path is opened with O_NOFOLLOW (a link there now fails), then
    ``fstat`` says it is a regular file and the kernel's name for the descriptor
    (``/proc/self/fd/N``; elsewhere the resolved path, with the same device and inode) lies inside
    *root*. Decode from the returned file; never reopen the photo by name."""
    root = root.resolve()
    try:
        real = resolve_inside(root, candidate)
    except OSError as exc:  # e.g. a link replaced by a file while it was being read
        raise PhotoError(f"cannot read file: {exc.strerror or exc}") from None
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component became a link since it was resolved
            raise OutsideRoot(f"{candidate!s} was replaced by a link") from None
        raise PhotoError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PhotoError("not a regular file: not read")
        if info.st_size == 0:
            raise PhotoError("empty file (0 bytes)")
        opened = _descriptor_path(fd, real, info)
        if opened is None or (opened != root and root not in opened.parents):
            raise OutsideRoot(f"{candidate!s} is outside the library")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _descriptor_path(fd: int, real: Path, info: os.stat_result) -> Path | None:
    """Where the open file *fd* lies, or None if that cannot be told (then it is not served)."""
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc: the name resolved again must still be the open file
        try:
            again = os.lstat(real.resolve())
        except OSError:
            return None
        return real.resolve() if (again.st_dev, again.st_ino) == (info.st_dev, info.st_ino) else None
    if not where.startswith("/") or where.endswith(" (deleted)"):
        return None
    return Path(where)


def photo_id(relative: str) -> str:
    return hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass
class LibraryPhoto:
    id: str
    path: Path  # absolute, as found (inside the root)
    relative: str  # posix path relative to the root, for display
    record: dict | None = None  # the score record, once scored


@dataclass
class ScanProgress:
    state: str = "idle"  # idle | listing | scoring | grouping | ready | error
    done: int = 0
    total: int = 0
    message: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    generation: int = 0  # increments each time groups are rebuilt


class Library:
    """One library root: its photos, its scoring job, its culling groups and decisions."""

    THUMB_CACHE = 2048

    def __init__(
        self,
        root: str | os.PathLike,
        model: str | os.PathLike | ScoringModel = "default",
        catalog: str | os.PathLike | None = None,
        recursive: bool = True,
        rules=None,
    ) -> None:
        from photocritic.web.culling_view import XmpRules

        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a folder: {root}")
        self.model = model
        self.catalog = catalog
        self.recursive = recursive
        self._lock = threading.RLock()
        self._photos: dict[str, LibraryPhoto] = {}
        self._order: list[str] = []
        self.progress = ScanProgress()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._thumbs: OrderedDict[tuple, bytes] = OrderedDict()
        self._thumb_lock = threading.Lock()
        self.culling = None  # a CullingView once photos are scored and grouped
        self.rules = rules or XmpRules()

    # -- listing ---------------------------------------------------------------------------
    def list_files(self) -> list[Path]:
        """Photo files under the root whose real path stays inside it (symlinks out are dropped)."""
        found = []
        for path in find_photos([self.root], recursive=self.recursive):
            try:
                resolve_inside(self.root, path)
            except (OutsideRoot, OSError):
                continue
            found.append(path)
        return found

    def photo(self, pid: str) -> LibraryPhoto | None:
        with self._lock:
            return self._photos.get(pid)

    def photos(self) -> list[LibraryPhoto]:
        with self._lock:
            return [self._photos[i] for i in self._order]

    # -- the scoring job -------------------------------------------------------------------
    def start_scan(self) -> bool:
        """Start listing and scoring in a background thread; False if one is already running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            self.progress = ScanProgress(
                state="listing", started_at=time.time(), generation=self.progress.generation
            )
            self._thread = threading.Thread(target=self._scan, name="photocritic-library-scan", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _scan(self) -> None:
        from photocritic.culling import cull_records
        from photocritic.scoring import Scorer
        from photocritic.web.culling_view import CullingView

        try:
            files = self.list_files()
            photos: dict[str, LibraryPhoto] = {}
            order: list[str] = []
            for path in files:
                relative = path.relative_to(self.root).as_posix()
                pid = photo_id(relative)
                photos[pid] = LibraryPhoto(pid, path, relative)
                order.append(pid)
            with self._lock:
                self._photos, self._order = photos, order
                self.progress.state = "scoring"
                self.progress.total = len(order)
            by_path = {str(p.path): p for p in photos.values()}
            scorer = _RecordingScorer(Scorer(self.model, catalog=self.catalog), by_path, self)
            try:

                def progress(done: int, total: int, phase: str = "scoring") -> None:
                    if phase == "scoring":  # the page counts photos scored; later steps are quick beside it
                        self.progress.done, self.progress.total = done, total

                records = cull_records(scorer, [photos[p].path for p in order], progress=progress)
            finally:
                scorer.close()
            with self._lock:
                self.culling = CullingView.from_cull(self, records, self.culling, self.rules)
                self.progress.generation += 1
                self.progress.state = "ready"
                self.progress.finished_at = time.time()
        except InterruptedError:
            with self._lock:
                self.progress.state = "idle"
        except Exception as exc:  # shown on the page; the server keeps running
            with self._lock:
                self.progress.state = "error"
                self.progress.message = " ".join(str(exc).split())[:300] or type(exc).__name__
                self.progress.finished_at = time.time()

    # -- thumbnails ------------------------------------------------------------------------
    def thumbnail(self, photo: LibraryPhoto, long_side: int) -> bytes:
        """A JPEG of the photo, oriented, long side *long_side*; cached in memory, never written to disk."""
        # opened once and checked on the descriptor: the file may have been swapped for a symlink since listing
        with open_inside(self.root, photo.path) as stream:
            info = os.fstat(stream.fileno())
            key = (photo.id, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, long_side)
            with self._thumb_lock:
                cached = self._thumbs.get(key)
                if cached is not None:
                    self._thumbs.move_to_end(key)
                    return cached
            image = open_for_display(photo.path, long_side, given=stream)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)
        data = out.getvalue()
        with self._thumb_lock:
            self._thumbs[key] = data
            while len(self._thumbs) > self.THUMB_CACHE:
                self._thumbs.popitem(last=False)
        return data

    def close(self) -> None:
        self._stop.set()
        self.wait(timeout=10)


class _RecordingScorer:
    """A Scorer seen by :func:`cull_records`: keeps each score record for the page, reports
    progress, stops when the library closes, and says when scoring is over and grouping starts."""

    def __init__(self, scorer, by_path: dict, library: "Library") -> None:
        self._scorer = scorer
        self._by_path = by_path
        self._library = library
        self.catalog = scorer.catalog
        self.workers = scorer.workers

    def iter_scored(self, files, progress=None):
        for record, row in self._scorer.iter_scored(files, progress):
            photo = self._by_path.get(str(record["path"]))
            if photo is not None:
                photo.record = record
            if self._library._stop.is_set():
                raise InterruptedError("stopped")
            yield record, row
        with self._library._lock:
            self._library.progress.state = "grouping"

    def close(self) -> None:
        self._scorer.close()


__all__ = ["Library", "LibraryPhoto", "OutsideRoot", "ScanProgress", "open_inside", "photo_id", "resolve_inside"]
