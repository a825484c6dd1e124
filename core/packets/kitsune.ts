/**
 * Kitsune end to end: a captured frame in, its 100 AfterImage features and KitNET anomaly score
 * out.
 *
 * @module
 */

import type { AfterImage, AfterImageOptions } from "./afterimage.ts";
import { KitNET, type KitNETOptions } from "../kitnet/mod.ts";
import type { PacketFields } from "./packet_fields.ts";
import { PacketFeatures } from "./packet_features.ts";

/** Options of {@linkcode Kitsune}: the feature tables' capacities and KitNET's options. */
export interface KitsuneOptions extends AfterImageOptions, Omit<KitNETOptions, "n"> {}

/**
 * Kitsune: decodes each frame, updates the damped statistics and scores the feature vector with
 * KitNET (0 during KitNET's grace periods).
 *
 * @example
 * ```ts
 * import { Kitsune, LinkType } from "./mod.ts";
 * const kitsune = new Kitsune({ fmGracePeriod: 500, adGracePeriod: 3000 });
 * const frame = new Uint8Array(60);
 * const score = kitsune.process(frame, LinkType.ETHERNET, 1700000000.25, 60);
 * ```
 */
export class Kitsune {
  /** The feature extractor. */
  readonly extractor: PacketFeatures;
  /** The detector. */
  readonly kitnet: KitNET;

  /** The extractor and a new KitNET over its features, by `options`. */
  constructor(options: KitsuneOptions = {}) {
    const { maxStreams, maxPairs, ...kitnet } = options;
    this.extractor = new PacketFeatures({ maxStreams, maxPairs });
    this.kitnet = new KitNET({ ...kitnet, n: this.extractor.featureCount });
  }

  /** The damped statistics. */
  get afterImage(): AfterImage {
    return this.extractor.afterImage;
  }

  /** The last frame's decoded fields. */
  get fields(): PacketFields {
    return this.extractor.fields;
  }

  /** The last frame's features (overwritten by every frame). */
  get features(): Float64Array {
    return this.extractor.features;
  }

  /** Decodes `frame` and updates the statistics: {@linkcode PacketFeatures.extract}. */
  extract(
    frame: Uint8Array,
    linkType: number,
    timestamp: number,
    originalLength: number,
  ): Float64Array {
    return this.extractor.extract(frame, linkType, timestamp, originalLength);
  }

  /** {@linkcode extract}, then KitNET's `process` of the features: the anomaly score. */
  process(frame: Uint8Array, linkType: number, timestamp: number, originalLength: number): number {
    return this.kitnet.process(this.extract(frame, linkType, timestamp, originalLength));
  }
}
