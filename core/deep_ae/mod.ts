// The deep_ae subsystem's public names: the only way into core/deep_ae/ from outside it.
export * from "./activations.ts";
export * from "./adam.ts";
export * from "./column_scaler.ts";
export * from "./deep_ae_scorer.ts";
export * from "./deep_autoencoder.ts";
export * from "./dense_network.ts";
export * from "./dense_trainer.ts";
export * from "./tabular_encoder.ts";
export * from "./deep_ae_detector.ts";
export * from "./model_file.ts";
