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
