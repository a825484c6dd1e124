/**
 * Half-Space Trees' defaults (River's `HalfSpaceTrees`, where the paper leaves room) and the
 * limits its options are held to.
 *
 * @module
 */

/** The defaults of {@linkcode HalfSpaceTreesOptions}. */
export const HST_DEFAULTS = {
  /** River's 10 (the paper used 25). */
  trees: 10,
  /** River's 8 (the paper used 15). */
  height: 8,
  /** The paper's and River's ψ. */
  window: 250,
  /** Four windows: ranges from one window miss a slow cycle (issue 14's humidity stream). */
  warmUp: 1000,
  /** Any fixed seed makes runs reproducible; this one is foxtail's. */
  seed: 1,
} as const;

/** The largest value each option takes. */
export const HST_LIMITS = {
  /** Features per instance (a split feature is stored in 16 bits). */
  features: 65535,
  /** Trees. */
  trees: 1024,
  /** Splits from root to leaf. */
  height: 20,
  /** Instances per window (a node's mass is stored in 16 bits). */
  window: 65535,
  /** Instances of the warm-up. */
  warmUp: 0xffffffff,
  /** Nodes over all trees: 4 Mi nodes hold 16 MiB of masses per model. */
  nodes: 4 * 1024 * 1024,
} as const;
