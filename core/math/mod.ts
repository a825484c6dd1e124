// The math subsystem's public names: the only way into core/math/ from outside it.
//
// Exponentials, each with one job, all on one table of powers of two (powers_of_two.ts), all
// plain IEEE arithmetic (the same bits on every engine):
// - sigmoid.ts: `exp` and `sigmoid`, KitNET's (fast, degree 5, within an ulp); the KitNET
//   kernel's WebAssembly computes the same function from the same constants.
// - portable_math.ts: exp, expm1, tanh and sigmoid for the deep autoencoder's training (degree
//   6 and expm1's series, a few ulps over the whole range, overflow and underflow included).
//   Its exp is not KitNET's: they differ in the last bit for about a quarter of arguments, and
//   either swap would change the scores of saved KitNET models or the bits of trained ones.
// - exp2.ts: 2^x for the damped statistics' decay factors (a 256-entry table, within an ulp).
export * from "./exp2.ts";
export * from "./matrix_kernels.ts";
export * from "./mersenne_twister.ts";
export * from "./normal_distribution.ts";
export * from "./portable_math.ts";
export * from "./powers_of_two.ts";
export * from "./sigmoid.ts";
export * from "./simd_matmul.ts";
export * from "./validate.ts";
export * from "./wasm_assembly.ts";
