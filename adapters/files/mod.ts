// The files subsystem's public names: the only way into adapters/files/ from outside it.
export * from "./atomic_file.ts";
export * from "./byte_source.ts";
export * from "./csv_records.ts";
export * from "./line_writer.ts";
export * from "./model_files.ts";
export * from "./numeric_row.ts";
export * from "./read_capture.ts";
export * from "./snapshot_store.ts";
