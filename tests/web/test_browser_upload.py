"""The upload page in headless Chromium against the real server: a real photo in, its score out."""
from __future__ import annotations

import shutil

import pytest

from .conftest import playwright_expect

expect = playwright_expect()


@pytest.fixture(scope="module")
def server(start_server):
    return start_server()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def test_upload_a_real_photo_and_see_its_score(server, page, shared_data):
    page.goto(server.url + "/")
    # 2048 x 1365 landscape pixels with EXIF orientation 6: a portrait photo once turned upright
    photo = shared_data / "photos" / "Canon EOS 1000D.jpg"
    with page.expect_response(lambda r: r.url.endswith("/api/score")) as answer:
        page.set_input_files("#picker", str(photo))
    response = answer.value
    assert response.status == 200
    (result,) = response.json()["results"]
    # what the server received: shrunk in the browser to 1600 px on the long side, upright, EXIF gone
    assert (result["width"], result["height"]) == (1067, 1600) or (result["width"], result["height"]) == (1066, 1600)
    assert result["camera"] is None
    card = page.locator(".card[data-state=done]")
    card.wait_for(timeout=60_000)
    score = float(card.locator(".score-value").inner_text())
    assert 1 <= score <= 10 and score == pytest.approx(result["score"], abs=0.01)
    assert card.locator(".card-name").inner_text() == photo.name
    assert card.locator(".chart .bar").count() == 10
    assert card.locator(".reasons li").count() >= 1
    assert page.errors == []


def test_several_photos_and_a_broken_one(server, page, shared_data, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo at all")
    files = [shared_data / "photos" / "Apple iPhone 4.jpg", shared_data / "photos" / "Canon EOS 350D.jpg", broken]
    page.goto(server.url + "/")
    page.set_input_files("#picker", [str(f) for f in files])
    expect(page.locator(".card")).to_have_count(3)
    expect(page.locator(".card[data-state=pending]")).to_have_count(0, timeout=90_000)
    assert page.locator(".card[data-state=done]").count() == 2
    error = page.locator(".card[data-state=error] .card-error").inner_text()
    assert "not a recognised image" in error


def test_a_hostile_file_name_is_shown_as_text(server, page, shared_data, tmp_path):
    evil = tmp_path / "<img src=x onerror=alert(1)>.jpg"
    shutil.copy(shared_data / "photos" / "Canon EOS 350D.jpg", evil)
    page.goto(server.url + "/")
    page.set_input_files("#picker", str(evil))
    page.locator(".card[data-state=done]").wait_for(timeout=60_000)
    assert page.locator(".card-name").inner_text() == evil.name
    assert page.locator(".card-body img").count() == 0  # no element was made from the name
    assert page.dialogs == [] and page.errors == []
