"""`POST /api/score`: score uploaded photos (nothing is kept unless the caller asks)."""
from __future__ import annotations

import asyncio
import os
import re
import unicodedata
from pathlib import Path

from fastapi import APIRouter, File, Form, HTTPException, Request, Security, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from photocritic.imaging import PhotoError
from photocritic.web.engine import technical_reasons
from photocritic.web.security import csrf_scheme

router = APIRouter(prefix="/api", tags=["score"])


class Reason(BaseModel):
    level: str = Field(description="bad | warn | good")
    text: str


class ScoreResult(BaseModel):
    name: str = Field(description="the uploaded file's name, as sent (display only)")
    score: float | None = Field(None, description="mean rating on the 1-10 scale")
    score_std: float | None = None
    distribution: list[float] | None = Field(None, description="10 probabilities for ratings 1..10")
    technical: dict[str, float] | None = None
    reasons: list[Reason] = []
    width: int | None = Field(None, description="of the image as uploaded (after the page's resize)")
    height: int | None = None
    taken_at: str | None = None
    camera: str | None = None
    format: str | None = None
    model: str | None = None
    error: str | None = Field(None, description="why this file could not be scored, or null")
    stored_as: str | None = Field(None, description="path inside the library when keep=true stored it")


class ScoreResponse(BaseModel):
    results: list[ScoreResult]


def _display_name(name: str | None) -> str:
    name = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # no control characters
    return name[:255] or "upload"


def _safe_store_name(name: str) -> str:
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" .") or "upload"
    suffix = re.sub(r"[^A-Za-z0-9.]+", "", suffix)[:10]
    return f"{stem[:120]}{suffix}"


def _store(folder: Path, name: str, data: bytes) -> Path:
    """Write *data* under *folder* with a fresh name (never overwrites)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(_safe_store_name(name))
    for n in range(10_000):
        candidate = folder / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
        try:
            with open(candidate, "xb") as stream:
                stream.write(data)
            return candidate
        except FileExistsError:
            continue
    raise OSError("no free file name")


@router.post(
    "/score",
    dependencies=[Security(csrf_scheme)],
    response_model=ScoreResponse,
    summary="Score uploaded photos",
    responses={
        400: {"description": "no file sent, or an empty file"},
        403: {"description": "missing X-CSRF-Token header, or a cross-site request"},
        413: {"description": "too many files, a file too large, or the whole request too large"},
        415: {"description": "no uploaded file could be decoded as a photo (the message says why)"},
    },
)
async def score_uploads(
    request: Request,
    files: list[UploadFile] = File(..., description="one or more photos (JPEG, PNG, WebP, TIFF, HEIC, RAW...)"),
    keep: bool = Form(False, description="also store the uploads in the library's uploads/ folder"),
) -> ScoreResponse:
    """Score each uploaded photo: its mean score, its 1-10 distribution, its technical measures and
    plain-language reasons. Files are checked by decoding their content, never by their name.

    Nothing is stored unless `keep=true` and the server has a library folder. If no file can be
    decoded the answer is 415; otherwise 200 with an `error` on each file that could not be.
    """
    state = request.app.state.photocritic
    limits = state.limits
    if not files:
        raise HTTPException(400, "no file sent: use the multipart field 'files'")
    if len(files) > limits.max_files:
        raise HTTPException(413, f"too many files: at most {limits.max_files} per request")
    blobs: list[tuple[str, bytes]] = []
    for upload in files:
        name = _display_name(upload.filename)
        if upload.size is not None and upload.size > limits.max_file_bytes:
            raise HTTPException(413, f"{name}: file too large, the limit is {limits.max_file_bytes / 1e6:.0f} MB")
        data = await upload.read(limits.max_file_bytes + 1)
        await upload.close()
        if len(data) > limits.max_file_bytes:
            raise HTTPException(413, f"{name}: file too large, the limit is {limits.max_file_bytes / 1e6:.0f} MB")
        blobs.append((name, data))
    if keep and state.library is None:
        raise HTTPException(400, "keep=true needs a library folder (start the server with `photocritic serve FOLDER`)")

    async def one(name: str, data: bytes) -> ScoreResult:
        if not data:
            return ScoreResult(name=name, error="empty file")
        try:
            async with state.decode_slots:
                prepared = await run_in_threadpool(state.scorer.prepare, data, name)
        except PhotoError as exc:
            return ScoreResult(name=name, error=str(exc))
        record = await asyncio.wrap_future(state.scorer.submit(prepared))
        stored = None
        if keep:
            path = await run_in_threadpool(_store, state.library.root / "uploads", name, data)
            stored = path.relative_to(state.library.root).as_posix()
        return ScoreResult(
            name=name,
            score=record["score"],
            score_std=record["score_std"],
            distribution=record["distribution"],
            technical=record["technical"],
            reasons=technical_reasons(record["technical"]),
            width=record["width"],
            height=record["height"],
            taken_at=record["taken_at"],
            camera=record["camera"],
            format=record["format"],
            model=record["model"],
            stored_as=stored,
        )

    results = await asyncio.gather(*(one(name, data) for name, data in blobs))
    if all(r.error for r in results):
        detail = "; ".join(f"{r.name}: {r.error}" for r in results)
        status = 400 if all(r.error == "empty file" for r in results) else 415
        raise HTTPException(status, f"not a photo this server can read: {detail}")
    return ScoreResponse(results=list(results))
