// The vehicle-gateway dashboard: the live context from the SSE stream, the signal table polled
// twice a second and bus health once a second. Same origin only; the session cookie (from the token, once)
// is what authorises a browser, so no token is ever kept by the page or put in a URL.
"use strict";

const $ = (id) => document.getElementById(id);
const WINDOW_S = 300;          // the chart's span
const TRACK_POINTS = 5000;     // the map's track, newest kept
const state = { config: {}, stream: null, timers: [], chart: null, map: null, marker: null, track: null,
                lastChartTime: 0, rows: new Map(), firstData: null };

function setConnection(text, ok) {
  const c = $("connection");
  c.textContent = text;
  c.className = "conn " + (ok ? "ok" : "bad");
}

function badge(cell, name, words) {
  cell.textContent = "";
  const b = document.createElement("span");
  b.className = "badge st-" + name;
  b.textContent = words || name;
  cell.appendChild(b);
}

function stateWords(part) {
  if (!part) return "unavailable";
  let w = part.state;
  if (part.state !== "unavailable" && typeof part.age_s === "number") w += ", " + part.age_s.toFixed(1) + " s old";
  if (part.reason) w += " (" + part.reason + ")";
  return w;
}

function showPartState(id, part) {
  const el = $(id);
  el.textContent = stateWords(part);
  el.className = "state st-" + (part ? part.state : "unavailable");
}

function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toFixed(3));
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

async function api(path, options = {}) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options));
  if (r.status === 401) { stop(); showLogin(); throw new Error("unauthorised"); }
  return r;
}

// --- login -------------------------------------------------------------------------------

function showLogin(message) {
  $("live").hidden = true;
  $("login").hidden = false;
  $("logout").hidden = true;
  $("login-error").textContent = message || "";
  setConnection("locked: no data without the token", false);
  $("token").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  let r;
  try {
    r = await fetch("/v1/session", { method: "POST", credentials: "same-origin", headers: { Authorization: "Bearer " + token } });
  } catch (e) { $("login-error").textContent = "The gateway cannot be reached."; return; }
  $("token").value = "";
  if (r.ok) { $("login").hidden = true; start(); }
  else $("login-error").textContent = r.status === 401 ? "The gateway refused this token." : "The gateway answered " + r.status + ".";
});

$("logout").addEventListener("click", async () => {
  await fetch("/v1/session", { method: "DELETE", credentials: "same-origin" }).catch(() => {});
  stop();
  showLogin();
});

// --- the context -------------------------------------------------------------------------

function renderContext(c) {
  if (state.firstData === null) { state.firstData = performance.now(); window.vgFirstDataMs = state.firstData; }
  const speed = c.speed || {};
  $("speed").textContent = typeof speed.speed_kmh === "number" ? speed.speed_kmh.toFixed(1) : "–";
  showPartState("speed-state", speed);
  const gear = c.gear || {};
  $("gear").textContent = gear.label || "–";
  showPartState("gear-state", gear);
  $("motion").textContent = c.motion || "–";
  $("motion").title = c.motion || "";
  const phase = c.phase && c.phase.current;
  $("phase").textContent = phase ? "phase: " + phase.replace(/_/g, " ") : "";
  const att = c.attention || {};
  $("attention").textContent = att.level || "–";
  $("attention-why").textContent = att.level ? (att.interruptible ? "may be interrupted" : "do not interrupt") +
    (att.reasons && att.reasons.length ? ": " + att.reasons.join(", ").replace(/_/g, " ") : "") : stateWords(att);
  renderChart(c);
  renderPosition(c.location || { state: "unavailable" });
}

function initChart() {
  if (typeof Chart === "undefined") {
    $("chart-note").hidden = false;
    $("chart-note").textContent = "Chart.js is not served by this gateway (install Debian's libjs-chart.js or set --web-lib-dir).";
    return;
  }
  state.chart = new Chart($("chart"), {
    type: "line",
    data: { datasets: [
      { label: "speed, km/h", data: [], borderColor: "#0550ae", backgroundColor: "#0550ae", yAxisID: "speed", pointRadius: 0, borderWidth: 2 },
      { label: "acceleration, m/s²", data: [], borderColor: "#bc4c00", backgroundColor: "#bc4c00", yAxisID: "accel", pointRadius: 0, borderWidth: 1.5 },
    ] },
    options: {
      animation: false, parsing: false, normalized: true, maintainAspectRatio: false, spanGaps: false,
      scales: {
        x: { type: "linear", ticks: { callback: (v) => Math.round(v - state.lastChartTime) + " s" },
             afterBuildTicks: (axis) => { axis.ticks = [300, 240, 180, 120, 60, 0].map((d) => ({ value: state.lastChartTime - d })); } },
        speed: { position: "left", beginAtZero: true, title: { display: true, text: "km/h" } },
        accel: { position: "right", suggestedMin: -3, suggestedMax: 3, grid: { drawOnChartArea: false }, title: { display: true, text: "m/s²" } },
      },
      plugins: { legend: { labels: { boxHeight: 2 } } },
    },
  });
}

function renderChart(c) {
  if (!state.chart || typeof c.time !== "number") return;
  if (c.time < state.lastChartTime) { state.chart.data.datasets.forEach((d) => { d.data.length = 0; }); }  // a replay looped
  if (c.time - state.lastChartTime < 0.5 && c.time >= state.lastChartTime) return;
  state.lastChartTime = c.time;
  const speed = c.speed && c.speed.state === "fresh" ? c.speed.speed_kmh : null;
  const accel = c.acceleration ? c.acceleration.acceleration_mps2 : null;
  const [s, a] = state.chart.data.datasets;
  s.data.push({ x: c.time, y: speed ?? null });
  a.data.push({ x: c.time, y: accel ?? null });
  while (s.data.length && s.data[0].x < c.time - WINDOW_S) { s.data.shift(); a.data.shift(); }
  state.chart.options.scales.x.min = c.time - WINDOW_S;
  state.chart.options.scales.x.max = c.time;
  state.chart.update("none");
}

const GridLayer = typeof L === "undefined" ? null : L.GridLayer.extend({
  createTile() {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 256;
    const g = tile.getContext("2d");
    g.strokeStyle = "#c9d1d9";
    g.strokeRect(0.5, 0.5, 256, 256);
    return tile;
  },
});

function initMap() {
  if (typeof L === "undefined") {
    $("map-note").hidden = false;
    $("map-note").textContent = "Leaflet is not served by this gateway (install Debian's libjs-leaflet or set --web-lib-dir); the position is shown as text.";
    $("map").hidden = true;
    return;
  }
  state.map = L.map("map", { zoomControl: true, attributionControl: !!state.config.map_tiles }).setView([0, 0], 2);
  if (state.config.map_tiles) {
    L.tileLayer(state.config.map_tiles, { maxZoom: 19, attribution: "tiles: " + new URL(state.config.map_tiles.replace(/[{}]/g, "")).host }).addTo(state.map);
  } else {
    new GridLayer().addTo(state.map);  // no tiles are fetched: a grid with a scale
  }
  L.control.scale({ imperial: false }).addTo(state.map);
  state.track = L.polyline([], { color: "#0550ae", weight: 3, opacity: 0.7 }).addTo(state.map);
}

function carIcon(heading, stale) {
  const arrow = heading === null || heading === undefined
    ? '<svg width="20" height="20" viewBox="0 0 20 20"><circle cx="10" cy="10" r="7"/></svg>'
    : '<svg width="28" height="28" viewBox="0 0 24 24" style="transform: rotate(' + heading + 'deg)"><path d="M12 2 L20 21 L12 16.5 L4 21 Z"/></svg>';
  return L.divIcon({ className: "car" + (stale ? " stale" : ""), html: arrow, iconSize: [28, 28], iconAnchor: [14, 14] });
}

function renderPosition(loc) {
  const has = typeof loc.latitude_deg === "number" && typeof loc.longitude_deg === "number";
  const stale = loc.state !== "fresh";
  const where = $("position");
  where.textContent = has ? loc.latitude_deg.toFixed(5) + ", " + loc.longitude_deg.toFixed(5) +
    (typeof loc.heading_deg === "number" ? ", heading " + Math.round(loc.heading_deg) + "°" : "") : "no position";
  where.dataset.lat = has ? loc.latitude_deg : "";
  where.dataset.lon = has ? loc.longitude_deg : "";
  const words = loc.state === "stale" ? "stale: the last known position, " + (loc.age_s ?? 0).toFixed(0) + " s old" : stateWords(loc);
  $("position-state").textContent = words;
  $("position-state").className = "state st-" + loc.state;
  if (!state.map) return;
  $("map").classList.toggle("stale", has && stale);
  if (!has) return;
  const p = L.latLng(loc.latitude_deg, loc.longitude_deg);
  if (!state.marker) {
    state.marker = L.marker(p, { icon: carIcon(loc.heading_deg, stale), keyboard: false, title: "the car" }).addTo(state.map);
    state.map.setView(p, 16);
  } else {
    state.marker.setLatLng(p);
    state.marker.setIcon(carIcon(loc.heading_deg, stale));
    if (!state.map.getBounds().pad(-0.2).contains(p)) state.map.panTo(p, { animate: false });
  }
  const pts = state.track.getLatLngs();
  if (!stale && (pts.length === 0 || pts[pts.length - 1].distanceTo(p) > 2)) {
    if (pts.length >= TRACK_POINTS) pts.shift();
    pts.push(p);
    state.track.setLatLngs(pts);
  }
}

// --- signals and buses -------------------------------------------------------------------

function renderSignals(signals) {
  const body = $("signals").tBodies[0];
  const text = $("filter").value.trim().toLowerCase(), only = $("state-filter").value;
  const counts = {};
  for (const s of signals) {
    let row = state.rows.get(s.path);
    if (!row) {
      row = body.insertRow();
      row.dataset.path = s.path;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = s.path;
      row.appendChild(th);
      for (let i = 0; i < 4; i++) row.insertCell();
      row.cells[1].className = row.cells[3].className = "num";
      state.rows.set(s.path, row);
    }
    row.cells[1].textContent = formatValue(s.value);
    row.cells[2].textContent = s.unit || "";
    row.cells[3].textContent = typeof s.age_s === "number" ? s.age_s.toFixed(1) + " s" : "—";
    badge(row.cells[4], s.state, s.state + (s.reason ? " (" + s.reason + ")" : ""));
    row.dataset.state = s.state;
    row.hidden = (text && !s.path.toLowerCase().includes(text)) || (only && s.state !== only);
    counts[s.state] = (counts[s.state] || 0) + 1;
  }
  $("signal-summary").textContent = signals.length + " signals: " +
    Object.entries(counts).map(([k, n]) => n + " " + k).join(", ");
}

function renderHealth(h) {
  const body = $("buses").tBodies[0];
  for (const b of h.buses) {
    let row = body.querySelector('tr[data-bus="' + CSS.escape(b.name) + '"]');
    if (!row) {
      row = body.insertRow();
      row.dataset.bus = b.name;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = b.name;
      row.appendChild(th);
      for (let i = 0; i < 6; i++) row.insertCell().className = i >= 2 ? "num" : "";
    }
    row.dataset.state = b.state;
    row.cells[1].textContent = b.interface || b.source;
    badge(row.cells[2], b.state, b.state + (b.reason ? ": " + b.reason : ""));
    const cells = [b.frames_per_s.toFixed(0), String(b.decode_errors), String(b.kernel_drops),
                   b.last_frame_age_s === null ? "—" : b.last_frame_age_s.toFixed(1) + " s ago"];
    cells.forEach((v, i) => { row.cells[3 + i].textContent = v; });
  }
  const c = h.clients || {};
  $("clients").textContent = "API clients: " + (c.sse ?? 0) + " SSE, " + (c.viss ?? 0) + " VISS, " + (c.mcp ?? 0) +
    " MCP · change-feed subscribers: " + h.subscribers + " · up " + Math.round(h.uptime_s) + " s";
}

// The table twice a second (so a value is never more than about half a second behind), the
// buses and clients once a second.
let polls = 0;
async function poll() {
  try {
    const health = polls++ % 2 === 0 ? api("/healthz") : null;
    renderSignals((await (await api("/v1/signals")).json()).signals);
    if (health) renderHealth(await (await health).json());
  } catch (e) { /* the stream's state says whether the gateway is there */ }
}

// --- start and stop ----------------------------------------------------------------------

function openStream() {
  const es = new EventSource("/v1/context/stream?max_rate=10");
  state.stream = es;
  es.addEventListener("context", (e) => { setConnection("live", true); renderContext(JSON.parse(e.data)); });
  es.onopen = () => setConnection("live", true);
  es.onerror = async () => {
    setConnection("connection lost: reconnecting…", false);
    // A stream refused for want of a session does not say why: ask plainly.
    try { await api("/v1/context"); } catch (e) { /* showLogin already ran on 401 */ }
  };
}

function stop() {
  if (state.stream) { state.stream.close(); state.stream = null; }
  state.timers.forEach(clearInterval);
  state.timers = [];
}

async function start() {
  let r;
  try { r = await fetch("/v1/context", { credentials: "same-origin", cache: "no-store" }); } catch (e) {
    setConnection("gateway unreachable: retrying…", false);
    setTimeout(start, 2000);
    return;
  }
  if (r.status === 401) { showLogin(); return; }
  const context = await r.json();
  state.config = await (await api("/dashboard/config.json")).json();
  $("login").hidden = true;
  $("live").hidden = false;
  $("logout").hidden = !state.config.token_required;
  if (!state.chart && !$("chart-note").textContent) initChart();
  if (!state.map && !$("map-note").textContent) initMap();
  renderContext(context);
  openStream();
  $("filter").oninput = $("state-filter").onchange = poll;
  poll();
  state.timers.push(setInterval(poll, 500));
}

// A browser keeps at most six HTTP/1.1 connections to one origin and each open dashboard's
// stream holds one: a tab in the background lets go of its stream and polling, and takes them
// up again when shown, so more tabs than that never block one another.
document.addEventListener("visibilitychange", () => {
  if (document.hidden) { if (state.stream) { stop(); state.paused = true; } }
  else if (state.paused) { state.paused = false; start(); }
});

start();
