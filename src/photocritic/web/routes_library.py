"""`/api/library/...`: the library's scoring progress, its photos, culling groups and decisions."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Security
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from photocritic.imaging import PhotoError
from photocritic.reasons import photo_notes
from photocritic.web.library import Library, OutsideRoot
from photocritic.web.security import csrf_scheme
from photocritic.writers import printable

router = APIRouter(prefix="/api/library", tags=["library"])

THUMB_SIZES = (160, 320, 640, 1280)


def _library(request: Request) -> Library:
    library = request.app.state.photocritic.library
    if library is None:
        raise HTTPException(404, "no library: start the server with `photocritic serve FOLDER`")
    return library


class Progress(BaseModel):
    state: str = Field(description="idle | listing | scoring | grouping | ready | error")
    done: int
    total: int
    message: str | None = None
    generation: int = Field(description="increments each time the groups are rebuilt")
    root: str


class Reason(BaseModel):
    level: str = Field(description="bad | warn | good")
    text: str


class Photo(BaseModel):
    id: str = Field(description="opaque id: the only way to name a photo in this API")
    name: str
    relative_path: str
    score: float | None = None
    score_std: float | None = None
    quality_score: float | None = Field(None, description="technical quality as people rate it, 1-10 (null if the model gives none)")
    aesthetic_score: float | None = Field(None, description="appeal as AVA's voters rate it, 1-10 (null if the model gives none)")
    distribution: list[float] | None = None
    technical: dict[str, float] | None = None
    reasons: list[Reason] = Field([], description="plain-language notes on the technical measures (a flagged photo: its flags)")
    taken_at: str | None = None
    camera: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None
    flags: list[str] = Field([], description="why the score is not a judgement of a real photo (the record's `flags`)")


def photo_json(photo) -> dict:
    record = photo.record or {}
    return {
        "id": photo.id,
        # a name that is not UTF-8 is shown with \xXX for its odd bytes (JSON must be UTF-8)
        "name": printable(photo.path.name),
        "relative_path": printable(photo.relative),
        "score": record.get("score"),
        "score_std": record.get("score_std"),
        "quality_score": record.get("quality_score"),
        "aesthetic_score": record.get("aesthetic_score"),
        "distribution": record.get("distribution"),
        "technical": record.get("technical"),
        "reasons": photo_notes(record),
        "taken_at": record.get("taken_at"),
        "camera": record.get("camera"),
        "width": record.get("width"),
        "height": record.get("height"),
        "error": printable(record["error"]) if record.get("error") else None,
        "flags": list(record.get("flags") or []),
    }


def _progress(library: Library) -> Progress:
    p = library.progress
    return Progress(
        state=p.state, done=p.done, total=p.total, message=p.message, generation=p.generation, root=str(library.root)
    )


@router.get("/status", response_model=Progress, summary="Scoring progress")
async def status(request: Request) -> Progress:
    """Where the background scoring of the library stands; the page polls it to draw its progress bar."""
    return _progress(_library(request))


@router.post(
    "/scan",
    dependencies=[Security(csrf_scheme)],
    response_model=Progress,
    summary="Rescan and rescore the library",
    status_code=202,
)
async def scan(request: Request) -> Progress:
    """List the folder again and score new or changed photos (unchanged ones come from the catalog)."""
    library = _library(request)
    library.start_scan()
    return _progress(library)


# Handlers that build answers for every photo are plain functions: FastAPI runs them in its
# threadpool, so a large library never holds up the event loop (and the other requests).
@router.get("/photos", response_model=list[Photo], summary="Every photo in the library")
def photos(request: Request) -> list[dict]:
    return [photo_json(p) for p in _library(request).photos()]


@router.get("/photos/{photo_id}", response_model=Photo, summary="One photo")
async def photo(request: Request, photo_id: str) -> dict:
    library = _library(request)
    found = library.photo(photo_id)
    if found is None:
        raise HTTPException(404, "no such photo in this library")
    return photo_json(found)


@router.get(
    "/photos/{photo_id}/thumbnail",
    summary="A JPEG thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such photo"}},
)
async def thumbnail(
    request: Request, photo_id: str, size: int = Query(320, description=f"long side: one of {THUMB_SIZES}")
) -> Response:
    library = _library(request)
    found = library.photo(photo_id)
    if found is None:
        raise HTTPException(404, "no such photo in this library")
    if size not in THUMB_SIZES:
        raise HTTPException(422, f"size must be one of {THUMB_SIZES}")
    try:
        data = await run_in_threadpool(library.thumbnail, found, size)
    except OutsideRoot:
        raise HTTPException(404, "no such photo in this library") from None
    except PhotoError as exc:
        raise HTTPException(415, f"cannot show this photo: {exc}") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/photos/{photo_id}/loupe",
    summary="A 100% crop of the photo: its largest face, else its sharpest region",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such photo"}},
)
async def loupe(
    request: Request, photo_id: str,
    width: int = Query(720, ge=64, le=2048, description="crop width in photo pixels"),
    height: int = Query(540, ge=64, le=2048, description="crop height in photo pixels"),
) -> Response:
    """The crop is cut from the photo at full resolution (one screen pixel is one photo pixel).
    Headers: ``X-Loupe-Focus`` (``face`` or ``sharpest region``), ``X-Loupe-Origin`` (x,y of the crop)."""
    from photocritic.web.loupe import cached_loupe

    library = _library(request)
    found = library.photo(photo_id)
    if found is None:
        raise HTTPException(404, "no such photo in this library")
    try:
        crop = await run_in_threadpool(cached_loupe, library.root, found.path, width, height)
    except OutsideRoot:
        raise HTTPException(404, "no such photo in this library") from None
    except (PhotoError, OSError) as exc:
        raise HTTPException(415, f"cannot show this photo: {exc}") from None
    headers = {"Cache-Control": "private, max-age=300", "X-Loupe-Focus": crop.focus, "X-Loupe-Origin": f"{crop.x},{crop.y}",
               "Access-Control-Expose-Headers": "X-Loupe-Focus, X-Loupe-Origin"}
    return Response(crop.jpeg, media_type="image/jpeg", headers=headers)


class Member(Photo):
    rank: int | None = Field(None, description="1 = the best of its group, as `photocritic cull` ranks it")
    quality: float | None = None
    cull_reasons: list[str] = Field([], description="why it won or lost within its group")
    suggested: bool = Field(description="the pick `photocritic cull` suggests")
    status: Literal["pick", "keep", "reject"] = Field(description="what the sidecar says (or will say)")
    decided: bool = Field(description="the user changed this photo's status")
    flagged: bool = Field(False, description="a photo with no look-alike that no one would keep as it is (e.g. a black frame)")
    flag: str | None = Field(None, description="why it is flagged, in words")
    set: str | None = Field(None, description='"exposure bracket", "panorama" or "focus stack": kept whole, not culled')


class GroupOut(BaseModel):
    id: int
    size: int
    pick: str | None = Field(description="photo id of the group's pick")
    saved: bool = Field(description="the group's decisions have been written to XMP sidecars")
    taken_at: str | None = None
    camera: str | None = None
    members: list[Member]


class GroupsOut(BaseModel):
    generation: int
    photos: int
    failed: int
    groups: list[GroupOut]
    unreadable: list[Photo]


class DecisionIn(BaseModel):
    photo_id: str = Field(description="the photo to act on (an id from this API)")
    action: Literal["pick", "accept", "reject", "reset"] = Field(
        description="pick: make it the group's pick; accept: keep it beside the pick; reject; reset: back to the suggestion"
    )


class DecisionOut(BaseModel):
    group: GroupOut
    written: list[str] = Field(description="sidecars written, relative to the library root")
    kept: list[str] = Field(
        description="sidecars left as they were: a rating set in another tool, on a photo you did not act on"
    )


def single_flag(photo: dict) -> str | None:
    """A single photo has no better frame to lose to, so ranking never rejects it: flag the ones the
    scoring pipeline flagged (too small to judge, a black frame, ...) or whose technical measures are bad
    (badly exposed, nothing sharp, mostly blown out)."""
    bad = [*photo["flags"], *(r["text"] for r in photo["reasons"] if r["level"] == "bad")]
    return "; ".join(dict.fromkeys(bad)) if bad else None


def group_json(library: Library, group) -> dict:
    members = []
    for pid in group.members:
        photo = library.photo(pid)
        cull = group.cull[pid]
        described = photo_json(photo)
        flag = single_flag(described) if len(group.members) == 1 else None
        members.append(
            {
                **described,
                "flagged": flag is not None,
                "flag": flag,
                "rank": cull.get("rank"),
                "quality": cull.get("quality"),
                "cull_reasons": group.reasons(pid),
                "suggested": bool(cull.get("pick")),
                "set": cull.get("set"),
                "status": group.status(pid),
                "decided": pid == group.user_pick or pid in group.decisions,
            }
        )
    records = [library.photo(pid).record or {} for pid in group.members]
    times = sorted(r["taken_at"] for r in records if r.get("taken_at"))
    cameras = [r["camera"] for r in records if r.get("camera")]
    return {
        "id": group.id,
        "size": len(group.members),
        "pick": group.pick(),
        "saved": group.saved,
        "taken_at": times[0] if times else None,
        "camera": cameras[0] if cameras else None,
        "members": members,
    }


def _view(library: Library):
    view = library.culling
    if view is None:
        raise HTTPException(409, f"the library is not ready yet ({library.progress.state}); poll /api/library/status")
    return view


@router.get("/groups", response_model=GroupsOut, summary="Culling groups, picks and decisions")
def groups(request: Request) -> dict:
    """Bursts and near-duplicate sets from the same code as `photocritic cull`, each with its pick,
    ranks and reasons, and the user's decisions. 409 until the first scoring pass is done."""
    library = _library(request)
    view = _view(library)
    return {
        "generation": library.progress.generation,
        "photos": len(library.photos()),
        "failed": len(view.unreadable),
        "groups": [group_json(library, g) for g in view.groups],
        "unreadable": [photo_json(library.photo(pid)) for pid in view.unreadable],
    }


@router.post(
    "/decisions",
    dependencies=[Security(csrf_scheme)],
    response_model=DecisionOut,
    summary="Pick, accept, reject or reset a photo; writes the group's XMP sidecars",
    responses={404: {"description": "no such photo"}, 409: {"description": "not ready, or a sidecar could not be written"}},
)
async def decide(request: Request, decision: DecisionIn) -> dict:
    """Apply a decision and write XMP sidecars (`xmp:Rating`, merged into any existing sidecar) for
    every photo of the photo's group, with the same rules as `photocritic cull --xmp`: the pick (and
    photos you accept beside it) get the pick rating, the others the reject rating. The photo you act
    on is always written; on the others a rating you set in another tool is kept unless the server
    runs with `--overwrite-ratings`."""
    from photocritic.web.culling_view import DecisionError

    library = _library(request)
    view = _view(library)
    if library.photo(decision.photo_id) is None or view.group_of(decision.photo_id) is None:
        raise HTTPException(404, "no such photo in this library")
    try:
        group, written, kept = await run_in_threadpool(view.decide, decision.photo_id, decision.action)
    except DecisionError as exc:
        raise HTTPException(409, str(exc)) from None
    return {
        "group": group_json(library, group),
        "written": [printable(p.relative_to(library.root).as_posix()) for p in written],
        "kept": [printable(p.relative_to(library.root).as_posix()) for p in kept],
    }
