/**
 * The feature mapper's per-instance update (`correlation_mapper.ts`) as a WebAssembly SIMD
 * kernel: the running sums in plain f64, then the upper triangle of Σ r rᵀ two entries per f64x2
 * vector. Every entry still gets `c + rᵢ·rⱼ`, one IEEE operation each in the same order as the
 * TypeScript loop, so the bits are the same; what is saved is V8's bounds checks and half the
 * instructions of the mapping phase's one big loop.
 *
 * @module
 */

import {
  type Code,
  elementAddress,
  F64,
  forRange,
  I32,
  moduleBytes,
  op,
  V128,
  whileLoop,
} from "../math/mod.ts";

// Parameters: byte offsets of x, sum, residualSum, residualSquares, residual, the triangle; n.
// The instance count, an f64, is at byte 0 of the memory.
const X = 0, S = 1, RS = 2, RQ = 3, R = 4, TRI = 5, N = 6;
const I = 7, P = 8, Q = 9, END = 10; // i32 scratch
const C = 11, XI = 12, SI = 13, RI = 14; // f64 scratch
const VRI = 15; // v128

const { get, set } = op;
const at = (base: number, index: number): Code => elementAddress(base, index);
const addInto = (base: number, value: Code): Code => [
  at(base, I),
  at(base, I),
  op.f64Load(),
  value,
  op.f64Add,
  op.f64Store(),
];

const update: Code = [
  op.i32(0),
  op.f64Load(),
  set(C),
  forRange(I, op.i32(0), get(N), [
    // sum[i] += x[i]; r = x[i] − sum[i] / count; residualSum[i] += r; residualSquares[i] += r·r
    at(X, I),
    op.f64Load(),
    set(XI),
    at(S, I),
    op.f64Load(),
    get(XI),
    op.f64Add,
    set(SI),
    at(S, I),
    get(SI),
    op.f64Store(),
    get(XI),
    get(SI),
    get(C),
    op.f64Div,
    op.f64Sub,
    set(RI),
    at(R, I),
    get(RI),
    op.f64Store(),
    addInto(RS, get(RI)),
    addInto(RQ, [get(RI), get(RI), op.f64Mul]),
  ]),
  get(TRI),
  set(P),
  at(R, N),
  set(END),
  forRange(I, op.i32(0), get(N), [
    at(R, I),
    op.f64Load(),
    set(RI),
    get(RI),
    op.f64x2Splat,
    set(VRI),
    at(R, I),
    set(Q),
    whileLoop([get(Q), op.i32(8), op.i32Add, get(END), op.i32LtS], [
      get(P),
      get(P),
      op.v128LoadAt(),
      get(VRI),
      get(Q),
      op.v128LoadAt(),
      op.f64x2Mul,
      op.f64x2Add,
      op.v128Store(),
      get(P),
      op.i32(16),
      op.i32Add,
      set(P),
      get(Q),
      op.i32(16),
      op.i32Add,
      set(Q),
    ]),
    get(Q),
    get(END),
    op.i32LtS,
    op.if([
      get(P),
      get(P),
      op.f64Load(),
      get(RI),
      get(Q),
      op.f64Load(),
      op.f64Mul,
      op.f64Add,
      op.f64Store(),
      get(P),
      op.i32(8),
      op.i32Add,
      set(P),
    ]),
  ]),
];

/** The kernel module's bytes: `update(x, sum, residualSum, residualSquares, residual, tri, n)`. */
export function correlationKernelBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes([{
    name: "update",
    params: 7,
    locals: [I32, I32, I32, I32, F64, F64, F64, F64, V128],
    body: update,
  }], { importExp: false, memory: "export" });
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, once; `null` where the runtime has no WebAssembly SIMD. */
function correlationModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
      compiled = wasm === undefined ? null : new wasm.Module(correlationKernelBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The mapper's arrays in one WebAssembly memory, and the update over them. */
export interface CorrelationKernel {
  /** The instance, written before each update. */
  x: Float64Array;
  /** Running sum of the instances. */
  sum: Float64Array;
  /** Running sum of the residuals. */
  residualSum: Float64Array;
  /** Running sum of squared residuals. */
  residualSquares: Float64Array;
  /** Upper triangle of Σ r rᵀ. */
  coResiduals: Float64Array;
  /** Folds `x` (already written) in as instance number `count`. */
  update(count: number): void;
}

/** A kernel for `n` features, or `undefined` where WebAssembly SIMD cannot run. */
export function correlationKernel(n: number): CorrelationKernel | undefined {
  const module = correlationModule();
  if (module === null) return undefined;
  const instance = new WebAssembly.Instance(module, {});
  const exports = instance.exports as unknown as {
    memory: WebAssembly.Memory;
    update(...offsets: number[]): void;
  };
  const doubles = 1 + 5 * n + (n * (n + 1)) / 2;
  const have = exports.memory.buffer.byteLength;
  if (8 * doubles > have) exports.memory.grow(Math.ceil((8 * doubles - have) / 65536));
  const buffer = exports.memory.buffer; // final: it never grows again
  let next = 8; // byte 0: the count
  const take = (length: number) => {
    const view = new Float64Array(buffer, next, length);
    next += 8 * length;
    return view;
  };
  const x = take(n), sum = take(n), residualSum = take(n), residualSquares = take(n);
  const residual = take(n), coResiduals = take((n * (n + 1)) / 2);
  const count = new Float64Array(buffer, 0, 1);
  const offsets = [x, sum, residualSum, residualSquares, residual, coResiduals].map((a) =>
    a.byteOffset
  );
  const [ox, os, ors, orq, or, ot] = offsets;
  return {
    x,
    sum,
    residualSum,
    residualSquares,
    coResiduals,
    update(c: number): void {
      count[0] = c;
      exports.update(ox, os, ors, orq, or, ot, n);
    },
  };
}
