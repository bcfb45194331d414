"""Score -> group -> inspect look-alikes -> rank: one record per photo, as `photocritic cull` prints it."""
from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from photocritic.culling.faces import FACE_LONG_SIDE, FrameReport, blinks, inspect_pixels, region_exposure, salient_cells
from photocritic.culling.grouping import GroupingConfig, group_bursts, normalise, parse_time
from photocritic.culling.level import group_tilts
from photocritic.culling.matching import MATCH_LONG_SIDE, MIN_MATCH_SIDE, Keypoints, agreeing_matches, keypoints, look_of_file
from photocritic.culling.ranking import Candidate, RankWeights, rank_group
from photocritic.culling.sets import find_sets, label_sets
from photocritic.imaging.resample import halve
from photocritic.models.flags import TOO_SMALL
from photocritic.reasons import technical_reasons

#: Photos whose local features are kept in memory at once while grouping (least recently used go first).
KEYPOINT_CACHE = 2048

#: Stops above mid-grey at which skin is normally exposed (light skin reflects ~35%, dark ~10%: a middle).
SKIN_ABOVE_GREY = 0.5

#: Length of the backbone embedding at the end of each catalog feature vector.
EMBED_DIM = 1280

#: progress(done, total, phase): *phase* names the step ("scoring", "grouping look-alikes", ...); the
#: scoring step calls it with two arguments.
ProgressCallback = Callable[..., None]


#: The 8 lowest DCT-II basis rows over 32 samples, scaled as scipy.fftpack.dct (2 cos(pi k (2n + 1) / 2N)).
_DCT_ROWS = 2.0 * np.cos(np.pi * np.arange(8)[:, None] * (2 * np.arange(32)[None, :] + 1) / 64.0)


def phash_bits(image) -> int:
    """imagehash.phash (hash_size 8) of a PIL image as a 64-bit int, row-major, first bit highest:
    grey, Lanczos to 32x32, 2-D DCT-II, the 8x8 lowest frequencies above their median. The two matrix
    products give imagehash's bits without scipy (tests/culling/test_phash.py holds them equal)."""
    from PIL import Image

    grey = np.asarray(image.convert("L").resize((32, 32), Image.LANCZOS), dtype=np.float64)
    low = _DCT_ROWS @ grey @ _DCT_ROWS.T
    bits = (low > np.median(low)).reshape(-1)
    return int(np.packbits(bits).view(">u8")[0])


def perceptual_hash(path: str | os.PathLike) -> int | None:
    """64-bit pHash (as imagehash's) of the oriented photo decoded small; None if unreadable."""
    from PIL import Image

    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=256, draft_headroom=1.0).pixels
    except PhotoError:
        return None
    return phash_bits(Image.fromarray(pixels))


def cull_records(
    scorer,
    files: Iterable[str | os.PathLike],
    config: GroupingConfig | None = None,
    weights: RankWeights | None = None,
    faces: bool = True,
    use_hash: bool = True,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    use_matching: bool = True,
    sets: bool = True,
) -> list[dict]:
    """Cull *files* with a :class:`photocritic.scoring.Scorer`; records sorted by group, then rank.

    Each record: path, group (1..; shared by look-alikes), group_size, rank (1 = best in its group),
    pick, score, quality_score, aesthetic_score, quality, reasons, taken_at, camera, sharpness, exposure_ev, faces, closed_eyes,
    error. A photo that could not be read has group, rank and pick null and its error in reasons.
    """
    records: list[dict] = []
    vectors: list[np.ndarray | None] = []
    for record, row in scorer.iter_scored(files, progress):
        records.append(record)
        features = row.features if row is not None and record["error"] is None else None
        vectors.append(np.asarray(features[-EMBED_DIM:], dtype=np.float16) if features is not None and len(features) >= EMBED_DIM else None)
    missing = [r["path"] for r, v in zip(records, vectors) if v is None and r["error"] is None]
    if missing and scorer.catalog is not None:
        found = scorer.catalog.embeddings(missing, dim=EMBED_DIM)
        vectors = [found.get(r["path"], v) if v is None else v for r, v in zip(records, vectors)]
    return cull_scored(records, vectors, config, weights, faces, use_hash, workers or getattr(scorer, "workers", 2), use_matching, progress, sets=sets)


def cull_scored(
    records: list[dict],
    vectors: list[np.ndarray | None],
    config: GroupingConfig | None = None,
    weights: RankWeights | None = None,
    faces: bool = True,
    use_hash: bool = True,
    workers: int = 2,
    use_matching: bool = True,
    progress: ProgressCallback | None = None,
    sets: bool = True,
) -> list[dict]:
    """The part of :func:`cull_records` after scoring: *vectors* are the embeddings (None if absent).

    *use_matching*: confirm borderline look-alikes by matching local features (:mod:`.matching`).
    *progress(done, total, phase)*: told of each step that can take seconds.
    *sets*: find exposure brackets, panoramas and focus stacks (:mod:`.sets`) and keep them whole.
    """
    def step(phase: str):
        return (lambda done, total: progress(done, total, phase)) if progress else None

    n = len(records)
    usable = [i for i in range(n) if records[i]["error"] is None and vectors[i] is not None]
    embeddings = np.zeros((len(usable), EMBED_DIM), dtype=np.float32)
    # a photo scoring flagged too small to judge (a 1x1 tracking pixel, a thumbnail) is never anyone's
    # look-alike: with no embedding it stays a group of its own, and it is never a pick over a real photo
    small = {i: flag for i in usable for flag in records[i].get("flags") or [] if flag.startswith(TOO_SMALL)}
    # a flagged photo (too small, almost entirely black or white, flat) is never a pick: it is rejected
    # with its flag as the reason, and not ranked against the others of its group
    flagged = {i: records[i]["flags"][0] for i in usable if records[i].get("flags")}
    for row, i in enumerate(usable):
        if i not in small:
            embeddings[row] = vectors[i]
    times = [parse_time(records[i].get("taken_at")) for i in usable]
    cameras = [records[i].get("camera") for i in usable]
    hash_of = (lambda row: perceptual_hash(records[usable[row]]["path"])) if use_hash else None
    # keypoints lazily, only for photos in borderline pairs, and at most KEYPOINT_CACHE of them at a time
    # (~40 KB each): memory stays bounded on a library of any size; dropped after grouping
    found_keypoints: OrderedDict = OrderedDict()

    def keypoints_of(row: int):
        if row in found_keypoints:
            found_keypoints.move_to_end(row)
        else:
            found_keypoints[row] = look_of_file(records[usable[row]]["path"])  # (keypoints, portrait faces) or None
            if len(found_keypoints) > KEYPOINT_CACHE:
                found_keypoints.popitem(last=False)
        return found_keypoints[row]

    def matches_of(a: int, b: int) -> int:
        ka, kb = keypoints_of(a), keypoints_of(b)
        return agreeing_matches(ka[0], kb[0]) if ka is not None and kb is not None else 0

    def faces_of(row: int) -> int:  # two portraits join only on content they share (grouping.py)
        return (keypoints_of(row) or (None, 0))[1]

    labels = (
        group_bursts(embeddings, times, cameras, config, hash_of=hash_of, matches_of=matches_of if use_matching else None,
                     progress=step("grouping look-alikes"), faces_of=faces_of if use_matching else None)
        if usable
        else np.zeros(0, np.int64)
    )

    members: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(row)
    unit = normalise(embeddings) if usable else embeddings

    # a larger decode (faces, open eyes, grain) for photos that have look-alikes, and for the faces
    # and eyes of the others (a single is still kept; its reasons say that the eyes are closed)
    to_inspect = [usable[row] for rows in members.values() if len(rows) > 1 or faces for row in rows if usable[row] not in flagged]
    reports: dict[int, FrameReport | None] = {}
    frame_keypoints: dict[int, Keypoints | None] = {}  # of frames with look-alikes: their turn against the others
    if to_inspect:
        inspecting = step("faces, eyes and grain" if faces else "grain and sharpness")
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            # a single needs only its faces and eyes; a frame with look-alikes, what ranking compares
            grouped = {usable[row] for rows in members.values() if len(rows) > 1 for row in rows}
            # grouping found the local features of some frames already
            known = {usable[row]: found[0] for row, found in found_keypoints.items() if found is not None}
            look = lambda i: inspect_frame(records[i]["path"], faces, i in grouped, i not in known)  # noqa: E731
            for done, (i, (report, found)) in enumerate(zip(to_inspect, pool.map(look, to_inspect)), start=1):
                reports[i] = report
                frame_keypoints[i] = known.get(i, found)
                if inspecting:
                    inspecting(done, len(to_inspect))

    found_keypoints.clear()
    out: list[dict] = [dict() for _ in range(n)]
    group_rows = sorted(members.values(), key=lambda rows: _group_key(records, [usable[r] for r in rows]))
    ranking = step("ranking")
    for group_id, rows in enumerate(group_rows, start=1):
        if ranking:
            ranking(group_id, len(group_rows))
        rejected = [row for row in rows if usable[row] in flagged]
        judged = [row for row in rows if usable[row] not in flagged]
        for rank, row in enumerate(rejected, start=len(judged) + 1):
            i = usable[row]
            out[i] = _record(records[i], group_id, len(rows), rank, False, None, [f"{flagged[i]}, rejected"], None, faces, None)
        if not judged:
            continue
        if len(judged) == 1:  # no look-alike worth comparing: kept, with what is wrong with it said
            i = usable[judged[0]]
            report = reports.get(i)
            closed_here = report.faces.closed if report is not None else 0
            out[i] = _record(records[i], group_id, len(rows), 1, True, round(_score(records[i]) * (weights or RankWeights()).score, 4),
                             ["no similar photo: kept", *_single_defects(records[i], closed_here if faces else 0)], report, faces, closed_here)
            continue
        rows = judged
        indices = [usable[row] for row in rows]
        candidates, closed = group_candidates(records, indices, reports, faces, [frame_keypoints.get(i) for i in indices])
        sims = unit[rows] @ unit[rows].T if len(rows) > 1 else None
        evidence = {c.index: c.evidence() for c in candidates}
        position = {c.index: k for k, c in enumerate(candidates)}
        for ranked in rank_group(candidates, weights, sims):
            i = ranked.index
            report = reports.get(i)
            out[i] = _record(records[i], group_id, len(rows) + len(rejected), ranked.rank, ranked.pick, ranked.quality, ranked.reasons, report, faces, closed[i])
            if len(rows) > 1:
                out[i]["evidence"] = {**evidence[i], "similarities": [round(float(v), 4) for v in sims[position[i]]]}
    for i in range(n):
        if not out[i]:
            reason = records[i]["error"] or "no embedding in the catalog"
            out[i] = _record(records[i], None, None, None, None, None, [f"could not be judged: {reason}"], None, faces, None)
    # exposure brackets, panoramas and focus stacks are labelled and kept whole, whatever ranking said
    label_sets(out, find_sets(out, reports) if sets else [])
    order = sorted(range(n), key=lambda i: (out[i]["group"] is None, out[i]["group"] or 0, out[i]["rank"] or 0))
    return [out[i] for i in order]


def group_candidates(records: list[dict], indices: list[int], reports: dict[int, FrameReport | None], faces: bool = True,
                     keypoints: list | None = None) -> tuple[list[Candidate], dict[int, int]]:
    """What ranking reads of the photos *indices* of one group (records as scoring gives them, *reports*
    from :func:`inspect_frame`), and the faces that blink in each (index -> count).
    *keypoints*: the frames' local features if known (:func:`~photocritic.culling.matching.keypoints`)."""
    group_reports = [reports.get(i) for i in indices]
    known = [r for r in group_reports if r is not None]
    reference = max(known, key=lambda r: r.faces.open_eyes) if known else None
    closed = {i: (blinks(r.faces, reference.faces, group=[k.faces for k in known]) if r is not None and reference is not None else 0) for i, r in zip(indices, group_reports)}
    # without faces in every frame the subject is one region, chosen once for the whole group
    region = None
    if known and not all(r.faces.count for r in known) and all(r.cells for r in known):
        energy = sum(np.array(r.cells["energy"]) / max(float(np.max(r.cells["energy"])), 1e-9) for r in known)
        region = salient_cells(energy)
    tilts = group_tilts([records[i]["path"] for i in indices], [r.tilt if r is not None else None for r in group_reports], keypoints)
    candidates = []
    for i, tilt in zip(indices, tilts):
        report = reports.get(i)
        candidates.append(
            Candidate(
                index=i,
                score=records[i]["score"],
                quality_score=records[i].get("quality_score"),
                aesthetic_score=records[i].get("aesthetic_score"),
                technical=records[i].get("technical") or {},
                faces=report.faces.count if report is not None and faces else None,
                closed_eyes=closed[i],
                grain=report.noise if report is not None else None,
                sharpness=report.sharpness if report is not None else None,
                detail=report.detail if report is not None else None,
                tilt=tilt,
                tones=report.tones if report is not None else None,
                **_subject_evidence(report, region),
            )
        )
    return candidates, closed


def inspect_frame(path: str | os.PathLike, find_faces: bool = True, grouped: bool = True,
                  with_keypoints: bool = True) -> tuple[FrameReport | None, Keypoints | None]:
    """One decode at FACE_LONG_SIDE: the frame's report (faces and eyes; for a frame with look-alikes its
    measures too, :func:`~photocritic.culling.faces.inspect_pixels`) and, for such a frame unless
    *with_keypoints* is off, its local features at about MATCH_LONG_SIDE (its turn against the others,
    :mod:`.level`). (None, None) if unreadable."""
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=FACE_LONG_SIDE, draft_headroom=1.0).pixels
    except PhotoError:
        return None, None
    report = inspect_pixels(pixels, find_faces, 1, grouped)
    if not (grouped and with_keypoints):
        return report, None
    small = halve(pixels) if max(pixels.shape[:2]) >= 2 * MATCH_LONG_SIDE - 64 and min(pixels.shape[:2]) >= 2 * MIN_MATCH_SIDE else pixels
    return report, keypoints(small)


def _score(record: dict) -> float:
    score = record.get("score")
    return float(score) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0


def _single_defects(record: dict, closed: int) -> list[str]:
    """What is wrong with a photo that has no look-alike: closed eyes (landmark evidence) and the
    strong defects of its technical measures (the "bad" notes of :func:`photocritic.reasons.technical_reasons`)."""
    eyes = ["eyes closed" if closed == 1 else f"eyes closed ({closed} faces)"] if closed else []
    return eyes + [note["text"] for note in technical_reasons(record.get("technical")) if note["level"] == "bad"]


def _subject_evidence(report: FrameReport | None, region: list[int] | None = None) -> dict:
    """Candidate fields from a frame report: the subject's exposure in stops, its clipping, face sharpness.
    *region*: the group's salient cells, used instead of the faces when not every frame has one."""
    if report is None:
        return {}
    blown, crushed, level = report.subject_blown, report.subject_crushed, report.subject_level
    if region is not None and report.cells:
        blown, crushed, level = region_exposure(report.cells, region)
    level = min(max(level, 0.5), 255.0) / 255.0
    linear = level / 12.92 if level <= 0.04045 else ((level + 0.055) / 1.055) ** 2.4
    ev = math.log2(linear / 0.18)
    faces = report.faces.faces if region is None else []
    if faces:
        ev -= SKIN_ABOVE_GREY  # skin is normally exposed a little above mid-grey
    largest = max(faces, key=lambda f: f.box[2] * f.box[3]) if faces else None
    return {
        "subject_ev": round(ev, 3),
        "subject_blown": round(blown, 4),
        "subject_crushed": round(crushed, 4),
        "face_sharpness": round(largest.sharpness, 4) if largest is not None else None,
    }


def reasons_after_pick(group_records: list[dict], pick_path: str, weights: RankWeights | None = None) -> dict[str, list[str]]:
    """Reasons for each photo of one group (records as :func:`cull_scored` returns them, with their
    ``evidence``) when the user keeps *pick_path* instead of the suggested pick: path -> reasons, every
    one of them said relative to the user's pick. Records without evidence keep their reasons."""
    with_evidence = [r for r in group_records if r.get("evidence")]
    if len(with_evidence) < 2 or not any(r["path"] == pick_path for r in with_evidence):
        return {r["path"]: list(r.get("reasons") or []) for r in group_records}
    candidates = [Candidate.from_evidence(k, r["evidence"]) for k, r in enumerate(with_evidence)]
    sims = None
    if all(len(r["evidence"].get("similarities") or []) == len(group_records) for r in with_evidence) and len(with_evidence) == len(group_records):
        sims = np.array([r["evidence"]["similarities"] for r in with_evidence], dtype=np.float64)
    chosen = next(k for k, r in enumerate(with_evidence) if r["path"] == pick_path)
    out = {r["path"]: list(r.get("reasons") or []) for r in group_records}
    for ranked in rank_group(candidates, weights, sims, pick=chosen):
        out[with_evidence[ranked.index]["path"]] = ranked.reasons
    return out


def _group_key(records: list[dict], indices: list[int]) -> tuple:
    times = sorted(t for t in (records[i].get("taken_at") for i in indices) if t)
    paths = sorted(records[i]["path"] for i in indices)
    return (times[0] if times else "~", paths[0])


def _record(record: dict, group, size, rank, pick, quality, reasons, report: FrameReport | None, faces: bool, closed: int | None) -> dict:
    technical = record.get("technical") or {}
    return {
        "path": record["path"],
        "group": group,
        "group_size": size,
        "rank": rank,
        "pick": pick,
        "score": record.get("score"),
        "quality_score": record.get("quality_score"),  # the model's, when it gives them (else null)
        "aesthetic_score": record.get("aesthetic_score"),
        "quality": quality,
        "reasons": reasons,
        # pick | reject | left out (by --keep, photocritic.culling.keep); null if unreadable
        "decision": None if pick is None else ("pick" if pick else "reject"),
        "flags": list(record.get("flags") or []),
        "taken_at": record.get("taken_at"),
        "camera": record.get("camera"),
        "sharpness": technical.get("sharpness_peak"),
        "exposure_ev": technical.get("exposure_ev"),
        "faces": report.faces.count if report is not None and faces else None,
        "closed_eyes": closed if report is not None and faces else None,
        "error": record.get("error"),
        "evidence": None,  # for photos with look-alikes: what ranking read (reasons_after_pick)
    }


__all__ = ["EMBED_DIM", "cull_records", "cull_scored", "group_candidates", "inspect_frame", "perceptual_hash", "reasons_after_pick"]
