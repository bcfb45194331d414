// The upload page: drop or pick photos, shrink each in the browser, send it, show its score.
"use strict";

(() => {
  const drop = document.getElementById("drop");
  const picker = document.getElementById("picker");
  const results = document.getElementById("results");
  const status = document.getElementById("status");
  const keepBox = document.getElementById("keep");
  const template = document.getElementById("card-template");
  let session = null;
  const PARALLEL = 3;
  const queue = [];
  let running = 0;
  let finished = 0;
  let total = 0;

  PC.api("/api/session").then((s) => { session = s; }).catch(() => {});

  // Decode with the EXIF orientation applied, draw at most LONG px on the long side, re-encode as JPEG.
  // The canvas drops the metadata, so the server sees upright pixels and nothing else.
  async function shrink(file, long) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      return null; // a format this browser cannot decode (HEIC, RAW...): the server will
    }
    const scale = Math.min(1, long / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, w, h);
    bitmap.close();
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  }

  function card(name) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.querySelector(".card-name").textContent = name;
    node.querySelector(".card-name").title = name;
    results.prepend(node);
    return node;
  }

  function fill(node, result) {
    node.dataset.state = "done";
    const value = node.querySelector(".score-value");
    value.textContent = result.score.toFixed(2);
    node.querySelector(".card-score").className = "card-score " + PC.scoreClass(result.score);
    node.querySelector(".score-std").textContent = `± ${result.score_std.toFixed(2)}`;
    PC.chart(node.querySelector(".chart"), result.distribution, result.score);
    const judgement = node.querySelector(".judgement");
    judgement.textContent = PC.judgement(result);
    judgement.hidden = !judgement.textContent;
    const reasons = node.querySelector(".reasons");
    for (const reason of result.reasons) {
      reasons.append(PC.el("li", { class: `reason reason-${reason.level}`, text: reason.text }));
    }
    const table = node.querySelector(".measures table");
    for (const [key, val] of Object.entries(result.technical || {})) {
      table.append(PC.el("tr", {}, PC.el("th", { text: key.replace(/_/g, " ") }), PC.el("td", { text: (+val).toFixed(3) })));
    }
    const facts = [];
    if (result.width) facts.push(`${result.width}×${result.height}`);
    if (result.camera) facts.push(result.camera);
    if (result.stored_as) facts.push(`kept as ${result.stored_as}`);
    if (facts.length) table.append(PC.el("tr", {}, PC.el("th", { text: "sent" }), PC.el("td", { text: facts.join(" · ") })));
  }

  function fail(node, message) {
    node.dataset.state = "error";
    node.querySelector(".score-value").textContent = "—";
    const error = node.querySelector(".card-error");
    error.hidden = false;
    error.textContent = message;
  }

  async function process(file) {
    const node = card(file.name);
    const keep = keepBox && keepBox.checked;
    const long = (session && session.upload_long_side) || 1600;
    try {
      // keep=true sends the original untouched (that is what is worth keeping); otherwise a small copy
      const blob = keep ? null : await shrink(file, long);
      const body = blob || file;
      node.querySelector(".card-image img").src = URL.createObjectURL(blob || file);
      node.querySelector(".card-image img").alt = file.name;
      const form = new FormData();
      form.append("files", body, file.name);
      if (keep) form.append("keep", "true");
      const answer = await PC.api("/api/score", { method: "POST", body: form });
      const result = answer.results[0];
      if (result.error) fail(node, result.error);
      else fill(node, result);
    } catch (error) {
      fail(node, error.message);
    }
  }

  function updateStatus() {
    status.textContent = running || queue.length ? `Scoring… ${finished} of ${total} done` : total ? `${finished} of ${total} done.` : "";
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      const file = queue.shift();
      running += 1;
      updateStatus();
      process(file).finally(() => {
        running -= 1;
        finished += 1;
        updateStatus();
        pump();
      });
    }
  }

  function add(files) {
    for (const file of files) {
      queue.push(file);
      total += 1;
    }
    updateStatus();
    pump();
  }

  picker.addEventListener("change", () => { add(Array.from(picker.files)); picker.value = ""; });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    add(Array.from(e.dataTransfer.files));
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); picker.click(); } });
})();
