"""The library page in headless Chromium: a burst made from a real photo, the pick changed with the
keyboard, and the XMP sidecars read back (with our reader and, where installed, exiftool)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import BURST_SOURCE, make_burst, playwright_expect

expect = playwright_expect()


@pytest.fixture(scope="module")
def library(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    make_burst(shared_data / "photos" / BURST_SOURCE, root / "shoot")
    for name in ("Apple iPhone 4.jpg", "Canon EOS 350D.jpg"):
        shutil.copy(shared_data / "photos" / name, root / name)
    # a hostile name in the library itself: shown as text, never as markup
    shutil.copy(shared_data / "photos" / "Canon EOS 20D (2).jpg", root / "<img src=x onerror=alert(1)>.jpg")
    return root


@pytest.fixture(scope="module")
def server(start_server, library):
    return start_server(str(library))


def test_change_the_pick_and_find_the_sidecars(server, page, library):
    page.goto(server.url + "/library")
    burst = page.locator("section.group", has_text="Burst of 4")
    expect(burst).to_have_count(1, timeout=120_000)  # scoring and grouping finished
    cards = burst.locator(".photo")
    expect(cards).to_have_count(4)
    expect(burst.locator(".photo.pick")).to_have_count(1)
    suggested = burst.locator(".photo.pick .name").inner_text()
    assert suggested != "burst_03.jpg"  # the blurred frame is never the suggestion
    assert "blurred" in burst.locator(".photo", has_text="burst_03.jpg").locator(".why").inner_text()
    assert not (library / "shoot" / "burst_01.xmp").exists()  # nothing written before a decision

    # focus the first frame that is not the pick, make it the pick with the keyboard
    names = [cards.nth(i).locator(".name").inner_text() for i in range(4)]
    target = next(i for i, name in enumerate(names) if name not in (suggested, "burst_03.jpg"))
    cards.nth(target).click()
    with page.expect_response(lambda r: r.url.endswith("/api/library/decisions")) as answer:
        page.keyboard.press("p")
    assert answer.value.status == 200
    new_pick = names[target]
    expect(burst.locator(".photo.pick .name")).to_have_text(new_pick)
    expect(page.locator("#toast")).to_contain_text("XMP saved: shoot/burst_")

    # then reject the blurred frame and accept the old suggestion beside the new pick
    burst.locator(".photo", has_text="burst_03.jpg").click()
    with page.expect_response(lambda r: r.url.endswith("/api/library/decisions")):
        page.keyboard.press("x")
    burst.locator(".photo", has_text=suggested).click()
    with page.expect_response(lambda r: r.url.endswith("/api/library/decisions")):
        page.keyboard.press("a")
    expect(burst.locator(".photo.accepted .name")).to_have_text(suggested)

    from photocritic.culling.xmp import read_sidecar

    shoot = library / "shoot"
    ratings = {name: read_sidecar(shoot / name.replace(".jpg", ".xmp"))["rating"] for name in names}
    # cull --xmp's rules and defaults: the pick 4 stars (and a photo accepted beside it), the others 1
    assert ratings[new_pick] == 4
    assert ratings[suggested] == 4
    assert ratings["burst_03.jpg"] == 1
    assert sorted(ratings.values()) == [1, 1, 4, 4]
    text = (shoot / new_pick.replace(".jpg", ".xmp")).read_text(encoding="utf-8")
    assert 'xmp:Rating="4"' in text and "<x:xmpmeta" in text
    # the photos themselves were not touched: no sidecar for photos outside the burst
    assert not (library / "Apple iPhone 4.xmp").exists()
    exiftool = shutil.which("exiftool")
    if exiftool:
        sidecar = shoot / new_pick.replace(".jpg", ".xmp")
        out = subprocess.run([exiftool, "-s3", "-XMP:Rating", str(sidecar)], capture_output=True, text=True)
        assert out.stdout.strip() == "4"
    assert page.errors == []


def test_progress_thumbnails_and_a_hostile_name(server, page, library):
    page.goto(server.url + "/library")
    expect(page.locator("section.group").first).to_be_visible(timeout=120_000)
    evil = "<img src=x onerror=alert(1)>.jpg"
    expect(page.locator(".photo .name", has_text=evil)).to_have_count(1)
    assert page.locator("img[src='x']").count() == 0
    # thumbnails come from the API and decode
    first = page.locator(".photo img").first
    expect(first).to_have_js_property("complete", True)
    assert first.evaluate("img => img.naturalWidth") > 0
    assert page.dialogs == [] and page.errors == []
    html = page.content()
    assert "onerror=alert(1)>" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
