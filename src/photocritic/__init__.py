"""photocritic: judge photos the way a careful photographer would.

    >>> import photocritic
    >>> records = photocritic.score(["holiday/"], model="default")   # doctest: +SKIP
"""
from __future__ import annotations

__version__ = "0.1.0"


def score(paths, model="default", **options):
    """Score photos, folders or glob patterns; see :func:`photocritic.scoring.score`."""
    from photocritic.scoring import score as _score

    return _score(paths, model=model, **options)


def load_model(name_or_path="default"):
    """A model from the zoo by name, or a bundle folder by path."""
    from photocritic.models.zoo import load_model as _load_model

    return _load_model(name_or_path)


__all__ = ["score", "load_model", "__version__"]
