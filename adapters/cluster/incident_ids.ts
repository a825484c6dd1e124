/**
 * Incident ids across a cluster. Each partition's engine numbers its incidents from 1, so two
 * partitions held by one instance would show the same ids, and an acknowledgement could reach
 * the wrong one. The id shown is the partition's own number times the partition count plus the
 * partition: unique across the cluster, it names the partition that holds the incident, and a new
 * owner (which continues the partition's numbering from its snapshot) shows the same ids.
 *
 * @module
 */

import type { Incident } from "../../core/incidents/mod.ts";

/** An incident's id in the cluster, from its partition's own id. */
export function clusterIncidentId(
  partitionId: number,
  partition: number,
  partitions: number,
): number {
  return partitionId * partitions + partition;
}

/** A copy of `incident` with its id in the cluster. */
export function withClusterId(incident: Incident, partition: number, partitions: number): Incident {
  return { ...incident, id: clusterIncidentId(incident.id, partition, partitions) };
}

/**
 * The partition and the partition's own id behind a cluster-wide incident id, or undefined for
 * a number no incident could have (not a whole number, or below `partitions`: a partition
 * numbers its incidents from 1).
 */
export function splitIncidentId(
  id: number,
  partitions: number,
): { partition: number; partitionId: number } | undefined {
  if (!Number.isSafeInteger(id) || id < partitions) return undefined;
  const partition = id % partitions;
  return { partition, partitionId: (id - partition) / partitions };
}
