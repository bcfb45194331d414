"""Installed size of a Python environment, per distribution: what `pip install photocritic` costs.

    python3 -m venv /tmp/core && /tmp/core/bin/pip install .        # the core install, from PyPI
    python benchmarks/installed_size.py --python /tmp/core/bin/python   # a Markdown table, largest first

Each distribution's size is the sum of the files its RECORD lists (as installed, byte-compiled
caches included where pip wrote them). pip and setuptools, which every venv has, are listed but
not counted in the total of what photocritic brings.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

MEASURE = r"""
import json, importlib.metadata as md
sizes = {}
for dist in md.distributions():
    total = 0
    for f in dist.files or []:
        try:
            total += f.locate().stat().st_size
        except OSError:
            pass
    name = dist.metadata["Name"]
    sizes[name] = sizes.get(name, 0) + total
print(json.dumps(sizes))
"""
VENV_TOOLS = {"pip", "setuptools", "wheel"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the environment to measure")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = json.loads(subprocess.run([args.python, "-c", MEASURE], check=True, capture_output=True, text=True).stdout)
    rows = sorted(sizes.items(), key=lambda kv: -kv[1])
    brought = sum(v for k, v in rows if k.lower() not in VENV_TOOLS)
    if args.json:
        print(json.dumps({"distributions": dict(rows), "total_mb": round(brought / 1e6, 1)}))
        return
    print("| distribution | MB |\n|---|---:|")
    for name, size in rows:
        note = " (in every venv, not counted)" if name.lower() in VENV_TOOLS else ""
        print(f"| {name}{note} | {size / 1e6:.1f} |")
    print(f"| **total, {sum(k.lower() not in VENV_TOOLS for k, _ in rows)} distributions** | **{brought / 1e6:.1f}** |")


if __name__ == "__main__":
    main()
