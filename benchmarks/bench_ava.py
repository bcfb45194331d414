"""AVA analysis speed on a full-size AVA.txt: parse, report, export.

    python benchmarks/bench_ava.py [--data ../shared/data/ava] [--rows 255530] [--passes 3] [--seed 0]

The full AVA.txt is not on these machines, so the benchmark builds one of the same size from the
real rows of AVA_partial.txt: rows are drawn with replacement (seeded), get new running indexes and
new unique image ids, and keep their votes, tags and challenge. The file lives in a temporary folder
and is deleted afterwards; nothing is written into the project.

Reports wall time and CPU time (process_time) of each stage; parse is the best of --passes, the report
and the export run once per pass too (best shown). Prints a Markdown table and a JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from photocritic.ava.export import export_clean
from photocritic.ava.filters import make_spec
from photocritic.ava.parsing import read_ava, read_names
from photocritic.ava.report import build_report

ROOT = Path(__file__).resolve().parents[1]


def build_full_size(source: Path, rows: int, seed: int, target: Path) -> None:
    real = read_ava(source, strict=True).to_matrix()
    rng = np.random.default_rng(seed)
    sample = real[rng.integers(0, real.shape[0], rows)].copy()
    sample[:, 0] = np.arange(1, rows + 1)
    sample[:, 1] = 1_000_000 + rng.permutation(rows * 4)[:rows]  # unique, unordered, never real ids
    with open(target, "w") as stream:
        stream.write("".join(" ".join(map(str, row)) + "\n" for row in sample.tolist()))


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ava")
    parser.add_argument("--rows", type=int, default=255_530)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tags, challenges = read_names(args.data / "tags.txt"), read_names(args.data / "challenges.txt")
    results: dict[str, list[tuple[float, float]]] = {"parse": [], "report": [], "export": []}
    with tempfile.TemporaryDirectory(prefix="bench-ava-") as tmp:
        path = Path(tmp) / "AVA.txt"
        build_full_size(args.data / "AVA_partial.txt", args.rows, args.seed, path)
        size_mb = path.stat().st_size / 1e6
        spec = make_spec(["bias"], [], 0, tags, challenges)
        for n in range(args.passes):
            data, wall, cpu = timed(lambda: read_ava(path))
            assert len(data) == args.rows and not data.bad_rows
            results["parse"].append((wall, cpu))
            report, wall, cpu = timed(lambda d=data, n=n: build_report(d, Path(tmp) / f"report{n}", tags, challenges))
            results["report"].append((wall, cpu))
            _, wall, cpu = timed(lambda d=data, n=n: export_clean(d, Path(tmp) / f"export{n}", spec, tag_names=tags,
                                                                    challenge_names=challenges))
            results["export"].append((wall, cpu))
        stages = report.seconds

    best = {k: min(v) for k, v in results.items()}
    print(f"{args.rows:,} rows ({size_mb:.1f} MB), {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"| stage | wall (best of {args.passes}) | CPU time, same pass |")
    print("|---|---|---|")
    labels = {"parse": "parse AVA.txt", "report": "report (analysis + 12 figures + HTML + CSV)", "export": "export (bias filter, bayes score, random split, AVA + CSV + Parquet)"}
    for key, (wall, cpu) in best.items():
        print(f"| {labels[key]} | {wall:.2f} s | {cpu:.2f} s |")
    print(f"report stages (last pass): analysis {stages['analyse']:.2f} s, figures {stages['figures']:.2f} s")
    print(json.dumps({"rows": args.rows, "passes": args.passes, **{f"{k}_wall_s": round(v[0], 3) for k, v in best.items()},
                      **{f"{k}_cpu_s": round(v[1], 3) for k, v in best.items()}}))


if __name__ == "__main__":
    main()
