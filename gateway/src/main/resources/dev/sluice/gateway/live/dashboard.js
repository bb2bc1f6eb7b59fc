// Sluice dashboard: polls the admin API every second and draws with the DOM and inline SVG only
// (no external assets; CSP 'self'). Every value from the server goes in through textContent.
"use strict";
(function () {
  const POLL_MS = 1000;
  const OUTCOMES = ["allowed", "limited", "shadow_limited", "blocked"];
  const SVG = "http://www.w3.org/2000/svg";
  const tokenRequired = document.body.dataset.tokenRequired === "true";
  let token = tokenRequired ? sessionStorage.getItem("sluice-admin-token") : null;
  let topWindow = "5m";
  let timer = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  class Unauthorized extends Error {}

  async function call(method, path) {
    const headers = {};
    if (token) headers["Authorization"] = "Bearer " + token;
    const response = await fetch(path, { method, headers, cache: "no-store", credentials: "omit" });
    if (response.status === 401) throw new Unauthorized("the admin token was refused");
    if (!response.ok) {
      let detail = response.status + " " + response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(method + " " + path + ": " + detail);
    }
    return response.status === 204 ? null : response.json();
  }

  function ago(iso) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + " s ago" : s < 3600 ? Math.floor(s / 60) + " min ago" : Math.floor(s / 3600) + " h ago";
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  function policyName(name) {
    return name === "" ? "(block rule)" : name;
  }

  function chart(series) {
    // The last slot is the second still running; drawing it would end every line in a false dip.
    const w = 240, h = 70, n = 59;
    let max = 1;
    for (const o of OUTCOMES) for (const v of (series[o] || []).slice(0, n)) max = Math.max(max, v);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    for (const o of OUTCOMES) {
      const values = (series[o] || []).slice(0, n);
      if (!values.some((v) => v > 0)) continue;
      const points = values.map((v, i) => (i * w / (n - 1)).toFixed(1) + "," + (h - 2 - v * (h - 6) / max).toFixed(1));
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke-width", "2");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      line.setAttribute("class", "line-" + o);
      line.setAttribute("stroke", getComputedStyle(document.documentElement).getPropertyValue("--" + o).trim());
      svg.appendChild(line);
    }
    const label = document.createElementNS(SVG, "title");
    label.textContent = "peak " + max + "/s";
    svg.appendChild(label);
    return svg;
  }

  function renderStats(stats) {
    const cards = $("policies");
    cards.replaceChildren();
    if (stats.policies.length === 0) cards.appendChild(el("p", "No decisions yet.", "empty"));
    for (const p of stats.policies) {
      const card = el("div", null, "card");
      card.dataset.policy = p.policy;
      card.appendChild(el("h3", policyName(p.policy)));
      const nums = el("div", null, "nums");
      for (const o of OUTCOMES) {
        const span = el("span", p.per_second[o] + "/s " + o.replace("_", " "), o);
        span.dataset.outcome = o;
        span.dataset.lastMinute = p.last_minute[o];
        span.title = p.last_minute[o] + " in the last minute";
        nums.appendChild(span);
      }
      card.appendChild(nums);
      card.appendChild(chart(p.series));
      cards.appendChild(card);
    }
    const events = $("events").tBodies[0];
    events.replaceChildren();
    if (stats.recent_events.length === 0) {
      const tr = el("tr"); const td = el("td", "No limited, shadow-limited or blocked requests yet.", "empty");
      td.colSpan = 6; tr.appendChild(td); events.appendChild(tr);
    }
    for (const e of stats.recent_events.slice(0, 20)) {
      const tr = el("tr");
      tr.appendChild(el("td", new Date(e.time).toLocaleTimeString()));
      tr.appendChild(el("td", e.outcome, e.outcome));
      tr.appendChild(el("td", policyName(e.policy)));
      tr.appendChild(el("td", (e.identity_kind ? e.identity_kind + " " : "") + (e.identity || ""), "id"));
      tr.appendChild(el("td", e.client_ip || ""));
      tr.appendChild(el("td", e.method + " " + e.path, "id"));
      events.appendChild(tr);
    }
    const config = $("config");
    config.textContent = stats.config ? "config v" + stats.config.version + " · " + stats.config.sha256.slice(0, 12)
      : "config: reload API off";
    const store = $("store");
    let text = "store " + stats.store.type + ": " + (stats.store.up ? "up" : "DOWN");
    if (stats.store.breaker) text += " · breaker " + stats.store.breaker;
    store.textContent = text;
    store.title = stats.store.detail || "";
    store.className = "pill " + (stats.store.up && stats.store.breaker !== "open" ? "ok" : "bad");
  }

  function renderTop(top) {
    const body = $("top").tBodies[0];
    body.replaceChildren();
    if (top.top.length === 0) {
      const tr = el("tr"); const td = el("td", "Nobody limited in the last " + (top.window === "5m" ? "5" : "60") + " minutes.", "empty");
      td.colSpan = 5; tr.appendChild(td); body.appendChild(tr);
    }
    for (const t of top.top) {
      const tr = el("tr");
      tr.appendChild(el("td", t.kind));
      tr.appendChild(el("td", t.value, "id"));
      tr.appendChild(el("td", policyName(t.policy)));
      const count = el("td", t.count, "num");
      count.title = "limited " + t.limited + ", shadow_limited " + t.shadow_limited + ", blocked " + t.blocked;
      tr.appendChild(count);
      tr.appendChild(el("td", ago(t.last_seen)));
      body.appendChild(tr);
    }
  }

  function renderBans(bans) {
    const body = $("bans").tBodies[0];
    // Rebuild only when the set of bans changed, so a Lift button is not replaced under a click.
    const ids = bans.bans.map((b) => b.id).join("\n");
    if (body.dataset.ids === ids && body.childElementCount > 0) {
      for (const b of bans.bans) {
        const row = Array.from(body.rows).find((r) => r.dataset.banId === b.id);
        if (row) row.cells[2].textContent = duration(b.remaining_seconds);
      }
      return;
    }
    body.dataset.ids = ids;
    body.replaceChildren();
    if (bans.bans.length === 0) {
      const tr = el("tr"); const td = el("td", "No active bans.", "empty");
      td.colSpan = 4; tr.appendChild(td); body.appendChild(tr);
    }
    for (const b of bans.bans) {
      const tr = el("tr");
      tr.dataset.banId = b.id;
      tr.appendChild(el("td", b.identity.kind + " " + b.identity.value, "id"));
      tr.appendChild(el("td", b.scope));
      tr.appendChild(el("td", duration(b.remaining_seconds), "num"));
      const cell = el("td");
      const lift = el("button", "Lift", "lift");
      lift.type = "button";
      lift.addEventListener("click", async () => {
        lift.disabled = true;
        try {
          await call("DELETE", "/v1/bans/" + encodeURIComponent(b.id));
          tr.remove();
        } catch (e) {
          fail(e);
          lift.disabled = false;
        }
      });
      cell.appendChild(lift);
      tr.appendChild(cell);
      body.appendChild(tr);
    }
  }

  function fail(e) {
    if (e instanceof Unauthorized) {
      askToken("The token was refused; enter it again.");
      return;
    }
    $("error").textContent = e.message;
  }

  async function refresh() {
    try {
      const [stats, top, bans] = await Promise.all([
        call("GET", "/v1/stats"), call("GET", "/v1/top?window=" + topWindow + "&limit=20"), call("GET", "/v1/bans")]);
      renderStats(stats);
      renderTop(top);
      renderBans(bans);
      $("error").textContent = "";
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      fail(e);
    }
  }

  function start() {
    $("token-form").hidden = true;
    $("main").hidden = false;
    if (timer === null) {
      refresh();
      timer = setInterval(refresh, POLL_MS);
    }
  }

  function askToken(message) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    token = null;
    sessionStorage.removeItem("sluice-admin-token");
    $("main").hidden = true;
    $("token-form").hidden = false;
    $("token-error").textContent = message || "";
    $("token").value = "";
    $("token").focus();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    token = value;
    sessionStorage.setItem("sluice-admin-token", value);
    start();
  });
  for (const [id, w] of [["w5", "5m"], ["w60", "60m"]]) {
    $(id).addEventListener("click", () => {
      topWindow = w;
      $("w5").classList.toggle("on", w === "5m");
      $("w60").classList.toggle("on", w === "60m");
      refresh();
    });
  }
  if (tokenRequired && !token) askToken(""); else start();
})();
