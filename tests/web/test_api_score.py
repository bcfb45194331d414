"""The upload API and the guards in front of it, in process (FastAPI's TestClient), real photos."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from photocritic.web import create_app  # noqa: E402

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def client():
    app = create_app(max_files=4, max_file_mb=2)
    with TestClient(app, base_url=BASE) as c:
        c.token = c.get("/api/session").json()["csrf_token"]
        c.headers_ok = {"X-CSRF-Token": c.token}
        yield c


@pytest.fixture(scope="module")
def photo_bytes(shared_data) -> bytes:
    return (shared_data / "photos" / "Canon EOS 7D.jpg").read_bytes()


def test_pages_and_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="drop"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/upload.js").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/score" in spec["paths"] and "/api/library/status" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in docs.text  # no CDN
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_scores_a_real_photo(client, photo_bytes):
    response = client.post(
        "/api/score", files={"files": ("7D.jpg", photo_bytes, "image/jpeg")}, headers=client.headers_ok
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["error"] is None and result["name"] == "7D.jpg"
    distribution = np.array(result["distribution"])
    assert distribution.shape == (10,) and abs(distribution.sum() - 1) < 1e-4
    assert abs(result["score"] - float(distribution @ np.arange(1, 11))) < 1e-3
    assert 1 <= result["score"] <= 10
    assert {"sharpness", "exposure_ev", "noise"} <= result["technical"].keys()
    assert result["reasons"] and all(r["level"] in ("good", "warn", "bad") for r in result["reasons"])
    assert result["camera"] == "Canon EOS 7D" and result["stored_as"] is None


def test_the_same_pixels_score_the_same_as_the_cli_pipeline(client, photo_bytes, shared_data, tmp_path):
    from photocritic.scoring import score

    (reference,) = score([shared_data / "photos" / "Canon EOS 7D.jpg"], use_catalog=False)
    response = client.post("/api/score", files={"files": ("x.jpg", photo_bytes)}, headers=client.headers_ok)
    assert response.json()["results"][0]["score"] == pytest.approx(reference["score"], abs=1e-3)


def test_several_files_and_a_bad_one_among_them(client, photo_bytes):
    files = [
        ("files", ("good.jpg", photo_bytes, "image/jpeg")),
        ("files", ("fake.jpg", b"this is text, not a JPEG", "image/jpeg")),
    ]
    response = client.post("/api/score", files=files, headers=client.headers_ok)
    assert response.status_code == 200
    good, bad = response.json()["results"]
    assert good["score"] is not None and bad["score"] is None
    assert "not a recognised image" in bad["error"]


def test_content_is_checked_by_decoding_not_by_name(client, photo_bytes):
    # text named .jpg: refused with a message
    response = client.post("/api/score", files={"files": ("photo.jpg", b"GIF89a not really", "image/jpeg")}, headers=client.headers_ok)
    assert response.status_code == 415
    assert "photo.jpg" in response.json()["detail"]
    # a truncated JPEG: refused, the server stays up
    response = client.post("/api/score", files={"files": ("cut.jpg", photo_bytes[:300], "image/jpeg")}, headers=client.headers_ok)
    assert response.status_code == 415
    # a real PNG named .txt is a photo: the name does not matter
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (120, 160, 90)).save(buffer, "PNG")
    response = client.post("/api/score", files={"files": ("notes.txt", buffer.getvalue(), "text/plain")}, headers=client.headers_ok)
    assert response.status_code == 200 and response.json()["results"][0]["format"] == "PNG"


def test_empty_and_missing_files_are_400_or_422(client):
    assert client.post("/api/score", files={"files": ("e.jpg", b"")}, headers=client.headers_ok).status_code == 400
    assert client.post("/api/score", data={"keep": "false"}, headers=client.headers_ok).status_code == 422


def test_too_many_files_is_413(client, photo_bytes):
    files = [("files", (f"{i}.jpg", photo_bytes[:1000], "image/jpeg")) for i in range(5)]  # limit is 4
    response = client.post("/api/score", files=files, headers=client.headers_ok)
    assert response.status_code == 413 and "at most 4" in response.json()["detail"]


def test_too_large_file_and_body_are_413(client):
    big = b"\xff\xd8" + b"0" * 2_100_000  # over the 2 MB per-file limit
    response = client.post("/api/score", files={"files": ("big.jpg", big)}, headers=client.headers_ok)
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    huge = b"0" * 9_500_000  # over the whole-request limit (4 files x 2 MB + 1 MB)
    response = client.post("/api/score", files={"files": ("huge.jpg", huge)}, headers=client.headers_ok)
    assert response.status_code == 413


def test_a_chunked_body_over_the_limit_is_413(client):
    def chunks():
        yield b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(100):
            yield b"0" * 100_000  # 10 MB, no Content-Length

    response = client.post(
        "/api/score",
        content=chunks(),
        headers={**client.headers_ok, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413


def test_state_changing_requests_need_the_token(client, photo_bytes):
    files = {"files": ("a.jpg", photo_bytes)}
    assert client.post("/api/score", files=files).status_code == 403
    assert client.post("/api/score", files=files, headers={"X-CSRF-Token": "guess"}).status_code == 403
    # even with the token: another origin, or a request the browser marks cross-site
    evil = {**client.headers_ok, "Origin": "https://evil.example"}
    response = client.post("/api/score", files=files, headers=evil)
    assert response.status_code == 403 and "origin" in response.json()["detail"]
    marked = {**client.headers_ok, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/api/score", files=files, headers=marked).status_code == 403
    same = {**client.headers_ok, "Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/score", files=files, headers=same).status_code == 200


def test_a_cors_preflight_is_never_approved(client):
    response = client.options(
        "/api/score",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-csrf-token"},
    )
    assert "access-control-allow-origin" not in response.headers
    session = client.get("/api/session", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in session.headers


def test_foreign_host_names_are_refused(client):
    # DNS rebinding: evil.example resolved to 127.0.0.1 still sends Host: evil.example
    assert client.get("/", headers={"Host": "evil.example:8000"}).status_code == 400
    assert client.get("/api/session", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200


def test_keep_without_a_library_is_refused(client, photo_bytes):
    response = client.post("/api/score", files={"files": ("a.jpg", photo_bytes)}, data={"keep": "true"}, headers=client.headers_ok)
    assert response.status_code == 400 and "library" in response.json()["detail"]


def test_no_upload_is_left_on_disk(client, photo_bytes):
    scorer = client.app.state.photocritic.scorer
    for _ in range(3):
        client.post("/api/score", files={"files": ("a.jpg", photo_bytes)}, headers=client.headers_ok)
        client.post("/api/score", files={"files": ("b.jpg", b"junk")}, headers=client.headers_ok)
    assert list(scorer._tmpdir.iterdir()) == []


def test_a_decompression_bomb_is_refused_before_decoding(client):
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG")  # 64 MP in a few kB
    assert len(buffer.getvalue()) < 100_000
    response = client.post("/api/score", files={"files": ("bomb.png", buffer.getvalue())}, headers=client.headers_ok)
    assert response.status_code == 415 and "refused" in response.json()["detail"]
