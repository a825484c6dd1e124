/**
 * KitNET: the online ensemble-of-autoencoders anomaly detector of Kitsune (NDSS 2018), exactly as
 * `spec/kitnet.md` states it.
 *
 * @module
 */

import { KITNET_DEFAULTS } from "./kitnet_defaults.ts";
import { AutoencoderLayer } from "./autoencoder_layer.ts";
import {
  type AutoencoderKernelKind,
  fastestKernel,
  KernelHeap,
  runnableKernel,
} from "./autoencoder_kernel.ts";
import { CorrelationMapper } from "./correlation_mapper.ts";
import {
  KITNET_STATE,
  type KitNETState,
  readKitNETState,
  writeKitNETState,
} from "./kitnet_state.ts";
import { assertInstance } from "../math/mod.ts";

/** Options of {@linkcode KitNET}. */
export interface KitNETOptions {
  /** Features per instance. */
  n: number;
  /** Most features one ensemble autoencoder sees (≤ 0 means 1, > n means n). Default 10. */
  maxAutoencoderSize?: number;
  /** Instances used to learn the feature map. Default: `adGracePeriod`. */
  fmGracePeriod?: number;
  /** Instances used to train the autoencoders. Default 10000. */
  adGracePeriod?: number;
  /** SGD step of every autoencoder. Default 0.1. */
  learningRate?: number;
  /** Hidden units = ceil(visible × hiddenRatio). Default 0.75. */
  hiddenRatio?: number;
  /** A given feature map (lists of feature indices), skipping the mapping phase. */
  featureMap?: readonly (readonly number[])[];
  /**
   * Which arithmetic runs the autoencoders; every choice gives the same bits. Default `"auto"`:
   * the fastest this runtime has ({@linkcode fastestKernel}: WebAssembly SIMD, else scalar
   * WebAssembly) for a model of {@linkcode KERNEL_MIN_FEATURES} features or more, else the
   * TypeScript loops. Small models stay on the loops because a WebAssembly kernel takes a memory
   * of its own (64 KiB at least, slow to create under Bun) and its speed-up is small on a few
   * features: many small detectors (one per device of a gateway) are better off without. An
   * explicit kind that the runtime cannot run falls back the same way (`kernel` says which ran).
   */
  kernel?: KitNETKernelChoice;
  /** Older spelling of `kernel`: `true` is `"wasm"`, `false` is `"ts"`. */
  webAssembly?: boolean;
}

/** What {@linkcode KitNETOptions.kernel} accepts. */
export type KitNETKernelChoice = "auto" | AutoencoderKernelKind;

/** The kernel names {@linkcode KitNETOptions.kernel} accepts, for flags and configs. */
export const KITNET_KERNELS: readonly KitNETKernelChoice[] = ["auto", "simd", "wasm", "ts"];

/**
 * Features from which `kernel: "auto"` takes a WebAssembly kernel. Measured with
 * `npm run bench -- kitnet --n N` (2026-12-06): at n = 3 the TypeScript loops are faster under
 * Bun and Node (5.75 M vs 5.13 M and 4.21 M vs 3.89 M instances/s), at n = 8 the SIMD kernel is
 * faster on all three runtimes (Node 2.48 M vs 3.85 M).
 */
export const KERNEL_MIN_FEATURES = 8;

/** Where a {@linkcode KitNET} is in its life. */
export type KitNETPhase = "mapping" | "training" | "executing";

/** One ensemble autoencoder's part in a score. */
export interface AutoencoderContribution {
  /** The feature indices this autoencoder reads. */
  features: number[];
  /** Its reconstruction RMSE on the instance. */
  rmse: number;
}

/** A score and what raised it. */
export interface Explanation {
  /** The anomaly score (the output autoencoder's RMSE). */
  score: number;
  /** Every ensemble autoencoder's RMSE, in feature-map order. */
  autoencoders: AutoencoderContribution[];
}

/**
 * KitNET, the online unsupervised anomaly detector.
 *
 * @example
 * ```ts
 * import { KitNET } from "./mod.ts";
 * const k = new KitNET({ n: 3, fmGracePeriod: 100, adGracePeriod: 1000 });
 * const score = k.process([0.1, 20, 3]); // 0 while learning, then the anomaly score
 * ```
 */
export class KitNET {
  /** Features per instance. */
  readonly n: number;
  /** Most features per ensemble autoencoder, clamped to [1, n]. */
  readonly maxAutoencoderSize: number;
  /** Instances of the mapping phase. */
  readonly fmGracePeriod: number;
  /** Instances of the training phase. */
  readonly adGracePeriod: number;
  /** SGD step. */
  readonly learningRate: number;
  /** Hidden ratio of every autoencoder. */
  readonly hiddenRatio: number;
  #featureMapGiven: boolean;
  #kernelChoice: KitNETKernelChoice;
  #trained = 0;
  #executed = 0;
  #mapper: CorrelationMapper | undefined;
  #map: number[][] | undefined;
  #ensemble: AutoencoderLayer | undefined;
  #output: AutoencoderLayer | undefined;

  /** A new KitNET by `options`; throws a `RangeError` naming a bad option. */
  constructor(options: KitNETOptions) {
    const n = options.n;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer ≥ 1, got ${n}`);
    const m = options.maxAutoencoderSize ?? KITNET_DEFAULTS.maxAutoencoderSize;
    if (!Number.isInteger(m)) {
      throw new RangeError(`maxAutoencoderSize must be an integer, got ${m}`);
    }
    const ad = options.adGracePeriod ?? KITNET_DEFAULTS.adGracePeriod;
    const fm = options.fmGracePeriod ?? ad;
    checkCount("adGracePeriod", ad, 1);
    checkCount("fmGracePeriod", fm, 0);
    const lr = options.learningRate ?? KITNET_DEFAULTS.learningRate;
    if (!(lr > 0 && lr < Infinity)) throw new RangeError(`learningRate must be > 0, got ${lr}`);
    const ratio = options.hiddenRatio ?? KITNET_DEFAULTS.hiddenRatio;
    if (!(ratio > 0 && ratio < Infinity)) {
      throw new RangeError(`hiddenRatio must be > 0, got ${ratio}`);
    }
    this.n = n;
    this.maxAutoencoderSize = Math.min(Math.max(m, 1), n);
    this.fmGracePeriod = fm;
    this.adGracePeriod = ad;
    this.learningRate = lr;
    this.hiddenRatio = ratio;
    this.#featureMapGiven = options.featureMap !== undefined;
    const choice = options.kernel ??
      (options.webAssembly === undefined ? "auto" : options.webAssembly ? "wasm" : "ts");
    if (!KITNET_KERNELS.includes(choice)) {
      throw new RangeError(`kernel must be one of ${KITNET_KERNELS.join(", ")}, got ${choice}`);
    }
    this.#kernelChoice = choice;
    if (options.featureMap !== undefined) {
      this.#map = checkFeatureMap(options.featureMap, n);
      this.#build();
    } else {
      this.#mapper = new CorrelationMapper(n, this.#resolveKernel() === "simd");
    }
  }

  /**
   * The arithmetic the autoencoders run on (see {@linkcode KitNETOptions.kernel}); while the
   * feature map is being learned, the one they will run on.
   */
  get kernel(): AutoencoderKernelKind {
    return this.#ensemble === undefined ? this.#resolveKernel() : this.#heapKind!;
  }

  #heapKind: AutoencoderKernelKind | undefined;

  #resolveKernel(): AutoencoderKernelKind {
    const choice = this.#kernelChoice;
    if (choice !== "auto") return runnableKernel(choice);
    return this.n >= KERNEL_MIN_FEATURES ? fastestKernel() : "ts";
  }

  /** Whether the feature map was given rather than learned. */
  get featureMapGiven(): boolean {
    return this.#featureMapGiven;
  }

  /** Instances trained on so far (mapping included). */
  get trained(): number {
    return this.#trained;
  }

  /** Instances scored by {@linkcode process} or {@linkcode execute} so far. */
  get executed(): number {
    return this.#executed;
  }

  /** The feature map (a copy), once learned or given. */
  get featureMap(): number[][] | undefined {
    return this.#map?.map((cluster) => cluster.slice());
  }

  /** Where the detector is: learning its map, training its autoencoders, or scoring. */
  get phase(): KitNETPhase {
    if (this.#trained > this.fmGracePeriod + this.adGracePeriod) return "executing";
    return this.#map === undefined ? "mapping" : "training";
  }

  /** Instances still to learn from before scoring begins (0 once executing). */
  get remainingGrace(): number {
    return Math.max(0, this.fmGracePeriod + this.adGracePeriod + 1 - this.#trained);
  }

  /** Learns from `x` during the grace periods (returning 0), then returns its anomaly score. */
  process(x: ArrayLike<number>): number {
    if (this.#trained > this.fmGracePeriod + this.adGracePeriod) return this.execute(x);
    this.train(x);
    return 0;
  }

  /**
   * Learns from `x`: updates the feature mapper while mapping (returns 0), else trains the
   * autoencoders (returns the output autoencoder's training RMSE).
   */
  train(x: ArrayLike<number>): number {
    assertInstance(x, this.n);
    let rmse = 0;
    if (this.#map === undefined && this.#trained <= this.fmGracePeriod) {
      this.#mapper!.update(x);
      if (this.#trained === this.fmGracePeriod) {
        this.#map = this.#mapper!.cluster(this.maxAutoencoderSize);
        this.#mapper = undefined;
        this.#build();
      }
    } else {
      const ensemble = this.#ensemble!;
      ensemble.train(x);
      this.#output!.train(ensemble.rmse);
      rmse = this.#output!.rmse[0];
    }
    this.#trained++;
    return rmse;
  }

  /** The anomaly score of `x` (the output autoencoder's RMSE), without learning. */
  execute(x: ArrayLike<number>): number {
    this.#score(x);
    this.#executed++;
    return this.#output!.rmse[0];
  }

  /** The score of `x` and each ensemble autoencoder's RMSE, without learning. */
  explain(x: ArrayLike<number>): Explanation {
    this.#score(x);
    const ensemble = this.#ensemble!;
    const autoencoders: AutoencoderContribution[] = this.#map!.map((features, a) => ({
      features: features.slice(),
      rmse: ensemble.rmse[a],
    }));
    return { score: this.#output!.rmse[0], autoencoders };
  }

  #score(x: ArrayLike<number>): void {
    if (this.#map === undefined) {
      throw new Error(
        `KitNET cannot score before its feature map exists ` +
          `(${this.fmGracePeriod + 1 - this.#trained} mapping instances to go)`,
      );
    }
    assertInstance(x, this.n);
    this.#ensemble!.execute(x);
    this.#output!.execute(this.#ensemble!.rmse);
  }

  // Both layers share one block of memory (one WebAssembly memory where the kernel runs).
  #build(): void {
    const map = this.#map!;
    const { learningRate, hiddenRatio } = this;
    const ensemble = { inputs: map, hiddenRatio, learningRate };
    const output = {
      inputs: [Array.from({ length: map.length }, (_, a) => a)],
      hiddenRatio,
      learningRate,
    };
    const bytes = AutoencoderLayer.bytes(ensemble) + AutoencoderLayer.bytes(output);
    const heap = new KernelHeap(bytes, this.#resolveKernel());
    this.#heapKind = heap.kind;
    this.#ensemble = new AutoencoderLayer({ ...ensemble, heap });
    this.#output = new AutoencoderLayer({ ...output, heap });
  }

  /** The whole model as bytes: versioned and checksummed; {@linkcode KitNET.fromBytes} reads it. */
  toBytes(): Uint8Array {
    const mapper = this.#mapper;
    return writeKitNETState({
      n: this.n,
      maxAutoencoderSize: this.maxAutoencoderSize,
      fmGracePeriod: this.fmGracePeriod,
      adGracePeriod: this.adGracePeriod,
      learningRate: this.learningRate,
      hiddenRatio: this.hiddenRatio,
      featureMapGiven: this.#featureMapGiven,
      trained: this.#trained,
      executed: this.#executed,
      mapper: this.#map === undefined ? mapper : undefined,
      map: this.#map,
      layers: this.#map === undefined ? undefined : [this.#ensemble!, this.#output!],
    });
  }

  /**
   * Restores a model saved by {@linkcode KitNET.toBytes}. Refuses, with a `RangeError` saying
   * what is wrong, bytes that are truncated or altered, and states no KitNET can reach (a
   * parameter that is NaN or infinite, counters that contradict the phase, sizes the bytes
   * cannot hold), so a hostile file never yields a model that scores NaN.
   */
  static fromBytes(bytes: Uint8Array, options: Pick<KitNETOptions, "kernel"> = {}): KitNET {
    try {
      return KitNET.#fromState(readKitNETState(bytes), options.kernel);
    } catch (error) {
      if (!(error instanceof RangeError) || error.message.startsWith(KITNET_STATE)) throw error;
      throw new RangeError(`${KITNET_STATE}: ${error.message}`);
    }
  }

  // The state was read and checked (kitnet_state.ts); the constructor checks the options and
  // the map, and builds the layers, whose parameters are then copied in.
  static #fromState(state: KitNETState, kernel: KitNETKernelChoice | undefined): KitNET {
    const k = new KitNET({
      kernel,
      n: state.n,
      maxAutoencoderSize: state.maxAutoencoderSize,
      fmGracePeriod: state.fmGracePeriod,
      adGracePeriod: state.adGracePeriod,
      learningRate: state.learningRate,
      hiddenRatio: state.hiddenRatio,
      featureMap: state.map,
    });
    k.#featureMapGiven = state.featureMapGiven;
    k.#trained = state.trained;
    k.#executed = state.executed;
    if (state.mapper !== undefined) {
      const mapper = k.#mapper!;
      mapper.count = state.mapper.count;
      mapper.sum.set(state.mapper.sum);
      mapper.residualSum.set(state.mapper.residualSum);
      mapper.residualSquares.set(state.mapper.residualSquares);
      mapper.coResiduals.set(state.mapper.coResiduals);
    }
    if (state.layers !== undefined) {
      for (const [l, layer] of [k.#ensemble!, k.#output!].entries()) {
        const saved = state.layers[l];
        layer.weights.set(saved.weights);
        layer.hiddenBias.set(saved.hiddenBias);
        layer.visibleBias.set(saved.visibleBias);
        layer.min.set(saved.min);
        layer.max.set(saved.max);
      }
    }
    return k;
  }
}

function checkCount(name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`${name} must be an integer ≥ ${least}, got ${value}`);
  }
}

function checkFeatureMap(map: readonly (readonly number[])[], n: number): number[][] {
  if (!Array.isArray(map) || map.length === 0) {
    throw new RangeError("featureMap must be a non-empty list of feature index lists");
  }
  return map.map((cluster, a) => {
    if (!Array.isArray(cluster) || cluster.length === 0) {
      throw new RangeError(`featureMap[${a}] must be a non-empty list of feature indices`);
    }
    return cluster.map((index, j) => {
      if (!Number.isInteger(index) || index < 0 || index >= n) {
        throw new RangeError(`featureMap[${a}][${j}] is ${index}: must be an integer in [0, ${n})`);
      }
      return index;
    });
  });
}
