/**
 * The dashboard page: one self-contained HTML document (inline CSS and script, no CDN, no build
 * step). The script (`page_script.ts`, type-checked) loads the status, the incidents, the
 * recent alerts and one page of devices (alerting first, filtered by state, searched by id) with
 * their scores, then follows `/api/events` for the devices on the page, reloading after every
 * reconnect.
 *
 * Every string that comes from the gateway (device ids, stream and field names) reaches the
 * document through `textContent` or `setAttribute`, never as markup.
 *
 * Hooks for browser tests: each device is an `article.device[data-device]` with
 * `data-phase` and `data-state` (learning, calibrating, normal, alerting); its chart is an `svg.chart[data-device]` whose `data-points` counts the points
 * it has received (history and live, so it only grows) and `data-drawn` the points it shows.
 * `#events[data-state]` is `connecting`, `live` or `down`; counters are `[data-counter]`;
 * incidents are `#incidents tr[data-incident][data-device][data-state]` (open or closed), each
 * also drawn on its device's chart as `rect.incident[data-incident]`; every alert is a row of
 * `#alerts tr[data-device]` (in a collapsed log).
 *
 * @module
 */

import { dashboardScript } from "./page_script.ts";

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
#cluster { margin: .3rem 0 0; color: var(--muted); }
#cluster:empty { display: none; }
#fleet-controls { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .8rem;
  margin: 0 0 .6rem; font-size: .85rem; }
#fleet-controls input, #fleet-controls select, #fleet-controls button { font: inherit; }
#devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: .8rem; }
.device { background: var(--card); border: 1px solid var(--line); border-radius: .4rem; padding: .6rem; }
.device h3 { margin: 0; font-size: .95rem; overflow-wrap: anywhere; }
.device .meta { display: flex; flex-wrap: wrap; gap: .3rem .8rem; font-size: .8rem; margin: .3rem 0; }
.device progress { width: 100%; height: .4rem; }
.device .rejected { color: var(--anomaly); }
.phase { font-size: .75rem; padding: 0 .4rem; border-radius: .3rem; background: var(--line); }
.phase[data-phase="training"] { background: #2f6fde33; }
.phase[data-phase="calibrating"] { background: #d9822b33; }
.phase[data-phase="executing"] { background: #2e9e5b33; }
.state { font-size: .8rem; font-weight: 600; padding: 0 .45rem; border-radius: .3rem;
  color: #fff; background: var(--muted); }
.state[data-state="learning"] { background: #2f6fde; }
.state[data-state="calibrating"] { background: #b8691b; }
.state[data-state="normal"] { background: var(--ok); }
.state[data-state="alerting"] { background: var(--anomaly); }
.device[data-state="alerting"] { border-color: var(--anomaly); box-shadow: 0 0 0 1px var(--anomaly); }
.chart .learning { fill: var(--line); opacity: .55; }
.chart .incident { fill: var(--anomaly); opacity: .14; }
#incidents tr[data-state="open"] .incident-state { color: var(--anomaly); font-weight: 600; }
#incidents button { font: inherit; font-size: .8rem; }
.chart { width: 100%; height: 150px; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 9px; }
.chart .score { fill: none; stroke: var(--score); stroke-width: 1.3; }
.chart .threshold { fill: none; stroke: var(--threshold); stroke-width: 1.2; stroke-dasharray: 4 3; }
.chart .anomaly { fill: var(--anomaly); }
.chart .band { fill: var(--score); opacity: .22; }
.chart { cursor: crosshair; touch-action: none; }
.chart .selection { fill: var(--score); opacity: .15; }
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

// The script's source as every runtime loaded it (JavaScript: its types are erased), called
// with the chart size. page_script.ts is type-checked with the DOM's types.
const SCRIPT = `"use strict";\n(${dashboardScript.toString()})(${CHART_POINTS});\n`;

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
    <p id="cluster"></p>
  </section>
  <section aria-labelledby="devices-title">
    <h2 id="devices-title">Devices <span class="muted">(anomaly score: an autoencoder's is its
      reconstruction error; log scale; dashed: threshold; shaded: learning; red: incidents)</span></h2>
    <div id="fleet-controls">
      <label>state <select id="device-state">
        <option value="">all</option><option value="alerting">alerting</option>
        <option value="calibrating">calibrating</option><option value="learning">learning</option>
        <option value="normal">normal</option></select></label>
      <label>device <input id="device-search" type="search" placeholder="search ids" size="16"
        autocomplete="off"></label>
      <label>chart <select id="chart-range">
        <option value="live">live points</option><option value="hour">last hour</option>
        <option value="day">last day</option></select></label>
      <button id="page-prev" type="button" disabled>‹ previous</button>
      <span id="page-range" class="muted">–</span>
      <button id="page-next" type="button" disabled>next ›</button>
      <span id="fleet-states" class="muted"></span>
    </div>
    <p id="no-devices" class="muted">No device has sent telemetry yet.</p>
    <div id="devices"></div>
  </section>
  <section aria-labelledby="incidents-title">
    <h2 id="incidents-title">Incidents <span class="muted">(a device's consecutive alerts; open
      first)</span></h2>
    <div class="scroll">
      <table>
        <thead><tr><th>state</th><th>started</th><th>duration</th><th>device</th>
          <th>peak score (× threshold)</th><th>alerts</th><th>top features (share of alerts)</th>
          <th></th></tr></thead>
        <tbody id="incidents"></tbody>
      </table>
    </div>
    <p id="no-incidents" class="muted">No incident yet.</p>
  </section>
  <details>
    <summary>Alert log (every alert, newest first)</summary>
    <div class="scroll">
      <table>
        <thead><tr><th>time</th><th>device</th><th>score</th><th>threshold</th>
          <th>features behind it</th></tr></thead>
        <tbody id="alerts"></tbody>
      </table>
    </div>
    <p id="no-alerts" class="muted">No alert yet.</p>
  </details>
  <details id="control-panel">
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
    <p>
      <label>mute for <input id="control-mute-minutes" type="number" min="1" step="1" value="60"
        size="5"> min</label>
      <button id="mute-device" type="button">Mute</button>
      <button id="unmute-device" type="button">Unmute</button>
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
