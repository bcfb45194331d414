"""Scoring uploaded bytes: decode in request threads, run the model in one worker thread, in batches.

Uploads are not library files: they never touch the catalog. Each upload is written to a private
temporary file only for as long as the decoder needs it (the decoder reads paths, and RAW and HEIF
readers need a real file), then deleted. Content is checked by decoding it, never by its name.

The backbone and the head run in a single worker thread that takes whatever uploads are waiting,
up to ``batch_size`` at a time: twenty concurrent uploads cost a few batched forward passes, not
twenty forward passes competing for the cores.
"""
from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from photocritic.imaging import PHOTO_EXTENSIONS, PhotoError, decode_for_model
from photocritic.models.backbone import BACKBONES
from photocritic.models.zoo import ScoringModel, load_model
from photocritic.scoring import PreparedPhoto, backbone_network, embed_prepared, prepare_decoded, score_rows

#: Uploads larger than this many pixels are refused before decoding (the page sends ~1.5 MP).
DEFAULT_UPLOAD_MAX_PIXELS = 60_000_000


@dataclass
class _Job:
    prepared: PreparedPhoto
    future: Future


class UploadScorer:
    """Scores uploaded photos with one model; thread-safe (the model runs in one worker thread)."""

    def __init__(
        self,
        model: str | os.PathLike | ScoringModel = "default",
        batch_size: int = 16,
        max_pixels: int = DEFAULT_UPLOAD_MAX_PIXELS,
    ) -> None:
        self.model = load_model(model)
        self.spec = BACKBONES[self.model.backbone]
        self.backbone = backbone_network(self.model.backbone)  # ONNX Runtime, as the CLI's
        self.batch_size = max(1, batch_size)
        self.max_pixels = max_pixels
        self._tmpdir = Path(tempfile.mkdtemp(prefix="photocritic-web-"))
        os.chmod(self._tmpdir, 0o700)
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="photocritic-model", daemon=True)
        self._worker.start()
        self._closed = False

    # -- decoding (any thread) ---------------------------------------------------------------
    def prepare(self, data: bytes, filename: str = "") -> PreparedPhoto:
        """Decode uploaded bytes and measure them. Raises :class:`PhotoError` if they are no photo."""
        if not data:
            raise PhotoError("empty file")
        suffix = Path(filename).suffix.lower()
        # the suffix only picks the RAW reader; Pillow identifies everything else by content
        suffix = suffix if suffix in PHOTO_EXTENSIONS else ".upload"
        fd, tmp = tempfile.mkstemp(suffix=suffix, dir=self._tmpdir)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            decoded = decode_for_model(tmp, max_pixels=self.max_pixels, keep_drafted=self.model.network is not None)
            return prepare_decoded(filename, len(data), 0, decoded, self.spec.name, self.model)
        except PhotoError:
            raise
        except Exception as exc:  # a decoder bug must cost this upload, never the server
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise PhotoError(f"unexpected error while reading: {reason}") from None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    # -- the model (one worker thread) -------------------------------------------------------
    def submit(self, prepared: PreparedPhoto) -> Future:
        """Queue a prepared photo for the model; the future resolves to its record."""
        if self._closed:
            raise RuntimeError("the scorer is closed")
        future: Future = Future()
        self._queue.put(_Job(prepared, future))
        return future

    def score_bytes(self, data: bytes, filename: str = "") -> dict:
        """Decode and score in the calling thread's turn (blocking); for scripts and tests."""
        return self.submit(self.prepare(data, filename)).result()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.batch_size:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            try:
                prepared = [j.prepared for j in batch]
                embed_prepared(self.backbone, prepared)
                records = score_rows(self.model, [p.row for p in prepared], [p.network_input for p in prepared])
            except Exception as exc:  # pragma: no cover - a model failure fails these requests only
                for j in batch:
                    j.future.set_exception(exc)
                continue
            for j, record in zip(batch, records):
                j.future.set_result(record)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._worker.join(timeout=30)
        shutil.rmtree(self._tmpdir, ignore_errors=True)


__all__ = ["UploadScorer", "DEFAULT_UPLOAD_MAX_PIXELS"]
