"""The web app: an upload-and-score page, a library culling page, and the JSON API both use.

``create_app()`` builds a FastAPI application; ``photocritic serve`` runs it with uvicorn.
Pages are plain Jinja2 templates with a little vanilla JavaScript from ``static/`` (no build step).
The API lives under ``/api/``, documented at ``/api/docs`` (Swagger UI served from this machine)
and ``/api/openapi.json``.
"""
from __future__ import annotations

import asyncio
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

import photocritic
from photocritic.models.zoo import ScoringModel
from photocritic.web.engine import DEFAULT_UPLOAD_MAX_PIXELS, UploadScorer
from photocritic.web.security import CSRF_HEADER, GuardMiddleware

HERE = Path(__file__).resolve().parent

#: Long side, in pixels, the page shrinks photos to before uploading them.
UPLOAD_LONG_SIDE = 1600


@dataclass(frozen=True)
class Limits:
    max_files: int = 20  # per request
    max_file_bytes: int = 50_000_000  # per file (a full-size original, when the browser cannot resize it)
    max_request_bytes: int = 200_000_000
    upload_long_side: int = UPLOAD_LONG_SIDE


class AppState:
    """Everything the routes share; one per application."""

    def __init__(self, scorer: UploadScorer, limits: Limits, csrf_token: str, library, decode_workers: int):
        self.scorer = scorer
        self.limits = limits
        self.csrf_token = csrf_token
        self.library = library
        self.decode_slots = asyncio.Semaphore(decode_workers)


def create_app(
    library: str | os.PathLike | None = None,
    model: str | os.PathLike | ScoringModel = "default",
    *,
    catalog: str | os.PathLike | None = None,
    allowed_hosts: list[str] | None = ("localhost", "127.0.0.1", "[::1]", "::1"),
    max_files: int = 20,
    max_file_mb: float = 50,
    max_request_mb: float | None = None,
    upload_max_pixels: int = DEFAULT_UPLOAD_MAX_PIXELS,
    csrf_token: str | None = None,
    scan_on_start: bool = True,
    xmp_rules=None,
) -> FastAPI:
    """Build the app.

    library: a folder to cull in the browser (``/library``), or None for the upload page only.
    model: a built-in model name or a model bundle folder (as ``photocritic score --model``).
    catalog: the SQLite catalog for the library's scores (default: ``$PHOTOCRITIC_CATALOG`` or the user's).
    allowed_hosts: Host header names accepted (None: any); the default accepts loopback names only.
    scan_on_start: score the library in the background as soon as the server starts.
    xmp_rules: a :class:`photocritic.web.culling_view.XmpRules` (ratings, sidecar naming, labels).
    """
    from photocritic.web.library import Library  # the culling side; imported here to keep errors local

    max_file_bytes = int(max_file_mb * 1_000_000)
    max_request_bytes = int((max_request_mb or max(max_file_mb * max_files, max_file_mb) + 1) * 1_000_000)
    limits = Limits(max_files, max_file_bytes, max_request_bytes)
    scorer = UploadScorer(model, max_pixels=upload_max_pixels)
    lib = Library(library, model=scorer.model, catalog=catalog, rules=xmp_rules) if library is not None else None
    token = csrf_token or secrets.token_urlsafe(32)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if lib is not None and scan_on_start:
            lib.start_scan()
        try:
            yield
        finally:
            if lib is not None:
                lib.close()
            scorer.close()

    app = FastAPI(
        title="photocritic",
        version=photocritic.__version__,
        summary="Score photos and cull a library from the browser.",
        description=(
            "Every state-changing request (POST) needs the header `X-CSRF-Token` with the token from "
            "`GET /api/session`; requests from other origins are refused."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.photocritic = AppState(scorer, limits, token, lib, decode_workers=max(2, (os.cpu_count() or 1)))

    from photocritic.web import routes_library, routes_pages, routes_score

    app.include_router(routes_score.router)
    app.include_router(routes_library.router)
    app.include_router(routes_pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _mount_docs(app)

    class Session(BaseModel):
        csrf_token: str
        csrf_header: str
        model: str
        library: str | None
        max_files: int
        max_file_bytes: int
        upload_long_side: int

    @app.get("/api/session", response_model=Session, tags=["session"], summary="Token and limits for this server")
    async def session(request: Request) -> Session:
        """The CSRF token to send as `X-CSRF-Token` with every POST, and the upload limits.

        Only pages of this server can read it: other origins get no CORS permission."""
        state = request.app.state.photocritic
        return Session(
            csrf_token=state.csrf_token,
            csrf_header=CSRF_HEADER,
            model=state.scorer.model.name,
            library=str(state.library.root) if state.library else None,
            max_files=state.limits.max_files,
            max_file_bytes=state.limits.max_file_bytes,
            upload_long_side=state.limits.upload_long_side,
        )

    app.add_middleware(
        GuardMiddleware, csrf_token=token, allowed_hosts=allowed_hosts, max_body_bytes=max_request_bytes
    )
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI from the swagger-ui-bundle package: API docs that work offline."""
    try:
        import swagger_ui_bundle

        assets = Path(swagger_ui_bundle.swagger_ui_path)
    except Exception:  # pragma: no cover - the dependency is declared; fall back to the CDN
        assets = None
    if assets is not None:
        app.mount("/api/docs/assets", StaticFiles(directory=str(assets)), name="swagger-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        kwargs = {}
        if assets is not None:
            kwargs = {
                "swagger_js_url": "/api/docs/assets/swagger-ui-bundle.js",
                "swagger_css_url": "/api/docs/assets/swagger-ui.css",
                "swagger_favicon_url": "/api/docs/assets/favicon-32x32.png",
            }
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="photocritic API", **kwargs)


__all__ = ["create_app", "Limits"]
