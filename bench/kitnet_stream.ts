/**
 * The stream KitNET's benchmarks run on, shaped like Kitsune's damped statistics: groups of
 * correlated features at scales from 1e-2 to 1e4, and a few constant features. The same
 * stream goes to foxtail and to the C baseline, so their speeds compare.
 *
 * @module
 */

import { MersenneTwister } from "../core/math/mod.ts";

/** Rows of the benchmark stream: `rows` distinct instances of `n` features, seed 42. */
export function kitnetStream(n: number, rows: number): Float64Array[] {
  const rng = new MersenneTwister(42);
  const groups = 23;
  const scale = Array.from({ length: n }, (_, i) => 10 ** ((i % 7) - 2));
  const out: Float64Array[] = [];
  const latent = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) latent[g] = 0.9 * latent[g] + rng.nextDouble() - 0.5;
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = i % groups;
      row[i] = i % 29 === 0 ? 1 : scale[i] * (latent[g] + 0.3 * (rng.nextDouble() - 0.5));
    }
    out.push(row);
  }
  return out;
}

/** Distinct rows of the stream; instance i of a run is row i mod this. */
export const STREAM_ROWS = 8192;
