/// <reference lib="dom" />
/**
 * The dashboard page's browser script, as a type-checked TypeScript function: `page.ts` embeds
 * its source (`dashboardScript.toString()`, which every runtime gives as plain JavaScript, its
 * types gone) and calls it with the chart size. So it runs in the browser, it must stand alone:
 * no imports but types, no names from this module's scope, nothing TypeScript-only that needs
 * more than erasing (no enums, no parameter properties).
 *
 * It loads `/api/status`, the incidents, the recent alerts and one page of `/api/devices`
 * (alerting devices first; filtered by state and searched by id) with its devices' scores, then
 * follows `/api/events` for those devices, reloading after every reconnect. The page of devices
 * is asked for again at most every 2 s and the incidents at most every second, so a fleet of any
 * size costs the page a bounded number of requests and events. Every string from the gateway reaches
 * the document through `textContent` or `setAttribute`, never as markup.
 *
 * @module
 */

import type {
  AlertEvent,
  DevicePhase,
  DeviceState,
  DeviceSummary,
  DigestPoint,
  ScorePoint,
} from "../../core/gateway/mod.ts";
import type { Incident } from "../../core/incidents/mod.ts";
import type { LatencySummary } from "../../core/gateway/mod.ts";
import type { GatewayStatus } from "../gateway/mod.ts";

/** What `/api/status` and the `status` event carry: the gateway's status and the server's clock. */
/** What a cluster instance adds to its status (see adapters/cluster's ClusterStatus). */
interface ClusterSummary {
  instance: string;
  nats: { connected: boolean; reconnects: number };
  members: string[];
  held: number[];
  partitions: { partition: number; lag: number | null }[];
  lastHandover: { partition: number; kind: string; ms: number; replay: number } | null;
  resets: number;
}
type StatusBody = GatewayStatus & { now: number; cluster?: ClusterSummary };

/** One device's card, chart and the points it draws. */
interface DeviceView {
  id: string;
  card: HTMLElement;
  phase: HTMLElement;
  state: HTMLElement;
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
  summary?: DeviceSummary;
  /** The last hour's or day's buckets, when the chart shows one. */
  digest?: DigestBody;
  /** The time window the operator zoomed into (dragged across the chart), if any. */
  zoom?: { from: number; to: number };
  /** The time scale last drawn, to turn a pointer's position back into a time. */
  scale?: { t0: number; t1: number; width: number };
}

/** What `/api/devices/:id/history` answers. */
interface DigestBody {
  range: "hour" | "day";
  bucketMs: number;
  points: DigestPoint[];
}

/**
 * Runs the dashboard in the page: `chartPoints` score points per chart. Called once, by the
 * page's inline script.
 */
export function dashboardScript(chartPoints: number): void {
  "use strict";
  const CHART_POINTS = chartPoints;
  const MAX_ALERT_ROWS = 100;
  const MAX_INCIDENT_ROWS = 100;
  /** Fewest milliseconds between two incident reloads. */
  const INCIDENT_RELOAD_MS = 1000;
  const SVG = "http://www.w3.org/2000/svg";
  const H = 150, LEFT = 34, RIGHT = 6, TOP = 6, BOTTOM = 16;
  const devices = new Map<string, DeviceView>();
  let status: StatusBody | null = null;
  let clockOffset = 0;
  const dirty = new Set<DeviceView>();
  let frame = 0;
  let token = "";
  let incidents: Incident[] = [];
  let incidentsLoaded = 0;
  let incidentTimer: ReturnType<typeof setTimeout> | 0 = 0;
  const PAGE_SIZE = 24;
  /** Fewest milliseconds between two reloads of the page of devices. */
  const PAGE_RELOAD_MS = 2000;
  let pageOffset = 0;
  let pageLoaded = 0;
  let pageTimer: ReturnType<typeof setTimeout> | 0 = 0;
  let followedIds = "";
  let source: EventSource | null = null;
  /** What the charts show: the live points, or the last hour's or day's buckets. */
  let chartRange = "live";
  /** How often the hour's and day's buckets are asked for again (a bucket is 30 s or more). */
  const DIGEST_RELOAD_MS = 30_000;

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
  function when(ts: number): string {
    const d = new Date(ts);
    return d.toLocaleDateString("en-CA") + " " + d.toLocaleTimeString("en-GB");
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
    const state = el("span", "state", "–");
    head.append(title, state, phase);
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
    $("devices").append(card); // showPage puts it in the page's order
    zoomable(chart, () => devices.get(id));
    const d: DeviceView = {
      id,
      card,
      phase,
      state,
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

  function forget(id: string): void {
    const d = devices.get(id);
    if (!d) return;
    d.card.remove();
    devices.delete(id);
    dirty.delete(d);
    refreshDeviceChoices();
  }
  function setPhase(d: DeviceView, phase: DevicePhase): void {
    d.phase.textContent = phase;
    d.phase.setAttribute("data-phase", phase);
    d.card.setAttribute("data-phase", phase);
  }
  // The state in words and colour: learning and calibrating with their progress, muting shown.
  function setState(d: DeviceView, state: DeviceState): void {
    const s = d.summary;
    let text: string = state;
    if ((state === "learning" || state === "calibrating") && s) {
      text += " " + Math.floor(s.progress * 100) + " %";
    }
    if (s && s.mutedUntil !== null && s.mutedUntil > Date.now() + clockOffset) {
      text += " · muted until " + new Date(s.mutedUntil).toLocaleTimeString("en-GB");
    }
    d.state.textContent = text;
    d.state.setAttribute("data-state", state);
    d.card.setAttribute("data-state", state);
  }
  function summarize(s: DeviceSummary): void {
    const d = device(s.id);
    d.summary = s;
    setState(d, s.state);
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
    // A scored message was received too: both tiles move together.
    setCounter("messages", count(++c.messages));
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
  // Dragging across a chart zooms into that time window; a double-click shows all again.
  function zoomable(chart: SVGSVGElement, view: () => DeviceView | undefined): void {
    let start: number | null = null;
    let selection: SVGRectElement | null = null;
    const at = (e: PointerEvent): number => {
      const d = view(), box = chart.getBoundingClientRect();
      const width = d?.scale?.width ?? box.width;
      return ((e.clientX - box.left) / (box.width || 1)) * width;
    };
    const timeAt = (px: number): number | null => {
      const s = view()?.scale;
      if (!s || !(s.t1 > s.t0)) return null;
      const share = (px - LEFT) / (s.width - LEFT - RIGHT);
      return s.t0 + Math.min(1, Math.max(0, share)) * (s.t1 - s.t0);
    };
    chart.addEventListener("pointerdown", (e) => {
      start = at(e);
      chart.setPointerCapture(e.pointerId);
    });
    chart.addEventListener("pointermove", (e) => {
      if (start === null) return;
      const now = at(e);
      if (!selection) {
        selection = svg("rect", { "class": "selection", y: TOP, height: H - TOP - BOTTOM });
        chart.append(selection);
      }
      selection.setAttribute("x", String(Math.min(start, now)));
      selection.setAttribute("width", String(Math.abs(now - start)));
    });
    chart.addEventListener("pointerup", (e) => {
      const from = start, to = at(e);
      start = null;
      selection?.remove();
      selection = null;
      const d = view();
      if (from === null || !d || Math.abs(to - from) < 4) return;
      const a = timeAt(Math.min(from, to)), b = timeAt(Math.max(from, to));
      if (a === null || b === null || !(b > a)) return;
      d.zoom = { from: a, to: b };
      touch(d);
    });
    chart.addEventListener("dblclick", () => {
      const d = view();
      if (!d || !d.zoom) return;
      d.zoom = undefined;
      touch(d);
    });
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
  // The axes of a chart over [t0, t1] and the scores in [lo, hi] (log scale), its grid, its
  // caption and the device's incidents as bands; returns the scales.
  function axes(
    d: DeviceView,
    extent: { t0: number; t1: number; lo: number; hi: number },
    caption: string,
  ): { x: (ts: number) => number; y: (v: number) => number } {
    const chart = d.chart;
    // Drawn at the element's own width, so text and strokes are not stretched.
    const W = Math.max(200, Math.round(chart.getBoundingClientRect().width) || 600);
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (chart.firstChild) chart.firstChild.remove();
    let { lo, hi } = extent;
    const { t0, t1 } = extent;
    d.scale = { t0, t1, width: W };
    chart.setAttribute("data-zoom", d.zoom ? "on" : "off");
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
    if (caption) {
      const span = svg("text", { "class": "tick", x: W - RIGHT, y: H - 3, "text-anchor": "end" });
      span.textContent = (d.zoom ? "zoomed (double-click: all) · " : "") + caption;
      chart.append(span);
    }
    if (t1 >= t0) {
      incidents.forEach((i) => {
        if (i.device !== d.id) return;
        const from = Math.max(i.start, t0), to = Math.min(i.closedAt === null ? t1 : i.end, t1);
        if (to < from) return;
        const band = svg("rect", {
          "class": "incident",
          x: x(from),
          y: TOP,
          width: Math.max(2, x(to) - x(from)),
          height: H - TOP - BOTTOM,
        });
        band.setAttribute("data-incident", String(i.id));
        chart.append(band);
      });
    }
    return { x, y };
  }
  // A span learnt from (no scores), shaded.
  function shade(d: DeviceView, x: (ts: number) => number, from: number, to: number): void {
    d.chart.append(svg("rect", {
      "class": "learning",
      x: x(from),
      y: TOP,
      width: Math.max(1, x(to) - x(from)),
      height: H - TOP - BOTTOM,
    }));
  }
  function drawChart(d: DeviceView): void {
    d.chart.setAttribute("data-points", String(d.received));
    d.chart.setAttribute("data-range", chartRange);
    if (chartRange !== "live" && d.digest) drawDigest(d, d.digest);
    else drawLive(d);
  }
  // The points inside the zoomed window (all of them when not zoomed).
  function zoomed<P extends { ts: number }>(d: DeviceView, pts: P[]): P[] {
    const z = d.zoom;
    return z ? pts.filter((p) => p.ts >= z.from && p.ts <= z.to) : pts;
  }
  function drawLive(d: DeviceView): void {
    const chart = d.chart, pts = zoomed(d, d.points);
    chart.setAttribute("data-drawn", String(pts.length));
    const extent = { lo: Infinity, hi: -Infinity, t0: Infinity, t1: -Infinity };
    pts.forEach((p) => {
      if (p.score > 0) {
        extent.lo = Math.min(extent.lo, p.score);
        extent.hi = Math.max(extent.hi, p.score);
      }
      if (p.threshold !== null && p.threshold > 0) {
        extent.lo = Math.min(extent.lo, p.threshold);
        extent.hi = Math.max(extent.hi, p.threshold);
      }
      extent.t0 = Math.min(extent.t0, p.ts);
      extent.t1 = Math.max(extent.t1, p.ts);
    });
    const caption = pts.length > 0
      ? pts.length + " points, " + ago((extent.t1 - extent.t0) / 1000)
      : "";
    const { x, y } = axes(d, extent, caption);
    // A score of 0 is a message learnt from, not a measurement: those spans are shaded bands,
    // and the score line is drawn only where there are scores.
    const lines: string[][] = [], limit: string[] = [];
    let learningFrom = -1;
    pts.forEach((p, k) => {
      if (p.score > 0) {
        if (learningFrom >= 0) shade(d, x, pts[learningFrom].ts, p.ts);
        learningFrom = -1;
        if (k === 0 || !(pts[k - 1].score > 0)) lines.push([]);
        lines[lines.length - 1].push(x(p.ts).toFixed(1) + "," + y(p.score).toFixed(1));
      } else if (learningFrom < 0) {
        learningFrom = k;
      }
      if (p.threshold !== null && p.threshold > 0) {
        limit.push(x(p.ts).toFixed(1) + "," + y(p.threshold).toFixed(1));
      }
    });
    if (learningFrom >= 0) shade(d, x, pts[learningFrom].ts, pts[pts.length - 1].ts);
    if (limit.length > 1) {
      chart.append(svg("polyline", { "class": "threshold", points: limit.join(" ") }));
    }
    lines.forEach((line) => {
      chart.append(svg("polyline", { "class": "score", points: line.join(" ") }));
    });
    pts.forEach((p) => {
      if (p.anomaly) {
        chart.append(svg("circle", { "class": "anomaly", cx: x(p.ts), cy: y(p.score), r: 2.5 }));
      }
    });
  }
  // The last hour or day: each bucket's min–max as a band, its mean as the line, the threshold
  // in force now, learning buckets shaded.
  function drawDigest(d: DeviceView, digest: DigestBody): void {
    const chart = d.chart, pts = zoomed(d, digest.points), threshold = d.threshold;
    chart.setAttribute("data-drawn", String(pts.length));
    const extent = {
      lo: threshold !== null && threshold > 0 ? threshold : Infinity,
      hi: threshold !== null && threshold > 0 ? threshold : -Infinity,
      t0: Infinity,
      t1: -Infinity,
    };
    pts.forEach((p) => {
      if (p.min !== null && p.max !== null) {
        if (p.min > 0) extent.lo = Math.min(extent.lo, p.min);
        if (p.max > 0) extent.hi = Math.max(extent.hi, p.max);
      }
      extent.t0 = Math.min(extent.t0, p.ts);
      extent.t1 = Math.max(extent.t1, p.ts + digest.bucketMs);
    });
    const span = digest.range === "hour" ? "last hour" : "last day";
    const caption = span + ", " + pts.length + " buckets of " + ago(digest.bucketMs / 1000);
    const { x, y } = axes(d, extent, pts.length > 0 ? caption : "");
    const upper: string[] = [], lower: string[] = [], mean: string[][] = [];
    let previous: DigestPoint | undefined;
    pts.forEach((p) => {
      if (p.learning || p.min === null || p.max === null || p.mean === null) {
        shade(d, x, p.ts, p.ts + digest.bucketMs);
        previous = undefined;
        return;
      }
      const mid = x(p.ts + digest.bucketMs / 2).toFixed(1);
      upper.push(mid + "," + y(p.max).toFixed(1));
      lower.unshift(mid + "," + y(p.min).toFixed(1));
      // A gap of more than one bucket breaks the mean line.
      if (!previous || p.ts - previous.ts > digest.bucketMs) mean.push([]);
      mean[mean.length - 1].push(mid + "," + y(p.mean).toFixed(1));
      previous = p;
    });
    if (upper.length > 1) {
      chart.append(svg("polygon", { "class": "band", points: upper.concat(lower).join(" ") }));
    }
    mean.forEach((line) => {
      chart.append(svg("polyline", { "class": "score", points: line.join(" ") }));
    });
    if (threshold !== null && threshold > 0 && pts.length > 0) {
      const at = y(threshold).toFixed(1);
      chart.append(svg("polyline", {
        "class": "threshold",
        points: x(extent.t0).toFixed(1) + "," + at + " " + x(extent.t1).toFixed(1) + "," + at,
      }));
    }
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
    $("cluster").textContent = s.cluster ? clusterLine(s.cluster) : "";
    tick();
  }
  // One line: who this instance is, what it holds, its lag, and the last handover.
  function clusterLine(c: ClusterSummary): string {
    let lag = 0;
    for (const p of c.partitions) lag += p.lag ?? 0;
    const h = c.lastHandover;
    return "cluster: instance " + c.instance + " of " + c.members.length + " (" +
      c.members.join(", ") + "); holds partitions " + (c.held.join(", ") || "none") +
      "; lag " + count(lag) +
      (h
        ? "; last handover: partition " + h.partition + " " + h.kind + " in " + count(h.ms) +
          " ms" + (h.kind === "taken" ? ", " + count(h.replay) + " replayed" : "")
        : "") +
      (c.resets > 0 ? "; " + c.resets + " partition reset(s)" : "") +
      (c.nats.connected ? "" : "; NATS down (" + c.nats.reconnects + " reconnects so far)");
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
    ].forEach((text, i) => {
      tr.append(el("td", i === 2 || i === 3 ? "num" : "", text));
    });
    return tr;
  }
  function addAlert(a: AlertEvent): void {
    const body = $("alerts");
    body.insertBefore(alertRow(a), body.firstChild);
    while (body.children.length > MAX_ALERT_ROWS) body.lastChild?.remove();
    $("no-alerts").hidden = true;
  }

  // ---- incidents: open ones first, one row each ---------------------------------------------------
  function incidentRow(i: Incident): HTMLTableRowElement {
    const tr = el("tr");
    const open = i.closedAt === null;
    tr.setAttribute("data-incident", String(i.id));
    tr.setAttribute("data-device", i.device);
    tr.setAttribute("data-state", open ? "open" : "closed");
    const ratio = i.peakThreshold > 0 ? " (×" + fmt(i.peakScore / i.peakThreshold) + ")" : "";
    const features = i.topFeatures
      .map((f) => f.feature + " " + Math.round(f.share * 100) + " %")
      .join(", ");
    const end = open ? Date.now() + clockOffset : i.end;
    const cells = [
      open ? "open" : "closed",
      when(i.start),
      ago(Math.max(0, end - i.start) / 1000) + (open ? " so far" : ""),
      i.device,
      fmt(i.peakScore) + ratio,
      count(i.alerts),
      features,
    ];
    cells.forEach((text, k) => {
      const td = el("td", k === 4 || k === 5 ? "num" : "", text);
      if (k === 0) td.className = "incident-state";
      tr.append(td);
    });
    const action = el("td");
    if (i.acknowledgedAt !== null) {
      action.textContent = "acknowledged";
    } else {
      const button = el("button", "acknowledge", "Acknowledge");
      button.type = "button";
      button.addEventListener("click", () => {
        change("POST", "/api/incidents/" + i.id + "/acknowledge").then(loadIncidents);
      });
      action.append(button);
    }
    tr.append(action);
    return tr;
  }
  function showIncidents(list: Incident[]): void {
    incidents = list;
    incidentsLoaded = Date.now();
    const body = $("incidents");
    while (body.firstChild) body.firstChild.remove();
    list.forEach((i) => body.append(incidentRow(i)));
    $("no-incidents").hidden = list.length > 0;
    devices.forEach(touch); // the charts mark them
  }
  function loadIncidents(): Promise<void> {
    return api<{ incidents: Incident[] }>("/api/incidents?limit=" + MAX_INCIDENT_ROWS)
      .then((r) => showIncidents(r.incidents))
      .catch(() => {/* shown by the next load */});
  }
  // An incident's rows change with every alert: reload at a bounded rate, never per message.
  function incidentsChanged(): void {
    if (incidentTimer) return;
    const wait = Math.max(0, incidentsLoaded + INCIDENT_RELOAD_MS - Date.now());
    incidentTimer = globalThis.setTimeout(() => {
      incidentTimer = 0;
      loadIncidents();
    }, wait);
  }

  // ---- the fleet, a page at a time: alerting devices first, then by id -------------------------
  interface DevicePageBody {
    devices: DeviceSummary[];
    total: number;
    offset: number;
    states: Record<DeviceState, number>;
  }
  function pageQuery(): string {
    const state = ($("device-state") as HTMLSelectElement).value;
    const search = ($("device-search") as HTMLInputElement).value.trim();
    return "/api/devices?limit=" + PAGE_SIZE + "&offset=" + pageOffset +
      (state ? "&state=" + encodeURIComponent(state) : "") +
      (search ? "&q=" + encodeURIComponent(search) : "");
  }
  // Cards for the page's devices only, in its order; charts fetched for the new ones.
  function showPage(page: DevicePageBody): Promise<unknown> {
    if (page.total > 0 && page.offset >= page.total) {
      pageOffset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
      return loadPage();
    }
    const fresh = page.devices.filter((s) => !devices.has(s.id));
    const seen = new Set<string>();
    page.devices.forEach((s) => {
      seen.add(s.id);
      summarize(s);
    });
    Array.from(devices.keys()).forEach((id) => {
      if (!seen.has(id)) forget(id);
    });
    const list = $("devices");
    page.devices.forEach((s) => list.append(devices.get(s.id)!.card));
    $("no-devices").hidden = page.total > 0;
    const last = Math.min(page.offset + page.devices.length, page.total);
    $("page-range").textContent = page.total === 0
      ? "no device"
      : (page.offset + 1) + "–" + last + " of " + count(page.total);
    ($("page-prev") as HTMLButtonElement).disabled = page.offset === 0;
    ($("page-next") as HTMLButtonElement).disabled = last >= page.total;
    $("fleet-states").textContent = (["alerting", "calibrating", "learning", "normal"] as const)
      .map((state) => count(page.states[state]) + " " + state).join(" · ");
    const ids = page.devices.map((s) => s.id).join(",");
    if (ids !== followedIds) {
      followedIds = ids;
      follow();
    }
    if (chartRange !== "live") loadDigests(fresh.map((s) => s.id));
    return Promise.all(fresh.map((s) =>
      api<{ points: ScorePoint[] }>(
        "/api/devices/" + encodeURIComponent(s.id) + "/scores?limit=" + CHART_POINTS,
      )
        .then((h) => {
          const d = devices.get(s.id);
          if (d) seed(d, h.points);
        })
        .catch(() => {/* the device went away meanwhile */})
    ));
  }
  // The hour's or day's buckets of `ids` (the page's devices), for the charts.
  function loadDigests(ids: string[]): void {
    if (chartRange === "live") return;
    const range = chartRange;
    ids.forEach((id) => {
      api<DigestBody>("/api/devices/" + encodeURIComponent(id) + "/history?range=" + range)
        .then((body) => {
          const d = devices.get(id);
          if (d && chartRange === range) {
            d.digest = body;
            touch(d);
          }
        })
        .catch(() => {/* the device went away meanwhile */});
    });
  }
  function loadPage(): Promise<unknown> {
    pageLoaded = Date.now();
    return api<DevicePageBody>(pageQuery()).then(showPage).catch((error: Error) => {
      $("load-error").textContent = "cannot load the devices: " + error.message;
    });
  }
  // The page is asked for again at most every status interval, so its order follows the fleet.
  function pageChanged(): void {
    if (pageTimer) return;
    pageTimer = globalThis.setTimeout(() => {
      pageTimer = 0;
      loadPage();
    }, Math.max(0, pageLoaded + PAGE_RELOAD_MS - Date.now()));
  }
  function load(): Promise<unknown> {
    return Promise.all([
      api<StatusBody>("/api/status"),
      api<{ alerts: AlertEvent[] }>("/api/alerts?limit=" + MAX_ALERT_ROWS),
      api<{ incidents: Incident[] }>("/api/incidents?limit=" + MAX_INCIDENT_ROWS),
    ])
      .then(([statusBody, recent, incidentList]) => {
        showStatus(statusBody);
        showIncidents(incidentList.incidents);
        const body = $("alerts");
        while (body.firstChild) body.firstChild.remove();
        recent.alerts.slice().reverse().forEach(addAlert);
        return loadPage();
      })
      .catch((error: Error) => {
        $("load-error").textContent = "cannot load: " + error.message;
      });
  }
  // One event stream, for the devices on the page; opened again when the page changes.
  function follow(): void {
    if (source) source.close();
    const current = new EventSource("/api/events?devices=" + encodeURIComponent(followedIds));
    source = current;
    let opened = 0;
    $("events").setAttribute("data-state", "connecting");
    current.onopen = () => {
      $("events").setAttribute("data-state", "live");
      $("events").textContent = "live";
      $("load-error").textContent = "";
      if (opened++ > 0) load(); // a reconnect: catch up on what was missed
    };
    current.onerror = () => {
      $("events").setAttribute("data-state", current.readyState === 2 ? "down" : "connecting");
      $("events").textContent = current.readyState === 2 ? "disconnected" : "reconnecting…";
    };
    current.addEventListener("status", (e) => {
      const m = JSON.parse(e.data) as { status: StatusBody; devices: DeviceSummary[] };
      showStatus(m.status);
      m.devices.forEach((s) => {
        if (devices.has(s.id)) summarize(s);
      });
      pageChanged();
    });
    current.addEventListener("score", (e) => {
      const s = JSON.parse(e.data) as ScorePoint & { device: string; phase: DevicePhase };
      const d = devices.get(s.device);
      if (!d) return;
      setPhase(d, s.phase);
      d.fields.score.textContent = fmt(s.score);
      d.fields.threshold.textContent = fmt(s.threshold);
      addPoint(d, { ts: s.ts, score: s.score, threshold: s.threshold, anomaly: s.anomaly });
      countScore(d, s.anomaly);
    });
    current.addEventListener("alert", (e) => {
      addAlert((JSON.parse(e.data) as { alert: AlertEvent }).alert);
      incidentsChanged();
    });
    current.addEventListener("incident", () => {
      incidentsChanged();
      pageChanged(); // an alerting device moves to the first page
    });
    current.addEventListener("state", (e) => {
      const m = JSON.parse(e.data) as { device: string; state: DeviceState };
      const d = devices.get(m.device);
      if (d) setState(d, m.state);
    });
    current.addEventListener("snapshot", (e) => {
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
  function change(method: string, path: string, body?: unknown): Promise<void> {
    const headers: Record<string, string> = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    $("control-result").textContent = "…";
    return api(path, {
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
  $("mute-device").addEventListener("click", () => {
    const minutes = Number(($("control-mute-minutes") as HTMLInputElement).value);
    change("PUT", chosenDevice() + "/mute", { minutes });
  });
  $("unmute-device").addEventListener("click", () => {
    change("PUT", chosenDevice() + "/mute", { minutes: null });
  });

  // ---- paging, filtering and searching the fleet ------------------------------------------------
  $("page-prev").addEventListener("click", () => {
    pageOffset = Math.max(0, pageOffset - PAGE_SIZE);
    loadPage();
  });
  $("page-next").addEventListener("click", () => {
    pageOffset += PAGE_SIZE;
    loadPage();
  });
  $("chart-range").addEventListener("change", (e) => {
    chartRange = (e.target as HTMLSelectElement).value;
    devices.forEach((d) => {
      d.digest = undefined;
      touch(d);
    });
    loadDigests(Array.from(devices.keys()));
  });
  setInterval(() => loadDigests(Array.from(devices.keys())), DIGEST_RELOAD_MS);
  $("device-state").addEventListener("change", () => {
    pageOffset = 0;
    loadPage();
  });
  let searchTimer: ReturnType<typeof setTimeout> | 0 = 0;
  $("device-search").addEventListener("input", () => {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = globalThis.setTimeout(() => {
      searchTimer = 0;
      pageOffset = 0;
      loadPage();
    }, 250);
  });

  globalThis.addEventListener("resize", () => devices.forEach(touch));
  setInterval(tick, 1000);
  load();
}
