"""Group bursts and near-duplicates without comparing every photo with every other.

Candidate pairs come from two cheap sources:

* **time neighbours**: per camera, photos sorted by capture time; each photo is paired with the next
  few taken within ``time_gap`` seconds (EXIF DateTimeOriginal with sub-seconds);
* **visual neighbours**: the ``neighbours`` nearest photos by cosine similarity of the backbone
  embedding, found exactly for small sets and with a FAISS inverted-file index (on a 128-d
  projection) for large ones (exactly on that projection when faiss, the ``[large]`` extra, is absent).

A candidate pair becomes an edge when its embeddings are similar enough: ``similarity`` on its
own, the lower ``time_similarity`` when the two were shot by one camera within ``time_gap``,
``hash_similarity`` when a perceptual hash (pHash, computed lazily and only for such borderline
pairs) also says the frames are near-identical, or ``match_similarity`` when local features
(:mod:`photocritic.culling.matching`, also lazy) agree on one small camera move: that survives the
crops and tilts that defeat pHash. With feature matching on, a pair joins on looks alone only from
``confirm_below`` up, and on capture times alone only from ``time_alone_similarity`` up (times say
when, not what: below, they only lower the floor of a pair the hash or the matches confirm); and two
photos that both show a face (``faces_of``) join below ``portrait_confirm_below`` only on content they
share, so that two people's portraits of one framing are not one burst. Edges join groups with union-find, strongest
first, and a merge is refused when the two groups' mean embeddings disagree (``group_similarity``)
so that a long chain of slowly changing frames cannot swallow a whole shoot.

Memory is linear in the number of photos: the unit embeddings (float16 above ``EXACT_LIMIT``
photos), a 128-d projection for the index, at most ``neighbours + time_window`` candidate pairs
per photo, and one running sum per group found; nothing is quadratic.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

#: Above this many photos, neighbours come from an approximate FAISS index instead of exact search.
EXACT_LIMIT = 20_000


@dataclass
class GroupingConfig:
    """Thresholds for :func:`group_bursts`; cosine similarities of backbone embeddings, in -1..1."""

    similarity: float = 0.75  # near-duplicates whatever their capture times
    time_similarity: float = 0.50  # enough when one camera shot both within time_gap
    time_gap: float = 4.0  # seconds between two frames of one burst
    time_window: int = 6  # each photo is compared with this many later photos of its camera
    hash_similarity: float = 0.55  # borderline pairs that a perceptual hash confirms
    hash_distance: int = 14  # pHash bits (of 64) that may differ for the hash to confirm
    match_similarity: float = 0.50  # borderline pairs that geometric verification (matching.py) confirms
    match_inliers: int = 15  # feature matches that must agree on one small camera move to confirm
    # one camera within time_gap *and* matching features: the same scene, even where a change of exposure
    # moved the embedding far (a copy 2 stops brighter measured cosine 0.48 with 473 agreeing matches)
    time_match_similarity: float = 0.30
    # with feature matching on, a pair below this needs time, hash or matches too: 0.85 let two different
    # people's tight black-and-white face crops (cosine 0.855, 7 matches, 18 hash bits) join on looks alone;
    # 0.88 changed no F1 or pick on tuning seeds 0-2 (benchmarks/eval_culling.py)
    confirm_below: float = 0.88
    # with feature matching on, one camera's frames within time_gap join on their times from here up; below
    # it they need the hash or the matches too: time says when, not what. From 0.50, times alone joined
    # three different men photographed one after another (cosines 0.63-0.76 with each other, hashes 22+
    # bits apart, at most 8 matches) into one group; a blurred moon on black (no corners, its hash moved by
    # the shift) is 0.83-0.88 from its own burst
    time_alone_similarity: float = 0.80
    # with faces looked for (faces_of), two photos that both show a face need shared content (hash or
    # matches) up to this cosine, whatever their times: two different people's portraits of one framing
    # reach 0.855 (tight face crops) and one person's burst shares local features
    portrait_confirm_below: float = 0.95
    group_similarity: float = 0.50  # two groups merge only if their mean embeddings are this close
    neighbours: int = 8  # visual neighbours looked up per photo


def parse_time(value: str | None) -> float | None:
    """Seconds on the camera's own clock from an ISO 8601 time (the time zone, if any, is ignored)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=None)
    return (moment - datetime(1970, 1, 1)).total_seconds()


class UnionFind:
    """Disjoint sets; each merged set keeps the sum of its members' unit embeddings (for the group guard).

    Sums are kept only for sets of two or more, so memory grows with the groups found, not with n.
    """

    def __init__(self, n: int, vectors: np.ndarray | None = None) -> None:
        self.parent = np.arange(n)
        self.size = np.ones(n, dtype=np.int64)
        self.vectors = vectors
        self.sums: dict[int, np.ndarray] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def _sum(self, root: int) -> np.ndarray:
        found = self.sums.get(root)
        return found if found is not None else self.vectors[root].astype(np.float32)

    def group_cosine(self, a: int, b: int) -> float:
        if self.vectors is None:
            return 1.0
        sa, sb = self._sum(a), self._sum(b)
        denominator = float(np.linalg.norm(sa) * np.linalg.norm(sb))
        return float(sa @ sb) / denominator if denominator > 0 else 0.0

    def union(self, a: int, b: int) -> int:
        if self.size[a] < self.size[b]:
            a, b = b, a
        if self.vectors is not None:
            self.sums[a] = self._sum(a) + self._sum(b)
            self.sums.pop(b, None)
        self.parent[b] = a
        self.size[a] += self.size[b]
        return a


def normalise(vectors: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Unit rows (zero rows stay zero), computed in chunks; *dtype* float16 halves the memory."""
    vectors = np.asarray(vectors)
    out = np.empty(vectors.shape, dtype=dtype)
    for start in range(0, len(vectors), 8192):
        chunk = np.nan_to_num(vectors[start : start + 8192].astype(np.float32))
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        out[start : start + 8192] = chunk / np.maximum(norms, 1e-12)
    return out


def pair_cosines(unit: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact cosines of the pairs (a[k], b[k]) of unit rows, in chunks."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), 32768):
        ua = unit[a[start : start + 32768]].astype(np.float32)
        ub = unit[b[start : start + 32768]].astype(np.float32)
        out[start : start + 32768] = np.einsum("ij,ij->i", ua, ub)
    return out


def project(unit: np.ndarray, dims: int = 128, sample: int = 20_000, seed: int = 0) -> np.ndarray:
    """Centred unit vectors projected on their top *dims* principal axes, for the index only.

    Centring removes the component every photo shares, so the projection keeps what tells photos
    apart; the similarities that decide anything are computed afterwards on the full vectors.
    """
    if unit.shape[1] <= dims:
        return np.ascontiguousarray(unit, dtype=np.float32)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(unit), size=min(sample, len(unit)), replace=False)
    fit = unit[np.sort(rows)].astype(np.float32)
    mean = fit.mean(axis=0)
    fit -= mean
    _, eigenvectors = np.linalg.eigh(fit.T @ fit)  # d x d covariance: cheaper than an SVD of the sample
    basis = np.ascontiguousarray(eigenvectors[:, ::-1][:, :dims], dtype=np.float32)
    out = np.empty((len(unit), dims), dtype=np.float32)
    for start in range(0, len(unit), 8192):
        out[start : start + 8192] = (unit[start : start + 8192].astype(np.float32) - mean) @ basis
    return normalise(out)


def _exact_top(data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices) of the k largest inner products of each row with the others."""
    n = len(data)
    sims = np.empty((n, k), np.float32)
    idx = np.empty((n, k), np.int64)
    for start in range(0, n, 2048):  # blocks keep memory at 2048 x n
        block = data[start : start + 2048] @ data.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        sims[start : start + 2048] = np.take_along_axis(block, top, axis=1)
        idx[start : start + 2048] = top
    return sims, idx


_warned_without_faiss = False


def _faiss_candidates(data: np.ndarray, k: int) -> np.ndarray | None:
    """n x (k + 1) candidate indices from a FAISS inverted-file index; None without faiss."""
    global _warned_without_faiss
    try:
        import faiss
    except ImportError:
        if not _warned_without_faiss:
            _warned_without_faiss = True
            import sys

            print(
                f"photocritic: {len(data)} photos and no faiss: finding look-alikes exactly (slower); "
                'pip install "photocritic[large]" for the index',
                file=sys.stderr,
            )
        return None
    n = len(data)
    nlist = int(min(4096, max(64, 4 * math.sqrt(n))))
    quantiser = faiss.IndexFlatIP(data.shape[1])
    index = faiss.IndexIVFFlat(quantiser, data.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    train = data[np.random.default_rng(0).choice(n, size=min(n, nlist * 40), replace=False)]
    index.train(train)
    index.add(data)
    index.nprobe = 12
    _, idx = index.search(data, k + 1)
    return idx.astype(np.int64)


def visual_neighbours(unit: np.ndarray, k: int, exact_limit: int = EXACT_LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices), each n x k: the k nearest other photos by cosine (-1 where none)."""
    n = len(unit)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
    if n <= exact_limit:
        return _exact_top(np.asarray(unit, dtype=np.float32), k)
    data = np.ascontiguousarray(project(unit))
    idx = _faiss_candidates(data, k)
    if idx is None:
        # without faiss: the exact neighbours on the projection (memory stays n x 128), then exact
        # cosines on the full vectors as below
        idx = _exact_top(data, k)[1]
    del data
    idx[idx == np.arange(n)[:, None]] = -1  # each photo is its own nearest neighbour
    rows = np.repeat(np.arange(n), idx.shape[1])
    cols = idx.reshape(-1)
    sims = np.full(len(cols), -1.0, np.float32)
    found = cols >= 0
    sims[found] = pair_cosines(unit, rows[found], cols[found])  # exact, on the full vectors
    return sims.reshape(n, -1), idx


def time_neighbours(times: Sequence[float | None], cameras: Sequence[str | None], gap: float, window: int) -> list[tuple[int, int]]:
    """Pairs of photos from one camera taken within *gap* seconds, each with its next *window* photos."""
    by_camera: dict[str, list[int]] = {}
    for i, (t, camera) in enumerate(zip(times, cameras)):
        if t is not None:
            by_camera.setdefault(camera or "", []).append(i)
    pairs = []
    for members in by_camera.values():
        members.sort(key=lambda i: times[i])
        for pos, i in enumerate(members):
            for j in members[pos + 1 : pos + 1 + window]:
                if times[j] - times[i] > gap:
                    break
                pairs.append((i, j))
    return pairs


def hamming(a: int, b: int) -> int:
    return int(a ^ b).bit_count()


def _hash_close(a: int | None, b: int | None, distance: int) -> bool:
    return a is not None and b is not None and hamming(a, b) <= distance


def group_bursts(
    embeddings: np.ndarray,
    times: Sequence[float | None] | None = None,
    cameras: Sequence[str | None] | None = None,
    config: GroupingConfig | None = None,
    hash_of: Callable[[int], int | None] | None = None,
    exact_limit: int = EXACT_LIMIT,
    matches_of: Callable[[int, int], int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    faces_of: Callable[[int], int] | None = None,
) -> np.ndarray:
    """Group labels (0..g-1, numbered in input order) for n photos.

    *embeddings* is n x d (rows of zeros or NaN for photos without one: they stay alone); *times*
    seconds or None per photo; *cameras* a name or None; *hash_of(i)* the 64-bit perceptual hash of
    photo *i* (or None), called only for borderline pairs; *matches_of(i, j)* the number of local
    feature matches of photos *i* and *j* that agree on one small camera move
    (:func:`photocritic.culling.matching.agreeing_matches`), called only for borderline pairs that
    neither capture times nor the hash confirm. *faces_of(i)* how many faces photo *i* shows
    (:func:`photocritic.culling.faces.portrait_faces`), asked only of pairs that looks or times would join
    below ``portrait_confirm_below``: two portraits join only on content they share. *progress(done, total)*
    is told of each candidate pair checked (hashes and matches make this the slow part).
    """
    config = config or GroupingConfig()
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    times = list(times) if times is not None else [None] * n
    cameras = list(cameras) if cameras is not None else [None] * n
    unit = normalise(embeddings, dtype=np.float16 if n > exact_limit else np.float32)
    valid = np.abs(unit).max(axis=1) > 0

    candidates: dict[tuple[int, int], float] = {}
    valid_index = np.flatnonzero(valid)
    if len(valid_index) > 1:
        sims, idx = visual_neighbours(unit[valid_index] if len(valid_index) < n else unit, config.neighbours, exact_limit)
        floor = min(config.similarity, config.time_similarity, config.hash_similarity, config.match_similarity if matches_of else 1.0)
        rows, cols = np.nonzero((sims >= floor) & (idx >= 0))
        for r, c in zip(rows.tolist(), cols.tolist()):
            a, b = int(valid_index[r]), int(valid_index[idx[r, c]])
            candidates[(min(a, b), max(a, b))] = float(sims[r, c])
    near_in_time = set()
    for a, b in time_neighbours(times, cameras, config.time_gap, config.time_window):
        if valid[a] and valid[b]:
            key = (min(a, b), max(a, b))
            near_in_time.add(key)
            if key not in candidates:
                candidates[key] = float(unit[a].astype(np.float32) @ unit[b].astype(np.float32))

    hashes: dict[int, int | None] = {}

    def cached_hash(i: int) -> int | None:
        if i not in hashes:
            hashes[i] = hash_of(i) if hash_of else None
        return hashes[i]

    # with feature matching on, looks alone join a pair only from confirm_below up: unrelated photos
    # reach cosine 0.77 on the shared photos, and a pair of one scene that far apart is confirmed by
    # capture times, the hash or the matches
    alone = max(config.similarity, config.confirm_below) if matches_of is not None else config.similarity
    # with feature matching on, capture times alone join a pair only from time_alone_similarity up (and
    # never two portraits): below, they lower the floor of pairs that the hash or the matches confirm
    time_alone = config.time_similarity if matches_of is None else max(config.time_similarity, config.time_alone_similarity)
    # one camera within time_gap lowers the floor of a confirmed pair (with matching on: a copy 2 stops
    # brighter measured cosine 0.48 with 473 agreeing matches)
    time_floor = config.time_match_similarity if matches_of is not None else config.hash_similarity
    looked: dict[tuple[int, int], bool] = {}

    def shared_content(a: int, b: int, sim: float, timed: bool) -> bool:
        """The hash or the feature matches say the two photos show one scene (each asked only once)."""
        if (a, b) not in looked:
            hashed = hash_of is not None and sim >= (time_floor if timed else config.hash_similarity) and _hash_close(cached_hash(a), cached_hash(b), config.hash_distance)
            looked[(a, b)] = hashed or (
                matches_of is not None and sim >= (time_floor if timed else config.match_similarity) and matches_of(a, b) >= config.match_inliers
            )
        return looked[(a, b)]

    def portraits(a: int, b: int, sim: float) -> bool:
        return faces_of is not None and sim < config.portrait_confirm_below and faces_of(a) > 0 and faces_of(b) > 0

    edges = []
    for checked, ((a, b), sim) in enumerate(candidates.items(), start=1):
        if progress:
            progress(checked, len(candidates))
        timed = (a, b) in near_in_time
        if sim >= alone or (timed and sim >= time_alone):
            # looks (or one camera's times) alone, unless both photos show a face and share no content
            if not portraits(a, b, sim) or shared_content(a, b, sim, timed):
                edges.append((sim, a, b, config.similarity if sim >= alone else config.time_similarity))
        elif shared_content(a, b, sim, timed):
            # pHash survives blur and exposure, local features a crop or a tilt: the camera moved, the scene is the same
            floor = config.hash_similarity if hash_of is not None and _hash_close(hashes.get(a), hashes.get(b), config.hash_distance) else config.match_similarity
            edges.append((sim, a, b, floor if sim >= floor else config.time_match_similarity))
    edges.sort(key=lambda e: -e[0])

    sets = UnionFind(n, unit)
    for sim, a, b, threshold in edges:
        ra, rb = sets.find(a), sets.find(b)
        if ra == rb:
            continue
        if sets.size[ra] + sets.size[rb] > 2 and sets.group_cosine(ra, rb) < min(threshold, config.group_similarity):
            continue
        sets.union(ra, rb)

    labels = np.empty(n, dtype=np.int64)
    numbering: dict[int, int] = {}
    for i in range(n):
        labels[i] = numbering.setdefault(sets.find(i), len(numbering))
    return labels


__all__ = ["GroupingConfig", "UnionFind", "group_bursts", "parse_time", "time_neighbours", "visual_neighbours"]
