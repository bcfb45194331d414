"""photocritic: judge photos the way a careful photographer would.

    >>> import photocritic
    >>> records = photocritic.score(["holiday/"], model="default")   # doctest: +SKIP
    >>> culled = photocritic.cull(["holiday/"])                      # doctest: +SKIP

Both return the records ``photocritic score --explain -f jsonl`` and ``photocritic cull -f jsonl`` write,
as dicts, in the same order.
"""
from __future__ import annotations

__version__ = "0.1.0"


def score(paths, model="default", **options):
    """Score photos, folders or glob patterns: one record per photo (errors included), each with its
    ``reasons`` in words. *options*: ``recursive``, ``catalog``, ``use_catalog``, ``batch_size``,
    ``workers`` (see :func:`photocritic.scoring.score`)."""
    from photocritic.reasons import record_reasons
    from photocritic.scoring import score as _score

    return [{**record, "reasons": record_reasons(record)} for record in _score(paths, model=model, **options)]


def cull(paths, model="default", *, recursive=False, catalog=None, use_catalog=True, faces=True, progress=None, keep=None, **grouping):
    """Group bursts and look-alikes among photos, folders or glob patterns, rank each group and say why:
    the records of ``photocritic cull -f jsonl`` (group, rank, pick, reasons, decision, ...), groups in order.
    *keep*: as ``cull --keep``, a number of photos (20) or a share ("30%"): the best of them are kept (each
    group's pick before any second frame), the picks that do not fit get the decision "left out"; a bad
    value raises ValueError before any photo is read.
    *grouping*: :class:`photocritic.culling.GroupingConfig` fields (``similarity``, ``time_gap``, ...);
    *progress(done, total, phase)* is told of each step."""
    from photocritic.culling import GroupingConfig, cull_records
    from photocritic.culling.keep import keep_best, parse_keep
    from photocritic.library.scan import find_photos
    from photocritic.scoring import Scorer

    target = parse_keep(keep) if keep is not None else None
    files = find_photos([paths] if isinstance(paths, str) or hasattr(paths, "__fspath__") else list(paths), recursive=recursive)
    scorer = Scorer(model, catalog=catalog, use_catalog=use_catalog)
    try:
        records = cull_records(scorer, files, GroupingConfig(**grouping), faces=faces, progress=progress)
    finally:
        scorer.close()
    if target is not None:
        keep_best(records, target, f"keep={keep}")
    return records


def load_model(name_or_path="default"):
    """A model from the zoo by name, or a bundle folder by path."""
    from photocritic.models.zoo import load_model as _load_model

    return _load_model(name_or_path)


__all__ = ["cull", "score", "load_model", "__version__"]
