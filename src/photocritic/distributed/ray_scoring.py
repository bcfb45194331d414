"""Score and embed photos on a Ray cluster with Ray Data: the same records as the single-machine path.

The driver (the machine running ``photocritic score --ray``) lists and stats the files, skips what a
previous run already wrote to the ``--parquet`` folder, serves what the catalog already knows, and
hands the rest to Ray Data:

    file list (blocks of whole model batches)
      -> decode tasks        prepare_photo(): decode, technical measures, 224x224 backbone input
      -> model actor pool    the backbone through ONNX Runtime (its CUDA provider when the actor has a GPU
                             and onnxruntime-gpu is installed) and the scoring head, in NumPy
      -> driver              records -> Parquet parts (atomic), catalog rows, the CLI's output

Identical results: photos are grouped on the driver into the same batches the single-machine
:class:`~photocritic.scoring.Scorer` forms (the consecutive windows of :func:`~photocritic.scoring.window_sizes`, failed
decodes left out), and every stage calls the same functions (``prepare_photo``, ``embed_prepared``,
``score_rows``). CPU backbones give bit-identical features for the same batch, so records match
the single-machine records exactly; GPU actors agree to float16 rounding of the features.

Failures: a file that cannot be decoded becomes an error record (written, like the catalog does).
Ray retries tasks and restarts actors whose process or node dies; a block that still fails is
dropped (up to ``max_errored_blocks``), its photos are reported with a ``lost:`` error and are not
written, so the next run retries them. A killed run loses at most the records buffered since the
last Parquet part; a rerun with the same ``--parquet`` folder skips every path already written.

Every node must see the photos under the same paths as the driver (a shared or identically mounted
file system) and have the same photocritic version installed.
"""
from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photocritic.distributed import parquet as pq_out
from photocritic.library.catalog import Catalog, PhotoRow, file_key
from photocritic.models.backbone import BACKBONES
from photocritic.models.zoo import ScoringModel, load_model
from photocritic.scoring import PreparedPhoto, RunStats, backbone_network, embed_prepared, error_record, open_catalog, prepare_photo, row_is_current, score_rows, stored_result, window_of

ProgressCallback = Callable[[int, int], None]
LOCAL = "local"
_ROW_KEYS = ("path", "size", "mtime_ns", "format", "width", "height", "taken_at", "camera", "error", "technical", "backbone")
DECODE_MEMORY = 512 * 1024**2  # bytes reserved per decode task: the worker and a full-size decode
LOST = "lost: the Ray task for this photo failed after retries (not written; a rerun retries it)"


class RayUnavailable(RuntimeError):
    """Ray (with Ray Data) is not installed."""


@dataclass
class RayRunStats(RunStats):
    """RunStats plus what only a distributed run has."""

    skipped: int = 0  # already in the --parquet folder from an earlier run
    lost: int = 0  # in blocks that failed after Ray's retries (not written)
    workers: int = 0
    gpus_per_worker: float = 0.0


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RayUnavailable("Ray is not installed: pip install 'photocritic[ray]'") from exc
    return ray


# -- what runs on the cluster ------------------------------------------------------------------
def _row_json(row: PhotoRow) -> str:
    return json.dumps({key: getattr(row, key) for key in _ROW_KEYS})


def _row_from_json(text: str) -> PhotoRow:
    return PhotoRow(**json.loads(text))


def decode_block(batch: dict, backbone: str, model: ScoringModel | None = None) -> dict:
    """Ray Data map task: prepare every photo of a block (never raises for a bad file). *model*: a
    whole-network model (nima-ava), whose own input is prepared too."""
    size = BACKBONES[backbone].input_size
    paths = [str(p) for p in batch["path"]]
    inputs = np.zeros((len(paths), 3, size, size), dtype=np.float32)
    network_inputs = None
    if model is not None:
        network_size = int(model.network.get("input_size", 224))
        network_inputs = np.zeros((len(paths), 3, network_size, network_size), dtype=np.float32)
    rows = []
    for i, path in enumerate(paths):
        prepared = prepare_photo(path, int(batch["size"][i]), int(batch["mtime_ns"][i]), backbone, model)
        rows.append(_row_json(prepared.row))
        if prepared.model_input is not None:
            inputs[i] = prepared.model_input
        if prepared.network_input is not None:
            network_inputs[i] = prepared.network_input
    out = {"path": np.array(paths), "window": np.asarray(batch["window"]), "row": np.array(rows), "model_input": inputs}
    if network_inputs is not None:
        out["network_input"] = network_inputs
    return out


class ModelWorker:
    """Ray Data actor: the backbone (and the head when scoring), loaded once per actor."""

    def __init__(self, backbone: str, model: ScoringModel | None, want_features: bool, use_gpu: bool = False, threads: int = 1) -> None:
        self.model = model
        self.threads = max(1, threads)  # the CPUs this actor holds
        self.want_features = want_features
        self.backbone = backbone_network(backbone, self.threads)  # the single-machine engine itself
        self.feature_dim = BACKBONES[backbone].feature_dim

    def _embed(self, prepared: list[PreparedPhoto]) -> None:
        embed_prepared(self.backbone, prepared)  # the single-machine code path itself

    def __call__(self, batch: dict) -> dict:
        rows = [_row_from_json(str(text)) for text in batch["row"]]
        inputs = batch["model_input"]
        network_inputs = batch.get("network_input")
        windows: dict[int, list[int]] = defaultdict(list)
        for i, (row, window) in enumerate(zip(rows, batch["window"])):
            if row.error is None:
                windows[int(window)].append(i)
        records: list[str | None] = [None] * len(rows)
        for indices in windows.values():  # one backbone batch per single-machine batch
            self._embed([PreparedPhoto(rows[i], inputs[i]) for i in indices])
            if self.model is not None:
                own = [network_inputs[i] for i in indices] if network_inputs is not None else None
                for i, record in zip(indices, score_rows(self.model, [rows[i] for i in indices], own, self.threads)):
                    records[i] = json.dumps(record)
        out = {"path": batch["path"], "row": batch["row"]}
        if self.model is not None:
            for i, row in enumerate(rows):
                if row.error is not None:
                    records[i] = json.dumps(error_record(row.path, row.error, row, self.model.name))
            out["record"] = np.array(records)
        if self.want_features:
            features = np.zeros((len(rows), self.feature_dim), dtype=np.float16)
            for i, row in enumerate(rows):
                if row.features is not None:
                    features[i] = row.features
            out["features"] = features
        return out


# -- the driver --------------------------------------------------------------------------------
@dataclass
class _Todo:
    path: str
    size: int
    mtime_ns: int
    window: int


class _RayRun:
    """Shared by scoring and embedding: planning, the Ray Data pipeline, Parquet and catalog output."""

    kind = ""
    decode = staticmethod(decode_block)  # the map task (replaceable in tests to inject failures)

    def __init__(
        self,
        *,
        backbone: str,
        address: str | None = None,
        catalog: Catalog | str | os.PathLike | None = None,
        use_catalog: bool = True,
        parquet_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        batch_size: int = 16,
        num_gpus: float | None = None,
        model_cpus: float | None = None,
        decode_cpus: float = 1.0,
        windows_per_block: int | None = None,
        part_rows: int = 2000,
        max_errored_blocks: int | None = None,
        ray_init: dict | None = None,
        verbose: bool = False,
    ) -> None:
        self.backbone_name = backbone
        self.spec = BACKBONES[backbone]
        self.address = address or os.environ.get("RAY_ADDRESS") or LOCAL
        self.catalog: Catalog | None = None
        if use_catalog:
            self.catalog = open_catalog(catalog)
        self.parquet_dir = Path(parquet_dir).expanduser() if parquet_dir is not None else None
        self.workers = workers
        self.batch_size = max(1, batch_size)
        self.num_gpus = num_gpus
        self.model_cpus = model_cpus
        self.decode_cpus = decode_cpus
        self.windows_per_block = windows_per_block
        self.part_rows = part_rows
        self.max_errored_blocks = max_errored_blocks
        self.ray_init = dict(ray_init or {})
        self.verbose = verbose
        self.stats = RayRunStats()
        self._started_ray = False

    # -- Ray ------------------------------------------------------------------------------------
    def connect(self):
        """Join the cluster at ``address`` (``auto``: the one ``ray start`` made here), or start a local one."""
        ray = _import_ray()
        if ray.is_initialized():
            return ray
        kwargs: dict = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": self.verbose}
        if self.address == LOCAL:
            mb = int(os.environ.get("PHOTOCRITIC_RAY_OBJECT_STORE_MB", "1024"))
            kwargs.update(address=LOCAL, object_store_memory=mb * 1024**2)
        else:
            kwargs["address"] = self.address
        kwargs.update(self.ray_init)
        ray.init(**kwargs)
        self._started_ray = True
        return ray

    def close(self) -> None:
        if self.catalog is not None:
            self.catalog.close()
            self.catalog = None
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False

    def _resources(self, ray) -> tuple[int, float, float, float]:
        """(actors, CPUs per actor, GPUs per actor, CPUs per decode task) for this cluster."""
        resources = ray.cluster_resources()
        cpus = float(resources.get("CPU", 1.0))
        gpus = float(resources.get("GPU", 0.0))
        num_gpus = self.num_gpus if self.num_gpus is not None else (1.0 if gpus >= 1 else 0.0)
        if self.workers:
            workers = self.workers
        elif num_gpus > 0:
            workers = max(1, int(gpus // num_gpus))
        else:
            # on CPUs the backbone costs about twice the decode (docs/scaling.md): two thirds of the cores
            workers = max(1, int(cpus * 2 // 3))
        model_cpus = self.model_cpus if self.model_cpus is not None else 1.0
        decode_cpus = self.decode_cpus
        if workers * model_cpus + decode_cpus > cpus:
            # keep room for decoding, or the actors take every CPU and no decode task ever runs
            model_cpus = min(model_cpus, cpus / 2 / workers)
            decode_cpus = min(decode_cpus, cpus / 2)
        return workers, model_cpus, num_gpus, decode_cpus

    # -- hooks for scoring / embedding ---------------------------------------------------------
    def _parquet_model(self) -> str:
        raise NotImplementedError

    def _schema(self):
        raise NotImplementedError

    def _to_table(self):
        raise NotImplementedError

    def _from_parquet(self, item: dict):
        raise NotImplementedError

    def _plan(self, todo: _Todo):
        """A finished result from the catalog, ("head", row) to score on the driver, or None to decode."""
        raise NotImplementedError

    def _unreadable(self, path: str, reason: str):
        raise NotImplementedError

    def _lost(self, todo: _Todo):
        raise NotImplementedError

    def _actor_args(self) -> dict:
        raise NotImplementedError

    def _decode_args(self) -> dict:
        return {}

    def _want_features(self) -> bool:
        raise NotImplementedError

    def _head_results(self, rows: list[PhotoRow]) -> list:
        raise NotImplementedError

    def _from_cluster(self, batch: dict, i: int):
        """(result, persist?) for row *i* of a batch from the model actors; writes the catalog."""
        raise NotImplementedError

    def _is_error(self, result) -> bool:
        raise NotImplementedError

    # -- running ---------------------------------------------------------------------------------
    def iter_results(self, files: Iterable[str | os.PathLike], progress: ProgressCallback | None = None) -> Iterator:
        paths = list(dict.fromkeys(os.path.abspath(os.fspath(f)) for f in files))
        self.stats = RayRunStats(total=len(paths))
        done_count = 0
        writer = None

        def emit(result, persist: bool = True):
            nonlocal done_count
            if persist and writer is not None:
                writer.add(result)
            self.stats.failed += self._is_error(result)
            done_count += 1
            if progress:
                progress(done_count, len(paths))
            return result

        wanted = set(paths)
        if self.parquet_dir is not None:
            for item in pq_out.iter_parts(self.parquet_dir, self.kind, self._parquet_model(), wanted):
                if item["path"] in wanted:
                    wanted.discard(item["path"])
                    self.stats.skipped += 1
                    yield emit(self._from_parquet(item), persist=False)
            writer = pq_out.PartWriter(self.parquet_dir, self._schema(), self._to_table(), rows=self.part_rows)
        try:
            todo: list[_Todo] = []
            heads: list[PhotoRow] = []
            for position, path in enumerate(paths):
                if path not in wanted:
                    continue
                try:
                    size, mtime_ns = file_key(path)
                except OSError as exc:  # not written: a missing mount or a permission fixed later
                    yield emit(self._unreadable(path, f"cannot read file: {exc.strerror or exc}"), persist=False)
                    continue
                item = _Todo(path, size, mtime_ns, window_of(position, self.batch_size))
                planned = self._plan(item)
                if planned is None:
                    todo.append(item)
                elif isinstance(planned, tuple):
                    heads.append(planned[1])
                else:
                    self.stats.from_catalog += 1
                    yield emit(planned)
            for start in range(0, len(heads), self.batch_size):
                for result in self._head_results(heads[start : start + self.batch_size]):
                    self.stats.head_only += 1
                    yield emit(result)
            if todo:
                for result, persist in self._run_on_ray(todo):
                    yield emit(result, persist)
        finally:
            if writer is not None:
                writer.flush()
            if self.catalog is not None:
                self.catalog.commit()

    def _blocks(self, todo: list[_Todo]) -> list:
        import pyarrow as pa

        by_window: dict[int, list[_Todo]] = defaultdict(list)
        for item in todo:
            by_window[item.window].append(item)
        # whole windows, at most per_block full batches a block (one by default: Ray's per-task cost is ms, a
        # batch ~1 s on a CPU); the small windows a run starts with (1 + 2 + 4 + 8 photos) share one block
        per_block = self.windows_per_block or 1
        blocks: list[list[_Todo]] = [[]]
        for group in by_window.values():
            if blocks[-1] and len(blocks[-1]) + len(group) > per_block * self.batch_size:
                blocks.append([])
            blocks[-1].extend(group)
        tables = []
        for items in blocks if blocks[0] else []:
            tables.append(
                pa.table(
                    {
                        "path": pa.array([t.path for t in items], pa.string()),
                        "size": pa.array([t.size for t in items], pa.int64()),
                        "mtime_ns": pa.array([t.mtime_ns for t in items], pa.int64()),
                        "window": pa.array([t.window for t in items], pa.int64()),
                    }
                )
            )
        return tables

    def _run_on_ray(self, todo: list[_Todo]) -> Iterator[tuple[object, bool]]:
        ray = self.connect()
        from ray.data import ActorPoolStrategy, DataContext

        workers, model_cpus, num_gpus, decode_cpus = self._resources(ray)
        self.stats.workers, self.stats.gpus_per_worker = workers, num_gpus
        blocks = self._blocks(todo)
        context = DataContext.get_current()
        saved = (context.enable_progress_bars, context.max_errored_blocks, context.print_on_execution_start)
        context.enable_progress_bars = self.verbose
        context.print_on_execution_start = self.verbose
        context.max_errored_blocks = (
            self.max_errored_blocks if self.max_errored_blocks is not None else max(1, len(blocks) // 100)
        )
        if not self.verbose:
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        try:
            dataset = ray.data.from_arrow(blocks)
            dataset = dataset.map_batches(
                type(self).decode,
                batch_size=None,  # a whole block: whole model batches stay together
                batch_format="numpy",
                fn_kwargs={"backbone": self.backbone_name, **self._decode_args()},
                num_cpus=decode_cpus,
                # a memory reservation for full-size decodes; being a remote argument the actors do not
                # have, it also keeps Ray Data from fusing decoding into the model actors (decoding must
                # run in its own tasks, spread over every node's CPUs)
                memory=DECODE_MEMORY,
            )
            dataset = dataset.map_batches(
                ModelWorker,
                batch_size=None,
                batch_format="numpy",
                compute=ActorPoolStrategy(size=workers),
                fn_constructor_kwargs={
                    "backbone": self.backbone_name,
                    "want_features": self._want_features(),
                    "use_gpu": num_gpus > 0,
                    "threads": max(1, int(model_cpus)),
                    **self._actor_args(),
                },
                num_cpus=model_cpus,
                num_gpus=num_gpus,
            )
            seen: set[str] = set()
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2):
                for i in range(len(batch["path"])):
                    path = str(batch["path"][i])
                    if path in seen:  # a retried block can repeat rows already delivered
                        continue
                    seen.add(path)
                    yield self._from_cluster(batch, i), True
            for item in todo:
                if item.path not in seen:
                    self.stats.lost += 1
                    yield self._lost(item), False
        finally:
            context.enable_progress_bars, context.max_errored_blocks, context.print_on_execution_start = saved


class RayScorer(_RayRun):
    """Like :class:`photocritic.scoring.Scorer`, with the decoding and the model on a Ray cluster."""

    kind = "scores"

    def __init__(self, model: str | os.PathLike | ScoringModel = "default", **kwargs) -> None:
        self.model = load_model(model)
        super().__init__(backbone=self.model.backbone, **kwargs)

    def iter_records(self, files: Iterable[str | os.PathLike], progress: ProgressCallback | None = None) -> Iterator[dict]:
        """One record per file (duplicates dropped), in completion order rather than the order given."""
        return self.iter_results(files, progress)

    def _parquet_model(self) -> str:
        return self.model.fingerprint

    def _schema(self):
        return pq_out.records_schema(self.model.fingerprint)

    def _to_table(self):
        return pq_out.records_table

    def _from_parquet(self, item: dict) -> dict:
        return pq_out.record_from_arrow(item)

    def _is_error(self, record: dict) -> bool:
        return record["error"] is not None

    def _plan(self, todo: _Todo):
        if self.catalog is None:
            return None
        record, row = stored_result(self.catalog, self.model, todo.path, todo.size, todo.mtime_ns)  # as Scorer decides
        if record is not None:
            return record
        return ("head", row) if row is not None else None

    def _head_results(self, rows: list[PhotoRow]) -> list[dict]:
        records = score_rows(self.model, rows)
        if self.catalog is not None:
            for record in records:
                self.catalog.put_score(record["path"], self.model.fingerprint, record["score"], record["distribution"])
        return records

    def _unreadable(self, path: str, reason: str) -> dict:
        return error_record(path, reason, model=self.model.name)

    def _lost(self, todo: _Todo) -> dict:
        return error_record(todo.path, LOST, model=self.model.name)

    def _actor_args(self) -> dict:
        return {"model": self.model}

    def _decode_args(self) -> dict:
        return {"model": self.model} if self.model.network is not None else {}

    def _want_features(self) -> bool:
        return self.catalog is not None  # the catalog keeps features for later models and culling

    def _from_cluster(self, batch: dict, i: int) -> dict:
        record = json.loads(str(batch["record"][i]))
        self.stats.decoded += 1
        if self.catalog is not None:
            row = _row_from_json(str(batch["row"][i]))
            if row.error is None:
                row.features = np.array(batch["features"][i], dtype=np.float16)
            self.catalog.put_photo(row)
            if record["error"] is None:
                self.catalog.put_score(row.path, self.model.fingerprint, record["score"], record["distribution"])
        return record


class RayEmbedder(_RayRun):
    """Backbone features (the catalog's photo rows) for many files, computed on a Ray cluster."""

    kind = "features"

    def __init__(self, backbone: str = "efficientnet-lite0", **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)

    def iter_rows(self, files: Iterable[str | os.PathLike], progress: ProgressCallback | None = None) -> Iterator[PhotoRow]:
        return self.iter_results(files, progress)

    def _parquet_model(self) -> str:
        return self.backbone_name

    def _schema(self):
        return pq_out.features_schema(self.backbone_name, self.spec.feature_dim)

    def _to_table(self):
        return pq_out.rows_table

    def _from_parquet(self, item: dict) -> PhotoRow:
        return pq_out.row_from_arrow(item)

    def _is_error(self, row: PhotoRow) -> bool:
        return row.error is not None

    def _plan(self, todo: _Todo):
        if self.catalog is None:
            return None
        row = self.catalog.get_photo(todo.path, todo.size, todo.mtime_ns)
        if row is None:
            return None
        if row.error or row_is_current(row, self.backbone_name):
            return row
        return None

    def _head_results(self, rows: list[PhotoRow]) -> list:
        return rows

    def _unreadable(self, path: str, reason: str) -> PhotoRow:
        return PhotoRow(path, -1, -1, error=reason)

    def _lost(self, todo: _Todo) -> PhotoRow:
        return PhotoRow(todo.path, todo.size, todo.mtime_ns, error=LOST)

    def _actor_args(self) -> dict:
        return {"model": None}

    def _want_features(self) -> bool:
        return True

    def _from_cluster(self, batch: dict, i: int) -> PhotoRow:
        row = _row_from_json(str(batch["row"][i]))
        if row.error is None:
            row.features = np.array(batch["features"][i], dtype=np.float16)
        self.stats.decoded += 1
        if self.catalog is not None:
            self.catalog.put_photo(row)
        return row


# -- one-call API ------------------------------------------------------------------------------
def score_on_ray(
    files: Iterable[str | os.PathLike],
    model: str | os.PathLike | ScoringModel = "default",
    address: str | None = None,
    parquet_dir: str | os.PathLike | None = None,
    catalog: Catalog | str | os.PathLike | None = None,
    **options,
) -> list[dict]:
    """Score *files* on Ray; one record per file. Uses a catalog only when *catalog* is given.

    ``address``: None starts a local Ray (or uses the one this process already joined), ``"auto"`` joins
    the cluster started with ``ray start`` on this machine, ``"ray://host:10001"`` or ``"host:6379"`` a
    remote one. Other *options* go to :class:`RayScorer` (workers, batch_size, num_gpus, ray_init, ...).
    """
    scorer = RayScorer(model, address=address, parquet_dir=parquet_dir, catalog=catalog, use_catalog=catalog is not None, **options)
    try:
        return list(scorer.iter_records(files))
    finally:
        scorer.close()


def embed_files_on_ray(
    files: Iterable[str | os.PathLike],
    backbone: str = "efficientnet-lite0",
    address: str | None = None,
    parquet_dir: str | os.PathLike | None = None,
    catalog: Catalog | str | os.PathLike | None = None,
    **options,
) -> list[PhotoRow]:
    """Backbone features for *files* (feature extraction before training), one catalog row per file.

    Each row carries float16 ``features`` (or ``error``). With *catalog*, rows are read from and written
    to it, so training on this machine finds every photo's features there; with *parquet_dir*, rows are
    written to Parquet (read them back with :func:`photocritic.distributed.parquet.read_rows`) and a
    rerun skips paths already written.
    """
    embedder = RayEmbedder(backbone, address=address, parquet_dir=parquet_dir, catalog=catalog, use_catalog=catalog is not None, **options)
    try:
        return list(embedder.iter_rows(files))
    finally:
        embedder.close()


__all__ = ["RayEmbedder", "RayRunStats", "RayScorer", "RayUnavailable", "embed_files_on_ray", "score_on_ray"]
