// The cli subsystem's public names: the only way into adapters/cli/ from outside it.
export * from "./command.ts";
export * from "./terminal_progress.ts";
export * from "./threshold_flags.ts";
