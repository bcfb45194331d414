"""Peak memory is bounded by the decode budget whatever the file: a 392 KB PNG that decodes to
14000 x 14000 16-bit pixels, and 20 large PNGs uploaded in one request. Measured as the peak RSS
(getrusage) of a fresh child process doing only that."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.reliability.conftest import SRC, cli
from tests.reliability.hostile import png_header_only, write_zero_png

CLI_LIMIT_KB = int(2.5 * 2**20)  # 2.5 GiB: the README's promise for one photo within the limits


def peak_rss_kb(code: str, env: dict, timeout: float = 600) -> tuple[int, str]:
    wrapper = textwrap.dedent(
        """
        import resource, subprocess, sys
        done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(done.returncode)
        sys.stdout.write(done.stdout[-20000:])
        sys.stderr.write(done.stderr[-5000:])
        """
    )
    full_env = {**os.environ, "PYTHONPATH": SRC, **env}
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.splitlines()
    assert len(lines) >= 2, done.stderr
    return int(lines[0]), "\n".join(lines[1:]) + "\n" + done.stderr


def test_a_14000_square_16bit_png_scores_within_the_cli_budget(tmp_path, cli_env):
    bomb = tmp_path / "bomb16.png"
    write_zero_png(bomb, 14000, 14000, 16, 0)
    assert bomb.stat().st_size < 2_000_000
    code = f"import sys; sys.argv = ['photocritic', 'score', {str(bomb)!r}, '-f', 'jsonl', '-q']; from photocritic.cli import main; main()"
    peak, output = peak_rss_kb(code, cli_env)
    record = json.loads([line for line in output.splitlines() if line.startswith("{")][0])
    assert record["error"] is None and record["width"] == 14000, record
    assert peak < CLI_LIMIT_KB, f"peak RSS {peak / 2**20:.2f} GiB"


def test_refusals_cite_our_limits_not_pillows(tmp_path, cli_env):
    header_bomb = tmp_path / "huge.png"
    header_bomb.write_bytes(png_header_only(30000, 30000))  # Pillow itself refuses this one at open
    over_budget = tmp_path / "budget.png"
    write_zero_png(over_budget, 6000, 6000, 16, 0)  # 72 MB decoded, over a 50 MB budget
    done = cli(["score", str(header_bomb), str(over_budget), "-f", "jsonl", "-q"], {**cli_env, "PHOTOCRITIC_MAX_DECODE_MB": "50"})
    assert done.returncode == 1
    errors = {os.path.basename(r["path"]): r["error"] for r in map(json.loads, done.stdout.decode().splitlines())}
    assert "200 MP limit" in errors["huge.png"] and "PHOTOCRITIC_MAX_PIXELS" in errors["huge.png"]
    assert "89478485" not in errors["huge.png"] and "decompression bomb DOS" not in errors["huge.png"]  # Pillow's wording
    assert "50 MiB decode budget" in errors["budget.png"] and "PHOTOCRITIC_MAX_DECODE_MB" in errors["budget.png"]


WEB_LIMIT_KB = int(3.0 * 2**20)  # docs/web.md: 3 GiB for the app under 20 concurrent uploads


def test_twenty_concurrent_large_uploads_stay_within_the_web_budget(tmp_path, cli_env):
    upload = tmp_path / "big16.png"
    write_zero_png(upload, 7700, 7700, 16, 0)  # 59 MP, 119 MB decoded, ~120 KB sent
    code = textwrap.dedent(
        f"""
        import json
        from fastapi.testclient import TestClient
        from photocritic.web.app import create_app
        data = open({str(upload)!r}, "rb").read()
        with TestClient(create_app(None), base_url="http://127.0.0.1:8000") as client:
            token = {{"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}}
            files = [("files", (f"u{{i}}.png", data, "image/png")) for i in range(20)]
            response = client.post("/api/score", files=files, headers=token)
            print(json.dumps({{"status": response.status_code, "errors": [r["error"] for r in response.json()["results"]]}}))
        """
    )
    peak, output = peak_rss_kb(code, cli_env, timeout=900)
    result = json.loads([line for line in output.splitlines() if line.startswith("{")][0])
    assert result["status"] == 200 and result["errors"] == [None] * 20, output[-3000:]
    assert peak < WEB_LIMIT_KB, f"peak RSS {peak / 2**20:.2f} GiB"
