/**
 * A bound on how many score events one event-stream client gets per device: a token bucket per
 * followed device (a burst, then a steady rate), so that a page following 24 devices that each
 * send a thousand readings a second still gets a few hundred events a second at most. What is
 * held back is counted; the chart simply gets fewer of the points. An anomaly always goes (it
 * is what the operator watches for, and each one comes with an alert event anyway): it takes a
 * token if there is one, so normal scores make room for it.
 *
 * @module
 */

/** Score events a client gets per device per second, once its burst is spent. */
export const SCORE_EVENTS_PER_SECOND = 20;

/** Score events a client may get from one device at once. */
export const SCORE_EVENT_BURST = 40;

/** Token buckets of the devices one client follows (bounded by what it follows). */
export class DeviceEventRate {
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Buckets for `devices`, full, timed by `now` (milliseconds). */
  constructor(devices: ReadonlySet<string>, now: () => number) {
    this.#now = now;
    const at = now();
    for (const device of devices) this.#buckets.set(device, { tokens: SCORE_EVENT_BURST, at });
  }

  /**
   * Whether a score event of `device` may go now (it takes a token when it may); one that is
   * `always` sent (an anomaly) goes whatever the bucket holds, and takes a token if there is one.
   */
  take(device: string, always = false): boolean {
    const bucket = this.#buckets.get(device);
    if (bucket === undefined) return false;
    const now = this.#now();
    const refill = (Math.max(0, now - bucket.at) / 1000) * SCORE_EVENTS_PER_SECOND;
    bucket.tokens = Math.min(SCORE_EVENT_BURST, bucket.tokens + refill);
    bucket.at = now;
    if (bucket.tokens < 1) return always;
    bucket.tokens--;
    return true;
  }
}
