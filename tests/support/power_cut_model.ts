/**
 * A power cut between any two system calls, checked on a trace (`strace -y`) of a program
 * writing snapshots into one folder.
 *
 * The model (what a journaling file system such as ext4 in its default mode guarantees, and no
 * more): a file's data is on disk once the file is fsynced after its last write; changes to a
 * folder's entries (create, rename, unlink) reach the disk in the order they were made, all of
 * them by the time the folder is fsynced, and any prefix of them may survive a cut. So a cut
 * after system call `i` leaves the folder as it was at some moment between its last fsync and
 * `i`. In each such state every `snapshot-N.bin` must name data already on disk, and once a
 * snapshot has been made durable there must always be at least one.
 *
 * @module
 */

/** One system call of the trace that touches files. */
export type FileCall =
  | { call: "create"; path: string }
  | { call: "write"; path: string }
  | { call: "fsync"; path: string }
  | { call: "rename"; from: string; to: string }
  | { call: "unlink"; path: string }
  | { call: "mkdir"; path: string };

const STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
/** An fd argument as `strace -y` shows it: `21</tmp/x>`. */
const FD = String.raw`\d+<([^>]*)>`;
/** The current-folder argument; `strace -y` adds the folder: `AT_FDCWD</work>`. */
const AT = String.raw`AT_FDCWD(?:<[^>]*>)?, `;
const SUCCESS = String.raw`\)\s+= (?:0|[1-9]\d*)(?:<[^>]*>)?$`;

const PATTERNS: [RegExp, (m: RegExpExecArray) => FileCall | undefined][] = [
  [
    new RegExp(String.raw`^(?:open|openat)\((?:${AT})?${STRING}, ([^,)]*)[^)]*${SUCCESS}`),
    (m) => m[2].includes("O_CREAT") ? { call: "create", path: unquote(m[1]) } : undefined,
  ],
  [
    new RegExp(String.raw`^creat\(${STRING}[^)]*${SUCCESS}`),
    (m) => ({ call: "create", path: unquote(m[1]) }),
  ],
  [
    new RegExp(String.raw`^(?:write|pwrite64|writev|pwritev2?)\(${FD}, .*${SUCCESS}`),
    (m) => ({ call: "write", path: m[1] }),
  ],
  [
    new RegExp(String.raw`^(?:fsync|fdatasync)\(${FD}${SUCCESS}`),
    (m) => ({ call: "fsync", path: m[1] }),
  ],
  [
    new RegExp(String.raw`^rename\(${STRING}, ${STRING}${SUCCESS}`),
    (m) => ({ call: "rename", from: unquote(m[1]), to: unquote(m[2]) }),
  ],
  [
    new RegExp(String.raw`^renameat2?\(${AT}${STRING}, ${AT}${STRING}[^)]*${SUCCESS}`),
    (m) => ({ call: "rename", from: unquote(m[1]), to: unquote(m[2]) }),
  ],
  [
    new RegExp(String.raw`^(?:unlink\(|unlinkat\(${AT})${STRING}(?:, 0)?${SUCCESS}`),
    (m) => ({ call: "unlink", path: unquote(m[1]) }),
  ],
  [
    new RegExp(String.raw`^(?:mkdir\(|mkdirat\(${AT})${STRING}[^)]*${SUCCESS}`),
    (m) => ({ call: "mkdir", path: unquote(m[1]) }),
  ],
];

function unquote(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}

/**
 * The file calls of one thread's `strace -y -qq` output (`-ff` gives one file per thread, with
 * no interleaved `<unfinished ...>` lines). Only opens that create a file (`O_CREAT`) are kept,
 * as `create`; failed calls are left out.
 */
export function parseTrace(text: string): FileCall[] {
  const calls: FileCall[] = [];
  for (const line of text.split("\n")) {
    for (const [pattern, make] of PATTERNS) {
      const m = pattern.exec(line.trim());
      if (m === null) continue;
      const call = make(m);
      if (call !== undefined) calls.push(call);
      break;
    }
  }
  return calls;
}

/** What {@linkcode checkPowerCuts} found. */
export interface PowerCutReport {
  /** Cut points checked (one after each call touching the folder). */
  cuts: number;
  /** Folder states checked over all cut points. */
  states: number;
  /** Each way a cut could lose or corrupt every snapshot, with the call it follows. */
  violations: string[];
}

const SNAPSHOT = /^snapshot-\d+\.bin$/;

/**
 * Replays `calls` in the model above for the folder `dir` and reports every cut point after
 * which the folder could hold a snapshot name whose data is not on disk, or no snapshot at all
 * although one had been made durable. A folder created during the trace must be fsynced into
 * its parent before a snapshot in it counts as durable.
 */
export function checkPowerCuts(calls: readonly FileCall[], dir: string): PowerCutReport {
  const parent = dir.slice(0, dir.lastIndexOf("/")) || "/";
  const inDir = (path: string) =>
    path.startsWith(`${dir}/`) && !path.slice(dir.length + 1).includes("/");
  const name = (path: string) => path.slice(dir.length + 1);
  let nextFile = 0;
  /** Folder entries: name → file id. */
  let entries = new Map<string, number>();
  /** Per file id: whether its data is on disk. */
  const durable = new Map<number, boolean>();
  const fileOf = new Map<string, number>(); // path → file id, for writes and fsyncs by path
  const idOf = (path: string): number => {
    const id = fileOf.get(path);
    if (id === undefined) throw new Error(`the trace uses ${path} but never created it`);
    return id;
  };
  /** Folder states since its last fsync (the first is the durable one). */
  let states: Map<string, number>[] = [new Map()];
  let dirDurable = true;
  let everDurable = false;
  const report: PowerCutReport = { cuts: 0, states: 0, violations: [] };

  const describe = (call: FileCall) => JSON.stringify(call);
  for (const call of calls) {
    let touches = false;
    switch (call.call) {
      case "mkdir":
        if (call.path === dir) {
          dirDurable = false;
          touches = true;
        }
        break;
      case "create":
        if (inDir(call.path)) {
          const id = nextFile++;
          durable.set(id, false);
          fileOf.set(call.path, id);
          entries = new Map(entries).set(name(call.path), id);
          states.push(entries);
          touches = true;
        }
        break;
      case "write":
        if (inDir(call.path)) {
          durable.set(idOf(call.path), false);
          touches = true;
        }
        break;
      case "fsync":
        if (inDir(call.path)) {
          durable.set(idOf(call.path), true);
          touches = true;
        } else if (call.path === dir) {
          states = [entries];
          touches = true;
        } else if (call.path === parent) {
          dirDurable = true;
        }
        break;
      case "rename":
        if (inDir(call.from) && inDir(call.to)) {
          if (!dirDurable) {
            report.violations.push(
              `${describe(call)}: ${dir} was created but not yet fsynced into ${parent}`,
            );
          }
          const id = idOf(call.from);
          entries = new Map(entries);
          entries.delete(name(call.from));
          entries.set(name(call.to), id);
          fileOf.set(call.to, id);
          states.push(entries);
          touches = true;
        }
        break;
      case "unlink":
        if (inDir(call.path)) {
          entries = new Map(entries);
          entries.delete(name(call.path));
          states.push(entries);
          touches = true;
        }
        break;
    }
    if (!touches) continue;
    report.cuts++;
    // A snapshot is durable once its folder state is (first state) and the folder itself is.
    const first = states[0];
    if (
      dirDurable && [...first.keys()].some((n) => SNAPSHOT.test(n) && durable.get(first.get(n)!))
    ) {
      everDurable = true;
    }
    for (const state of states) {
      report.states++;
      let snapshots = 0;
      for (const [n, id] of state) {
        if (!SNAPSHOT.test(n)) continue;
        snapshots++;
        if (!durable.get(id)) {
          report.violations.push(`after ${describe(call)}: ${n} may name data not yet on disk`);
        }
      }
      if (everDurable && snapshots === 0) {
        report.violations.push(`after ${describe(call)}: a cut may leave no snapshot at all`);
      }
    }
  }
  return report;
}
