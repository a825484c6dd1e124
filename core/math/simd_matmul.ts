/**
 * C = A·Bᵀ with WebAssembly SIMD (f64x2), about twice as fast as the scalar kernel in
 * the scalar kernel of `matrix_kernels.ts`: two doubles per multiply and add, and no bounds checks.
 *
 * The module is assembled here, at load time, from the instruction listing below (no binary blob
 * to trust): one function `mm(a, b, c, m, n, k)` over its own memory, computing 4×2 blocks of C
 * from rows of A and B padded to an even length. The wrapper copies A and B in (zero-padding each
 * row to even k), calls it, and copies C out; the copies cost O((m + n)·k + m·n) against the
 * product's O(m·n·k).
 *
 * Lanes sum the even and odd terms of each dot product separately and are added at the end, so
 * the summation order differs from the scalar kernel's (results agree to rounding), but it is
 * fixed, and WebAssembly arithmetic is IEEE-754 without fused multiply-add, so every runtime gets
 * the same bits. Without WebAssembly SIMD, {@linkcode matmulTransposedSimd} is `undefined`.
 *
 * @module
 */

import { flatten, I32, moduleBytes, op, V128 } from "./wasm_assembly.ts";

// ---- The one function, in the shared assembler's instructions. ---------------------------------

// Parameters 0–5: a, b, c (byte offsets), m, n, k. Locals from 6 on.
const A = 0, B = 1, C = 2, M = 3, N = 4, K = 5;
const I = 6, J = 7, T = 8, K8 = 9, A0 = 10, A1 = 11, A2 = 12, A3 = 13, B0 = 14, B1 = 15, CP = 16;
const ACC = 17; // 8 v128 accumulators, 17 … 24: row r, column s at ACC + 2r + s
const X = 25, Y0 = 26, Y1 = 27;

const get = (l: number) => flatten(op.get(l));
const set = (l: number) => flatten(op.set(l));
const i32 = (v: number) => flatten(op.i32(v));
const add = flatten(op.i32Add);
const mul = flatten(op.i32Mul);
const geU = flatten(op.i32GeU);
const block = flatten(op.block);
const loop = flatten(op.loop);
const end = flatten(op.end);
const brIf = (d: number) => flatten(op.brIf(d));
const br = (d: number) => flatten(op.br(d));
const v128Load = flatten(op.v128Load);
const v128Zero = flatten(op.v128Zero);
const f64x2Add = flatten(op.f64x2Add);
const f64x2Mul = flatten(op.f64x2Mul);
const lane = (n: number) => flatten(op.f64x2ExtractLane(n));
const f64Add = flatten(op.f64Add);
const f64Store = (offset: number) => flatten(op.f64Store(offset));

/** `acc[r][s] += x_r · y_s` for the row whose vector is in X. */
function accumulate(r: number): number[] {
  return [
    ...get(ACC + 2 * r),
    ...get(X),
    ...get(Y0),
    ...f64x2Mul,
    ...f64x2Add,
    ...set(ACC + 2 * r),
    ...get(ACC + 2 * r + 1),
    ...get(X),
    ...get(Y1),
    ...f64x2Mul,
    ...f64x2Add,
    ...set(ACC + 2 * r + 1),
  ];
}

/** `c[cp + r·n + s] = lane0 + lane1` of acc[r][s]. */
function storeBlock(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 4; r++) {
    for (let s = 0; s < 2; s++) {
      // address = cp + r·n·8 (computed) ; offset s·8 in the store instruction
      out.push(...get(CP));
      if (r > 0) out.push(...get(N), ...i32(8 * r), ...mul, ...add);
      out.push(...get(ACC + 2 * r + s), ...lane(0), ...get(ACC + 2 * r + s), ...lane(1), ...f64Add);
      out.push(...f64Store(8 * s));
    }
  }
  return out;
}

function body(): number[] {
  const rowPtrs = [A0, A1, A2, A3];
  return [
    // k8 = k·8 (bytes per row); i = 0
    ...get(K),
    ...i32(8),
    ...mul,
    ...set(K8),
    ...i32(0),
    ...set(I),
    ...block,
    ...loop,
    ...get(I),
    ...get(M),
    ...geU,
    ...brIf(1),
    // a0 = a + i·k8, a1..a3 follow
    ...get(A),
    ...get(I),
    ...get(K8),
    ...mul,
    ...add,
    ...set(A0),
    ...get(A0),
    ...get(K8),
    ...add,
    ...set(A1),
    ...get(A1),
    ...get(K8),
    ...add,
    ...set(A2),
    ...get(A2),
    ...get(K8),
    ...add,
    ...set(A3),
    ...i32(0),
    ...set(J),
    ...block,
    ...loop,
    ...get(J),
    ...get(N),
    ...geU,
    ...brIf(1),
    // b0 = b + j·k8, b1 = b0 + k8; accumulators = 0; t = 0
    ...get(B),
    ...get(J),
    ...get(K8),
    ...mul,
    ...add,
    ...set(B0),
    ...get(B0),
    ...get(K8),
    ...add,
    ...set(B1),
    ...Array.from({ length: 8 }, (_, q) => [...v128Zero, ...set(ACC + q)]).flat(),
    ...i32(0),
    ...set(T),
    ...block,
    ...loop,
    ...get(T),
    ...get(K8),
    ...geU,
    ...brIf(1),
    ...get(B0),
    ...get(T),
    ...add,
    ...v128Load,
    ...set(Y0),
    ...get(B1),
    ...get(T),
    ...add,
    ...v128Load,
    ...set(Y1),
    ...rowPtrs.map((p, r) => [
      ...get(p),
      ...get(T),
      ...add,
      ...v128Load,
      ...set(X),
      ...accumulate(r),
    ]).flat(),
    ...get(T),
    ...i32(16),
    ...add,
    ...set(T),
    ...br(0),
    ...end,
    ...end,
    // cp = c + (i·n + j)·8
    ...get(C),
    ...get(I),
    ...get(N),
    ...mul,
    ...get(J),
    ...add,
    ...i32(8),
    ...mul,
    ...add,
    ...set(CP),
    ...storeBlock(),
    ...get(J),
    ...i32(2),
    ...add,
    ...set(J),
    ...br(0),
    ...end,
    ...end,
    ...get(I),
    ...i32(4),
    ...add,
    ...set(I),
    ...br(0),
    ...end,
    ...end,
  ];
}

/** The module: `mm` over its own exported memory; no imports. */
function kernelBytes(): Uint8Array<ArrayBuffer> {
  const locals = [...new Array(11).fill(I32), ...new Array(11).fill(V128)]; // 6–16, 17–27
  return moduleBytes([{ name: "mm", params: 6, locals, body: body() }], {
    importExp: false,
    memory: "export",
  });
}

// ---- The wrapper. ----------------------------------------------------------------------------------

interface Kernel {
  mm: (a: number, b: number, c: number, m: number, n: number, k: number) => void;
  memory: WebAssembly.Memory;
}

function instantiate(): Kernel | undefined {
  try {
    const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (wasm === undefined) return undefined;
    const instance = new wasm.Instance(new wasm.Module(kernelBytes()), {});
    const exports = instance.exports as unknown as Kernel;
    return { mm: exports.mm, memory: exports.memory };
  } catch {
    return undefined; // no SIMD support: callers use the scalar kernel
  }
}

const kernel = instantiate();
let heap = kernel === undefined ? new Float64Array(0) : new Float64Array(kernel.memory.buffer);

function ensureCapacity(doubles: number): void {
  if (doubles <= heap.length) return;
  const pages = Math.ceil((doubles * 8 - kernel!.memory.buffer.byteLength) / 65536);
  kernel!.memory.grow(pages);
  heap = new Float64Array(kernel!.memory.buffer);
}

/** Copies `rows` rows of `width` from `src` into the heap at `at`, each padded to `stride`. */
function copyIn(src: Float64Array, rows: number, width: number, stride: number, at: number) {
  if (width === stride) {
    heap.set(src.subarray(0, rows * width), at);
    return;
  }
  for (let r = 0; r < rows; r++) {
    heap.set(src.subarray(r * width, (r + 1) * width), at + r * stride);
    heap[at + r * stride + width] = 0;
  }
}

function simdMatmul(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  m: number,
  n: number,
  k: number,
): void {
  const kp = k + (k & 1);
  const mp = (m + 3) & ~3;
  const np = n + (n & 1);
  const aAt = 0;
  const bAt = mp * kp;
  const cAt = bAt + np * kp;
  ensureCapacity(cAt + mp * np);
  copyIn(a, m, k, kp, aAt);
  copyIn(b, n, k, kp, bAt);
  // Padding rows of A and B only feed padding entries of C, which are not copied out.
  kernel!.mm(aAt * 8, bAt * 8, cAt * 8, mp, np, kp);
  if (np === n) c.set(heap.subarray(cAt, cAt + m * n));
  else {
    for (let r = 0; r < m; r++) c.set(heap.subarray(cAt + r * np, cAt + r * np + n), r * n);
  }
}

/**
 * C = A·Bᵀ (`c[i*n + j] = Σ_t a[i*k + t] · b[j*k + t]`) with WebAssembly SIMD, or `undefined`
 * when the runtime lacks it.
 */
export const matmulTransposedSimd:
  | ((a: Float64Array, b: Float64Array, c: Float64Array, m: number, n: number, k: number) => void)
  | undefined = kernel === undefined ? undefined : simdMatmul;
