"""The SQLite catalog: what we know about each photo, so unchanged files are never decoded twice.

One user-level catalog by default (``$PHOTOCRITIC_CATALOG``, else
``$XDG_CACHE_HOME/photocritic/catalog.sqlite``, else ``~/.cache/photocritic/catalog.sqlite``):
photo folders are often read-only, shared or synced, and we never write into them unasked.
Rows are keyed by absolute path and trusted only while size and mtime match the file.

A photo row holds the decode results (size, capture time, camera, technical measures, backbone
features as float16, or the error). Scores live in their own table keyed by model fingerprint,
so switching models rescales from stored features without decoding again. The database runs in
WAL mode and commits in batches: a run killed with SIGKILL loses at most the open batch, and
the next run redoes exactly what was not committed.

Stored measures and features are only as good as the code that computed them: the catalog records
the version of that code its rows came from (:meth:`Catalog.forget_features_unless`, called by the
scorers with :data:`photocritic.scoring.FEATURES_VERSION`), and when another version opens it, it
forgets them (and the scores made from them), once, so each photo is decoded again when next scored.
"""
from __future__ import annotations

import errno
import json
import os
import random
import sqlite3
import time
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1
#: How long one statement waits for another process's write lock before _retry backs off.
BUSY_TIMEOUT_S = 15.0
#: How long a write keeps retrying before the error reaches the user.
RETRY_FOR_S = 600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS photos (
    path       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    format     TEXT,
    width      INTEGER,
    height     INTEGER,
    taken_at   TEXT,
    camera     TEXT,
    error      TEXT,
    technical  TEXT,
    backbone   TEXT,
    features   BLOB,
    decoded_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    path         TEXT NOT NULL REFERENCES photos(path) ON DELETE CASCADE,
    model        TEXT NOT NULL,
    score        REAL NOT NULL,
    distribution TEXT NOT NULL,
    scored_at    REAL NOT NULL,
    PRIMARY KEY (path, model)
);
"""


def default_catalog_path() -> Path:
    explicit = os.environ.get("PHOTOCRITIC_CATALOG")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "photocritic" / "catalog.sqlite"


@dataclass
class PhotoRow:
    path: str
    size: int
    mtime_ns: int
    format: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None
    camera: str | None = None
    error: str | None = None
    technical: dict | None = None
    backbone: str | None = None
    features: np.ndarray | None = None  # float16


class NotAPhotoFile(OSError):
    """An entry that is not a regular file (FIFO, device, folder, dangling link, link loop): never opened."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, os.fsdecode(path))


def describe_entry(path: str | os.PathLike, stat: os.stat_result) -> str | None:
    """None for a regular file; else why the entry is not a photo file (it must not be opened:
    opening a FIFO blocks until someone writes to it, a device may never end)."""
    mode = stat.st_mode
    if S_ISREG(mode):
        return None
    if S_ISDIR(mode):
        try:
            os.scandir(path).close()
        except OSError as exc:
            return f"a folder that cannot be read ({exc.strerror or exc}); the photos in it were not read"
        if os.path.islink(path):
            return "a link to a folder: not followed (photocritic never follows folder links)"
        return "a folder, not a photo file"
    if S_ISFIFO(mode):
        return "a named pipe (FIFO), not a photo file: not opened"
    if S_ISCHR(mode) or S_ISBLK(mode):
        return "a device, not a photo file: not opened"
    if S_ISSOCK(mode):
        return "a socket, not a photo file: not opened"
    return "not a regular file: not opened"


def file_key(path: str | os.PathLike) -> tuple[int, int]:
    """(size, mtime_ns): what must match for a stored row to be trusted. Raises OSError (its
    strerror a one-line reason) for anything but a regular file, before anything opens it."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            raise NotAPhotoFile(path, "a dangling symbolic link (its target does not exist)") from None
        if exc.errno == errno.ELOOP:
            raise NotAPhotoFile(path, "a symbolic link loop") from None
        raise
    problem = describe_entry(path, stat)
    if problem:
        raise NotAPhotoFile(path, problem)
    return stat.st_size, stat.st_mtime_ns


def path_key(path: str) -> str:
    """The catalog key of *path*. SQLite text must be UTF-8, and a name that is not (bytes kept by
    Python as lone surrogates, ``surrogateescape``) would fail every query; such a path is stored
    as a NUL (which no real path holds) followed by the hex of its bytes: reversible, collision-free."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return "\0" + os.fsencode(path).hex()


def key_path(key: str) -> str:
    """The path a catalog key stands for (the inverse of :func:`path_key`)."""
    return os.fsdecode(bytes.fromhex(key[1:])) if key.startswith("\0") else key


class Catalog:
    """A SQLite catalog of decoded photos and their scores."""

    def __init__(self, path: str | os.PathLike | None = None, batch_size: int = 64, batch_seconds: float = 5.0):
        self.path = Path(path) if path is not None else default_catalog_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Several processes share one catalog (serve beside score, two scores): WAL lets readers run
        # beside the one writer, SQLite's busy timeout waits for the writer's lock, and _retry backs
        # off and tries again when even that wait runs out (a long transaction elsewhere).
        self._db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        self._retry(self._setup)
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self._pending = 0
        self._last_commit = time.monotonic()

    def _setup(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._db.commit()

    def _retry(self, action):
        """Run *action*; while another process holds the write lock past the busy timeout, wait with
        jittered exponential backoff and run it again. Gives up (raises) after RETRY_FOR_S. Our own
        transactions always start with a write (or BEGIN IMMEDIATE), so a retry never sits on a
        stale read snapshot that could not be upgraded."""
        delay = 0.05
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                if self._db.in_transaction and not getattr(self, "_pending", 0):
                    # the transaction this statement opened holds nothing yet: start afresh
                    self._db.rollback()
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    def forget_features_unless(self, version: str) -> bool:
        """Drop the measures, features and scores of every row unless they were computed by *version*
        of the code that computes them (a catalog written before versions were recorded counts as
        another version); error rows stay. True when something was forgotten. Checked and changed in
        one write transaction, so two processes opening the catalog at once cannot forget rows the
        other has just written anew."""
        self.commit()
        return self._retry(lambda: self._forget_unless(version))

    def _forget_unless(self, version: str) -> bool:
        forgot = False
        self._db.execute("BEGIN IMMEDIATE")
        try:
            stored = self._db.execute("SELECT value FROM meta WHERE key = 'features_version'").fetchone()
            if stored is None or stored[0] != version:
                if stored is not None or self.count() > 0:
                    self._db.execute("UPDATE photos SET technical = NULL, backbone = NULL, features = NULL WHERE error IS NULL")
                    self._db.execute("DELETE FROM scores")
                    forgot = True
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('features_version', ?)", (version,))
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise
        return forgot

    # -- reading -----------------------------------------------------------------------------
    def get_photo(self, path: str, size: int, mtime_ns: int) -> PhotoRow | None:
        """The stored row for *path*, only if the file still has this size and mtime."""
        row = self._db.execute(
            "SELECT path, size, mtime_ns, format, width, height, taken_at, camera, error, technical, backbone, features"
            " FROM photos WHERE path = ? AND size = ? AND mtime_ns = ?",
            (path_key(path), size, mtime_ns),
        ).fetchone()
        if row is None:
            return None
        row = (path, *row[1:])
        features = np.frombuffer(row[11], dtype=np.float16) if row[11] is not None else None
        technical = json.loads(row[9]) if row[9] else None
        return PhotoRow(*row[:9], technical=technical, backbone=row[10], features=features)

    def get_score(self, path: str, model: str) -> tuple[float, list[float]] | None:
        row = self._db.execute(
            "SELECT score, distribution FROM scores WHERE path = ? AND model = ?", (path_key(path), model)
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def embeddings(self, paths: list[str], dim: int) -> dict[str, np.ndarray]:
        """The last *dim* feature values (the backbone embedding) for each path that has them."""
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(paths), 500):
            chunk = [path_key(p) for p in paths[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                f"SELECT path, features FROM photos WHERE features IS NOT NULL AND path IN ({marks})", chunk
            ):
                out[key_path(key)] = np.frombuffer(blob, dtype=np.float16)[-dim:].astype(np.float32)
        return out

    def count(self, table: str = "photos") -> int:
        if table not in ("photos", "scores"):
            raise ValueError(table)
        return self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def integrity_check(self) -> str:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    # -- writing -----------------------------------------------------------------------------
    def put_photo(self, row: PhotoRow) -> None:
        """Store decode results; a photo whose file changed loses its old scores."""
        features = None if row.features is None else np.asarray(row.features, dtype=np.float16).tobytes()
        self._write("DELETE FROM scores WHERE path = ?", (path_key(row.path),))
        self._write(
            "INSERT OR REPLACE INTO photos (path, size, mtime_ns, format, width, height, taken_at, camera, error,"
            " technical, backbone, features, decoded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                path_key(row.path),
                row.size,
                row.mtime_ns,
                row.format,
                row.width,
                row.height,
                row.taken_at,
                row.camera,
                row.error,
                json.dumps(row.technical) if row.technical is not None else None,
                row.backbone,
                features,
                time.time(),
            ),
        )
        self._maybe_commit()

    def put_score(self, path: str, model: str, score: float, distribution: list[float]) -> None:
        self._write(
            "INSERT OR REPLACE INTO scores (path, model, score, distribution, scored_at) VALUES (?,?,?,?,?)",
            (path_key(path), model, float(score), json.dumps([round(float(p), 6) for p in distribution]), time.time()),
        )
        self._maybe_commit()

    def _write(self, sql: str, parameters: tuple) -> None:
        self._retry(lambda: self._db.execute(sql, parameters))

    def _maybe_commit(self) -> None:
        self._pending += 1
        if self._pending >= self.batch_size or time.monotonic() - self._last_commit > self.batch_seconds:
            self.commit()

    def commit(self) -> None:
        self._retry(self._db.commit)
        self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self.commit()
        self._db.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
