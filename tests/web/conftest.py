"""Fixtures for the web app: in-process clients, a real server in a subprocess, headless Chromium, a burst."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BURST_SOURCE = "Canon EOS 7D.jpg"  # a sharp, well exposed real photo with EXIF


def _ci() -> bool:
    return os.environ.get("CI") == "true"


def playwright_expect():
    """Playwright's ``expect``. Without playwright the calling test module is skipped, except under
    CI=true, where a missing test dependency is a failure."""
    try:
        from playwright.sync_api import expect
    except ImportError:  # pragma: no cover
        if _ci():
            raise
        pytest.skip("playwright is not installed", allow_module_level=True)
    return expect


def chromium_path() -> str | None:
    explicit = os.environ.get("PHOTOCRITIC_CHROMIUM")
    if explicit:
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


class LiveServer:
    """`photocritic serve` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "photocritic", "serve", *args, "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url = None
        self.log: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.log.append(line)
            match = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
            if match:
                self.url = match.group(1)
                break
        if self.url is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        # keep draining stderr so the server never blocks on a full pipe
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    servers: list[LiveServer] = []

    def start(*args: str, catalog: Path | None = None) -> LiveServer:
        catalog = catalog or tmp_path_factory.mktemp("catalog") / "catalog.sqlite"
        env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog), "PYTHONUNBUFFERED": "1"}
        server = LiveServer([*args, "--catalog", str(catalog)], env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium through Playwright. Skips locally without it; fails under CI=true."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _ci():
            pytest.fail("CI=true but the playwright package is missing")
        pytest.skip("playwright is not installed")
    if not path:
        if _ci():
            pytest.fail("CI=true but no chromium was found (apt-get install chromium)")
        pytest.skip("chromium not found")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser):
    """A fresh page (1400 x 1000) that records script errors in ``page.errors`` and dismisses dialogs into
    ``page.dialogs``; a module with its own ``page`` fixture uses that one instead."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors, page.dialogs = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def make_burst(source: Path, folder: Path, count: int = 4) -> list[Path]:
    """A burst of *count* frames from one real photo: shifted, cropped and one blurred, with EXIF
    capture times 0.3 s apart and the source's camera. Frame 2 is the blurred one."""
    from PIL import Image, ImageFilter

    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        exif = image.getexif()
        base = image.convert("RGB")
    w, h = base.size
    frames = []
    for i in range(count):
        dx, dy = 6 * i, 4 * i
        frame = base.crop((dx, dy, w - 24 + dx, h - 16 + dy))
        if i == 2:
            frame = frame.filter(ImageFilter.GaussianBlur(6))
        exif_frame = Image.Exif()
        for key, value in exif.items():
            if key in (0x010F, 0x0110):  # Make, Model
                exif_frame[key] = value
        exif_frame[0x0112] = 1
        sub = exif_frame.get_ifd(0x8769)
        sub[0x9003] = f"2021:06:05 10:00:{10 + i // 3:02d}"  # DateTimeOriginal
        sub[0x9291] = f"{(i % 3) * 3}00"  # SubSecTimeOriginal: .000 .300 .600
        path = folder / f"burst_{i + 1:02d}.jpg"
        frame.save(path, "JPEG", quality=90, exif=exif_frame)
        frames.append(path)
    return frames
