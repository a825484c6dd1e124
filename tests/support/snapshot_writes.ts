/**
 * A child process for the power-cut test: writes `count` snapshots of `bytes` bytes each into
 * `dir` through {@linkcode SnapshotStore} (keeping `keep`), so that the test can trace its
 * system calls.
 *
 *     <runtime> tests/support/snapshot_writes.ts DIR COUNT KEEP BYTES
 *
 * @module
 */

import process from "node:process";
import { SnapshotStore } from "../../adapters/files/mod.ts";

const [dir, count, keep, bytes] = process.argv.slice(2);
const store = new SnapshotStore(dir, Number(keep));
for (let i = 1; i <= Number(count); i++) {
  const path = store.save(new Uint8Array(Number(bytes)).fill(i));
  console.log(path);
}
