"""ONNX Runtime sessions: which provider, how many threads, one session per graph and process."""
from __future__ import annotations

import os
import threading
from pathlib import Path

GRAPHS_DIR = Path(__file__).resolve().parent.parent / "zoo" / "graphs"

#: Providers tried in this order; the CPU is always there. Set PHOTOCRITIC_PROVIDERS=CPUExecutionProvider
#: (comma-separated) to choose.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")


class EngineError(RuntimeError):
    """A graph that is missing or cannot be loaded."""


def graph_path(name: str) -> Path:
    """The shipped graph called *name* (``efficientnet-lite0-mlsp.onnx``, ...)."""
    path = GRAPHS_DIR / name
    if not path.is_file():
        raise EngineError(f"the network {name!r} is not in this installation ({GRAPHS_DIR})")
    return path


def providers() -> list[str]:
    import onnxruntime

    wanted = os.environ.get("PHOTOCRITIC_PROVIDERS")
    order = [p.strip() for p in wanted.split(",") if p.strip()] if wanted else list(PREFERRED_PROVIDERS)
    available = set(onnxruntime.get_available_providers())
    chosen = [p for p in order if p in available]
    return chosen or ["CPUExecutionProvider"]


_SESSIONS: dict[tuple[str, int, bool], object] = {}
_LOCK = threading.Lock()


def open_session(path: str | os.PathLike, threads: int | None = None):
    """An ``onnxruntime.InferenceSession`` for the graph at *path*, shared per (graph, threads) in a process.

    *threads*: intra-op threads (None: ``PHOTOCRITIC_THREADS``, else every core; the scoring pipeline
    passes its own choice, :func:`photocritic.scoring.default_threads`). Sessions are thread-safe
    for ``run``. ORT's worker threads do not spin waiting for work (``PHOTOCRITIC_ORT_SPIN=1`` lets them):
    the decode threads need those cores between batches, and a laptop's cores are shared anyway.
    """
    import onnxruntime

    threads = int(threads or os.environ.get("PHOTOCRITIC_THREADS") or os.cpu_count() or 1)
    spin = os.environ.get("PHOTOCRITIC_ORT_SPIN", "0") == "1"
    known = _SESSIONS.get((str(path), threads, spin))  # as asked before: no resolving (the face step asks per photo)
    if known is not None:
        return known
    key = (str(Path(path).resolve()), threads, spin)
    with _LOCK:
        if key not in _SESSIONS:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
            options.log_severity_level = 3  # errors only: no provider warnings on a user's terminal
            try:
                _SESSIONS[key] = onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers())
            except Exception as exc:  # onnxruntime raises its own types for a corrupt or missing graph
                raise EngineError(f"cannot load the network {Path(path).name}: {str(exc).splitlines()[0]}") from None
        _SESSIONS[(str(path), threads, spin)] = _SESSIONS[key]
        return _SESSIONS[key]
