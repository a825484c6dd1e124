/**
 * Half-Space Trees (Tan, Ting and Liu, IJCAI 2011), exactly as `docs/hst.md` writes them down:
 * `trees` random binary trees of height `height` over a workspace around the features' ranges,
 * each node counting the instances of two windows of `window` instances (the reference window
 * it scores with, the latest one it learns in), which trade places every `window` instances.
 *
 * Every table is allocated when the trees are built; learning and scoring one instance
 * allocate nothing and cost `trees × (height + 1)` steps at most.
 *
 * @example
 * ```ts
 * import { HalfSpaceTrees } from "./half_space_trees.ts";
 * const hst = new HalfSpaceTrees({ n: 2, window: 50, ranges: [[0, 1], [0, 1]], seed: 7 });
 * for (let i = 0; i < 100; i++) hst.process([0.5 + 0.01 * Math.sin(i), 0.5]);
 * hst.score([0.5, 0.5]) < hst.score([0.95, 0.05]); // true: the far corner is anomalous
 * ```
 *
 * @module
 */

import { assertInstance, MersenneTwister } from "../math/mod.ts";
import { HST_DEFAULTS, HST_LIMITS } from "./hst_defaults.ts";

/** Where the trees' learning is (as the detector interface names it). */
export type HalfSpaceTreesPhase = "mapping" | "training" | "executing";

/** A feature's range: values from `min` to `max` (min < max, both finite). */
export type FeatureRange = readonly [min: number, max: number];

/** Options of {@linkcode HalfSpaceTrees}; every one but `n` has a default. */
export interface HalfSpaceTreesOptions {
  /** Features per instance. */
  n: number;
  /** Number of trees (River's default, 10). */
  trees?: number;
  /** Height of each tree: `height` splits from root to leaf (River's default, 8). */
  height?: number;
  /** Instances per window (the paper's and River's ψ, 250). */
  window?: number;
  /**
   * Instances whose minimum and maximum give the ranges of the features that `ranges` does not
   * give (default 1,000: a few windows, so a slow cycle is seen whole). Unused when every range
   * is given.
   */
  warmUp?: number;
  /** Known ranges, per feature; `undefined` (or a shorter array) leaves a feature's to learn. */
  ranges?: readonly (FeatureRange | undefined | null)[];
  /** Seed of the trees' random splits (a seed gives the same trees on every runtime). */
  seed?: number;
}

/** Every option, as a model holds them. */
export interface HalfSpaceTreesSettings {
  /** Features per instance. */
  n: number;
  /** Number of trees. */
  trees: number;
  /** Splits from root to leaf. */
  height: number;
  /** Instances per window. */
  window: number;
  /** Instances that learn the ranges not given (0 when all are given). */
  warmUp: number;
  /** Which features' ranges were given. */
  given: readonly boolean[];
  /** Seed of the splits. */
  seed: number;
}

/** The mutable part of a model, as its state bytes hold it (see `hst_state.ts`). */
export interface HalfSpaceTreesTables {
  /** Instances of the warm-up seen (all of it once the trees are built). */
  warmedUp: number;
  /** Instances in the latest window so far. */
  latestCount: number;
  /** Windows completed (the reference window exists from the first). */
  windows: number;
  /** Per feature, the smallest value given or seen (+∞ before any). */
  min: Float64Array;
  /** Per feature, the largest value given or seen (−∞ before any). */
  max: Float64Array;
  /** Once built: each internal node's split feature (tree after tree, heap order). */
  splitFeature?: Uint16Array;
  /** Once built: each internal node's split value, in the features' own units. */
  splitValue?: Float64Array;
  /** Once built: each node's mass in the reference window. */
  reference?: Uint16Array;
  /** Once built: each node's mass in the latest window. */
  latest?: Uint16Array;
}

/** Why options cannot make trees: the option at fault (and the feature, for a range). */
export interface HalfSpaceTreesProblem {
  /** The option's name (`"window"`, `"ranges"`, …). */
  option: keyof HalfSpaceTreesOptions;
  /** For `ranges`, the feature whose range is at fault. */
  feature?: number;
  /** What is wrong, naming the option and its value. */
  message: string;
}

/** Why `options` cannot make trees; undefined when they can. */
export function halfSpaceTreesProblem(
  options: HalfSpaceTreesOptions,
): HalfSpaceTreesProblem | undefined {
  const { n } = options;
  const d = HST_DEFAULTS;
  const L = HST_LIMITS;
  const integer = (
    option: keyof HalfSpaceTreesOptions,
    value: number,
    min: number,
    max: number,
  ): HalfSpaceTreesProblem | undefined =>
    Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : { option, message: `${option} must be an integer in [${min}, ${max}], got ${value}` };
  const problem = integer("n", n, 1, L.features) ??
    integer("trees", options.trees ?? d.trees, 1, L.trees) ??
    integer("height", options.height ?? d.height, 1, L.height) ??
    integer("window", options.window ?? d.window, 1, L.window) ??
    integer("warmUp", options.warmUp ?? d.warmUp, 0, L.warmUp) ??
    integer("seed", options.seed ?? d.seed, 0, 0xffffffff);
  if (problem !== undefined) return problem;
  const trees = options.trees ?? d.trees;
  const height = options.height ?? d.height;
  const nodes = trees * (2 ** (height + 1) - 1);
  if (nodes > L.nodes) {
    return {
      option: "height",
      message: `trees × (2^(height + 1) − 1) must be at most ${L.nodes} nodes, got ${nodes} ` +
        `(${trees} trees of height ${height})`,
    };
  }
  const ranges = options.ranges ?? [];
  if (ranges.length > n) {
    return { option: "ranges", message: `ranges has ${ranges.length} entries for ${n} features` };
  }
  for (let q = 0; q < ranges.length; q++) {
    const range = ranges[q];
    if (range === undefined || range === null) continue;
    const [min, max] = range;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min < max)) {
      return {
        option: "ranges",
        feature: q,
        message: `ranges[${q}] must be [min, max] with finite min < max, got [${min}, ${max}]`,
      };
    }
  }
  const allGiven = ranges.length === n && ranges.every((r) => r !== undefined && r !== null);
  if (!allGiven && (options.warmUp ?? d.warmUp) === 0) {
    return {
      option: "warmUp",
      message: "warmUp must be at least 1 when ranges does not give every feature's range, got 0",
    };
  }
  return undefined;
}

/** An online Half-Space Trees anomaly detector of `n` features. */
export class HalfSpaceTrees {
  /** Its options. */
  readonly settings: HalfSpaceTreesSettings;
  /** Nodes per tree: 2^(height + 1) − 1. */
  readonly nodesPerTree: number;
  /** Internal (splitting) nodes per tree: 2^height − 1. */
  readonly splitsPerTree: number;
  /** A node whose reference mass is below this ends a path when scoring (the paper's 0.1 ψ). */
  readonly sizeLimit: number;
  /** The largest mass score, `trees × window × 2^height` (all of every window in one leaf). */
  readonly maxMass: number;

  #warmedUp = 0;
  #latestCount = 0;
  #windows = 0;
  readonly #min: Float64Array;
  readonly #max: Float64Array;
  #splitFeature: Uint16Array | undefined;
  #splitValue: Float64Array | undefined;
  #reference: Uint16Array | undefined;
  #latest: Uint16Array | undefined;
  /** 2^k for every depth k. */
  readonly #depthWeight: Float64Array;

  /**
   * New trees. Throws a `RangeError` naming the option when `options` cannot make them. The
   * trees are built now when every range is given, else after the warm-up.
   */
  constructor(options: HalfSpaceTreesOptions, tables?: HalfSpaceTreesTables) {
    const problem = halfSpaceTreesProblem(options);
    if (problem !== undefined) throw new RangeError(problem.message);
    const d = HST_DEFAULTS;
    const n = options.n;
    const ranges = options.ranges ?? [];
    const given = Array.from(
      { length: n },
      (_, q) => ranges[q] !== undefined && ranges[q] !== null,
    );
    const allGiven = given.every((g) => g);
    this.settings = {
      n,
      trees: options.trees ?? d.trees,
      height: options.height ?? d.height,
      window: options.window ?? d.window,
      warmUp: allGiven ? 0 : options.warmUp ?? d.warmUp,
      given,
      seed: options.seed ?? d.seed,
    };
    const { height, trees, window } = this.settings;
    this.nodesPerTree = 2 ** (height + 1) - 1;
    this.splitsPerTree = 2 ** height - 1;
    this.sizeLimit = 0.1 * window;
    this.maxMass = trees * window * 2 ** height;
    this.#depthWeight = Float64Array.from({ length: height + 1 }, (_, k) => 2 ** k);
    this.#min = new Float64Array(n).fill(Infinity);
    this.#max = new Float64Array(n).fill(-Infinity);
    for (let q = 0; q < n; q++) {
      const range = ranges[q];
      if (range === undefined || range === null) continue;
      this.#min[q] = range[0];
      this.#max[q] = range[1];
    }
    if (tables !== undefined) this.#restore(tables);
    else if (this.settings.warmUp === 0) this.#build();
  }

  /** Features per instance. */
  get n(): number {
    return this.settings.n;
  }

  /** Learning ranges (`"mapping"`), filling the first window (`"training"`), or scoring. */
  get phase(): HalfSpaceTreesPhase {
    if (this.#reference === undefined) return "mapping";
    return this.#windows === 0 ? "training" : "executing";
  }

  /** Instances learned before the first score: the warm-up and one window. */
  get learningTotal(): number {
    return this.settings.warmUp + this.settings.window;
  }

  /** Instances of {@linkcode learningTotal} learned so far. */
  get learningDone(): number {
    return this.#windows > 0 ? this.learningTotal : this.#warmedUp + this.#latestCount;
  }

  /** Windows completed so far. */
  get windows(): number {
    return this.#windows;
  }

  /** Each feature's range, as given or learned (copies; ±∞ before a learned one has values). */
  get ranges(): FeatureRange[] {
    return Array.from(this.#min, (min, q) => [min, this.#max[q]] as const);
  }

  /** The online step: the score of `x` (0 before the first window is complete), then learns it. */
  process(x: ArrayLike<number>): number {
    assertInstance(x, this.settings.n);
    if (this.#windows === 0) {
      this.#learnAt(x, 0);
      return 0;
    }
    // Scoring and learning follow the same path: one walk down each tree does both (the
    // tables are hoisted into locals as in #massAt and #learnAt, which the hot loops need).
    const reference = this.#reference!;
    const latest = this.#latest!;
    const feature = this.#splitFeature!;
    const value = this.#splitValue!;
    const weight = this.#depthWeight;
    const { trees, height } = this.settings;
    const nodesPerTree = this.nodesPerTree;
    const splitsPerTree = this.splitsPerTree;
    const sizeLimit = this.sizeLimit;
    let mass = 0;
    for (let t = 0; t < trees; t++) {
      const nodes = t * nodesPerTree;
      const splits = t * splitsPerTree;
      let i = 0;
      let r = reference[nodes];
      let scoring = true;
      latest[nodes]++;
      for (let k = 0; k < height; k++) {
        if (scoring && r < sizeLimit) {
          mass += r * weight[k];
          scoring = false;
        }
        i = x[feature[splits + i]] < value[splits + i] ? 2 * i + 1 : 2 * i + 2;
        latest[nodes + i]++;
        if (scoring) r = reference[nodes + i];
      }
      if (scoring) mass += r * weight[height];
    }
    this.#countLearned();
    return this.scoreOfMass(mass);
  }

  /** The score of `x` without learning: 0 before the first window is complete. */
  score(x: ArrayLike<number>): number {
    assertInstance(x, this.settings.n);
    return this.#windows > 0 ? this.#scoreAt(x, 0) : 0;
  }

  /** Learns `x`: the ranges during the warm-up, else the latest window's masses. */
  learn(x: ArrayLike<number>): void {
    assertInstance(x, this.settings.n);
    this.#learnAt(x, 0);
  }

  /** {@linkcode score} of each row of `rows` (row-major, `out.length` rows) into `out`. */
  scoreMany(rows: Float64Array, out: Float64Array): void {
    const n = this.settings.n;
    if (rows.length !== out.length * n) {
      throw new RangeError(`rows must hold ${out.length} × ${n} numbers, got ${rows.length}`);
    }
    for (let r = 0; r < out.length; r++) {
      for (let q = 0; q < n; q++) {
        const v = rows[r * n + q];
        if (v - v !== 0) throw new RangeError(`row ${r} feature ${q} is ${v}: must be finite`);
      }
    }
    for (let r = 0; r < out.length; r++) {
      out[r] = this.#windows > 0 ? this.#scoreAt(rows, r * n) : 0;
    }
  }

  /**
   * The paper's score of `x`: over the trees, the reference mass of the node where its path
   * ends times 2^depth (low is anomalous; at most {@linkcode maxMass}); 0 before a reference.
   */
  mass(x: ArrayLike<number>): number {
    assertInstance(x, this.settings.n);
    return this.#windows > 0 ? this.#massAt(x, 0) : 0;
  }

  /**
   * Per feature, the bits of mass `x` loses at the splits on that feature beyond the halving
   * a uniform stream would give, averaged over the trees (`docs/hst.md`, "Explanation").
   * All zeros before the first window is complete. Allocates.
   */
  explainFeatures(x: ArrayLike<number>): Float64Array {
    assertInstance(x, this.settings.n);
    const { n, trees, height } = this.settings;
    const bits = new Float64Array(n);
    const reference = this.#reference;
    if (this.#windows === 0 || reference === undefined) return bits;
    const feature = this.#splitFeature!;
    const value = this.#splitValue!;
    for (let t = 0; t < trees; t++) {
      const nodes = t * this.nodesPerTree;
      const splits = t * this.splitsPerTree;
      let i = 0;
      for (let k = 0; k < height; k++) {
        const parent = reference[nodes + i];
        if (parent < this.sizeLimit) break; // the path ends here
        const q = feature[splits + i];
        i = x[q] < value[splits + i] ? 2 * i + 1 : 2 * i + 2;
        const lost = Math.log2((parent + 1) / (reference[nodes + i] + 1)) - 1;
        if (lost > 0) bits[q] += lost;
      }
    }
    for (let q = 0; q < n; q++) bits[q] /= trees;
    return bits;
  }

  /** Its mutable state, for saving (views of the live tables: copy before changing). */
  tables(): HalfSpaceTreesTables {
    return {
      warmedUp: this.#warmedUp,
      latestCount: this.#latestCount,
      windows: this.#windows,
      min: this.#min,
      max: this.#max,
      splitFeature: this.#splitFeature,
      splitValue: this.#splitValue,
      reference: this.#reference,
      latest: this.#latest,
    };
  }

  /**
   * The anomaly score of a mass score `m`: (maxMass + 1) / (m + 1), how many times less mass
   * the instance's nodes hold than the most they could. 1 for an instance in the fullest leaf
   * of every tree, maxMass + 1 for one in empty nodes only; it orders instances as the mass
   * does (reversed), and its logarithm is the instance's surprise, so a log-normal fit of the
   * scores is a normal fit of the surprise.
   */
  scoreOfMass(m: number): number {
    return (this.maxMass + 1) / (m + 1);
  }

  #scoreAt(x: ArrayLike<number>, offset: number): number {
    return this.scoreOfMass(this.#massAt(x, offset));
  }

  #massAt(x: ArrayLike<number>, offset: number): number {
    const reference = this.#reference!;
    const feature = this.#splitFeature!;
    const value = this.#splitValue!;
    const weight = this.#depthWeight;
    const { trees, height } = this.settings;
    const nodesPerTree = this.nodesPerTree;
    const splitsPerTree = this.splitsPerTree;
    const sizeLimit = this.sizeLimit;
    let mass = 0;
    for (let t = 0; t < trees; t++) {
      const nodes = t * nodesPerTree;
      const splits = t * splitsPerTree;
      let i = 0;
      let k = 0;
      let r = reference[nodes];
      while (k < height && r >= sizeLimit) {
        i = x[offset + feature[splits + i]] < value[splits + i] ? 2 * i + 1 : 2 * i + 2;
        r = reference[nodes + i];
        k++;
      }
      mass += r * weight[k];
    }
    return mass;
  }

  #learnAt(x: ArrayLike<number>, offset: number): void {
    const latest = this.#latest;
    if (latest === undefined) {
      const min = this.#min;
      const max = this.#max;
      const given = this.settings.given;
      for (let q = 0; q < min.length; q++) {
        if (given[q]) continue;
        const v = x[offset + q];
        if (v < min[q]) min[q] = v;
        if (v > max[q]) max[q] = v;
      }
      if (++this.#warmedUp === this.settings.warmUp) this.#build();
      return;
    }
    const feature = this.#splitFeature!;
    const value = this.#splitValue!;
    const { trees, height } = this.settings;
    const nodesPerTree = this.nodesPerTree;
    const splitsPerTree = this.splitsPerTree;
    for (let t = 0; t < trees; t++) {
      const nodes = t * nodesPerTree;
      const splits = t * splitsPerTree;
      let i = 0;
      latest[nodes]++;
      for (let k = 0; k < height; k++) {
        i = x[offset + feature[splits + i]] < value[splits + i] ? 2 * i + 1 : 2 * i + 2;
        latest[nodes + i]++;
      }
    }
    this.#countLearned();
  }

  /** Counts an instance into the latest window; trades the windows when it is full. */
  #countLearned(): void {
    if (++this.#latestCount === this.settings.window) {
      // The latest window becomes the reference; the old reference's table is the new latest.
      const old = this.#reference!;
      this.#reference = this.#latest;
      this.#latest = old.fill(0);
      this.#latestCount = 0;
      this.#windows++;
    }
  }

  /** Builds the trees over the ranges (docs/hst.md, "Building the trees"). */
  #build(): void {
    const { n, trees, height, seed } = this.settings;
    const min = this.#min;
    const max = this.#max;
    for (let q = 0; q < n; q++) {
      // A feature that never changed in the warm-up gets a unit range around its value.
      if (!(min[q] < max[q])) {
        const centre = Number.isFinite(min[q]) ? min[q] : 0;
        min[q] = centre - 0.5;
        max[q] = centre + 0.5;
      }
    }
    const rng = new MersenneTwister(seed);
    const splitFeature = new Uint16Array(trees * this.splitsPerTree);
    const splitValue = new Float64Array(trees * this.splitsPerTree);
    const low = new Float64Array(n);
    const high = new Float64Array(n);
    for (let t = 0; t < trees; t++) {
      for (let q = 0; q < n; q++) {
        const s = rng.nextDouble();
        const reach = 2 * Math.max(s, 1 - s);
        low[q] = s - reach;
        high[q] = s + reach;
      }
      const base = t * this.splitsPerTree;
      const split = (i: number, k: number): void => {
        if (k === height) return;
        const q = Math.floor(rng.nextDouble() * n);
        const p = (low[q] + high[q]) / 2;
        splitFeature[base + i] = q;
        splitValue[base + i] = min[q] + p * (max[q] - min[q]);
        const saved = high[q];
        high[q] = p;
        split(2 * i + 1, k + 1);
        high[q] = saved;
        const savedLow = low[q];
        low[q] = p;
        split(2 * i + 2, k + 1);
        low[q] = savedLow;
      };
      split(0, 0);
    }
    this.#splitFeature = splitFeature;
    this.#splitValue = splitValue;
    this.#reference = new Uint16Array(trees * this.nodesPerTree);
    this.#latest = new Uint16Array(trees * this.nodesPerTree);
    this.#warmedUp = this.settings.warmUp;
  }

  #restore(tables: HalfSpaceTreesTables): void {
    const { n, trees, warmUp, window } = this.settings;
    const splits = trees * this.splitsPerTree;
    const nodes = trees * this.nodesPerTree;
    const built = tables.reference !== undefined;
    const fits = tables.min.length === n && tables.max.length === n &&
      Number.isInteger(tables.warmedUp) && tables.warmedUp >= 0 && tables.warmedUp <= warmUp &&
      (built
        ? tables.warmedUp === warmUp && tables.splitFeature?.length === splits &&
          tables.splitValue?.length === splits && tables.reference?.length === nodes &&
          tables.latest?.length === nodes && Number.isInteger(tables.latestCount) &&
          tables.latestCount >= 0 && tables.latestCount < window &&
          Number.isInteger(tables.windows) && tables.windows >= 0
        : tables.warmedUp < warmUp && tables.latestCount === 0 && tables.windows === 0 &&
          tables.splitFeature === undefined && tables.latest === undefined);
    if (!fits) {
      throw new RangeError(
        `Half-Space Trees tables (warm-up ${tables.warmedUp}, latest ${tables.latestCount}, ` +
          `windows ${tables.windows}) do not fit ${trees} trees of ${this.nodesPerTree} nodes ` +
          `over ${n} features with a warm-up of ${warmUp} and a window of ${window}`,
      );
    }
    if (built) {
      for (let i = 0; i < splits; i++) {
        const q = tables.splitFeature![i];
        const v = tables.splitValue![i];
        if (q >= n || !Number.isFinite(v)) {
          throw new RangeError(
            `split ${i} (feature ${q}, value ${v}) is not a split of ${n} features`,
          );
        }
      }
      // A node holds at most a window, and its children together exactly what it holds.
      for (
        const [name, table, full] of [
          ["reference", tables.reference!, tables.windows > 0 ? window : 0],
          ["latest", tables.latest!, tables.latestCount],
        ] as const
      ) {
        for (let t = 0; t < trees; t++) {
          const at = t * this.nodesPerTree;
          if (table[at] !== full) {
            throw new RangeError(
              `${name} mass of tree ${t}'s root is ${table[at]}, expected ${full}`,
            );
          }
          for (let i = 0; i < this.splitsPerTree; i++) {
            if (table[at + 2 * i + 1] + table[at + 2 * i + 2] !== table[at + i]) {
              throw new RangeError(`${name} masses of tree ${t} do not add up at node ${i}`);
            }
          }
        }
      }
    }
    this.#warmedUp = tables.warmedUp;
    this.#latestCount = tables.latestCount;
    this.#windows = tables.windows;
    this.#min.set(tables.min);
    this.#max.set(tables.max);
    this.#splitFeature = tables.splitFeature && Uint16Array.from(tables.splitFeature);
    this.#splitValue = tables.splitValue && Float64Array.from(tables.splitValue);
    this.#reference = tables.reference && Uint16Array.from(tables.reference);
    this.#latest = tables.latest && Uint16Array.from(tables.latest);
  }
}
