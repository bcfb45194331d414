from __future__ import annotations

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


def cli(args: list, env: dict, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (as a user runs it), byte-exact arguments and output."""
    full_env = {**os.environ, "PYTHONPATH": SRC, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **env}
    return subprocess.run([sys.executable, "-m", "photocritic", *args], env=full_env, capture_output=True, timeout=timeout, **kwargs)


@pytest.fixture
def cli_env(tmp_path):
    return {"PHOTOCRITIC_CATALOG": str(tmp_path / "catalog.sqlite"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.fixture(scope="session")
def real_jpeg(shared_data) -> Path:
    return shared_data / "photos" / "Canon EOS 350D.jpg"
