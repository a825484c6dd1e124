/**
 * Half-Space Trees behind the detector interface (`core/detector.ts`): one model per device,
 * learning online (the ranges it was not given during its warm-up, then one window after
 * another), with no threshold of its own, so a calibration chooses one.
 *
 * A stream's `model` section: `{ "type": "hst", "trees": 10, "height": 8, "window": 250,
 * "warmUp": 1000, "seed": 1, "ranges": { "temperature": [-20, 60] } }`, every key optional;
 * `ranges` names model inputs (the stream's features) and gives their [min, max].
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
import { ModelProblem } from "../detector.ts";
import {
  type FeatureRange,
  HalfSpaceTrees,
  type HalfSpaceTreesOptions,
  halfSpaceTreesProblem,
} from "./half_space_trees.ts";
import { HST_DEFAULTS } from "./hst_defaults.ts";
import { HST_STATE_KIND, readHalfSpaceTrees, writeHalfSpaceTrees } from "./hst_state.ts";

/** The model type's name in a configuration. */
export const HST_TYPE = "hst";

/** The keys of a stream's `model` section for Half-Space Trees, besides `type`. */
export const HST_OPTION_KEYS: readonly string[] = [
  "trees",
  "height",
  "window",
  "warmUp",
  "seed",
  "ranges",
];

/** A stream's `model` section for Half-Space Trees. */
export interface HSTModelOptions extends ModelOptions {
  /** `"hst"`. */
  type: string;
  /** Number of trees. */
  trees?: number;
  /** Splits from root to leaf. */
  height?: number;
  /** Instances per window. */
  window?: number;
  /** Instances that learn the ranges not given. */
  warmUp?: number;
  /** Seed of the splits. */
  seed?: number;
  /** Known [min, max] ranges by input name. */
  ranges?: Record<string, readonly [number, number]>;
}

/** A {@linkcode HalfSpaceTrees} as a {@linkcode Detector}. */
export class HSTDetector implements Detector {
  /** `"hst"`. */
  readonly type: string = HST_TYPE;
  /** Half-Space Trees bring no threshold: a calibration chooses one. */
  readonly ownThreshold: number = NaN;
  readonly #model: HalfSpaceTrees;

  /** Wraps `model`. */
  constructor(model: HalfSpaceTrees) {
    this.#model = model;
  }

  /** Features per instance. */
  get inputs(): number {
    return this.#model.n;
  }

  /** Learning ranges (`"mapping"`), filling the first window (`"training"`), or scoring. */
  get phase(): DetectorPhase {
    return this.#model.phase;
  }

  /** Instances learned of {@linkcode learningTotal}. */
  get learningDone(): number {
    return this.#model.learningDone;
  }

  /** The warm-up and the first window. */
  get learningTotal(): number {
    return this.#model.learningTotal;
  }

  /** The score of `x` (0 before the first window is complete), then learns it. */
  process(x: ArrayLike<number>): number {
    return this.#model.process(x);
  }

  /** The score of `x` without learning. */
  scoreOne(x: ArrayLike<number>): number {
    return this.#model.score(x);
  }

  /** Learns `x` (ranges during the warm-up, else the latest window). */
  learnOne(x: ArrayLike<number>): void {
    this.#model.learn(x);
  }

  /** {@linkcode scoreOne} of each row. */
  scoreMany(rows: Float64Array, out: Float64Array): void {
    this.#model.scoreMany(rows, out);
  }

  /** The score, and per feature the bits of mass lost at its splits (`docs/hst.md`). */
  explain(x: ArrayLike<number>): ScoreExplanation {
    const score = this.#model.score(x);
    const featureErrors = this.#model.explainFeatures(x);
    const features = Array.from({ length: this.#model.n }, (_, i) => i);
    return { score, groups: [{ features, error: score }], featureErrors };
  }

  /** Its trees, or how long until it scores. */
  summary(): string {
    const { trees, height, window } = this.#model.settings;
    const shape = `${trees} trees of height ${height}, window ${window}`;
    if (this.#model.phase === "executing") return `phase executing, ${shape}`;
    const left = this.#model.learningTotal - this.#model.learningDone;
    return `phase ${this.#model.phase}, ${shape}, ${left} rows until scoring`;
  }

  /** The model's bytes (`HSTS`). */
  toBytes(): Uint8Array {
    return writeHalfSpaceTrees(this.#model);
  }
}

/**
 * The model options of a stream's section, ranges by input index; throws a
 * {@linkcode ModelProblem} naming the key when they cannot make trees.
 */
function treeOptions(options: HSTModelOptions, shape: StreamShape): HalfSpaceTreesOptions {
  const names = shape.features;
  const ranges: (FeatureRange | undefined)[] = Array(names.length).fill(undefined);
  for (const [name, range] of Object.entries(options.ranges ?? {})) {
    const q = names.indexOf(name);
    if (q < 0) {
      throw new ModelProblem(
        `ranges.${name}`,
        `stream "${shape.stream}" has no input "${name}" (its inputs: ${names.join(", ")})`,
      );
    }
    ranges[q] = range;
  }
  const tree: HalfSpaceTreesOptions = {
    n: names.length,
    trees: options.trees,
    height: options.height,
    window: options.window,
    warmUp: options.warmUp,
    seed: options.seed,
    ranges,
  };
  const problem = halfSpaceTreesProblem(tree);
  if (problem !== undefined) {
    const { option, feature, message } = problem;
    if (feature !== undefined) {
      throw new ModelProblem(
        `ranges.${names[feature]}`,
        message.replace(`ranges[${feature}]`, `the range of "${names[feature]}"`),
      );
    }
    throw new ModelProblem(option === "n" ? "type" : option, message);
  }
  return tree;
}

/** Half-Space Trees as the registry sees them. */
export const hstType: DetectorType = {
  type: HST_TYPE,
  stateKind: HST_STATE_KIND,
  flags: [
    {
      flag: "trees",
      key: "trees",
      kind: "integer",
      least: 1,
      help: `trees (${HST_DEFAULTS.trees})`,
    },
    {
      flag: "height",
      key: "height",
      kind: "integer",
      least: 1,
      help: `splits from root to leaf (${HST_DEFAULTS.height})`,
    },
    {
      flag: "window",
      key: "window",
      kind: "integer",
      least: 1,
      help: `instances per window (${HST_DEFAULTS.window})`,
    },
    {
      flag: "warm-up",
      key: "warmUp",
      kind: "integer",
      least: 1,
      help: `instances that learn the features' ranges (${HST_DEFAULTS.warmUp})`,
    },
    {
      flag: "seed",
      key: "seed",
      kind: "integer",
      least: 0,
      help: `seed of the random splits (${HST_DEFAULTS.seed})`,
    },
  ],
  fromBytes: (bytes) => new HSTDetector(readHalfSpaceTrees(bytes)),
  filesOf: () => [], // they learn on the gateway: nothing to read
  learningWithin(instances: number): ModelOptions {
    // The default window and warm-up when they fit; else a window of a fifth, warm-up the rest.
    const d = HST_DEFAULTS;
    if (instances >= d.warmUp + d.window) return { type: HST_TYPE };
    const window = Math.max(1, Math.min(d.window, Math.floor(instances / 5)));
    return { type: HST_TYPE, window, warmUp: Math.max(1, instances - window) };
  },
  forStream(options: ModelOptions, shape: StreamShape): StreamDetectors {
    const tree = treeOptions(options as HSTModelOptions, shape);
    const inputs = tree.n;
    return {
      create: () => new HSTDetector(new HalfSpaceTrees(tree)),
      save: (detector) => detector.toBytes(),
      load(bytes) {
        const detector = new HSTDetector(readHalfSpaceTrees(bytes));
        if (detector.inputs !== inputs) {
          throw new RangeError(
            `its trees have ${detector.inputs} features, stream "${shape.stream}" now has ${inputs}`,
          );
        }
        return detector;
      },
    };
  },
  fitRows(rows: Float64Array, inputs: number, options: FitOptions): FitResult {
    // The rows' own ranges, then every row learned in order, `epochs` times: the reference is
    // the last complete window, as it would be after streaming the rows.
    const n = rows.length / inputs;
    const epochs = options.epochs ?? 1;
    const started = Date.now();
    const ranges: FeatureRange[] = [];
    for (let q = 0; q < inputs; q++) {
      let min = Infinity, max = -Infinity;
      for (let r = 0; r < n; r++) {
        const v = rows[r * inputs + q];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      ranges.push(min < max ? [min, max] : [min - 0.5, min + 0.5]);
    }
    const model = new HalfSpaceTrees({
      n: inputs,
      ranges,
      seed: options.seed ?? HST_DEFAULTS.seed,
    });
    for (let pass = 0; pass < epochs; pass++) {
      for (let r = 0; r < n; r++) model.learn(rows.subarray(r * inputs, (r + 1) * inputs));
    }
    const { trees, height, window } = model.settings;
    return {
      detector: new HSTDetector(model),
      training: { epochs, learningRate: 0 },
      description: `Half-Space Trees (${trees} trees of height ${height}, window ${window}, ` +
        `ranges from the rows): ${epochs} pass${epochs === 1 ? "" : "es"}`,
      seconds: (Date.now() - started) / 1000,
    };
  },
};
