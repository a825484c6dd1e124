/**
 * Reading a JetStream stream's messages by subject without a consumer: one message-get request
 * per message ("the first message on or after sequence s on subjects f"), answered by the
 * stream's leader.
 *
 * Why not the clients' listings (`kv.keys()`, `objectStore.list()`, `getBlob`): each creates an
 * ephemeral consumer, and nats-server 2.9 places it on any of the stream's peers, a dead one
 * included, until it marks that peer offline (minutes after a `kill -9`). On a three-node cluster
 * with one node killed, a third of those listings time out for minutes. A message get only needs
 * the stream's leader, which is re-elected within seconds.
 *
 * @module
 */

import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** Options of {@linkcode readSubject}. */
export interface ReadSubjectOptions {
  /** The first sequence to look at (default 1). */
  from?: number;
  /** Stop after this many messages (a bound on what a listing may cost); default: no bound. */
  limit?: number;
}

/**
 * Every message of `stream` on `subject` (wildcards allowed), in sequence order. A message
 * written during the reading may or may not be among them; none that was there throughout is
 * missed.
 */
export async function readSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  options: ReadSubjectOptions = {},
): Promise<StoredMsg[]> {
  const out: StoredMsg[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let seq = options.from ?? 1;
  while (out.length < limit) {
    // `next_by_subj` is in the server's message-get request since 2.9; the client's type for
    // this call only names the other two forms.
    const query = { seq, next_by_subj: subject } as unknown as { seq: number };
    const message = await jsm.streams.getMessage(stream, query);
    if (message === null) break;
    out.push(message);
    seq = message.seq + 1;
  }
  return out;
}

/**
 * The newest message of each subject of `stream` matching `subject`, by subject (for a key-value
 * bucket: each key's current entry, delete markers included).
 */
export async function lastPerSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<Map<string, StoredMsg>> {
  const out = new Map<string, StoredMsg>();
  // A subject rewritten during the reading may come twice: the later one wins.
  for (const message of await readSubject(jsm, stream, subject)) out.set(message.subject, message);
  return out;
}
