"""The library's culling as the browser sees it: groups from :func:`photocritic.culling.cull_records`,
the user's decisions on top, and XMP sidecars written through :mod:`photocritic.culling.xmp`.

Grouping, ranking, reasons and sidecar merging all come from the culling package, the same code
``photocritic cull`` runs; this module only keeps the user's changes and maps statuses to ratings.

In each group exactly one photo is **the pick** (the suggestion, rank 1, until the user picks
another); the others are **rejects**, as ``cull`` marks them, unless the user **accepts** them too.
A decision on any photo of a group writes the sidecars of the whole group at once, so what Lightroom
or darktable reads is the group as the user left it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from photocritic.culling.xmp import STYLES, XmpError, sidecar_path, write_rating
from photocritic.web.paths import OutsideRoot, resolve_inside

ACTIONS = ("pick", "accept", "reject", "reset")


@dataclass(frozen=True)
class XmpRules:
    """Status -> ``xmp:Rating`` / ``xmp:Label``, with the options and defaults of ``photocritic cull --xmp``.

    The pick gets ``pick_rating``, the others ``reject_rating``; a photo the user *accepts* beside the
    pick is kept, so it gets the pick's rating too. Labels are written only when given. With
    ``overwrite_ratings=False`` (cull's default) a rating the user set in another tool is kept on the
    photos of the group the user did not touch; the photo the user acts on is always written, since
    the decision was just made on it.
    """

    pick_rating: int = 4
    reject_rating: int = 1  # -1: "rejected" in Bridge, darktable and digiKam
    pick_label: str | None = None
    reject_label: str | None = None
    style: str = "replace"  # IMG_1.xmp ("replace") or IMG_1.JPG.xmp ("append")
    overwrite_ratings: bool = False

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"sidecar style must be one of {STYLES}")
        if not 0 <= self.pick_rating <= 5 or not -1 <= self.reject_rating <= 5:
            raise ValueError("ratings: pick 0..5, reject -1..5")

    def rating(self, status: str) -> tuple[int, str | None]:
        if status in ("pick", "keep"):
            return self.pick_rating, self.pick_label
        return self.reject_rating, self.reject_label


class DecisionError(Exception):
    """A decision that could not be saved (an unreadable sidecar, a read-only folder)."""


@dataclass
class Group:
    id: int
    members: list[str]  # photo ids, best rank first
    cull: dict[str, dict]  # photo id -> the cull record (rank, pick, quality, reasons, ...)
    user_pick: str | None = None
    decisions: dict[str, str] = field(default_factory=dict)  # photo id -> "accept" | "reject"
    saved: bool = False

    @property
    def suggested(self) -> str | None:
        for pid in self.members:
            if self.cull[pid].get("pick"):
                return pid
        return None

    def pick(self) -> str | None:
        if self.user_pick is not None:
            return self.user_pick
        # the suggestion, or the best-ranked photo the user did not reject; a flagged photo (black, too
        # small, ...) is never anyone's pick unless the user picks it, as in `photocritic cull`
        for pid in self.members:
            if self.decisions.get(pid) != "reject" and not self.cull[pid].get("flags"):
                return pid
        return None

    def reasons(self, pid: str) -> list[str]:
        """Why *pid* won or lost, relative to the frame that is kept now: after the user picks another
        frame the reasons are recomputed from the ranking evidence, so none is left over from the
        suggestion (a kept frame is never "less sharp than the pick" or "eyes closed" next to it)."""
        kept = self.pick()
        if kept is None or kept == self.suggested or self.cull[pid].get("set"):  # a set's frame is kept whatever the pick
            return list(self.cull[pid].get("reasons") or [])
        from photocritic.culling import reasons_after_pick

        by_path = reasons_after_pick(list(self.cull.values()), self.cull[kept]["path"])
        return by_path.get(self.cull[pid]["path"], list(self.cull[pid].get("reasons") or []))

    def status(self, pid: str) -> str:
        if pid == self.pick():
            return "pick"
        # a frame of an exposure bracket, panorama or focus stack is kept beside the pick unless the user rejects it
        kept = self.decisions.get(pid) == "accept" or (self.cull[pid].get("set") and self.decisions.get(pid) != "reject")
        return "keep" if kept else "reject"

    def apply(self, pid: str, action: str) -> None:
        if action == "pick":
            self.user_pick = pid
            self.decisions.pop(pid, None)
        elif action == "accept":
            if pid != self.pick():
                self.decisions[pid] = "accept"
        elif action == "reject":
            self.decisions[pid] = "reject"
            if self.user_pick == pid:
                self.user_pick = None
        elif action == "reset":
            self.decisions.pop(pid, None)
            if self.user_pick == pid:
                self.user_pick = None
        else:
            raise ValueError(f"action must be one of {ACTIONS}")


class CullingView:
    """Groups of one library, the user's decisions, and the sidecar writer."""

    def __init__(self, library, groups: list[Group], unreadable: list[str], rules: XmpRules) -> None:
        self.library = library
        self.groups = groups
        self.unreadable = unreadable
        self.rules = rules
        self._by_photo = {pid: g for g in groups for pid in g.members}
        self._lock = threading.Lock()

    @classmethod
    def from_cull(cls, library, cull_records: list[dict], previous: "CullingView | None", rules: XmpRules) -> "CullingView":
        """Build from ``cull_records`` output; decisions on photos still grouped together survive a rescan."""
        by_path = {str(p.path): p.id for p in library.photos()}
        grouped: dict[int, list[dict]] = {}
        unreadable = []
        for record in cull_records:
            pid = by_path.get(str(record["path"]))
            if pid is None:
                continue
            if record.get("group") is None:
                unreadable.append(pid)
                continue
            grouped.setdefault(record["group"], []).append({**record, "photo_id": pid})
        groups = []
        for gid in sorted(grouped):
            records = sorted(grouped[gid], key=lambda r: r.get("rank") or 0)
            group = Group(gid, [r["photo_id"] for r in records], {r["photo_id"]: r for r in records})
            if previous is not None:
                old = previous.group_of(group.members[0])
                if old is not None and set(old.members) == set(group.members):
                    group.user_pick, group.decisions, group.saved = old.user_pick, dict(old.decisions), old.saved
            groups.append(group)
        return cls(library, groups, unreadable, rules)

    def group_of(self, pid: str) -> Group | None:
        return self._by_photo.get(pid)

    def decide(self, pid: str, action: str) -> tuple[Group, list[Path], list[Path]]:
        """Apply *action* to photo *pid* and write the sidecars of its whole group.

        Returns the group, the sidecars written and those left alone (a rating the user set elsewhere)."""
        group = self.group_of(pid)
        if group is None:
            raise KeyError(pid)
        with self._lock:
            before = (group.user_pick, dict(group.decisions))
            group.apply(pid, action)
            written: list[Path] = []
            kept: list[Path] = []
            try:
                for member in group.members:
                    photo = self.library.photo(member)
                    rating, label = self.rules.rating(group.status(member))
                    # a sidecar that is a symlink out of the library is never followed
                    sidecar = sidecar_path(photo.path, self.rules.style)
                    resolve_inside(self.library.root, sidecar)
                    path = write_rating(
                        photo.path,
                        rating,
                        label,
                        style=self.rules.style,
                        overwrite=self.rules.overwrite_ratings or member == pid,
                        set_label=label is not None,
                        inside=self.library.root,  # checked again on the open folder, as it is written
                    )
                    (written if path is not None else kept).append(sidecar)
            except (XmpError, OSError, OutsideRoot) as exc:
                group.user_pick, group.decisions = before
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise DecisionError(f"could not write the XMP sidecar: {reason}") from None
            group.saved = True
            return group, written, kept


__all__ = ["ACTIONS", "CullingView", "DecisionError", "Group", "XmpRules"]
