// The packets subsystem's public names: the only way into core/packets/ from outside it.
export * from "./address_text.ts";
export * from "./afterimage.ts";
export * from "./capture_parser.ts";
export * from "./capture_record.ts";
export * from "./damped_stream_table.ts";
export * from "./joined_keys.ts";
export * from "./kitsune.ts";
export * from "./link_type.ts";
export * from "./packet_features.ts";
export * from "./packet_fields.ts";
