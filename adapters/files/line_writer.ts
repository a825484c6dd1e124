/**
 * Buffered line output to a file or standard output, respecting back-pressure.
 *
 * @module
 */

import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import type { Writable } from "node:stream";

const FLUSH_AT = 1 << 16;

/** Writes lines in batches; `close()` flushes everything. */
export class LineWriter {
  #stream: Writable;
  #ownsStream: boolean;
  #pending: string[] = [];
  #pendingChars = 0;

  /** Writes to `path`, or to standard output when `path` is undefined or `-`. */
  constructor(path?: string) {
    this.#ownsStream = path !== undefined && path !== "-";
    if (this.#ownsStream) mkdirSync(dirname(path!), { recursive: true });
    this.#stream = this.#ownsStream ? createWriteStream(path!) : process.stdout;
  }

  /** Queues one line (a newline is added); flushes when the batch is large. */
  async line(text: string): Promise<void> {
    this.#pending.push(text);
    this.#pendingChars += text.length + 1;
    if (this.#pendingChars >= FLUSH_AT) await this.flush();
  }

  /** Writes what is queued, waiting if the destination is full. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunk = this.#pending.join("\n") + "\n";
    this.#pending = [];
    this.#pendingChars = 0;
    if (!this.#stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        this.#stream.once("error", onError);
        this.#stream.once("drain", () => {
          this.#stream.off("error", onError);
          resolve();
        });
      });
    }
  }

  /** Flushes and, for a file, closes it. */
  async close(): Promise<void> {
    await this.flush();
    if (!this.#ownsStream) return;
    await new Promise<void>((resolve, reject) => {
      this.#stream.once("error", reject);
      this.#stream.end(() => resolve());
    });
  }
}
