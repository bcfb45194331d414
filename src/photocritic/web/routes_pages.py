"""The two HTML pages. They are thin shells: the JavaScript fills them from the JSON API."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from photocritic.web.security import CSRF_HEADER, PAGE_CSP

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}


def _context(request: Request, page: str) -> dict:
    state = request.app.state.photocritic
    return {
        "page": page,
        "csrf_token": state.csrf_token,
        "csrf_header": CSRF_HEADER,
        "model_name": state.scorer.model.name,
        "library": state.library,
        "limits": state.limits,
    }


def _render(request: Request, template: str, page: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, _context(request, page), headers=page_headers())


@router.get("/", response_class=HTMLResponse)
async def upload_page(request: Request) -> HTMLResponse:
    return _render(request, "upload.html", "upload")


@router.get("/library", response_class=HTMLResponse)
async def library_page(request: Request) -> HTMLResponse:
    return _render(request, "library.html", "library")
