"""What ranking reads of each frame of a known group, computed as `photocritic cull` computes it.

A *series* is one group whose order is known: a generated burst (the clean frame is better than each
copy) or a BIQ2021 pair (the photo people rated higher is better). Its frames are scored by the
:class:`~photocritic.scoring.Scorer` (score and sub-scores, technical measures), inspected at the
culling decode (:func:`~photocritic.culling.pipeline.inspect_frame`: faces, eyes, grain, detail, subject
exposure) and turned into :class:`~photocritic.culling.ranking.Candidate` by the pipeline's own
:func:`~photocritic.culling.pipeline.group_candidates`. Candidates are saved as JSON lines (their
``evidence()``), so the fit runs without decoding anything.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from photocritic.culling.pipeline import group_candidates, inspect_frame
from photocritic.culling.ranking import Candidate


@dataclass
class Series:
    """One group of frames and which of them are better than which."""

    name: str  # unique: "handheld/b003" or "biq/ss01 (29)"
    kind: str  # the generator, or "biq2021"
    candidates: list[Candidate]
    better: list[tuple[int, int]]  # (better, worse) positions in candidates
    labels: list[str] | None = None  # what each frame is (its defect, "clean", a file name)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "kind": self.kind, "better": self.better, "labels": self.labels,
                           "evidence": [c.evidence() for c in self.candidates]})

    @classmethod
    def from_json(cls, line: str) -> "Series":
        data = json.loads(line)
        candidates = [Candidate.from_evidence(k, e) for k, e in enumerate(data["evidence"])]
        return cls(data["name"], data["kind"], candidates, [tuple(p) for p in data["better"]], data.get("labels"))


def measure(scorer, groups: Sequence[Sequence[str | os.PathLike]], faces: bool = True, workers: int = 2,
            log: Callable[[str], None] = print) -> list[list[Candidate] | None]:
    """Candidates per group of files (None where a file could not be read)."""
    files = [str(p) for group in groups for p in group]
    records = {}
    for done, (record, _row) in enumerate(scorer.iter_scored(files), start=1):
        records[record["path"]] = record
        if done % 200 == 0:
            log(f"  scored {done}/{len(files)}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        looked = dict(zip(files, pool.map(lambda path: inspect_frame(path, faces), files)))
    out: list[list[Candidate] | None] = []
    for group in groups:
        paths = [str(p) for p in group]
        rows = [records.get(p) for p in paths]
        if any(r is None or r.get("error") or r.get("score") is None for r in rows) or any(looked[p][0] is None for p in paths):
            out.append(None)
            continue
        candidates, _ = group_candidates(rows, list(range(len(rows))), {k: looked[p][0] for k, p in enumerate(paths)}, faces,
                                         [looked[p][1] for p in paths])
        out.append(candidates)
    return out


def save(series: Sequence[Series], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(s.to_json() + "\n" for s in series))
    os.replace(tmp, path)


def load(path: Path) -> list[Series]:
    return [Series.from_json(line) for line in path.read_text().splitlines() if line.strip()]


__all__ = ["Series", "load", "measure", "save"]
