/**
 * Kitsune end to end: a captured frame in, its 100 AfterImage features and KitNET anomaly score
 * out.
 *
 * @module
 */

import { AfterImage, type AfterImageOptions } from "./afterimage.ts";
import { KitNET, type KitNETOptions } from "../kitnet/mod.ts";
import { emptyPacketFields, PacketDecoder, type PacketFields } from "./packet_fields.ts";

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
  readonly afterImage: AfterImage;
  /** The detector. */
  readonly kitnet: KitNET;
  /** The last frame's decoded fields. */
  readonly fields: PacketFields = emptyPacketFields();
  /** The last frame's features (overwritten by every frame). */
  readonly features: Float64Array;
  #decoder = new PacketDecoder();

  /** The extractor and a new KitNET over its features, by `options`. */
  constructor(options: KitsuneOptions = {}) {
    const { maxStreams, maxPairs, ...kitnet } = options;
    this.afterImage = new AfterImage({ maxStreams, maxPairs });
    this.features = new Float64Array(this.afterImage.featureCount);
    this.kitnet = new KitNET({ ...kitnet, n: this.afterImage.featureCount });
  }

  /**
   * Decodes `frame` (captured bytes of link type `linkType`, `originalLength` bytes on the wire,
   * captured at `timestamp` seconds) and updates the statistics; returns {@linkcode features}.
   */
  extract(
    frame: Uint8Array,
    linkType: number,
    timestamp: number,
    originalLength: number,
  ): Float64Array {
    this.#decoder.decode(frame, linkType, this.fields);
    return this.afterImage.update(this.fields, timestamp, originalLength, this.features);
  }

  /** {@linkcode extract}, then KitNET's `process` of the features: the anomaly score. */
  process(frame: Uint8Array, linkType: number, timestamp: number, originalLength: number): number {
    return this.kitnet.process(this.extract(frame, linkType, timestamp, originalLength));
  }
}
