/**
 * KitNET's feature mapper: incremental correlation statistics over a stream, turned into a
 * correlation distance and clustered into groups of at most m features.
 *
 * @module
 */

import { type CorrelationKernel, correlationKernel } from "./correlation_kernel.ts";
import { singleLinkageClusters } from "./single_linkage.ts";

/** Learns which features move together, one instance at a time. */
export class CorrelationMapper {
  /** Features per instance. */
  readonly n: number;
  /** Instances seen. */
  count = 0;
  /** Running sum of the instances. */
  readonly sum: Float64Array;
  /** Running sum of the residuals r = x − mean. */
  readonly residualSum: Float64Array;
  /** Running sum of squared residuals. */
  readonly residualSquares: Float64Array;
  /** Upper triangle (row-major, diagonal included) of Σ r rᵀ. */
  readonly coResiduals: Float64Array;
  #residual: Float64Array;
  #kernel: CorrelationKernel | undefined;

  /**
   * Statistics of `n` features; with `webAssembly`, kept in a WebAssembly memory and updated by
   * `correlation_kernel.ts` (same bits) where the runtime has WebAssembly SIMD.
   */
  constructor(n: number, webAssembly = false) {
    this.n = n;
    const kernel = webAssembly ? correlationKernel(n) : undefined;
    this.#kernel = kernel;
    this.sum = kernel?.sum ?? new Float64Array(n);
    this.residualSum = kernel?.residualSum ?? new Float64Array(n);
    this.residualSquares = kernel?.residualSquares ?? new Float64Array(n);
    this.coResiduals = kernel?.coResiduals ?? new Float64Array((n * (n + 1)) / 2);
    this.#residual = new Float64Array(n);
  }

  /** Whether the update runs on the WebAssembly kernel. */
  get webAssembly(): boolean {
    return this.#kernel !== undefined;
  }

  /** Folds one instance into the statistics. */
  update(x: ArrayLike<number>): void {
    const kernel = this.#kernel;
    if (kernel !== undefined) {
      const own = kernel.x;
      if (x instanceof Float64Array && x.length === this.n) own.set(x);
      else for (let i = 0; i < this.n; i++) own[i] = x[i];
      kernel.update(++this.count);
      return;
    }
    const { n, sum, residualSum, residualSquares, coResiduals } = this;
    const r = this.#residual;
    const count = ++this.count;
    for (let i = 0; i < n; i++) {
      sum[i] += x[i];
      const ri = x[i] - sum[i] / count;
      r[i] = ri;
      residualSum[i] += ri;
      residualSquares[i] += ri * ri;
    }
    // C is symmetric and r_i r_j == r_j r_i exactly, so the upper triangle is the whole matrix.
    // Unrolled by four: V8 does not unroll this loop itself, and it is the mapping phase's cost.
    for (let i = 0, p = 0; i < n; i++) {
      const ri = r[i];
      let j = i;
      for (; j + 3 < n; j += 4, p += 4) {
        coResiduals[p] += ri * r[j];
        coResiduals[p + 1] += ri * r[j + 1];
        coResiduals[p + 2] += ri * r[j + 2];
        coResiduals[p + 3] += ri * r[j + 3];
      }
      for (; j < n; j++, p++) coResiduals[p] += ri * r[j];
    }
  }

  /**
   * The condensed correlation distance (strict upper triangle, row by row):
   * 1 − C / (s sᵀ) with s = sqrt(Σ r²), exact zeros of s sᵀ taken as 1e-100, negatives set to 0.
   */
  distances(): Float64Array {
    const { n, residualSquares, coResiduals } = this;
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.sqrt(residualSquares[i]);
    const out = new Float64Array((n * (n - 1)) / 2);
    for (let i = 0, p = 0, q = 0; i < n; i++) {
      p++; // skip the diagonal
      for (let j = i + 1; j < n; j++, p++, q++) {
        let scale = s[i] * s[j];
        if (scale === 0) scale = 1e-100;
        const d = 1 - coResiduals[p] / scale;
        out[q] = d < 0 ? 0 : d;
      }
    }
    return out;
  }

  /** Clusters the features into groups of at most `maxSize` (≤ 0 means 1, > n means n). */
  cluster(maxSize: number): number[][] {
    const m = Math.min(Math.max(maxSize, 1), this.n);
    return singleLinkageClusters(this.distances(), this.n, m);
  }
}
