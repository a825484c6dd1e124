// The kdd subsystem's public names: the only way into adapters/kdd/ from outside it.
export * from "./kdd_experiment.ts";
export * from "./kdd_records.ts";
