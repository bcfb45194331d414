"""Rank the photos of one group and say why, in short sentences a photographer would use.

Each frame is judged against the others of its group on what separates frames of one burst
(:func:`group_features`: how far it falls behind the best frame of the group):

* **the model's judgement**: its score and, for the default model, its quality and aesthetic sub-scores; a
  frame much grainier than the quietest is credited no more than the group's median (the models read
  grain as detail);
* **sharpness where the subject is**: :func:`~photocritic.culling.frames.detail`, gradient energy with the
  grain's own energy taken out, so grain is not detail; and the sharpest face's, when every frame has one;
* **grain** (:func:`~photocritic.culling.frames.noise_sigma`), **tilt** (:mod:`photocritic.culling.level`:
  lines, and the turn against the other frames), **exposure of the subject** (faces, else the salient region)
  and of the frame against the group's median, **clipping** of the frame and of the subject, **tones**
  (:func:`~photocritic.culling.frames.tonal_entropy`) and **eyes** closed where another frame has them open.

What each costs was fitted (``zoo/cull-ranker.json``, ``scripts/train_cull_ranker.py``, card:
docs/models/cull-ranker.md) to bursts of three independent generators and to BIQ2021's real series rated
by people; without that file the hand-set :class:`RankWeights` penalties of earlier releases apply. Two
rules stay above the costs: a frame whose *faces* have skin newly blown or shadows newly crushed ranks
below every frame that holds them, and the model's score breaks ties.

Reasons come from the same evidence and are always relative to the pick; :func:`rank_group` takes a
*pick* to recompute them when a user chooses another frame (the web app and sidecars then show reasons
true of the user's pick).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np


@dataclass
class RankWeights:
    score: float = 0.5  # per point of the model's 1-10 score
    sharpness: float = 1.5  # per decade of Laplacian variance below the group's sharpest
    exposure: float = 0.5  # per stop away from a mid-grey exposure, beyond exposure_tolerance
    exposure_outlier: float = 0.7  # per stop away from the group's median exposure, beyond 0.3 stop
    clipping: float = 6.0  # per share of the frame newly clipped (0.1 = 10% -> 0.6 points)
    noise: float = 1.5  # a frame much grainier than the rest
    eyes: float = 1.5  # per face with closed eyes
    exposure_tolerance: float = 0.7
    subject_clipping: float = 0.03  # share of the subject newly clipped that sends a frame below the others
    tones: float = 0.5  # per bit of tonal information below the group's richest frame, beyond tones_tolerance
    tones_tolerance: float = 0.1  # crops and tilts move a frame's entropy by a few tenths of a bit either way
    tones_soft: float = 0.5  # decades below the sharpest frame from which a frame's tones are not credited
    grain_energy: float = 2.7  # gradient energy per grain sigma squared that grain adds to the sharpness measure
    grain_soft: float = 0.5  # decades below the sharpest frame (grain's energy taken out): too soft to set the grain reference
    #: per feature of :func:`group_features`, what a unit of it costs (fitted: ``zoo/cull-ranker.json``); None or empty: the
    #: hand-set penalties above
    learned: dict[str, float] | None = field(default_factory=lambda: dict(learned_weights()))


@dataclass
class Candidate:
    """What ranking needs to know about one photo."""

    index: int
    score: float
    technical: dict
    faces: int | None = None  # faces found (None: not looked for)
    closed_eyes: int = 0  # faces that blink here but show open eyes in another frame of the group
    grain: float | None = None  # noise sigma from a larger decode (faces.noise_sigma); None: unknown
    sharpness: float | None = None  # faces.directional_sharpness from the same decode; None: unknown
    subject_ev: float | None = None  # stops from a normal exposure of the subject (faces, else salient region)
    subject_blown: float | None = None  # share of the subject at the white point
    subject_crushed: float | None = None  # share of the subject at the black point
    face_sharpness: float | None = None  # sharpest face's directional_sharpness; None: no face
    tones: float | None = None  # tonal information in bits (frames.tonal_entropy); None: unknown
    detail: float | None = None  # frames.detail: sharpness that grain does not raise; None: unknown
    tilt: float | None = None  # frames.tilt: degrees from level; None: no lines to judge by
    quality_score: float | None = None  # the model's sub-scores, when it gives them
    aesthetic_score: float | None = None

    def evidence(self) -> dict:
        """What ranking read, JSON-ready: stored with each record so reasons can be recomputed later."""
        out = {k: getattr(self, k) for k in ("score", *_FIELDS, "closed_eyes")}
        out["technical"] = {k: self.technical.get(k) for k in _TECHNICAL if k in (self.technical or {})}
        return out

    @classmethod
    def from_evidence(cls, index: int, evidence: dict) -> "Candidate":
        fields = {k: evidence.get(k) for k in _FIELDS}
        return cls(index=index, score=evidence.get("score"), technical=dict(evidence.get("technical") or {}), closed_eyes=int(evidence.get("closed_eyes") or 0), **fields)


_FIELDS = ("faces", "grain", "sharpness", "detail", "tilt", "subject_ev", "subject_blown", "subject_crushed", "face_sharpness", "tones", "quality_score", "aesthetic_score")
_TECHNICAL = ("sharpness_peak", "noise", "exposure_ev", "highlights_clipped", "shadows_clipped")


@dataclass
class Ranked:
    index: int
    rank: int
    pick: bool
    quality: float
    reasons: list[str]


def _stops(value: float) -> str:
    rounded = round(value * 2) / 2
    text = f"{rounded:g}"
    return f"{text} stop" if rounded == 1 else f"{text} stops"


#: what a frame lacks against the best of its group, one number each (0: as good as the best; see
#: :func:`group_features`); the learned ranking costs each by its weight in ``zoo/cull-ranker.json``
FEATURES = ("score", "quality_score", "aesthetic_score", "detail", "face_detail", "grain", "tilt", "exposure", "exposure_outlier",
            "clipping", "subject_clipping", "tones", "eyes")
RANKER = Path(__file__).resolve().parents[1] / "zoo" / "cull-ranker.json"


@cache
def learned_weights() -> tuple[tuple[str, float], ...]:
    """The fitted weights (``zoo/cull-ranker.json``, written by ``scripts/train_cull_ranker.py``); () if absent."""
    try:
        weights = json.loads(RANKER.read_text())["weights"]
    except (OSError, ValueError, KeyError):
        return ()
    return tuple((k, float(weights.get(k, 0.0))) for k in FEATURES)


def group_features(members: Sequence[Candidate], tolerance: float = 0.7) -> dict[str, np.ndarray]:
    """Per frame, how far it falls behind the best frame of its group on each of :data:`FEATURES`:

    ``score``, ``quality_score``, ``aesthetic_score``: points below the group's highest (0 when the model
    gives no sub-scores), a frame much grainier than the quietest credited no more than the group's median
    (the models read grain as detail); ``detail``: decades of :func:`~photocritic.culling.frames.detail` (sharpness that
    grain does not raise) below the sharpest frame; ``face_detail``: the same for the sharpest face, when
    every frame has one (a noisy frame's credited no more than the median); ``grain``: stops of grain above
    the quietest frame that is not soft (half a decade of detail or less below the sharpest); ``tilt``: degrees further from
    level than the most level frame (when every frame's lean is known, :mod:`photocritic.culling.level`); ``exposure``: stops of the
    subject beyond *tolerance* from a normal exposure, beyond the best frame's; ``exposure_outlier``: stops
    from the group's median exposure beyond 0.3; ``clipping``: share of the frame newly clipped (against the
    median); ``subject_clipping``: share of the subject newly clipped; ``tones``: bits of tonal information
    below the richest frame beyond 0.1; ``eyes``: faces that blink here but not in the best frame."""
    n = len(members)
    tech = [m.technical or {} for m in members]

    def column(name: str, fallback=None) -> np.ndarray | None:
        values = [getattr(m, name) for m in members]
        if all(v is not None for v in values):
            return np.array([_num(v) for v in values])
        return fallback

    def behind(values: np.ndarray | None) -> np.ndarray:
        return np.zeros(n) if values is None else values.max() - values

    grain = column("grain", np.array([_num(t.get("noise")) for t in tech]))
    detail = column("detail")
    if detail is None:  # evidence from before frames.detail: the grain's own energy taken out of the sharpness
        sharpness = column("sharpness")
        detail = (np.array([_num(t.get("sharpness_peak")) for t in tech]) if sharpness is None
                  else np.log10(np.maximum(10.0**sharpness - RankWeights.grain_energy * grain**2, 1e-3)))
    # grain against the quietest frame that is not soft: blur takes the grain away with the detail
    crisp = detail >= detail.max() - RankWeights.grain_soft
    grainy = np.maximum(0.0, np.log2((grain + 2.0) / (grain[crisp].min() + 2.0)))
    noisy = grainy >= 1.0

    def credited(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.where(noisy, np.minimum(values, np.median(values)), values)

    scores = np.array([_safe(m.score) for m in members])
    tilts = column("tilt")
    # a face's own sharpness is raised by grain (it is measured on the face's luminance, rescaled)
    faces = credited(column("face_sharpness")) if all(m.faces for m in members) else None
    ev = np.array([_num(t.get("exposure_ev")) for t in tech])
    sev = column("subject_ev", ev)
    away = np.maximum(0.0, np.abs(sev) - tolerance)
    blown, crushed = column("subject_blown"), column("subject_crushed")
    newly = np.zeros(n) if blown is None or crushed is None else np.maximum(blown - np.median(blown), crushed - np.median(crushed))
    highlights = np.array([_num(t.get("highlights_clipped")) for t in tech])
    shadows = np.array([_num(t.get("shadows_clipped")) for t in tech])
    clip_gain = np.maximum(0.0, highlights - np.median(highlights)) + np.maximum(0.0, shadows - np.median(shadows))
    closed = np.array([_num(m.closed_eyes) if m.faces else 0.0 for m in members])
    return {
        "score": behind(credited(scores)),
        "quality_score": behind(credited(column("quality_score"))),
        "aesthetic_score": behind(credited(column("aesthetic_score"))),
        "detail": behind(detail),
        "face_detail": behind(faces),
        "grain": grainy,
        "tilt": np.zeros(n) if tilts is None else np.abs(tilts) - np.abs(tilts).min(),
        "exposure": away - away.min(),
        "exposure_outlier": np.maximum(0.0, np.abs(ev - np.median(ev)) - 0.3),
        "clipping": np.maximum(0.0, clip_gain - 0.01),
        "subject_clipping": np.maximum(0.0, newly - 0.01),
        "tones": np.maximum(0.0, behind(column("tones")) - 0.1),
        "eyes": closed - closed.min(),
    }


def rank_group(members: Sequence[Candidate], weights: RankWeights | None = None, similarities: np.ndarray | None = None, pick: int | None = None) -> list[Ranked]:
    """Ranks 1..n (1 = pick) for one group; *similarities* is the n x n cosine matrix if known.

    *pick*: the index (``Candidate.index``) of a frame the user chose; it gets rank 1, the others keep
    their order, and every reason is said relative to it."""
    w = weights or RankWeights()
    n = len(members)
    if n == 1:
        return [Ranked(members[0].index, 1, True, _safe(members[0].score) * w.score, ["no similar photo: kept"])]

    tech = [m.technical or {} for m in members]
    # sharpness and grain from the larger decode (faces.directional_sharpness, faces.noise_sigma) when
    # every frame has them, else the working image's cruder measures
    decoded = True
    if all(m.face_sharpness is not None for m in members):  # the subject is a face in every frame
        peak = np.array([_num(m.face_sharpness) for m in members])
    elif all(m.sharpness is not None for m in members):
        peak = np.array([_num(m.sharpness) for m in members])
    else:
        peak, decoded = np.array([_num(t.get("sharpness_peak")) for t in tech]), False
    if all(m.grain is not None for m in members):
        noise = np.array([_num(m.grain) for m in members])
    else:  # the working image's Immerkaer estimate: cruder, texture inflates it
        noise, decoded = np.array([_num(t.get("noise")) for t in tech]), False
    ev = np.array([_num(t.get("exposure_ev")) for t in tech])
    # the subject's exposure when every frame has it (a low-key frame is not underexposed if its subject is right)
    subject = all(m.subject_ev is not None for m in members)
    sev = np.array([_num(m.subject_ev) for m in members]) if subject else ev
    if all(m.subject_blown is not None and m.subject_crushed is not None for m in members):
        sblown = np.array([_num(m.subject_blown) for m in members])
        scrushed = np.array([_num(m.subject_crushed) for m in members])
        # against the group's median: a darkened or blurred copy holds a little more than the clean frame,
        # which must not make the clean frame "newly" clipped; a copy that blows what most frames hold is
        newly = np.maximum(sblown - np.median(sblown), scrushed - np.median(scrushed))
        # the hard rule is for faces (blown skin cannot be recovered); the salient region of a frame
        # without faces is a guess, so there it is a penalty, not a rank floor
        spoiled = (newly >= w.subject_clipping) & bool(all(m.faces for m in members))
    else:
        sblown = scrushed = newly = np.zeros(n)
        spoiled = np.zeros(n, bool)
    subject_name = "the face" if all(m.faces for m in members) else "the subject"
    highlights = np.array([_num(t.get("highlights_clipped")) for t in tech])
    shadows = np.array([_num(t.get("shadows_clipped")) for t in tech])
    scores = np.array([_safe(m.score) for m in members])

    # grain: against the quietest of the frames that are not soft (blur removes grain along with detail).
    # Grain raises the measured sharpness (on a smooth frame a noisy copy measures a decade and more
    # sharper than the clean one) and blur lowers it by a decade or more: softness is judged with the
    # grain's own energy taken out, against the sharpest frame (not the median: when most frames of a
    # burst are blurred, the median is a blurred frame, and a blurred frame is always the quietest)
    if decoded:
        # on the whole frame's sharpness, the measure the grain is measured on and grain_energy was fitted
        # to (a face's own measure is taken on its luminance rescaled, and on a small face in a noisy copy
        # it is mostly grain: the noisy copies then set the grain reference and none of them is "noisy")
        frame = np.array([_num(m.sharpness) for m in members]) if all(m.sharpness is not None for m in members) else peak
        detail = np.log10(np.maximum(10.0**frame - w.grain_energy * noise**2, 1e-3))
        crisp = detail >= detail.max() - w.grain_soft
    else:  # the working image's measures (no grain in the same units): the older rule
        crisp = peak >= np.median(peak) - 0.75
    quiet = float(noise[crisp].min())
    noisy = (noise >= 1.5 * max(quiet, 0.5)) & (noise - quiet >= 4.0)
    credited = np.where(noisy, np.minimum(peak, np.median(peak)), peak)
    # and for the aesthetic model alike: a noisy frame's score is credited no more than the group's median
    score_credit = np.where(noisy, np.minimum(scores, np.median(scores)), scores)
    sharp_gap = credited.max() - credited
    clip_gain = np.maximum(0.0, highlights - np.median(highlights)) + np.maximum(0.0, shadows - np.median(shadows))

    if all(m.tones is not None for m in members):
        tones = np.array([_num(m.tones) for m in members])
        # grain and blur add levels (noise spreads them, a blurred edge fills the steps between flat
        # areas), not tonal information: such frames are credited no more than the group's median
        soft = sharp_gap > w.tones_soft
        tones = np.where(noisy | soft, np.minimum(tones, np.median(tones)), tones)
        tone_gap = tones.max() - tones
    else:
        tone_gap = np.zeros(n)

    closed = np.array([m.closed_eyes if m.faces else 0 for m in members])
    with_faces = [m.faces for m in members if m.faces]
    eyes_gap = closed - closed.min() if with_faces else np.zeros(n)

    penalties = {
        "sharpness": w.sharpness * sharp_gap,
        "exposure": w.exposure * np.maximum(0.0, np.abs(sev) - w.exposure_tolerance)
        + w.exposure_outlier * np.maximum(0.0, np.abs(ev - np.median(ev)) - 0.3),
        "clipping": w.clipping * np.maximum(0.0, clip_gain - 0.01),
        "noise": w.noise * noisy,
        "eyes": w.eyes * eyes_gap,
        "tones": w.tones * np.maximum(0.0, tone_gap - w.tones_tolerance),
        "subject_clipping": w.clipping * np.maximum(0.0, newly - 0.01),
    }
    quality = w.score * score_credit - sum(penalties.values())
    if w.learned:  # the fitted ranking: the same evidence, costed by what people and known defects say
        features = group_features(members, w.exposure_tolerance)
        cost = {k: w.learned.get(k, 0.0) * features[k] for k in FEATURES}
        penalties = {
            "sharpness": cost["detail"] + cost["face_detail"],
            "exposure": cost["exposure"] + cost["exposure_outlier"],
            "clipping": cost["clipping"],
            "noise": cost["grain"],
            "eyes": cost["eyes"],
            "tones": cost["tones"],
            "subject_clipping": cost["subject_clipping"],
            "tilt": cost["tilt"],
        }
        quality = -sum(cost.values())
        # what the reasons call sharper, softer and noisier: grain-free detail, and grain well above the quietest
        if all(m.detail is not None for m in members):
            credited = np.array([_num(m.detail) for m in members])
            sharp_gap = credited.max() - credited
        noisy = features["grain"] >= 1.0
    leaning = np.abs([_num(m.tilt) for m in members]) if all(m.tilt is not None for m in members) else None
    # a spoiled subject (skin blown, shadows crushed) goes below every frame that holds it
    order = sorted(range(n), key=lambda i: (bool(spoiled[i]), -quality[i], -score_credit[i], i))
    by_user = False
    if pick is not None:
        chosen = next((i for i in range(n) if members[i].index == pick), None)
        if chosen is None:
            raise ValueError(f"{pick} is not in this group")
        by_user = chosen != order[0]
        order = [chosen] + [i for i in order if i != chosen]
    pick = order[0]

    reasons: list[list[str]] = [[] for _ in range(n)]
    # the pick: what it wins on
    won = []
    if credited[pick] >= credited.max() - 1e-9 and sharp_gap.max() > 0.15:
        won.append(f"sharpest of {n}")
    if eyes_gap.max() > 0 and eyes_gap[pick] == 0:
        won.append("eyes open")
    if spoiled.any() and not spoiled[pick]:
        won.append(f"holds the highlights and shadows of {subject_name}")
    elif penalties["exposure"][pick] == 0 and penalties["exposure"].max() > 0.5:
        won.append("well exposed")
    if scores[pick] >= scores.max() - 1e-9:
        won.append(f"highest aesthetic score of {n}")
    if by_user:
        won = ["your pick"] + [r for r in won if not r.startswith("best of")]
    elif not won:
        won = [f"best of {n}: the best balance of sharpness, exposure and score"]
    elif not any(r.startswith(("sharpest", "highest")) for r in won):
        won.insert(0, f"best of {n}")
    reasons[pick] = won

    for i in order[1:]:
        found: list[tuple[float, str]] = []
        if sharp_gap[i] - sharp_gap[pick] > 0.15:
            sim = similarities[i, pick] if similarities is not None else None
            if sim is not None and sim >= 0.9:
                text = "nearly identical to a sharper shot"
            else:
                ratio = 10 ** -(sharp_gap[i] - sharp_gap[pick])
                text = "blurred or shaken" if ratio < 0.2 else "less sharp than the pick"
            found.append((penalties["sharpness"][i], text))
        if sev[i] <= -w.exposure_tolerance and sev[i] < sev[pick] - 0.5:
            found.append((penalties["exposure"][i], f"{_stops(-sev[i])} underexposed"))
        elif sev[i] >= w.exposure_tolerance and sev[i] > sev[pick] + 0.5:
            found.append((penalties["exposure"][i], f"{_stops(sev[i])} overexposed"))
        if newly[i] >= w.subject_clipping and sblown[i] - sblown[pick] >= w.subject_clipping:
            found.append((5.0 + penalties["subject_clipping"][i], f"highlights blown on {subject_name} ({sblown[i] * 100:.0f}%)"))
        elif highlights[i] - np.median(highlights) > 0.02 and highlights[i] > highlights[pick]:
            found.append((penalties["clipping"][i], f"highlights blown ({highlights[i] * 100:.0f}% of the frame)"))
        if newly[i] >= w.subject_clipping and scrushed[i] - scrushed[pick] >= w.subject_clipping:
            found.append((5.0 + penalties["subject_clipping"][i], f"shadows crushed on {subject_name} ({scrushed[i] * 100:.0f}%)"))
        elif shadows[i] - np.median(shadows) > 0.03 and shadows[i] > shadows[pick]:
            found.append((penalties["clipping"][i], f"shadows crushed ({shadows[i] * 100:.0f}% of the frame)"))
        if noisy[i] and not noisy[pick]:
            found.append((penalties["noise"][i], "noisier than the others"))
        if leaning is not None and leaning[i] - leaning[pick] >= 1.5:
            found.append((penalties["tilt"][i] if "tilt" in penalties else 0.0, f"tilted ({abs(members[i].tilt):.0f}°)"))
        if eyes_gap[i] > eyes_gap[pick]:
            found.append((penalties["eyes"][i] + 10, "eyes closed"))  # people look for this first
        if scores[pick] - scores[i] >= 0.3:
            found.append((w.score * (scores[pick] - scores[i]), f"lower aesthetic score ({scores[i]:.1f} vs {scores[pick]:.1f})"))
        found.sort(key=lambda item: -item[0])
        texts = [text for _, text in found][:3]
        reasons[i] = texts or (["not your pick"] if by_user else ["a close second to the pick"])

    out = []
    for rank, i in enumerate(order, start=1):
        out.append(Ranked(members[i].index, rank, rank == 1, round(float(quality[i]), 4), reasons[i]))
    return out


def _num(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _safe(score: float | None) -> float:
    return _num(score) if score is not None else 0.0


__all__ = ["Candidate", "RankWeights", "Ranked", "rank_group"]
