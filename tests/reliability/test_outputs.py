"""A failure while writing --output leaves neither the file nor its .partial."""
from __future__ import annotations

from tests.reliability.conftest import cli


def test_no_partial_is_left_when_the_output_cannot_be_put_in_place(tmp_path, real_jpeg, cli_env):
    target = tmp_path / "scores.jsonl"
    target.mkdir()  # a folder (not empty) where the file should go: the final rename fails
    (target / "keep.txt").write_text("mine")
    done = cli(["score", str(real_jpeg), "-f", "jsonl", "-q", "-o", str(target)], cli_env, timeout=300)
    assert done.returncode != 0
    assert not (tmp_path / "scores.jsonl.partial").exists()
    assert (target / "keep.txt").read_text() == "mine"
