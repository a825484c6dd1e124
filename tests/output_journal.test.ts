import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OutputJournal } from "../adapters/cluster/output_journal.ts";

function pending(journal: OutputJournal): string[] {
  const out: string[] = [];
  journal.forEachPending((subject, body) => out.push(`${subject}:${body}`));
  return out;
}

describe("OutputJournal", () => {
  test("keeps what the server has not confirmed, oldest first; a confirmation drops what came before its mark", () => {
    const journal = new OutputJournal(4);
    journal.record("a", "1");
    journal.record("b", "2");
    const mark = journal.mark();
    journal.record("c", "3");
    assert.deepEqual(pending(journal), ["a:1", "b:2", "c:3"]);
    journal.confirm(mark);
    assert.equal(journal.pending, 1);
    assert.deepEqual(pending(journal), ["c:3"]);
    journal.confirm(mark - 1); // an older confirmation changes nothing
    assert.deepEqual(pending(journal), ["c:3"]);
  });

  test("beyond its capacity the oldest are given up and counted", () => {
    const journal = new OutputJournal(3);
    for (let i = 1; i <= 5; i++) journal.record("s", String(i));
    assert.deepEqual(pending(journal), ["s:3", "s:4", "s:5"]);
    assert.equal(journal.overflowed, 2);
    journal.confirm(journal.mark());
    assert.deepEqual(pending(journal), []);
    assert.throws(() => new OutputJournal(0), /capacity must be an integer ≥ 1, got 0/);
  });
});
