"""The numbers behind every figure of the AVA report, as plain tables (written as CSV).

Everything here is vectorised (``np.bincount`` over dense group indices), so the full
255,530-row AVA.txt is analysed in well under a second.

Definitions used throughout:

* a photo's *mean score* is the naive weighted mean of its votes (see ``scores.py``);
* the *normalised distribution of ratings* pools every vote: share of all votes at rating k;
* a photo belongs to a tag when either tag column holds it; *untagged* = both columns 0;
* *submissions* of a challenge = its photos in the file; *votes per photo* = votes a photo got;
* *extreme votes* are votes of 1 or 10.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from photocritic.ava.parsing import RATINGS, AvaData
from photocritic.ava.scores import (
    SCORE_FORMULAS,
    ScoreSet,
    compute_scores,
    rerank_table,
)

BIN_WIDTH = 0.2
BIN_EDGES = np.round(np.arange(1.0, 10.0 + BIN_WIDTH / 2, BIN_WIDTH), 10)
N_BINS = BIN_EDGES.size - 1
TOP_N = 70
PROFILE_N = 4  # challenges shown in the per-rating vote profiles (largest and smallest)


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[list]
    title: str = ""

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def write_csv(self, folder: Path) -> Path:
        path = Path(folder) / f"{self.name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(self.columns)
            for row in self.rows:
                writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])
        return path


@dataclass
class Analysis:
    photos: int
    tables: dict[str, Table] = field(default_factory=dict)
    facts: dict[str, float] = field(default_factory=dict)
    scores: ScoreSet | None = None
    hist_tags: tuple[list[str], np.ndarray] | None = None  # labels, (rows, N_BINS) counts
    hist_top: tuple[list[str], np.ndarray] | None = None
    hist_bottom: tuple[list[str], np.ndarray] | None = None

    def add(self, table: Table) -> Table:
        self.tables[table.name] = table
        return table


def bin_index(values: np.ndarray) -> np.ndarray:
    """Bins as np.histogram: [lo, hi), the last one [9.8, 10]. A mean of exactly 5.4 falls in 5.4-5.6
    (dividing by the bin width instead would put it in 5.2-5.4 through rounding)."""
    return np.clip(np.searchsorted(BIN_EDGES, values, side="right") - 1, 0, N_BINS - 1)


def grouped_histograms(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, N_BINS) counts of `values` per dense `group` index."""
    flat = np.bincount(group * N_BINS + bin_index(values), minlength=n_groups * N_BINS)
    return flat.reshape(n_groups, N_BINS)


def tag_membership(data: AvaData) -> tuple[np.ndarray, np.ndarray]:
    """(photo index, tag id) pairs: one per tag a photo has, tag 0 for untagged photos (never double-counted)."""
    n = np.arange(len(data))
    first = data.tag1 > 0
    second = (data.tag2 > 0) & (data.tag2 != data.tag1)
    untagged = ~first & ~(data.tag2 > 0)
    photos = np.concatenate([n[first], n[second], n[untagged]])
    tags = np.concatenate([data.tag1[first], data.tag2[second], np.zeros(int(untagged.sum()), dtype=np.int64)])
    return photos, tags


def _group_stats(values: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = np.bincount(group, minlength=n_groups).astype(np.float64)
    total = np.bincount(group, weights=values, minlength=n_groups)
    squares = np.bincount(group, weights=values**2, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        sd = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return count, mean, sd


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _bin_labels() -> list[str]:
    return [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(BIN_EDGES[:-1], BIN_EDGES[1:])]


def analyse(data: AvaData, tag_names: dict[int, str] | None = None, challenge_names: dict[int, str] | None = None,
            prior_votes: float | None = None, top_n: int = TOP_N) -> Analysis:
    tag_names, challenge_names = tag_names or {}, challenge_names or {}
    counts = data.counts.astype(np.float64)
    votes = counts.sum(axis=1)
    scores = compute_scores(counts, data.challenge, prior_votes)
    mean = scores.scores["naive"]
    out = Analysis(photos=len(data), scores=scores)
    out.facts.update(photos=len(data), votes=float(votes.sum()), mean_votes_per_photo=float(votes.mean()),
                     median_votes_per_photo=float(np.median(votes)), min_votes=float(votes.min()),
                     max_votes=float(votes.max()), mean_score=float(mean.mean()), sd_score=float(mean.std()),
                     prior_votes=scores.prior_votes)

    # Global: normalised distribution, histogram of mean scores, votes per rating
    pooled = counts.sum(axis=0)
    per_photo_share = (counts / votes[:, None]).mean(axis=0)
    out.add(Table("rating_distribution", ["rating", "votes", "share_of_votes", "mean_share_per_photo"],
                  [[int(k), int(pooled[k - 1]), float(pooled[k - 1] / pooled.sum()), float(per_photo_share[k - 1])] for k in RATINGS],
                  "Normalised distribution of ratings (all votes pooled)"))
    hist = np.bincount(bin_index(mean), minlength=N_BINS)
    out.add(Table("score_histogram", ["bin_low", "bin_high", "photos", "share"],
                  [[float(BIN_EDGES[i]), float(BIN_EDGES[i + 1]), int(hist[i]), float(hist[i] / len(data))] for i in range(N_BINS)],
                  "Histogram of mean scores"))
    any_k = (counts > 0).mean(axis=0)
    out.add(Table("votes_per_rating", ["rating", "mean_votes", "sd_votes", "median_votes", "share_photos_with_any"],
                  [[int(k), float(counts[:, k - 1].mean()), float(counts[:, k - 1].std()), float(np.median(counts[:, k - 1])),
                    float(any_k[k - 1])] for k in RATINGS], "Votes per rating per photo: mean and spread"))
    vote_hist, vote_edges = np.histogram(votes, bins=min(60, max(5, int(votes.max() - votes.min()) // 5 + 1)))
    out.add(Table("votes_per_photo_histogram", ["votes_low", "votes_high", "photos"],
                  [[float(vote_edges[i]), float(vote_edges[i + 1]), int(vote_hist[i])] for i in range(vote_hist.size)],
                  "Votes per photo"))

    # Tags (photos per tag incl. untagged; histograms and rating distributions per tag)
    photo_idx, tag_ids = tag_membership(data)
    tag_keys, tag_group = np.unique(tag_ids, return_inverse=True)
    tag_group = tag_group.reshape(-1)
    n_tags = tag_keys.size
    t_count, t_mean, t_sd = _group_stats(mean[photo_idx], tag_group, n_tags)
    _, t_votes, _ = _group_stats(votes[photo_idx], tag_group, n_tags)
    untagged = int(((data.tag1 == 0) & (data.tag2 == 0)).sum())
    out.facts.update(untagged=untagged, untagged_share=untagged / len(data), tags_used=int((tag_keys > 0).sum()),
                     one_tag=int(((data.tag1 > 0) ^ (data.tag2 > 0)).sum()), two_tags=int(((data.tag1 > 0) & (data.tag2 > 0)).sum()))

    def tag_label(t: int) -> str:
        return "(untagged)" if t == 0 else tag_names.get(int(t), f"tag {int(t)}")

    order = np.lexsort((tag_keys, -t_count))
    out.add(Table("tags", ["tag_id", "tag", "photos", "share_of_photos", "mean_score", "sd_score", "mean_votes"],
                  [[int(tag_keys[i]), tag_label(tag_keys[i]), int(t_count[i]), float(t_count[i] / len(data)), float(t_mean[i]),
                    float(t_sd[i]), float(t_votes[i])] for i in order], "Photos per tag (a photo counts once per tag it has)"))
    tag_hist = grouped_histograms(mean[photo_idx], tag_group, n_tags)
    out.add(Table("tag_score_histograms", ["tag_id", "tag"] + _bin_labels(),
                  [[int(tag_keys[i]), tag_label(tag_keys[i])] + tag_hist[i].tolist() for i in order], "Histogram of mean scores per tag"))
    tag_pooled = np.vstack([np.bincount(tag_group, weights=counts[photo_idx, k], minlength=n_tags) for k in range(10)]).T
    tag_dist = tag_pooled / tag_pooled.sum(axis=1, keepdims=True)
    out.add(Table("tag_rating_distributions", ["tag_id", "tag"] + [f"share_{k}" for k in RATINGS],
                  [[int(tag_keys[i]), tag_label(tag_keys[i])] + tag_dist[i].tolist() for i in order],
                  "Normalised distribution of ratings per tag"))
    out.hist_tags = ([f"{tag_label(tag_keys[i])} ({int(t_count[i])})" for i in order], tag_hist[order])

    # Challenges
    ch_keys, ch_group = np.unique(data.challenge, return_inverse=True)
    ch_group = ch_group.reshape(-1)
    n_ch = ch_keys.size
    c_count, c_mean, c_sd = _group_stats(mean, ch_group, n_ch)
    _, c_votes, c_votes_sd = _group_stats(votes, ch_group, n_ch)
    extreme = counts[:, 0] + counts[:, 9]
    _, c_extreme, _ = _group_stats((extreme > 0).astype(np.float64), ch_group, n_ch)
    c_pooled = np.vstack([np.bincount(ch_group, weights=counts[:, k], minlength=n_ch) for k in range(10)]).T
    c_dist = c_pooled / c_pooled.sum(axis=1, keepdims=True)
    rank = np.lexsort((ch_keys, -c_count))  # most submissions first, ties by id
    top_n = min(top_n, (n_ch + 1) // 2)  # fewer than 2 x 70 challenges: split them, never overlap
    bottom_n = min(top_n, n_ch - top_n)
    top, bottom = rank[:top_n], rank[n_ch - bottom_n:]  # both in descending order of submissions

    def ch_label(c: int) -> str:
        return challenge_names.get(int(c), f"challenge {int(c)}")

    group_of = np.full(n_ch, "middle", dtype=object)
    group_of[bottom] = "bottom"
    group_of[top] = "top"
    position = np.empty(n_ch, dtype=np.int64)
    position[rank] = np.arange(1, n_ch + 1)
    out.add(Table("challenges", ["challenge_id", "challenge", "rank_by_submissions", "group", "submissions", "mean_score",
                                 "sd_score", "mean_votes_per_photo", "sd_votes_per_photo", "share_photos_with_extreme_votes"]
                  + [f"share_{k}" for k in RATINGS],
                  [[int(ch_keys[i]), ch_label(ch_keys[i]), int(position[i]), group_of[i], int(c_count[i]), float(c_mean[i]),
                    float(c_sd[i]), float(c_votes[i]), float(c_votes_sd[i]), float(c_extreme[i])] + c_dist[i].tolist() for i in rank],
                  "Challenges ranked by submissions"))
    ch_hist = grouped_histograms(mean, ch_group, n_ch)
    out.add(Table("challenge_score_histograms", ["challenge_id", "challenge", "submissions"] + _bin_labels(),
                  [[int(ch_keys[i]), ch_label(ch_keys[i]), int(c_count[i])] + ch_hist[i].tolist() for i in rank],
                  "Histogram of mean scores per challenge"))
    out.hist_top = ([f"{ch_label(ch_keys[i])} ({int(c_count[i])})" for i in top], ch_hist[top])
    out.hist_bottom = ([f"{ch_label(ch_keys[i])} ({int(c_count[i])})" for i in bottom], ch_hist[bottom])
    out.facts.update(challenges=n_ch, top_n=top_n, bottom_n=bottom_n, mean_submissions=float(c_count.mean()),
                     top_mean_submissions=_mean(c_count[top]), bottom_mean_submissions=_mean(c_count[bottom]),
                     top_mean_votes=_mean(c_votes[top]), bottom_mean_votes=_mean(c_votes[bottom]),
                     all_challenges_mean_votes=float(c_votes.mean()))

    # Reliability: votes per photo, not submissions, set the standard error of a photo's mean
    se = scores.sd / np.sqrt(votes)
    rho = spearmanr(c_count, c_votes).statistic if n_ch > 2 else float("nan")
    rows = []
    for label, members in (("top", top), ("bottom", bottom), ("all", np.arange(n_ch))):
        in_group = np.isin(ch_group, members)
        rows.append([label, int(members.size), _mean(c_count[members]), _mean(c_votes[members]), _mean(votes[in_group]),
                     float(np.median(se[in_group])) if in_group.any() else float("nan")])
    out.add(Table("reliability", ["challenges", "count", "mean_submissions", "mean_of_mean_votes_per_photo",
                                  "mean_votes_per_photo", "median_standard_error_of_mean"], rows,
                  "Submissions vs votes per photo"))
    out.facts.update(spearman_submissions_vs_votes=float(rho), median_standard_error=float(np.median(se)))

    profile_rows = []
    for label, members in (("largest", rank[:PROFILE_N]), ("smallest", rank[::-1][:PROFILE_N])):
        for i in members:
            sel = ch_group == i
            for k in RATINGS:
                profile_rows.append([label, int(ch_keys[i]), ch_label(ch_keys[i]), int(c_count[i]), int(k),
                                     float(counts[sel, k - 1].mean()), float(counts[sel, k - 1].std())])
    out.add(Table("challenge_vote_profiles", ["group", "challenge_id", "challenge", "submissions", "rating", "mean_votes",
                                              "sd_votes"], profile_rows, "Votes per rating in the largest and smallest challenges"))

    # Extreme votes
    extreme_share = extreme / votes
    out.facts.update(share_any_1=float((counts[:, 0] > 0).mean()), share_any_10=float((counts[:, 9] > 0).mean()),
                     share_any_extreme=float((extreme > 0).mean()), share_extreme_over_5pct=float((extreme_share > 0.05).mean()),
                     share_votes_extreme=float(extreme.sum() / votes.sum()))
    ex_hist, ex_edges = np.histogram(extreme_share * 100, bins=np.arange(0, 31, 1.0))
    ex_rows = [[float(ex_edges[i]), float(ex_edges[i + 1]), int(ex_hist[i])] for i in range(ex_hist.size)]
    ex_rows.append([30.0, 100.0, int((extreme_share * 100 >= 30).sum())])
    out.add(Table("extreme_votes", ["percent_extreme_low", "percent_extreme_high", "photos"], ex_rows,
                  "Share of a photo's votes that are 1 or 10"))

    # Scores and how they re-rank
    k_small, k_large = min(100, len(data)), max(1, len(data) // 10)
    out.add(Table("scores_summary", ["score", "formula", "mean", "sd", "min", "max"],
                  [[name, SCORE_FORMULAS[name], float(v.mean()), float(v.std()), float(v.min()), float(v.max())]
                   for name, v in scores.scores.items()], "Scores"))
    rerank, names, matrix = rerank_table(scores.scores, (k_small, k_large))
    out.add(Table("score_reranking", ["score", "spearman_vs_naive", f"top{k_small}_overlap_vs_naive",
                                      f"top{k_large}_overlap_vs_naive", "median_rank_shift_pct", "p99_rank_shift_pct"],
                  rerank, "How each score re-ranks photos (vs naive mean)"))
    out.add(Table("score_spearman", ["score"] + names, [[n] + matrix[i].tolist() for i, n in enumerate(names)],
                  "Spearman correlation between scores"))
    return out
