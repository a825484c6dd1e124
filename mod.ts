/**
 * foxtail: online anomaly detection for IoT gateways.
 *
 * The core is plain TypeScript with no runtime APIs and no dependencies; it runs unchanged on
 * Deno, Bun and Node.
 *
 * @example
 * ```ts
 * import { KitNET } from "./mod.ts";
 * const k = new KitNET({ n: 3, fmGracePeriod: 100, adGracePeriod: 1000 });
 * const score = k.process([0.1, 20, 3]);
 * ```
 *
 * @module
 */

export {
  type AutoencoderContribution,
  type Explanation,
  KitNET,
  type KitNETOptions,
  type KitNETPhase,
} from "./core/kitnet.ts";
export { MersenneTwister } from "./core/mersenne_twister.ts";
export { isSupportedLinkType, LinkType } from "./core/link_type.ts";
export { emptyPacketFields, PacketDecoder, type PacketFields } from "./core/packet_fields.ts";
export {
  DampedStreamTable,
  type DampedStreamTableOptions,
  type TableUsage,
} from "./core/damped_stream_table.ts";
export {
  AfterImage,
  type AfterImageOptions,
  type AfterImageUsage,
  DEFAULT_MAX_PAIRS,
  DEFAULT_MAX_STREAMS,
  KITSUNE_LAMBDAS,
  kitsuneFeatureNames,
} from "./core/afterimage.ts";
export { Kitsune, type KitsuneOptions } from "./core/kitsune.ts";
export { ScoreThreshold, type ScoreThresholdOptions } from "./core/score_threshold.ts";
