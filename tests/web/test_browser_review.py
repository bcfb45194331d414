"""Reviewing a shoot in headless Chromium: filters and sort, a black single frame flagged (not "pick"),
full reasons on demand, the loupe at 100% and the side-by-side compare of two frames, all from the
keyboard, with a focus outline one can see. PHOTOCRITIC_SCREENSHOTS=DIR saves the docs' screenshots."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import BURST_SOURCE, make_burst, playwright_expect

expect = playwright_expect()
SHOTS = os.environ.get("PHOTOCRITIC_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), type="jpeg", quality=85)  # photos: JPEG keeps the docs small


@pytest.fixture(scope="module")
def library(shared_data, tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("review")
    make_burst(shared_data / "photos" / BURST_SOURCE, root / "shoot")
    for name in ("Apple iPhone 4.jpg", "Canon EOS 350D.jpg"):
        shutil.copy(shared_data / "photos" / name, root / name)
    Image.new("RGB", (1200, 800), (2, 2, 2)).save(root / "lens-cap.jpg", quality=90)  # the frame no one keeps
    return root


@pytest.fixture(scope="module")
def server(start_server, library):
    return start_server(str(library))


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server.url + "/library")
    expect(page.locator("section.group", has_text="Burst of 4")).to_have_count(1, timeout=180_000)
    yield page
    assert not page.errors, page.errors
    context.close()


def test_black_single_is_flagged_not_pick_and_the_filter_finds_it(page):
    black = page.locator(".photo", has_text="lens-cap.jpg")
    expect(black).to_have_count(1)
    assert "flagged" in black.get_attribute("class") and " pick" not in f" {black.get_attribute('class')}"
    assert "almost entirely black" in black.locator(".why").inner_text()  # its flag, not "underexposed by 19 stops"
    healthy = page.locator(".photo", has_text="Canon EOS 350D.jpg")
    assert "flagged" not in healthy.get_attribute("class")
    page.select_option("#filter", "flagged")
    expect(page.locator(".photo")).to_have_count(1)
    expect(page.locator(".photo .name")).to_have_text("lens-cap.jpg")
    expect(page.locator("#shown")).to_contain_text("showing 1 of")


def test_filters_and_sort(page):
    total = page.locator(".photo").count()
    page.select_option("#filter", "rejects")
    rejects = page.locator(".photo")
    assert 0 < rejects.count() < total
    assert all("rejected" in rejects.nth(i).get_attribute("class") for i in range(rejects.count()))
    page.select_option("#filter", "picks")
    picks = page.locator(".photo")
    assert all("rejected" not in picks.nth(i).get_attribute("class") for i in range(picks.count()))
    assert "lens-cap.jpg" not in page.locator("#groups").inner_text()
    page.select_option("#filter", "undecided")
    expect(page.locator(".photo")).to_have_count(total)  # nothing decided yet
    page.select_option("#filter", "all")
    page.select_option("#sort", "score")
    best = [max(float(s) for s in g.locator(".meta .s").all_inner_texts() if s != "—")
            for g in page.locator("section.group").all()]
    assert best == sorted(best, reverse=True)
    page.select_option("#sort", "size")
    expect(page.locator("section.group").first).to_contain_text("Burst of 4")


def test_full_reasons_on_demand(page):
    blurred = page.locator(".photo", has_text="burst_03.jpg")
    blurred.click()
    page.keyboard.press("r")
    full = page.locator(".photo.expanded .all-reasons li")
    expect(full.first).to_be_visible()
    texts = full.all_inner_texts()
    assert any("blurred" in t for t in texts) and all("…" not in t and "..." not in t for t in texts)
    assert page.locator(".photo.expanded").get_attribute("aria-expanded") == "true"
    shot(page, "web-review-reasons.jpg")
    page.keyboard.press("r")
    expect(page.locator(".photo.expanded")).to_have_count(0)


def test_focus_outline_is_visible(page):
    page.locator(".photo", has_text="burst_01.jpg").click()
    page.keyboard.press("ArrowRight")
    focused = page.locator(".photo.focused")
    expect(focused).to_have_count(1)
    style = focused.evaluate("n => { const s = getComputedStyle(n); return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }")
    assert style[0] == "solid" and style[1] >= 3 and style[2] in ("rgb(255, 255, 255)",)


def test_loupe_shows_a_100_percent_crop_of_the_face(page, library):
    page.locator(".photo", has_text="burst_01.jpg").click()  # a portrait: the model's face is found
    page.keyboard.press("z")
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    image = viewer.locator(".pane img")
    expect(viewer.locator(".focus-kind")).to_have_text("100% · face", timeout=60_000)
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    from PIL import Image

    with Image.open(library / "shoot" / "burst_01.jpg") as source:
        width, height = source.size
    assert natural == [min(720, width), min(540, height)]  # cut at full resolution, not a scaled thumbnail
    shot(page, "web-review-loupe.jpg")
    page.keyboard.press("ArrowRight")  # the loupe leafs through the shoot
    expect(viewer.locator("#viewer-title")).not_to_contain_text("burst_01.jpg")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_loupe_of_a_photo_without_faces_goes_to_its_sharpest_region(page, server, library):
    import io

    import numpy as np
    from PIL import Image

    groups = page.request.get(server.url + "/api/library/groups").json()["groups"]
    member = next(m for g in groups for m in g["members"] if m["name"] == "Canon EOS 350D.jpg")  # go-karts, no face
    answer = page.request.get(server.url + f"/api/library/photos/{member['id']}/loupe")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-loupe-focus"] == "sharpest region"
    crop = np.asarray(Image.open(io.BytesIO(answer.body())).convert("L"), dtype=float)
    x, y = map(int, answer.headers["x-loupe-origin"].split(","))
    with Image.open(library / "Canon EOS 350D.jpg") as source:
        full = np.asarray(source.convert("L"), dtype=float)
    corner = full[:crop.shape[0], :crop.shape[1]]
    detail = lambda a: np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
    assert detail(full[y:y + crop.shape[0], x:x + crop.shape[1]]) >= detail(corner)  # more fine detail than a corner


def test_compare_two_frames_of_a_burst_side_by_side(page):
    page.locator(".photo", has_text="burst_01.jpg").click()
    page.keyboard.press("c")
    panes = page.locator("#viewer .pane")
    expect(panes).to_have_count(2)
    first = [panes.nth(i).get_attribute("data-id") for i in range(2)]
    assert first[0] != first[1]
    for i in range(2):
        expect(panes.nth(i).locator(".focus-kind")).to_have_text(re.compile(r"100% · (face|sharpest region)$"), timeout=60_000)
    shot(page, "web-review-compare.jpg")
    page.keyboard.press("ArrowRight")  # another frame on the right
    second = panes.nth(1).get_attribute("data-id")
    assert second not in first
    page.keyboard.press("z")  # whole frames
    expect(panes.nth(0).locator(".focus-kind")).to_have_text("whole frame")
    page.keyboard.press("s")  # the right-hand frame takes the focus
    assert page.locator(".photo.focused").get_attribute("data-id") == second
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()
    page.locator(".photo", has_text="lens-cap.jpg").click()
    page.keyboard.press("c")  # a single has nothing to compare with: said, not shown empty
    expect(page.locator("#viewer")).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("no look-alike")
