"""Does `photocritic cull` keep BIQ2021's real series together, and keep other scenes apart?

BIQ2021 (``--biq``, a checkout of https://github.com/nisarahmedrana/BIQ2021; never copied into the project)
holds one person's photos (``ss01``, ``ss02``) numbered in the order they were taken, with many series of one
scene. :func:`photocritic.training.culling.series.pairs` gives the consecutive pairs of one scene rated at least
0.1 apart (test split: judged by eye; train split: by thumbnail correlation). All ss01/ss02 photos of a split are
culled together in one folder (symlinks), through :func:`photocritic.culling.cull_records`, the code behind the
CLI, and we count:

* **series pairs kept together**: pairs whose two photos share a group (the goal: >= 90%);
* **other consecutive pairs merged**: consecutive photos that are not such a pair and whose 24x24 thumbnails
  do not correlate (:func:`photocritic.training.culling.series.same_scene` false) yet share a group. Some of
  them are one scene (a blown or moved frame fails the thumbnail test), so this is an upper bound on wrong
  merges; the names are printed with ``--show``;
* groups of two or more and the largest group.

    python benchmarks/eval_series_grouping.py --split train --catalog /tmp/biq-train.sqlite --links /tmp/biq-train   # while developing
    python benchmarks/eval_series_grouping.py --split test                                                        # once, at the end

BIQ2021 photos carry no capture times: grouping here works on looks, hashes and feature matches alone.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--biq", type=Path, default=Path(os.environ.get("BIQ2021", ROOT.parent / "biq")))
    parser.add_argument("--split", choices=("train", "test"), default="train")
    parser.add_argument("--catalog", type=Path, default=None, help="scores kept here between runs (default: a temporary one)")
    parser.add_argument("--links", type=Path, default=None, help="folder for the photos' symlinks, kept (default: a temporary one); "
                        "the catalog knows photos by path, so reuse it with the same --catalog")
    parser.add_argument("--no-faces", action="store_true", help="skip the face step (faster; grouping is the same)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a GroupingConfig field, e.g. match_similarity=0.4")
    parser.add_argument("--show", type=int, default=0, help="print this many merged and split pairs")
    args = parser.parse_args()

    from photocritic.culling import cull_records
    from photocritic.culling.grouping import GroupingConfig
    from photocritic.scoring import Scorer
    from photocritic.training.culling.series import pairs, same_scene
    from photocritic.training.default.biq2021 import load

    photos = [p for p in load(args.biq, args.split) if p.subset in ("ss01", "ss02")]
    series = pairs(args.biq, args.split)
    with tempfile.TemporaryDirectory(prefix="biq-series-") as scratch:
        folder = args.links or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        links = []
        for photo in photos:
            link = Path(folder) / photo.name
            if not link.is_symlink():
                link.symlink_to(Path(photo.path).resolve())
            links.append(link)
        started = time.perf_counter()
        scorer = Scorer(catalog=args.catalog or Path(folder) / "catalog.sqlite")
        try:
            config = GroupingConfig(**{k: float(v) for k, v in (item.split("=", 1) for item in args.set)})
            records = cull_records(scorer, links, config=config, faces=not args.no_faces)
        finally:
            scorer.close()
        elapsed = time.perf_counter() - started
    group = {Path(r["path"]).name: r["group"] for r in records}
    together = [p for p in series if group.get(p.better.name) is not None and group.get(p.better.name) == group.get(p.worse.name)]
    in_series = {frozenset((p.better.name, p.worse.name)) for p in series}
    by_number = {(p.subset, p.number): p for p in photos}
    others = merged = 0
    merged_names = []
    for (subset, number), first in sorted(by_number.items()):
        second = by_number.get((subset, number + 1))
        if second is None or frozenset((first.name, second.name)) in in_series or same_scene(first, second):
            continue
        others += 1
        if group.get(first.name) is not None and group.get(first.name) == group.get(second.name):
            merged += 1
            merged_names.append((first.name, second.name))
    sizes: dict[object, int] = {}
    for g in group.values():
        sizes[g] = sizes.get(g, 0) + 1
    print(f"BIQ2021 {args.split}: {len(photos)} ss01/ss02 photos culled in {elapsed:.0f} s")
    print(f"  series pairs kept together: {len(together)}/{len(series)} ({100 * len(together) / max(1, len(series)):.1f}%)")
    print(f"  other consecutive pairs (thumbnails unlike) merged: {merged}/{others}")
    print(f"  groups of 2+: {sum(1 for s in sizes.values() if s > 1)}, photos in them: {sum(s for s in sizes.values() if s > 1)}, largest: {max(sizes.values())}")
    if args.show:
        for p in [p for p in series if p not in together][: args.show]:
            print(f"    split: {p.better.name} | {p.worse.name}")
        for a, b in merged_names[: args.show]:
            print(f"    merged: {a} | {b}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
