/**
 * Turns alerts into incidents: a device's first alert opens one, its later alerts join it, and
 * a quiet period with no alert closes it. Open incidents are one per device; closed ones are
 * kept in a ring of fixed size (the oldest overwritten, and counted). Operators acknowledge
 * incidents and mute devices; all of it is saved in the gateway's snapshots.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../codec/mod.ts";
import type { Incident, IncidentChange, IncidentFeature } from "./incident.ts";

/** Features an incident names. */
export const TOP_FEATURES = 3;

/** Options of {@linkcode IncidentLog}. */
export interface IncidentLogOptions {
  /** How long without an alert closes a device's incident, in milliseconds. */
  quietMs: number;
  /** Closed incidents kept (the oldest is overwritten beyond it). */
  keep: number;
}

/** Which incidents {@linkcode IncidentLog.list} returns. */
export interface IncidentQuery {
  /** Only open or only closed ones (default both, open first). */
  state?: "open" | "closed";
  /** Only this device's. */
  device?: string;
  /** At most this many (default all). */
  limit?: number;
}

/** The log's counters. */
export interface IncidentCounts {
  /** Incidents open now. */
  open: number;
  /** Incidents opened since the gateway first ran. */
  opened: number;
  /** Closed incidents overwritten in the full ring. */
  overwritten: number;
}

/** An open incident, with the tally its top features come from. */
interface OpenIncident {
  incident: Incident;
  /** How many of its alerts named each feature (bounded by the stream's feature count). */
  named: Map<string, number>;
}

/**
 * A device's alerts grouped into incidents; see the module's description.
 *
 * @example
 * ```ts
 * import { IncidentLog } from "./incident_log.ts";
 * const log = new IncidentLog({ quietMs: 30_000, keep: 100 });
 * log.alert("pump-1", "plant", 1_000, 4.2, 1.0, ["vibration"]); // opens incident 1
 * log.alert("pump-1", "plant", 2_000, 6.0, 1.0, ["vibration", "current"]); // joins it
 * const closed = log.calm("pump-1", 40_000); // quiet for 30 s: closed at 32,000
 * console.log(closed?.incident.peakScore, closed?.incident.topFeatures[0].feature); // 6 vibration
 * ```
 */
export class IncidentLog {
  readonly #quietMs: number;
  readonly #keep: number;
  readonly #open = new Map<string, OpenIncident>();
  readonly #closed: (Incident | undefined)[];
  #closedCount = 0;
  #nextId = 1;
  #overwritten = 0;
  /** Muted devices, by id: until when. Only held devices are muted, so it stays bounded. */
  readonly #muted = new Map<string, number>();

  /** An empty log. Throws a `RangeError` for a negative quiet period or a keep below 1. */
  constructor(options: IncidentLogOptions) {
    if (!(options.quietMs >= 0 && options.quietMs < Infinity)) {
      throw new RangeError(`quietMs: expected a finite number >= 0, got ${options.quietMs}`);
    }
    if (!Number.isSafeInteger(options.keep) || options.keep < 1) {
      throw new RangeError(`keep: expected a whole number >= 1, got ${options.keep}`);
    }
    this.#quietMs = options.quietMs;
    this.#keep = options.keep;
    this.#closed = new Array(options.keep).fill(undefined);
  }

  /** The counters. */
  counts(): IncidentCounts {
    return {
      open: this.#open.size,
      opened: this.#nextId - 1,
      overwritten: this.#overwritten,
    };
  }

  /** Incidents open now. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Device `device`'s open incident's id, or 0 when it has none. */
  openId(device: string): number {
    return this.#open.get(device)?.incident.id ?? 0;
  }

  /**
   * Adds an alert of `device` at `at`: opens an incident (returned as an `open` change) or joins
   * the open one (returns undefined). `features` are the names its attribution gave.
   */
  alert(
    device: string,
    stream: string,
    at: number,
    score: number,
    threshold: number,
    features: readonly string[],
  ): IncidentChange | undefined {
    let open = this.#open.get(device);
    let opened = false;
    if (open !== undefined && at - open.incident.end >= this.#quietMs) {
      // The quiet period passed without a message to close it: that incident ended.
      this.#close(device, open, open.incident.end + this.#quietMs);
      open = undefined;
    }
    if (open === undefined) {
      open = {
        incident: {
          id: this.#nextId++,
          device,
          stream,
          start: at,
          end: at,
          closedAt: null,
          peakScore: score,
          peakThreshold: threshold,
          peakAt: at,
          alerts: 0,
          topFeatures: [],
          acknowledgedAt: null,
        },
        named: new Map(),
      };
      this.#open.set(device, open);
      opened = true;
    }
    const incident = open.incident;
    incident.end = Math.max(incident.end, at);
    incident.alerts++;
    if (score > incident.peakScore) {
      incident.peakScore = score;
      incident.peakThreshold = threshold;
      incident.peakAt = at;
    }
    for (const feature of features) open.named.set(feature, (open.named.get(feature) ?? 0) + 1);
    incident.topFeatures = topFeatures(open.named, incident.alerts);
    return opened ? this.#change("open", incident) : undefined;
  }

  /**
   * A message of `device` at `at` that was no alert: closes its incident when the quiet period
   * has passed since its last alert (returned as a `close` change).
   */
  calm(device: string, at: number): IncidentChange | undefined {
    const open = this.#open.get(device);
    if (open === undefined || at - open.incident.end < this.#quietMs) return undefined;
    return this.#close(device, open, open.incident.end + this.#quietMs);
  }

  /**
   * Closes every incident whose quiet period has passed by `now` (devices that went silent),
   * calling `changed` for each, and ends mutes that have run out.
   */
  sweep(now: number, changed: (change: IncidentChange) => void): void {
    for (const [device, open] of this.#open) {
      const quietSince = open.incident.end + this.#quietMs;
      if (now >= quietSince) changed(this.#close(device, open, quietSince));
    }
    for (const [device, until] of this.#muted) if (until <= now) this.#muted.delete(device);
  }

  /** Device `device` is forgotten (reset or evicted): its incident closes, its mute ends. */
  forget(device: string, at: number): IncidentChange | undefined {
    this.#muted.delete(device);
    const open = this.#open.get(device);
    return open === undefined ? undefined : this.#close(device, open, at);
  }

  /** Open incidents first (newest first), then closed ones (newest first), as copies. */
  list(query: IncidentQuery = {}): Incident[] {
    const limit = query.limit ?? Infinity;
    const out: Incident[] = [];
    const keep = (incident: Incident) =>
      out.length < limit && (query.device === undefined || incident.device === query.device);
    if (query.state !== "closed") {
      const open = Array.from(this.#open.values(), (o) => o.incident);
      open.sort((a, b) => b.start - a.start || b.id - a.id);
      for (const incident of open) if (keep(incident)) out.push(copy(incident));
    }
    if (query.state !== "open") {
      const count = Math.min(this.#closedCount, this.#keep);
      for (let k = 1; k <= count && out.length < limit; k++) {
        const incident = this.#closed[(this.#closedCount - k) % this.#keep]!;
        if (keep(incident)) out.push(copy(incident));
      }
    }
    return out;
  }

  /**
   * Marks incident `id` acknowledged at `at` (kept if it already was); returns a copy, or
   * undefined when no incident kept has that id.
   */
  acknowledge(id: number, at: number): Incident | undefined {
    const incident = this.#find(id);
    if (incident === undefined) return undefined;
    incident.acknowledgedAt ??= at;
    return copy(incident);
  }

  /** Mutes `device` until `until` (its incidents are kept, not announced). */
  mute(device: string, until: number): void {
    this.#muted.set(device, until);
  }

  /** Ends `device`'s mute; returns whether it was muted. */
  unmute(device: string): boolean {
    return this.#muted.delete(device);
  }

  /** Until when `device` is muted at `now`, or null. */
  mutedUntil(device: string, now: number): number | null {
    const until = this.#muted.get(device);
    return until !== undefined && until > now ? until : null;
  }

  /** Writes the whole log (open and closed incidents, mutes, counters). */
  write(w: ByteWriter): void {
    w.f64(this.#nextId).f64(this.#overwritten);
    w.u32(this.#open.size);
    for (const open of this.#open.values()) {
      writeIncident(w, open.incident);
      w.u32(open.named.size);
      for (const [feature, count] of open.named) w.string(feature).f64(count);
    }
    const count = Math.min(this.#closedCount, this.#keep);
    w.u32(count);
    for (let k = count; k >= 1; k--) {
      writeIncident(w, this.#closed[(this.#closedCount - k) % this.#keep]!); // oldest first
    }
    w.u32(this.#muted.size);
    for (const [device, until] of this.#muted) w.string(device).f64(until);
  }

  /**
   * Replaces the log with one {@linkcode write} wrote. Throws a `RangeError` naming what is
   * wrong (and changes nothing) for contents no log could hold. Closed incidents beyond `keep`
   * are dropped, oldest first, and counted as overwritten.
   */
  read(r: ByteReader): void {
    const nextId = r.f64(), overwritten = r.f64();
    wholeNumber("next incident id", nextId, 1);
    wholeNumber("overwritten incidents", overwritten, 0);
    const open = new Map<string, OpenIncident>();
    const openCount = r.u32();
    for (let i = 0; i < openCount; i++) {
      const incident = readIncident(r, nextId);
      if (incident.closedAt !== null) throw new RangeError(`incident ${incident.id}: not open`);
      const named = new Map<string, number>();
      const names = r.u32();
      for (let k = 0; k < names; k++) {
        const feature = r.string(), count = r.f64();
        wholeNumber(`incident ${incident.id}: count of ${feature}`, count, 1);
        named.set(feature, count);
      }
      open.set(incident.device, { incident, named });
    }
    const closed: Incident[] = [];
    const closedCount = r.u32();
    for (let i = 0; i < closedCount; i++) {
      const incident = readIncident(r, nextId);
      if (incident.closedAt === null) throw new RangeError(`incident ${incident.id}: not closed`);
      closed.push(incident);
    }
    const muted = new Map<string, number>();
    const mutes = r.u32();
    for (let i = 0; i < mutes; i++) {
      const device = r.string(), until = r.f64();
      if (!Number.isFinite(until)) {
        throw new RangeError(`mute of ${JSON.stringify(device)}: until ${until}`);
      }
      muted.set(device, until);
    }
    // Everything read: replace the state.
    this.#open.clear();
    for (const [device, o] of open) this.#open.set(device, o);
    const dropped = Math.max(0, closed.length - this.#keep);
    this.#closed.fill(undefined);
    this.#closedCount = 0;
    for (const incident of closed.slice(dropped)) this.#push(incident);
    this.#overwritten = overwritten + dropped;
    this.#nextId = nextId;
    this.#muted.clear();
    for (const [device, until] of muted) this.#muted.set(device, until);
  }

  #close(device: string, open: OpenIncident, at: number): IncidentChange {
    this.#open.delete(device);
    const incident = open.incident;
    incident.closedAt = Math.max(at, incident.end);
    this.#push(incident);
    return this.#change("close", incident);
  }

  #push(incident: Incident): void {
    if (this.#closedCount >= this.#keep) this.#overwritten++;
    this.#closed[this.#closedCount % this.#keep] = incident;
    this.#closedCount++;
  }

  #find(id: number): Incident | undefined {
    for (const open of this.#open.values()) if (open.incident.id === id) return open.incident;
    const count = Math.min(this.#closedCount, this.#keep);
    for (let k = 1; k <= count; k++) {
      const incident = this.#closed[(this.#closedCount - k) % this.#keep]!;
      if (incident.id === id) return incident;
    }
    return undefined;
  }

  #change(change: "open" | "close", incident: Incident): IncidentChange {
    // A mute is read at the incident's own time, so a replay decides as the first run did.
    const at = change === "open" ? incident.start : incident.closedAt!;
    return {
      change,
      incident: copy(incident),
      muted: this.mutedUntil(incident.device, at) !== null,
    };
  }
}

/** The features named most often (ties: the first named), with their shares. */
function topFeatures(named: ReadonlyMap<string, number>, alerts: number): IncidentFeature[] {
  const top: IncidentFeature[] = [];
  for (const [feature, count] of named) {
    const share = count / alerts;
    let at = top.length;
    while (at > 0 && top[at - 1].share < share) at--;
    if (at < TOP_FEATURES) {
      top.splice(at, 0, { feature, share });
      if (top.length > TOP_FEATURES) top.pop();
    }
  }
  return top;
}

function copy(incident: Incident): Incident {
  return { ...incident, topFeatures: incident.topFeatures.map((f) => ({ ...f })) };
}

/** Null is written as NaN. */
function orNaN(value: number | null): number {
  return value === null ? NaN : value;
}

function writeIncident(w: ByteWriter, incident: Incident): void {
  w.f64(incident.id).string(incident.device).string(incident.stream);
  w.f64(incident.start).f64(incident.end).f64(orNaN(incident.closedAt));
  w.f64(incident.peakScore).f64(incident.peakThreshold).f64(incident.peakAt);
  w.f64(incident.alerts).f64(orNaN(incident.acknowledgedAt));
  w.u32(incident.topFeatures.length);
  for (const f of incident.topFeatures) w.string(f.feature).f64(f.share);
}

function readIncident(r: ByteReader, nextId: number): Incident {
  const id = r.f64(), device = r.string(), stream = r.string();
  const start = r.f64(), end = r.f64(), closedAt = r.f64();
  const peakScore = r.f64(), peakThreshold = r.f64(), peakAt = r.f64();
  const alerts = r.f64(), acknowledgedAt = r.f64();
  const topFeatures: IncidentFeature[] = [];
  const count = r.u32();
  for (let k = 0; k < count; k++) topFeatures.push({ feature: r.string(), share: r.f64() });
  // The checksum held, but the contents may still be hostile: the dashboard shows these.
  const what = `incident ${id}`;
  wholeNumber("incident id", id, 1);
  if (id >= nextId) throw new RangeError(`${what}: not below the next id ${nextId}`);
  wholeNumber(`${what}: alerts`, alerts, 1);
  // Times are the gateway's clock as it was, set back or far ahead: any finite time.
  for (const [name, t] of [["start", start], ["end", end], ["peak time", peakAt]] as const) {
    if (!Number.isFinite(t)) throw new RangeError(`${what}: ${name} ${t}`);
  }
  for (const [name, t] of [["close", closedAt], ["acknowledgement", acknowledgedAt]] as const) {
    if (t === Infinity || t === -Infinity) throw new RangeError(`${what}: ${name} at ${t}`);
  }
  if (!(end >= start)) throw new RangeError(`${what}: ends at ${end}, before its start ${start}`);
  if (!Number.isFinite(peakScore)) throw new RangeError(`${what}: peak score ${peakScore}`);
  if (count > TOP_FEATURES) throw new RangeError(`${what}: ${count} top features`);
  for (const f of topFeatures) {
    if (!(f.share > 0 && f.share <= 1)) throw new RangeError(`${what}: share ${f.share}`);
  }
  return {
    id,
    device,
    stream,
    start,
    end,
    closedAt: Number.isNaN(closedAt) ? null : closedAt,
    peakScore,
    peakThreshold,
    peakAt,
    alerts,
    topFeatures,
    acknowledgedAt: Number.isNaN(acknowledgedAt) ? null : acknowledgedAt,
  };
}

function wholeNumber(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name}: ${value}`);
}
