// The gateway subsystem's public names: the only way into adapters/gateway/ from outside it.
export * from "./gateway_config.ts";
export * from "./gateway_runner.ts";
export * from "./rejection_log.ts";
