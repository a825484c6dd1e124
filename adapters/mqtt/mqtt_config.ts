/**
 * The MQTT connection's settings, as the gateway's configuration file gives them (`mqtt`; read
 * by adapters/gateway/gateway_config.ts).
 *
 * @module
 */

/** MQTT connection settings. */
export interface MqttConfig {
  /** Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. */
  url: string;
  /** User name, if the broker wants credentials. */
  username?: string;
  /** Password, if the broker wants credentials. */
  password?: string;
  /** Client id; the adapter makes one up when absent. */
  clientId?: string;
  /** Path of a PEM file of CA certificates to trust for TLS. */
  ca?: string;
  /** First level of every topic the gateway publishes. */
  topicPrefix: string;
  /**
   * Home Assistant's discovery prefix (usually `homeassistant`): when set, each device is
   * announced there as an anomaly binary sensor and a score sensor.
   */
  homeAssistantDiscovery?: string;
  /** 4 (MQTT 3.1.1) or 5. */
  protocolVersion: 4 | 5;
  /** Keep-alive interval. */
  keepaliveSeconds: number;
  /** First reconnect delay; doubles per failed attempt up to `reconnectMaxMs`. */
  reconnectMinMs: number;
  /** Longest reconnect delay. */
  reconnectMaxMs: number;
}
