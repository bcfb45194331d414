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

The catalog is a cache: everything in it can be computed again. A catalog that SQLite finds damaged
(cut short, a page overwritten) or that another photocritic schema wrote (``meta.schema_version``,
or a table without the columns this version reads) is set aside, renamed ``NAME.corrupt-YYYYmmdd-HHMMSS``
(never deleted), and a new one started, with one warning line on stderr. What is not a photocritic
catalog at all (not SQLite, or another program's database), a folder, a full disk or a read-only file
is refused with :class:`CatalogError` (the CLI's exit 2), one line that says what to do, and left as it is.

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
import sys
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


#: The columns this version reads, by table: a catalog whose tables lack any of them is another schema.
_COLUMNS = {
    "meta": {"key", "value"},
    "photos": {"path", "size", "mtime_ns", "format", "width", "height", "taken_at", "camera", "error", "technical",
               "backbone", "features", "decoded_at"},
    "scores": {"path", "model", "score", "distribution", "scored_at"},
}
_SQLITE_HEADER = b"SQLite format 3\x00"


class CatalogError(OSError):
    """A catalog that cannot be used as it is, with one line that says what to do (the CLI exits 2)."""

    def __init__(self, message: str, code: int = errno.EINVAL) -> None:
        super().__init__(code, message)


class _SetAside(Exception):
    """A catalog to set aside and start afresh: damaged, or written by another schema."""


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


def _nearly_full(folder: Path) -> bool:
    """Whether the disk holding *folder* has almost no room left (SQLite reports some writes that
    found no room as a plain I/O error)."""
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return info.f_bavail * info.f_frsize < 1 << 20


class Catalog:
    """A SQLite catalog of decoded photos and their scores."""

    def __init__(self, path: str | os.PathLike | None = None, batch_size: int = 64, batch_seconds: float = 5.0):
        self.path = Path(path) if path is not None else default_catalog_path()
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self._pending = 0
        self._last_commit = time.monotonic()
        if self.path.is_dir():
            raise CatalogError(
                f"the catalog {str(self.path)!r} is a folder; give a file name (e.g. {str(self.path / 'catalog.sqlite')!r}) "
                "with --catalog or PHOTOCRITIC_CATALOG"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._refuse_foreign_file()
        try:
            self._connect()
        except _SetAside as exc:
            self._db.close()
            aside = self._set_aside()
            if aside is not None:
                print(f"photocritic: warning: the catalog {self.path} {exc}; it was set aside as {aside.name} and a new "
                      "one started (its photos are scored again)", file=sys.stderr, flush=True)
            self._connect()

    def _connect(self) -> None:
        # Several processes share one catalog (serve beside score, two scores): WAL lets readers run
        # beside the one writer, SQLite's busy timeout waits for the writer's lock, and _retry backs
        # off and tries again when even that wait runs out (a long transaction elsewhere).
        try:
            self._db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        self._retry(self._setup)

    def _refuse_foreign_file(self) -> None:
        """A file that is not SQLite (a photo or a document named by mistake, random bytes) is never
        taken for a damaged catalog: it is not ours to rename."""
        self._opened = None
        try:
            info = os.stat(self.path)
            if not S_ISREG(info.st_mode):  # a FIFO would block the open below; a device is no catalog
                raise CatalogError(f"the catalog {str(self.path)!r} is not a regular file; give --catalog a file name, "
                                   "or use --no-cache")
            with open(self.path, "rb") as stream:
                head = stream.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return
        except CatalogError:
            raise
        except OSError as exc:
            raise CatalogError(f"cannot read the catalog {str(self.path)!r}: {exc.strerror or exc}") from None
        self._opened = info
        if head and head != _SQLITE_HEADER:
            raise CatalogError(
                f"the catalog {str(self.path)!r} is not an SQLite database (was it overwritten?); it was left as it is: "
                "move it away and run again to start a new catalog, or give --catalog another file"
            )

    def _setup(self) -> None:
        try:
            self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables:
                self._check_schema(tables)
                problems = self._db.execute("PRAGMA quick_check").fetchall()
                if problems != [("ok",)]:
                    raise _SetAside(f"is damaged ({' '.join(str(problems[0][0]).split())[:120]})")
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # locked or busy (retried), full, read-only, ...
            raise _SetAside(f"is damaged ({' '.join(str(exc).split())})") from None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._db.commit()

    def _check_schema(self, tables: set[str]) -> None:
        """Refuse another program's database; set aside a catalog of another photocritic schema."""
        version = None
        if "meta" in tables and {"key", "value"} <= {row[1] for row in self._db.execute("PRAGMA table_info(meta)")}:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = row[0] if row else None
        if version is None:
            raise CatalogError(
                f"{str(self.path)!r} is an SQLite database photocritic did not write (tables: {', '.join(sorted(tables))[:100]}); "
                "it was left as it is: give --catalog another file"
            )
        if version != str(SCHEMA_VERSION):
            raise _SetAside(f"has schema version {version}, and this photocritic reads version {SCHEMA_VERSION}")
        for table, wanted in _COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if not wanted <= have:
                raise _SetAside(f"is of another schema ({table} has no column {', '.join(sorted(wanted - have))})")

    def _set_aside(self) -> Path | None:
        """Rename the catalog (and its -wal and -shm files, which belong to it) beside itself; None
        when another process has done so already (the file there now is a new catalog)."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return None
        if self._opened is not None and not os.path.samestat(now, self._opened):
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while os.path.lexists(aside):
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.rename(self.path, aside)
            for suffix in ("-wal", "-shm"):
                if os.path.lexists(f"{self.path}{suffix}"):
                    os.rename(f"{self.path}{suffix}", f"{aside}{suffix}")
        except OSError as exc:
            raise CatalogError(
                f"the catalog {str(self.path)!r} is damaged and could not be set aside ({exc.strerror or exc}): "
                "move it away, or give --catalog another file"
            ) from None
        return aside

    def _unusable(self, exc: sqlite3.Error) -> CatalogError:
        """The one line for an SQLite error that retrying will not cure."""
        text = " ".join(str(exc).split())
        where = repr(str(self.path))
        if "full" in text.lower() or ("i/o error" in text.lower() and _nearly_full(self.path.parent)):
            return CatalogError(
                f"no space left for the catalog {where} ({text}): free some space, or give --catalog a file on another "
                "disk (--no-cache scores without one)", errno.ENOSPC)
        if "readonly" in text.lower() or "read-only" in text.lower():
            return CatalogError(f"the catalog {where} cannot be written ({text}): give --catalog a file you may write, "
                                "or use --no-cache", errno.EACCES)
        if "malformed" in text.lower() or "not a database" in text.lower():
            return CatalogError(f"the catalog {where} was damaged while in use ({text}); run again: it is then set aside "
                                "and a new one started")
        return CatalogError(f"cannot use the catalog {where} ({text}): give --catalog another file, or use --no-cache")

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
                    raise self._unusable(exc) from None
                if self._db.in_transaction and not getattr(self, "_pending", 0):
                    # the transaction this statement opened holds nothing yet: start afresh
                    self._db.rollback()
            except sqlite3.DatabaseError as exc:  # damaged while in use
                raise self._unusable(exc) from None
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
        row = self._read(
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
        row = self._read(
            "SELECT score, distribution FROM scores WHERE path = ? AND model = ?", (path_key(path), model)
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def embeddings(self, paths: list[str], dim: int) -> dict[str, np.ndarray]:
        """The last *dim* feature values (the backbone embedding) for each path that has them."""
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(paths), 500):
            chunk = [path_key(p) for p in paths[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._read(
                f"SELECT path, features FROM photos WHERE features IS NOT NULL AND path IN ({marks})", chunk
            ).fetchall():
                out[key_path(key)] = np.frombuffer(blob, dtype=np.float16)[-dim:].astype(np.float32)
        return out

    def count(self, table: str = "photos") -> int:
        if table not in ("photos", "scores"):
            raise ValueError(table)
        return self._read(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def integrity_check(self) -> str:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def _read(self, sql: str, parameters: tuple | list = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None

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
