// The pipeline subsystem's public names: the only way into adapters/pipeline/ from outside it.
export * from "./scoring_pipeline.ts";
export * from "./protocol.ts";
export * from "./score_batch.ts";
