"""`score` and `cull` at an 80-column terminal: progress on stderr from the start and through every step,
a table that fits the terminal, the reasons given room, and a cull's groups first."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

import pytest

from tests.web.conftest import BURST_SOURCE, make_burst

OLD_SINGLES = ["Kodak DC240.jpg", "Sony D700.jpg", "Minolta DiMAGE EX.jpg", "Olympus C960.jpg", "FujiFilm MX-2900Zoom.jpg"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def at_terminal(*args: str, catalog, columns: int = 80) -> tuple[str, str, float]:
    """Run photocritic with stderr on a pseudo-terminal *columns* wide and stdout on a pipe:
    (stdout, stderr without escape codes, seconds to the first byte of output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "PHOTOCRITIC_CATALOG": str(catalog)}
    env.pop("PHOTOCRITIC_DEBUG", None)
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "photocritic", *args], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    err, out, first = b"", b"", None
    while True:
        ready, _, _ = select.select([master, process.stdout], [], [], 0.5)
        if ready and first is None:
            first = time.monotonic() - start
        if process.stdout in ready:
            out += process.stdout.read1(65536)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                data = b""
            if not data:
                break
            err += data
        elif process.poll() is not None and not ready:
            break
    out += process.stdout.read()
    assert process.wait(timeout=60) == 0, err.decode(errors="replace")
    os.close(master)
    return out.decode(), ANSI.sub("", err.decode(errors="replace")), first


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.fixture(scope="module")
def shoot(shared_data, tmp_path_factory):
    """A burst of four frames and five old singles whose long names do not fit a third of 80 columns."""
    root = tmp_path_factory.mktemp("terminal")
    make_burst(shared_data / "photos" / BURST_SOURCE, root / "shoot")
    for name in OLD_SINGLES:
        shutil.copy2(shared_data / "photos" / name, root / "shoot" / f"an old single photo, {name}")
    return root


def test_score_fits_80_columns_and_gives_the_reasons_room(shoot):
    out, err, first = at_terminal("score", str(shoot / "shoot"), "-f", "table", "--explain", catalog=shoot / "c.sqlite")
    assert widest(out) <= 80, out  # no row the terminal would wrap
    header = next(line for line in out.splitlines() if "photo" in line and "why" in line)
    why = header.split("┃")[-2]
    assert len(why) >= 30, header  # the reasons get the room; the long names fold instead
    for name in OLD_SINGLES:
        assert name.split()[0] in out
    assert "loading the model" in err and "scoring" in err  # the bar is up before the model loads
    assert first < 10


def test_cull_shows_progress_for_every_step_and_lists_groups_first(shoot):
    out, err, first = at_terminal("cull", str(shoot / "shoot"), "-f", "table", "--report", str(shoot / "sheet"), catalog=shoot / "c.sqlite")
    assert widest(out) <= 80, out
    for step in ("loading the model", "scoring", "grouping look-alikes", "faces, eyes and grain", "ranking", "contact sheet"):
        assert step in err, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    ranks = [row.split("│")[2].strip() for row in rows]
    firsts = [r for r in ranks if r]
    assert firsts[:4] == ["1", "2", "3", "4"], out  # the burst of four before the singles
    assert "burst_" in rows[0]
