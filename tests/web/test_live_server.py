"""`photocritic serve` for real: uvicorn on 127.0.0.1 and a free port, driven over HTTP."""
from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def server(start_server):
    return start_server()


def _one_megapixel_jpeg(source) -> bytes:
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((1224, 1224))  # ~1 MP, as the page sends after its own resize
        out = io.BytesIO()
        image.save(out, "JPEG", quality=88)
        return out.getvalue()


def test_twenty_concurrent_uploads_are_all_served(server, shared_data):
    photos = sorted((shared_data / "photos").glob("*.jpg"))[:20]
    payloads = [(p.name, _one_megapixel_jpeg(p)) for p in photos]
    token = httpx.get(f"{server.url}/api/session").json()["csrf_token"]

    def upload(item):
        name, data = item
        with httpx.Client(timeout=120) as http:
            return http.post(
                f"{server.url}/api/score", files={"files": (name, data, "image/jpeg")}, headers={"X-CSRF-Token": token}
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(upload, payloads))
    assert [r.status_code for r in responses] == [200] * 20, [r.text[:200] for r in responses if r.status_code != 200]
    names = [r.json()["results"][0]["name"] for r in responses]
    assert names == [name for name, _ in payloads]  # each answer is for its own photo
    assert all(r.json()["results"][0]["score"] for r in responses)
    assert "Traceback" not in "".join(server.log)


def test_the_server_names_itself_and_refuses_cross_site_posts(server, shared_data):
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "csrf-token" in page.text
    data = (shared_data / "photos" / "Canon EOS 7D.jpg").read_bytes()
    forged = httpx.post(
        f"{server.url}/api/score", files={"files": ("a.jpg", data)}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
