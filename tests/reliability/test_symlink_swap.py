"""A library photo flipped between itself and a symlink to a file outside the library while a real
server serves its loupe crops and thumbnails: nothing of the outside file is ever served."""
from __future__ import annotations

import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.reliability.conftest import SRC, ready_library

CROPS = 400


def tinted(source: Path, target: Path, red: bool) -> None:
    """The real photo, tinted blue (inside the library) or red (outside), so any crop says which it is."""
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((900, 900))
    pixels = np.asarray(image).astype(np.float32)
    weights = np.array([1.0, 0.6, 0.25] if red else [0.25, 0.6, 1.0], np.float32)
    Image.fromarray((pixels * weights).astype(np.uint8)).save(target, "JPEG", quality=92)


def is_red(jpeg: bytes) -> bool:
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).reshape(-1, 3).mean(axis=0)
    return bool(pixels[0] > pixels[2])


def test_a_photo_swapped_for_a_symlink_is_never_served_from_outside(tmp_path, real_jpeg):
    from tests.web.conftest import LiveServer

    library, outside = tmp_path / "library", tmp_path / "outside"
    (library / ".keep").mkdir(parents=True)
    outside.mkdir()
    photo = library / "photo.jpg"
    tinted(real_jpeg, photo, red=False)
    os.link(photo, library / ".keep" / "photo.jpg")  # the same file, to put back (a hidden folder is not listed)
    tinted(real_jpeg, outside / "private.jpg", red=True)
    catalog = tmp_path / "catalog.sqlite"
    env = {**os.environ, "PYTHONPATH": SRC, "PHOTOCRITIC_CATALOG": str(catalog), "PYTHONUNBUFFERED": "1"}
    server = LiveServer([str(library), "--catalog", str(catalog)], env)
    stop = threading.Event()
    flips = 0

    def flip() -> None:  # photo.jpg: the photo, then a link out, then the photo again, ... each an atomic rename
        nonlocal flips
        while not stop.is_set():
            os.symlink(outside / "private.jpg", library / ".link")
            os.replace(library / ".link", photo)
            os.link(library / ".keep" / "photo.jpg", library / ".back")
            os.replace(library / ".back", photo)
            flips += 1

    try:
        http = httpx.Client(base_url=server.url, timeout=60)
        deadline = time.monotonic() + 300
        while (state := http.get("/api/library/status").json()["state"]) != "ready":
            assert state != "error" and time.monotonic() < deadline, state
            time.sleep(0.3)
        (pid,) = [p["id"] for p in http.get("/api/library/photos").json()]

        def get(kind: str, url: str, params: dict) -> tuple[str, int | str, bool]:
            try:
                answer = http.get(url, params=params)
            except httpx.HTTPError as exc:  # counted, so that every crop is accounted for
                return kind, type(exc).__name__, False
            return kind, answer.status_code, answer.status_code == 200 and is_red(answer.content)

        def crop(i: int) -> tuple[tuple, tuple]:
            # a new width each time: no answer comes from the cache of an earlier one
            return (
                get("loupe", f"/api/library/photos/{pid}/loupe", {"width": 64 + i, "height": 64}),
                get("thumbnail", f"/api/library/photos/{pid}/thumbnail", {"size": (160, 320, 640)[i % 3]}),
            )

        flipper = threading.Thread(target=flip, daemon=True)
        flipper.start()
        with ThreadPoolExecutor(4) as pool:
            answers = [a for pair in pool.map(crop, range(CROPS)) for a in pair]
    finally:
        stop.set()
        server.stop()
    loupes = [a for a in answers if a[0] == "loupe"]
    outside_crops = sum(a[2] for a in loupes)
    outside_thumbs = sum(a[2] for a in answers if a[0] == "thumbnail")
    served = sum(a[1] == 200 for a in loupes)
    refused = sum(a[1] in (404, 415) for a in loupes)
    print(f"{flips} flips; loupe: {served} served, {refused} refused, {outside_crops} of the outside file; "
          f"thumbnails of the outside file: {outside_thumbs}")
    assert outside_crops == 0 and outside_thumbs == 0, (outside_crops, outside_thumbs)
    assert served + refused == CROPS, sorted({str(a[1]) for a in answers})
    assert served > 0 and flips > CROPS  # the race was run: crops of the photo itself came back
    assert "Traceback" not in "".join(server.log)


def test_open_inside_refuses_links_folders_and_fifos_on_the_open_file(tmp_path, real_jpeg):
    from photocritic.web.library import OutsideRoot, open_inside

    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "a.jpg").write_bytes(real_jpeg.read_bytes())
    (outside / "a.jpg").write_bytes(b"private")
    os.symlink(root / "sub" / "a.jpg", root / "alias.jpg")  # a link that stays inside is fine
    with open_inside(root, root / "alias.jpg") as stream:
        assert stream.read(2) == b"\xff\xd8"
    os.symlink(outside / "a.jpg", root / "out.jpg")
    os.mkfifo(root / "fifo.jpg")
    with pytest.raises(OutsideRoot):
        open_inside(root, root / "out.jpg")
    from photocritic.imaging import PhotoError

    with pytest.raises(PhotoError):
        open_inside(root, root / "fifo.jpg")  # never blocks
    (root / "sub").rename(root / "was-sub")
    os.symlink(outside, root / "sub")  # a folder swapped for a link out
    with pytest.raises(OutsideRoot):
        open_inside(root, root / "sub" / "a.jpg")


_FLIP = """
import os, sys, time
sidecar, keep, outside, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
end = time.monotonic() + seconds
while time.monotonic() < end:
    os.symlink(outside, sidecar + ".link")
    os.replace(sidecar + ".link", sidecar)
    os.link(keep, sidecar + ".back")
    os.replace(sidecar + ".back", sidecar)
"""


def test_a_sidecar_swapped_for_a_symlink_is_never_read(tmp_path):
    """A sidecar flipped (by another process) between itself and a link to an outside XMP file while
    ratings are merged into it: the outside file's content never lands in the library."""
    import subprocess
    import sys

    from photocritic.culling.xmp import XmpError, merge_rating_status

    library, outside = tmp_path / "library", tmp_path / "outside"
    library.mkdir()
    outside.mkdir()
    secret = outside / "private.xmp"
    secret.write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                      '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:source="SECRET-OUTSIDE"/></rdf:RDF></x:xmpmeta>')
    sidecar = library / "photo.xmp"
    keep = library / ".keep.xmp"
    keep.write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                    '<rdf:Description/></rdf:RDF></x:xmpmeta>')
    os.link(keep, sidecar)
    flipper = subprocess.Popen([sys.executable, "-c", _FLIP, str(sidecar), str(keep), str(secret), "8"])
    leaked = refused = 0
    try:
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            try:
                merge_rating_status(sidecar, 3)
            except (XmpError, OSError):
                refused += 1
            leaked += "SECRET-OUTSIDE" in in_library(sidecar)
    finally:
        flipper.wait(timeout=30)
    print(f"sidecar flips: {refused} merges refused, {leaked} leaks")
    assert leaked == 0
    assert not any("SECRET-OUTSIDE" in in_library(p) for p in library.iterdir())


def in_library(path) -> str:
    """The text of *path* itself, never of a link's target ("" for a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as stream:
        return stream.read().decode("utf-8", "replace")


_FLIP_FOLDER = """
import os, sys, time
root, outside, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
shoot, real, link = os.path.join(root, "shoot"), os.path.join(root, ".real"), os.path.join(root, ".link")


def put(source):  # onto shoot; a folder made there meanwhile (while shoot was away) is set aside
    while True:
        try:
            return os.replace(source, shoot)
        except OSError:  # a folder, made by the writer
            os.rename(shoot, shoot + "-made-meanwhile-" + str(time.monotonic_ns()))


end = time.monotonic() + seconds
while time.monotonic() < end:
    os.rename(shoot, real)
    os.symlink(outside, link)
    put(link)
    time.sleep(0.001)
    os.unlink(shoot)
    put(real)
    time.sleep(0.002)
"""


def test_a_folder_swapped_for_a_symlink_never_gets_a_sidecar_written_into_it(tmp_path, shared_data):
    """The folder of a burst flipped (by another process) between itself and a link to an outside
    folder while a real server writes the group's sidecars: nothing is ever written outside."""
    import subprocess
    import sys

    from tests.web.conftest import BURST_SOURCE, make_burst

    library, outside = tmp_path / "library", tmp_path / "outside"
    make_burst(shared_data / "photos" / BURST_SOURCE, library / "shoot", count=3)
    outside.mkdir()
    with ready_library(library, tmp_path / "catalog.sqlite") as (server, http, token):
        ids = [p["id"] for p in http.get("/api/library/photos").json()]

        def decide(i: int) -> int:
            action = ("pick", "reject", "accept", "reset")[i % 4]
            try:
                return http.post("/api/library/decisions", json={"photo_id": ids[i % len(ids)], "action": action}, headers=token).status_code
            except httpx.HTTPError:
                return -1

        flipper = subprocess.Popen([sys.executable, "-c", _FLIP_FOLDER, str(library), str(outside), "10"])
        try:
            with ThreadPoolExecutor(4) as pool:
                codes = list(pool.map(decide, range(600)))
        finally:
            flipper.wait(timeout=60)
    assert flipper.returncode == 0
    written_outside = sorted(p.name for p in outside.iterdir())
    made = sorted(p.name for p in library.iterdir() if p.name not in ("shoot",))
    print(f"folder flips: {codes.count(200)} decisions written, {codes.count(409)} refused, "
          f"{len(written_outside)} files written outside, {len(made)} folders made meanwhile")
    assert written_outside == []
    assert made == []  # nor is a folder made (and written into) where the user's folder was moved away
    assert set(codes) <= {200, 404, 409} and codes.count(200) > 0, sorted(set(codes))
    assert "Traceback" not in "".join(server.log)
