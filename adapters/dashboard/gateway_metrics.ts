/**
 * `/metrics`: the gateway's counters and every device's state in the Prometheus text format.
 *
 * @module
 */

import { type DevicePhase, queryDevices } from "../../core/gateway/mod.ts";
import type { GatewayView } from "../gateway/mod.ts";
import { PrometheusText } from "./prometheus_text.ts";

/** The dashboard's own counters, exported next to the gateway's. */
export interface DashboardCounters {
  /** Event-stream clients connected now. */
  eventClients: number;
  /** Event-stream clients refused because the table of clients was full. */
  eventClientsRefused: number;
  /** Event-stream clients cut off because they read too slowly (their buffer filled). */
  eventClientsDropped: number;
  /** Score events not sent to a client over its rate for a device (see device_event_rate.ts). */
  scoreEventsHeldBack: number;
}

const PHASES: readonly DevicePhase[] = ["mapping", "training", "calibrating", "executing"];

/**
 * The exposition of `view` (and the dashboard's counters) at time `now` (ms since the epoch),
 * with per-device series for at most `deviceMetrics` devices (alerting ones first).
 */
export function gatewayMetrics(
  view: GatewayView,
  dashboard: DashboardCounters,
  now: number,
  deviceMetrics: number = Infinity,
): string {
  const status = view.status();
  const c = status.counters;
  const m = new PrometheusText();
  m.family("foxtail_build_info", "gauge", "foxtail's version, as a label; always 1.")
    .sample("foxtail_build_info", 1, { version: status.version });
  m.single(
    "foxtail_start_time_seconds",
    "gauge",
    "When the gateway started, in seconds since the epoch.",
    status.startedAt / 1000,
  );
  m.single("foxtail_messages_total", "counter", "Messages received from MQTT.", c.messages);
  m.single("foxtail_accepted_total", "counter", "Messages decoded and scored.", c.accepted);
  m.family("foxtail_rejected_total", "counter", "Messages refused, by reason.");
  for (const [reason, count] of Object.entries(c.rejected)) {
    m.sample("foxtail_rejected_total", count, { reason });
  }
  m.single(
    "foxtail_dropped_total",
    "counter",
    "Messages dropped, oldest first, from the full ingest queue.",
    c.dropped,
  );
  m.single(
    "foxtail_evicted_total",
    "counter",
    "Devices evicted, least recently seen first, from the full device table.",
    c.evicted,
  );
  m.single("foxtail_anomalies_total", "counter", "Anomalies flagged.", c.anomalies);
  m.single("foxtail_devices", "gauge", "Devices held.", status.devices);
  m.single(
    "foxtail_incidents_open",
    "gauge",
    "Incidents open now (devices alerting).",
    status.incidents.open,
  );
  m.single(
    "foxtail_incidents_total",
    "counter",
    "Incidents opened (a device's consecutive alerts are one).",
    status.incidents.opened,
  );
  m.single(
    "foxtail_queued_messages",
    "gauge",
    "Messages waiting in the ingest queue.",
    status.queued,
  );
  m.single(
    "foxtail_snapshot_failures_total",
    "counter",
    "Snapshot writes that failed.",
    status.snapshotFailures,
  );
  if (status.lastSnapshotAt !== null) {
    m.single(
      "foxtail_last_snapshot_timestamp_seconds",
      "gauge",
      "When the last snapshot was written or restored, in seconds since the epoch.",
      status.lastSnapshotAt / 1000,
    );
    m.single(
      "foxtail_snapshot_age_seconds",
      "gauge",
      "Seconds since the last snapshot was written or restored.",
      Math.max(0, now - status.lastSnapshotAt) / 1000,
    );
  }
  const latency = status.scoreLatency;
  m.histogram(
    "foxtail_score_latency_seconds",
    "Time from a message's receipt to its score handed to the MQTT link (queue, decoding, scoring).",
    latency.boundsMs.map((ms) => ms / 1000),
    latency.counts,
    latency.sumMs / 1000,
  );
  const mqtt = status.mqtt;
  m.single("foxtail_mqtt_connected", "gauge", "1 while connected to the broker.", +mqtt.connected);
  m.single("foxtail_mqtt_connects_total", "counter", "Successful connects.", mqtt.connects);
  m.single("foxtail_mqtt_reconnects_total", "counter", "Reconnect attempts.", mqtt.reconnects);
  m.single(
    "foxtail_mqtt_scores_skipped_total",
    "counter",
    "Scores not published while the link was down.",
    mqtt.scoresSkipped,
  );
  m.single(
    "foxtail_mqtt_alerts_dropped_total",
    "counter",
    "Alerts dropped from the full pending list while the link was down.",
    mqtt.alertsDropped,
  );

  // A large fleet would make an exposition of one series per device per family: at most
  // `deviceMetrics` devices get them, alerting ones first, and the rest are counted.
  const fleet = queryDevices(view.devices(), {
    limit: Number.isFinite(deviceMetrics) ? deviceMetrics : undefined,
  });
  const devices = fleet.devices;
  m.single(
    "foxtail_device_metrics_omitted",
    "gauge",
    "Devices held but left out of the per-device series (dashboard.deviceMetrics).",
    fleet.total - devices.length,
  );
  m.family("foxtail_devices_by_state", "gauge", "Devices held, by state.");
  for (const [state, count] of Object.entries(fleet.states)) {
    m.sample("foxtail_devices_by_state", count, { state });
  }
  m.family("foxtail_device_score", "gauge", "A device's last anomaly score.");
  for (const d of devices) m.sample("foxtail_device_score", d.score, label(d));
  m.family("foxtail_device_threshold", "gauge", "A device's threshold, once calibrated.");
  for (const d of devices) {
    if (d.threshold !== null) m.sample("foxtail_device_threshold", d.threshold, label(d));
  }
  m.family("foxtail_device_phase", "gauge", "1 for the phase a device is in, 0 for the others.");
  for (const d of devices) {
    for (const phase of PHASES) {
      m.sample("foxtail_device_phase", +(d.phase === phase), { ...label(d), phase });
    }
  }
  m.family("foxtail_device_progress", "gauge", "Share of a device's learning done, 0 to 1.");
  for (const d of devices) m.sample("foxtail_device_progress", d.progress, label(d));
  m.family("foxtail_device_messages_total", "counter", "Messages a device has had scored.");
  for (const d of devices) m.sample("foxtail_device_messages_total", d.messages, label(d));
  m.family("foxtail_device_anomalies_total", "counter", "Anomalies a device has had flagged.");
  for (const d of devices) m.sample("foxtail_device_anomalies_total", d.anomalies, label(d));
  // Only devices with rejections, held or not (a sensor whose every payload is refused is never
  // held): a healthy fleet adds no series, and the reject table is bounded.
  const rejections = view.rejectSources();
  m.family(
    "foxtail_device_rejected_total",
    "counter",
    "Messages refused from a device (the topic named it), by the bounded reject table.",
  );
  for (const source of rejections.sources) {
    if (source.device === null) continue;
    m.sample("foxtail_device_rejected_total", source.rejected, { device: source.device });
  }
  m.single(
    "foxtail_reject_sources_forgotten_total",
    "counter",
    "Senders of refused messages forgotten by the full reject table (least recent first).",
    rejections.forgotten,
  );

  m.single(
    "foxtail_dashboard_event_clients",
    "gauge",
    "Dashboard event-stream clients connected.",
    dashboard.eventClients,
  );
  m.single(
    "foxtail_dashboard_event_clients_refused_total",
    "counter",
    "Dashboard event-stream clients refused because too many were connected.",
    dashboard.eventClientsRefused,
  );
  m.single(
    "foxtail_dashboard_event_clients_dropped_total",
    "counter",
    "Dashboard event-stream clients cut off for reading too slowly.",
    dashboard.eventClientsDropped,
  );
  m.single(
    "foxtail_dashboard_score_events_held_back_total",
    "counter",
    "Score events not sent to a dashboard client over its per-device rate.",
    dashboard.scoreEventsHeldBack,
  );
  return m.toString();
}

function label(d: { id: string; stream: string }): Record<string, string> {
  return { device: d.id, stream: d.stream };
}
