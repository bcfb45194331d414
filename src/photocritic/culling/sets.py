"""Sets that are not culled: exposure brackets, panoramas and focus stacks.

Their frames are meant to be merged (HDR, a stitched panorama, a focus-stacked image), so every frame
is kept: culling a bracket's "over- and underexposed" frames destroys the HDR. Each kind is told by
evidence a burst does not have:

* an **exposure bracket**: 3 or more frames one camera shot within :data:`BRACKET_GAP` seconds of each
  other (plus the previous frame's own exposure time), showing one scene (one group of look-alikes, or
  local features that agree), whose EXIF exposure compensation (ExposureBiasValue) steps through
  distinct values, e.g. -2, 0, +2; where the compensation does not change (manual mode), the
  shutter time, f-number and ISO must give distinct exposures a stop or more apart. The frames must
  also look brighter where the settings say so (a burst whose auto exposure followed the light does not);
* a **panorama**: 3 or more frames one camera shot within :data:`PANORAMA_GAP` seconds of each other,
  each sharing 15-75% of the frame with the next (local features agree on a shift of a quarter to
  0.85 of the frame, at the same scale), all in one direction;
* a **focus stack**: 3 or more frames of one group of look-alikes with the same framing (features agree
  on a shift under 3% of the frame, scale within 5%), the same exposure, and a sharp region that moves:
  on a 3x3 grid every frame is at least twice less sharp than the best frame in a third of the textured
  cells, and 3 different frames are the sharpest somewhere (a burst has one frame sharpest nearly
  everywhere; a moving subject changes a cell or two, not a third of the frame).

Two frames are never a set: a pair with two exposures is as often a photographer correcting the
exposure as a bracket, and two overlapping frames as often a re-framing as a panorama.

Only photos with EXIF capture time and camera are looked at for brackets and panoramas (frames in a row
need an order); focus stacks come from the groups of look-alikes. Exposure settings are read from
the photo's header when needed (they are not stored in the catalog).
"""
from __future__ import annotations

import cmath
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photocritic.culling.grouping import parse_time

BRACKET = "exposure bracket"
PANORAMA = "panorama"
FOCUS_STACK = "focus stack"
KINDS = (BRACKET, PANORAMA, FOCUS_STACK)

#: Frames a set needs at least.
MIN_FRAMES = 3
#: Seconds between two frames of a bracket (on top of the earlier frame's exposure time).
BRACKET_GAP = 4.0
#: Seconds between two frames of a panorama (hand-held, the camera is turned between frames).
PANORAMA_GAP = 10.0
#: Compensation values closer than this (EV) are one value (cameras step by 1/3 or 1/2 EV).
BIAS_STEP = 0.3
#: Without a compensation step, shutter/aperture/ISO exposures must differ by this much (EV): auto
#: exposure following the light moves by a third or two between frames, a bracket by a stop or more.
SETTINGS_STEP = 0.9
#: A bracket's brightest-set frame must measure at least this much brighter (EV) than its darkest.
MEASURED_STEP = 0.3
#: Local-feature matches that must agree on the move between two frames.
MIN_MATCHES = 15
#: Shift between neighbouring panorama frames, as a share of the frame along the pan.
PANORAMA_SHIFT = (0.25, 0.85)
#: Shift across the pan allowed (a hand-held row drifts a little).
PANORAMA_DRIFT = 0.2
#: Same framing for a focus stack: shift (share of the frame), scale change (focus breathing), rotation.
STACK_SHIFT, STACK_SCALE, STACK_ROTATION = 0.03, 0.05, 1.5
#: A focus stack's frames agree on exposure within this (EV, measured).
STACK_EXPOSURE = 0.5
#: A cell is soft in a frame this many decades of gradient energy below the group's sharpest frame there.
SOFT_DECADES = 0.3
#: Mean |horizontal gradient| (levels, grain taken out) a cell needs in its sharpest frame to count.
TEXTURED = 1.0


@dataclass
class PhotoSet:
    kind: str  # one of KINDS
    members: list[int]  # indices into the records, in capture order
    detail: str  # "-2, 0, +2 EV", "3 frames, left to right", "3 frames"

    @property
    def reason(self) -> str:
        return f"{self.kind} ({self.detail}): kept whole, not culled"


@dataclass
class _View:
    """What a frame offers to the tests below: its keypoints at the matching size, and that size."""

    keypoints: object
    width: int
    height: int


def find_sets(records: list[dict], reports: dict | None = None, settings_of: Callable | None = None) -> list[PhotoSet]:
    """Exposure brackets, panoramas and focus stacks among cull *records* (as :func:`cull_scored` makes
    them, before or after sorting); *reports*: record index -> :class:`~photocritic.culling.faces.FrameReport`
    (the per-cell sharpness focus stacks are told by). *settings_of(path)*: the EXIF exposure settings
    (default: read from the file). Sets in capture order, each frame in at most one (brackets first)."""
    from photocritic.imaging.exif import exposure_settings_of_file

    reports = reports or {}
    settings_of = settings_of or exposure_settings_of_file
    eligible = [i for i, r in enumerate(records) if r.get("group") is not None and not r.get("flags") and not r.get("error")]
    views: dict[int, _View | None] = {}
    settings: dict[int, object] = {}

    def view(i: int) -> _View | None:
        if i not in views:
            views[i] = _view_of(records[i]["path"])
        return views[i]

    def setting(i: int):
        if i not in settings:
            settings[i] = settings_of(records[i]["path"])
        return settings[i]

    found: list[PhotoSet] = []
    taken: set[int] = set()
    for run in _runs(records, eligible, BRACKET_GAP, exposure=setting):
        found += _brackets(records, run, setting, view)
    taken = {i for s in found for i in s.members}
    for run in _runs(records, [i for i in eligible if i not in taken], PANORAMA_GAP):
        found += _panoramas(run, view)
    taken = {i for s in found for i in s.members}
    groups: dict[int, list[int]] = {}
    for i in eligible:
        if i not in taken:
            groups.setdefault(records[i]["group"], []).append(i)
    for members in groups.values():
        if len(members) >= MIN_FRAMES:
            stack = _focus_stack(records, sorted(members, key=lambda i: _order(records[i])), reports, setting, view)
            if stack is not None:
                found.append(stack)
    return sorted(found, key=lambda s: _order(records[s.members[0]]))


def label_sets(records: list[dict], sets: list[PhotoSet]) -> None:
    """Give every record ``set`` (the kind, or None) and ``set_id`` (1, 2, ... in capture order); every
    frame of a set is kept (a pick), its reason the set's."""
    for record in records:
        if record:
            record["set"], record["set_id"] = None, None
    for set_id, photo_set in enumerate(sets, start=1):
        for i in photo_set.members:
            record = records[i]
            record.update({"set": photo_set.kind, "set_id": set_id, "pick": True, "decision": "pick", "reasons": [photo_set.reason]})


# --- frames in a row -----------------------------------------------------------------------------


def _order(record: dict) -> tuple:
    return (record.get("taken_at") or "~", record.get("path") or "")


def _runs(records: list[dict], indices: list[int], gap: float, exposure: Callable | None = None) -> list[list[int]]:
    """Per camera, frames in capture order, cut where two are more than *gap* seconds apart (plus the
    earlier frame's exposure time, from *exposure*, when given). Runs of at least MIN_FRAMES."""
    by_camera: dict[str, list[tuple[float, int]]] = {}
    for i in indices:
        moment = parse_time(records[i].get("taken_at"))
        if moment is not None and records[i].get("camera"):
            by_camera.setdefault(records[i]["camera"], []).append((moment, i))
    runs = []
    for frames in by_camera.values():
        frames.sort(key=lambda f: (f[0], records[f[1]]["path"]))
        run = [frames[0]]
        for previous, current in zip(frames, frames[1:]):
            allowed = gap
            if exposure is not None:
                found = exposure(previous[1])
                allowed += min(getattr(found, "time", None) or 0.0, 3600.0)
            if current[0] - previous[0] <= allowed:
                run.append(current)
            else:
                runs.append(run)
                run = [current]
        runs.append(run)
    return [[i for _, i in run] for run in runs if len(run) >= MIN_FRAMES]


def _view_of(path: str | os.PathLike) -> _View | None:
    from photocritic.culling.matching import MATCH_LONG_SIDE, keypoints
    from photocritic.imaging import PhotoError, decode_for_model

    try:
        pixels = decode_for_model(path, long_side=MATCH_LONG_SIDE, draft_headroom=1.0).pixels
    except PhotoError:
        return None
    return _View(keypoints(pixels), pixels.shape[1], pixels.shape[0])


def _move(a: _View | None, b: _View | None) -> tuple[float, float, float, float] | None:
    """How frame *a*'s content moves into frame *b*: (shift x, shift y as shares of the frame, scale,
    rotation in degrees), from local features; None when too few agree."""
    from photocritic.culling.matching import matched_similarity

    if a is None or b is None:
        return None
    found = matched_similarity(a.keypoints, b.keypoints)
    if found is None or found[2] < MIN_MATCHES:
        return None
    transform, shift, _ = found
    centre = complex(a.width / 2.0, a.height / 2.0)
    moved = transform * centre + shift - centre
    return moved.real / a.width, moved.imag / a.height, abs(transform), math.degrees(cmath.phase(transform))


# --- exposure brackets ---------------------------------------------------------------------------


def _brackets(records: list[dict], run: list[int], setting: Callable, view: Callable) -> list[PhotoSet]:
    """Windows of consecutive frames of *run* whose exposures are all different (a value repeating
    starts the next window: two brackets in a row), one scene, MIN_FRAMES or more."""
    values = [_exposure_value(setting(i)) for i in run]
    found, start = [], 0
    while start < len(run):
        end = start + 1
        while end < len(run) and _joins(records, run, values, start, end, view):
            end += 1
        photo_set = _bracket(records, run[start:end], values[start:end])
        if photo_set is not None:
            found.append(photo_set)
        start = end
    return found


def _exposure_value(settings) -> tuple[float | None, float | None]:
    """(compensation, exposure of the settings) of one frame, each None if unknown."""
    if settings is None:
        return None, None
    return getattr(settings, "bias", None), getattr(settings, "light", None)


def _joins(records: list[dict], run: list[int], values: list, start: int, end: int, view: Callable) -> bool:
    """Does frame *end* of *run* continue the bracket run[start:end]: an exposure not in it yet, one scene."""
    bias, light = values[end]
    window = values[start:end]
    new_bias = bias is not None and all(b is not None and abs(b - bias) >= BIAS_STEP for b, _ in window)
    new_light = light is not None and all(v is not None and abs(v - light) >= SETTINGS_STEP for _, v in window)
    if not (new_bias or new_light):
        return False
    a, b = run[end - 1], run[end]
    if records[a]["group"] == records[b]["group"]:
        return True
    move = _move(view(a), view(b))  # split apart by grouping (a dark frame's embedding moves far): one scene?
    return move is not None and abs(move[0]) <= PANORAMA_DRIFT and abs(move[1]) <= PANORAMA_DRIFT and abs(move[2] - 1) <= 0.1


def _bracket(records: list[dict], members: list[int], values: list) -> PhotoSet | None:
    if len(members) < MIN_FRAMES:
        return None
    biases = [b for b, _ in values]
    lights = [v for _, v in values]
    if all(b is not None for b in biases) and _distinct(biases, BIAS_STEP):
        steps = biases
    elif all(v is not None for v in lights) and _distinct(lights, SETTINGS_STEP):
        middle = sorted(lights)[len(lights) // 2]
        steps = [v - middle for v in lights]
    else:
        return None
    measured = [records[i].get("exposure_ev") for i in members]
    darkest, brightest = int(np.argmin(steps)), int(np.argmax(steps))
    low, high = measured[darkest], measured[brightest]
    if _finite(low) and _finite(high) and high - low < MEASURED_STEP:
        return None  # the settings changed, the light did not reach the frames: not a bracket
    return PhotoSet(BRACKET, members, ", ".join(_ev(v) for v in sorted(steps)) + " EV")


def _distinct(values: list[float], step: float) -> bool:
    ordered = sorted(values)
    return all(b - a >= step for a, b in zip(ordered, ordered[1:]))


def _ev(value: float) -> str:
    rounded = round(value, 1)
    return "0" if rounded == 0 else f"{rounded:+g}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# --- panoramas -----------------------------------------------------------------------------------


def _panoramas(run: list[int], view: Callable) -> list[PhotoSet]:
    """Chains of consecutive frames of *run*, each shifted against the previous by a quarter to 0.85 of
    the frame along one axis, in one direction."""
    found: list[PhotoSet] = []
    chain: list[int] = [run[0]]
    heading = None
    for a, b in zip(run, run[1:]):
        step = _pan_step(view(a), view(b))
        if step is not None and (heading is None or step == heading):
            chain.append(b)
            heading = step
            continue
        if len(chain) >= MIN_FRAMES:
            found.append(PhotoSet(PANORAMA, chain, f"{len(chain)} frames, {_direction(heading)}"))
        chain, heading = ([a, b], step) if step is not None else ([b], None)
    if len(chain) >= MIN_FRAMES:
        found.append(PhotoSet(PANORAMA, chain, f"{len(chain)} frames, {_direction(heading)}"))
    return found


def _pan_step(a: _View | None, b: _View | None) -> tuple[str, int] | None:
    """("x" or "y", the sign of the content's move) when *b* continues a panorama from *a*."""
    move = _move(a, b)
    if move is None:
        return None
    dx, dy, scale, rotation = move
    if abs(scale - 1) > 0.1 or abs(rotation) > 5:
        return None
    along, across, axis = (dx, dy, "x") if abs(dx) >= abs(dy) else (dy, dx, "y")
    if not (PANORAMA_SHIFT[0] <= abs(along) <= PANORAMA_SHIFT[1]) or abs(across) > PANORAMA_DRIFT:
        return None
    return axis, 1 if along > 0 else -1


def _direction(heading: tuple[str, int] | None) -> str:
    # the content moves against the camera: a camera turning right sees the scene move left
    return {("x", -1): "left to right", ("x", 1): "right to left", ("y", -1): "top to bottom", ("y", 1): "bottom to top"}.get(heading, "in a row")


# --- focus stacks --------------------------------------------------------------------------------


def _focus_stack(records: list[dict], members: list[int], reports: dict, setting: Callable, view: Callable) -> PhotoSet | None:
    cells = [getattr(reports.get(i), "cells", None) for i in members]
    if any(c is None or not c.get("energy") for c in cells):
        return None
    measured = [records[i].get("exposure_ev") for i in members]
    if all(_finite(m) for m in measured) and max(measured) - min(measured) > STACK_EXPOSURE:
        return None
    exposures = [_exposure_value(setting(i)) for i in members]
    for k in (0, 1):  # same compensation, same settings where EXIF says
        known = [e[k] for e in exposures if e[k] is not None]
        if len(known) == len(members) and max(known) - min(known) >= BIAS_STEP:
            return None
    energy = np.array([_grain_free_energy(reports[i]) for i in members])  # frames x cells
    best = energy.max(axis=0)
    textured = best >= TEXTURED
    if textured.sum() < MIN_FRAMES:
        return None
    below = np.log10(best[textured] / np.maximum(energy[:, textured], 1e-3))  # decades below the sharpest frame
    soft = (below >= SOFT_DECADES).sum(axis=1)
    if soft.min() < max(1, math.ceil(textured.sum() / 3)):
        return None  # some frame is sharp nearly everywhere: a burst, its best frame
    if len(set(np.argmax(energy[:, textured], axis=0).tolist())) < MIN_FRAMES:
        return None
    for a, b in zip(members, members[1:]):  # last, as it is the costly test: one framing
        move = _move(view(a), view(b))
        if move is None or abs(move[0]) > STACK_SHIFT or abs(move[1]) > STACK_SHIFT or abs(move[2] - 1) > STACK_SCALE or abs(move[3]) > STACK_ROTATION:
            return None
    return PhotoSet(FOCUS_STACK, members, f"{len(members)} frames, the sharp region moves")


def _grain_free_energy(report) -> list[float]:
    """The 3x3 cells' mean |horizontal gradient| (levels), less what grain alone gives (2 sigma / sqrt(pi))."""
    cells = report.cells
    mean_level = float(np.mean(cells.get("level") or [128.0]))
    sigma = float(getattr(report, "noise", 0.0) or 0.0) * max(mean_level, 1.0) / 128.0
    return [max(float(e) - 2.0 * sigma / math.sqrt(math.pi), 1e-3) for e in cells["energy"]]


__all__ = ["BRACKET", "FOCUS_STACK", "KINDS", "PANORAMA", "PhotoSet", "find_sets", "label_sets"]
