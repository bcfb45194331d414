"""Read AVA.txt-format files, tags.txt, challenges.txt and .jpgl image lists.

AVA.txt has one photo per line, 15 whitespace-separated integer columns::

    index  image_id  n1 n2 n3 n4 n5 n6 n7 n8 n9 n10  tag1  tag2  challenge

``n1..n10`` count the votes for ratings 1..10; a tag of 0 means "no tag".

Bad rows are never skipped silently. Each one becomes a :class:`BadRow` carrying its
1-based physical line number and a one-line reason (``line 17: expected 15 columns,
got 9``). The parser keeps the good rows and returns the bad ones beside them; the
caller decides whether that aborts (``strict=True`` raises :class:`AvaFormatError`)
or whether bad rows are reported and excluded (the default). Blank lines are ignored.

A row is bad when it does not have 15 columns, when a column is not a non-negative
integer, when it holds no votes at all (no mean score exists), or when its image id
repeats an earlier row (the later row is the bad one).

Speed: the whole file is validated with a few passes in C (one character-class scan,
one token count per line) and converted with a single ``numpy.fromstring``; the slow,
per-token path runs only for lines already known to be bad. 255,530 rows take ~0.3 s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

N_COLUMNS = 15
RATINGS = np.arange(1, 11)
_COLUMN_NAMES = ["index", "image id"] + [f"votes for {k}" for k in range(1, 11)] + ["tag 1", "tag 2", "challenge"]


class AvaFormatError(ValueError):
    """Raised in strict mode, or when nothing usable is left; carries every bad row."""

    def __init__(self, path: Path | str, bad_rows: list[BadRow], message: str | None = None):
        self.path = Path(path)
        self.bad_rows = bad_rows
        head = message or f"{self.path}: {len(bad_rows)} bad row(s)"
        listing = "\n".join(f"  {row}" for row in bad_rows[:20])
        more = f"\n  ... and {len(bad_rows) - 20} more" if len(bad_rows) > 20 else ""
        super().__init__(f"{head}\n{listing}{more}" if bad_rows else head)


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class AvaData:
    """Column arrays for the good rows, in file order."""

    index: np.ndarray  # (n,) int64
    image_id: np.ndarray  # (n,) int64
    counts: np.ndarray  # (n, 10) int64, votes for ratings 1..10
    tag1: np.ndarray  # (n,) int64, 0 = none
    tag2: np.ndarray
    challenge: np.ndarray
    line: np.ndarray  # (n,) int64, 1-based line number in the source file
    source: str = ""
    bad_rows: list[BadRow] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.image_id.shape[0])

    @property
    def votes(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def subset(self, mask: np.ndarray) -> AvaData:
        return AvaData(
            self.index[mask], self.image_id[mask], self.counts[mask], self.tag1[mask], self.tag2[mask],
            self.challenge[mask], self.line[mask], self.source, list(self.bad_rows),
        )

    def to_matrix(self) -> np.ndarray:
        """The rows back as an (n, 15) AVA.txt matrix."""
        return np.column_stack([self.index, self.image_id, self.counts, self.tag1, self.tag2, self.challenge])

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, lines: np.ndarray | None = None, source: str = "") -> AvaData:
        matrix = np.asarray(matrix, dtype=np.int64).reshape(-1, N_COLUMNS)
        if lines is None:
            lines = np.arange(1, matrix.shape[0] + 1, dtype=np.int64)
        return cls(matrix[:, 0], matrix[:, 1], np.ascontiguousarray(matrix[:, 2:12]), matrix[:, 12], matrix[:, 13],
                   matrix[:, 14], np.asarray(lines, dtype=np.int64), source)


def _explain_line(text: str) -> str:
    tokens = text.split()
    if len(tokens) != N_COLUMNS:
        return f"expected {N_COLUMNS} columns, got {len(tokens)}"
    for position, token in enumerate(tokens):
        if not token.isascii() or not token.isdigit():
            kind = "negative" if token.startswith("-") and token[1:].isdigit() else "not a non-negative integer"
            return f"column {position + 1} ({_COLUMN_NAMES[position]}) is {kind}: {token[:30]!r}"
        if len(token) > 15:
            return f"column {position + 1} ({_COLUMN_NAMES[position]}) is too large: {token[:30]!r}"
    return "unreadable row"


_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[ord(" "), ord("\t"), ord("\r"), ord("\n")]] = True
_ALLOWED = _WHITESPACE.copy()
_ALLOWED[ord("0"):ord("9") + 1] = True


def _scan(raw: bytes) -> tuple[np.ndarray, set[int]]:
    """Token count per line and the 0-based indices of lines with a bad character or an over-long token,
    all vectorised over the bytes (no Python loop over lines)."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    n_lines = newlines.size + 1
    nonspace = ~_WHITESPACE[buf]
    edges = np.diff(nonspace.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    token_line = np.searchsorted(newlines, starts)
    counts = np.bincount(token_line, minlength=n_lines)
    bad = set(np.unique(token_line[(ends - starts) > 15]).tolist())
    bad_chars = np.flatnonzero(~_ALLOWED[buf])
    if bad_chars.size:
        bad |= set(np.unique(np.searchsorted(newlines, bad_chars)).tolist())
    return counts, bad


def parse_ava_text(text: str | bytes, source: str = "<text>", strict: bool = False) -> AvaData:
    """Parse AVA.txt content. See the module docstring for what makes a row bad."""
    raw = text.encode("latin-1", errors="replace") if isinstance(text, str) else bytes(text)
    token_counts, bad_line_idx = _scan(raw)
    bad_line_idx |= set(np.flatnonzero((token_counts != N_COLUMNS) & (token_counts != 0)).tolist())
    lines: list[str] | None = None

    def line_text(i: int) -> str:
        nonlocal lines
        if lines is None:
            lines = raw.decode("latin-1").split("\n")
        return lines[i]

    bad_rows = [BadRow(i + 1, _explain_line(line_text(i)), line_text(i)[:200]) for i in sorted(bad_line_idx)]

    keep = token_counts == N_COLUMNS
    if bad_line_idx:
        keep[sorted(bad_line_idx)] = False
        line_text(0)
        body = "\n".join(line for line, ok in zip(lines, keep) if ok)
    else:
        body = raw
    values = np.fromstring(body, dtype=np.int64, sep=" ") if keep.any() else np.zeros(0, dtype=np.int64)
    line_numbers = np.flatnonzero(keep) + 1
    if values.size != line_numbers.size * N_COLUMNS:  # cannot happen after validation; be loud if it does
        raise AvaFormatError(source, bad_rows, f"{source}: internal parse mismatch ({values.size} values)")
    data = AvaData.from_matrix(values, line_numbers, source)

    semantic = np.zeros(len(data), dtype=bool)
    reasons: dict[int, str] = {}
    no_votes = data.votes == 0
    for i in np.flatnonzero(no_votes):
        reasons[int(i)] = "no votes (all 10 vote counts are 0), so it has no score"
    semantic |= no_votes
    order = np.argsort(data.image_id, kind="stable")
    sorted_ids = data.image_id[order]
    repeat = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1]) + 1
    if repeat.size:
        first_of_run = np.maximum.accumulate(np.where(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]], np.arange(len(order)), 0))
        for pos in repeat:
            i, first = int(order[pos]), int(order[first_of_run[pos]])
            if not semantic[i]:
                reasons[i] = f"image id {int(data.image_id[i])} repeats line {int(data.line[first])}"
            semantic[i] = True
    if semantic.any():
        bad_rows += [BadRow(int(data.line[i]), reasons[i], line_text(int(data.line[i]) - 1)[:200]) for i in np.flatnonzero(semantic)]
        bad_rows.sort(key=lambda row: row.line)
        data = data.subset(~semantic)
    data.bad_rows = bad_rows
    if bad_rows and strict:
        raise AvaFormatError(source, bad_rows, f"{source}: {len(bad_rows)} bad row(s); nothing was written (--strict)")
    if len(data) == 0:
        raise AvaFormatError(source, bad_rows, f"{source}: no usable rows")
    return data


def read_ava(path: Path | str, strict: bool = False) -> AvaData:
    """Read an AVA.txt-format file (any size; plain ASCII)."""
    path = Path(path)
    return parse_ava_text(path.read_bytes(), source=str(path), strict=strict)


def read_names(path: Path | str) -> dict[int, str]:
    """tags.txt / challenges.txt: ``<id> <name with spaces>`` per line."""
    names: dict[int, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        head, _, name = line.strip().partition(" ")
        if not head.isdigit() or not name.strip():
            raise AvaFormatError(path, [BadRow(number, "expected '<id> <name>'", line)], f"{path}: bad name list")
        names[int(head)] = name.strip()
    return names


def read_id_list(path: Path | str) -> np.ndarray:
    """A .jpgl image list: one image id per line."""
    ids, bad = [], []
    for number, line in enumerate(Path(path).read_text(encoding="latin-1").splitlines(), start=1):
        token = line.strip()
        if not token:
            continue
        if token.isascii() and token.isdigit():
            ids.append(int(token))
        else:
            bad.append(BadRow(number, f"{token[:30]!r} is not an image id"))
    if bad:
        raise AvaFormatError(path, bad, f"{path}: {len(bad)} bad line(s) in an image list")
    return np.array(ids, dtype=np.int64)
