"""The inference engine (issue 17): end to end against the decode floor and an idealo-style NIMA pipeline,
thread layouts, per-stage costs, contention, start-up. Every figure of one run, so ratios compare like with like.

    python benchmarks/bench_engine.py --copies 12 --json benchmarks/engine.json

* Photos: ``--copies`` symbolic links to each of ``../shared/data/photos-fullres/`` (12 originals, 8-20 MP):
  144 full-resolution JPEGs by default. No catalog (every photo is decoded and run).
* decode floor: only opening the files at 1024 px with libjpeg's DCT scaling (Pillow ``draft``), in 2 threads.
* idealo-style NIMA: what idealo's predict does: the full decode, a 224 x 224 nearest-neighbour squash, [-1, 1],
  MobileNet v1 at batch 16 (here nima-ava's graph through ONNX Runtime, 2 threads), decode in one thread.
* photocritic: ``Scorer("default", use_catalog=False, threads=T, workers=W)`` for each layout T x W.
* ``--layouts-only ROUNDS``: only the layouts, interleaved (each once per round), medians over the rounds.
* contention: the chosen layout again while one CPU-bound process (a busy Python loop) runs beside it.
* per-stage costs on one core: decode + measures, the backbone at batch 16 (ONNX Runtime; PyTorch when it
  is installed), the head, nima-ava's network.
* ``--alongside ROUNDS``: what running nima-ava beside the default would cost (issue 15's "run it alongside"):
  the decode floor, ``Scorer("default")`` and ``Scorer`` of a bundle that reads nima-ava's mean score as one
  more input of the default's head (so both networks run on every photo), each once per round, interleaved.
* start-up: ``photocritic score --help`` and the first record of a run (``-f jsonl``), wall time from the
  command's start, as subprocesses.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from photocritic.engine import Network, graph_path  # noqa: E402
from photocritic.imaging import decode_for_model  # noqa: E402
from photocritic.library.scan import find_photos  # noqa: E402
from photocritic.models.backbone import BACKBONES  # noqa: E402
from photocritic.models.technical import measures_vector  # noqa: E402
from photocritic.models.zoo import load_model, save_bundle  # noqa: E402
from photocritic.scoring import Scorer, prepare_photo  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LAYOUTS = ((1, 1), (1, 2), (2, 1), (2, 2))  # (ONNX Runtime intra-op threads, decode threads)


def rate(n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def decode_floor(files: list[str], threads: int = 2) -> None:
    def open_scaled(path: str) -> None:
        with Image.open(path) as image:
            image.draft("RGB", (1024, 1024))
            image.convert("RGB").load()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(open_scaled, files))


def nima_pipeline(files: list[str]) -> None:
    network = Network(graph_path("nima-ava.onnx"), threads=2)
    for i in range(0, len(files), 16):
        batch = []
        for path in files[i : i + 16]:
            with Image.open(path) as image:
                rgb = np.asarray(image.convert("RGB").resize((224, 224), Image.Resampling.NEAREST), dtype=np.float32)
            batch.append((rgb / 127.5 - 1.0).transpose(2, 0, 1))
        network(np.stack(batch))


def photocritic_run(files: list[str], threads: int, workers: int, model="default") -> None:
    scorer = Scorer(model, use_catalog=False, threads=threads, workers=workers)
    for record in scorer.iter_records(files):
        assert record["error"] is None, record["error"]


def per_photo_ms(fn, batch: np.ndarray, repeats: int = 5) -> float:
    fn(batch)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(batch)
        runs.append(time.perf_counter() - start)
    return 1000 * float(np.median(runs)) / len(batch)


def stages(files: list[str]) -> dict:
    out = {}
    sample = files[:12]
    start = time.perf_counter()
    prepared = [prepare_photo(f) for f in sample]
    out["decode_and_measures_ms"] = round(1000 * (time.perf_counter() - start) / len(sample), 1)
    batch = np.stack([p.model_input for p in prepared] + [p.model_input for p in prepared[:4]])  # 16
    for threads in (1, 2):
        out[f"backbone_onnxruntime_{threads}_thread_ms"] = round(per_photo_ms(Network(graph_path("efficientnet-lite0-mlsp.onnx"), threads), batch), 2)
    try:
        import torch

        from photocritic.models.networks import extract_features, load_backbone

        module = load_backbone("efficientnet-lite0")
        for threads in (1, 2):
            torch.set_num_threads(threads)
            out[f"backbone_pytorch_{threads}_thread_ms"] = round(per_photo_ms(lambda b: extract_features(module, b), batch), 2)
    except ImportError:
        out["backbone_pytorch"] = "torch not installed"
    model = load_model("default")
    features = Network(graph_path("efficientnet-lite0-mlsp.onnx"), 1)(batch).astype(np.float16).astype(np.float32)
    technical = np.stack([measures_vector(p.row.technical) for p in prepared] + [measures_vector(p.row.technical) for p in prepared[:4]])
    out["default_head_ms"] = round(per_photo_ms(lambda f: model.predict_distribution(f, technical), features, 20), 4)
    nima = load_model("nima-ava")
    nima_batch = np.stack([nima.network_input(decode_for_model(f, keep_drafted=True).drafted) for f in sample] + [nima.network_input(decode_for_model(f, keep_drafted=True).drafted) for f in sample[:4]])
    for threads in (1, 2):
        out[f"nima_ava_network_{threads}_thread_ms"] = round(per_photo_ms(Network(nima.network_graph, threads), nima_batch), 2)
    return out


def startup(folder: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PHOTOCRITIC_CATALOG": os.path.join(tempfile.mkdtemp(), "c.sqlite")}
    command = [sys.executable, "-m", "photocritic", "score"]
    helps = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], env=env, capture_output=True, check=True)
        helps.append(time.perf_counter() - start)
    start = time.perf_counter()
    process = subprocess.Popen([*command, folder, "-f", "jsonl", "--no-cache"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = process.stdout.readline()
    first_record = time.perf_counter() - start
    process.kill()
    process.wait()
    assert json.loads(first)["score"] is not None
    return {"score_help_s": round(min(helps), 3), "first_record_s": round(first_record, 3)}


def interleaved_layouts(files: list[str], rounds: int) -> dict:
    """Each layout once per round, rounds one after another, so a change of load hits every layout alike;
    the median photos/s per layout over the rounds."""
    got: dict[str, list[float]] = {f"{t}x{w}": [] for t, w in LAYOUTS}
    for _ in range(rounds):
        for threads, workers in LAYOUTS:
            got[f"{threads}x{workers}"].append(rate(len(files), lambda: photocritic_run(files, threads, workers)))
    return {k: {"median": round(float(np.median(v)), 2), "runs": [round(x, 2) for x in v]} for k, v in got.items()}


def default_with_nima_alongside(folder: Path) -> Path:
    """The shipped default head with one more input, nima-ava's mean score (weight 0: the scores stay the
    default's; what is measured is the cost of computing it), written as a bundle in *folder*."""
    from safetensors.numpy import load_file

    shipped = load_model("default")
    config = {**shipped.config, "name": "default-with-nima-ava", "inputs": [*shipped.inputs, "base_score"], "base_model": "nima-ava"}
    state = load_file(str(shipped.path / "weights.safetensors"))
    at = BACKBONES[shipped.backbone].feature_dim + len(shipped.technical_measures)  # before the hinge terms
    state["feature_mean"] = np.insert(state["feature_mean"], at, 5.0)
    state["feature_std"] = np.insert(state["feature_std"], at, 1.0)
    state["mlp.0.weight"] = np.insert(state["mlp.0.weight"], at, 0.0, axis=1)
    return save_bundle(folder, config, state, card="")


def alongside(files: list[str], rounds: int, folder: Path) -> dict:
    """Decode floor, the default and the default with nima-ava alongside, interleaved over *rounds*."""
    stacked = str(default_with_nima_alongside(folder))
    photocritic_run(files[:16], 1, 2, stacked)  # warm
    got: dict[str, list[float]] = {"decode_floor": [], "default": [], "default_with_nima_ava_alongside": []}
    for _ in range(rounds):
        got["decode_floor"].append(rate(len(files), lambda: decode_floor(files)))
        got["default"].append(rate(len(files), lambda: photocritic_run(files, 1, 2)))
        got["default_with_nima_ava_alongside"].append(rate(len(files), lambda: photocritic_run(files, 1, 2, stacked)))
    out = {k: {"median": round(float(np.median(v)), 2), "runs": [round(x, 2) for x in v]} for k, v in got.items()}
    floor = out["decode_floor"]["median"]
    out["ratios"] = {
        "default_over_decode_floor": round(out["default"]["median"] / floor, 3),
        "alongside_over_decode_floor": round(out["default_with_nima_ava_alongside"]["median"] / floor, 3),
        "alongside_time_over_default_time": round(out["default"]["median"] / out["default_with_nima_ava_alongside"]["median"], 3),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--layouts-only", type=int, metavar="ROUNDS",
                        help="only the thread layouts, interleaved over ROUNDS rounds of --copies x 12 photos")
    parser.add_argument("--alongside", type=int, metavar="ROUNDS",
                        help="only the cost of running nima-ava beside the default, interleaved over ROUNDS rounds")
    args = parser.parse_args()
    originals = sorted(find_photos([DATA / "photos-fullres"]))
    figures: dict = {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                     "load_average_at_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for copy in range(args.copies):
            for path in originals:
                link = Path(tmp) / f"{copy:02d}-{Path(path).name}"
                link.symlink_to(path)
                files.append(str(link))
        n = len(files)
        figures["photos"] = n
        photocritic_run(files[:16], 2, 2)  # warm: sessions, page cache
        if args.layouts_only or args.alongside:
            if args.layouts_only:
                figures["layouts"] = interleaved_layouts(files, args.layouts_only)
            else:
                figures["alongside"] = alongside(files, args.alongside, Path(tmp) / "default-with-nima-ava")
            figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
            print(json.dumps(figures, indent=2))
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
            return
        runs: dict = {}
        runs["decode_floor"] = rate(n, lambda: decode_floor(files))
        runs["nima_idealo_style"] = rate(n, lambda: nima_pipeline(files))
        for threads, workers in LAYOUTS:
            runs[f"photocritic_{threads}x{workers}"] = rate(n, lambda: photocritic_run(files, threads, workers))
        runs["decode_floor_again"] = rate(n, lambda: decode_floor(files))  # the load may have moved meanwhile
        best = max(LAYOUTS, key=lambda layout: runs[f"photocritic_{layout[0]}x{layout[1]}"])
        figures["best_layout"] = {"onnxruntime_threads": best[0], "decode_threads": best[1]}
        idle = rate(n, lambda: photocritic_run(files, *best))
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(1)
            contended = rate(n, lambda: photocritic_run(files, *best))
        finally:
            hog.kill()
            hog.wait()
        runs["photocritic_best_idle"] = idle
        runs["photocritic_best_beside_a_cpu_bound_process"] = contended
        figures["photos_per_s"] = {k: round(v, 2) for k, v in runs.items()}
        floor = (runs["decode_floor"] + runs["decode_floor_again"]) / 2
        figures["ratios"] = {
            "photocritic_over_decode_floor": round(runs[f"photocritic_{best[0]}x{best[1]}"] / floor, 3),
            "photocritic_over_nima_pipeline": round(runs[f"photocritic_{best[0]}x{best[1]}"] / runs["nima_idealo_style"], 2),
            "contended_over_idle": round(contended / idle, 3),
        }
        figures["stages_one_core"] = stages(files[: len(originals)])
        figures["startup"] = startup(str(DATA / "photos"))
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
