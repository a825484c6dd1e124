/**
 * When each device's recent messages were published, in fixed rings (one `Float64Array` for all
 * devices), so a score can be matched to its message by device and sequence number without
 * allocating per message.
 *
 * @module
 */

/** Publish times by device and sequence number, the newest `capacity` per device. */
export class SendLog {
  /** Devices. */
  readonly devices: number;
  /** Sequence numbers remembered per device. */
  readonly capacity: number;
  readonly #times: Float64Array;
  readonly #sent: Float64Array;

  constructor(devices: number, capacity: number) {
    if (!Number.isInteger(devices) || devices < 1) {
      throw new RangeError(`devices must be an integer ≥ 1, got ${devices}`);
    }
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.devices = devices;
    this.capacity = capacity;
    this.#times = new Float64Array(devices * capacity);
    this.#sent = new Float64Array(devices);
  }

  /** Records that `device` published its next message at `at` (ms); returns its sequence number. */
  record(device: number, at: number): number {
    const seq = this.#sent[device]++;
    this.#times[device * this.capacity + (seq % this.capacity)] = at;
    return seq;
  }

  /** Messages `device` has published. */
  sent(device: number): number {
    return this.#sent[device];
  }

  /** Messages every device has published. */
  total(): number {
    let sum = 0;
    for (let d = 0; d < this.devices; d++) sum += this.#sent[d];
    return sum;
  }

  /** When `device` published message `seq`, or NaN when it is no longer (or not yet) held. */
  timeOf(device: number, seq: number): number {
    const sent = this.#sent[device];
    if (seq >= sent || seq < sent - this.capacity || seq < 0) return NaN;
    return this.#times[device * this.capacity + (seq % this.capacity)];
  }
}
