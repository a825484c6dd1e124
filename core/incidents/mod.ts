// The incidents subsystem's public names: the only way into core/incidents/ from outside it.
export * from "./incident.ts";
export * from "./incident_log.ts";
