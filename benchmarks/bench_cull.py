"""What `photocritic cull` costs per photo once the scores are stored: grouping, inspecting, ranking, sets.

    python benchmarks/bench_cull.py DIR [--rounds 2]

The first pass scores every photo into a catalog in a temporary folder (not timed); each round then culls
the folder again from the stored scores and prints its wall time per photo. To compare two versions, run
it from both checkouts alternately, in one session (these machines are shared: only the ratio means much):

    for r in 1 2; do (cd ../old && python benchmarks/bench_cull.py DIR); python benchmarks/bench_cull.py DIR; done
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    files = sorted(p for p in args.folder.iterdir() if p.is_file())
    with tempfile.TemporaryDirectory(prefix="bench-cull-") as work:
        scorer = Scorer(catalog=Path(work) / "catalog.sqlite")
        try:
            list(scorer.iter_scored(files))
            for round_no in range(1, args.rounds + 1):
                started = time.perf_counter()
                records = cull_records(scorer, files)
                elapsed = time.perf_counter() - started
                groups = len({r["group"] for r in records if r["group"] is not None and (r["group_size"] or 0) > 1})
                print(f"round {round_no}: {len(files)} photos, {groups} groups of look-alikes, {elapsed:.1f} s, "
                      f"{elapsed / len(files) * 1000:.0f} ms a photo")
        finally:
            scorer.close()


if __name__ == "__main__":
    main()
