/**
 * foxtail's version: the CLI's `--version`, the gateway's status, the dashboard.
 *
 * @module
 */

/** foxtail's version (kept equal to package.json's by a test). */
export const VERSION = "0.1.0";
