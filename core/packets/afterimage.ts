/**
 * AfterImage / netStat: Kitsune's 100 damped statistics per packet (`spec/afterimage.md`), over
 * four bounded tables.
 *
 * @module
 */

import { DampedStreamTable, type TableUsage } from "./damped_stream_table.ts";
import { JoinedKeys } from "./joined_keys.ts";
import type { PacketFields } from "./packet_fields.ts";

/** Kitsune's decay rates λ, in feature order. */
export const KITSUNE_LAMBDAS: readonly number[] = Object.freeze([5, 3, 1, 0.1, 0.01]);

/**
 * Default capacity of each table in streams. About 0.5 kB a stream: the four tables at most
 * ~45 MB together with their pairs, comfortable on a Raspberry Pi.
 */
export const DEFAULT_MAX_STREAMS = 20_000;
/** Default capacity in pairs of each table that has pairs (HH and HpHp). */
export const DEFAULT_MAX_PAIRS = 40_000;

/** Options of {@linkcode AfterImage}. */
export interface AfterImageOptions {
  /** Capacity of each table in streams (≥ 2). Default {@linkcode DEFAULT_MAX_STREAMS}. */
  maxStreams?: number;
  /** Capacity of the HH and HpHp tables in pairs (≥ 1). Default {@linkcode DEFAULT_MAX_PAIRS}. */
  maxPairs?: number;
}

/** The four tables' usage, by the reference's table names. */
export interface AfterImageUsage {
  /** srcMAC+srcIP streams (MI features). */
  MI: TableUsage;
  /** srcIP streams and srcIP–dstIP pairs (HH features). */
  H: TableUsage;
  /** srcIP+dstIP jitter streams (HH_jit features). */
  jit: TableUsage;
  /** srcIP+srcPort streams and their pairs (HpHp features). */
  Hp: TableUsage;
}

/** The feature names, as the reference's `lan.features.csv.gz` header spells them. */
export function kitsuneFeatureNames(lambdas: readonly number[] = KITSUNE_LAMBDAS): string[] {
  const names: string[] = [];
  for (const l of lambdas) names.push(`MI_dir_${l}_weight`, `MI_dir_${l}_mean`, `MI_dir_${l}_std`);
  for (const l of lambdas) names.push(...pairNames("HH", l));
  for (const l of lambdas) names.push(`HH_jit_${l}_weight`, `HH_jit_${l}_mean`, `HH_jit_${l}_std`);
  for (const l of lambdas) names.push(...pairNames("HpHp", l));
  return names;
}

function pairNames(group: string, l: number): string[] {
  return [
    `${group}_${l}_weight_0`,
    `${group}_${l}_mean_0`,
    `${group}_${l}_std_0`,
    `${group}_${l}_radius_0_1`,
    `${group}_${l}_magnitude_0_1`,
    `${group}_${l}_covariance_0_1`,
    `${group}_${l}_pcc_0_1`,
  ];
}

/**
 * Kitsune's feature extractor: turns each packet's fields, time and size into the 100-number
 * vector (MI, HH, HH_jit, HpHp for λ = 5, 3, 1, 0.1, 0.01). Below capacity the output equals the
 * reference's; beyond it the least recently used streams are evicted (see {@linkcode usage}).
 *
 * @example
 * ```ts
 * import { AfterImage, emptyPacketFields } from "./mod.ts";
 * const afterImage = new AfterImage({ maxStreams: 1000 });
 * const fields = { ...emptyPacketFields(), srcIP: "10.0.0.1", dstIP: "10.0.0.2" };
 * const features = afterImage.update(fields, 1700000000.5, 60); // Float64Array(100)
 * ```
 */
export class AfterImage {
  /** Features per packet (100). */
  readonly featureCount: number;
  /** Capacity of each table in streams. */
  readonly maxStreams: number;
  /** Capacity of the pair tables in pairs. */
  readonly maxPairs: number;
  #mi: DampedStreamTable;
  #h: DampedStreamTable;
  #jit: DampedStreamTable;
  #hp: DampedStreamTable;
  #lambdas: number;
  #keys: JoinedKeys;
  #packets = 0;

  /** Empty tables of the capacities in `options` (the defaults where absent). */
  constructor(options: AfterImageOptions = {}) {
    const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    const maxPairs = options.maxPairs ?? DEFAULT_MAX_PAIRS;
    if (!Number.isInteger(maxPairs) || maxPairs < 1) {
      throw new RangeError(`maxPairs must be an integer ≥ 1, got ${maxPairs}`);
    }
    const lambdas = KITSUNE_LAMBDAS.slice();
    this.#mi = new DampedStreamTable({ lambdas, maxStreams, maxPairs: 0 });
    this.#h = new DampedStreamTable({ lambdas, maxStreams, maxPairs });
    this.#jit = new DampedStreamTable({ lambdas, maxStreams, maxPairs: 0, jitter: true });
    this.#hp = new DampedStreamTable({ lambdas, maxStreams, maxPairs });
    this.#lambdas = lambdas.length;
    this.#keys = new JoinedKeys(4 * maxStreams);
    this.featureCount = 20 * lambdas.length;
    this.maxStreams = maxStreams;
    this.maxPairs = maxPairs;
  }

  /** Packets processed so far. */
  get packets(): number {
    return this.#packets;
  }

  /**
   * Updates the statistics with one packet and writes its feature vector to `out` (a new
   * Float64Array when omitted), which it returns. `t` is the capture time in seconds and `size`
   * the frame's length on the wire; a non-finite `t` or a negative or non-finite `size` is
   * refused (RangeError) before anything changes.
   */
  update(fields: PacketFields, t: number, size: number, out?: Float64Array): Float64Array {
    if (typeof t !== "number" || t - t !== 0) {
      throw new RangeError(`packet time t must be a finite number of seconds, got ${t}`);
    }
    if (typeof size !== "number" || !(size >= 0 && size < Infinity)) {
      throw new RangeError(`packet size must be a finite number ≥ 0, got ${size}`);
    }
    const x = out ?? new Float64Array(this.featureCount);
    if (x.length < this.featureCount) {
      throw new RangeError(`out must hold ${this.featureCount} features, has ${x.length}`);
    }
    const { srcMAC, dstMAC, srcIP, dstIP, srcPort, dstPort } = fields;
    const l = this.#lambdas;
    const keys = this.#keys;
    this.#mi.update1D(keys.join(srcMAC, srcIP), size, t, x, 0);
    this.#h.update1D2D(srcIP, dstIP, size, t, x, 3 * l);
    this.#jit.update1D(keys.join(srcIP, dstIP), 0, t, x, 10 * l);
    if (srcPort === "arp") this.#hp.update1D2D(srcMAC, dstMAC, size, t, x, 13 * l);
    else {
      const a = keys.join(srcIP, srcPort), b = keys.join(dstIP, dstPort);
      this.#hp.update1D2D(a, b, size, t, x, 13 * l);
    }
    this.#packets++;
    return x;
  }

  /** Sizes and evictions of the four tables. */
  usage(): AfterImageUsage {
    return {
      MI: this.#mi.usage(),
      H: this.#h.usage(),
      jit: this.#jit.usage(),
      Hp: this.#hp.usage(),
    };
  }

  /** Streams evicted so far, over all tables. */
  get streamEvictions(): number {
    const u = this.usage();
    return u.MI.streamEvictions + u.H.streamEvictions + u.jit.streamEvictions +
      u.Hp.streamEvictions;
  }

  /** Pairs evicted for lack of room so far, over both pair tables. */
  get pairEvictions(): number {
    const u = this.usage();
    return u.H.pairEvictions + u.Hp.pairEvictions;
  }
}
