// The math subsystem's public names: the only way into core/math/ from outside it.
export * from "./exp2.ts";
export * from "./matrix_kernels.ts";
export * from "./mersenne_twister.ts";
export * from "./normal_distribution.ts";
export * from "./portable_math.ts";
export * from "./sigmoid.ts";
export * from "./simd_matmul.ts";
export * from "./validate.ts";
export * from "./wasm_assembly.ts";
