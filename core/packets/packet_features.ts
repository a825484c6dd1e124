/**
 * Kitsune's feature extractor alone: a captured frame in, its 100 AfterImage features out, for
 * whichever detector scores them.
 *
 * @module
 */

import { AfterImage, type AfterImageOptions } from "./afterimage.ts";
import { emptyPacketFields, PacketDecoder, type PacketFields } from "./packet_fields.ts";

/**
 * Decodes each frame and updates the damped statistics; {@linkcode PacketFeatures.extract}
 * returns the frame's feature vector (one buffer, overwritten by every frame).
 *
 * @example
 * ```ts
 * import { LinkType, PacketFeatures } from "./mod.ts";
 * const extractor = new PacketFeatures({ maxStreams: 1000 });
 * const features = extractor.extract(new Uint8Array(60), LinkType.ETHERNET, 1700000000.25, 60);
 * features.length; // 100
 * ```
 */
export class PacketFeatures {
  /** The damped statistics. */
  readonly afterImage: AfterImage;
  /** The last frame's decoded fields. */
  readonly fields: PacketFields = emptyPacketFields();
  /** The last frame's features (overwritten by every frame). */
  readonly features: Float64Array;
  #decoder = new PacketDecoder();

  /** An extractor whose stream tables hold what `options` says. */
  constructor(options: AfterImageOptions = {}) {
    this.afterImage = new AfterImage(options);
    this.features = new Float64Array(this.afterImage.featureCount);
  }

  /** Features per frame. */
  get featureCount(): number {
    return this.afterImage.featureCount;
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
}
