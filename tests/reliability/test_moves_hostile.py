"""--move-rejects and --undo against links, name clashes and forged journals."""
from __future__ import annotations

import json
import os

import pytest

from photocritic.culling.moves import move_rejects, undo_moves


def make(path, content=b"photo"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_links_are_never_followed(tmp_path):
    outside = make(tmp_path / "outside" / "precious.jpg", b"not in the library")
    link = tmp_path / "lib" / "link.jpg"
    link.parent.mkdir()
    link.symlink_to(outside)
    photo = make(tmp_path / "lib" / "real.jpg")
    side_target = make(tmp_path / "outside" / "notes.xmp", b"<x/>")
    (tmp_path / "lib" / "real.xmp").symlink_to(side_target)
    result = move_rejects([link, photo], tmp_path / "lib" / "rejects")
    assert outside.read_bytes() == b"not in the library" and link.is_symlink()
    assert side_target.exists() and (tmp_path / "lib" / "real.xmp").is_symlink()
    assert (tmp_path / "lib" / "rejects" / "real.jpg").exists()
    assert any("link.jpg" in line and "link" in line for line in result.skipped)
    assert any("real.xmp" in line for line in result.skipped)


def test_a_clash_renames_the_sidecar_with_its_photo(tmp_path):
    rejects = tmp_path / "rejects"
    make(rejects / "a_2.jpg", b"older")
    make(rejects / "a_2.xmp", b"older sidecar")
    photo = make(tmp_path / "lib" / "a_2.jpg", b"new")
    make(tmp_path / "lib" / "a_2.xmp", b"new sidecar")
    move_rejects([photo], rejects)
    assert (rejects / "a_2 (1).jpg").read_bytes() == b"new"
    assert (rejects / "a_2 (1).xmp").read_bytes() == b"new sidecar"
    assert (rejects / "a_2.xmp").read_bytes() == b"older sidecar"


def test_a_shared_sidecar_stays_with_the_photo_that_remains(tmp_path):
    jpg = make(tmp_path / "lib" / "IMG_1.JPG")
    raw = make(tmp_path / "lib" / "IMG_1.CR2")
    shared = make(tmp_path / "lib" / "IMG_1.xmp", b"<shared/>")
    move_rejects([jpg], tmp_path / "rejects")
    assert shared.exists() and raw.exists() and not jpg.exists()


def test_a_forged_journal_moves_nothing(tmp_path):
    victim = make(tmp_path / "home" / "thesis.pdf", b"years of work")
    forged = tmp_path / "rejects" / "photocritic-cull-forged.json"
    forged.parent.mkdir()
    forged.write_text(json.dumps({
        "version": 2, "folder": str(victim.parent), "signature": "0" * 64,
        "moves": [{"from": str(tmp_path / "attacker" / "got.pdf"), "to": str(victim), "status": "moved"}],
    }))
    with pytest.raises(ValueError, match="signature"):
        undo_moves(forged)
    # an unsigned old-style journal is refused too
    forged.write_text(json.dumps({"version": 1, "moves": [{"from": str(tmp_path / "x.pdf"), "to": str(victim), "status": "moved"}]}))
    with pytest.raises(ValueError):
        undo_moves(forged)
    assert victim.read_bytes() == b"years of work" and not (tmp_path / "attacker").exists()


def test_an_edited_journal_or_a_swapped_file_moves_nothing(tmp_path):
    photo = make(tmp_path / "lib" / "p.jpg", b"mine")
    result = move_rejects([photo], tmp_path / "rejects")
    data = json.loads(result.journal.read_text())
    victim = make(tmp_path / "elsewhere" / "victim.txt", b"keep")
    edited = json.loads(json.dumps(data))
    edited["moves"][0]["to"] = str(victim)
    result.journal.write_text(json.dumps(edited))
    with pytest.raises(ValueError, match="signature"):
        undo_moves(result.journal)
    result.journal.write_text(json.dumps(data))
    moved = tmp_path / "rejects" / "p.jpg"
    moved.unlink()
    make(moved, b"someone else's file")  # same name, another file
    undone = undo_moves(result.journal)
    assert undone.moved == 0 and not photo.exists() and victim.read_bytes() == b"keep"


def test_the_cli_undo_refuses_a_forged_journal(tmp_path, cli_env):
    from tests.reliability.conftest import cli

    victim = make(tmp_path / "home" / "thesis.pdf", b"years of work")
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"version": 2, "folder": str(victim.parent), "signature": "x", "moves": [{"from": str(tmp_path / "gone.pdf"), "to": str(victim)}]}))
    done = cli(["cull", "--undo", str(forged)], cli_env, timeout=120)
    assert done.returncode == 2 and b"signature" in done.stderr and b"Traceback" not in done.stderr
    assert victim.read_bytes() == b"years of work" and not os.path.exists(tmp_path / "gone.pdf")
