"""Web app latency: 1-megapixel uploads to a real `photocritic serve`, on loopback only.

    python benchmarks/bench_web.py [--requests 60] [--concurrent-requests 100] [--concurrency 20]

Starts the server in a subprocess on 127.0.0.1 and a free port, makes 1 MP JPEGs (1224 x 816, about what
the upload page sends after its in-browser resize) from ../shared/data/photos, then:

1. **one at a time**: ``--requests`` uploads in sequence; the latency of each (request sent to answer
   read) gives p50 / p95 / p99;
2. **under load**: ``--concurrent-requests`` uploads from ``--concurrency`` clients at once; every answer
   must be 200; latency percentiles and throughput.

Request counts are bounded (at most 2,000 per phase) and the target is always the server this script
started on 127.0.0.1: it never sends a request anywhere else.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS = 2000


def one_megapixel_jpegs(folder: Path, count: int) -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            image = image.convert("RGB")
        if max(image.size) < 1224:
            continue
        image = image.resize((1224, 816) if image.width >= image.height else (816, 1224), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        out.append((path.name, buffer.getvalue()))
        if len(out) == count:
            break
    return out


def start_server(catalog: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "photocritic", "serve", "--host", "127.0.0.1", "--port", "0", "--catalog", str(catalog)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
        if match:
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return process, match.group(1)
    process.kill()
    raise SystemExit("the server did not start")


def percentiles(values: list[float]) -> dict:
    array = np.asarray(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(array, 50)), 1),
        "p95_ms": round(float(np.percentile(array, 95)), 1),
        "p99_ms": round(float(np.percentile(array, 99)), 1),
        "max_ms": round(float(array.max()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "photos")
    parser.add_argument("--requests", type=int, default=60, help="sequential uploads (default 60)")
    parser.add_argument("--concurrent-requests", type=int, default=100, help="uploads in the load phase (default 100)")
    parser.add_argument("--concurrency", type=int, default=20, help="clients at once in the load phase (default 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.requests <= MAX_REQUESTS or not 1 <= args.concurrent_requests <= MAX_REQUESTS:
        raise SystemExit(f"request counts must be between 1 and {MAX_REQUESTS}")
    if not 1 <= args.concurrency <= 64:
        raise SystemExit("--concurrency must be between 1 and 64")

    payloads = one_megapixel_jpegs(args.data, 20)
    if not payloads:
        raise SystemExit(f"no photos of at least 1224 px in {args.data}")
    sizes = [len(d) for _, d in payloads]
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp) / "catalog.sqlite")
        assert url.startswith("http://127.0.0.1:")
        try:
            token = httpx.get(f"{url}/api/session").json()["csrf_token"]
            headers = {"X-CSRF-Token": token}

            def upload(http: httpx.Client, i: int) -> tuple[float, int]:
                name, data = payloads[i % len(payloads)]
                started = time.perf_counter()
                response = http.post(f"{url}/api/score", files={"files": (name, data, "image/jpeg")}, headers=headers)
                response.read()
                return time.perf_counter() - started, response.status_code

            with httpx.Client(timeout=300) as http:
                for i in range(args.warmup):
                    upload(http, i)
                sequential = [upload(http, i) for i in range(args.requests)]

            local = threading.local()

            def loaded(i: int) -> tuple[float, int]:
                if not hasattr(local, "http"):
                    local.http = httpx.Client(timeout=300)
                return upload(local.http, i)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                concurrent = list(pool.map(loaded, range(args.concurrent_requests)))
            wall = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)

    seq_ok = [t for t, status in sequential if status == 200]
    con_ok = [t for t, status in concurrent if status == 200]
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "upload": f"1224x816 JPEG (1.0 MP), {np.mean(sizes) / 1000:.0f} KB on average, {len(payloads)} different photos",
        "sequential": {"requests": args.requests, "errors": args.requests - len(seq_ok), **percentiles(seq_ok or [0])},
        "concurrent": {
            "requests": args.concurrent_requests,
            "clients": args.concurrency,
            "errors": args.concurrent_requests - len(con_ok),
            **percentiles(con_ok or [0]),
            "throughput_per_s": round(len(con_ok) / wall, 2),
        },
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print()
    print("| phase | requests | errors | p50 | p95 | p99 | throughput |")
    print("|---|---|---|---|---|---|---|")
    s, c = figures["sequential"], figures["concurrent"]
    print(f"| one at a time | {s['requests']} | {s['errors']} | {s['p50_ms']:.0f} ms | {s['p95_ms']:.0f} ms | {s['p99_ms']:.0f} ms | |")
    print(
        f"| {c['clients']} clients at once | {c['requests']} | {c['errors']} | {c['p50_ms']:.0f} ms | {c['p95_ms']:.0f} ms |"
        f" {c['p99_ms']:.0f} ms | {c['throughput_per_s']:.1f} uploads/s |"
    )
    if figures["sequential"]["errors"] or figures["concurrent"]["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
