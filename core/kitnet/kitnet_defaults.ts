/**
 * KitNET's defaults, the authors' (Kitsune's example): written once, read by the model, the
 * commands, the gateway's configuration and the benchmarks.
 *
 * @module
 */

/** The defaults of `KitNETOptions`' optional keys. */
export const KITNET_DEFAULTS: {
  /** Most features one ensemble autoencoder sees. */
  readonly maxAutoencoderSize: 10;
  /** Instances that train the autoencoders (the feature map's default too). */
  readonly adGracePeriod: 10000;
  /** SGD step of every autoencoder. */
  readonly learningRate: 0.1;
  /** Hidden units per visible unit. */
  readonly hiddenRatio: 0.75;
} = Object.freeze({
  maxAutoencoderSize: 10,
  adGracePeriod: 10000,
  learningRate: 0.1,
  hiddenRatio: 0.75,
});
