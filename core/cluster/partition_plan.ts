/**
 * Which live member should own each partition: balanced, sticky (a membership change moves as few
 * partitions as it can, since every move costs a snapshot and a hand-over) and deterministic (every
 * instance computes the same plan from the same view, whatever order it listed the members in).
 *
 * @module
 */

/** Code-unit order, the same on every runtime and locale. */
function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The target owner of each of `partitions` partitions among `members`, given each partition's
 * current owner (`owners[k]`; undefined when free; an owner not in `members` is dead).
 *
 * Each member gets ⌊P/n⌋ or ⌈P/n⌉ partitions; the ⌈P/n⌉ go to the members holding the most now
 * (ties by id), so a balanced cluster is left as it is. A partition stays with its live owner
 * while that owner is within its quota; the rest go, lowest partition first, to the members
 * below quota, in id order.
 *
 * @throws {RangeError} when `partitions` is not a positive integer, `members` is empty or has a
 * duplicate, or `owners` does not have one entry per partition.
 */
export function planPartitions(
  partitions: number,
  members: readonly string[],
  owners: readonly (string | undefined)[],
): string[] {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${String(partitions)}`);
  }
  if (members.length === 0) throw new RangeError("no members to plan partitions for");
  if (owners.length !== partitions) {
    throw new RangeError(
      `expected one owner per partition (${partitions}), got ${owners.length}`,
    );
  }
  const sorted = members.slice().sort(byId);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) {
      throw new RangeError(`duplicate member id ${JSON.stringify(sorted[i])}`);
    }
  }

  // What each live member holds now.
  const holding = new Map<string, number>(sorted.map((m) => [m, 0]));
  for (const owner of owners) {
    if (owner !== undefined && holding.has(owner)) holding.set(owner, holding.get(owner)! + 1);
  }

  // Quotas: the extra partitions go to the members already holding the most.
  const base = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  const ranked = sorted.slice().sort((a, b) => holding.get(b)! - holding.get(a)! || byId(a, b));
  const quota = new Map<string, number>();
  ranked.forEach((m, i) => quota.set(m, base + (i < extra ? 1 : 0)));

  // Keep what a live owner may keep; free the rest.
  const plan: (string | undefined)[] = new Array(partitions).fill(undefined);
  const kept = new Map<string, number>(sorted.map((m) => [m, 0]));
  for (let k = 0; k < partitions; k++) {
    const owner = owners[k];
    if (owner === undefined || !quota.has(owner)) continue;
    const count = kept.get(owner)!;
    if (count < quota.get(owner)!) {
      plan[k] = owner;
      kept.set(owner, count + 1);
    }
  }

  // Fill the members below quota from the free partitions, in order.
  let k = 0;
  for (const member of sorted) {
    let count = kept.get(member)!;
    const want = quota.get(member)!;
    while (count < want) {
      while (plan[k] !== undefined) k++;
      plan[k] = member;
      count++;
    }
  }
  return plan as string[];
}
