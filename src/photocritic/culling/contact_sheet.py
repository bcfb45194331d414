"""A self-contained HTML contact sheet: one row per group, the pick highlighted, reasons under each frame.

``DIR/index.html`` plus ``DIR/thumbs/*.jpg`` (small JPEGs, ~20 KB each); no scripts, no network,
no external CSS. Every file name and reason is HTML-escaped. Groups of look-alikes come first
(largest first), then the photos that have none, in a compact grid.
"""
from __future__ import annotations

import hashlib
import html
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from photocritic.reasons import judgement
from photocritic.writers import plural

THUMB_SIDE = 320

_CSS = """
:root { color-scheme: light dark; --bg:#f6f6f4; --card:#fff; --ink:#222; --muted:#666; --pick:#1a9c4a; --line:#ddd; }
@media (prefers-color-scheme: dark) { :root { --bg:#1b1b1b; --card:#262626; --ink:#eee; --muted:#aaa; --line:#3a3a3a; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--bg); color: var(--ink); font: 14px/1.4 system-ui, sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 28px 0 8px; color: var(--muted); font-weight: 600; }
.summary { color: var(--muted); margin-bottom: 16px; }
.group { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin: 12px 0; }
.group h3 { margin: 0 0 8px; font-size: 13px; color: var(--muted); font-weight: 600; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
.singles { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: 184px; flex: 0 0 184px; border: 3px solid transparent; border-radius: 6px; padding: 4px; opacity: .78; }
figure.pick { border-color: var(--pick); opacity: 1; background: color-mix(in srgb, var(--pick) 8%, transparent); }
figure.failed { opacity: 1; border-color: #c0392b; }
.frame { position: relative; width: 100%; height: 150px; display: flex; align-items: center; justify-content: center; background: #00000010; border-radius: 3px; }
.frame img { max-width: 100%; max-height: 150px; display: block; }
.badge { position: absolute; top: 6px; left: 6px; background: var(--pick); color: #fff; font-weight: 700; font-size: 11px; padding: 2px 7px; border-radius: 10px; letter-spacing: .04em; }
.rank { position: absolute; top: 6px; right: 6px; background: #000a; color: #fff; font-size: 11px; padding: 2px 7px; border-radius: 10px; }
figcaption { margin-top: 6px; font-size: 12px; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.score { color: var(--muted); }
ul { margin: 4px 0 0; padding-left: 16px; } li { margin: 0; }
"""


def _thumb_name(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:16] + ".jpg"


def _make_thumb(path: str, target: Path) -> bool:
    from photocritic.imaging import PhotoError, open_for_display

    if target.exists():
        return True
    try:
        image = open_for_display(path, THUMB_SIDE)
        image.save(target, "JPEG", quality=78, optimize=True)
        return True
    except (PhotoError, OSError):
        return False


def _figure(record: dict, thumbs: dict[str, str | None]) -> str:
    name = html.escape(os.path.basename(record["path"]))
    title = html.escape(record["path"], quote=True)
    thumb = thumbs.get(record["path"])
    classes = "pick" if record.get("pick") else ("failed" if record.get("group") is None else "")
    image = f'<img src="thumbs/{quote(thumb)}" alt="{name}" loading="lazy">' if thumb else "<span>no preview</span>"
    # a frame of an exposure bracket, panorama or focus stack is kept as part of its set: the badge says which
    label = html.escape(str(record["set"]).upper()) if record.get("set") else "PICK"
    badge = f'<span class="badge">{label}</span>' if record.get("pick") else ""
    rank = f'<span class="rank">#{record["rank"]}</span>' if record.get("rank") and (record.get("group_size") or 1) > 1 else ""
    score = record.get("score")
    score_text = " · ".join(filter(None, [f"score {score:.2f}" if isinstance(score, (int, float)) else "not scored",
                                          judgement(record)]))
    reasons = "".join(f"<li>{html.escape(str(r))}</li>" for r in record.get("reasons") or [])
    return (
        f'<figure class="{classes}" title="{title}"><div class="frame">{image}{badge}{rank}</div>'
        f'<figcaption><div class="name">{name}</div><div class="score">{score_text}</div><ul>{reasons}</ul></figcaption></figure>'
    )


def write_contact_sheet(records: Sequence[dict], folder: str | os.PathLike, title: str = "photocritic cull", workers: int = 2,
                        progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``folder/index.html`` and its thumbnails for cull *records*; returns the HTML path.
    *progress(done, total)* is told of each thumbnail made."""
    folder = Path(folder).expanduser()
    thumbs_dir = folder / "thumbs"
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    names = {r["path"]: _thumb_name(r["path"]) for r in records}
    made = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for ok in pool.map(lambda p: _make_thumb(p, thumbs_dir / names[p]), list(names)):
            made.append(ok)
            if progress:
                progress(len(made), len(names))
    thumbs = {p: (names[p] if ok else None) for p, ok in zip(names, made)}

    groups: dict[int, list[dict]] = {}
    failed = []
    for record in records:
        if record.get("group") is None:
            failed.append(record)
        else:
            groups.setdefault(record["group"], []).append(record)
    multi = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]["group"]))
    singles = [g[0] for g in groups.values() if len(g) == 1]

    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<div class="summary">{plural(len(records), "photo")} · {plural(len(multi), "group")} of look-alikes · '
        f"{plural(sum(len(g) - 1 for g in multi), 'frame')} to reject · {plural(len(singles), 'photo')} with no look-alike"
        + (f" · {len(failed)} could not be read" if failed else "")
        + "</div>",
    ]
    for group in multi:
        members = sorted(group, key=lambda r: r.get("rank") or 0)
        parts.append(f'<section class="group"><h3>Group {group[0]["group"]} · {plural(len(group), "photo")}</h3><div class="row">')
        parts.extend(_figure(r, thumbs) for r in members)
        parts.append("</div></section>")
    if singles:
        parts.append('<h2>No look-alike (kept)</h2><div class="singles">')
        parts.extend(_figure(r, thumbs) for r in singles)
        parts.append("</div>")
    if failed:
        parts.append('<h2>Could not be read</h2><div class="singles">')
        parts.extend(_figure(r, thumbs) for r in failed)
        parts.append("</div>")
    parts.append("</body></html>\n")
    target = folder / "index.html"
    partial = folder / ".index.html.partial"
    partial.write_text("".join(parts), encoding="utf-8")
    os.replace(partial, target)
    return target


__all__ = ["THUMB_SIDE", "write_contact_sheet"]
