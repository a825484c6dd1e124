// The hst subsystem's public names: the only way into core/hst/ from outside it.
export * from "./half_space_trees.ts";
export * from "./hst_defaults.ts";
export * from "./hst_detector.ts";
export * from "./hst_state.ts";
