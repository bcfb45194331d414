from __future__ import annotations

import contextlib

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The code under test; PHOTOCRITIC_TEST_SRC runs these tests against another checkout's (e.g. to
#: see them fail on code without the fixes).
SRC = os.environ.get("PHOTOCRITIC_TEST_SRC", str(ROOT / "src"))
EXIFTOOL = shutil.which("exiftool")


# runs its arguments as a child and appends that child's peak RSS to stderr
_MEASURE = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "sys.stderr.write('\\nPEAK_RSS_KB=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
)


def cli(args: list, env: dict, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (as a user runs it), byte-exact arguments and output; stderr
    ends with ``PEAK_RSS_KB=N``, the CLI process's peak resident memory (see :func:`peak_kb`)."""
    full_env = {**os.environ, "PYTHONPATH": SRC, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **env}
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "photocritic", *args]
    return subprocess.run(command, env=full_env, capture_output=True, timeout=timeout, **kwargs)


def peak_kb(done: subprocess.CompletedProcess) -> int:
    return int(done.stderr.rsplit(b"PEAK_RSS_KB=", 1)[1].split()[0])


@pytest.fixture
def cli_env(tmp_path):
    return {"PHOTOCRITIC_CATALOG": str(tmp_path / "catalog.sqlite"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.fixture(scope="session")
def real_jpeg(shared_data) -> Path:
    return shared_data / "photos" / "Canon EOS 350D.jpg"


@contextlib.contextmanager
def ready_library(library: Path, catalog: Path):
    """A real ``photocritic serve`` on *library* (tests.web's LiveServer), once its scan is done: yields
    (server, an httpx client on it, the CSRF header for writes); stops it afterwards."""
    import time

    import httpx

    from tests.web.conftest import LiveServer

    env = {**os.environ, "PYTHONPATH": SRC, "PHOTOCRITIC_CATALOG": str(catalog), "PYTHONUNBUFFERED": "1"}
    server = LiveServer([str(library), "--catalog", str(catalog)], env)
    try:
        http = httpx.Client(base_url=server.url, timeout=60)
        token = {"X-CSRF-Token": http.get("/api/session").json()["csrf_token"]}
        deadline = time.monotonic() + 300
        while (state := http.get("/api/library/status").json()["state"]) != "ready":
            assert state != "error" and time.monotonic() < deadline, state
            time.sleep(0.3)
        yield server, http, token
    finally:
        server.stop()
