/// <reference lib="dom" />
/**
 * The dashboard page's browser script, as a type-checked TypeScript function: `page.ts` embeds
 * its source (`dashboardScript.toString()`, which every runtime gives as plain JavaScript, its
 * types gone) and calls it with the chart size. So it runs in the browser, it must stand alone:
 * no imports but types, no names from this module's scope, nothing TypeScript-only that needs
 * more than erasing (no enums, no parameter properties).
 *
 * It loads `/api/status`, `/api/devices`, each device's scores and the recent alerts, then
 * follows `/api/events`, reloading after every reconnect. Every string from the gateway reaches
 * the document through `textContent` or `setAttribute`, never as markup.
 *
 * @module
 */

import type { AlertEvent, DevicePhase, DeviceSummary, ScorePoint } from "../../core/gateway/mod.ts";
import type { LatencySummary } from "../../core/gateway/mod.ts";
import type { GatewayStatus } from "../gateway/mod.ts";

/** What `/api/status` and the `status` event carry: the gateway's status and the server's clock. */
type StatusBody = GatewayStatus & { now: number };

/** One device's card, chart and the points it draws. */
interface DeviceView {
  id: string;
  card: HTMLElement;
  phase: HTMLElement;
  fields: Record<"stream" | "score" | "threshold" | "messages" | "anomalies", HTMLElement>;
  /** "n rejected", shown only once the device has had messages refused. */
  rejected: HTMLElement;
  progress: HTMLProgressElement;
  chart: SVGSVGElement;
  points: ScorePoint[];
  received: number;
  threshold: number | null;
  messages?: number;
  anomalies?: number;
}

/**
 * Runs the dashboard in the page: `chartPoints` score points per chart. Called once, by the
 * page's inline script.
 */
export function dashboardScript(chartPoints: number): void {
  "use strict";
  const CHART_POINTS = chartPoints;
  const MAX_ALERT_ROWS = 100;
  const SVG = "http://www.w3.org/2000/svg";
  const H = 150, LEFT = 34, RIGHT = 6, TOP = 6, BOTTOM = 16;
  const devices = new Map<string, DeviceView>();
  let status: StatusBody | null = null;
  let clockOffset = 0;
  const dirty = new Set<DeviceView>();
  let frame = 0;
  let token = "";

  function $(id: string): HTMLElement {
    const e = document.getElementById(id);
    if (e === null) throw new Error(`the page has no #${id}`);
    return e;
  }
  function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    className?: string,
    text?: string,
  ): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg<K extends keyof SVGElementTagNameMap>(
    tag: K,
    attrs: Record<string, string | number>,
  ): SVGElementTagNameMap[K] {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function fmt(x: number | null | undefined): string {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  }
  function count(x: unknown): string {
    return typeof x === "number" ? x.toLocaleString("en") : "–";
  }
  function ago(seconds: number): string {
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }
  function api<T>(path: string, init?: RequestInit): Promise<T> {
    return fetch(path, init).then((r) =>
      r.json().then((body) => {
        if (!r.ok) throw new Error(body && body.error ? body.error : r.status + " " + r.statusText);
        return body as T;
      })
    );
  }

  // ---- devices --------------------------------------------------------------------------------
  function device(id: string): DeviceView {
    const known = devices.get(id);
    if (known) return known;
    const card = el("article", "device");
    card.setAttribute("data-device", id);
    const head = el("div", "meta");
    const title = el("h3", "", id);
    const phase = el("span", "phase", "–");
    head.append(title, phase);
    const meta = el("div", "meta muted");
    const fields = {} as DeviceView["fields"];
    (["stream", "score", "threshold", "messages", "anomalies"] as const).forEach((name) => {
      const span = el("span");
      const value = el("span", "", "–");
      value.setAttribute("data-field", name);
      span.append(name + " ", value);
      meta.append(span);
      fields[name] = value;
    });
    const rejected = el("span", "rejected");
    rejected.setAttribute("data-field", "rejected");
    rejected.title = "messages refused from this device: /api/rejections says why";
    rejected.hidden = true;
    meta.append(rejected);
    const progress = el("progress");
    progress.max = 1;
    progress.value = 0;
    const chart = svg("svg", {
      "class": "chart",
      viewBox: "0 0 600 " + H,
      role: "img",
      "data-points": 0,
      "data-drawn": 0,
    });
    chart.setAttribute("data-device", id);
    chart.setAttribute("aria-label", "scores of " + id);
    card.append(head, meta, progress, chart);
    insertSorted(card, id);
    const d: DeviceView = {
      id,
      card,
      phase,
      fields,
      rejected,
      progress,
      chart,
      points: [],
      received: 0,
      threshold: null,
    };
    devices.set(id, d);
    refreshDeviceChoices();
    return d;
  }
  function insertSorted(card: HTMLElement, id: string): void {
    const list = $("devices");
    let next: Element | null = null;
    for (let i = 0; i < list.children.length; i++) {
      if ((list.children[i].getAttribute("data-device") ?? "") > id) {
        next = list.children[i];
        break;
      }
    }
    list.insertBefore(card, next);
    $("no-devices").hidden = true;
  }
  function forget(id: string): void {
    const d = devices.get(id);
    if (!d) return;
    d.card.remove();
    devices.delete(id);
    dirty.delete(d);
    $("no-devices").hidden = devices.size > 0;
    refreshDeviceChoices();
  }
  function setPhase(d: DeviceView, phase: DevicePhase): void {
    d.phase.textContent = phase;
    d.phase.setAttribute("data-phase", phase);
    d.card.setAttribute("data-phase", phase);
  }
  function summarize(s: DeviceSummary): void {
    const d = device(s.id);
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
    d.rejected.textContent = count(s.rejected) + " rejected";
    d.rejected.hidden = !(s.rejected > 0);
  }
  // Between status events (every 2 s) the counts follow the scores, so an alert never shows
  // beside "anomalies 0"; the next status event puts the gateway's own figures back.
  function countScore(d: DeviceView, anomaly: boolean): void {
    if (typeof d.messages === "number") d.fields.messages.textContent = count(++d.messages);
    if (anomaly && typeof d.anomalies === "number") {
      d.fields.anomalies.textContent = count(++d.anomalies);
    }
    if (!status) return;
    const c = status.counters;
    setCounter("accepted", count(++c.accepted));
    if (anomaly) setCounter("anomalies", count(++c.anomalies));
  }
  function addPoint(d: DeviceView, p: ScorePoint): void {
    d.points.push(p);
    if (d.points.length > CHART_POINTS) d.points.splice(0, d.points.length - CHART_POINTS);
    d.received++;
    touch(d);
  }
  function seed(d: DeviceView, history: ScorePoint[]): void {
    const last = history.length ? history[history.length - 1].ts : -Infinity;
    const live = d.points.filter((p) => p.ts > last);
    d.points = history.concat(live).slice(-CHART_POINTS);
    d.received += history.length;
    touch(d);
  }
  function touch(d: DeviceView): void {
    dirty.add(d);
    if (!frame) frame = requestAnimationFrame(draw);
  }

  // ---- charts: log-scale score, threshold line, anomalies ---------------------------------------
  function draw(): void {
    frame = 0;
    dirty.forEach(drawChart);
    dirty.clear();
  }
  function drawChart(d: DeviceView): void {
    const chart = d.chart, pts = d.points;
    // Drawn at the element's own width, so text and strokes are not stretched.
    const W = Math.max(200, Math.round(chart.getBoundingClientRect().width) || 600);
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    chart.setAttribute("data-points", String(d.received));
    chart.setAttribute("data-drawn", String(pts.length));
    while (chart.firstChild) chart.firstChild.remove();
    let lo = Infinity, hi = -Infinity, t0 = Infinity, t1 = -Infinity;
    pts.forEach((p) => {
      if (p.score > 0) {
        lo = Math.min(lo, p.score);
        hi = Math.max(hi, p.score);
      }
      if (p.threshold !== null && p.threshold > 0) {
        lo = Math.min(lo, p.threshold);
        hi = Math.max(hi, p.threshold);
      }
      t0 = Math.min(t0, p.ts);
      t1 = Math.max(t1, p.ts);
    });
    if (!(lo < Infinity)) {
      lo = 1e-3;
      hi = 1;
    }
    const y0 = Math.floor(Math.log10(lo));
    let y1 = Math.ceil(Math.log10(hi));
    if (y1 <= y0) y1 = y0 + 1;
    const x = (ts: number) => LEFT + (t1 > t0 ? (ts - t0) / (t1 - t0) : 1) * (W - LEFT - RIGHT);
    const y = (v: number) => {
      const l = v > 0 ? Math.log10(v) : y0;
      return TOP + (1 - (Math.max(y0, l) - y0) / (y1 - y0)) * (H - TOP - BOTTOM);
    };
    const step = Math.ceil((y1 - y0) / 4);
    for (let e = y0; e <= y1; e += step) {
      const at = y(Math.pow(10, e));
      chart.append(svg("line", { "class": "grid", x1: LEFT, x2: W - RIGHT, y1: at, y2: at }));
      const label = svg("text", { "class": "tick", x: 2, y: at + 3 });
      label.textContent = "1e" + e;
      chart.append(label);
    }
    if (pts.length > 0) {
      const span = svg("text", { "class": "tick", x: W - RIGHT, y: H - 3, "text-anchor": "end" });
      span.textContent = pts.length + " points, " + ago((t1 - t0) / 1000);
      chart.append(span);
    }
    const line: string[] = [], limit: string[] = [];
    pts.forEach((p) => {
      line.push(x(p.ts).toFixed(1) + "," + y(p.score).toFixed(1));
      if (p.threshold !== null && p.threshold > 0) {
        limit.push(x(p.ts).toFixed(1) + "," + y(p.threshold).toFixed(1));
      }
    });
    if (limit.length > 1) {
      chart.append(svg("polyline", { "class": "threshold", points: limit.join(" ") }));
    }
    if (line.length > 0) {
      chart.append(svg("polyline", { "class": "score", points: line.join(" ") }));
    }
    pts.forEach((p) => {
      if (p.anomaly) {
        chart.append(svg("circle", { "class": "anomaly", cx: x(p.ts), cy: y(p.score), r: 2.5 }));
      }
    });
  }

  // ---- counters --------------------------------------------------------------------------------
  function setCounter(name: string, text: string): void {
    const e = document.querySelector<HTMLElement>('[data-counter="' + name + '"]');
    if (e) e.textContent = text;
  }
  function showStatus(s: StatusBody): void {
    status = s;
    clockOffset = s.now - Date.now();
    const c = s.counters, reasons: string[] = [];
    let rejected = 0;
    for (const [reason, n] of Object.entries(c.rejected)) {
      rejected += n;
      if (n > 0) reasons.push(reason + ": " + n);
    }
    $("version").textContent = "v" + s.version;
    setCounter("messages", count(c.messages));
    setCounter("accepted", count(c.accepted));
    setCounter("dropped", count(c.dropped));
    setCounter("rejected", count(rejected));
    const rejectedTile = document.querySelector<HTMLElement>('[data-counter="rejected"]');
    if (rejectedTile) rejectedTile.title = reasons.join("\n");
    setCounter("evicted", count(c.evicted));
    setCounter("anomalies", count(c.anomalies));
    setCounter("devices", count(s.devices));
    setCounter("queued", count(s.queued));
    setCounter("snapshot-failures", count(s.snapshotFailures));
    setCounter("latency", latencyP99(s.scoreLatency));
    setCounter(
      "mqtt",
      s.mqtt.connected ? "connected" : "down (" + s.mqtt.reconnects + " retries)",
    );
    $("snapshot-error").textContent = s.lastSnapshotError
      ? "snapshot failing: " + s.lastSnapshotError
      : "";
    tick();
  }
  // The bucket bound under which 99 % of messages were scored (receipt to score sent).
  function latencyP99(l: LatencySummary | undefined): string {
    if (!l || l.count === 0) return "–";
    if (l.p99Ms === null) return "> " + count(l.boundsMs[l.boundsMs.length - 1]) + " ms";
    return "≤ " + count(l.p99Ms) + " ms";
  }
  function tick(): void {
    if (!status) return;
    const at = status.lastSnapshotAt;
    setCounter(
      "snapshot-age",
      at === null ? "none yet" : ago((Date.now() + clockOffset - at) / 1000),
    );
  }

  // ---- alerts ----------------------------------------------------------------------------------
  function alertRow(a: AlertEvent): HTMLTableRowElement {
    const tr = el("tr");
    tr.setAttribute("data-device", a.device);
    const features = a.attribution && a.attribution.features
      ? a.attribution.features.join(", ")
      : "";
    [
      new Date(a.ts).toLocaleTimeString(),
      a.device,
      fmt(a.score),
      fmt(a.threshold),
      features,
      fmt(a.attribution ? a.attribution.rmse : null),
    ].forEach((text, i) => {
      tr.append(el("td", i === 2 || i === 3 || i === 5 ? "num" : "", text));
    });
    return tr;
  }
  function addAlert(a: AlertEvent): void {
    const body = $("alerts");
    body.insertBefore(alertRow(a), body.firstChild);
    while (body.children.length > MAX_ALERT_ROWS) body.lastChild?.remove();
    $("no-alerts").hidden = true;
  }

  // ---- loading and following -------------------------------------------------------------------
  function showDevices(list: DeviceSummary[]): void {
    const seen = new Set<string>();
    list.forEach((s) => {
      seen.add(s.id);
      summarize(s);
    });
    Array.from(devices.keys()).forEach((id) => {
      if (!seen.has(id)) forget(id);
    });
  }
  function load(): Promise<unknown> {
    return Promise.all([
      api<StatusBody>("/api/status"),
      api<{ devices: DeviceSummary[] }>("/api/devices"),
      api<{ alerts: AlertEvent[] }>("/api/alerts?limit=" + MAX_ALERT_ROWS),
    ])
      .then(([statusBody, list, recent]) => {
        showStatus(statusBody);
        showDevices(list.devices);
        const body = $("alerts");
        while (body.firstChild) body.firstChild.remove();
        recent.alerts.slice().reverse().forEach(addAlert);
        return Promise.all(list.devices.map((s) =>
          api<{ points: ScorePoint[] }>(
            "/api/devices/" + encodeURIComponent(s.id) + "/scores?limit=" + CHART_POINTS,
          )
            .then((h) => {
              const d = devices.get(s.id);
              if (d) seed(d, h.points);
            })
            .catch(() => {/* the device went away meanwhile */})
        ));
      })
      .catch((error: Error) => {
        $("load-error").textContent = "cannot load: " + error.message;
      });
  }
  function follow(): void {
    const source = new EventSource("/api/events");
    let opened = 0;
    $("events").setAttribute("data-state", "connecting");
    source.onopen = () => {
      $("events").setAttribute("data-state", "live");
      $("events").textContent = "live";
      $("load-error").textContent = "";
      if (opened++ > 0) load(); // a reconnect: catch up on what was missed
    };
    source.onerror = () => {
      $("events").setAttribute("data-state", source.readyState === 2 ? "down" : "connecting");
      $("events").textContent = source.readyState === 2 ? "disconnected" : "reconnecting…";
    };
    source.addEventListener("status", (e) => {
      const m = JSON.parse(e.data) as { status: StatusBody; devices: DeviceSummary[] };
      showStatus(m.status);
      showDevices(m.devices);
    });
    source.addEventListener("score", (e) => {
      const s = JSON.parse(e.data) as ScorePoint & { device: string; phase: DevicePhase };
      const d = device(s.device);
      setPhase(d, s.phase);
      d.fields.score.textContent = fmt(s.score);
      d.fields.threshold.textContent = fmt(s.threshold);
      addPoint(d, { ts: s.ts, score: s.score, threshold: s.threshold, anomaly: s.anomaly });
      countScore(d, s.anomaly);
    });
    source.addEventListener("alert", (e) => {
      addAlert((JSON.parse(e.data) as { alert: AlertEvent }).alert);
    });
    source.addEventListener("snapshot", (e) => {
      if (status) {
        status.lastSnapshotAt = (JSON.parse(e.data) as { at: number }).at;
        tick();
      }
    });
  }

  // ---- controls (need the token) ---------------------------------------------------------------
  function refreshDeviceChoices(): void {
    const select = $("control-device") as HTMLSelectElement, chosen = select.value;
    while (select.firstChild) select.firstChild.remove();
    Array.from(devices.keys()).sort().forEach((id) => {
      const option = el("option", "", id);
      option.value = id;
      select.append(option);
    });
    if (devices.has(chosen)) select.value = chosen;
  }
  function change(method: string, path: string, body?: unknown): void {
    const headers: Record<string, string> = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    $("control-result").textContent = "…";
    api(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
      .then((r) => {
        $("control-result").textContent = "done: " + JSON.stringify(r);
      })
      .catch((error: Error) => {
        $("control-result").textContent = "refused: " + error.message;
      });
  }
  function chosenDevice(): string {
    return "/api/devices/" + encodeURIComponent(($("control-device") as HTMLSelectElement).value);
  }
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  $("token").addEventListener("input", (e) => {
    token = (e.target as HTMLInputElement).value;
  });
  $("snapshot-now").addEventListener("click", () => change("POST", "/api/snapshot"));
  $("reset-device").addEventListener("click", () => change("POST", chosenDevice() + "/reset"));
  $("set-threshold").addEventListener("click", () => {
    const value = Number(($("control-threshold") as HTMLInputElement).value);
    change("PUT", chosenDevice() + "/threshold", { threshold: value });
  });
  $("clear-threshold").addEventListener("click", () => {
    change("PUT", chosenDevice() + "/threshold", { threshold: null });
  });

  globalThis.addEventListener("resize", () => devices.forEach(touch));
  setInterval(tick, 1000);
  load().then(follow);
}
