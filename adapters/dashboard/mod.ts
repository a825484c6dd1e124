// The dashboard subsystem's public names: the only way into adapters/dashboard/ from outside it.
export * from "./app.ts";
export * from "./bearer_token.ts";
export * from "./device_event_rate.ts";
export * from "./event_stream.ts";
export * from "./gateway_metrics.ts";
export * from "./page.ts";
export * from "./prometheus_text.ts";
export * from "./safe_json.ts";
export * from "./serve.ts";
