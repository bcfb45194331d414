"""Figures of the AVA report, drawn from an :class:`~photocritic.ava.analysis.Analysis`.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch), so it
runs headless and never touches another module's plotting state. Every figure is drawn only
from the analysis tables, which are also written as CSV: the picture and its numbers agree.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from photocritic.ava.analysis import BIN_EDGES, Analysis, Table

BLUE, ORANGE, GREY, RED = "#3b6ea8", "#d9822b", "#9aa5b1", "#c23b3b"
DPI = 80


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, **kwargs):
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, **kwargs)
    return fig, axes


def _save(fig: Figure, folder: Path, name: str) -> Path:
    path = Path(folder) / f"{name}.png"
    fig.savefig(path, dpi=DPI)
    return path


def _col(table: Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name))


def _empty(axis, title: str) -> None:
    axis.set_axis_off()
    axis.set_title(title)


def _bin_centres() -> np.ndarray:
    return (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2


def global_ratings(a: Analysis, folder: Path) -> Path:
    fig, ax = _figure(12, 3.6, 1, 3)
    dist, hist, per_rating = a.tables["rating_distribution"], a.tables["score_histogram"], a.tables["votes_per_rating"]
    ax[0, 0].bar(_col(dist, "rating"), _col(dist, "share_of_votes"), color=BLUE)
    ax[0, 0].set(title="Normalised distribution of ratings", xlabel="rating", ylabel="share of all votes", xticks=range(1, 11))
    ax[0, 1].bar(_bin_centres(), _col(hist, "photos"), width=BIN_EDGES[1] - BIN_EDGES[0], color=BLUE, edgecolor="white", linewidth=0.3)
    ax[0, 1].axvline(a.facts["mean_score"], color=ORANGE, linestyle="--", label=f"mean {a.facts['mean_score']:.2f}")
    ax[0, 1].set(title="Histogram of mean scores", xlabel="mean score (weighted average)", ylabel="photos", xlim=(1, 10))
    ax[0, 1].legend(frameon=False)
    ax[0, 2].bar(_col(per_rating, "rating"), _col(per_rating, "mean_votes"), yerr=_col(per_rating, "sd_votes"), color=BLUE,
                 ecolor=GREY, capsize=3)
    ax[0, 2].set(title="Votes per rating per photo (mean ± sd)", xlabel="rating", ylabel="votes", xticks=range(1, 11))
    return _save(fig, folder, "global_ratings")


def votes_per_photo(a: Analysis, folder: Path) -> Path:
    t = a.tables["votes_per_photo_histogram"]
    fig, ax = _figure(6, 3.2)
    lo, hi = _col(t, "votes_low"), _col(t, "votes_high")
    ax[0, 0].bar(lo, _col(t, "photos"), width=hi - lo, align="edge", color=BLUE, edgecolor="white", linewidth=0.3)
    ax[0, 0].axvline(a.facts["mean_votes_per_photo"], color=ORANGE, linestyle="--", label=f"mean {a.facts['mean_votes_per_photo']:.0f}")
    ax[0, 0].set(title="Votes per photo", xlabel="votes", ylabel="photos")
    ax[0, 0].legend(frameon=False)
    return _save(fig, folder, "votes_per_photo")


def tag_counts(a: Analysis, folder: Path) -> Path:
    t = a.tables["tags"]
    names, photos, ids = t.column("tag"), _col(t, "photos"), _col(t, "tag_id")
    fig, ax = _figure(7, max(3.0, 0.16 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax[0, 0].barh(y, photos, color=np.where(ids == 0, ORANGE, BLUE), height=0.8)
    ax[0, 0].set_yticks(y, names, fontsize=7)
    ax[0, 0].set(title=f"Photos per tag; untagged: {a.facts['untagged_share']:.1%} of photos", xlabel="photos", ylim=(-0.7, len(names) - 0.3))
    return _save(fig, folder, "tag_counts")


HEAT_VMAX = 0.15  # colour saturates at 15 % of a row's photos in one 0.2-wide bin, so big groups stay readable


def _heatmap(ax, labels: list[str], matrix: np.ndarray, title: str, extent_x=(1.0, 10.0), xlabel="mean score", cmap="viridis"):
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(share, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0, vmax=HEAT_VMAX,
                      extent=(extent_x[0], extent_x[1], len(labels) - 0.5, -0.5))
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=6)
    ax.set(title=title, xlabel=xlabel)
    return image


def tag_histograms(a: Analysis, folder: Path) -> Path:
    labels, hist = a.hist_tags
    fig, ax = _figure(12, max(3.0, 0.15 * len(labels) + 1.4), 1, 2)
    image = _heatmap(ax[0, 0], labels, hist, "Histogram of mean scores per tag (row = tag, share of its photos)")
    fig.colorbar(image, ax=ax[0, 0], shrink=0.5, extend="max", label="share of the tag's photos")
    dist = a.tables["tag_rating_distributions"]
    shares = np.array([row[2:] for row in dist.rows], dtype=float)
    image = ax[0, 1].imshow(shares, aspect="auto", interpolation="nearest", cmap="magma", extent=(0.5, 10.5, len(labels) - 0.5, -0.5))
    ax[0, 1].set_yticks(np.arange(len(labels)), dist.column("tag"), fontsize=6)
    ax[0, 1].set(title="Normalised distribution of ratings per tag", xlabel="rating", xticks=range(1, 11))
    fig.colorbar(image, ax=ax[0, 1], shrink=0.5, label="share of the tag's votes")
    return _save(fig, folder, "tag_histograms")


def _small_multiples(labels: list[str], hist: np.ndarray, title: str, cols: int = 4) -> Figure:
    rows = max(1, int(np.ceil(len(labels) / cols)))
    fig, ax = _figure(3 * cols, 2.4 * rows + 0.6, rows, cols)
    for i, axis in enumerate(ax.flat):
        if i >= len(labels):
            axis.set_visible(False)
            continue
        axis.bar(_bin_centres(), hist[i], width=BIN_EDGES[1] - BIN_EDGES[0], color=BLUE)
        axis.set_title(labels[i], fontsize=9)
        axis.set_xlim(1, 10)
    fig.suptitle(title)
    return fig


def tag_examples(a: Analysis, folder: Path) -> Path:
    """The tags whose histograms are the most peaked (smallest sd of mean scores, >= 30 photos)."""
    t = a.tables["tags"]
    labels, hist = a.hist_tags
    sd, photos = _col(t, "sd_score"), _col(t, "photos")
    candidates = [i for i in np.argsort(sd) if photos[i] >= 30][:4]
    return _save(_small_multiples([labels[i] for i in candidates], hist[candidates],
                                  "Most peaked tag histograms (smallest spread of mean scores)"), folder, "tag_examples")


def challenge_submissions(a: Analysis, folder: Path) -> Path:
    t = a.tables["challenges"]
    groups, names, subs = t.column("group"), t.column("challenge"), _col(t, "submissions")
    top = [i for i, g in enumerate(groups) if g == "top"]
    bottom = [i for i, g in enumerate(groups) if g == "bottom"]
    fig, ax = _figure(12, max(3.0, 0.14 * max(len(top), len(bottom)) + 1.3), 1, 2)
    for axis, members, label in ((ax[0, 0], top, "Top"), (ax[0, 1], bottom, "Bottom")):
        if not members:
            _empty(axis, f"{label}: no challenges")
            continue
        y = np.arange(len(members))[::-1]
        axis.barh(y, subs[members], color=BLUE if label == "Top" else ORANGE, height=0.8)
        axis.set_yticks(y, [names[i] for i in members], fontsize=6)
        axis.axvline(a.facts["mean_submissions"], color=GREY, linestyle="--", label=f"all challenges: {a.facts['mean_submissions']:.0f}")
        axis.set(title=f"{label} {len(members)} challenges by submissions (mean {subs[members].mean():.0f})", xlabel="photos submitted",
                 ylim=(-0.7, len(members) - 0.3))
        axis.legend(frameon=False, loc="lower right")
    return _save(fig, folder, "challenge_submissions")


def challenge_histograms(a: Analysis, folder: Path) -> Path:
    t = a.tables["challenges"]
    fig, ax = _figure(14, max(3.0, 0.14 * len(a.hist_top[0]) + 1.5), 1, 4, width_ratios=[3, 2, 3, 2])
    image = None
    for k, (part, label) in enumerate(((a.hist_top, "top"), (a.hist_bottom, "bottom"))):
        names, hist = part
        if not names:
            _empty(ax[0, 2 * k], f"{label.title()}: no challenges")
            _empty(ax[0, 2 * k + 1], "")
            continue
        image = _heatmap(ax[0, 2 * k], names, hist, f"{label.title()} {len(names)}: histogram of mean scores")
        dist = np.array([row[10:20] for row in t.rows if row[3] == label], dtype=float)
        ax[0, 2 * k + 1].imshow(dist, aspect="auto", interpolation="nearest", cmap="magma", extent=(0.5, 10.5, len(names) - 0.5, -0.5))
        ax[0, 2 * k + 1].set(title="rating distribution", xlabel="rating", xticks=range(1, 11, 3), yticks=[])
    if image is not None:
        fig.colorbar(image, ax=ax[0, :], shrink=0.3, extend="max", location="bottom",
                     label="share of the challenge's photos in a 0.2-wide bin")
    return _save(fig, folder, "challenge_histograms")


def challenge_examples(a: Analysis, folder: Path) -> Path:
    names, hist = a.hist_bottom
    pick = list(range(len(names)))[-6:][::-1]
    return _save(_small_multiples([names[i] for i in pick], hist[pick],
                                  "Smallest challenges: histograms break into isolated bars", cols=3), folder, "challenge_examples")


def challenge_profiles(a: Analysis, folder: Path) -> Path:
    t = a.tables["challenge_vote_profiles"]
    ids = list(dict.fromkeys((row[0], row[1], row[2], row[3]) for row in t.rows))
    cols = 4
    rows = int(np.ceil(len(ids) / cols))
    fig, ax = _figure(12, 2.4 * rows, rows, cols, sharey=True)
    for axis, key in zip(ax.flat, ids):
        sel = [row for row in t.rows if tuple(row[:4]) == key]
        axis.bar([r[4] for r in sel], [r[5] for r in sel], yerr=[r[6] for r in sel], color=BLUE if key[0] == "largest" else ORANGE,
                 ecolor=GREY, capsize=2)
        axis.set_title(f"{key[2]} ({key[3]} photos)", fontsize=9)
        axis.set_xticks(range(1, 11))
    for axis in list(ax.flat)[len(ids):]:
        axis.set_visible(False)
    fig.suptitle("Votes per rating (mean ± sd per photo): largest (blue) and smallest (orange) challenges")
    return _save(fig, folder, "challenge_profiles")


def challenge_votes(a: Analysis, folder: Path) -> Path:
    t = a.tables["challenges"]
    groups, votes, sd, subs = t.column("group"), _col(t, "mean_votes_per_photo"), _col(t, "sd_votes_per_photo"), _col(t, "submissions")
    fig, ax = _figure(14, 3.8, 1, 3, width_ratios=[2, 2, 1.6])
    for axis, label, colour in ((ax[0, 0], "top", BLUE), (ax[0, 1], "bottom", ORANGE)):
        members = [i for i, g in enumerate(groups) if g == label]
        if not members:
            _empty(axis, f"{label}: no challenges")
            continue
        axis.bar(np.arange(len(members)), votes[members], yerr=sd[members], color=colour, ecolor=GREY, error_kw={"linewidth": 0.6})
        axis.axhline(votes[members].mean(), color="black", linestyle="--", label=f"mean of means {votes[members].mean():.0f}")
        axis.set(title=f"Mean votes per photo, {label} {len(members)} challenges", xlabel="challenge (ranked by submissions)",
                 ylabel="votes per photo (± sd)")
        axis.legend(loc="upper right", framealpha=0.9)
    ax[0, 2].scatter(subs, votes, s=6, color=BLUE, alpha=0.5)
    ax[0, 2].set_xscale("log")
    ax[0, 2].set(title=f"All challenges (Spearman {a.facts['spearman_submissions_vs_votes']:.2f})", xlabel="submissions (log)",
                 ylabel="mean votes per photo")
    return _save(fig, folder, "challenge_votes")


def extreme_votes(a: Analysis, folder: Path) -> Path:
    per_rating, t = a.tables["votes_per_rating"], a.tables["extreme_votes"]
    fig, ax = _figure(12, 3.4, 1, 2)
    share = _col(per_rating, "share_photos_with_any")
    ax[0, 0].bar(_col(per_rating, "rating"), share * 100, color=[RED if k in (1, 10) else BLUE for k in range(1, 11)])
    ax[0, 0].set(title="Photos with at least one vote at each rating", xlabel="rating", ylabel="% of photos", xticks=range(1, 11), ylim=(0, 105))
    lo, hi, photos = _col(t, "percent_extreme_low"), _col(t, "percent_extreme_high"), _col(t, "photos")
    ax[0, 1].bar(lo, photos, width=np.minimum(hi - lo, 1.0), align="edge", color=RED)
    ax[0, 1].set(title="Share of a photo's votes that are 1 or 10 (last bar: ≥ 30 %)",
                 xlabel="% of the photo's votes", ylabel="photos")
    return _save(fig, folder, "extreme_votes")


def score_comparison(a: Analysis, folder: Path) -> Path:
    t = a.tables["score_spearman"]
    names = t.columns[1:]
    matrix = np.array([row[1:] for row in t.rows], dtype=float)
    scores = a.scores.scores
    fig, ax = _figure(14, 4.0, 1, 3)
    image = ax[0, 0].imshow(matrix, cmap="viridis", vmin=min(0.9, matrix.min()), vmax=1.0)
    ax[0, 0].set_xticks(range(len(names)), names)
    ax[0, 0].set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax[0, 0].text(j, i, f"{matrix[i, j]:.4f}", ha="center", va="center", fontsize=8, color="white" if matrix[i, j] < 0.97 else "black")
    ax[0, 0].set_title("Spearman correlation between scores")
    fig.colorbar(image, ax=ax[0, 0], shrink=0.8)
    for axis, other in ((ax[0, 1], "extreme"), (ax[0, 2], "lcb")):
        axis.hexbin(scores["naive"], scores[other], gridsize=60, bins="log", cmap="Blues", mincnt=1)
        lo, hi = float(scores["naive"].min()), float(scores["naive"].max())
        axis.plot([lo, hi], [lo, hi], color=ORANGE, linewidth=1, label="y = x")
        axis.set(title=f"naive mean vs {other}", xlabel="naive mean", ylabel=other)
        axis.legend(frameon=False, loc="upper left")
    return _save(fig, folder, "score_comparison")


ALL_FIGURES = (global_ratings, votes_per_photo, tag_counts, tag_histograms, tag_examples, challenge_submissions,
               challenge_histograms, challenge_examples, challenge_profiles, challenge_votes, extreme_votes, score_comparison)


def draw_all(a: Analysis, folder: Path) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {fn.__name__: fn(a, folder) for fn in ALL_FIGURES}
