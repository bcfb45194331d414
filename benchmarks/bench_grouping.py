"""How fast does culling group a large library? Synthetic embeddings, real code path.

Builds N synthetic 1280-d embeddings shaped like the backbone's (sparse, non-negative, a shared
component, so unrelated photos have cosine ~0.3 as real ones do): bursts of 2-8 near-copies plus
singles, with capture times for 70% of them (bursts 0.3 s apart, different cameras), then times
:func:`photocritic.culling.group_bursts` and reports wall time, peak resident memory and the
pairwise precision/recall against the known bursts (sampled pairs for recall and precision).

    python benchmarks/bench_grouping.py --photos 100000
    python benchmarks/bench_grouping.py --photos 10000 --exact-limit 0   # force the FAISS path
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from photocritic.culling.grouping import EXACT_LIMIT, GroupingConfig, group_bursts  # noqa: E402


def synthetic_library(n: int, dim: int = 1280, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.empty(n, dtype=np.int64)
    sizes = []
    filled = 0
    while filled < n:
        size = int(rng.choice([1, 1, 1, 2, 3, 4, 5, 8]))
        size = min(size, n - filled)
        labels[filled : filled + size] = len(sizes)
        sizes.append(size)
        filled += size
    shared = np.maximum(rng.normal(size=dim) - 0.3, 0).astype(np.float32)
    vectors = np.empty((n, dim), dtype=np.float16)  # as the catalog stores them
    start = 0
    times: list[float | None] = []
    cameras: list[str | None] = []
    clock = 1.6e9
    for group, size in enumerate(sizes):
        # sparse and non-negative like ReLU features: unrelated photos ~0.3 cosine, copies ~0.6-0.9
        centre = np.maximum(rng.normal(size=dim) - 0.6, 0).astype(np.float32) + 0.3 * shared
        noise = rng.normal(size=(size, dim)).astype(np.float32) * rng.uniform(0.25, 0.5)
        vectors[start : start + size] = np.maximum(centre + noise, 0)
        has_time = rng.random() < 0.7
        camera = f"cam{group % 5}"
        clock += float(rng.uniform(20, 600))
        for k in range(size):
            times.append(clock + 0.3 * k if has_time else None)
            cameras.append(camera if has_time else None)
        start += size
    order = rng.permutation(n)  # files arrive in any order
    return vectors[order], labels[order], [times[i] for i in order], [cameras[i] for i in order]


def sampled_scores(truth: np.ndarray, predicted: np.ndarray, samples: int = 200_000, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    # recall over true pairs
    by_truth: dict[int, list[int]] = {}
    for i, t in enumerate(truth.tolist()):
        by_truth.setdefault(t, []).append(i)
    true_pairs = [(m[a], m[b]) for m in by_truth.values() if len(m) > 1 for a in range(len(m)) for b in range(a + 1, len(m))]
    recall = float(np.mean([predicted[a] == predicted[b] for a, b in true_pairs])) if true_pairs else 1.0
    # precision over predicted pairs
    by_pred: dict[int, list[int]] = {}
    for i, p in enumerate(predicted.tolist()):
        by_pred.setdefault(p, []).append(i)
    pred_pairs = [(m[a], m[b]) for m in by_pred.values() if len(m) > 1 for a in range(len(m)) for b in range(a + 1, len(m))]
    if len(pred_pairs) > samples:
        pred_pairs = [pred_pairs[i] for i in rng.choice(len(pred_pairs), samples, replace=False)]
    precision = float(np.mean([truth[a] == truth[b] for a, b in pred_pairs])) if pred_pairs else 1.0
    largest = max(len(m) for m in by_pred.values())
    return {"precision": precision, "recall": recall, "largest_group": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--exact-limit", type=int, default=EXACT_LIMIT, help="above this many photos the FAISS index is used")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import faiss

    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    vectors, truth, times, cameras = synthetic_library(args.photos, seed=args.seed)
    built = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    labels = group_bursts(vectors, times, cameras, GroupingConfig(), exact_limit=args.exact_limit)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scores = sampled_scores(truth, labels)
    path = "exact (blocked matrix products)" if args.photos <= args.exact_limit else "FAISS IVF on a 128-d projection"
    print(f"{args.photos} photos, 1280-d float16 embeddings ({vectors.nbytes / 2**20:.0f} MiB), built in {built:.0f} s")
    print(f"  neighbours: {path}")
    print(f"  grouping: {elapsed:.1f} s wall; peak RSS {peak:.0f} MiB ({rss_before:.0f} MiB before grouping)")
    print(f"  {len(set(labels.tolist()))} groups (truth {len(set(truth.tolist()))}); sampled pairwise precision {scores['precision']:.3f}, recall {scores['recall']:.3f}; largest group {scores['largest_group']}")


if __name__ == "__main__":
    main()
