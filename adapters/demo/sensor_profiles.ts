/**
 * The demo's sensor nodes: each is one room or machine with a temperature/humidity sensor, a
 * motor (compressor, pump, fan) whose current and vibration follow its duty cycle, and a power
 * meter. The profiles give each node its own climate and machine.
 *
 * @module
 */

/** The telemetry fields every demo node publishes, in the gateway's feature order. */
export const TELEMETRY_FIELDS = [
  "temperature",
  "humidity",
  "current",
  "vibration",
  "power",
] as const;

/** One telemetry reading of a node, in the units its sensors report. */
export interface Telemetry {
  /** Air temperature, °C. */
  temperature: number;
  /** Relative humidity, %. */
  humidity: number;
  /** Motor current, A. */
  current: number;
  /** Motor vibration velocity (RMS), mm/s. */
  vibration: number;
  /** Active power of the whole node, W. */
  power: number;
}

/** What makes a node's signals its own. */
export interface SensorProfile {
  /** The device id (the `{device}` level of its topic). */
  name: string;
  /** Daily mean temperature, °C. */
  temperature: number;
  /** Half the daily temperature range, °C (warmest at 15:00). */
  dailySwing: number;
  /** Mean relative humidity, %. */
  humidity: number;
  /** Humidity change per °C above the mean (negative: drier when warmer). */
  humidityPerDegree: number;
  /** Motor duty cycle period, minutes. */
  cycleMinutes: number;
  /** Share of each period the motor runs, in (0, 1). */
  dutyCycle: number;
  /** Current while the motor runs, A. */
  runningCurrent: number;
  /** Current while it rests, A. */
  idleCurrent: number;
  /** Vibration while the motor runs, mm/s. */
  runningVibration: number;
  /** Power drawn besides the motor (lights, controllers), W. */
  baseLoad: number;
}

/** The built-in nodes, in the order `--devices N` takes them. */
export const SENSOR_PROFILES: readonly SensorProfile[] = Object.freeze([
  {
    name: "cold-store",
    temperature: 4,
    dailySwing: 1.5,
    humidity: 85,
    humidityPerDegree: -3,
    cycleMinutes: 20,
    dutyCycle: 0.45,
    runningCurrent: 6.5,
    idleCurrent: 0.3,
    runningVibration: 2.8,
    baseLoad: 120,
  },
  {
    name: "greenhouse",
    temperature: 22,
    dailySwing: 6,
    humidity: 65,
    humidityPerDegree: -2.2,
    cycleMinutes: 60,
    dutyCycle: 0.25,
    runningCurrent: 3.2,
    idleCurrent: 0.1,
    runningVibration: 1.6,
    baseLoad: 60,
  },
  {
    name: "pump-house",
    temperature: 14,
    dailySwing: 3,
    humidity: 70,
    humidityPerDegree: -1.8,
    cycleMinutes: 30,
    dutyCycle: 0.6,
    runningCurrent: 9.5,
    idleCurrent: 0.2,
    runningVibration: 4.5,
    baseLoad: 80,
  },
  {
    name: "server-room",
    temperature: 21,
    dailySwing: 1.2,
    humidity: 45,
    humidityPerDegree: -2.5,
    cycleMinutes: 12,
    dutyCycle: 0.5,
    runningCurrent: 4,
    idleCurrent: 1.2,
    runningVibration: 1.1,
    baseLoad: 900,
  },
  {
    name: "workshop",
    temperature: 18,
    dailySwing: 4,
    humidity: 55,
    humidityPerDegree: -2,
    cycleMinutes: 45,
    dutyCycle: 0.3,
    runningCurrent: 12,
    idleCurrent: 0.2,
    runningVibration: 6,
    baseLoad: 200,
  },
  {
    name: "boiler-room",
    temperature: 27,
    dailySwing: 2,
    humidity: 40,
    humidityPerDegree: -2.4,
    cycleMinutes: 25,
    dutyCycle: 0.4,
    runningCurrent: 2.4,
    idleCurrent: 0.15,
    runningVibration: 2.2,
    baseLoad: 150,
  },
]);

/**
 * The profile of the `index`-th node (from 0): the built-in ones in turn, renamed `name-2`,
 * `name-3`, … once they have all been used.
 */
export function sensorProfile(index: number): SensorProfile {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`a node index must be an integer ≥ 0, got ${index}`);
  }
  const base = SENSOR_PROFILES[index % SENSOR_PROFILES.length];
  const round = Math.floor(index / SENSOR_PROFILES.length);
  return round === 0 ? base : { ...base, name: `${base.name}-${round + 1}` };
}
