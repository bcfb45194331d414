// The library page: scoring progress, culling groups, keyboard review, decisions saved as XMP sidecars.
"use strict";

(() => {
  const groupsBox = document.getElementById("groups");
  const progressBox = document.getElementById("progress");
  const progressBar = document.getElementById("progress-bar");
  const progressText = document.getElementById("progress-text");
  const summary = document.getElementById("summary");
  const toast = document.getElementById("toast");
  const rescan = document.getElementById("rescan");

  let groups = [];
  let generation = -1;
  let focus = { g: 0, p: 0 };
  let busy = false;
  let toastTimer = null;

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
    summary.textContent = `${answer.photos} photos · ${bursts} bursts or near-duplicate sets · ${answer.failed} unreadable`;
    render();
  }

  // -- drawing --------------------------------------------------------------------------------
  function photoCard(group, member, gi, pi) {
    const classes = ["photo", member.status];
    if (member.status === "keep") classes.push("accepted");
    if (member.status === "reject") classes.push("rejected");
    if (member.status === "pick") classes.push("pick");
    if (member.decided) classes.push("decided");
    const img = PC.el("img", {
      src: `/api/library/photos/${encodeURIComponent(member.id)}/thumbnail?size=320`,
      alt: member.name,
      loading: "lazy",
      decoding: "async",
    });
    const score = member.score === null ? "—" : member.score.toFixed(2);
    const card = PC.el(
      "div",
      {
        class: classes.join(" "),
        tabindex: "-1",
        role: "button",
        "aria-pressed": member.status === "pick" ? "true" : "false",
        title: member.relative_path,
        dataset: { id: member.id, g: String(gi), p: String(pi), status: member.status },
      },
      img,
      PC.el("div", { class: "name", text: member.name }),
      PC.el("div", { class: "meta" },
        PC.el("span", { class: "s", text: score }),
        PC.el("span", { text: member.decided ? "your choice" : (member.rank ? `rank ${member.rank}` : "") })),
      PC.el("div", { class: "why", text: member.cull_reasons.join(" · "), title: member.cull_reasons.join("\n") })
    );
    card.addEventListener("click", () => setFocus(gi, pi));
    card.addEventListener("dblclick", () => decide("pick"));
    return card;
  }

  function groupBox(group, gi) {
    const head = PC.el("div", { class: "group-head" },
      PC.el("strong", { text: group.members.length > 1 ? `Burst of ${group.members.length}` : "Single photo" }),
      PC.el("span", { text: group.taken_at ? group.taken_at.replace("T", " ").slice(0, 19) : "" }),
      PC.el("span", { text: group.camera || "" }),
      PC.el("span", { class: "saved", text: group.saved ? "✓ saved to XMP" : "" }));
    const strip = PC.el("div", { class: "strip" });
    group.members.forEach((member, pi) => strip.append(photoCard(group, member, gi, pi)));
    const single = group.members.length === 1 ? " single" : "";
    return PC.el("section", { class: "group" + single, dataset: { g: String(gi), id: String(group.id) } }, head, strip);
  }

  function render() {
    groupsBox.replaceChildren();
    if (!groups.length) {
      groupsBox.append(PC.el("p", { class: "empty", text: "No photos in this folder yet." }));
      return;
    }
    groups.forEach((group, gi) => groupsBox.append(groupBox(group, gi)));
    setFocus(Math.min(focus.g, groups.length - 1), focus.p, false);
  }

  function redrawGroup(gi) {
    const old = groupsBox.querySelector(`section.group[data-g="${gi}"]`);
    old.replaceWith(groupBox(groups[gi], gi));
    setFocus(focus.g, focus.p, false);
  }

  function setFocus(g, p, scroll = true) {
    if (!groups.length) return;
    g = Math.max(0, Math.min(groups.length - 1, g));
    p = Math.max(0, Math.min(groups[g].members.length - 1, p));
    focus = { g, p };
    groupsBox.querySelectorAll(".focused").forEach((n) => n.classList.remove("focused"));
    groupsBox.querySelectorAll(".group.current").forEach((n) => n.classList.remove("current"));
    const box = groupsBox.querySelector(`section.group[data-g="${g}"]`);
    if (!box) return;
    box.classList.add("current");
    const card = box.querySelector(`.photo[data-p="${p}"]`);
    card.classList.add("focused");
    if (scroll) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  // -- decisions ------------------------------------------------------------------------------
  async function decide(action) {
    if (busy || !groups.length) return;
    const { g, p } = focus;
    const member = groups[g].members[p];
    busy = true;
    try {
      const answer = await PC.api("/api/library/decisions", {
        method: "POST",
        json: { photo_id: member.id, action },
      });
      groups[g] = answer.group;
      redrawGroup(g);
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
    if (event.target.closest && event.target.closest("input, textarea, select, button")) return;
    const keys = {
      ArrowRight: () => setFocus(focus.g, focus.p + 1),
      ArrowLeft: () => setFocus(focus.g, focus.p - 1),
      ArrowDown: () => setFocus(focus.g + 1, 0),
      ArrowUp: () => setFocus(focus.g - 1, 0),
      j: () => setFocus(focus.g + 1, 0),
      k: () => setFocus(focus.g - 1, 0),
      p: () => decide("pick"),
      Enter: () => decide("pick"),
      a: () => decide("accept"),
      x: () => decide("reject"),
      u: () => decide("reset"),
    };
    const action = keys[event.key] || keys[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      action();
    }
  });

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
