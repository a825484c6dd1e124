/**
 * 2^m for every normal exponent, one table for every exponential here (`exp`, `exp2`, the
 * portable set, and the KitNET kernel's WebAssembly copy): built by exact doubling and halving,
 * so its entries are the same on every engine.
 *
 * @module
 */

/** Index of 2^0 in {@linkcode POW2}: `POW2[POW2_OFFSET + m]` is 2^m for m = −1022 … 1023. */
export const POW2_OFFSET = 1022;

/** 2^m for m = −1022 … 1023, at index m + {@linkcode POW2_OFFSET}. */
export const POW2: Float64Array = /* @__PURE__ */ (() => {
  const table = new Float64Array(POW2_OFFSET + 1024);
  table[POW2_OFFSET] = 1;
  for (let m = 1; m <= 1023; m++) table[POW2_OFFSET + m] = table[POW2_OFFSET + m - 1] * 2;
  for (let m = 1; m <= 1022; m++) table[POW2_OFFSET - m] = table[POW2_OFFSET - m + 1] / 2;
  return table;
})();
