/**
 * The dashboard page: one self-contained HTML document (inline CSS and script, no CDN, no build
 * step). The script loads `/api/status`, `/api/devices`, each device's scores and the recent
 * alerts, then follows `/api/events`, reloading after every reconnect.
 *
 * Every string that comes from the gateway (device ids, stream and field names) reaches the
 * document through `textContent` or `setAttribute`, never as markup.
 *
 * Hooks for browser tests: each device is an `article.device[data-device]` with
 * `data-phase`; its chart is an `svg.chart[data-device]` whose `data-points` counts the points
 * it has received (history and live, so it only grows) and `data-drawn` the points it shows.
 * `#events[data-state]` is `connecting`, `live` or `down`; counters are `[data-counter]`;
 * alerts are `#alerts tr[data-device]`.
 *
 * @module
 */

/** Score points a chart keeps and draws. */
export const CHART_POINTS = 300;

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #687086;
  --line: #d9dde5; --score: #2f6fde; --threshold: #d9822b; --anomaly: #d64545; --ok: #2e9e5b; }
@media (prefers-color-scheme: dark) { :root { --bg: #13161c; --card: #1c2029; --ink: #e4e7ee;
  --muted: #949cb0; --line: #2d3340; --score: #6ea1ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--ink); }
header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.2rem;
  border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { margin: 0; font-size: 1.2rem; }
main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
.muted { color: var(--muted); }
.pill { padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem; border: 1px solid var(--line); }
#events[data-state="live"] { color: var(--ok); border-color: var(--ok); }
#events[data-state="down"] { color: var(--anomaly); border-color: var(--anomaly); }
#counters { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem;
  margin: 0; }
#counters div { background: var(--card); border: 1px solid var(--line); border-radius: .4rem;
  padding: .4rem .6rem; }
#counters dt { font-size: .75rem; color: var(--muted); }
#counters dd { margin: 0; font-size: 1.15rem; font-variant-numeric: tabular-nums; }
#snapshot-error { color: var(--anomaly); margin: .3rem 0 0; }
#snapshot-error:empty { display: none; }
#devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: .8rem; }
.device { background: var(--card); border: 1px solid var(--line); border-radius: .4rem; padding: .6rem; }
.device h3 { margin: 0; font-size: .95rem; overflow-wrap: anywhere; }
.device .meta { display: flex; flex-wrap: wrap; gap: .3rem .8rem; font-size: .8rem; margin: .3rem 0; }
.device progress { width: 100%; height: .4rem; }
.phase { font-size: .75rem; padding: 0 .4rem; border-radius: .3rem; background: var(--line); }
.phase[data-phase="training"] { background: #2f6fde33; }
.phase[data-phase="calibrating"] { background: #d9822b33; }
.phase[data-phase="executing"] { background: #2e9e5b33; }
.chart { width: 100%; height: 150px; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 9px; }
.chart .score { fill: none; stroke: var(--score); stroke-width: 1.3; }
.chart .threshold { fill: none; stroke: var(--threshold); stroke-width: 1.2; stroke-dasharray: 4 3; }
.chart .anomaly { fill: var(--anomaly); }
table { width: 100%; border-collapse: collapse; background: var(--card); font-size: .85rem; }
/* A fault can raise an alert per reading: the newest rows scroll in a box, not down the page. */
.scroll { max-height: 22rem; overflow-y: auto; }
.scroll thead th { position: sticky; top: 0; background: var(--card); }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
td.num { font-variant-numeric: tabular-nums; }
details { background: var(--card); border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .7rem; }
details label { margin-right: .6rem; }
details input { font: inherit; }
#control-result { margin: .4rem 0 0; }
`;

const SCRIPT = `
"use strict";
(function () {
  var CHART_POINTS = ${CHART_POINTS};
  var MAX_ALERT_ROWS = 100;
  var SVG = "http://www.w3.org/2000/svg";
  var W = 600, H = 150, LEFT = 34, RIGHT = 6, TOP = 6, BOTTOM = 16;
  var devices = new Map();
  var status = null;
  var clockOffset = 0;
  var dirty = new Set();
  var frame = 0;
  var token = "";

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    if (x === 0) return "0";
    var a = Math.abs(x);
    return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  }
  function count(x) { return typeof x === "number" ? x.toLocaleString("en") : "–"; }
  function ago(seconds) {
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }
  function api(path, init) {
    return fetch(path, init).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : r.status + " " + r.statusText);
        return body;
      });
    });
  }

  // ---- devices --------------------------------------------------------------------------------
  function device(id) {
    var d = devices.get(id);
    if (d) return d;
    var card = el("article", "device");
    card.setAttribute("data-device", id);
    var head = el("div", "meta");
    var title = el("h3", "", id);
    var phase = el("span", "phase", "–");
    head.append(title, phase);
    var meta = el("div", "meta muted");
    var fields = {};
    ["stream", "score", "threshold", "messages", "anomalies"].forEach(function (name) {
      var span = el("span");
      var value = el("span", "", "–");
      value.setAttribute("data-field", name);
      span.append(name + " ", value);
      meta.append(span);
      fields[name] = value;
    });
    var progress = el("progress");
    progress.max = 1;
    progress.value = 0;
    var chart = svg("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, role: "img",
      "data-points": 0, "data-drawn": 0 });
    chart.setAttribute("data-device", id);
    chart.setAttribute("aria-label", "scores of " + id);
    card.append(head, meta, progress, chart);
    insertSorted(card, id);
    d = { id: id, card: card, phase: phase, fields: fields, progress: progress, chart: chart,
      points: [], received: 0, threshold: null };
    devices.set(id, d);
    refreshDeviceChoices();
    return d;
  }
  function insertSorted(card, id) {
    var list = $("devices");
    var next = null;
    for (var i = 0; i < list.children.length; i++) {
      if (list.children[i].getAttribute("data-device") > id) { next = list.children[i]; break; }
    }
    list.insertBefore(card, next);
    $("no-devices").hidden = true;
  }
  function forget(id) {
    var d = devices.get(id);
    if (!d) return;
    d.card.remove();
    devices.delete(id);
    dirty.delete(d);
    $("no-devices").hidden = devices.size > 0;
    refreshDeviceChoices();
  }
  function setPhase(d, phase) {
    d.phase.textContent = phase;
    d.phase.setAttribute("data-phase", phase);
    d.card.setAttribute("data-phase", phase);
  }
  function summarize(s) {
    var d = device(s.id);
    setPhase(d, s.phase);
    d.progress.value = s.progress;
    d.progress.title = Math.round(s.progress * 100) + " % learned";
    d.threshold = s.threshold;
    d.fields.stream.textContent = s.stream;
    d.fields.score.textContent = fmt(s.score);
    d.fields.threshold.textContent = fmt(s.threshold);
    d.messages = s.messages;
    d.anomalies = s.anomalies;
    d.fields.messages.textContent = count(s.messages);
    d.fields.anomalies.textContent = count(s.anomalies);
  }
  // Between status events (every 2 s) the counts follow the scores, so an alert never shows
  // beside "anomalies 0"; the next status event puts the gateway's own figures back.
  function countScore(d, anomaly) {
    if (typeof d.messages === "number") d.fields.messages.textContent = count(++d.messages);
    if (anomaly && typeof d.anomalies === "number") d.fields.anomalies.textContent = count(++d.anomalies);
    if (!status) return;
    var c = status.counters;
    setCounter("accepted", count(++c.accepted));
    if (anomaly) setCounter("anomalies", count(++c.anomalies));
  }
  function addPoint(d, p) {
    d.points.push(p);
    if (d.points.length > CHART_POINTS) d.points.splice(0, d.points.length - CHART_POINTS);
    d.received++;
    touch(d);
  }
  function seed(d, history) {
    var last = history.length ? history[history.length - 1].ts : -Infinity;
    var live = d.points.filter(function (p) { return p.ts > last; });
    d.points = history.concat(live).slice(-CHART_POINTS);
    d.received += history.length;
    touch(d);
  }
  function touch(d) {
    dirty.add(d);
    if (!frame) frame = requestAnimationFrame(draw);
  }

  // ---- charts: log-scale score, threshold line, anomalies ---------------------------------------
  function draw() {
    frame = 0;
    dirty.forEach(drawChart);
    dirty.clear();
  }
  function drawChart(d) {
    var chart = d.chart, pts = d.points;
    // Drawn at the element's own width, so text and strokes are not stretched.
    var W = Math.max(200, Math.round(chart.getBoundingClientRect().width) || 600);
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    chart.setAttribute("data-points", d.received);
    chart.setAttribute("data-drawn", pts.length);
    while (chart.firstChild) chart.firstChild.remove();
    var lo = Infinity, hi = -Infinity, t0 = Infinity, t1 = -Infinity;
    pts.forEach(function (p) {
      if (p.score > 0) { lo = Math.min(lo, p.score); hi = Math.max(hi, p.score); }
      if (p.threshold > 0) { lo = Math.min(lo, p.threshold); hi = Math.max(hi, p.threshold); }
      t0 = Math.min(t0, p.ts); t1 = Math.max(t1, p.ts);
    });
    if (!(lo < Infinity)) { lo = 1e-3; hi = 1; }
    var y0 = Math.floor(Math.log10(lo)), y1 = Math.ceil(Math.log10(hi));
    if (y1 <= y0) y1 = y0 + 1;
    var x = function (ts) { return LEFT + (t1 > t0 ? (ts - t0) / (t1 - t0) : 1) * (W - LEFT - RIGHT); };
    var y = function (v) {
      var l = v > 0 ? Math.log10(v) : y0;
      return TOP + (1 - (Math.max(y0, l) - y0) / (y1 - y0)) * (H - TOP - BOTTOM);
    };
    var step = Math.ceil((y1 - y0) / 4);
    for (var e = y0; e <= y1; e += step) {
      chart.append(svg("line", { "class": "grid", x1: LEFT, x2: W - RIGHT, y1: y(Math.pow(10, e)),
        y2: y(Math.pow(10, e)) }));
      var label = svg("text", { "class": "tick", x: 2, y: y(Math.pow(10, e)) + 3 });
      label.textContent = "1e" + e;
      chart.append(label);
    }
    if (pts.length > 0) {
      var span = svg("text", { "class": "tick", x: W - RIGHT, y: H - 3, "text-anchor": "end" });
      span.textContent = pts.length + " points, " + ago((t1 - t0) / 1000);
      chart.append(span);
    }
    var line = [], limit = [];
    pts.forEach(function (p) {
      line.push(x(p.ts).toFixed(1) + "," + y(p.score).toFixed(1));
      if (p.threshold > 0) limit.push(x(p.ts).toFixed(1) + "," + y(p.threshold).toFixed(1));
    });
    if (limit.length > 1) chart.append(svg("polyline", { "class": "threshold", points: limit.join(" ") }));
    if (line.length > 0) chart.append(svg("polyline", { "class": "score", points: line.join(" ") }));
    pts.forEach(function (p) {
      if (p.anomaly) chart.append(svg("circle", { "class": "anomaly", cx: x(p.ts), cy: y(p.score), r: 2.5 }));
    });
  }

  // ---- counters --------------------------------------------------------------------------------
  function setCounter(name, text) {
    var e = document.querySelector('[data-counter="' + name + '"]');
    if (e) e.textContent = text;
  }
  function showStatus(s) {
    status = s;
    clockOffset = s.now - Date.now();
    var c = s.counters, rejected = 0, reasons = [];
    for (var reason in c.rejected) {
      rejected += c.rejected[reason];
      if (c.rejected[reason] > 0) reasons.push(reason + ": " + c.rejected[reason]);
    }
    $("version").textContent = "v" + s.version;
    setCounter("messages", count(c.messages));
    setCounter("accepted", count(c.accepted));
    setCounter("dropped", count(c.dropped));
    setCounter("rejected", count(rejected));
    document.querySelector('[data-counter="rejected"]').title = reasons.join("\\n");
    setCounter("evicted", count(c.evicted));
    setCounter("anomalies", count(c.anomalies));
    setCounter("devices", count(s.devices));
    setCounter("queued", count(s.queued));
    setCounter("snapshot-failures", count(s.snapshotFailures));
    setCounter("latency", latencyP99(s.scoreLatency));
    setCounter("mqtt", s.mqtt.connected ? "connected" : "down (" + s.mqtt.reconnects + " retries)");
    $("snapshot-error").textContent = s.lastSnapshotError ? "snapshot failing: " + s.lastSnapshotError : "";
    tick();
  }
  // The bucket bound under which 99 % of messages were scored (receipt to score sent).
  function latencyP99(l) {
    if (!l || l.count === 0) return "–";
    if (l.p99Ms === null) return "> " + count(l.boundsMs[l.boundsMs.length - 1]) + " ms";
    return "≤ " + count(l.p99Ms) + " ms";
  }
  function tick() {
    if (!status) return;
    var at = status.lastSnapshotAt;
    setCounter("snapshot-age", at === null ? "none yet" : ago((Date.now() + clockOffset - at) / 1000));
  }

  // ---- alerts ----------------------------------------------------------------------------------
  function alertRow(a) {
    var tr = el("tr");
    tr.setAttribute("data-device", a.device);
    var features = a.attribution && a.attribution.features ? a.attribution.features.join(", ") : "";
    [new Date(a.ts).toLocaleTimeString(), a.device, fmt(a.score), fmt(a.threshold), features,
      fmt(a.attribution ? a.attribution.rmse : null)].forEach(function (text, i) {
      tr.append(el("td", i === 2 || i === 3 || i === 5 ? "num" : "", text));
    });
    return tr;
  }
  function addAlert(a) {
    var body = $("alerts");
    body.insertBefore(alertRow(a), body.firstChild);
    while (body.children.length > MAX_ALERT_ROWS) body.lastChild.remove();
    $("no-alerts").hidden = true;
  }

  // ---- loading and following -------------------------------------------------------------------
  function showDevices(list) {
    var seen = new Set();
    list.forEach(function (s) { seen.add(s.id); summarize(s); });
    Array.from(devices.keys()).forEach(function (id) { if (!seen.has(id)) forget(id); });
  }
  function load() {
    return Promise.all([api("/api/status"), api("/api/devices"), api("/api/alerts?limit=" + MAX_ALERT_ROWS)])
      .then(function (r) {
        showStatus(r[0]);
        showDevices(r[1].devices);
        var body = $("alerts");
        while (body.firstChild) body.firstChild.remove();
        r[2].alerts.slice().reverse().forEach(addAlert);
        return Promise.all(r[1].devices.map(function (s) {
          return api("/api/devices/" + encodeURIComponent(s.id) + "/scores?limit=" + CHART_POINTS)
            .then(function (h) { if (devices.has(s.id)) seed(devices.get(s.id), h.points); })
            .catch(function () { /* the device went away meanwhile */ });
        }));
      })
      .catch(function (error) { $("load-error").textContent = "cannot load: " + error.message; });
  }
  function follow() {
    var source = new EventSource("/api/events");
    var opened = 0;
    $("events").setAttribute("data-state", "connecting");
    source.onopen = function () {
      $("events").setAttribute("data-state", "live");
      $("events").textContent = "live";
      $("load-error").textContent = "";
      if (opened++ > 0) load(); // a reconnect: catch up on what was missed
    };
    source.onerror = function () {
      $("events").setAttribute("data-state", source.readyState === 2 ? "down" : "connecting");
      $("events").textContent = source.readyState === 2 ? "disconnected" : "reconnecting…";
    };
    source.addEventListener("status", function (e) {
      var m = JSON.parse(e.data);
      showStatus(m.status);
      showDevices(m.devices);
    });
    source.addEventListener("score", function (e) {
      var s = JSON.parse(e.data);
      var d = device(s.device);
      setPhase(d, s.phase);
      d.fields.score.textContent = fmt(s.score);
      d.fields.threshold.textContent = fmt(s.threshold);
      addPoint(d, { ts: s.ts, score: s.score, threshold: s.threshold, anomaly: s.anomaly });
      countScore(d, s.anomaly);
    });
    source.addEventListener("alert", function (e) { addAlert(JSON.parse(e.data).alert); });
    source.addEventListener("snapshot", function (e) {
      if (status) { status.lastSnapshotAt = JSON.parse(e.data).at; tick(); }
    });
  }

  // ---- controls (need the token) ---------------------------------------------------------------
  function refreshDeviceChoices() {
    var select = $("control-device"), chosen = select.value;
    while (select.firstChild) select.firstChild.remove();
    Array.from(devices.keys()).sort().forEach(function (id) {
      var option = el("option", "", id);
      option.value = id;
      select.append(option);
    });
    if (devices.has(chosen)) select.value = chosen;
  }
  function change(method, path, body) {
    var headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    $("control-result").textContent = "…";
    api(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) { $("control-result").textContent = "done: " + JSON.stringify(r); })
      .catch(function (error) { $("control-result").textContent = "refused: " + error.message; });
  }
  function chosenDevice() { return "/api/devices/" + encodeURIComponent($("control-device").value); }
  $("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  $("token").addEventListener("input", function (e) { token = e.target.value; });
  $("snapshot-now").addEventListener("click", function () { change("POST", "/api/snapshot"); });
  $("reset-device").addEventListener("click", function () { change("POST", chosenDevice() + "/reset"); });
  $("set-threshold").addEventListener("click", function () {
    change("PUT", chosenDevice() + "/threshold", { threshold: Number($("control-threshold").value) });
  });
  $("clear-threshold").addEventListener("click", function () {
    change("PUT", chosenDevice() + "/threshold", { threshold: null });
  });

  window.addEventListener("resize", function () { devices.forEach(touch); });
  setInterval(tick, 1000);
  load().then(follow);
})();
`;

/** A counter tile: label and a `[data-counter]` value. */
function counter(name: string, label: string): string {
  return `<div><dt>${label}</dt><dd data-counter="${name}">–</dd></div>`;
}

/** The page, with `nonce` on its inline style and script (the Content-Security-Policy's). */
export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>foxtail gateway</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>foxtail</h1>
  <span id="version" class="muted"></span>
  <span id="events" class="pill" data-state="connecting">connecting…</span>
  <span id="load-error" class="muted"></span>
</header>
<main>
  <section aria-labelledby="counters-title">
    <h2 id="counters-title">Gateway</h2>
    <dl id="counters">
      ${counter("messages", "messages")}
      ${counter("accepted", "scored")}
      ${counter("dropped", "dropped (queue full)")}
      ${counter("rejected", "rejected payloads")}
      ${counter("evicted", "devices evicted")}
      ${counter("anomalies", "anomalies")}
      ${counter("devices", "devices")}
      ${counter("queued", "queued")}
      ${counter("snapshot-age", "last snapshot")}
      ${counter("snapshot-failures", "snapshot failures")}
      ${counter("latency", "in gateway, p99")}
      ${counter("mqtt", "MQTT")}
    </dl>
    <p id="snapshot-error"></p>
  </section>
  <section aria-labelledby="devices-title">
    <h2 id="devices-title">Devices <span class="muted">(score, log scale; dashed: threshold)</span></h2>
    <p id="no-devices" class="muted">No device has sent telemetry yet.</p>
    <div id="devices"></div>
  </section>
  <section aria-labelledby="alerts-title">
    <h2 id="alerts-title">Recent alerts</h2>
    <div class="scroll">
      <table>
        <thead><tr><th>time</th><th>device</th><th>score</th><th>threshold</th>
          <th>attribution (features)</th><th>RMSE</th></tr></thead>
        <tbody id="alerts"></tbody>
      </table>
    </div>
    <p id="no-alerts" class="muted">No alert yet.</p>
  </section>
  <details>
    <summary>Controls (need the dashboard token)</summary>
    <form id="controls">
    <p>
      <label>token <input id="token" type="password" autocomplete="off" size="24"></label>
      <button id="snapshot-now" type="button">Snapshot now</button>
    </p>
    <p>
      <label>device <select id="control-device"></select></label>
      <label>threshold <input id="control-threshold" type="number" min="0" step="any" size="10"></label>
      <button id="set-threshold" type="button">Set</button>
      <button id="clear-threshold" type="button">Back to calibrated</button>
      <button id="reset-device" type="button">Reset (relearn)</button>
    </p>
    <p id="control-result" class="muted"></p>
    </form>
  </details>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
