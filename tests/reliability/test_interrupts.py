"""A run stopped by Ctrl-C, SIGTERM or SIGHUP, or whose reader goes away (`| head -1`), through the
real CLI: one line, the documented exit code, no traceback, and no FILE or FILE.partial left."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.conftest import SRC


@pytest.fixture(scope="module")
def many(tmp_path_factory, shared_data):
    """Enough photos that a run is still writing when it is stopped."""
    folder = tmp_path_factory.mktemp("many")
    for path in sorted((shared_data / "photos").glob("*.jpg"))[:60]:
        shutil.copy(path, folder / path.name)
    return folder


def start(args: list[str], tmp_path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "PHOTOCRITIC_CATALOG": str(tmp_path / "catalog.sqlite"), "LANG": "C.UTF-8"}
    env.pop("PHOTOCRITIC_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "photocritic", *args], env=env, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize("name, code, line", [
    ("SIGINT", 130, "photocritic: interrupted"),
    ("SIGTERM", 143, "photocritic: stopped by SIGTERM"),
    ("SIGHUP", 129, "photocritic: stopped by SIGHUP"),
])
def test_a_stopped_score_leaves_no_partial_output_and_says_so_in_one_line(name, code, line, many, tmp_path):
    output = tmp_path / "scores.jsonl"
    partial = tmp_path / "scores.jsonl.partial"
    run = start(["score", str(many), "--no-cache", "-f", "jsonl", "-o", str(output)], tmp_path)
    deadline = time.monotonic() + 300
    while not (partial.exists() and partial.stat().st_size > 0):  # stopped while it writes
        assert run.poll() is None and time.monotonic() < deadline, run.stderr.read()
        time.sleep(0.05)
    run.send_signal(getattr(signal, name))
    stderr = run.communicate(timeout=120)[1]
    assert run.returncode == code, (run.returncode, stderr)
    assert stderr.strip().splitlines() == [line], stderr
    assert not output.exists() and not partial.exists()


def test_a_reader_that_leaves_early_is_not_a_failure(many, tmp_path):
    """`photocritic score ... | head -1`: exit 0, nothing on stderr but what the run said before."""
    run = start(["score", str(many), "--no-cache", "-f", "jsonl", "-q"], tmp_path, stdout=subprocess.PIPE)
    first = run.stdout.readline()
    run.stdout.close()  # as head does after its line
    stderr = run.communicate(timeout=300)[1]
    assert first.startswith("{") and run.returncode == 0, (run.returncode, stderr)
    assert stderr == "", stderr
