"""What `photocritic score --ray` needs beyond the single-machine command: a connected RayScorer or a usage error."""
from __future__ import annotations

from pathlib import Path

from photocritic.cli.common import usage_error


def make_ray_scorer(model, address: str | None, catalog: Path | None, use_catalog: bool, parquet: Path | None, batch_size: int, workers: int | None):
    """A connected RayScorer, or a usage error (exit 2) for a missing Ray, a foreign --parquet folder or no cluster."""
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
