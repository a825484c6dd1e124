// The thresholds subsystem's public names: the only way into core/thresholds/ from outside it.
export * from "./anomaly_thresholds.ts";
export * from "./lognormal_threshold.ts";
export * from "./score_threshold.ts";
export * from "./calibration.ts";
