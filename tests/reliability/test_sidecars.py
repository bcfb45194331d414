"""Sidecars under hostile conditions, each built for real and read back with exiftool."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from photocritic.culling.xmp import merge_rating, read_sidecar, sidecar_path, write_rating, write_rating_status
from tests.reliability.conftest import EXIFTOOL, cli

needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed (apt-get install libimage-exiftool-perl)")


def exif_rating(path) -> object:
    read = subprocess.run([EXIFTOOL, "-j", "-XMP:Rating", "-XMP:RatingPercent", os.fspath(path)], capture_output=True, check=True)
    return json.loads(read.stdout)[0]


@pytest.fixture
def photo(tmp_path, real_jpeg):
    path = tmp_path / "IMG_1.JPG"
    shutil.copy(real_jpeg, path)
    return path


@needs_exiftool
def test_photos_sharing_a_stem_get_one_sidecar_each(photo, real_jpeg):
    raw = photo.with_suffix(".CR2")
    shutil.copy(real_jpeg, raw)
    alone = photo.with_name("alone.jpg")
    shutil.copy(real_jpeg, alone)
    first = write_rating(photo, 5)
    second = write_rating(raw, 1)
    assert first != second and {first.name, second.name} == {"IMG_1.JPG.xmp", "IMG_1.CR2.xmp"}
    assert exif_rating(first)["Rating"] == 5 and exif_rating(second)["Rating"] == 1
    assert sidecar_path(alone).name == "alone.xmp"  # a photo alone with its stem keeps the short form


def test_cull_counts_writes_truthfully_and_does_not_rewrite_unchanged(tmp_path, real_jpeg, cli_env):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    for name in ("IMG_1.JPG", "IMG_1.PNG", "other.jpg"):
        shutil.copy(real_jpeg, shoot / name)  # same content: one group of three
    first = cli(["cull", str(shoot), "--xmp", "-f", "jsonl", "-q"], cli_env)
    assert first.returncode == 0, first.stderr
    sidecars = sorted(p.name for p in shoot.glob("*.xmp"))
    assert sidecars == ["IMG_1.JPG.xmp", "IMG_1.PNG.xmp", "other.xmp"]
    ratings = sorted(read_sidecar(shoot / name)["rating"] for name in sidecars)
    assert ratings == [1, 1, 4]
    stamps = {name: os.stat(shoot / name).st_mtime_ns for name in sidecars}
    time.sleep(0.05)
    again = cli(["cull", str(shoot), "--xmp", "-f", "jsonl"], cli_env)
    assert b"0 written, 3 already up to date" in again.stderr, again.stderr
    assert {name: os.stat(shoot / name).st_mtime_ns for name in sidecars} == stamps


def test_a_read_only_sidecar_is_not_overwritten(photo):
    sidecar = sidecar_path(photo)
    sidecar.write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>')
    sidecar.chmod(0o444)
    before = sidecar.read_bytes()
    from photocritic.culling.xmp import XmpError

    with pytest.raises(XmpError, match="read-only"):
        write_rating(photo, 3)
    assert sidecar.read_bytes() == before and (sidecar.stat().st_mode & 0o777) == 0o444


def test_new_sidecars_respect_the_umask(photo):
    old = os.umask(0o027)
    try:
        created = write_rating(photo, 3)
    finally:
        os.umask(old)
    assert created.stat().st_mode & 0o777 == 0o640


@needs_exiftool
def test_a_utf16_sidecar_stays_utf16_and_truthful(photo):
    sidecar = sidecar_path(photo)
    text = ('<?xml version="1.0" encoding="UTF-16"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="2">'
            "<dc:subject><rdf:Bag><rdf:li>café</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>\n")
    sidecar.write_bytes(text.encode("utf-16"))
    merge_rating(sidecar, 5)
    data = sidecar.read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    decoded = data.decode("utf-16")
    assert 'encoding="UTF-16"' in decoded and "café" in decoded
    assert exif_rating(sidecar)["Rating"] == 5


def test_stale_temporaries_are_removed_and_long_names_get_sidecars(tmp_path, real_jpeg):
    long_photo = tmp_path / ("a" * 240 + ".jpg")  # 244 bytes: the old temp name passed 255
    shutil.copy(real_jpeg, long_photo)
    stale = [tmp_path / ".other.xmp.k2j3h4.tmp", tmp_path / ".pc-0123456789-deadbeef.xmp.tmp"]
    for path in stale:
        path.write_text("half a sidecar")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    keep = tmp_path / "notes.tmp"
    keep.write_text("not ours")
    written = write_rating(long_photo, 4)
    assert written.name == "a" * 240 + ".xmp" and read_sidecar(written)["rating"] == 4
    assert not any(p.exists() for p in stale) and keep.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") and p != keep]


@needs_exiftool
def test_a_rating_embedded_by_lightroom_is_the_users(photo):
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-xmp:Rating=5", str(photo)], check=True)
    status, sidecar = write_rating_status(photo, 1, overwrite=False)
    assert status == "kept" and not sidecar.exists()
    assert write_rating_status(photo, 1, overwrite=True)[0] == "written"


DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmp:Rating="{rating}"
    darktable:xmp_version="5"
    darktable:auto_presets_applied="1"/>
 </rdf:RDF>
</x:xmpmeta>
"""


@needs_exiftool
def test_darktables_default_rating_is_not_the_users(photo):
    sidecar = photo.with_name(photo.name + ".xmp")
    sidecar.write_text(DARKTABLE.format(rating=1))
    assert write_rating_status(photo, 4, style="append", overwrite=False)[0] == "written"
    assert exif_rating(sidecar)["Rating"] == 4 and "darktable:xmp_version" in sidecar.read_text()
    sidecar.write_text(DARKTABLE.format(rating=3))  # a rating the user chose in darktable
    assert write_rating_status(photo, 4, style="append", overwrite=False)[0] == "kept"


@needs_exiftool
def test_digikams_microsoft_rating_is_kept_in_step(photo):
    sidecar = sidecar_path(photo)
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"'
        ' xmp:Rating="0" MicrosoftPhoto:Rating="0"/></rdf:RDF></x:xmpmeta>'
    )
    write_rating(photo, 4)
    read = exif_rating(sidecar)
    assert read["Rating"] == 4 and read["RatingPercent"] == 75
    assert 'MicrosoftPhoto:Rating="75"' in sidecar.read_text()


def test_reading_ratings_never_opens_a_fifo(tmp_path):
    """taste's labels read ratings of every entry; a FIFO named like a photo must not block them."""
    from photocritic.culling.xmp import read_rating

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert read_rating(fifo) is None
    assert time.monotonic() - started < 10


def test_a_sidecar_that_is_a_link_is_neither_followed_nor_replaced(photo, tmp_path):
    from photocritic.culling.xmp import XmpError

    outside = tmp_path / "elsewhere.xmp"
    outside.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    sidecar_path(photo).symlink_to(outside)
    with pytest.raises(XmpError, match="link"):
        write_rating(photo, 2)
    assert sidecar_path(photo).is_symlink() and outside.read_text() == "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"
