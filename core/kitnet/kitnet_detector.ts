/**
 * KitNET behind the detector interface (`core/detector.ts`): one model per device, learning
 * online (its feature map, then its autoencoders), with no threshold of its own, so a
 * calibration chooses one.
 *
 * @module
 */

import type {
  Detector,
  DetectorPhase,
  DetectorType,
  FitOptions,
  FitResult,
  ModelOptions,
  ScoreExplanation,
  StreamDetectors,
  StreamShape,
} from "../detector.ts";
import { KitNET, KITNET_KERNELS, type KitNETOptions } from "./kitnet.ts";
import { KITNET_DEFAULTS } from "./kitnet_defaults.ts";

/** The model type's name in a configuration. */
export const KITNET_TYPE = "kitnet";

/** A stream's `model` section for KitNET: the options of {@linkcode KitNET} but its width. */
export interface KitNETModelOptions extends ModelOptions, Omit<KitNETOptions, "n"> {
  /** `"kitnet"`. */
  type: string;
}

/** A {@linkcode KitNET} as a {@linkcode Detector}. */
export class KitNETDetector implements Detector {
  /** `"kitnet"`. */
  readonly type: string = KITNET_TYPE;
  /** KitNET brings no threshold: a calibration chooses one. */
  readonly ownThreshold: number = NaN;
  readonly #model: KitNET;
  #row: Float64Array | undefined;

  /** Wraps `model`. */
  constructor(model: KitNET) {
    this.#model = model;
  }

  /** Features per instance. */
  get inputs(): number {
    return this.#model.n;
  }

  /** Mapping, training, or executing. */
  get phase(): DetectorPhase {
    return this.#model.phase;
  }

  /** Instances learned, of {@linkcode learningTotal}. */
  get learningDone(): number {
    return this.learningTotal - this.#model.remainingGrace;
  }

  /** Both grace periods: every instance learned before the first score. */
  get learningTotal(): number {
    return this.#model.fmGracePeriod + this.#model.adGracePeriod + 1;
  }

  /** 0 during the grace periods (which learn from `x`), then the score of `x`. */
  process(x: ArrayLike<number>): number {
    return this.#model.process(x);
  }

  /** The score of `x` without learning; 0 while there is no feature map yet. */
  scoreOne(x: ArrayLike<number>): number {
    return this.#model.phase === "mapping" ? 0 : this.#model.execute(x);
  }

  /** Trains on `x` (the feature mapper while mapping, else the autoencoders). */
  learnOne(x: ArrayLike<number>): void {
    this.#model.train(x);
  }

  /** {@linkcode scoreOne} of each row. */
  scoreMany(rows: Float64Array, out: Float64Array): void {
    const n = this.#model.n;
    const row = this.#row ??= new Float64Array(n);
    for (let r = 0; r < out.length; r++) {
      row.set(rows.subarray(r * n, (r + 1) * n));
      out[r] = this.scoreOne(row);
    }
  }

  /** The score and each ensemble autoencoder's RMSE over its features. */
  explain(x: ArrayLike<number>): ScoreExplanation {
    if (this.#model.phase === "mapping") return { score: 0, groups: [] };
    const { score, autoencoders } = this.#model.explain(x);
    return { score, groups: autoencoders.map((a) => ({ features: a.features, error: a.rmse })) };
  }

  /** Its autoencoders, or how long until it scores. */
  summary(): string {
    const map = this.#model.featureMap;
    return `phase ${this.#model.phase}` +
      (map
        ? `, ${map.length} autoencoder${map.length === 1 ? "" : "s"}`
        : `, ${this.#model.remainingGrace} rows until scoring`);
  }

  /** The model's bytes (`KNET`). */
  toBytes(): Uint8Array {
    return this.#model.toBytes();
  }
}

/** A new KitNET of `inputs` features with `options` (its defaults where absent). */
function createKitNET(options: Omit<KitNETModelOptions, "type">, inputs: number): KitNET {
  return new KitNET({ ...options, n: inputs });
}

/** KitNET as the registry sees it. */
export const kitnetType: DetectorType = {
  type: KITNET_TYPE,
  stateKind: "KNET",
  flags: [
    {
      flag: "max-ae",
      key: "maxAutoencoderSize",
      kind: "integer",
      least: 1,
      help: `most features per autoencoder (${KITNET_DEFAULTS.maxAutoencoderSize})`,
    },
    {
      flag: "fm-grace",
      key: "fmGracePeriod",
      kind: "integer",
      least: 0,
      help: "instances that learn the feature map (default: --ad-grace)",
    },
    {
      flag: "ad-grace",
      key: "adGracePeriod",
      kind: "integer",
      least: 1,
      help: `instances that train the autoencoders (${KITNET_DEFAULTS.adGracePeriod})`,
    },
    {
      flag: "lr",
      key: "learningRate",
      kind: "number",
      least: 0,
      help: `learning rate (${KITNET_DEFAULTS.learningRate})`,
    },
    {
      flag: "hidden-ratio",
      key: "hiddenRatio",
      kind: "number",
      least: 0,
      help: `hidden units per visible unit (${KITNET_DEFAULTS.hiddenRatio})`,
    },
    {
      flag: "kernel",
      key: "kernel",
      kind: "choice",
      choices: KITNET_KERNELS,
      least: 0,
      help: `arithmetic: ${KITNET_KERNELS.join(", ")} (auto: the fastest here, same bits)`,
    },
    {
      flag: "feature-map",
      key: "featureMap",
      kind: "json-file",
      least: 0,
      help: "JSON list of feature index lists; skips the mapping phase",
    },
  ],
  fromBytes: (bytes) => new KitNETDetector(KitNET.fromBytes(bytes)),
  filesOf: () => [], // it learns on the gateway: nothing to read
  learningWithin(instances: number): ModelOptions {
    // A tenth maps the features (as Kitsune's 5,000 of 55,000), the rest trains.
    const fmGracePeriod = Math.max(1, Math.floor(instances / 10));
    return {
      type: KITNET_TYPE,
      fmGracePeriod,
      adGracePeriod: Math.max(1, instances - fmGracePeriod - 1),
    };
  },
  forStream(options: ModelOptions, shape: StreamShape): StreamDetectors {
    const { type: _, ...kitnet } = options as KitNETModelOptions;
    const inputs = shape.features.length;
    return {
      create: () => new KitNETDetector(createKitNET(kitnet, inputs)),
      save: (detector) => detector.toBytes(),
      load(bytes) {
        const detector = new KitNETDetector(KitNET.fromBytes(bytes, { kernel: kitnet.kernel }));
        if (detector.inputs !== inputs) {
          throw new RangeError(
            `its model has ${detector.inputs} features, stream "${shape.stream}" now has ${inputs}`,
          );
        }
        return detector;
      },
    };
  },
  fitRows(rows: Float64Array, inputs: number, options: FitOptions): FitResult {
    // One pass maps the features (the grace period is exactly the rows), `epochs` more train.
    const n = rows.length / inputs;
    const epochs = options.epochs ?? 1;
    const learningRate = options.learningRate ?? KITNET_DEFAULTS.learningRate;
    const started = Date.now();
    const model = new KitNET({
      n: inputs,
      maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
      fmGracePeriod: n - 1, // KitNET maps on instances 0 … fmGracePeriod inclusive
      adGracePeriod: n * epochs,
      learningRate,
    });
    for (let pass = 0; pass <= epochs; pass++) {
      for (let r = 0; r < n; r++) model.train(rows.subarray(r * inputs, (r + 1) * inputs));
    }
    return {
      detector: new KitNETDetector(model),
      training: { epochs, learningRate },
      description: `KitNET (max ${KITNET_DEFAULTS.maxAutoencoderSize} features per autoencoder, ` +
        `SGD lr ${learningRate}): 1 mapping pass, ${epochs} training pass${
          epochs === 1 ? "" : "es"
        }`,
      seconds: (Date.now() - started) / 1000,
    };
  },
};
