"""Know your data: AVA analysis, bias filters and cleaned exports.

    >>> from photocritic.ava import read_ava, read_names, build_report, export_clean   # doctest: +SKIP
    >>> data = read_ava("AVA.txt")                 # bad rows: data.bad_rows, each with its line number
    >>> build_report(data, "ava-report", read_names("tags.txt"), read_names("challenges.txt"))

Modules: ``parsing`` (AVA.txt, tags, challenges, .jpgl lists), ``scores`` (naive, bayes, lcb, extreme),
``filters`` (tags, challenges, minimum votes), ``analysis`` (the tables), ``figures``, ``report``, ``export``.
Nothing here imports torch or the command line.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "export_clean": "export", "FilterSpec": "filters", "apply_filters": "filters", "make_spec": "filters",
    "AvaData": "parsing", "AvaFormatError": "parsing", "BadRow": "parsing", "parse_ava_text": "parsing", "read_ava": "parsing",
    "read_id_list": "parsing", "read_names": "parsing", "build_report": "report", "SCORE_FORMULAS": "scores",
    "SCORE_NAMES": "scores", "compute_scores": "scores",
}
__all__ = tuple(sorted(_EXPORTS))


def __getattr__(name: str):
    """Lazy: `import photocritic.ava.parsing` does not pull in matplotlib."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"photocritic.ava.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'photocritic.ava' has no attribute {name!r}")
