"""Peak RSS of one hostile decode in the CLI and of 20 concurrent large uploads in the web app.

    python benchmarks/bench_memory.py            # prints both peaks (GiB) and the wall time

Each case runs in a fresh child process whose peak RSS (getrusage of that child) is reported: a
14000 x 14000 16-bit PNG (392 KB on disk) through `photocritic score`, and one POST /api/score with
20 copies of a 7700 x 7700 16-bit PNG (59 MP). The bounds asserted in
tests/reliability/test_memory_budget.py are 2.5 GiB and 3 GiB.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.hostile import write_zero_png  # noqa: E402
from tests.reliability.test_memory_budget import peak_rss_kb  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {"PHOTOCRITIC_CATALOG": f"{folder}/catalog.sqlite"}
        bomb = Path(folder) / "bomb16.png"
        write_zero_png(bomb, 14000, 14000, 16, 0)
        started = time.monotonic()
        code = f"import sys; sys.argv = ['photocritic', 'score', {str(bomb)!r}, '-f', 'jsonl', '-q', '--no-cache']; from photocritic.cli import main; main()"
        peak, _ = peak_rss_kb(code, env)
        print(f"cli, 14000x14000 16-bit PNG ({bomb.stat().st_size / 1e3:.0f} KB): peak RSS {peak / 2**20:.2f} GiB, {time.monotonic() - started:.1f} s")
        upload = Path(folder) / "big16.png"
        write_zero_png(upload, 7700, 7700, 16, 0)
        code = (
            "from fastapi.testclient import TestClient\nfrom photocritic.web.app import create_app\n"
            f"data = open({str(upload)!r}, 'rb').read()\n"
            "with TestClient(create_app(None), base_url='http://127.0.0.1:8000') as c:\n"
            "    t = {'X-CSRF-Token': c.get('/api/session').json()['csrf_token']}\n"
            "    r = c.post('/api/score', files=[('files', (f'u{i}.png', data, 'image/png')) for i in range(20)], headers=t)\n"
            "    print(r.status_code)\n"
        )
        started = time.monotonic()
        peak, output = peak_rss_kb(code, env)
        print(f"web, 20 x 7700x7700 16-bit PNG in one request (HTTP {output.split()[1] if len(output.split()) > 1 else '?'}): peak RSS {peak / 2**20:.2f} GiB, {time.monotonic() - started:.1f} s")
        print(json.dumps({"decode_budget_mib": 1024}))


if __name__ == "__main__":
    main()
