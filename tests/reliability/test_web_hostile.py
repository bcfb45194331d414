"""The web app against DNS rebinding on 0.0.0.0, a symlinked uploads/ folder, long and lying names."""
from __future__ import annotations

import shutil
import socket

import pytest
from fastapi.testclient import TestClient

from photocritic.web.app import create_app
from photocritic.web.security import default_allowed_hosts


def test_every_interface_still_has_a_host_allow_list():
    hosts = default_allowed_hosts("0.0.0.0")
    assert hosts and "localhost" in hosts and "127.0.0.1" in hosts
    assert socket.gethostname().lower() in hosts
    assert "evil.example" not in hosts and "*" not in hosts


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_jpeg):
    root = tmp_path_factory.mktemp("weblib") / "library"
    root.mkdir()
    shutil.copy(real_jpeg, root / "one.jpg")
    return root


@pytest.fixture(scope="module")
def client(library, tmp_path_factory):
    app = create_app(library, catalog=tmp_path_factory.mktemp("cat") / "c.sqlite", allowed_hosts=default_allowed_hosts("0.0.0.0"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        c.token = {"X-CSRF-Token": c.get("/api/session").json()["csrf_token"]}
        yield c


def test_a_rebinding_host_is_refused_on_every_interface(client):
    assert client.get("/api/session", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/session", headers={"Host": f"{socket.gethostname()}:8000"}).status_code == 200


@pytest.mark.parametrize("host", ["localhost:80@evil.com", "[::1]evil.com", "localhost:8000/evil", "127.0.0.1:", "localhost:80:80",
                                  "localhost:123456", "[::1", "localhost evil.com"])
def test_a_host_header_is_parsed_strictly(client, host):
    """An allowed name (or bracketed IPv6 literal), then at most :PORT in digits, nothing else."""
    assert client.get("/api/session", headers={"Host": host}).status_code == 400, host


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "LOCALHOST:8000", "127.0.0.1:1", "[::1]", "[::1]:8000"])
def test_allowed_hosts_still_pass(client, host):
    assert client.get("/api/session", headers={"Host": host}).status_code == 200, host


def test_long_names_keep_their_extension_and_content_decides_it(client, library, real_jpeg):
    data = real_jpeg.read_bytes()
    long_name = "é" * 200 + ".jpg"  # 404 bytes
    response = client.post("/api/score", files=[("files", (long_name, data)), ("files", ("x.xmp", data))], data={"keep": "true"}, headers=client.token)
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["error"] is None and first["name"].endswith(".jpg") and len(first["name"].encode()) <= 255
    assert first["stored_as"].endswith(".jpg")
    assert second["stored_as"] == "uploads/x.jpg"  # a JPEG is never stored as .xmp
    assert not list((library / "uploads").glob("*.xmp"))


def test_keep_never_follows_a_symlinked_uploads_folder(client, library, real_jpeg, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    uploads = library / "uploads"
    if uploads.exists():
        shutil.rmtree(uploads)
    uploads.symlink_to(outside, target_is_directory=True)
    try:
        response = client.post("/api/score", files={"files": ("p.jpg", real_jpeg.read_bytes())}, data={"keep": "true"}, headers=client.token)
        assert response.status_code == 409 and "not kept" in response.json()["detail"], response.text
        assert list(outside.iterdir()) == []
    finally:
        uploads.unlink()


def test_the_library_scan_finishes_past_fifos_and_names_that_are_not_utf8(tmp_path, real_jpeg):
    import os
    import time

    root = tmp_path / "lib"
    root.mkdir()
    shutil.copy(real_jpeg, root / "ok.jpg")
    shutil.copy(real_jpeg, os.path.join(os.fsencode(root), b"latin1_\xe9\xff.jpg"))
    os.mkfifo(root / "fifo.jpg")
    os.symlink("nowhere.jpg", root / "dangling.jpg")
    app = create_app(root, catalog=tmp_path / "c.sqlite")
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        token = {"X-CSRF-Token": c.get("/api/session").json()["csrf_token"]}
        deadline = time.monotonic() + 240
        while (state := c.get("/api/library/status").json())["state"] not in ("ready", "error"):
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert state["state"] == "ready" and state["total"] == 4, state
        photos = {p["name"]: p for p in c.get("/api/library/photos").json()}
        assert set(photos) == {"ok.jpg", "latin1_\\xe9\\xff.jpg", "fifo.jpg", "dangling.jpg"}
        assert photos["latin1_\\xe9\\xff.jpg"]["error"] is None and "FIFO" in photos["fifo.jpg"]["error"]
        decided = c.post("/api/library/decisions", json={"photo_id": photos["latin1_\\xe9\\xff.jpg"]["id"], "action": "pick"}, headers=token)
        assert decided.status_code == 200, decided.text
        assert os.path.exists(os.path.join(os.fsencode(root), b"latin1_\xe9\xff.xmp"))
