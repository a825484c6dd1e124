// The codec subsystem's public names: the only way into core/codec/ from outside it.
export * from "./byte_codec.ts";
export * from "./crc32.ts";
export * from "./sealed_state.ts";
