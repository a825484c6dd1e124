/**
 * KitNET: the online ensemble-of-autoencoders anomaly detector of Kitsune (NDSS 2018), exactly as
 * `spec/kitnet.md` states it.
 *
 * @module
 */

import { KITNET_DEFAULTS } from "./kitnet_defaults.ts";
import { AutoencoderLayer } from "./autoencoder_layer.ts";
import { KernelHeap } from "./autoencoder_kernel.ts";
import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { CorrelationMapper } from "./correlation_mapper.ts";
import { seal, unseal } from "../codec/mod.ts";
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
   * Run the autoencoders on the WebAssembly kernel where the runtime has WebAssembly: about
   * 1.7× as fast under Node and Deno, for a detector on a hot path (Kitsune on a capture). Off
   * by default, because each such KitNET takes a WebAssembly memory of its own (64 KiB at
   * least, and slow to create under Bun) once its feature map exists: many small detectors (one
   * per device) are better off without. Both give the same bits.
   */
  webAssembly?: boolean;
}

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

const STATE_KIND = "KNET";
const STATE_VERSION = 1;

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
  #webAssembly: boolean;
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
    this.#webAssembly = options.webAssembly === true;
    if (options.featureMap !== undefined) {
      this.#map = checkFeatureMap(options.featureMap, n);
      this.#build();
    } else {
      this.#mapper = new CorrelationMapper(n);
    }
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
    const heap = new KernelHeap(bytes, this.#webAssembly);
    this.#ensemble = new AutoencoderLayer({ ...ensemble, heap });
    this.#output = new AutoencoderLayer({ ...output, heap });
  }

  /** The whole model as bytes: versioned and checksummed; {@linkcode KitNET.fromBytes} reads it. */
  toBytes(): Uint8Array {
    const w = new ByteWriter();
    w.u32(this.n).u32(this.maxAutoencoderSize).u32(this.fmGracePeriod).u32(this.adGracePeriod);
    w.f64(this.learningRate).f64(this.hiddenRatio).u8(this.featureMapGiven ? 1 : 0);
    w.f64(this.#trained).f64(this.#executed);
    if (this.#map === undefined) {
      const mapper = this.#mapper!;
      w.u8(0).f64(mapper.count);
      w.f64Array(mapper.sum).f64Array(mapper.residualSum).f64Array(mapper.residualSquares);
      w.f64Array(mapper.coResiduals);
    } else {
      w.u8(1).u32(this.#map.length);
      for (const cluster of this.#map) w.u32Array(cluster);
      for (const layer of [this.#ensemble!, this.#output!]) {
        w.f64Array(layer.weights).f64Array(layer.hiddenBias).f64Array(layer.visibleBias);
        w.f64Array(layer.min).f64Array(layer.max);
      }
    }
    return seal(STATE_KIND, STATE_VERSION, w.finish());
  }

  /**
   * Restores a model saved by {@linkcode KitNET.toBytes}. Refuses, with a `RangeError` saying
   * what is wrong, bytes that are truncated or altered, and states no KitNET can reach (a
   * parameter that is NaN or infinite, counters that contradict the phase, sizes the bytes
   * cannot hold), so a hostile file never yields a model that scores NaN.
   */
  static fromBytes(bytes: Uint8Array): KitNET {
    const what = "KitNET state";
    try {
      return KitNET.#read(bytes, what);
    } catch (error) {
      if (!(error instanceof RangeError) || error.message.startsWith(what)) throw error;
      throw new RangeError(`${what}: ${error.message}`);
    }
  }

  static #read(bytes: Uint8Array, what: string): KitNET {
    const { payload } = unseal(bytes, STATE_KIND, [STATE_VERSION], what);
    const r = new ByteReader(payload, what);
    const n = r.u32(), m = r.u32(), fm = r.u32(), ad = r.u32();
    const learningRate = r.f64(), hiddenRatio = r.f64();
    const given = r.u8() === 1;
    const trained = r.f64(), executed = r.f64();
    const hasMap = r.u8() === 1;
    if (!Number.isInteger(trained) || trained < 0 || !Number.isInteger(executed) || executed < 0) {
      throw new RangeError(`${what}: bad counters ${trained}, ${executed}`);
    }
    if (!(hiddenRatio > 0 && hiddenRatio < Infinity)) {
      throw new RangeError(`${what}: hiddenRatio is ${hiddenRatio}`);
    }
    let map: number[][] | undefined;
    // Parameters the rest of the bytes must hold: checked before anything is allocated.
    let parameters: number;
    if (hasMap) {
      const clusters = r.u32();
      if (clusters > n) throw new RangeError(`${what}: ${clusters} clusters for ${n} features`);
      map = [];
      for (let a = 0; a < clusters; a++) map.push(Array.from(r.u32Array()));
      const layerSize = (v: number) => {
        const h = Math.ceil(v * hiddenRatio);
        return v * h + h + 3 * v;
      };
      parameters = map.reduce((sum, cluster) => sum + layerSize(cluster.length), 0) +
        layerSize(clusters);
      if (!given) {
        // A learned map is a clustering: every feature in exactly one cluster.
        const seen = new Uint8Array(n <= 1 << 24 ? n : 0);
        let covered = 0;
        for (const cluster of map) {
          for (const index of cluster) {
            if (index < seen.length && seen[index] === 0) seen[index] = 1, covered++;
            else {throw new RangeError(
                `${what}: feature ${index} is clustered twice or is beyond ${n}`,
              );}
          }
        }
        if (covered !== n) throw new RangeError(`${what}: the feature map leaves out features`);
      }
      if (!given && trained < fm + 1) {
        throw new RangeError(
          `${what}: a learned feature map after ${trained} of ${fm + 1} instances`,
        );
      }
    } else {
      if (given) throw new RangeError(`${what}: a given feature map is missing`);
      if (trained > fm) {
        throw new RangeError(`${what}: no feature map after ${trained} of ${fm + 1} instances`);
      }
      parameters = 1 + 3 * n + (n * (n + 1)) / 2;
    }
    if (parameters * 8 > r.remaining) {
      throw new RangeError(
        `${what} is truncated: its sizes need ${parameters * 8} bytes of parameters, ` +
          `${r.remaining} remain`,
      );
    }
    const k = new KitNET({
      n,
      maxAutoencoderSize: m,
      fmGracePeriod: fm,
      adGracePeriod: ad,
      learningRate,
      hiddenRatio,
      featureMap: map,
    });
    // The map was validated by the constructor; restore what the constructor cannot know.
    k.#featureMapGiven = given;
    k.#trained = trained;
    k.#executed = executed;
    if (!hasMap) {
      const mapper = k.#mapper!;
      mapper.count = r.f64();
      if (mapper.count !== trained) {
        throw new RangeError(`${what}: the mapper counted ${mapper.count} of ${trained} instances`);
      }
      // Bounds no stream of instances under ±1e100 (the gateway's limit) reaches in 2³² steps,
      // and within which the next updates cannot overflow into Infinity and NaN.
      mapper.sum.set(bounded(r.f64Array(n), 1e150, "mapper sums", what));
      mapper.residualSum.set(bounded(r.f64Array(n), 1e150, "mapper residual sums", what));
      const squares = bounded(r.f64Array(n), 1e300, "mapper squared residuals", what);
      const negative = squares.findIndex((v) => v < 0);
      if (negative >= 0) {
        throw new RangeError(`${what}: mapper squared residuals[${negative}] is negative`);
      }
      mapper.residualSquares.set(squares);
      const co = r.f64Array(mapper.coResiduals.length);
      mapper.coResiduals.set(bounded(co, 1e300, "mapper co-residuals", what));
    } else {
      // Every autoencoder learns from every training instance, so after the first one no
      // min/max is left at its untouched ±∞.
      const learned = given ? trained : trained - fm - 1;
      for (const [l, layer] of [k.#ensemble!, k.#output!].entries()) {
        const where = `layer ${l}`;
        layer.weights.set(finite(r.f64Array(layer.weights.length), `${where} weights`, what));
        layer.hiddenBias.set(finite(r.f64Array(layer.hiddenBias.length), `${where} biases`, what));
        layer.visibleBias.set(
          finite(r.f64Array(layer.visibleBias.length), `${where} biases`, what),
        );
        const min = r.f64Array(layer.min.length), max = r.f64Array(layer.max.length);
        for (let j = 0; j < min.length; j++) {
          const untouched = min[j] === Infinity && max[j] === -Infinity;
          const fits = min[j] <= max[j] && Number.isFinite(min[j]) && Number.isFinite(max[j]);
          if (untouched ? learned > 0 : !fits) {
            throw new RangeError(`${what}: ${where} input ${j} has range ${min[j]}..${max[j]}`);
          }
        }
        layer.min.set(min);
        layer.max.set(max);
      }
    }
    if (r.remaining !== 0) {
      throw new RangeError(`${what}: ${r.remaining} unexpected trailing bytes`);
    }
    return k;
  }
}

/** `values`, when every one is finite; else a RangeError naming the first that is not. */
function finite(values: Float64Array, name: string, what: string): Float64Array {
  return bounded(values, Number.MAX_VALUE, name, what);
}

/** `values`, when every one is within ±`most`; else a RangeError naming the first that is not. */
function bounded(values: Float64Array, most: number, name: string, what: string): Float64Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v <= most && v >= -most)) {
      const limit = most === Number.MAX_VALUE ? "not a finite number" : `beyond ±${most}`;
      throw new RangeError(`${what}: ${name}[${i}] is ${v}, ${limit}`);
    }
  }
  return values;
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
