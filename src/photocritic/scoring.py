"""The one scoring pipeline: files -> catalog check -> decode workers -> backbone -> head -> records.

The CLI, the web app, culling, training's feature extraction and the Ray runner all go through
:class:`Scorer` (or its pieces: :func:`prepare_photo`, :func:`embed_prepared`, :func:`score_rows`).
Decoding runs in a thread pool (Pillow and NumPy release the GIL) ahead of the model, which runs in
batches; each finished photo is written to the catalog, so an interrupted run loses only its open batch.
Every network runs through ONNX Runtime (:mod:`photocritic.engine`); heads run in NumPy; no torch.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from photocritic.engine import Network, graph_path
from photocritic.imaging import PhotoError, decode_for_model
from photocritic.imaging.decode import PIXELS_VERSION
from photocritic.library.catalog import Catalog, PhotoRow, file_key
from photocritic.library.scan import find_photos
from photocritic.models.backbone import BACKBONES, FINETUNED, model_input
from photocritic.models.flags import judged, photo_flags
from photocritic.models.heads import distribution_mean, distribution_std
from photocritic.models.technical import TECHNICAL_MEASURES, TECHNICAL_VERSION, measures_vector, technical_measures
from photocritic.models.zoo import ScoringModel, load_model

#: scores a record carries beside ``score`` (null where the model gives none): technical quality as
#: people rate it, and appeal as AVA's voters rate it, each on the 1-10 scale
SUBSCORES = ("quality_score", "aesthetic_score")

ProgressCallback = Callable[[int, int], None]


def window_sizes(batch_size: int) -> Iterator[int]:
    """Sizes of the consecutive windows of files a run is cut into: 1, 2, 4, ... up to *batch_size*, then
    *batch_size* for good.

    The first record is out after one photo's decode and one backbone call, not a whole batch's (a
    first window of 16 full-resolution JPEGs kept a user waiting over a second longer), and every
    later batch is full. The Ray runner forms the same windows (:func:`window_of`), so its backbone
    batches, and with them its features, are the single-machine ones."""
    size = 1
    while True:
        yield min(size, batch_size)
        size *= 2


def window_of(position: int, batch_size: int) -> int:
    """Index of the :func:`window_sizes` window holding the file at *position* (0-based) of a run."""
    start = 0
    for index, size in enumerate(window_sizes(max(1, batch_size))):
        if position < start + size:
            return index
        if size == batch_size:  # every later window is full: no need to walk them
            return index + 1 + (position - start - size) // batch_size
        start += size
    raise AssertionError("unreachable")


@dataclass
class RunStats:
    """What a run did: how many photos came from the catalog, were decoded, or failed."""

    total: int = 0
    from_catalog: int = 0
    decoded: int = 0
    head_only: int = 0
    failed: int = 0


@dataclass
class _Plan:
    path: str
    source: str = "decode"  # decode | head (features in the catalog) | catalog | unreadable
    size: int | None = None
    mtime_ns: int | None = None
    row: PhotoRow | None = None
    record: dict | None = None  # complete already (catalog hit or unreadable file)
    decode: Future | None = None


@dataclass
class PreparedPhoto:
    """A photo decoded and measured, ready for the backbone (or an error row)."""

    row: PhotoRow
    model_input: np.ndarray | None
    network_input: np.ndarray | None = None  # a whole-network model's own input (nima-ava)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def default_threads() -> int:
    """ONNX Runtime's intra-op threads: ``PHOTOCRITIC_THREADS``, else half the cores, leaving the rest to
    the decode threads (:func:`default_workers`) that run beside the network. On 2 shared cores, 1 network
    thread + 2 decode threads had the best median of four layouts over interleaved rounds, level with 2 + 2
    and ahead of 2 + 1 and 1 + 1 (benchmarks/bench_engine.py --layouts-only, docs/benchmarks.md)."""
    return max(1, int(os.environ.get("PHOTOCRITIC_THREADS") or (os.cpu_count() or 2) // 2))


class _TorchBackbone:
    """A fine-tuned backbone (``photocritic train`` phase 2) has no exported graph: it runs in PyTorch."""

    def __init__(self, name: str, threads: int) -> None:
        try:
            import torch

            from photocritic.models.networks import extract_features, load_backbone
        except ImportError:
            from photocritic.models.zoo import ModelError

            raise ModelError(f"the backbone {name!r} was fine-tuned and runs only in PyTorch: "
                             'pip install "photocritic[train]"') from None
        torch.set_num_threads(threads)
        self.module, self.extract = load_backbone(name), extract_features

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.extract(self.module, batch)


def backbone_network(name: str, threads: int | None = None):
    """The backbone *name* as a function N x 3 x S x S inputs -> N x feature_dim float32 features."""
    threads = threads or default_threads()
    spec = BACKBONES[name]
    if spec.graph is None or name in FINETUNED:
        return _TorchBackbone(name, threads)
    return Network(graph_path(spec.graph), threads)


def error_record(path: str, error: str, row: PhotoRow | None = None, model: str | None = None) -> dict:
    return {
        "path": path,
        "score": None,
        "score_std": None,
        "distribution": None,
        "error": error,
        "width": row.width if row else None,
        "height": row.height if row else None,
        "taken_at": row.taken_at if row else None,
        "camera": row.camera if row else None,
        "format": row.format if row else None,
        "model": model,
        "technical": None,
        "flags": [],
        **dict.fromkeys(SUBSCORES),
    }


def make_record(row: PhotoRow, model: ScoringModel, score: float, distribution: list[float],
                subscores: dict[str, float] | None = None) -> dict:
    """A photo's record. *subscores*: ``quality_score`` and ``aesthetic_score`` where the model gives
    them (null otherwise, and for a flagged photo, which is not judged)."""
    flags = photo_flags(row.width, row.height, row.technical)
    # a flagged photo sits at the floor whatever the model (or a score stored by an older version) says
    score, distribution = judged(flags, score, distribution)
    # rounded first, so a record rebuilt from the catalog is identical to a freshly scored one
    distribution_array = np.round(np.asarray(distribution, dtype=np.float64), 6)
    return {
        "path": row.path,
        "score": round(float(score), 4),
        "score_std": round(float(distribution_std(distribution_array[None])[0]), 4),
        "distribution": distribution_array.tolist(),
        "error": None,
        "width": row.width,
        "height": row.height,
        "taken_at": row.taken_at,
        "camera": row.camera,
        "format": row.format,
        "model": model.name,
        "technical": {k: round(float(v), 5) for k, v in (row.technical or {}).items()},
        "flags": flags,
        **{name: (None if flags or subscores is None or name not in subscores else round(float(subscores[name]), 4))
           for name in SUBSCORES},
    }


#: What computed a catalog row's measures and features: the decoder's pixels and the measures' code.
#: A catalog written by another version forgets them once (:func:`open_catalog`).
FEATURES_VERSION = f"pixels {PIXELS_VERSION}, measures {TECHNICAL_VERSION}"


def open_catalog(catalog: Catalog | str | os.PathLike | None) -> Catalog:
    """*catalog* (an open one, a path, or None for the default), holding only rows of this version."""
    catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    catalog.forget_features_unless(FEATURES_VERSION)
    return catalog


def row_is_current(row: PhotoRow, backbone: str) -> bool:
    """Whether a catalog row can be scored without decoding its photo again: it holds features from
    *backbone* and every technical measure this version computes (older versions computed fewer)."""
    return (
        row.backbone == backbone
        and row.features is not None
        and row.technical is not None
        and all(name in row.technical for name in TECHNICAL_MEASURES)
    )


def stored_result(catalog: Catalog, model: ScoringModel, path: str, size: int, mtime_ns: int) -> tuple[dict | None, PhotoRow | None]:
    """What the catalog already holds for a file still at this size and mtime, for *model*:
    (record, row) when nothing needs computing (an error record, or a stored score), (None, row) when
    the stored row only needs the head, (None, None) when the photo must be decoded (always, for a
    whole-network model without a stored score: it reads the pixels)."""
    row = catalog.get_photo(path, size, mtime_ns)
    if row is None:
        return None, None
    if row.error:
        return error_record(path, row.error, row, model.name), None
    if not row_is_current(row, model.backbone):
        return None, None
    cached = catalog.get_score(path, model.fingerprint)
    if cached is None and model.network is not None:
        return None, None
    if cached is None:
        return None, row
    subscores = model.predict_subscores(row.features.astype(np.float32)[None], measures_vector(row.technical)[None])
    return make_record(row, model, cached[0], cached[1], {k: float(v[0]) for k, v in subscores.items()}), row


def prepare_decoded(name: str, size: int, mtime_ns: int, decoded, backbone: str = "efficientnet-lite0",
                    model: ScoringModel | None = None) -> PreparedPhoto:
    """Technical measures, backbone input and catalog row of a photo already decoded for the model
    (and *model*'s own network input, when it runs a whole network)."""
    technical = technical_measures(decoded.pixels)
    tensor = model_input(decoded.pixels, BACKBONES[backbone].input_size)
    network_input = None
    if model is not None and model.network:
        network_input = model.network_input(decoded.drafted if decoded.drafted is not None else decoded.pixels)
    row = PhotoRow(
        name,
        size,
        mtime_ns,
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        taken_at=decoded.taken_at,
        camera=decoded.camera,
        technical=technical,
        backbone=backbone,
    )
    return PreparedPhoto(row, tensor, network_input)


def prepare_photo(path: str, size: int | None = None, mtime_ns: int | None = None, backbone: str = "efficientnet-lite0",
                  model: ScoringModel | None = None) -> PreparedPhoto:
    """Decode one file, compute its technical measures and its backbone input. Never raises."""
    if size is None or mtime_ns is None:
        try:
            size, mtime_ns = file_key(path)
        except OSError as exc:
            return PreparedPhoto(PhotoRow(path, -1, -1, error=f"cannot read file: {exc.strerror or exc}"), None)
    try:
        decoded = decode_for_model(path, keep_drafted=model is not None and model.network is not None)
        return prepare_decoded(path, size, mtime_ns, decoded, backbone, model)
    except PhotoError as exc:
        return PreparedPhoto(PhotoRow(path, size, mtime_ns, error=str(exc)), None)
    except Exception as exc:  # a decoder bug must cost one photo, never the batch
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        return PreparedPhoto(PhotoRow(path, size, mtime_ns, error=f"unexpected error while reading: {reason}"), None)


def embed_prepared(backbone, prepared: list[PreparedPhoto]) -> None:
    """Run the *backbone* (:func:`backbone_network`) on a batch; store float16 features on each row (as
    the catalog keeps them)."""
    if not prepared:
        return
    features = backbone(np.stack([p.model_input for p in prepared])).astype(np.float16)
    for item, vector in zip(prepared, features):
        item.row.features = vector


def score_rows(model: ScoringModel, rows: list[PhotoRow], network_inputs: list[np.ndarray] | None = None,
               threads: int | None = None) -> list[dict]:
    """Records for rows that carry technical measures (and float16 features if the model needs them);
    a whole-network model also needs each photo's *network_inputs* (:attr:`PreparedPhoto.network_input`)."""
    if not rows:
        return []
    feats = np.stack([r.features.astype(np.float32) for r in rows]) if model.needs_backbone else None
    tech = np.stack([measures_vector(r.technical) for r in rows])
    network_output = None
    if model.network is not None:
        if network_inputs is None or any(x is None for x in network_inputs):
            raise ValueError(f"model {model.name!r} runs a whole network: score_rows needs each photo's network input")
        network_output = Network(model.network_graph, threads or default_threads())(np.stack(network_inputs))
    distributions = model.predict_distribution(feats, tech, network_output)
    means = distribution_mean(distributions)
    subscores = model.predict_subscores(feats, tech, network_output)
    return [make_record(row, model, float(mean), dist.tolist(), {k: float(v[i]) for k, v in subscores.items()})
            for i, (row, dist, mean) in enumerate(zip(rows, distributions, means))]


class Scorer:
    """Holds a model, its backbone and a catalog; scores files in batches."""

    def __init__(
        self,
        model: str | os.PathLike | ScoringModel = "default",
        catalog: Catalog | str | os.PathLike | None = None,
        use_catalog: bool = True,
        batch_size: int = 16,
        workers: int | None = None,
        threads: int | None = None,
        torch_threads: int | None = None,  # the old name of *threads*
    ) -> None:
        self.model = load_model(model)
        self.spec = BACKBONES[self.model.backbone]
        self.threads = threads or torch_threads or default_threads()
        # features are always computed, so the catalog can serve any later model and culling
        self.backbone = backbone_network(self.model.backbone, self.threads)
        if use_catalog:
            self.catalog = open_catalog(catalog)
        else:
            self.catalog = None
        self.batch_size = max(1, batch_size)
        self.workers = workers or default_workers()
        self.stats = RunStats()

    # -- planning --------------------------------------------------------------------------------
    def _plan(self, path: str) -> _Plan:
        plan = _Plan(path)
        try:
            plan.size, plan.mtime_ns = file_key(path)
        except OSError as exc:
            plan.record = error_record(path, f"cannot read file: {exc.strerror or exc}", model=self.model.name)
            plan.source = "unreadable"
            return plan
        if self.catalog is None:
            return plan
        plan.record, plan.row = stored_result(self.catalog, self.model, path, plan.size, plan.mtime_ns)
        if plan.record is not None:
            plan.source = "catalog"
        elif plan.row is not None:
            plan.source = "head"
        return plan

    # -- running ---------------------------------------------------------------------------------
    def iter_records(self, files: Iterable[str | os.PathLike], progress: ProgressCallback | None = None) -> Iterator[dict]:
        """Yield one record per file, in the order given."""
        for record, _ in self.iter_scored(files, progress):
            yield record

    def iter_scored(
        self, files: Iterable[str | os.PathLike], progress: ProgressCallback | None = None
    ) -> Iterator[tuple[dict, PhotoRow | None]]:
        """Yield (record, catalog row) per file, in order; the row carries features and technical measures."""
        paths = [os.path.abspath(f) for f in files]
        self.stats = RunStats(total=len(paths))
        done = 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="decode") as pool:
            pending: list[_Plan] = []
            ahead = self.batch_size * 3  # decode this many photos ahead of the model
            plans_iter = (self._plan(p) for p in paths)
            sizes = window_sizes(self.batch_size)
            exhausted = False
            while not exhausted or pending:
                while not exhausted and len(pending) < ahead:
                    try:
                        plan = next(plans_iter)
                    except StopIteration:
                        exhausted = True
                        break
                    if plan.source == "decode":
                        plan.decode = pool.submit(prepare_photo, plan.path, plan.size, plan.mtime_ns, self.spec.name, self.model)
                    pending.append(plan)
                size = next(sizes)
                window, pending = pending[:size], pending[size:]
                for plan in self._finish(window):
                    done += 1
                    if progress:
                        progress(done, len(paths))
                    yield plan.record, plan.row
        if self.catalog is not None:
            self.catalog.commit()

    def _finish(self, window: list[_Plan]) -> list[_Plan]:
        fresh: list[PreparedPhoto] = []
        network_inputs: dict[str, np.ndarray | None] = {}
        for plan in window:
            if plan.decode is None:
                continue
            prepared: PreparedPhoto = plan.decode.result()
            plan.row = prepared.row
            if prepared.row.error:
                plan.record = error_record(plan.path, prepared.row.error, prepared.row, self.model.name)
                if self.catalog is not None:
                    self.catalog.put_photo(prepared.row)
            else:
                fresh.append(prepared)
                network_inputs[plan.path] = prepared.network_input
        embed_prepared(self.backbone, fresh)
        if self.catalog is not None:
            for prepared in fresh:
                self.catalog.put_photo(prepared.row)
        to_score = [p for p in window if p.record is None]
        inputs = [network_inputs.get(p.path) for p in to_score] if self.model.network is not None else None
        for plan, record in zip(to_score, score_rows(self.model, [p.row for p in to_score], inputs, self.threads)):
            plan.record = record
            if self.catalog is not None:
                self.catalog.put_score(plan.path, self.model.fingerprint, record["score"], record["distribution"])
        for plan in window:
            self.stats.decoded += plan.source == "decode"
            self.stats.head_only += plan.source == "head"
            self.stats.from_catalog += plan.source == "catalog"
            self.stats.failed += plan.record["error"] is not None
        if self.catalog is not None:
            # never hold the write lock while the next photos decode: another process (serve beside
            # score) would wait on it for as long
            self.catalog.commit()
        return window

    def close(self) -> None:
        if self.catalog is not None:
            self.catalog.close()


def score(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    model: str | os.PathLike | ScoringModel = "default",
    *,
    recursive: bool = False,
    catalog: str | os.PathLike | None = None,
    use_catalog: bool = True,
    batch_size: int = 16,
    workers: int | None = None,
) -> list[dict]:
    """Score photos, folders or glob patterns; one record per photo, errors included.

    >>> records = score(["~/Pictures/trip"], model="default")   # doctest: +SKIP
    >>> best = max((r for r in records if r["error"] is None), key=lambda r: r["score"])  # doctest: +SKIP
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = find_photos(list(paths), recursive=recursive)
    scorer = Scorer(model, catalog=catalog, use_catalog=use_catalog, batch_size=batch_size, workers=workers)
    try:
        return list(scorer.iter_records(files))
    finally:
        scorer.close()


__all__ = [
    "PreparedPhoto",
    "RunStats",
    "Scorer",
    "backbone_network",
    "embed_prepared",
    "error_record",
    "make_record",
    "prepare_photo",
    "score",
    "score_rows",
    "window_of",
    "window_sizes",
]
