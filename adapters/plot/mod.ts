// The plot subsystem's public names: the only way into adapters/plot/ from outside it.
export * from "./score_timeline_svg.ts";
export * from "./timeline_recorder.ts";
