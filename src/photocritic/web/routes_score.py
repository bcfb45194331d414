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
from photocritic.reasons import photo_notes
from photocritic.web.security import csrf_scheme

router = APIRouter(prefix="/api", tags=["score"])


class Reason(BaseModel):
    level: str = Field(description="bad | warn | good")
    text: str


class ScoreResult(BaseModel):
    name: str = Field(description="the uploaded file's name, as sent (display only)")
    score: float | None = Field(None, description="mean rating on the 1-10 scale")
    score_std: float | None = None
    quality_score: float | None = Field(None, description="technical quality as people rate it, 1-10 (null if the model gives none)")
    aesthetic_score: float | None = Field(None, description="appeal as AVA's voters rate it, 1-10 (null if the model gives none)")
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
    name = name or "upload"
    if len(name.encode("utf-8")) <= 255:
        return name
    # too long for a file name: shorten the stem, keep the extension (it may decide the decoder)
    stem, suffix = os.path.splitext(name)
    suffix = suffix[:16]
    budget = 255 - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return (stem + suffix) or "upload"


#: What the decoder found -> the extension a kept upload is stored under (the content decides,
#: never the name sent: a JPEG is never stored as x.xmp or x.html).
_EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "GIF": ".gif",
               "BMP": ".bmp", "DIB": ".bmp", "HEIF": ".heic", "AVIF": ".avif"}


def _stored_extension(name: str, fmt: str | None) -> str:
    from photocritic.imaging.decode import RAW_EXTENSIONS

    if fmt == "RAW":
        suffix = os.path.splitext(name)[1].lower()
        return suffix if suffix in RAW_EXTENSIONS else ".raw"
    return _EXTENSIONS.get((fmt or "").upper(), ".bin")


def _safe_store_name(name: str, fmt: str | None = None) -> str:
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" .") or "upload"
    return f"{stem[:120]}{_stored_extension(name, fmt)}"


def _uploads_folder(root: Path) -> Path:
    """root/uploads, created if need be; OSError unless it is a real folder inside the library."""
    folder = root / "uploads"
    try:
        os.mkdir(folder, 0o777)
    except FileExistsError:
        pass
    if os.path.islink(folder) or not folder.is_dir() or os.path.realpath(folder) != os.path.join(os.path.realpath(root), "uploads"):
        raise OSError(f"{folder.name}/ in the library is not a folder inside it (a link?): uploads are not kept there")
    return folder


def _store(root: Path, name: str, data: bytes, fmt: str | None = None) -> Path:
    """Write *data* under *root*/uploads with a fresh name (never overwrites). The uploads folder
    must be a real folder inside the library: a link there (to anywhere) is refused, and the file
    is created relative to the opened folder with O_NOFOLLOW|O_EXCL, so no link is ever followed."""
    folder = _uploads_folder(root)
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    try:
        stem, suffix = os.path.splitext(_safe_store_name(name, fmt))
        for n in range(10_000):
            candidate = f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}"
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666, dir_fd=dir_fd)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            return folder / candidate
    finally:
        os.close(dir_fd)
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
    if keep:
        try:
            await run_in_threadpool(_uploads_folder, state.library.root)
        except OSError as exc:
            raise HTTPException(409, str(exc)) from None

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
            path = await run_in_threadpool(_store, state.library.root, name, data, record["format"])
            stored = path.relative_to(state.library.root).as_posix()
        return ScoreResult(
            name=name,
            score=record["score"],
            score_std=record["score_std"],
            quality_score=record.get("quality_score"),
            aesthetic_score=record.get("aesthetic_score"),
            distribution=record["distribution"],
            technical=record["technical"],
            reasons=photo_notes(record),
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
