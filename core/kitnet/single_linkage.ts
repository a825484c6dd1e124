/**
 * Single-linkage agglomerative clustering of a condensed distance matrix, and the split of its
 * dendrogram into clusters of bounded size, matching SciPy's `linkage(method="single")`,
 * `to_tree` and KitNET's recursive break-up, ties included.
 *
 * @module
 */

/** Index of pair (i, j), i < j, in a condensed matrix of n points. */
function condensedIndex(n: number, i: number, j: number): number {
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * The dendrogram of single linkage: for merge k (creating cluster n + k), its left and right
 * children and distance, children ordered as SciPy labels them.
 */
export interface Dendrogram {
  /** Number of leaves. */
  n: number;
  /** Left child id of each merge. */
  left: Int32Array;
  /** Right child id of each merge. */
  right: Int32Array;
  /** Merge distance. */
  distance: Float64Array;
  /** Leaves under each merge. */
  size: Int32Array;
}

/** Single linkage by the minimum spanning tree (SciPy's `mst_single_linkage`). */
export function singleLinkage(condensed: Float64Array, n: number): Dendrogram {
  const steps = n - 1;
  const fromNode = new Int32Array(steps);
  const toNode = new Int32Array(steps);
  const stepDistance = new Float64Array(steps);
  const merged = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  let x = 0;
  for (let k = 0; k < steps; k++) {
    merged[x] = 1;
    let currentMin = Infinity;
    let y = -1;
    for (let i = 0; i < n; i++) {
      if (merged[i]) continue;
      const d = condensed[x < i ? condensedIndex(n, x, i) : condensedIndex(n, i, x)];
      if (best[i] > d) best[i] = d;
      if (best[i] < currentMin) {
        y = i;
        currentMin = best[i];
      }
    }
    if (y < 0) throw new RangeError(`distance matrix holds NaN near point ${x}`);
    fromNode[k] = x;
    toNode[k] = y;
    stepDistance[k] = currentMin;
    x = y;
  }
  // Stable sort of the steps by distance.
  const order = Array.from({ length: steps }, (_, k) => k);
  order.sort((a, b) => stepDistance[a] - stepDistance[b] || a - b);

  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const size = new Int32Array(2 * n - 1).fill(1);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const left = new Int32Array(steps);
  const right = new Int32Array(steps);
  const distance = new Float64Array(steps);
  const mergeSize = new Int32Array(steps);
  for (let k = 0; k < steps; k++) {
    const s = order[k];
    const a = root(fromNode[s]);
    const b = root(toNode[s]);
    const id = n + k;
    left[k] = Math.min(a, b);
    right[k] = Math.max(a, b);
    distance[k] = stepDistance[s];
    size[id] = size[a] + size[b];
    mergeSize[k] = size[id];
    parent[a] = id;
    parent[b] = id;
  }
  return { n, left, right, distance, size: mergeSize };
}

/**
 * Splits a dendrogram into clusters of at most `maxSize` leaves: a node small enough is one
 * cluster (leaves in left-first order), a larger one yields its left child's clusters, then its
 * right child's.
 */
export function splitDendrogram(tree: Dendrogram, maxSize: number): number[][] {
  const { n } = tree;
  if (n === 1) return [[0]];
  const leafCount = (id: number) => (id < n ? 1 : tree.size[id - n]);
  const leaves = (id: number, out: number[]): number[] => {
    // Iterative left-first walk, so deep (chain-like) trees do not exhaust the call stack.
    const stack = [id];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node < n) out.push(node);
      else stack.push(tree.right[node - n], tree.left[node - n]);
    }
    return out;
  };
  const clusters: number[][] = [];
  const pending = [2 * n - 2];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (leafCount(node) <= maxSize) clusters.push(leaves(node, []));
    else pending.push(tree.right[node - n], tree.left[node - n]);
  }
  return clusters;
}

/** Single linkage on a condensed distance matrix, split into clusters of at most `maxSize`. */
export function singleLinkageClusters(
  condensed: Float64Array,
  n: number,
  maxSize: number,
): number[][] {
  if (n === 1) return [[0]];
  return splitDendrogram(singleLinkage(condensed, n), maxSize);
}
