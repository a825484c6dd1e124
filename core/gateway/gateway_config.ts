/**
 * Transitional: device_detector.ts still imports its config types from here. The pipeline's
 * configuration lives in pipeline_config.ts, the whole file's in adapters/gateway/; delete this
 * once device_detector.ts imports ./pipeline_config.ts (not listed in mod.ts meanwhile).
 *
 * @module
 */

export type { ModelConfig, ThresholdConfig } from "./pipeline_config.ts";
