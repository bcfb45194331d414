"""The figures of nima-ava's model card that we measured ourselves (no AVA images exist on these machines,
so nothing here is an AVA figure).

    python scripts/measure_nima_ava.py --out docs/models/nima-ava.json

* score spread on ../shared/data/photos (everyday snapshots) and ../shared/data/professional (curated);
* AUC of professional above snapshots (nima-ava never saw either set: it is idealo's model, unchanged);
* agreement with idealo's own preprocessing (full decode, Keras ``load_img`` nearest-neighbour resize to
  224 x 224) against photocritic's (the DCT-scaled decode, at least 1024 px on the long side, oriented,
  sRGB, squashed to 224 x 224 with nearest neighbours), and against a bilinear squash of the 512 px working
  image (what we first shipped, kept as a warning);
* time per photo of the network alone (batches of 16, ONNX Runtime, 1 and 2 threads).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from photocritic.engine import Network  # noqa: E402
from photocritic.evaluation.metrics import auc  # noqa: E402
from photocritic.imaging import decode_for_model  # noqa: E402
from photocritic.library.scan import find_photos  # noqa: E402
from photocritic.models.backbone import squash  # noqa: E402
from photocritic.models.zoo import load_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RATINGS = np.arange(1, 11)


def idealo_input(path: str) -> np.ndarray | None:
    """idealo's predict path: keras load_img(target_size=(224, 224)) = PIL, RGB, NEAREST resize of the full image."""
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB").resize((224, 224), Image.Resampling.NEAREST), dtype=np.float32)
    except Exception:  # noqa: BLE001 - a file PIL cannot open is left out of this comparison
        return None
    return np.ascontiguousarray((rgb / 127.5 - 1.0).transpose(2, 0, 1))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    model = load_model("nima-ava")
    net = Network(model.network_graph, threads=2)
    figures: dict = {"command": "python scripts/measure_nima_ava.py", "sets": {}}
    scores = {}
    for name in ("photos", "professional"):
        files = sorted(find_photos([DATA / name], recursive=True))
        ours, theirs, bilinear = [], [], []
        for i in range(0, len(files), 16):
            chunk = files[i : i + 16]
            inputs, smooth, keep = [], [], []
            for f in chunk:
                try:
                    decoded = decode_for_model(f, keep_drafted=True)
                    inputs.append(model.network_input(decoded.drafted))
                    smooth.append(np.ascontiguousarray((squash(decoded.pixels, 224) / np.float32(127.5) - 1).transpose(2, 0, 1)))
                    keep.append(f)
                except Exception:  # noqa: BLE001 - too small or unreadable: scoring reports it, the card does not count it
                    continue
            ours += list(net(np.stack(inputs)) @ RATINGS)
            bilinear += list(net(np.stack(smooth).astype(np.float32)) @ RATINGS)
            reference = [idealo_input(f) for f in keep]
            theirs += [float(net(x[None])[0] @ RATINGS) if x is not None else np.nan for x in reference]
        ours, theirs, bilinear = np.array(ours), np.array(theirs), np.array(bilinear)
        both = np.isfinite(theirs)
        scores[name] = ours
        figures["sets"][name] = {
            "photos": int(len(ours)),
            "mean": round(float(ours.mean()), 3), "std": round(float(ours.std()), 3),
            "p5_p50_p95": [round(float(v), 3) for v in np.percentile(ours, [5, 50, 95])],
            "min_max": [round(float(ours.min()), 3), round(float(ours.max()), 3)],
            "idealo_preprocessing": {
                "photos": int(both.sum()),
                "spearman": round(spearman(ours[both], theirs[both]), 4),
                "mean_abs_difference": round(float(np.abs(ours[both] - theirs[both]).mean()), 4),
                "p95_abs_difference": round(float(np.percentile(np.abs(ours[both] - theirs[both]), 95)), 4),
                "mean_difference_ours_minus_idealo": round(float((ours[both] - theirs[both]).mean()), 4),
            },
            "bilinear_working_image_instead": {
                "spearman_with_idealo": round(spearman(bilinear[both], theirs[both]), 4),
                "mean_difference_minus_idealo": round(float((bilinear[both] - theirs[both]).mean()), 4),
            },
        }
    labels = np.r_[np.zeros(len(scores["photos"])), np.ones(len(scores["professional"]))]
    figures["auc_professional_over_snapshots"] = round(float(auc(np.r_[scores["photos"], scores["professional"]], labels)), 4)
    batch = np.random.default_rng(0).uniform(-1, 1, (16, 3, 224, 224)).astype(np.float32)
    timing = {}
    for threads in (1, 2):
        network = Network(model.network_graph, threads=threads)
        network(batch)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            network(batch)
            runs.append((time.perf_counter() - start) / 16 * 1000)
        timing[f"{threads}_thread_ms_per_photo"] = round(float(np.median(runs)), 2)
    figures["network_time"] = timing
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
