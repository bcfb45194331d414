"""Would an INT8 backbone do? Quantise efficientnet-lite0-mlsp.onnx (ONNX Runtime static quantisation, QDQ,
per channel) on calibration photos, then measure how far the default model's scores move on other photos.

    python scripts/measure_int8.py

Calibration: every other professional photo (../shared/data/professional, even positions); evaluation: the
185 snapshots and the professional photos at odd positions, never seen by the calibration. The issue's bar
for shipping: scores move by less than 0.05 on 99% of photos. Writes nothing into the package.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from photocritic.engine import Network, graph_path  # noqa: E402
from photocritic.library.scan import find_photos  # noqa: E402
from photocritic.models.technical import measures_vector  # noqa: E402
from photocritic.models.zoo import load_model  # noqa: E402
from photocritic.scoring import prepare_photo  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def prepared(files):
    out = [prepare_photo(f) for f in files]
    return [p for p in out if p.model_input is not None]


def main() -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    professional = sorted(find_photos([DATA / "professional"], recursive=True))
    calibration = prepared(professional[0::2][:64])
    evaluation = prepared(sorted(find_photos([DATA / "photos"])) + professional[1::2])

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"input": p.model_input[None]} for p in calibration])

        def get_next(self):
            return next(self.items, None)

    fp32_path = graph_path("efficientnet-lite0-mlsp.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        int8_path = Path(tmp) / "int8.onnx"
        quantize_static(str(fp32_path), str(int8_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        fp32, int8 = Network(fp32_path, 1), Network(int8_path, 1)
        model = load_model("default")
        batch = np.stack([p.model_input for p in evaluation])
        tech = np.stack([measures_vector(p.row.technical) for p in evaluation])
        scores = {}
        timing = {}
        for name, net in (("fp32", fp32), ("int8", int8)):
            feats = np.concatenate([net(batch[i : i + 16]) for i in range(0, len(batch), 16)])
            scores[name] = model.predict_distribution(feats.astype(np.float16).astype(np.float32), tech) @ np.arange(1, 11)
            net(batch[:16])
            start = time.perf_counter()
            for _ in range(3):
                net(batch[:16])
            timing[f"{name}_ms_per_photo_1_thread"] = round(1000 * (time.perf_counter() - start) / 48, 2)
        moved = np.abs(scores["int8"] - scores["fp32"])
        figures = {
            "command": "python scripts/measure_int8.py",
            "calibration_photos": len(calibration), "evaluation_photos": len(evaluation),
            "share_moved_under_0.05": round(float((moved < 0.05).mean()), 4),
            "p99_move": round(float(np.percentile(moved, 99)), 4), "max_move": round(float(moved.max()), 4),
            "median_move": round(float(np.median(moved)), 4),
            "int8_graph_mb": round(int8_path.stat().st_size / 1e6, 1), **timing,
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
