// The mqtt subsystem's public names: the only way into adapters/mqtt/ from outside it.
export * from "./mqtt_link.ts";
export * from "./publish_packets.ts";
export * from "./mqtt_config.ts";
export * from "./home_assistant.ts";
