"""Moving rejects: journalled before anything moves, sidecars travel along, one command undoes it."""
from __future__ import annotations

import json

from photocritic.culling.moves import move_rejects, undo_moves


def make(tmp_path, name, content=b"photo"):
    path = tmp_path / "shoot" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_move_then_undo_restores_everything(tmp_path):
    a = make(tmp_path, "IMG_1.JPG", b"one")
    a_side = make(tmp_path, "IMG_1.JPG.xmp", b"<x/>")
    b = make(tmp_path, "IMG_2.JPG", b"two")
    b_side = make(tmp_path, "IMG_2.xmp", b"<y/>")
    rejects = tmp_path / "rejects"
    result = move_rejects([a, b], rejects)
    assert result.moved == 4 and not result.skipped
    assert not a.exists() and not a_side.exists() and not b_side.exists()
    assert (rejects / "IMG_1.JPG").read_bytes() == b"one" and (rejects / "IMG_2.xmp").read_bytes() == b"<y/>"
    journal = json.loads(result.journal.read_text())
    assert {m["status"] for m in journal["moves"]} == {"moved"}
    undone = undo_moves(result.journal)
    assert undone.moved == 4 and not undone.skipped
    assert a.read_bytes() == b"one" and a_side.read_bytes() == b"<x/>" and b.read_bytes() == b"two" and b_side.read_bytes() == b"<y/>"
    assert "undone" in json.loads(result.journal.read_text())


def test_names_already_taken_in_the_reject_folder_are_never_overwritten(tmp_path):
    rejects = tmp_path / "rejects"
    rejects.mkdir()
    (rejects / "IMG_1.JPG").write_bytes(b"older reject")
    photo = make(tmp_path, "IMG_1.JPG", b"new")
    result = move_rejects([photo], rejects)
    assert (rejects / "IMG_1.JPG").read_bytes() == b"older reject"
    assert (rejects / "IMG_1 (1).JPG").read_bytes() == b"new"
    undo_moves(result.journal)
    assert photo.read_bytes() == b"new" and (rejects / "IMG_1.JPG").exists()


def test_undo_refuses_to_overwrite_a_new_file(tmp_path):
    photo = make(tmp_path, "IMG_1.JPG", b"old")
    result = move_rejects([photo], tmp_path / "rejects", journal=tmp_path / "journal.json")
    photo.write_bytes(b"a new photo with the same name")
    undone = undo_moves(tmp_path / "journal.json")
    assert undone.moved == 0 and undone.skipped
    assert photo.read_bytes() == b"a new photo with the same name"
    assert (tmp_path / "rejects" / "IMG_1.JPG").read_bytes() == b"old"


def test_undo_after_an_interrupted_run(tmp_path):
    """The journal lists planned moves first; undo goes by where files are, not by statuses."""
    photo = make(tmp_path, "IMG_1.JPG", b"x")
    result = move_rejects([photo], tmp_path / "rejects")
    data = json.loads(result.journal.read_text())
    for move in data["moves"]:
        move["status"] = "planned"  # as if killed before the final journal write
    result.journal.write_text(json.dumps(data))
    assert undo_moves(result.journal).moved == 1 and photo.exists()
