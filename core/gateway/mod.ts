// The gateway subsystem's public names: the only way into core/gateway/ from outside it.
export * from "./config_reader.ts";
export * from "./damped_features.ts";
export * from "./device_detector.ts";
export * from "./device_topic.ts";
export * from "./drop_oldest_queue.ts";
export * from "./gateway_engine.ts";
export * from "./latency_buckets.ts";
export * from "./lru_table.ts";
export * from "./payload_decoder.ts";
export * from "./pipeline_config.ts";
export * from "./reject_tally.ts";
export * from "./score_history.ts";
export * from "./verdict_record.ts";
export * from "./device_query.ts";
export * from "./score_digest.ts";
