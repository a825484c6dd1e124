/**
 * Just enough of a WebAssembly assembler to write small numeric kernels in TypeScript: the
 * instructions as byte sequences, a counted loop, and the module container. Kernels are
 * assembled at load time from listings that read like the code they stand for (no binary blob
 * to trust).
 *
 * A listing ({@linkcode Code}) is a nested array of bytes; nesting is only for readability.
 *
 * @module
 */

/** A listing: instruction bytes, nested as convenient. */
export type Code = (number | Code)[];

/** Value type i32. */
export const I32 = 0x7f;
/** Value type f64. */
export const F64 = 0x7c;
/** Value type v128 (SIMD). */
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** The bytes of a listing, flattened. */
export function flatten(code: Code): number[] {
  const out: number[] = [];
  const walk = (c: Code) => {
    for (const x of c) typeof x === "number" ? out.push(x) : walk(x);
  };
  walk(code);
  return out;
}

const f64Bytes = new DataView(new ArrayBuffer(8));

/** Instructions, named after their WebAssembly text format. */
export const op = {
  get: (local: number): Code => [0x20, ...uleb(local)],
  set: (local: number): Code => [0x21, ...uleb(local)],
  tee: (local: number): Code => [0x22, ...uleb(local)],
  i32: (value: number): Code => [0x41, ...sleb(value)],
  /** f64.const of exactly this double. */
  f64: (value: number): Code => {
    f64Bytes.setFloat64(0, value, true);
    return [0x44, ...Array.from({ length: 8 }, (_, i) => f64Bytes.getUint8(i))];
  },
  i32Eqz: [0x45] as Code,
  i32LtS: [0x48] as Code,
  i32GeS: [0x4e] as Code,
  i32Add: [0x6a] as Code,
  i32Sub: [0x6b] as Code,
  i32Mul: [0x6c] as Code,
  i32GeU: [0x4f] as Code,
  i32And: [0x71] as Code,
  i32Shl: [0x74] as Code,
  i32ShrS: [0x75] as Code,
  f64Lt: [0x63] as Code,
  f64Gt: [0x64] as Code,
  f64Neg: [0x9a] as Code,
  f64Sqrt: [0x9f] as Code,
  f64Add: [0xa0] as Code,
  f64Sub: [0xa1] as Code,
  f64Mul: [0xa2] as Code,
  f64Div: [0xa3] as Code,
  i32TruncF64S: [0xaa] as Code,
  f64ConvertI32S: [0xb7] as Code,
  /** i32.load from the address on the stack plus `offset`. */
  i32Load: (offset = 0): Code => [0x28, 0x02, ...uleb(offset)],
  /** f64.load from the address on the stack plus `offset`. */
  f64Load: (offset = 0): Code => [0x2b, 0x03, ...uleb(offset)],
  /** f64.store of the value on the stack to the address under it plus `offset`. */
  f64Store: (offset = 0): Code => [0x39, 0x03, ...uleb(offset)],
  call: (func: number): Code => [0x10, ...uleb(func)],
  /** `block` and `loop` (no result), closed by `end`; `br` / `br_if` to the `depth`-th out. */
  block: [0x02, 0x40] as Code,
  loop: [0x03, 0x40] as Code,
  end: [0x0b] as Code,
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  /** v128.load (align 2^3) from the address on the stack. */
  v128Load: [0xfd, 0x00, 0x03, 0x00] as Code,
  /** v128.const of zeros. */
  v128Zero: [0xfd, 0x0c, ...new Array(16).fill(0)] as Code,
  f64x2Add: [0xfd, ...uleb(240)] as Code,
  f64x2Mul: [0xfd, ...uleb(242)] as Code,
  f64x2ExtractLane: (lane: number): Code => [0xfd, ...uleb(33), lane],
  /** v128.store (align 2^3) of the vector on the stack to the address under it plus `offset`. */
  v128Store: (offset = 0): Code => [0xfd, ...uleb(11), 0x03, ...uleb(offset)],
  /** v128.load (align 2^3) from the address on the stack plus `offset`. */
  v128LoadAt: (offset = 0): Code => [0xfd, 0x00, 0x03, ...uleb(offset)],
  /** v128.load64_splat: both lanes the f64 at the address on the stack plus `offset`. */
  v128Load64Splat: (offset = 0): Code => [0xfd, ...uleb(10), 0x03, ...uleb(offset)],
  /** v128.load64_lane: lane `lane` of the vector on the stack from the address under it. */
  v128Load64Lane: (lane: number, offset = 0): Code => [
    0xfd,
    ...uleb(87),
    0x03,
    ...uleb(offset),
    lane,
  ],
  /** v128.const of two copies of exactly this double. */
  f64x2: (value: number): Code => {
    f64Bytes.setFloat64(0, value, true);
    const lane = Array.from({ length: 8 }, (_, i) => f64Bytes.getUint8(i));
    return [0xfd, 0x0c, ...lane, ...lane];
  },
  f64x2Splat: [0xfd, ...uleb(20)] as Code,
  f64x2ReplaceLane: (lane: number): Code => [0xfd, ...uleb(34), lane],
  f64x2Lt: [0xfd, ...uleb(73)] as Code,
  f64x2Gt: [0xfd, ...uleb(74)] as Code,
  v128And: [0xfd, ...uleb(78)] as Code,
  i64x2AllTrue: [0xfd, ...uleb(195)] as Code,
  f64x2Neg: [0xfd, ...uleb(237)] as Code,
  f64x2Sub: [0xfd, ...uleb(241)] as Code,
  f64x2Div: [0xfd, ...uleb(243)] as Code,
  i32x4TruncSatF64x2SZero: [0xfd, ...uleb(252)] as Code,
  i32x4ExtractLane: (lane: number): Code => [0xfd, ...uleb(27), lane],
  /** `if … end` on the i32 on the stack. */
  if: (then: Code): Code => [0x04, 0x40, then, 0x0b],
  /** `if … else … end` on the i32 on the stack. */
  ifElse: (then: Code, otherwise: Code): Code => [0x04, 0x40, then, 0x05, otherwise, 0x0b],
  /** `if (result f64) … else … end` on the i32 on the stack. */
  ifF64: (then: Code, otherwise: Code): Code => [0x04, F64, then, 0x05, otherwise, 0x0b],
};

/**
 * `for (i = from; i < to; i += step) body` over the i32 local `i`, the comparison signed; `to`
 * is evaluated before every iteration. The body may not branch out.
 */
export function forRange(i: number, from: Code, to: Code, body: Code, step = 1): Code {
  return [
    from,
    op.set(i),
    whileLoop([op.get(i), to, op.i32LtS], [body, op.get(i), op.i32(step), op.i32Add, op.set(i)]),
  ];
}

/**
 * Pushes the byte address of element `index` of the array at byte offset `base` (both i32
 * locals), elements of `1 << shift` bytes: 3 for f64, 2 for i32.
 */
export function elementAddress(base: number, index: number, shift = 3): Code {
  return [op.get(base), op.get(index), op.i32(shift), op.i32Shl, op.i32Add];
}

/** `while (condition) body`; `condition` pushes an i32. The body may not branch out. */
export function whileLoop(condition: Code, body: Code): Code {
  return [
    [0x02, 0x40], // block
    [0x03, 0x40], // loop
    condition,
    op.i32Eqz,
    [0x0d, 0x01], // br_if 1: out of the block
    body,
    [0x0c, 0x00], // br 0: again
    0x0b, // end loop
    0x0b, // end block
  ];
}

/** An exported function: its name, its i32 parameters, its further locals and its body. */
export interface WasmFunction {
  /** Exported under this name. */
  name: string;
  /** Number of i32 parameters (locals 0 … params − 1). */
  params: number;
  /** Types of the further locals, in order. */
  locals: number[];
  /** The body, without the final `end`. */
  body: Code;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

/** What a module imports and exports besides its functions. */
export interface ModuleShape {
  /** Import one function `env.exp` (f64 → f64, function 0). Default true. */
  importExp?: boolean;
  /**
   * `"import"`: the memory is `env.memory` (at least one page), the caller's; `"export"`: the
   * module's own (one page to start), exported as `memory`. Default `"import"`.
   */
  memory?: "import" | "export";
}

/**
 * A module exporting `functions` (numbered after the imported functions), none of which
 * returns a value; by default importing its memory as `env.memory` and one function `env.exp`.
 */
export function moduleBytes(
  functions: WasmFunction[],
  shape: ModuleShape = {},
): Uint8Array<ArrayBuffer> {
  const importExp = shape.importExp ?? true;
  const ownMemory = shape.memory === "export";
  const types: number[][] = importExp ? [[0x60, 1, F64, 1, F64]] : [];
  const typeOf = functions.map((f) => {
    const signature = [0x60, ...uleb(f.params), ...new Array(f.params).fill(I32), 0];
    let index = types.findIndex((t) => t.join() === signature.join());
    if (index < 0) index = types.push(signature) - 1;
    return index;
  });
  const imported: number[][] = [];
  if (importExp) imported.push([...name("env"), ...name("exp"), 0x00, 0]); // function of type 0
  // A memory without maximum, of at least one page.
  if (!ownMemory) imported.push([...name("env"), ...name("memory"), 0x02, 0x00, 1]);
  const first = importExp ? 1 : 0;
  const exported = functions.map((f, i) => [...name(f.name), 0x00, ...uleb(first + i)]);
  if (ownMemory) exported.push([...name("memory"), 0x02, 0]);
  const bodies = functions.map((f) => {
    const runs: number[] = [];
    let count = 0;
    for (let i = 0; i < f.locals.length;) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push(...uleb(j - i), f.locals[i]);
      count++;
      i = j;
    }
    const code = [...uleb(count), ...runs, ...flatten(f.body), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...(imported.length > 0 ? section(2, [...uleb(imported.length), ...imported.flat()]) : []),
    ...section(3, [...uleb(functions.length), ...typeOf.flatMap((t) => uleb(t))]),
    ...(ownMemory ? section(5, [1, 0x00, 1]) : []), // one memory: min 1 page, no max
    ...section(7, [...uleb(exported.length), ...exported.flat()]),
    ...section(10, [...uleb(functions.length), ...bodies.flat()]),
  ]);
}
