/**
 * An incident: one device's consecutive alerts as one event, with a start, an end, a peak and
 * the features behind it.
 *
 * @module
 */

/** A feature named by an incident's alerts, and how often. */
export interface IncidentFeature {
  /** The feature's name (a payload field, or one of its damped statistics). */
  feature: string;
  /** The share of the incident's alerts whose attribution named it, in (0, 1]. */
  share: number;
}

/** One device's consecutive alerts, as the dashboard, the API and MQTT show them. */
export interface Incident {
  /** A number unique to this gateway, in the order incidents opened. */
  id: number;
  /** The device id. */
  device: string;
  /** The device's stream. */
  stream: string;
  /** The first alert's time, in milliseconds since the epoch. */
  start: number;
  /** The last alert's time so far. */
  end: number;
  /**
   * When it closed: its last alert plus the quiet period (whatever the time it was noticed, so a
   * replay of the same messages closes it at the same time), or when its device was forgotten;
   * null while open.
   */
  closedAt: number | null;
  /** The highest score among its alerts. */
  peakScore: number;
  /** The threshold in force at the peak. */
  peakThreshold: number;
  /** When the peak was scored. */
  peakAt: number;
  /** Alerts it holds. */
  alerts: number;
  /** The features its alerts named most often, most often first (at most three). */
  topFeatures: IncidentFeature[];
  /** When an operator acknowledged it, or null. */
  acknowledgedAt: number | null;
}

/** An incident that opened or closed, as {@linkcode IncidentLog} reports it. */
export interface IncidentChange {
  /** What happened. */
  change: "open" | "close";
  /** The incident after the change (a copy). */
  incident: Incident;
  /** Whether its device is muted (its changes are then shown but not announced). */
  muted: boolean;
}
