/**
 * The matrix products of dense-network training, on row-major `Float64Array`s.
 *
 * Every product is written as C = A·Bᵀ with A (m×k) and B (n×k) both row-major, so each output is
 * a dot product of two contiguous rows. {@linkcode matmulTransposed} uses the WebAssembly SIMD
 * kernel ({@linkcode matmulTransposedSimd}, 3–4× faster) where the runtime has it — Deno, Bun and
 * Node all do — and the scalar kernel otherwise. The scalar kernel computes 4×2 blocks of C at
 * once: per step of k it loads 6 numbers and does 8 multiply-adds, all held in registers, about
 * twice as fast as a plain triple loop. Each kernel's summation order is fixed, so results are
 * identical on every runtime that uses the same kernel.
 *
 * Float64 rather than Float32: JavaScript computes in doubles anyway, and the weights (at most
 * ~12k per layer here) stay in cache, so halving memory would not pay for the conversions.
 *
 * @module
 */

import { matmulTransposedSimd } from "./simd_matmul.ts";

/**
 * C = A·Bᵀ: `c[i*n + j] = Σ_t a[i*k + t] · b[j*k + t]` for i < m, j < n. C is overwritten.
 * WebAssembly SIMD when available, else {@linkcode matmulTransposedScalar}.
 */
export const matmulTransposed: (
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  m: number,
  n: number,
  k: number,
) => void = matmulTransposedSimd ?? matmulTransposedScalar;

/** Whether {@linkcode matmulTransposed} runs on WebAssembly SIMD. */
export const MATMUL_USES_SIMD: boolean = matmulTransposedSimd !== undefined;

/**
 * C = A·Bᵀ in plain JavaScript, summing each dot product in ascending k. C is overwritten.
 */
export function matmulTransposedScalar(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  m: number,
  n: number,
  k: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const c0 = i * n;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const b0 = j * k;
      const b1 = b0 + k;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let t = 0; t < k; t++) {
        const y0 = b[b0 + t];
        const y1 = b[b1 + t];
        const x0 = a[a0 + t];
        const x1 = a[a1 + t];
        const x2 = a[a2 + t];
        const x3 = a[a3 + t];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const o = c0 + j;
      c[o] = s00;
      c[o + 1] = s01;
      c[o + n] = s10;
      c[o + n + 1] = s11;
      c[o + 2 * n] = s20;
      c[o + 2 * n + 1] = s21;
      c[o + 3 * n] = s30;
      c[o + 3 * n + 1] = s31;
    }
    if (j < n) {
      const b0 = j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = 0; t < k; t++) {
        const y = b[b0 + t];
        s0 += a[a0 + t] * y;
        s1 += a[a1 + t] * y;
        s2 += a[a2 + t] * y;
        s3 += a[a3 + t] * y;
      }
      const o = c0 + j;
      c[o] = s0;
      c[o + n] = s1;
      c[o + 2 * n] = s2;
      c[o + 3 * n] = s3;
    }
  }
  for (; i < m; i++) {
    const a0 = i * k;
    for (let j = 0; j < n; j++) {
      const b0 = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += a[a0 + t] * b[b0 + t];
      c[i * n + j] = s;
    }
  }
}

/** Writes the transpose of `src` (rows×cols, row-major) into `dst` (cols×rows, row-major). */
export function transpose(src: Float64Array, dst: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[s + c];
  }
}
