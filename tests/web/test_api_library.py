"""The library API in process: ids instead of paths, traversal attempts, escaping, decisions and sidecars."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from photocritic.web import create_app
from photocritic.web.library import OutsideRoot, resolve_inside

from .conftest import BURST_SOURCE, make_burst

EVIL = "<img src=x onerror=alert(1)>.jpg"


@pytest.fixture(scope="module")
def outside(tmp_path_factory, shared_data) -> Path:
    """A folder beside the library, with a photo and a secret the API must never reach."""
    folder = tmp_path_factory.mktemp("outside")
    shutil.copy(shared_data / "photos" / "Canon EOS 350D.jpg", folder / "private.jpg")
    (folder / "secret.txt").write_text("top secret")
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_data, outside) -> Path:
    root = tmp_path_factory.mktemp("lib") / "<img src=x onerror=alert(1)>"  # a hostile folder name too
    make_burst(shared_data / "photos" / BURST_SOURCE, root / "shoot")
    shutil.copy(shared_data / "photos" / "Apple iPhone 4.jpg", root / EVIL)
    os.symlink(outside / "private.jpg", root / "link-out.jpg")  # a symlink leaving the root
    os.symlink(outside, root / "linked-folder")
    (root / "notes.jpg").write_text("not a photo")
    Image.open(shared_data / "photos" / "Nikon D3100.jpg").convert("RGB").resize((40, 40)).save(root / "tiny.jpg")
    return root


@pytest.fixture(scope="module")
def client(root, tmp_path_factory):
    app = create_app(root, catalog=tmp_path_factory.mktemp("cat") / "c.sqlite")
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        c.token = {"X-CSRF-Token": c.get("/api/session").json()["csrf_token"]}
        deadline = time.monotonic() + 180
        while c.get("/api/library/status").json()["state"] != "ready":
            assert c.get("/api/library/status").json()["state"] != "error", c.get("/api/library/status").json()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        yield c


def test_resolve_inside(tmp_path):
    (tmp_path / "a").mkdir()
    assert resolve_inside(tmp_path, "a") == (tmp_path / "a").resolve()
    for bad in ("..", "../etc/passwd", "a/../../x", "/etc/passwd", "a/\x00"):
        with pytest.raises(OutsideRoot):
            resolve_inside(tmp_path, bad)
    os.symlink("/etc", tmp_path / "etc-link")
    with pytest.raises(OutsideRoot):
        resolve_inside(tmp_path, "etc-link/passwd")


def test_photos_are_listed_by_id_and_nothing_outside_the_root(client, root):
    photos = client.get("/api/library/photos").json()
    names = sorted(p["relative_path"] for p in photos)
    assert names == sorted([EVIL, "notes.jpg", "tiny.jpg", "shoot/burst_01.jpg", "shoot/burst_02.jpg", "shoot/burst_03.jpg", "shoot/burst_04.jpg"])
    assert all(len(p["id"]) == 16 and "/" not in p["id"] for p in photos)
    assert not any("private" in p["relative_path"] or "link" in p["relative_path"] for p in photos)
    bad = next(p for p in photos if p["name"] == "notes.jpg")
    assert bad["error"] and bad["score"] is None


@pytest.mark.parametrize(
    "attempt",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "link-out.jpg",
        "linked-folder%2Fprivate.jpg",
        "shoot%2Fburst_01.jpg",
        "....//....//etc/passwd",
        "0000000000000000",
    ],
)
def test_path_traversal_reaches_nothing(client, attempt):
    for url in (f"/api/library/photos/{attempt}", f"/api/library/photos/{attempt}/thumbnail"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert b"top secret" not in response.content and b"root:" not in response.content
    response = client.post("/api/library/decisions", json={"photo_id": attempt, "action": "pick"}, headers=client.token)
    assert response.status_code == 404


def test_static_files_do_not_leave_their_folder(client):
    for url in ("/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e/%2e%2e/scoring.py", "/static/../../../../etc/passwd"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"def create_app" not in response.content


def test_thumbnails(client):
    photos = client.get("/api/library/photos").json()
    good = next(p for p in photos if p["name"] == "burst_01.jpg")
    response = client.get(f"/api/library/photos/{good['id']}/thumbnail?size=160")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    assert client.get(f"/api/library/photos/{good['id']}/thumbnail?size=5000").status_code == 422
    bad = next(p for p in photos if p["name"] == "notes.jpg")
    assert client.get(f"/api/library/photos/{bad['id']}/thumbnail").status_code == 415


def test_file_names_are_escaped_in_pages(client):
    for page in ("/library", "/"):  # both pages show the library folder's name
        html = client.get(page).text
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    data = client.get("/api/library/groups").json()
    names = [m["name"] for g in data["groups"] for m in g["members"]]
    assert EVIL in names  # JSON carries the name as it is; the page puts it in textContent
    assert "innerHTML" not in client.get("/static/library.js").text
    assert "innerHTML" not in client.get("/static/upload.js").text


def test_groups_come_from_the_culling_code(client, root):
    from photocritic.culling import cull_records
    from photocritic.library.scan import find_photos
    from photocritic.scoring import Scorer

    data = client.get("/api/library/groups").json()
    burst = next(g for g in data["groups"] if g["size"] == 4)
    assert sorted(m["name"] for m in burst["members"]) == [f"burst_0{i}.jpg" for i in range(1, 5)]
    assert [m["rank"] for m in burst["members"]] == [1, 2, 3, 4]
    assert burst["pick"] == burst["members"][0]["id"] and burst["members"][0]["status"] == "pick"
    assert data["failed"] == 1 and data["unreadable"][0]["name"] == "notes.jpg"
    # a photo too small to judge is flagged with the scoring pipeline's reason, not offered as a pick
    tiny = next(m for g in data["groups"] for m in g["members"] if m["name"] == "tiny.jpg")
    assert tiny["flags"] == ["too small to judge: 40x40 px"], tiny
    assert tiny["flagged"] and "too small" in tiny["flag"], tiny
    assert tiny["status"] == "reject", tiny  # what its sidecar would say: never the pick rating
    # the same picks as `photocritic cull` computes on the same files
    scorer = Scorer(catalog=None, use_catalog=False)
    expected = cull_records(scorer, find_photos([root / "shoot"]))
    assert next(r for r in expected if r["pick"])["path"].endswith(burst["members"][0]["name"])


def test_decisions_need_the_token_and_write_sidecars(client, root):
    data = client.get("/api/library/groups").json()
    burst = next(g for g in data["groups"] if g["size"] == 4)
    second = burst["members"][1]
    body = {"photo_id": second["id"], "action": "pick"}
    assert client.post("/api/library/decisions", json=body).status_code == 403
    assert client.post("/api/library/decisions", json=body, headers={**client.token, "Origin": "http://evil.example"}).status_code == 403
    assert not (root / "shoot" / "burst_01.xmp").exists()
    assert client.post("/api/library/decisions", json={**body, "action": "delete"}, headers=client.token).status_code == 422

    # an existing sidecar with other properties is merged, not replaced
    sidecar = root / "shoot" / second["name"].replace(".jpg", ".xmp")
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmp:Rating="2"><dc:subject><rdf:Bag><rdf:li>rock</rdf:li></rdf:Bag></dc:subject></rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    )
    # and a rating the user set elsewhere, on a photo this decision does not act on, is kept (cull's rule)
    third = burst["members"][2]
    user_rated = root / "shoot" / third["name"].replace(".jpg", ".xmp")
    user_rated.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3"/></rdf:RDF></x:xmpmeta>'
    )
    response = client.post("/api/library/decisions", json=body, headers=client.token)
    assert response.status_code == 200, response.text
    out = response.json()
    sidecars = sorted(out["written"] + out["kept"])
    assert sidecars == [f"shoot/burst_0{i}.xmp" for i in range(1, 5)]
    assert out["kept"] == [f"shoot/{third['name'].replace('.jpg', '.xmp')}"]
    assert out["group"]["pick"] == second["id"]
    statuses = {m["name"]: m["status"] for m in out["group"]["members"]}
    assert statuses[second["name"]] == "pick" and list(statuses.values()).count("reject") == 3
    from photocritic.culling.xmp import read_sidecar

    assert read_sidecar(sidecar)["rating"] == 4  # the photo acted on: the user's decision wins
    assert "<rdf:li>rock</rdf:li>" in sidecar.read_text()
    assert read_sidecar(user_rated)["rating"] == 3
    for member in burst["members"]:
        if member["id"] not in (second["id"], third["id"]):
            assert read_sidecar(root / "shoot" / member["name"].replace(".jpg", ".xmp"))["rating"] == 1

    # reset goes back to the suggestion
    response = client.post("/api/library/decisions", json={"photo_id": second["id"], "action": "reset"}, headers=client.token)
    assert response.json()["group"]["pick"] == burst["members"][0]["id"]
    assert read_sidecar(sidecar)["rating"] == 1
    assert read_sidecar(root / "shoot" / burst["members"][0]["name"].replace(".jpg", ".xmp"))["rating"] == 4


def test_a_sidecar_symlinked_out_of_the_library_is_not_followed(client, root, outside):
    data = client.get("/api/library/groups").json()
    single = next(g for g in data["groups"] if g["members"][0]["name"] == EVIL)
    target = outside / "secret.txt"
    link = root / (Path(EVIL).stem + ".xmp")
    os.symlink(target, link)
    try:
        response = client.post("/api/library/decisions", json={"photo_id": single["pick"], "action": "accept"}, headers=client.token)
        assert response.status_code == 409 and "outside" in response.json()["detail"]
        assert target.read_text() == "top secret"
    finally:
        link.unlink()


def test_keep_stores_an_upload_inside_the_library(client, root, shared_data):
    data = (shared_data / "photos" / "Canon EOS 350D.jpg").read_bytes()
    response = client.post(
        "/api/score", files={"files": ("../../escape me.jpg", data)}, data={"keep": "true"}, headers=client.token
    )
    assert response.status_code == 200, response.text
    stored = response.json()["results"][0]["stored_as"]
    assert stored == "uploads/escape me.jpg"
    assert (root / stored).read_bytes() == data
    again = client.post("/api/score", files={"files": ("escape me.jpg", data)}, data={"keep": "true"}, headers=client.token)
    assert again.json()["results"][0]["stored_as"] == "uploads/escape me-1.jpg"  # never overwrites
