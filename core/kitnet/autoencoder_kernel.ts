/**
 * The arithmetic of KitNET's autoencoder layers (`autoencoder_layer.ts`) as a WebAssembly
 * kernel, and the block of memory the layers live in.
 *
 * Why: V8 (Node, Deno) guards every typed-array access of the layers' short loops (map, detached
 * buffer, bounds); this made KitNET the slowest stage of Kitsune under Node. WebAssembly has no
 * such checks. The kernel performs the very same IEEE-754 operations in the very same order as
 * the TypeScript loops — WebAssembly neither fuses multiply-adds nor reassociates — and its e^x
 * is `sigmoid.ts`'s step for step, so both give the same bits on every engine (a test holds
 * them to it). Two things differ from the TypeScript, neither changing a result: all sigmoids of
 * a layer run after all sums, two at a time, so that the processor overlaps their long chains;
 * and two reconstructions are summed side by side.
 *
 * A layer is described by a header of byte offsets ({@linkcode HEADER}) in a
 * {@linkcode KernelHeap}; `train(header)` and `execute(header)` work on it.
 *
 * @module
 */

import { EXP_REDUCTION, EXP_TABLE, POW2 as POW2_TABLE, POW2_OFFSET } from "../math/mod.ts";
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

/** A layer's header: i32 slots (a count, then byte offsets of its arrays), then an f64. */
export const HEADER = {
  /** Number of autoencoders k. */
  autoencoders: 0,
  /** i32[k + 1]: the visible units of autoencoder a are visibleStart[a] … visibleStart[a+1]. */
  visibleStart: 1,
  /** i32[k + 1]: likewise for hidden units. */
  hiddenStart: 2,
  /** i32[visible]: the input index each visible unit reads. */
  inputIndex: 3,
  /** f64 input vector. */
  input: 4,
  /** f64 tied weights, autoencoder after autoencoder, row-major (visible × hidden). */
  weights: 5,
  /** f64[hidden]. */
  hiddenBias: 6,
  /** f64[visible]. */
  visibleBias: 7,
  /** f64[visible] running minimum. */
  min: 8,
  /** f64[visible] running maximum. */
  max: 9,
  /** f64[k] each autoencoder's RMSE. */
  rmse: 10,
  /** f64[visible] scratch: normalised input. */
  normalised: 11,
  /** f64[visible] scratch: reconstruction. */
  reconstructed: 12,
  /** f64[visible] scratch: reconstruction error. */
  error: 13,
  /** f64[hidden] scratch: hidden activations. */
  hidden: 14,
  /** f64[hidden] scratch: hidden gradient. */
  hiddenGradient: 15,
  /** f64[64]: 2^(j/64) (the heap's, shared). */
  expTable: 16,
  /** f64[2046]: 2^m, m = −1022 … 1023 (the heap's, shared). */
  expPow2: 17,
  /** Byte offset of the f64 learning rate within the header. */
  learningRateAt: 72,
  /** Bytes of a header (a multiple of 8). */
  bytes: 80,
} as const;

// ---- The listing. ------------------------------------------------------------------------------

// Locals. 0: the header's address (the parameter); 1–18: the header's 18 i32 slots; then scratch.
const HDR = 0;
const K = 1, VS = 2, HS = 3, IDX = 4, IN = 5, W = 6, HB = 7, VB = 8, MN = 9, MX = 10;
const RMSE = 11, U = 12, Z = 13, E = 14, Y = 15, G = 16, TAB = 17, POW2 = 18;
// i32 scratch: indices, counts, byte pointers, exp's integer parts.
const A = 19, V0 = 20, V1 = 21, H0 = 22, H1 = 23, J = 24, L = 25, NV = 26, NH = 27;
const P = 28, Q = 29, PW = 30, PS = 31, PE = 32, ROW = 33, KI = 34, KI2 = 35;
// f64 scratch.
const LR = 36, X = 37, X2 = 38, SUM = 39, SUM2 = 40, UJ = 41, EJ = 42, YL = 43, D = 44;
const KF = 45, KF2 = 46, R = 47, R2 = 48, PP = 49, PP2 = 50, T = 51, T2 = 52;
// v128 scratch (the SIMD variant): two lanes of the f64 of the same name.
const VX = 53, VKF = 54, VR = 55, VP = 56, VF = 57, VG = 58, VSUM = 59;
const LOCALS = [
  ...new Array(KI2 - HDR).fill(I32),
  ...new Array(T2 - LR + 1).fill(F64),
  ...new Array(VSUM - VX + 1).fill(V128),
];

const { get, set, tee } = op;

/** Pushes the byte address of f64 element `index` (a local) of the array at local `base`. */
const at = (base: number, index: number): Code => elementAddress(base, index);
const load = (base: number, index: number): Code => [at(base, index), op.f64Load()];
const store = (base: number, index: number, value: Code): Code => [
  at(base, index),
  value,
  op.f64Store(),
];
/** Pushes i32 element `index` + `plus` (`index` a local) of the array at local `base`. */
const loadI32 = (base: number, index: number, plus = 0): Code => [
  elementAddress(base, index, 2),
  op.i32Load(4 * plus),
];
const advance = (local: number, by: number | Code): Code => [
  get(local),
  typeof by === "number" ? op.i32(by) : by,
  op.i32Add,
  set(local),
];

// sigmoid.ts's constants (the kernel's test holds the two e^x to the same bits).
// The constants of `exp` in core/math/sigmoid.ts: the kernel computes the same function.
const { INV_LN2_64, LN2_64_HI, LN2_64_LO, ROUND } = EXP_REDUCTION;

/** Pushes whether local `x` is in the table's range, −708 < x < 709. */
const inRange = (x: number): Code => [
  get(x),
  op.f64(-708),
  op.f64Gt,
  get(x),
  op.f64(709),
  op.f64Lt,
  op.i32And,
];

/** The arithmetic of one f64, or of both lanes of an f64x2: the exp's reduction needs no more. */
interface LaneOps {
  constant: (value: number) => Code;
  mul: Code;
  add: Code;
  sub: Code;
}
const SCALAR: LaneOps = { constant: op.f64, mul: op.f64Mul, add: op.f64Add, sub: op.f64Sub };
const PAIR: LaneOps = {
  constant: op.f64x2,
  mul: op.f64x2Mul,
  add: op.f64x2Add,
  sub: op.f64x2Sub,
};

/**
 * sigmoid.ts's `exp` up to the table lookup, in the locals `kf`, `r` and `p` from local `x`
 * (scalars or, with PAIR, f64x2 vectors: each lane then gets the scalar operations).
 */
const expReduction = (x: number, kf: number, r: number, p: number, lanes: LaneOps): Code => {
  const { constant, mul, add, sub } = lanes;
  return [
    // kf = (x·(64/ln2) + ROUND) − ROUND
    [get(x), constant(INV_LN2_64), mul, constant(ROUND), add, constant(ROUND), sub, set(kf)],
    // r = (x − kf·HI) − kf·LO
    [get(x), get(kf), constant(LN2_64_HI), mul, sub, get(kf), constant(LN2_64_LO), mul, sub],
    set(r),
    // p = r·(1 + r·(1/2 + r·(1/6 + r·(1/24 + r·(1/120)))))
    [get(r), constant(1 / 120), mul, constant(1 / 24), add, get(r), mul, constant(1 / 6), add],
    [get(r), mul, constant(0.5), add, get(r), mul, constant(1), add, get(r), mul, set(p)],
  ];
};

/** Pushes e^x for local `x` in range, exactly as sigmoid.ts's `exp`; the other locals are scratch. */
const tableExp = (x: number, kf: number, r: number, p: number, k: number, t: number): Code => [
  expReduction(x, kf, r, p, SCALAR),
  // k = kf | 0; t = TABLE[k & 63]; (t + t·p) · POW2[POW2_OFFSET + (k >> 6)]
  get(kf),
  op.i32TruncF64S,
  set(k),
  get(TAB),
  get(k),
  op.i32(63),
  op.i32And,
  op.i32(3),
  op.i32Shl,
  op.i32Add,
  op.f64Load(),
  tee(t),
  get(t),
  get(p),
  op.f64Mul,
  op.f64Add,
  get(POW2),
  get(k),
  op.i32(6),
  op.i32ShrS,
  op.i32(POW2_OFFSET),
  op.i32Add,
  op.i32(3),
  op.i32Shl,
  op.i32Add,
  op.f64Load(),
  op.f64Mul,
];

/** Pushes e^x for local `x`: the table's way in range, else `Math.exp` (imported function 0). */
const exp = (x: number): Code => [
  inRange(x),
  op.ifF64(tableExp(x, KF, R, PP, KI, T), [get(x), op.call(0)]),
];

/** Pushes the address of f64 element (local `index` & 63) of the 2^(j/64) table. */
const tableAt = (index: number): Code => [
  get(TAB),
  get(index),
  op.i32(63),
  op.i32And,
  op.i32(3),
  op.i32Shl,
  op.i32Add,
];
/** Pushes the address of 2^(local `index` >> 6) in the powers-of-two table. */
const pow2At = (index: number): Code => [
  get(POW2),
  get(index),
  op.i32(6),
  op.i32ShrS,
  op.i32(POW2_OFFSET),
  op.i32Add,
  op.i32(3),
  op.i32Shl,
  op.i32Add,
];
/** Pushes (f64 at the address `second` pushes, f64 at the address `first` pushes) as lanes 1, 0. */
const lanesAt = (first: Code, second: Code): Code => [
  second,
  first,
  op.v128Load64Splat(),
  op.v128Load64Lane(1),
];

/**
 * Pushes e^x of both lanes of the v128 local VX (both in range): each lane exactly tableExp's
 * operations, two at a time.
 */
const pairTableExp: Code = [
  expReduction(VX, VKF, VR, VP, PAIR),
  // the integer parts (exact: |kf| < 2^17), then the table's and the powers' lanes
  get(VKF),
  op.i32x4TruncSatF64x2SZero,
  set(VF),
  get(VF),
  op.i32x4ExtractLane(0),
  set(KI),
  get(VF),
  op.i32x4ExtractLane(1),
  set(KI2),
  lanesAt(tableAt(KI), tableAt(KI2)),
  set(VF),
  get(VF),
  get(VF),
  get(VP),
  op.f64x2Mul,
  op.f64x2Add,
  lanesAt(pow2At(KI), pow2At(KI2)),
  op.f64x2Mul,
];

/** Pushes 1 / (1 + e) for the e^−t pushed by `e`. */
const logistic = (e: Code): Code => [op.f64(1), op.f64(1), e, op.f64Add, op.f64Div];

/**
 * Every f64 from byte address local `from` to local `to` becomes its sigmoid: two at a time in
 * one straight stretch of code when both are in the table's range (with `simd`, in the two
 * lanes of one vector).
 */
const sigmoidAll = (from: number, to: number, simd: boolean): Code => [
  get(from),
  set(P),
  whileLoop([get(P), op.i32(8), op.i32Add, get(to), op.i32LtS], [
    simd ? sigmoidPairSimd : sigmoidPair,
    advance(P, 16),
  ]),
  get(P),
  get(to),
  op.i32LtS,
  op.if([get(P), get(P), op.f64Load(), op.f64Neg, set(X), logistic(exp(X)), op.f64Store()]),
];

/** [P] and [P + 8], negated in X and X2, become their sigmoids one by one (any argument). */
const sigmoidEach: Code = [
  get(P),
  logistic(exp(X)),
  op.f64Store(),
  get(P),
  logistic(exp(X2)),
  op.f64Store(8),
];

/** [P], [P + 8] become their sigmoids, in the lanes of one vector when both are in range. */
const sigmoidPairSimd: Code = [
  get(P),
  op.v128LoadAt(),
  op.f64x2Neg,
  set(VX),
  get(VX),
  op.f64x2(-708),
  op.f64x2Gt,
  get(VX),
  op.f64x2(709),
  op.f64x2Lt,
  op.v128And,
  op.i64x2AllTrue,
  op.ifElse([
    get(P),
    op.f64x2(1),
    op.f64x2(1),
    pairTableExp,
    op.f64x2Add,
    op.f64x2Div,
    op.v128Store(),
  ], [
    get(VX),
    op.f64x2ExtractLane(0),
    set(X),
    get(VX),
    op.f64x2ExtractLane(1),
    set(X2),
    sigmoidEach,
  ]),
];

/** [P], [P + 8] become their sigmoids, side by side when both are in range. */
const sigmoidPair: Code = [
  get(P),
  op.f64Load(),
  op.f64Neg,
  set(X),
  get(P),
  op.f64Load(8),
  op.f64Neg,
  set(X2),
  inRange(X),
  inRange(X2),
  op.i32And,
  op.ifElse([
    get(P),
    logistic(tableExp(X, KF, R, PP, KI, T)),
    op.f64Store(),
    get(P),
    logistic(tableExp(X2, KF2, R2, PP2, KI2, T2)),
    op.f64Store(8),
  ], sigmoidEach),
];

const prologue: Code = [
  Array.from({ length: POW2 }, (_, s) => [get(HDR), op.i32Load(4 * s), set(K + s)]),
  get(HDR),
  op.f64Load(HEADER.learningRateAt),
  set(LR),
  loadI32(VS, K),
  set(NV),
  loadI32(HS, K),
  set(NH),
];

/** V0, V1, H0, H1 of autoencoder A; PS … PE its hidden units' byte addresses. */
const bounds: Code = [
  loadI32(VS, A),
  set(V0),
  loadI32(VS, A, 1),
  set(V1),
  loadI32(HS, A),
  set(H0),
  loadI32(HS, A, 1),
  set(H1),
  at(Y, H0),
  set(PS),
  at(Y, H1),
  set(PE),
];

/** Pushes input[inputIndex[J]]. */
const gathered: Code = [get(IN), loadI32(IDX, J), op.i32(3), op.i32Shl, op.i32Add, op.f64Load()];

/** u[J] = (x − min[J]) / (max[J] − min[J] + 1e-16), x pushed by `x`. */
const normalise = (x: Code): Code =>
  store(U, J, [
    x,
    load(MN, J),
    op.f64Sub,
    load(MX, J),
    load(MN, J),
    op.f64Sub,
    op.f64(1e-16),
    op.f64Add,
    op.f64Div,
  ]);

/** train's normalisation: the bounds take in x first. */
const normaliseLearning: Code = forRange(J, op.i32(0), get(NV), [
  gathered,
  set(X),
  get(X),
  load(MX, J),
  op.f64Gt,
  op.if(store(MX, J, get(X))),
  get(X),
  load(MN, J),
  op.f64Lt,
  op.if(store(MN, J, get(X))),
  normalise(get(X)),
]);

const normaliseExecuting: Code = forRange(J, op.i32(0), get(NV), normalise(gathered));

/** `[P + offset] += factor · [PW + offset]`. */
const accumulate = (factor: number, offset: number): Code => [
  get(P),
  get(P),
  op.f64Load(offset),
  get(factor),
  get(PW),
  op.f64Load(offset),
  op.f64Mul,
  op.f64Add,
  op.f64Store(offset),
];

/**
 * For each row j of the autoencoder's weights (PW on its first), `[P] += row[j] · [PW]` over
 * the hidden units P = PS … PE; two units at a time, then the odd one. Leaves PW past the rows.
 */
const rowsIntoHidden = (rowFactor: (j: number) => Code, simd: boolean): Code =>
  forRange(J, get(V0), get(V1), [
    rowFactor(J),
    set(UJ),
    simd ? [get(UJ), op.f64x2Splat, set(VF)] : [],
    get(PS),
    set(P),
    whileLoop([get(P), op.i32(8), op.i32Add, get(PE), op.i32LtS], [
      simd
        ? [
          get(P),
          get(P),
          op.v128LoadAt(),
          get(VF),
          get(PW),
          op.v128LoadAt(),
          op.f64x2Mul,
          op.f64x2Add,
          op.v128Store(),
        ]
        : [accumulate(UJ, 0), accumulate(UJ, 8)],
      advance(P, 16),
      advance(PW, 16),
    ]),
    get(P),
    get(PE),
    op.i32LtS,
    op.if([accumulate(UJ, 0), advance(PW, 8)]),
  ]);

/**
 * Pushes SUM = Σ_l y[l]·W[j][l] over the hidden units P = PS … PE, summed from 0 in l order, the
 * row W[j] starting at PW; with `second`, also SUM2 for row j + 1 (ROW bytes further) alongside.
 */
const rowSums = (second: boolean): Code => [
  op.f64(0),
  set(SUM),
  second ? [op.f64(0), set(SUM2)] : [],
  get(PW),
  set(Q),
  forRange(P, get(PS), get(PE), [
    get(P),
    op.f64Load(),
    set(YL),
    get(SUM),
    get(YL),
    get(Q),
    op.f64Load(),
    op.f64Mul,
    op.f64Add,
    set(SUM),
    second
      ? [
        get(SUM2),
        get(YL),
        get(Q),
        get(ROW),
        op.i32Add,
        op.f64Load(),
        op.f64Mul,
        op.f64Add,
        set(SUM2),
      ]
      : [],
    advance(Q, 8),
  ], 8),
  get(SUM),
];

/**
 * Pushes the vector (Σ_l y[l]·W[j][l], Σ_l y[l]·W[j + 1][l]) over the hidden units P = PS … PE,
 * each lane summed from 0 in l order as rowSums does, row j starting at PW, row j + 1 ROW bytes
 * further.
 */
const rowSumsSimd: Code = [
  op.v128Zero,
  set(VSUM),
  get(PW),
  set(Q),
  forRange(P, get(PS), get(PE), [
    get(VSUM),
    get(P),
    op.v128Load64Splat(),
    lanesAt(get(Q), [get(Q), get(ROW), op.i32Add]),
    op.f64x2Mul,
    op.f64x2Add,
    set(VSUM),
    advance(Q, 8),
  ], 8),
  get(VSUM),
];

// y = sigmoid(u W + hb); z = sigmoid(y Wᵀ + vb), as #reconstruct.
const reconstruct = (simd: boolean): Code => [
  forRange(L, op.i32(0), get(NH), store(Y, L, op.f64(0))),
  get(W),
  set(PW),
  forRange(A, op.i32(0), get(K), [
    bounds,
    rowsIntoHidden((j) => load(U, j), simd),
    forRange(L, get(H0), get(H1), store(Y, L, [load(Y, L), load(HB, L), op.f64Add])),
  ]),
  get(Y),
  set(PS),
  at(Y, NH),
  set(PE),
  sigmoidAll(PS, PE, simd),
  get(W),
  set(PW),
  forRange(A, op.i32(0), get(K), [
    bounds,
    get(PE),
    get(PS),
    op.i32Sub,
    set(ROW), // bytes of a weight row
    // z[j], z[j + 1] side by side, then the odd one
    get(V0),
    set(J),
    whileLoop([get(J), op.i32(1), op.i32Add, get(V1), op.i32LtS], [
      simd ? [at(Z, J), rowSumsSimd, at(VB, J), op.v128LoadAt(), op.f64x2Add, op.v128Store()] : [
        at(Z, J),
        rowSums(true),
        load(VB, J),
        op.f64Add,
        op.f64Store(),
        at(Z, J),
        get(SUM2),
        at(VB, J),
        op.f64Load(8),
        op.f64Add,
        op.f64Store(8),
      ],
      advance(PW, [get(ROW), get(ROW), op.i32Add]),
      advance(J, 2),
    ]),
    get(J),
    get(V1),
    op.i32LtS,
    op.if([
      at(Z, J),
      rowSums(false),
      load(VB, J),
      op.f64Add,
      op.f64Store(),
      advance(PW, get(ROW)),
    ]),
  ]),
  get(Z),
  set(PS),
  at(Z, NV),
  set(PE),
  sigmoidAll(PS, PE, simd),
];

// e = u − z and each autoencoder's sqrt(mean(e²)), as #measureError.
const measureError: Code = forRange(A, op.i32(0), get(K), [
  loadI32(VS, A),
  set(V0),
  loadI32(VS, A, 1),
  set(V1),
  op.f64(0),
  set(SUM),
  forRange(J, get(V0), get(V1), [
    load(U, J),
    load(Z, J),
    op.f64Sub,
    set(D),
    store(E, J, get(D)),
    get(SUM),
    get(D),
    get(D),
    op.f64Mul,
    op.f64Add,
    set(SUM),
  ]),
  store(RMSE, A, [
    get(SUM),
    get(V1),
    get(V0),
    op.i32Sub,
    op.f64ConvertI32S,
    op.f64Div,
    op.f64Sqrt,
  ]),
]);

// g = (e W) ⊙ y ⊙ (1 − y); W += lr (u gᵀ + e yᵀ); hb += lr g; vb += lr e, as #update.
const update = (simd: boolean): Code => [
  simd ? [get(LR), op.f64x2Splat, set(VR)] : [],
  forRange(L, op.i32(0), get(NH), store(G, L, op.f64(0))),
  get(W),
  set(PW),
  forRange(A, op.i32(0), get(K), [
    bounds,
    // g: the rows into the gradient (PS … PE moved from y to g)
    get(PW),
    set(Q),
    at(G, H0),
    set(PS),
    at(G, H1),
    set(PE),
    rowsIntoHidden((j) => load(E, j), simd),
    forRange(L, get(H0), get(H1), [
      load(Y, L),
      set(YL),
      store(G, L, [load(G, L), get(YL), op.f64Mul, op.f64(1), get(YL), op.f64Sub, op.f64Mul]),
    ]),
    // W: back over the same rows
    get(Q),
    set(PW),
    forRange(J, get(V0), get(V1), [
      load(U, J),
      set(UJ),
      load(E, J),
      set(EJ),
      get(H0),
      set(L),
      simd
        ? [
          get(UJ),
          op.f64x2Splat,
          set(VF),
          get(EJ),
          op.f64x2Splat,
          set(VG),
          whileLoop([get(L), op.i32(1), op.i32Add, get(H1), op.i32LtS], [
            get(PW),
            get(PW),
            op.v128LoadAt(),
            get(VR),
            get(VF),
            at(G, L),
            op.v128LoadAt(),
            op.f64x2Mul,
            get(VG),
            at(Y, L),
            op.v128LoadAt(),
            op.f64x2Mul,
            op.f64x2Add,
            op.f64x2Mul,
            op.f64x2Add,
            op.v128Store(),
            advance(PW, 16),
            advance(L, 2),
          ]),
        ]
        : [],
      whileLoop([get(L), get(H1), op.i32LtS], [
        get(PW),
        get(PW),
        op.f64Load(),
        get(LR),
        get(UJ),
        load(G, L),
        op.f64Mul,
        get(EJ),
        load(Y, L),
        op.f64Mul,
        op.f64Add,
        op.f64Mul,
        op.f64Add,
        op.f64Store(),
        advance(PW, 8),
        advance(L, 1),
      ]),
    ]),
    forRange(
      L,
      get(H0),
      get(H1),
      store(HB, L, [load(HB, L), get(LR), load(G, L), op.f64Mul, op.f64Add]),
    ),
    forRange(
      J,
      get(V0),
      get(V1),
      store(VB, J, [load(VB, J), get(LR), load(E, J), op.f64Mul, op.f64Add]),
    ),
  ]),
];

/**
 * The kernel module's bytes: `train(header)` and `execute(header)`; with `simd`, the variant
 * that does two of the same operations at a time in the lanes of WebAssembly SIMD vectors.
 */
export function autoencoderKernelBytes(simd = false): Uint8Array<ArrayBuffer> {
  return moduleBytes([
    {
      name: "train",
      params: 1,
      locals: LOCALS,
      body: [prologue, normaliseLearning, reconstruct(simd), measureError, update(simd)],
    },
    {
      name: "execute",
      params: 1,
      locals: LOCALS,
      body: [prologue, normaliseExecuting, reconstruct(simd), measureError],
    },
  ]);
}

// ---- The heap. ---------------------------------------------------------------------------------

/** The kernel's entry points over one heap. */
export interface AutoencoderKernel {
  /** `AutoencoderLayer.train` of the layer whose header is at byte `header`. */
  train(header: number): void;
  /** `AutoencoderLayer.execute` of the layer whose header is at byte `header`. */
  execute(header: number): void;
}

/**
 * Which arithmetic runs a layer: `"ts"` the TypeScript loops of `autoencoder_layer.ts`, `"wasm"`
 * this kernel, `"simd"` its SIMD variant. All three give the same bits.
 */
export type AutoencoderKernelKind = "ts" | "wasm" | "simd";

const compiled = new Map<"wasm" | "simd", WebAssembly.Module | null>();

/** The compiled kernel of this kind, once; `null` where the runtime cannot run it. */
function kernelModule(kind: "wasm" | "simd"): WebAssembly.Module | null {
  let module = compiled.get(kind);
  if (module === undefined) {
    try {
      const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
      module = wasm === undefined ? null : new wasm.Module(autoencoderKernelBytes(kind === "simd"));
    } catch {
      module = null;
    }
    compiled.set(kind, module);
  }
  return module;
}

/** Whether the kernel of this kind (default the scalar WebAssembly one) can run here. */
export function autoencoderKernelAvailable(kind: "wasm" | "simd" = "wasm"): boolean {
  return kernelModule(kind) !== null;
}

/**
 * The fastest kernel this runtime has: SIMD where WebAssembly SIMD runs, else the scalar
 * WebAssembly kernel, else the TypeScript loops.
 */
export function fastestKernel(): AutoencoderKernelKind {
  return runnableKernel("simd");
}

/** `kind` if it can run here, else the next one down (SIMD, then WebAssembly, then the loops). */
export function runnableKernel(kind: AutoencoderKernelKind): AutoencoderKernelKind {
  if (kind === "simd" && !autoencoderKernelAvailable("simd")) kind = "wasm";
  if (kind === "wasm" && !autoencoderKernelAvailable("wasm")) kind = "ts";
  return kind;
}

/**
 * A fixed block of memory for one or more autoencoder layers, with the exp tables at its start:
 * a WebAssembly memory with the kernel instantiated over it, or (without WebAssembly, or when
 * asked) a plain buffer that the TypeScript loops use. It never grows, so its views stay valid.
 */
export class KernelHeap {
  /** The memory. */
  readonly buffer: ArrayBuffer;
  /** The kernel over it, or `undefined` when the TypeScript loops are to run. */
  readonly kernel: AutoencoderKernel | undefined;
  /** Which arithmetic runs here (the one asked for, or `"ts"` where that cannot run). */
  readonly kind: AutoencoderKernelKind;
  /** Byte offset of the 2^(j/64) table (-1 for the TypeScript loops, which need none here). */
  readonly expTable: number;
  /** Byte offset of the 2^m table (-1 for the TypeScript loops). */
  readonly expPow2: number;
  #next = 0;

  /**
   * Room for `bytes` (allocated as the layers count them) besides the tables, for the kernel
   * `kind` (`true` means `"wasm"`, `false` `"ts"`); the TypeScript loops where it cannot run.
   */
  constructor(bytes: number, kind: AutoencoderKernelKind | boolean) {
    const tables = 8 * (EXP_TABLE.length + POW2_TABLE.length);
    const asked = runnableKernel(kind === true ? "wasm" : kind === false ? "ts" : kind);
    const module = asked === "ts" ? null : kernelModule(asked);
    if (module === null) {
      // The loops read the shared tables of core/math: a copy here would be 16 KB per model,
      // most of a small device's memory.
      this.buffer = new ArrayBuffer(align8(bytes) + 8);
      this.kernel = undefined;
      this.kind = "ts";
      this.expTable = -1;
      this.expPow2 = -1;
      return;
    }
    const total = tables + align8(bytes) + 8;
    this.kind = asked;
    const pages = Math.max(1, Math.ceil(total / 65536));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.buffer = memory.buffer as ArrayBuffer; // not shared: no `shared` flag
    const imports = { env: { memory, exp: Math.exp } };
    this.kernel = new WebAssembly.Instance(module, imports)
      .exports as unknown as AutoencoderKernel;
    const table = this.f64(EXP_TABLE.length);
    table.set(EXP_TABLE);
    this.expTable = table.byteOffset;
    const pow2 = this.f64(POW2_TABLE.length);
    pow2.set(POW2_TABLE);
    this.expPow2 = pow2.byteOffset;
  }

  /** `n` fresh i32s. */
  i32(n: number): Int32Array {
    const view = new Int32Array(this.buffer, this.#next, n);
    this.#next += 4 * n;
    return view;
  }

  /** `n` fresh f64s. */
  f64(n: number): Float64Array {
    this.#next = align8(this.#next);
    const view = new Float64Array(this.buffer, this.#next, n);
    this.#next += 8 * n;
    return view;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
