"""AVA room fixtures: the real AVA_partial.txt parsed independently, and one report built through the CLI.

The independent parse uses plain Python (str.split, int) and never calls photocritic.ava, so the
module's numbers are checked against a second implementation, not against themselves.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from photocritic.cli.ava import ava_app


@pytest.fixture(scope="session")
def ava_dir(shared_data) -> Path:
    folder = shared_data / "ava"
    if not (folder / "AVA_partial.txt").is_file():
        pytest.fail(f"{folder}/AVA_partial.txt is missing")
    return folder


@pytest.fixture(scope="session")
def plain_rows(ava_dir) -> list[list[int]]:
    """Every row of AVA_partial.txt as 15 ints, read without the module."""
    rows = []
    with open(ava_dir / "AVA_partial.txt") as stream:
        for line in stream:
            if line.strip():
                rows.append([int(token) for token in line.split()])
    return rows


@pytest.fixture(scope="session")
def plain_names(ava_dir) -> tuple[dict[int, str], dict[int, str]]:
    def read(name):
        out = {}
        for line in (ava_dir / name).read_text().splitlines():
            if line.strip():
                number, text = line.strip().split(" ", 1)
                out[int(number)] = text.strip()
        return out

    return read("tags.txt"), read("challenges.txt")


@pytest.fixture(scope="session")
def cli():
    return CliRunner()


@pytest.fixture(scope="session")
def report_dir(ava_dir, cli, tmp_path_factory) -> Path:
    """`photocritic ava report` on the real partial file, with explicit tags and challenges."""
    out = tmp_path_factory.mktemp("ava-report")
    result = cli.invoke(ava_app, ["report", str(ava_dir / "AVA_partial.txt"), "--tags", str(ava_dir / "tags.txt"),
                                  "--challenges", str(ava_dir / "challenges.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out / "report.html")
    return out

