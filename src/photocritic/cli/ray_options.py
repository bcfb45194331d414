"""What `photocritic score --ray` needs beyond the single-machine command: a connected RayScorer or a usage error."""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path

from photocritic.cli.common import usage_error


RAY_CORE_LINE = re.compile(rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [DIWE] \d+ \d+\] \S+\.(cc|h):\d+: ")


def quiet_ray() -> None:
    """Keep Ray's own chatter off a user's terminal.

    Ray's C++ core writes log lines straight to file descriptor 2 (an E-level line about actor
    arguments on every run, more when a local cluster shuts down: harmless, and alarming), and its
    Python side warns about token authentication on every start (docs/scaling.md says when to set
    it up). Python's own stderr is moved to a copy of the terminal, so progress bars and messages
    are untouched, and fd 2 becomes a pipe whose lines are passed on unless they are Ray core log
    lines below FATAL. PHOTOCRITIC_DEBUG=1 or RAY_BACKEND_LOG_LEVEL set by the user keep everything.
    """
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    if os.environ.get("PHOTOCRITIC_DEBUG") or os.environ.get("RAY_BACKEND_LOG_LEVEL") or getattr(quiet_ray, "done", False):
        return
    quiet_ray.done = True
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")

    def forward() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not RAY_CORE_LINE.match(line):
                    os.write(terminal, line)

    threading.Thread(target=forward, name="ray-stderr-filter", daemon=True).start()


def make_ray_scorer(model, address: str | None, catalog: Path | None, use_catalog: bool, parquet: Path | None, batch_size: int, workers: int | None):
    """A connected RayScorer, or a usage error (exit 2) for a missing Ray, a foreign --parquet folder or no cluster."""
    quiet_ray()
    try:
        from photocritic.distributed.parquet import ParquetFolderError, written_paths
        from photocritic.distributed.ray_scoring import RayScorer, RayUnavailable
    except ImportError:
        raise usage_error("--ray needs Ray: pip install 'photocritic[ray]'") from None
    scorer = RayScorer(
        model, address=address, catalog=catalog, use_catalog=use_catalog, parquet_dir=parquet, batch_size=batch_size, workers=workers
    )
    try:
        if parquet is not None:
            written_paths(parquet, "scores", scorer.model.fingerprint)  # refuse another model's folder up front
        scorer.connect()
    except (RayUnavailable, ParquetFolderError) as exc:
        scorer.close()
        raise usage_error(str(exc)) from None
    except Exception as exc:  # ray.init: no cluster at this address, a version mismatch, ...
        scorer.close()
        raise usage_error(f"cannot join the Ray cluster at {scorer.address!r}: {' '.join(str(exc).split())[:300]}") from None
    return scorer
