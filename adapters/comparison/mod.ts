// The comparison subsystem's public names: the only way into adapters/comparison/ from outside it.
export * from "./compare_detectors.ts";
export * from "./comparison_svg.ts";
export * from "./labelled_stream.ts";
