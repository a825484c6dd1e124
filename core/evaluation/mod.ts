// The evaluation subsystem's public names: the only way into core/evaluation/ from outside it.
export * from "./metrics.ts";
