// The demo subsystem's public names: the only way into adapters/demo/ from outside it.
export * from "./demo_config.ts";
export * from "./demo_session.ts";
export * from "./embedded_broker.ts";
export * from "./fault_schedule.ts";
export * from "./sensor_node.ts";
export * from "./sensor_profiles.ts";
export * from "./simulated_plant.ts";
export * from "./status_line.ts";
export * from "./telemetry_publisher.ts";
export * from "./cluster_demo.ts";
