// The library page: scoring progress, culling groups, keyboard review (filters, sort, loupe, compare),
// decisions saved as XMP sidecars.
"use strict";

(() => {
  const groupsBox = document.getElementById("groups");
  const progressBox = document.getElementById("progress");
  const progressBar = document.getElementById("progress-bar");
  const progressText = document.getElementById("progress-text");
  const summary = document.getElementById("summary");
  const shown = document.getElementById("shown");
  const toast = document.getElementById("toast");
  const rescan = document.getElementById("rescan");
  const filterBox = document.getElementById("filter");
  const sortBox = document.getElementById("sort");
  const viewer = document.getElementById("viewer");
  const viewerTitle = document.getElementById("viewer-title");
  const viewerKeys = document.getElementById("viewer-keys");
  const viewerPanes = document.getElementById("viewer-panes");

  let groups = [];
  let view = []; // [{ gi, members: [pi, ...] }] after the filter and the sort
  let generation = -1;
  let focus = { v: 0, k: 0 };
  let focusId = null;
  let busy = false;
  let toastTimer = null;
  let mode = null; // null | "loupe" | "compare"
  let other = 0; // compare: which other frame of the group is on the right
  let zoomed = true; // compare: 100% crops (true) or whole frames
  const expanded = new Set(); // photo ids whose full reasons are shown

  function say(message, isError = false) {
    toast.textContent = message;
    toast.className = "toast" + (isError ? " error" : "");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, isError ? 6000 : 2500);
  }

  // -- progress -------------------------------------------------------------------------------
  async function poll() {
    let status;
    try {
      status = await PC.api("/api/library/status");
    } catch (error) {
      say(error.message, true);
      setTimeout(poll, 3000);
      return;
    }
    const running = ["listing", "scoring", "grouping"].includes(status.state);
    progressBox.hidden = !running && status.state !== "error";
    if (status.state === "listing") {
      progressBar.removeAttribute("value");
      progressText.textContent = "Looking for photos…";
    } else if (status.state === "scoring") {
      progressBar.max = Math.max(1, status.total);
      progressBar.value = status.done;
      progressText.textContent = `Scoring ${status.done} of ${status.total} photos…`;
    } else if (status.state === "grouping") {
      progressBar.value = progressBar.max;
      progressText.textContent = "Grouping bursts…";
    } else if (status.state === "error") {
      progressText.textContent = `Scoring failed: ${status.message}`;
    }
    rescan.disabled = running;
    if (status.generation !== generation && status.state === "ready") {
      generation = status.generation;
      await loadGroups();
    }
    setTimeout(poll, running ? 600 : 4000);
  }

  async function loadGroups() {
    const answer = await PC.api("/api/library/groups");
    groups = answer.groups;
    const bursts = groups.filter((g) => g.members.length > 1).length;
    const flagged = groups.filter((g) => g.members.some((m) => m.flagged)).length;
    summary.textContent = `${answer.photos} photos · ${bursts} bursts or near-duplicate sets · ` +
      `${flagged} flagged singles · ${answer.failed} unreadable`;
    render();
  }

  // -- filter and sort --------------------------------------------------------------------------
  const FILTERS = {
    all: () => true,
    picks: (m) => (m.status === "pick" || m.status === "keep") && !(m.flagged && !m.decided),
    rejects: (m) => m.status === "reject",
    undecided: (m, g) => !m.decided && !g.saved,
    flagged: (m) => m.flagged,
  };

  function bestScore(group) {
    return Math.max(...group.members.map((m) => (m.score === null ? -1 : m.score)));
  }

  const SORTS = {
    time: () => 0, // the server's order: capture time
    score: (a, b) => bestScore(groups[b.gi]) - bestScore(groups[a.gi]),
    size: (a, b) => groups[b.gi].members.length - groups[a.gi].members.length,
    name: (a, b) => groups[a.gi].members[0].relative_path.localeCompare(groups[b.gi].members[0].relative_path),
  };

  function buildView() {
    const keep = FILTERS[filterBox.value] || FILTERS.all;
    view = [];
    groups.forEach((group, gi) => {
      const members = [];
      group.members.forEach((member, pi) => { if (keep(member, group)) members.push(pi); });
      if (members.length) view.push({ gi, members });
    });
    view.sort((a, b) => SORTS[sortBox.value](a, b) || a.gi - b.gi);
    const photos = view.reduce((n, entry) => n + entry.members.length, 0);
    const all = groups.reduce((n, group) => n + group.members.length, 0);
    shown.textContent = filterBox.value === "all" ? "" : `showing ${photos} of ${all} photos`;
  }

  // -- drawing --------------------------------------------------------------------------------
  function reasonsBlock(member) {
    const list = PC.el("ul", { class: "all-reasons" });
    for (const text of member.cull_reasons) list.append(PC.el("li", { class: "reason", text }));
    for (const reason of member.reasons) list.append(PC.el("li", { class: `reason reason-${reason.level}`, text: reason.text }));
    return list;
  }

  function photoCard(group, member, v, k) {
    const classes = ["photo"];
    const single = group.members.length === 1;
    if (member.status === "keep") classes.push("accepted");
    if (member.status === "reject") classes.push("rejected");
    if (member.status === "pick" && !(single && !member.decided)) classes.push("pick");
    if (single) classes.push("single-photo");
    if (member.flagged) classes.push("flagged");
    if (member.decided) classes.push("decided");
    const isExpanded = expanded.has(member.id);
    if (isExpanded) classes.push("expanded");
    const img = PC.el("img", {
      src: `/api/library/photos/${encodeURIComponent(member.id)}/thumbnail?size=320`,
      alt: member.name,
      loading: "lazy",
      decoding: "async",
    });
    const score = member.score === null ? "—" : member.score.toFixed(2);
    const status = member.decided ? "your choice" : (member.flagged ? "flagged" : (member.set ? member.set : (single ? "single" : (member.rank ? `rank ${member.rank}` : ""))));
    const why = [...(member.flag ? [member.flag] : []), ...member.cull_reasons].join(" · ");
    const card = PC.el(
      "div",
      {
        class: classes.join(" "),
        tabindex: "-1",
        role: "button",
        "aria-pressed": member.status === "pick" ? "true" : "false",
        "aria-expanded": isExpanded ? "true" : "false",
        title: member.relative_path,
        dataset: { id: member.id, v: String(v), k: String(k), status: member.status },
      },
      img,
      PC.el("div", { class: "name", text: member.name }),
      PC.el("div", { class: "meta" },
        PC.el("span", { class: "s", text: score }),
        PC.el("span", { text: status })),
      PC.judgement(member) ? PC.el("div", { class: "judgement", text: PC.judgement(member) }) : null,
      PC.el("div", { class: "why", text: why }),
      isExpanded ? reasonsBlock(member) : null
    );
    card.addEventListener("click", () => setFocus(v, k));
    card.addEventListener("dblclick", () => decide("pick"));
    card.querySelector(".why").addEventListener("click", () => { setFocus(v, k); toggleReasons(); });
    return card;
  }

  function groupBox(entry, v) {
    const group = groups[entry.gi];
    const head = PC.el("div", { class: "group-head" },
      PC.el("strong", { text: group.members.length > 1 ? `Burst of ${group.members.length}` : "Single photo" }),
      PC.el("span", { text: group.taken_at ? group.taken_at.replace("T", " ").slice(0, 19) : "" }),
      PC.el("span", { text: group.camera || "" }),
      PC.el("span", { class: "saved", text: group.saved ? "✓ saved to XMP" : "" }));
    const strip = PC.el("div", { class: "strip" });
    entry.members.forEach((pi, k) => strip.append(photoCard(group, group.members[pi], v, k)));
    const single = group.members.length === 1 ? " single" : "";
    return PC.el("section", { class: "group" + single, dataset: { v: String(v), id: String(group.id) } }, head, strip);
  }

  function render() {
    buildView();
    groupsBox.replaceChildren();
    if (!groups.length) {
      groupsBox.append(PC.el("p", { class: "empty", text: "No photos in this folder yet." }));
      return;
    }
    if (!view.length) {
      groupsBox.append(PC.el("p", { class: "empty", text: "No photo matches this filter." }));
      return;
    }
    view.forEach((entry, v) => groupsBox.append(groupBox(entry, v)));
    let target = focus;
    if (focusId !== null) {
      view.forEach((entry, v) => entry.members.forEach((pi, k) => {
        if (groups[entry.gi].members[pi].id === focusId) target = { v, k };
      }));
    }
    setFocus(Math.min(target.v, view.length - 1), target.k, false);
  }

  function focused() {
    if (!view.length) return null;
    const entry = view[focus.v];
    return { group: groups[entry.gi], gi: entry.gi, member: groups[entry.gi].members[entry.members[focus.k]] };
  }

  function setFocus(v, k, scroll = true) {
    if (!view.length) return;
    v = Math.max(0, Math.min(view.length - 1, v));
    k = Math.max(0, Math.min(view[v].members.length - 1, k));
    focus = { v, k };
    focusId = focused().member.id;
    groupsBox.querySelectorAll(".focused").forEach((n) => n.classList.remove("focused"));
    groupsBox.querySelectorAll(".group.current").forEach((n) => n.classList.remove("current"));
    const box = groupsBox.querySelector(`section.group[data-v="${v}"]`);
    if (!box) return;
    box.classList.add("current");
    const card = box.querySelector(`.photo[data-k="${k}"]`);
    card.classList.add("focused");
    if (scroll) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    if (mode) showViewer();
  }

  // the loupe walks through every shown photo, across groups, as one would leaf through a shoot
  function step(delta) {
    const flat = [];
    view.forEach((entry, v) => entry.members.forEach((_, k) => flat.push({ v, k })));
    const here = flat.findIndex((p) => p.v === focus.v && p.k === focus.k);
    const next = flat[Math.max(0, Math.min(flat.length - 1, here + delta))];
    setFocus(next.v, next.k);
  }

  function toggleReasons() {
    const current = focused();
    if (!current) return;
    if (expanded.has(current.member.id)) expanded.delete(current.member.id);
    else expanded.add(current.member.id);
    render();
  }

  // -- loupe and compare ------------------------------------------------------------------------
  function pane(member, zoom) {
    const figure = PC.el("figure", { class: zoom ? "pane zoom" : "pane", dataset: { id: member.id } });
    const img = PC.el("img", { alt: `${member.name}${zoom ? " at 100%" : ""}` });
    const caption = PC.el("figcaption", {},
      PC.el("strong", { text: member.name }), " ",
      PC.el("span", { class: "s", text: member.score === null ? "" : member.score.toFixed(2) }), " ",
      PC.judgement(member) ? PC.el("span", { class: "judgement", text: PC.judgement(member) }) : null, " ",
      PC.el("span", { class: "focus-kind", text: zoom ? "100% · finding the face or the sharpest region…" : "whole frame" }));
    figure.append(img, caption);
    const id = encodeURIComponent(member.id);
    if (zoom) {
      fetch(`/api/library/photos/${id}/loupe`, { credentials: "same-origin" }).then(async (response) => {
        if (!response.ok) throw new Error(`cannot show ${member.name} at 100% (HTTP ${response.status})`);
        const where = response.headers.get("X-Loupe-Focus") || "";
        img.src = URL.createObjectURL(await response.blob());
        figure.dataset.focus = where;
        caption.querySelector(".focus-kind").textContent = `100% · ${where}`;
      }).catch((error) => say(error.message, true));
    } else {
      img.src = `/api/library/photos/${id}/thumbnail?size=1280`;
    }
    return figure;
  }

  function showViewer() {
    const current = focused();
    if (!current) return;
    viewer.hidden = false;
    viewer.dataset.mode = mode;
    viewerPanes.replaceChildren();
    if (mode === "loupe") {
      viewerTitle.textContent = `Loupe: ${current.member.name}`;
      viewerKeys.textContent = "← → other photos · P pick · A accept · X reject · Z or Esc close";
      viewerPanes.append(pane(current.member, true));
    } else {
      const others = current.group.members.filter((m) => m.id !== current.member.id);
      if (!others.length) {
        closeViewer();
        say("this photo has no look-alike to compare with");
        return;
      }
      other = ((other % others.length) + others.length) % others.length;
      const right = others[other];
      viewerTitle.textContent = `Compare: ${current.member.name} and ${right.name}`;
      viewerKeys.textContent = "← → the right-hand frame · S swap sides · Z whole frame / 100% · P pick the left one · Esc close";
      viewerPanes.append(pane(current.member, zoomed), pane(right, zoomed));
    }
    document.getElementById("viewer-close").focus({ preventScroll: true });
  }

  function openViewer(which) {
    mode = which;
    other = 0;
    showViewer();
  }

  function closeViewer() {
    mode = null;
    viewer.hidden = true;
    const card = groupsBox.querySelector(".photo.focused");
    if (card) card.focus({ preventScroll: true });
  }

  function swapSides() {
    const current = focused();
    const others = current.group.members.filter((m) => m.id !== current.member.id);
    const right = others[other];
    const entry = view[focus.v];
    const k = entry.members.findIndex((pi) => current.group.members[pi].id === right.id);
    if (k < 0) { say("the other frame is hidden by the filter"); return; }
    other = 0;
    setFocus(focus.v, k, false);
  }

  // -- decisions ------------------------------------------------------------------------------
  async function decide(action) {
    const current = focused();
    if (busy || !current) return;
    busy = true;
    try {
      const answer = await PC.api("/api/library/decisions", {
        method: "POST",
        json: { photo_id: current.member.id, action },
      });
      groups[current.gi] = answer.group;
      render();
      const kept = answer.kept || [];
      say(`XMP saved: ${answer.written.join(", ")}` + (kept.length ? ` · your own rating kept in ${kept.join(", ")}` : ""));
    } catch (error) {
      say(error.message, true);
    } finally {
      busy = false;
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape" && mode) {
      event.preventDefault();
      closeViewer();
      return;
    }
    if (event.target.closest && event.target.closest("input, textarea, select, button") && !mode) return;
    const inCompare = mode === "compare";
    const inLoupe = mode === "loupe";
    const keys = {
      ArrowRight: () => (inCompare ? (other += 1, showViewer()) : inLoupe ? step(1) : setFocus(focus.v, focus.k + 1)),
      ArrowLeft: () => (inCompare ? (other -= 1, showViewer()) : inLoupe ? step(-1) : setFocus(focus.v, focus.k - 1)),
      ArrowDown: () => setFocus(focus.v + 1, 0),
      ArrowUp: () => setFocus(focus.v - 1, 0),
      j: () => setFocus(focus.v + 1, 0),
      k: () => setFocus(focus.v - 1, 0),
      p: () => decide("pick"),
      Enter: () => decide("pick"),
      a: () => decide("accept"),
      x: () => decide("reject"),
      u: () => decide("reset"),
      r: () => toggleReasons(),
      z: () => (mode === "loupe" ? closeViewer() : inCompare ? (zoomed = !zoomed, showViewer()) : openViewer("loupe")),
      c: () => (inCompare ? closeViewer() : openViewer("compare")),
      s: () => (inCompare ? swapSides() : null),
    };
    const action = keys[event.key] || keys[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.getElementById("viewer-close").addEventListener("click", closeViewer);
  filterBox.addEventListener("change", () => { render(); filterBox.blur(); });
  sortBox.addEventListener("change", () => { render(); sortBox.blur(); });

  rescan.addEventListener("click", async () => {
    try {
      await PC.api("/api/library/scan", { method: "POST" });
      rescan.disabled = true;
    } catch (error) {
      say(error.message, true);
    }
  });

  poll();
})();
