#!/usr/bin/env python
"""How much a single photo says about a colour cast or a tilt: the evidence behind the default
model card's section "Where the evidence runs out".

    python scripts/measure_cast_tilt_evidence.py      # about 5 minutes on 2 cores, with the training cache

A colour cast (channel gains) shifts a photo's log-chroma histogram; a rotation shifts its histogram
of edge orientations. So a template can be learned from pristine photos alone (Barron's
convolutional colour constancy, 2015, applied to both): per fold, a filter whose circular
cross-correlation with the held-in photos' histograms peaks at zero shift. On a held-out photo the
correlation's peak gives the estimated cast or tilt, and -log softmax at zero shift how unlikely
the photo is to be as it should. The script reports, out of fold (the training script's folds and
jobs):

* how often each estimate ranks a damaged copy below its pristine photo, for casts and tilts, and for
  the damages that fool it (desaturation, low contrast, JPEG);
* how well the estimate separates professional photos from snapshots (the model's other target);
* what the shipped configuration's out-of-fold scores do when the cast estimate is subtracted from
  them with a growing weight: the trade between casts, desaturation and professional-vs-snapshot.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from photocritic.models.heads import RATINGS  # noqa: E402
from photocritic.models.technical import luminance  # noqa: E402
from photocritic.training import default_data as data  # noqa: E402
from photocritic.training.default_eval import auc, damage_figures  # noqa: E402
from photocritic.training.default_model import FitConfig, JobTable, model_inputs, out_of_fold  # noqa: E402
from photocritic.training.degradations import STRENGTH_NAMES, _srgb_to_linear  # noqa: E402

CHROMA_BINS, CHROMA_STEP = 64, 0.05  # log(G/R), log(G/B) in natural log units, wrapped
ANGLE_BINS, ANGLE_STEP, ANGLE_RANGE = 360, 0.5, 15.0  # edge orientation over 180 degrees


def chroma_histograms(pixels: np.ndarray) -> np.ndarray:
    """2 x 64 x 64: log-chroma of the pixels and of their local detail, in linear light."""
    linear = _srgb_to_linear(pixels.astype(np.float32) / 255.0).astype(np.float32)
    detail = np.abs(linear - ndimage.uniform_filter(linear, size=(5, 5, 1)))
    out = []
    for image in (linear, detail):
        ok = (image.min(-1) > 1e-3) & (pixels.max(-1) < 250)
        r, g, b = image[ok, 0], image[ok, 1], image[ok, 2]
        iu = np.floor(np.log(g / r) / CHROMA_STEP).astype(int) % CHROMA_BINS
        iv = np.floor(np.log(g / b) / CHROMA_STEP).astype(int) % CHROMA_BINS
        h = np.bincount(iu * CHROMA_BINS + iv, minlength=CHROMA_BINS**2).astype(np.float32)
        out.append(h.reshape(CHROMA_BINS, CHROMA_BINS) / max(h.sum(), 1.0))
    return np.stack(out)


def orientation_histogram(pixels: np.ndarray) -> np.ndarray:
    """360 bins of structure-tensor orientation, weighted by coherent edge energy."""
    luma = luminance(pixels)
    gx, gy = ndimage.sobel(luma, 1), ndimage.sobel(luma, 0)
    jxx, jyy, jxy = (ndimage.gaussian_filter(a, 2) for a in (gx * gx, gy * gy, gx * gy))
    energy = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    weight = (energy * (energy / (jxx + jyy + 1e-3)) ** 2)[4:-4, 4:-4]
    theta = np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy))[4:-4, 4:-4]
    index = np.floor((theta % 180) / ANGLE_STEP).astype(int) % ANGLE_BINS
    h = np.bincount(index.ravel(), weights=weight.ravel(), minlength=ANGLE_BINS)
    return (h / max(h.sum(), 1e-9)).astype(np.float32)


class Template:
    """A filter learned so that its circular cross-correlation with pristine histograms peaks at zero shift."""

    def __init__(self, histograms: np.ndarray, shifts: np.ndarray | None = None) -> None:
        self.dims = histograms.shape[2:] if histograms.ndim == 4 else histograms.shape[1:]
        self.spectra = torch.fft.rfftn(torch.from_numpy(histograms), dim=tuple(range(-len(self.dims), 0)))
        self.shifts = shifts  # flat indices of the shifts considered (all by default)

    def responses(self, filt: torch.Tensor, rows) -> torch.Tensor:
        axes = tuple(range(-len(self.dims), 0))
        product = self.spectra[rows] * torch.conj(torch.fft.rfftn(filt, dim=axes))[None]
        if product.ndim == len(self.dims) + 2:  # several histogram channels: sum their correlations
            product = product.sum(1)
        r = torch.fft.irfftn(product, s=self.dims, dim=axes).reshape(len(rows), -1)
        return r if self.shifts is None else r[:, self.shifts]

    def fit(self, rows: np.ndarray, l2: float = 1e-2, smooth: float = 1e-2, steps: int = 300) -> torch.Tensor:
        shape = tuple(self.spectra.shape[1:-1]) + (self.dims[-1],)
        filt = torch.zeros(shape, requires_grad=True)
        optimiser = torch.optim.Adam([filt], lr=0.5)
        rows = torch.from_numpy(rows)
        for _ in range(steps):
            optimiser.zero_grad()
            r = self.responses(filt, rows)
            loss = -(r[:, 0] - torch.logsumexp(r, 1)).mean() + l2 * filt.pow(2).sum()
            for axis in range(-len(self.dims), 0):
                loss = loss + smooth * (filt - filt.roll(1, axis)).pow(2).sum()
            loss.backward()
            optimiser.step()
        return filt.detach()

    def estimate(self, filt: torch.Tensor, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of the peak shift, -log softmax at zero shift) per row."""
        with torch.no_grad():
            r = self.responses(filt, torch.from_numpy(rows)).double()
        return r.argmax(1).numpy(), (torch.logsumexp(r, 1) - r[:, 0]).numpy()


def histograms(photos, jobs, rows_by_photo, workers: int) -> tuple[np.ndarray, np.ndarray]:
    chroma = np.zeros((len(jobs), 2, CHROMA_BINS, CHROMA_BINS), np.float32)
    angles = np.zeros((len(jobs), ANGLE_BINS), np.float32)

    def work(p: int):
        pristine = data.pristine_pixels(photos[p])
        out = []
        for r in rows_by_photo[p]:
            pixels = data.job_pixels(photos[p], jobs[r], pristine)
            out.append((r, chroma_histograms(pixels), orientation_histogram(pixels)))
        return out

    started = time.time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k, result in enumerate(pool.map(work, sorted(rows_by_photo))):
            for r, c, a in result:
                chroma[r], angles[r] = c, a
            if (k + 1) % 100 == 0:
                print(f"  histograms: {k + 1}/{len(rows_by_photo)} photos, {time.time() - started:.0f} s", file=sys.stderr)
    return chroma, angles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "default_model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = FitConfig()
    photos = data.list_photos(args.data)
    folds = data.assign_folds(photos)
    jobs = data.plan_jobs(photos, seed=cfg.seed)
    table = JobTable.build(photos, jobs, folds)
    used = np.flatnonzero(np.isin(table.kind, ("pristine", "damaged")))
    rows_by_photo: dict[int, list[int]] = {}
    for r in used:
        rows_by_photo.setdefault(int(table.photo[r]), []).append(int(r))
    print(f"{len(photos)} photos, {len(used)} pristine and damaged jobs", file=sys.stderr)
    chroma, angles = histograms(photos, jobs, rows_by_photo, args.threads)

    offsets = np.arange(CHROMA_BINS)
    offsets = np.where(offsets >= CHROMA_BINS // 2, offsets - CHROMA_BINS, offsets) * CHROMA_STEP
    du, dv = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    reach = int(ANGLE_RANGE / ANGLE_STEP)
    angle_shifts = np.r_[0 : reach + 1, ANGLE_BINS - reach : ANGLE_BINS]
    angle_of_shift = np.where(angle_shifts > ANGLE_BINS // 2, angle_shifts - ANGLE_BINS, angle_shifts) * ANGLE_STEP
    cast_template, tilt_template = Template(chroma), Template(angles, angle_shifts)
    cast = {"peak shift": np.zeros(len(jobs)), "surprise": np.zeros(len(jobs))}
    tilt = {"peak shift": np.zeros(len(jobs)), "surprise": np.zeros(len(jobs))}
    pristine = np.flatnonzero(table.kind == "pristine")
    for fold in np.unique(table.fold):
        train = pristine[table.fold[pristine] != fold]
        test = used[table.fold[used] == fold]
        peak, cast["surprise"][test] = cast_template.estimate(cast_template.fit(train), test)
        cast["peak shift"][test] = np.hypot(du[peak], dv[peak])
        peak, tilt["surprise"][test] = tilt_template.estimate(tilt_template.fit(train), test)
        tilt["peak shift"][test] = np.abs(angle_of_shift[peak])
        print(f"  fold {fold}: templates fitted on {len(train)} pristine photos", file=sys.stderr)

    professional = table.professional[pristine]

    def ranking(goodness: np.ndarray) -> tuple[dict, float]:
        """Per damage type and strength, the share of damaged copies below their photo; and the AUC of
        professional above snapshot among the pristine photos."""
        figures = damage_figures(goodness, table, used)["per_type"]
        return figures, auc(goodness[pristine][professional], goodness[pristine][~professional])

    print("\nEvidence alone, out of fold: share of damaged copies ranked below their photo (mild / moderate / strong)")
    for label, estimates, damage, others in (
        ("colour cast", cast, "white_balance", ("desaturation", "low_contrast", "jpeg")),
        ("tilt", tilt, "tilt", ("jpeg", "defocus", "noise")),
    ):
        for name, values in estimates.items():
            per_type, separation = ranking(-values)
            own = " / ".join(f"{per_type[damage][s]:.3f}" for s in STRENGTH_NAMES)
            fooled = ", ".join(f"{d} {per_type[d]['moderate']:.2f}" for d in others)
            print(f"  {label:11s} {name:10s}: {own}   moderate {fooled}   professional above snapshot AUC {separation:.3f}")
    for s, degrees in enumerate((2.0, 4.0, 8.0)):
        rows = np.flatnonzero((table.damage == "tilt") & (table.strength == s))
        print(f"  tilt of {degrees:.0f} degrees estimated within 1 degree: {np.mean(np.abs(tilt['peak shift'][rows] - degrees) <= 1.0):.3f}")

    print("\nShipped configuration's out-of-fold score minus k x the standardised cast estimate (peak shift)")
    features = data.extract_job_features(photos, jobs, args.cache_dir, data.random_baseline_photos(photos),
                                         log=lambda *a: print(*a, file=sys.stderr))
    oof = out_of_fold(model_inputs(features, cfg.inputs), table, photos, cfg, log=lambda *a: None)
    score = oof @ RATINGS
    estimate = cast["peak shift"]
    estimate = (estimate - estimate[pristine].mean()) / estimate[pristine].std()
    print("\n  k     white balance (mild/moderate/strong)  desaturation  moderate, mean of 10 types  AUC (pristine)")
    for k in (0.0, 0.1, 0.2, 0.4, 0.8):
        per_type, separation = ranking(score - k * estimate)
        wb = " / ".join(f"{per_type['white_balance'][s]:.3f}" for s in STRENGTH_NAMES)
        moderate = np.mean([v["moderate"] for v in per_type.values()])
        print(f"  {k:<4}  {wb}                 {per_type['desaturation']['moderate']:.3f}         "
              f"{moderate:.3f}                       {separation:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
