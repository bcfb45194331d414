"""The default model's data: which photos, how each is fed, and cached features of every variant.

Every photo becomes several *jobs*, each a row of features (MLSP backbone features rounded to
float16 as the catalog stores them, plus the technical measures):

``pristine``   the photo fed the same way for both classes: snapshots are first re-encoded like the
               professional set (long side at most 1280 px, JPEG quality 90), then decoded by the
               scoring pipeline's own :func:`decode_for_model`;
``original``   a snapshot file as the scoring pipeline reads it (for professional photos this is the
               pristine row itself);
``q95``        the original re-encoded at JPEG quality 95, and ``resize075`` resized to 0.75x (Lanczos,
               quality 95): for the robustness check;
``damaged``    the pristine working pixels after one damage at one strength (see ``degradations``);
``crop``       a seeded crop (55-85% of each side, anywhere in the frame) of the photo at 1280 px,
               brought to the working size: a new composition of the same scene, for distillation;
``failure``    an obvious failure made from the pristine pixels (black, blown white, flat, extreme
               blur, exposure or noise; see ``degradations.FAILURES``).

With a teacher (idealo's NIMA, :mod:`photocritic.training.teacher`), every job also gets the
teacher's 10-bin distribution, cached apart like the measures.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from photocritic.imaging.decode import PIXELS_VERSION, WORKING_LONG_SIDE, decode_for_model
from photocritic.models.backbone import extract_features, load_backbone, model_input
from photocritic.models.technical import TECHNICAL_MEASURES, TECHNICAL_VERSION, measures_vector, technical_measures
from photocritic.training.degradations import DAMAGES, FAILURES, damage_at, make_failure, seed_for
from photocritic.training.teacher import TEACHER_VERSION, teacher_distributions, teacher_input

CACHE_VERSION = 1
NORMALISED_LONG_SIDE = 1280
NORMALISED_QUALITY = 90
KINDS = ("pristine", "original", "q95", "resize075", "damaged", "crop", "failure")
DAMAGES_PER_PHOTO = 3
CROPS_PER_PHOTO = 2
FAILURES_PER_PHOTO = 1
CROP_SOURCE_LONG_SIDE = 1280


@dataclass(frozen=True)
class Photo:
    key: str  # "professional/<file>" or "photos/<file>"
    path: Path
    professional: bool
    group: str  # the wallpaper source, or "make:<first word of the camera>" for snapshots
    width: int  # of the file on disk, after EXIF orientation
    height: int


@dataclass(frozen=True)
class Job:
    photo: int  # index into the photo list
    kind: str
    damage: str = ""  # the damage, the failure's kind, or "crop<k>"
    strength: int = -1  # 0 mild, 1 moderate, 2 strong


def list_photos(data_dir: str | os.PathLike, limit_per_class: int | None = None) -> list[Photo]:
    """Professional photos (group = their source) and snapshots (group = camera make), sorted."""
    data_dir = Path(data_dir)
    photos: list[Photo] = []
    manifest = data_dir / "professional" / "MANIFEST.tsv"
    with manifest.open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle, delimiter="\t"), key=lambda r: r["file"])
    for row in rows[:limit_per_class]:
        path = data_dir / "professional" / row["file"]
        if not path.is_file():  # a few sources were PNG/WebP; the files here are all JPEG
            path = path.with_suffix(".jpg")
        if path.is_file():
            w, h = _oriented_size(path)
            photos.append(Photo(f"professional/{path.name}", path, True, row["source"], w, h))
    snapshots = sorted(p for p in (data_dir / "photos").iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    for path in snapshots[:limit_per_class]:
        w, h = _oriented_size(path)
        make = path.stem.split()[0].lower()
        photos.append(Photo(f"photos/{path.name}", path, False, f"make:{make}", w, h))
    return photos


def _oriented_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        w, h = image.size
        orientation = image.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def assign_folds(photos: list[Photo], n_folds: int | None = None) -> np.ndarray:
    """Fold per photo: one whole professional source per fold; snapshot makes spread greedily."""
    sources = sorted({p.group for p in photos if p.professional})
    n_folds = n_folds or max(2, len(sources))
    folds = np.zeros(len(photos), dtype=np.int64)
    for i, p in enumerate(photos):
        if p.professional:
            folds[i] = sources.index(p.group) % n_folds
    makes = Counter(p.group for p in photos if not p.professional)
    load = np.zeros(n_folds)
    fold_of_make = {}
    for make, count in sorted(makes.items(), key=lambda kv: (-kv[1], kv[0])):
        fold_of_make[make] = int(np.argmin(load))
        load[fold_of_make[make]] += count
    for i, p in enumerate(photos):
        if not p.professional:
            folds[i] = fold_of_make[p.group]
    return folds


def plan_jobs(
    photos: list[Photo],
    seed: int = 0,
    damages_per_photo: int = DAMAGES_PER_PHOTO,
    crops_per_photo: int = CROPS_PER_PHOTO,
    failures_per_photo: int = FAILURES_PER_PHOTO,
) -> list[Job]:
    """All jobs, photo by photo. Each photo gets *damages_per_photo* damage types (balanced
    over the photo set) at all three strengths, *crops_per_photo* crops and *failures_per_photo*
    obvious failures (kinds balanced over the photo set)."""
    order = np.random.default_rng(seed).permutation(len(photos))
    rank = np.empty(len(photos), dtype=np.int64)
    rank[order] = np.arange(len(photos))
    jobs: list[Job] = []
    for i, photo in enumerate(photos):
        jobs.append(Job(i, "pristine"))
        if not photo.professional:
            jobs.append(Job(i, "original"))
        jobs += [Job(i, "q95"), Job(i, "resize075")]
        for j in range(damages_per_photo):
            damage = DAMAGES[(int(rank[i]) * damages_per_photo + j) % len(DAMAGES)]
            jobs += [Job(i, "damaged", damage, s) for s in range(3)]
        jobs += [Job(i, "crop", f"crop{k}") for k in range(crops_per_photo)]
        for j in range(failures_per_photo):
            jobs.append(Job(i, "failure", FAILURES[(int(rank[i]) * failures_per_photo + j) % len(FAILURES)]))
    return jobs


def _decode_bytes(data: bytes):
    """Run bytes through the scoring pipeline's decoder (which takes a path)."""
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as handle:
        handle.write(data)
        name = handle.name
    try:
        return decode_for_model(name).pixels
    finally:
        os.unlink(name)


def _jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def pristine_pixels(photo: Photo) -> np.ndarray:
    """Working pixels fed the same way for both classes (see the module docstring)."""
    if photo.professional:  # already at most 1280 px, quality 90
        return decode_for_model(photo.path).pixels
    full = decode_for_model(photo.path, long_side=NORMALISED_LONG_SIDE).pixels
    return _decode_bytes(_jpeg_bytes(Image.fromarray(full), NORMALISED_QUALITY))


def variant_pixels(photo: Photo, kind: str) -> np.ndarray:
    if kind == "original":
        return decode_for_model(photo.path).pixels
    full = Image.fromarray(decode_for_model(photo.path, long_side=1 << 15).pixels)
    if kind == "resize075":
        full = full.resize((max(1, round(full.width * 0.75)), max(1, round(full.height * 0.75))), Image.Resampling.LANCZOS)
    elif kind != "q95":
        raise ValueError(kind)
    return _decode_bytes(_jpeg_bytes(full, 95))


def crop_pixels(photo: Photo, name: str) -> np.ndarray:
    """A seeded crop of the photo (at most 1280 px) resized to the working size."""
    full = Image.fromarray(decode_for_model(photo.path, long_side=CROP_SOURCE_LONG_SIDE).pixels)
    rng = np.random.default_rng(seed_for(photo.key, name))
    fw, fh = rng.uniform(0.55, 0.85, size=2)
    cw, ch = max(1, round(full.width * fw)), max(1, round(full.height * fh))
    x0 = int(rng.integers(0, full.width - cw + 1))
    y0 = int(rng.integers(0, full.height - ch + 1))
    crop = full.crop((x0, y0, x0 + cw, y0 + ch))
    scale = min(1.0, WORKING_LONG_SIDE / max(crop.size))
    if scale < 1.0:
        crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.Resampling.LANCZOS)
    return np.asarray(crop, dtype=np.uint8).copy()


def job_pixels(photo: Photo, job: Job, pristine: np.ndarray) -> np.ndarray:
    """The working pixels of one job of *photo*, given its :func:`pristine_pixels`."""
    if job.kind == "pristine" or (photo.professional and job.kind == "original"):
        return pristine
    if job.kind == "damaged":
        return damage_at(pristine, job.damage, job.strength, seed_for(photo.key, job.damage, job.strength))
    if job.kind == "failure":
        return make_failure(pristine, job.damage, seed_for(photo.key, "failure", job.damage))
    if job.kind == "crop":
        return crop_pixels(photo, job.damage)
    return variant_pixels(photo, job.kind)


def _prepare_photo(
    photo: Photo, jobs: list[Job], with_model_input: bool = True, with_teacher: bool = False
) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
    """(technical vector, backbone input or None, teacher input or None) for each job of one photo."""
    pristine = pristine_pixels(photo)
    out = []
    for job in jobs:
        pixels = job_pixels(photo, job, pristine)
        out.append((
            measures_vector(technical_measures(pixels)),
            model_input(pixels) if with_model_input else None,
            teacher_input(pixels) if with_teacher else None,
        ))
    return out


def _photo_cache_file(cache_dir: Path, photo: Photo, jobs: list[Job], with_random: bool) -> Path:
    """Where one photo's backbone features are cached (files of older versions also hold the
    technical measures of their day, which are not read)."""
    spec = {
        "version": CACHE_VERSION,
        "pixels": PIXELS_VERSION,
        "photo": [photo.key, photo.path.stat().st_size],
        "jobs": [(j.kind, j.damage, j.strength) for j in jobs],
        "random": with_random,
    }
    digest = hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:20]
    return cache_dir / digest[:2] / f"{digest}.npz"


def _measures_cache_file(cache_dir: Path, photo: Photo, jobs: list[Job]) -> Path:
    """Where one photo's technical measures are cached: apart from the backbone features, so a new
    or changed measure costs a decode per job, not a backbone pass."""
    spec = {
        "version": CACHE_VERSION,
        "pixels": PIXELS_VERSION,
        "photo": [photo.key, photo.path.stat().st_size],
        "jobs": [(j.kind, j.damage, j.strength) for j in jobs],
        "measures": [TECHNICAL_VERSION, list(TECHNICAL_MEASURES)],
    }
    digest = hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:20]
    return cache_dir / "measures" / digest[:2] / f"{digest}.npz"


def _teacher_cache_file(cache_dir: Path, photo: Photo, jobs: list[Job], teacher_id: str) -> Path:
    """Where one photo's teacher distributions are cached (apart: the teacher runs on its own input)."""
    spec = {
        "version": CACHE_VERSION,
        "pixels": PIXELS_VERSION,
        "photo": [photo.key, photo.path.stat().st_size],
        "jobs": [(j.kind, j.damage, j.strength) for j in jobs],
        "teacher": [TEACHER_VERSION, teacher_id],
    }
    digest = hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:20]
    return cache_dir / "teacher" / digest[:2] / f"{digest}.npz"


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def extract_job_features(
    photos: list[Photo],
    jobs: list[Job],
    cache_dir: str | os.PathLike | None = None,
    random_photos: set[int] | None = None,
    batch_size: int = 32,
    workers: int = 2,
    log=print,
    teacher=None,
    teacher_id: str = "",
) -> dict[str, np.ndarray]:
    """Features of every job: ``mlsp`` (N x 2048 float16), ``technical`` (N x len(TECHNICAL_MEASURES)),
    for jobs of *random_photos* ``mlsp_random`` from the untrained backbone (NaN elsewhere) and, with
    a *teacher* (a module mapping teacher inputs to probabilities; *teacher_id* names it in the
    cache), ``teacher`` (N x 10 float32).

    With *cache_dir*, each photo's rows are saved as soon as they are computed (an interrupted run
    resumes), and photos are processed in a shuffled order so any finished part is a fair sample.
    Backbone features, technical measures and teacher outputs are cached apart: photos whose features
    are cached but whose measures or teacher outputs are not are only decoded and measured (or passed
    through the teacher) again."""
    random_photos = set(random_photos or ())
    n = len(jobs)
    mlsp = np.zeros((n, 2048), dtype=np.float16)
    mlsp_random = np.full((n, 2048), np.nan, dtype=np.float16)
    technical = np.zeros((n, len(TECHNICAL_MEASURES)), dtype=np.float32)
    teacher_out = np.full((n, 10), np.nan, dtype=np.float32)
    by_photo: dict[int, list[int]] = {}
    for index, job in enumerate(jobs):
        by_photo.setdefault(job.photo, []).append(index)
    feature_files: dict[int, Path] = {}
    measure_files: dict[int, Path] = {}
    teacher_files: dict[int, Path] = {}
    todo, light = [], []  # light: backbone features cached, measures and/or teacher outputs missing
    need_measures: set[int] = set()
    need_teacher: set[int] = set()
    for photo_id, rows in by_photo.items():
        if cache_dir is None:
            todo.append(photo_id)
            need_measures.add(photo_id)
            if teacher is not None:
                need_teacher.add(photo_id)
            continue
        photo_jobs = [jobs[r] for r in rows]
        feature_files[photo_id] = _photo_cache_file(Path(cache_dir), photos[photo_id], photo_jobs, photo_id in random_photos)
        measure_files[photo_id] = _measures_cache_file(Path(cache_dir), photos[photo_id], photo_jobs)
        if teacher is not None:
            teacher_files[photo_id] = _teacher_cache_file(Path(cache_dir), photos[photo_id], photo_jobs, teacher_id)
            if teacher_files[photo_id].is_file():
                with np.load(teacher_files[photo_id]) as cached:
                    teacher_out[rows] = cached["teacher"]
            else:
                need_teacher.add(photo_id)
        if measure_files[photo_id].is_file():
            with np.load(measure_files[photo_id]) as cached:
                technical[rows] = cached["technical"]
        else:
            need_measures.add(photo_id)
        if feature_files[photo_id].is_file():
            with np.load(feature_files[photo_id]) as cached:
                mlsp[rows], mlsp_random[rows] = cached["mlsp"], cached["mlsp_random"]
            if photo_id in need_measures or photo_id in need_teacher:
                light.append(photo_id)
            continue
        todo.append(photo_id)
    cached = len(by_photo) - len(todo) - len(light)
    log(f"features: {cached} photos cached, {len(light)} to measure or teach again, {len(todo)} to compute")

    def store(photo_id: int, results) -> None:
        rows = by_photo[photo_id]
        technical[rows] = np.stack([tech for tech, _, _ in results])
        if photo_id in need_teacher:
            teacher_out[rows] = teacher_distributions(teacher, np.stack([t for _, _, t in results]))
            if photo_id in teacher_files:
                _save_npz(teacher_files[photo_id], teacher=teacher_out[rows])

    started = time.time()
    if light:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = pool.map(lambda p: _prepare_photo(photos[p], [jobs[r] for r in by_photo[p]], with_model_input=False,
                                                        with_teacher=p in need_teacher), light)
            for k, (photo_id, result) in enumerate(zip(light, results)):
                store(photo_id, result)
                if photo_id in need_measures and photo_id in measure_files:
                    _save_npz(measure_files[photo_id], technical=technical[by_photo[photo_id]])
                if (k + 1) % 50 == 0 or k + 1 == len(light):
                    rate = (time.time() - started) / (k + 1)
                    log(f"measures/teacher: {k + 1}/{len(light)} photos, {rate:.2f} s/photo, ~{rate * (len(light) - k - 1) / 60:.1f} min left")
    result = {"mlsp": mlsp, "technical": technical, "mlsp_random": mlsp_random}
    if teacher is not None:
        result["teacher"] = teacher_out
    if not todo:
        return result
    todo = [todo[i] for i in np.random.default_rng(0).permutation(len(todo))]
    torch.manual_seed(0)  # the random backbone's initialisation
    pretrained = load_backbone()
    untrained = load_backbone(pretrained=False) if random_photos else None
    started = time.time()
    pending: list[int] = []  # photos whose rows wait for the backbone
    inputs: dict[int, np.ndarray] = {}

    def flush() -> None:
        rows = np.asarray([r for p in pending for r in by_photo[p]])
        batch = np.stack([inputs.pop(int(r)) for r in rows])
        mlsp[rows] = extract_features(pretrained, batch).astype(np.float16)
        if untrained is not None:
            mask = np.array([jobs[r].photo in random_photos for r in rows])
            if mask.any():
                mlsp_random[rows[mask]] = extract_features(untrained, batch[mask]).astype(np.float16)
        for p in pending:
            if p in feature_files:
                r = by_photo[p]
                _save_npz(feature_files[p], mlsp=mlsp[r], mlsp_random=mlsp_random[r])
                _save_npz(measure_files[p], technical=technical[r])
        pending.clear()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {}
        ahead = workers * 2
        for k, photo_id in enumerate(todo):
            for nxt in todo[k : k + ahead]:
                if nxt not in futures:
                    futures[nxt] = pool.submit(_prepare_photo, photos[nxt], [jobs[r] for r in by_photo[nxt]], True, nxt in need_teacher)
            results = futures.pop(photo_id).result()
            store(photo_id, results)
            for row, (_, tensor, _) in zip(by_photo[photo_id], results):
                inputs[row] = tensor
            pending.append(photo_id)
            if len(inputs) >= batch_size:
                flush()
            if (k + 1) % 25 == 0 or k + 1 == len(todo):
                rate = (time.time() - started) / (k + 1)
                log(f"features: {k + 1}/{len(todo)} photos, {rate:.2f} s/photo, ~{rate * (len(todo) - k - 1) / 60:.1f} min left")
        if pending:
            flush()
    return result


def cached_photos(photos: list[Photo], jobs: list[Job], cache_dir: str | os.PathLike, random_photos: set[int],
                  teacher_id: str) -> set[int]:
    """Photos whose features, measures and teacher outputs are all in the cache (for trial runs)."""
    by_photo: dict[int, list[Job]] = {}
    for job in jobs:
        by_photo.setdefault(job.photo, []).append(job)
    cache_dir = Path(cache_dir)
    return {i for i, js in by_photo.items()
            if _photo_cache_file(cache_dir, photos[i], js, i in random_photos).is_file()
            and _measures_cache_file(cache_dir, photos[i], js).is_file()
            and _teacher_cache_file(cache_dir, photos[i], js, teacher_id).is_file()}


def random_baseline_photos(photos: list[Photo], every: int = 8) -> set[int]:
    """The photos whose jobs also go through the untrained backbone (an eighth: it costs a backbone pass)."""
    return set(range(0, len(photos), every))
