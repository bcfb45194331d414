// Shared helpers: the API client (with the CSRF header), a distribution chart, safe DOM building.
// Every piece of data goes into the page through textContent or attributes, never as HTML.
"use strict";

const PC = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const csrfHeader = meta("csrf-header");
  const csrfToken = meta("csrf-token");

  async function api(path, options = {}) {
    const init = { credentials: "same-origin", ...options };
    init.headers = { ...(options.headers || {}) };
    const method = (init.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") init.headers[csrfHeader] = csrfToken;
    if (init.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.json);
      delete init.json;
    }
    const response = await fetch(path, init);
    let body = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("application/json")) body = await response.json();
    else body = { detail: (await response.text()) || response.statusText };
    if (!response.ok) {
      let detail = body && body.detail;
      if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
      const error = new Error(detail || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Ten bars for ratings 1..10; the bar holding the mean is marked.
  function chart(container, distribution, score) {
    container.replaceChildren();
    if (!distribution) return;
    const top = Math.max(...distribution, 1e-9);
    const mean = Math.round(score || 0);
    distribution.forEach((p, i) => {
      const bar = el("span", {
        class: "bar" + (i + 1 === mean ? " bar-mean" : ""),
        title: `rating ${i + 1}: ${(p * 100).toFixed(1)}%`,
      });
      bar.style.height = `${Math.max(2, (p / top) * 100)}%`;
      const col = el("span", { class: "col" }, bar, el("span", { class: "tick", text: String(i + 1) }));
      container.append(col);
    });
    container.setAttribute(
      "aria-label",
      "rating distribution: " + distribution.map((p, i) => `${i + 1}: ${(p * 100).toFixed(0)}%`).join(", ")
    );
  }

  function scoreClass(score) {
    if (score === null || score === undefined) return "score-none";
    if (score >= 6) return "score-high";
    if (score >= 4.8) return "score-mid";
    return "score-low";
  }

  // "quality 6.8/10 · appeal 5.9/10" from a record's quality_score and aesthetic_score; "" when the
  // model gives neither (older models, or a photo not judged).
  function judgement(record) {
    const parts = [];
    for (const [key, word] of [["quality_score", "quality"], ["aesthetic_score", "appeal"]]) {
      const value = record[key];
      if (typeof value === "number" && Number.isFinite(value)) parts.push(`${word} ${value.toFixed(1)}/10`);
    }
    return parts.join(" · ");
  }

  return { api, el, chart, scoreClass, judgement, csrfHeader, csrfToken };
})();
