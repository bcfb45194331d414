"""Leave photos out: by tag, by challenge, by how few votes they got.

Tags and challenges are named by id (``31``) or by name, case-insensitively; a name may be
abbreviated to any unambiguous prefix (``Humor`` finds ``Humorous``) and spaces, underscores
and punctuation are ignored (``black and white`` = ``Black_and_White``). The word ``bias``
stands for the four tags the seed analysis wanted out of training: Advertisement, Horror,
Humorous and Political.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from photocritic.ava.parsing import AvaData

BIAS_TAGS = ("Advertisement", "Horror", "Humorous", "Political")


class FilterError(ValueError):
    """A tag or challenge that cannot be resolved (a usage error)."""


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def split_list(values: list[str] | str | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def resolve(items: list[str], names: dict[int, str], what: str, expand_bias: bool = False) -> list[int]:
    """Ids for names/ids. Unknown names raise FilterError with close matches."""
    by_key = {_key(name): number for number, name in names.items()}
    ids: list[int] = []
    for item in items:
        if expand_bias and item.lower() == "bias":
            ids += resolve(list(BIAS_TAGS), names, what)
            continue
        if item.isdigit():
            ids.append(int(item))
            continue
        if not names:
            raise FilterError(f"{what} {item!r} is a name, but no {what} names file was given (pass it, or use ids)")
        key = _key(item)
        if key in by_key:
            ids.append(by_key[key])
            continue
        prefixed = [number for k, number in by_key.items() if key and k.startswith(key)]
        if len(prefixed) == 1:
            ids.append(prefixed[0])
            continue
        if len(prefixed) > 1:
            options = ", ".join(sorted(names[n] for n in prefixed)[:8])
            raise FilterError(f"{what} {item!r} is ambiguous: {options}")
        close = difflib.get_close_matches(item, list(names.values()), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise FilterError(f"unknown {what} {item!r}{hint}")
    return sorted(set(ids))


@dataclass
class FilterSpec:
    drop_tags: list[int] = field(default_factory=list)
    drop_challenges: list[int] = field(default_factory=list)
    min_votes: int = 0

    @property
    def active(self) -> bool:
        return bool(self.drop_tags or self.drop_challenges or self.min_votes > 0)


@dataclass
class FilterResult:
    keep: np.ndarray
    steps: list[tuple[str, int]]  # (description, photos removed by this step, counted in order)

    @property
    def kept(self) -> int:
        return int(self.keep.sum())


def make_spec(drop_tags, drop_challenges, min_votes: int, tag_names: dict[int, str], challenge_names: dict[int, str]) -> FilterSpec:
    return FilterSpec(
        resolve(split_list(drop_tags), tag_names, "tag", expand_bias=True),
        resolve(split_list(drop_challenges), challenge_names, "challenge"),
        int(min_votes or 0),
    )


def apply_filters(data: AvaData, spec: FilterSpec, tag_names: dict[int, str] | None = None,
                  challenge_names: dict[int, str] | None = None) -> FilterResult:
    tag_names, challenge_names = tag_names or {}, challenge_names or {}
    keep = np.ones(len(data), dtype=bool)
    steps: list[tuple[str, int]] = []

    def step(label: str, drop: np.ndarray) -> None:
        removed = int((keep & drop).sum())
        keep[drop] = False
        steps.append((label, removed))

    for tag in spec.drop_tags:
        step(f"tag {tag} {tag_names.get(tag, '')}".strip(), (data.tag1 == tag) | (data.tag2 == tag))
    for challenge in spec.drop_challenges:
        step(f"challenge {challenge} {challenge_names.get(challenge, '')}".strip(), data.challenge == challenge)
    if spec.min_votes > 0:
        step(f"fewer than {spec.min_votes} votes", data.votes < spec.min_votes)
    return FilterResult(keep, steps)
