/**
 * Per-column scaling of a row-major matrix: standardisation (z-score with the population standard
 * deviation) or min-max to [0, 1]. A constant column maps to 0 under either, so a feature that
 * never varied in training cannot blow up on a deployed gateway.
 *
 * @module
 */

/** How a {@linkcode ColumnScaler} maps a column. */
export type ScalingMethod = "standard" | "minmax" | "none";

/** Every scaling method (index = stored code). */
export const SCALING_METHODS: readonly ScalingMethod[] = ["none", "standard", "minmax"];

/**
 * An affine map per column, x ↦ (x − offset[j]) · factor[j], fitted on training rows:
 * standard → offset = mean, factor = 1/σ; minmax → offset = min, factor = 1/(max − min);
 * factor 0 for a constant column.
 */
export class ColumnScaler {
  /** The method the scaler was fitted with. */
  readonly method: ScalingMethod;
  /** Subtracted from each column. */
  readonly offset: Float64Array;
  /** Then multiplied in. */
  readonly factor: Float64Array;

  /** A scaler with given parameters (see {@linkcode ColumnScaler.fit} to learn them). */
  constructor(method: ScalingMethod, offset: Float64Array, factor: Float64Array) {
    if (!SCALING_METHODS.includes(method)) {
      throw new RangeError(
        `scaling must be one of ${SCALING_METHODS.join(", ")}, got ${JSON.stringify(method)}`,
      );
    }
    if (offset.length !== factor.length) {
      throw new RangeError(`offset has ${offset.length} columns, factor ${factor.length}`);
    }
    this.method = method;
    this.offset = offset;
    this.factor = factor;
  }

  /** Columns the scaler maps. */
  get columns(): number {
    return this.offset.length;
  }

  /** Learns the scaling of each of `columns` columns from `matrix` (row-major). */
  static fit(method: ScalingMethod, matrix: Float64Array, columns: number): ColumnScaler {
    if (!Number.isInteger(columns) || columns < 1 || matrix.length % columns !== 0) {
      throw new RangeError(`a matrix of ${matrix.length} numbers has no ${columns} columns`);
    }
    const rows = matrix.length / columns;
    const offset = new Float64Array(columns);
    const factor = new Float64Array(columns).fill(1);
    if (method === "none") return new ColumnScaler(method, offset, factor);
    if (rows === 0) throw new RangeError("cannot fit a scaler on zero rows");
    if (method === "standard") {
      // Two passes (mean, then squared deviations) for accuracy on large byte counts.
      for (let r = 0; r < rows; r++) {
        const o = r * columns;
        for (let j = 0; j < columns; j++) offset[j] += matrix[o + j];
      }
      for (let j = 0; j < columns; j++) offset[j] /= rows;
      const squares = new Float64Array(columns);
      for (let r = 0; r < rows; r++) {
        const o = r * columns;
        for (let j = 0; j < columns; j++) {
          const e = matrix[o + j] - offset[j];
          squares[j] += e * e;
        }
      }
      for (let j = 0; j < columns; j++) {
        const std = Math.sqrt(squares[j] / rows);
        factor[j] = std > 0 ? 1 / std : 0;
      }
    } else {
      const max = new Float64Array(columns).fill(-Infinity);
      offset.fill(Infinity);
      for (let r = 0; r < rows; r++) {
        const o = r * columns;
        for (let j = 0; j < columns; j++) {
          const v = matrix[o + j];
          if (v < offset[j]) offset[j] = v;
          if (v > max[j]) max[j] = v;
        }
      }
      for (let j = 0; j < columns; j++) {
        const range = max[j] - offset[j];
        factor[j] = range > 0 ? 1 / range : 0;
      }
    }
    return new ColumnScaler(method, offset, factor);
  }

  /** Scales `matrix` (row-major, `columns` wide) in place. */
  transform(matrix: Float64Array): void {
    const columns = this.columns;
    if (matrix.length % columns !== 0) {
      throw new RangeError(`a matrix of ${matrix.length} numbers has no ${columns} columns`);
    }
    for (let o = 0; o < matrix.length; o += columns) {
      for (let j = 0; j < columns; j++) {
        matrix[o + j] = (matrix[o + j] - this.offset[j]) * this.factor[j];
      }
    }
  }
}
