"""Quality and appeal (a record's quality_score and aesthetic_score) on the pages that show a score, in
headless Chromium against the real server. The scores are set by hand on the server's real answers (the
view is what is tested); a photo whose record lacks them, or has them null, shows none and nothing breaks."""
from __future__ import annotations

from .conftest import playwright_expect
from .test_browser_review import library, server  # noqa: F401 (its shoot: a burst of 4 and singles)

expect = playwright_expect()
JUDGED = {"quality_score": 6.84, "aesthetic_score": 5.91}
SHOWN = "quality 6.8/10 · appeal 5.9/10"


def judge(route, edit) -> None:
    """The real server's answer, with *edit* applied to its JSON."""
    response = route.fetch()
    body = response.json()
    edit(body)
    route.fulfill(response=response, json=body)


def test_upload_page_shows_quality_and_appeal_when_the_model_gives_them(server, page, shared_data):
    def edit(body):
        for result in body["results"]:
            if result["name"] == "Apple iPhone 4.jpg":
                result.update(JUDGED)
            else:
                result.pop("quality_score", None)  # a record without the keys at all
                result.pop("aesthetic_score", None)

    page.route("**/api/score", lambda route: judge(route, edit))
    page.goto(server.url + "/")
    page.set_input_files("#picker", [str(shared_data / "photos" / n) for n in ("Apple iPhone 4.jpg", "Canon EOS 350D.jpg")])
    expect(page.locator(".card[data-state=done]")).to_have_count(2, timeout=90_000)
    judged = page.locator(".card", has_text="Apple iPhone 4.jpg")
    expect(judged.locator(".judgement")).to_have_text(SHOWN)
    other = page.locator(".card", has_text="Canon EOS 350D.jpg")
    expect(other.locator(".judgement")).to_be_hidden()
    expect(other.locator(".score-value")).not_to_have_text("…")
    assert page.errors == []


def test_library_cards_and_loupe_show_quality_and_appeal(server, page):
    def edit(body):
        for group in body["groups"]:
            for member in group["members"]:
                if member["name"] == "Apple iPhone 4.jpg":
                    member.update(JUDGED)
                else:
                    member["quality_score"] = member["aesthetic_score"] = None

    page.route("**/api/library/groups", lambda route: judge(route, edit))
    page.goto(server.url + "/library")
    expect(page.locator("section.group", has_text="Burst of 4")).to_have_count(1, timeout=180_000)
    card = page.locator(".photo", has_text="Apple iPhone 4.jpg")
    expect(card.locator(".judgement")).to_have_text(SHOWN)
    expect(page.locator(".photo", has_text="burst_01.jpg").locator(".judgement")).to_have_count(0)
    card.click()
    page.keyboard.press("z")  # the loupe
    pane = page.locator("figure.pane").first
    expect(pane).to_be_visible()
    expect(pane.locator(".judgement")).to_have_text(SHOWN)
    assert page.errors == []
