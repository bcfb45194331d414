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


# Each child moves the photos of its own card into the shared rejects folder, all starting in the
# same second (the old journals were named by the second, and written over one another).
_MOVE_AT = """
import sys, time
from photocritic.culling.moves import move_rejects
start, card, rejects = float(sys.argv[1]), sys.argv[2], sys.argv[3]
photos = sorted(p for p in __import__("os").listdir(card) if p.endswith(".jpg"))
while time.time() < start:
    time.sleep(0.001)
result = move_rejects([f"{card}/{p}" for p in photos], rejects)
print(result.journal)
"""


@pytest.mark.parametrize("runs", [2, 10])
def test_parallel_runs_into_one_folder_each_keep_an_undo_for_every_move(tmp_path, runs):
    import math
    import subprocess
    import sys
    import time

    from tests.reliability.conftest import SRC

    rejects = tmp_path / "rejects"
    cards = []
    for run in range(runs):  # every card names its photos alike: IMG_0001.jpg, ... (and a sidecar)
        card = tmp_path / f"card{run}"
        for n in range(1, 4):
            make(card / f"IMG_{n:04d}.jpg", f"card {run} photo {n}".encode())
        make(card / "IMG_0001.xmp", f"card {run} sidecar".encode())
        cards.append(card)
    before = {p: p.read_bytes() for card in cards for p in card.iterdir()}
    start = math.ceil(time.time()) + 2.05  # just after a whole second: all runs start within it
    env = {**os.environ, "PYTHONPATH": SRC}
    children = [
        subprocess.Popen([sys.executable, "-c", _MOVE_AT, str(start), str(card), str(rejects)], env=env, stdout=subprocess.PIPE, text=True)
        for card in cards
    ]
    journals = [child.communicate(timeout=120)[0].strip() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len(set(journals)) == runs, journals  # one journal each, one undo command each
    assert len(list(rejects.iterdir())) == len(before) + runs  # every photo and sidecar, and the journals
    assert sorted(p.read_bytes() for p in rejects.iterdir() if p.suffix != ".json") == sorted(before.values())
    undone = sum(undo_moves(journal).moved for journal in journals)
    print(f"{runs} parallel runs: {len(set(journals))} journals, {undone} of {len(before)} moves undone")
    assert undone == len(before)
    assert {p: p.read_bytes() for card in cards for p in card.iterdir()} == before
    assert sorted(p.suffix for p in rejects.iterdir()) == [".json"] * runs


def test_two_parallel_culls_print_two_undo_commands_that_each_put_everything_back(tmp_path, cli_env, real_jpeg):
    """Through the CLI: two `cull --move-rejects` runs at once, into one folder, on two cards whose
    photos share names; each prints its own `--undo` command, and each puts back all of its rejects."""
    import shlex
    import shutil
    import subprocess
    import sys

    from PIL import Image

    from tests.reliability.conftest import SRC

    cards = [tmp_path / "card_a", tmp_path / "card_b"]
    for k, card in enumerate(cards):
        card.mkdir()
        shutil.copy(real_jpeg, card / "IMG_0001.jpg")  # the same frame twice: one pick, one reject
        shutil.copy(real_jpeg, card / "IMG_0002.jpg")
        Image.open(real_jpeg).convert("RGB").rotate(180 * k).save(card / "IMG_0003.jpg")
    before = {p: p.read_bytes() for card in cards for p in card.iterdir()}
    rejects = tmp_path / "rejects"
    env = {**os.environ, "PYTHONPATH": SRC, "LANG": "C.UTF-8", **cli_env}
    runs = [
        subprocess.Popen([sys.executable, "-m", "photocritic", "cull", str(card), "--move-rejects", str(rejects), "-f", "jsonl"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for card in cards
    ]
    errors = [run.communicate(timeout=600)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    commands = [line.split("undo with: ", 1)[1] for err in errors for line in err.splitlines() if "undo with: " in line]
    assert len(commands) == 2 and commands[0] != commands[1], errors
    moved = len([p for p in rejects.iterdir() if p.suffix != ".json"])
    assert moved >= 2
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "photocritic", *shlex.split(command)[1:]], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert {p: p.read_bytes() for card in cards for p in card.iterdir()} == before
    assert [p.suffix for p in rejects.iterdir()] == [".json", ".json"]


_KEY_AT = """
import sys, time
from photocritic.culling import moves
start = float(sys.argv[1])
while time.time() < start:
    pass
print(moves._key().hex())
"""


def test_runs_started_at_once_on_a_new_machine_share_one_journal_key(tmp_path):
    """The journal key is made on first use: 12 runs starting in the same millisecond with no key yet
    must all sign with the same one, or every journal but the last writer's cannot be undone."""
    import subprocess
    import sys
    import time

    from tests.reliability.conftest import SRC

    env = {**os.environ, "PYTHONPATH": SRC, "XDG_CONFIG_HOME": str(tmp_path / "fresh-config")}
    for attempt in range(3):  # a fresh config folder each time: the race is at the key's creation
        env["XDG_CONFIG_HOME"] = str(tmp_path / f"fresh-config-{attempt}")
        start = time.time() + 2.0
        children = [subprocess.Popen([sys.executable, "-c", _KEY_AT, str(start)], env=env, stdout=subprocess.PIPE, text=True)
                    for _ in range(12)]
        keys = {child.communicate(timeout=60)[0].strip() for child in children}
        assert all(child.returncode == 0 for child in children)
        assert len(keys) == 1 and len(next(iter(keys))) == 64, keys
        key_file = tmp_path / f"fresh-config-{attempt}" / "photocritic" / "journal.key"
        assert key_file.read_text().strip() in keys and oct(key_file.stat().st_mode & 0o777) == "0o600"
        assert [p.name for p in key_file.parent.iterdir()] == ["journal.key"]  # no temporary file left
