"""Sets that are not culled (issue 28, item 6): a real exposure bracket, a real panorama and a real focus
stack, made from full-resolution originals of ../shared/data, are found, labelled and kept whole; an
ordinary burst (no exposure compensation steps, or one compensation for every frame) is still culled."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps, TiffImagePlugin

from photocritic.culling.keep import keep_best
from photocritic.culling.sets import BRACKET, FOCUS_STACK, PANORAMA, find_sets, label_sets
from photocritic.imaging.exif import ExposureSettings, exposure_settings_of_file, read_exposure_settings

BRACKET_SOURCE = "Canon EOS 450D.jpg"  # a red car against a dark brick wall: shadows and highlights
ROW_SOURCE = "Kodak PIXPRO AZ521.jpg"  # a rose bush against the sky: detail across the whole frame
BURST_SOURCES = ("Leica T (Typ 701).jpg", "Panasonic Lumix DMC-LX7.jpg")
START = datetime(2025, 5, 4, 10, 0, 0)


def _original(shared_data: Path, name: str, long_side: int | None = None) -> Image.Image:
    folder = shared_data / "photos-fullres"
    if not (folder / name).is_file():
        pytest.skip(f"{folder / name} not found")
    with Image.open(folder / name) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        if long_side and max(image.size) > long_side:
            image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        return image.copy()


def _linear(image: Image.Image) -> np.ndarray:
    v = np.asarray(image, np.float32) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _srgb(linear: np.ndarray) -> Image.Image:
    v = np.clip(linear, 0.0, 1.0)
    v = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return Image.fromarray(np.round(v * 255.0).astype(np.uint8))


def _save(image: Image.Image, path: Path, taken_at: datetime, bias: float | None = None, camera=("Canon", "Canon EOS 450D"), **settings) -> Path:
    """JPEG with DateTimeOriginal + SubSecTimeOriginal, Make/Model and, when given, ExposureBiasValue
    (a signed rational, as cameras write it), ExposureTime, FNumber, ISO."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = camera
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9291] = f"{taken_at.microsecond // 1000:03d}"
    if bias is not None:
        ifd[0x9204] = TiffImagePlugin.IFDRational(round(bias * 3), 3)
    for tag, key in ((0x829A, "time"), (0x829D, "f_number"), (0x8827, "iso")):
        if key in settings:
            ifd[tag] = settings[key]
    image.save(path, "JPEG", quality=92, exif=exif)
    return path


def _vignette(image: Image.Image, strength: float, gain: float) -> Image.Image:
    """A lens's fall-off towards the corners and a little exposure change, in linear light."""
    h, w = image.size[1], image.size[0]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2
    return _srgb(_linear(image) * (gain * (1.0 - strength * r2 / 2.0))[..., None])


def make_bracket(shared_data: Path, folder: Path) -> list[Path]:
    """One photo at -2, 0 and +2 EV in linear light, 0.3 s apart, compensation in EXIF (Canon's order: 0, -2, +2)."""
    base = _linear(_original(shared_data, BRACKET_SOURCE, 1024))
    frames = []
    for n, ev in enumerate((0, -2, 2)):
        frames.append(_save(_srgb(base * 2.0**ev), folder / f"IMG_{100 + n}.jpg", START + timedelta(seconds=0.3 * n), bias=ev,
                            time=TiffImagePlugin.IFDRational(2**ev, 125), f_number=TiffImagePlugin.IFDRational(8, 1), iso=100))
    return frames


def make_panorama(shared_data: Path, folder: Path) -> list[Path]:
    """Three windows of a full-resolution original, each overlapping the next by 40%, panned left to right
    1.5 s apart, each with its own vignetting and a tenth of a stop of exposure change."""
    original = _original(shared_data, ROW_SOURCE)
    width, height = original.size
    window = int(width / (1 + 2 * 0.6))  # 3 windows, each 0.6 of a window beyond the previous
    top = (height - int(window * 0.75)) // 2
    frames = []
    for n in range(3):
        left = int(n * 0.6 * window)
        crop = original.crop((left, top, left + window, top + int(window * 0.75))).resize((1024, 768), Image.Resampling.LANCZOS)
        frame = _vignette(crop, 0.25 + 0.05 * n, (1.0, 1.07, 0.95)[n])
        frames.append(_save(frame, folder / f"PANO_{n}.jpg", START + timedelta(minutes=5, seconds=1.5 * n), camera=("Kodak", "PIXPRO AZ521")))
    return frames


def make_focus_stack(shared_data: Path, folder: Path) -> list[Path]:
    """One photo three times, each sharp in one horizontal band (near at the bottom, far at the top) and
    defocused elsewhere, 0.5 s apart, one exposure."""
    image = _original(shared_data, ROW_SOURCE, 1024)
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(5)), np.float32)
    sharp = np.asarray(image, np.float32)
    h = sharp.shape[0]
    rows = np.arange(h, dtype=np.float32)[:, None, None]
    frames = []
    for n in range(3):  # band 0 at the bottom (near), band 2 at the top (far)
        centre = h * (5 - 2 * n) / 6
        weight = np.clip(1.0 - (np.abs(rows - centre) - h / 6) / (h / 12), 0.0, 1.0)  # 1 in the band, a soft edge
        frame = Image.fromarray(np.round(sharp * weight + blurred * (1 - weight)).astype(np.uint8))
        frames.append(_save(frame, folder / f"STACK_{n}.jpg", START + timedelta(minutes=10, seconds=0.5 * n), bias=0.0, camera=("Kodak", "PIXPRO AZ521")))
    return frames


def make_burst(shared_data: Path, folder: Path, source: str, prefix: str, minutes: int, bias: float | None) -> dict[str, Path]:
    """An ordinary hand-held burst: the clean frame, a copy 1.5 stops brighter (over-exposed), a slightly
    shifted copy; 0.4 s apart; every frame with the same compensation *bias* (None: no such tag)."""
    image = _original(shared_data, source, 1024)
    w, h = image.size
    shifted = image.crop((20, 12, w, h)).resize((w, h), Image.Resampling.LANCZOS)
    frames = {"clean": image, "over": _srgb(_linear(image) * 2.0**1.5), "shifted": shifted}
    return {
        name: _save(frame, folder / f"{prefix}_{n}.jpg", START + timedelta(minutes=minutes, seconds=0.4 * n), bias=bias, camera=("Leica", "T (Typ 701)"), time=TiffImagePlugin.IFDRational(1, 200))
        for n, (name, frame) in enumerate(frames.items())
    }


@pytest.fixture(scope="module")
def shoot(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sets")
    return {
        "bracket": make_bracket(shared_data, folder),
        "panorama": make_panorama(shared_data, folder),
        "stack": make_focus_stack(shared_data, folder),
        "burst": make_burst(shared_data, folder, BURST_SOURCES[0], "BURST", 20, None),
        "same_bias": make_burst(shared_data, folder, BURST_SOURCES[1], "SAME", 30, -1.0),
        "singles": [shared_data / "photos" / name for name in ("Nokia Lumia 800.jpg", "Sony DSC-H9.jpg")],
        "folder": folder,
    }


@pytest.fixture(scope="module")
def culled(shoot, tmp_path_factory):
    from photocritic.culling import cull_records
    from photocritic.scoring import Scorer

    files = [*shoot["bracket"], *shoot["panorama"], *shoot["stack"], *shoot["burst"].values(), *shoot["same_bias"].values(), *shoot["singles"]]
    scorer = Scorer(catalog=tmp_path_factory.mktemp("catalog") / "c.sqlite")
    try:
        records = cull_records(scorer, files)
    finally:
        scorer.close()
    return {str(Path(r["path"])): r for r in records}, records


def _kept_whole(by_path: dict, frames: list[Path], kind: str, detail: str) -> None:
    records = [by_path[str(p)] for p in frames]
    assert all(r["set"] == kind for r in records), [(Path(r["path"]).name, r["set"], r["reasons"]) for r in records]
    assert len({r["set_id"] for r in records}) == 1
    assert all(r["pick"] is True and r["decision"] == "pick" for r in records)
    assert all(r["reasons"] == [f"{kind} ({detail}): kept whole, not culled"] for r in records), [r["reasons"] for r in records]


def test_an_exposure_bracket_is_kept_whole(culled, shoot):
    _kept_whole(culled[0], shoot["bracket"], BRACKET, "-2, 0, +2 EV")


def test_a_panorama_is_kept_whole(culled, shoot):
    _kept_whole(culled[0], shoot["panorama"], PANORAMA, "3 frames, left to right")


def test_a_focus_stack_is_kept_whole(culled, shoot):
    _kept_whole(culled[0], shoot["stack"], FOCUS_STACK, "3 frames, the sharp region moves")


@pytest.mark.parametrize("burst", ["burst", "same_bias"])
def test_an_ordinary_burst_is_still_culled(culled, shoot, burst):
    """No compensation steps (no tag at all, or -1 EV on every frame): a burst, its over-exposed copy rejected."""
    by_path = culled[0]
    records = {name: by_path[str(p)] for name, p in shoot[burst].items()}
    assert len({r["group"] for r in records.values()}) == 1
    assert all(r["set"] is None and r["set_id"] is None for r in records.values())
    assert sum(r["pick"] for r in records.values()) == 1
    assert records["over"]["decision"] == "reject" and records["over"]["pick"] is False


def test_no_single_is_called_a_set(culled, shoot):
    by_path = culled[0]
    assert all(by_path[str(p)]["set"] is None for p in shoot["singles"])


def test_keep_counts_a_set_once_and_never_leaves_it_out(culled):
    records = [dict(r, reasons=list(r["reasons"])) for r in culled[1]]
    in_sets = [r for r in records if r["set"]]
    kept, left_out = keep_best(records, 1)
    assert all(r["pick"] is True and r["decision"] == "pick" for r in in_sets)
    assert len({r["set_id"] for r in in_sets}) >= 3
    assert kept == len(in_sets)  # the sets alone are over the target: nothing else is kept
    assert left_out == sum(1 for r in records if not r["set"] and r["decision"] == "left out") > 0


def test_sets_can_be_turned_off(culled):
    """``cull --no-sets``: label_sets with no sets leaves every decision as ranking made it."""
    records = [dict(r) for r in culled[1]]
    label_sets(records, [])
    assert all(r["set"] is None for r in records)


def test_bad_exif_exposure_values_are_ignored(tmp_path):
    image = Image.new("RGB", (64, 48), (90, 90, 90))
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x9204] = TiffImagePlugin.IFDRational(1, 0)  # a zero denominator
    ifd[0x829A] = "1/250"  # a string
    ifd[0x829D] = 1e300  # beyond any lens
    ifd[0x8827] = ()  # no value at all
    image.save(tmp_path / "odd.jpg", exif=exif)
    assert exposure_settings_of_file(tmp_path / "odd.jpg") == ExposureSettings()
    assert exposure_settings_of_file(tmp_path / "missing.jpg") is None
    (tmp_path / "not.jpg").write_bytes(b"not a photo")
    assert exposure_settings_of_file(tmp_path / "not.jpg") is None
    with Image.open(tmp_path / "odd.jpg") as opened:
        assert read_exposure_settings(opened).light is None


def test_odd_settings_never_make_a_set_or_crash(tmp_path):
    """Frames in a row whose settings are nonsense (not numbers, infinities) are no bracket."""
    records = [
        {"path": str(tmp_path / f"{n}.jpg"), "group": 1, "flags": [], "error": None, "camera": "Cam", "exposure_ev": float("nan"),
         "taken_at": f"2025-01-01T10:00:0{n}"}
        for n in range(3)
    ]
    odd = [ExposureSettings(bias=float("inf")), "not settings", None]
    assert find_sets(records, settings_of=lambda path: odd[int(Path(path).stem)]) == []
