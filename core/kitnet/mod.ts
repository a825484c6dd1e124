// The kitnet subsystem's public names: the only way into core/kitnet/ from outside it.
export * from "./autoencoder_kernel.ts";
export * from "./autoencoder_layer.ts";
export * from "./correlation_kernel.ts";
export * from "./correlation_mapper.ts";
export * from "./kitnet.ts";
export * from "./single_linkage.ts";
export * from "./kitnet_defaults.ts";
export * from "./kitnet_detector.ts";
export * from "./kitnet_state.ts";
