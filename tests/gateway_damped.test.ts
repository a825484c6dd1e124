import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  dampedFeatureCount,
  dampedFeatureNames,
  DampedFeatures,
  SENSOR_LAMBDAS,
} from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const topicOf = (device: string) => `sensors/${device}/telemetry`;

/**
 * The spec's 1-D damped stream (`spec/afterimage.md`), one object per field and λ, written
 * straight from its text with Math.pow; time going backwards decays nothing and moves the clock
 * back (the gateway's documented rule).
 */
class SpecStream {
  cf1 = 0;
  cf2 = 0;
  w = 1e-20;
  readonly lambda: number;
  lastT: number;
  constructor(lambda: number, lastT: number) {
    this.lambda = lambda;
    this.lastT = lastT;
  }
  insert(v: number, t: number): [number, number, number] {
    if (t > this.lastT) {
      const f = Math.pow(2, -this.lambda * (t - this.lastT));
      this.cf1 *= f;
      this.cf2 *= f;
      this.w *= f;
    }
    this.lastT = t;
    this.cf1 += v;
    this.cf2 += v * v;
    this.w += 1;
    const mean = this.cf1 / this.w;
    return [this.w, mean, Math.sqrt(Math.abs(this.cf2 / this.w - mean * mean))];
  }
}

/** The features of every message, by the spec, in the documented order. */
function specFeatures(
  rows: number[][],
  times: number[],
  lambdas: readonly number[],
): number[][] {
  const fields = rows[0].length;
  const streams = lambdas.map((l) =>
    Array.from({ length: fields }, () => new SpecStream(l, times[0]))
  );
  return rows.map((row, k) => {
    const out = row.slice();
    lambdas.forEach((_, l) => {
      const stats = row.map((v, i) => streams[l][i].insert(v, times[k]));
      out.push(stats[0][0]);
      for (const [, mean, std] of stats) out.push(mean, std);
    });
    return out;
  });
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-9 * Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `${what}, feature ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/**
 * Values, weights and means within 1e-9 (relative); a std by its variance, within 1e-12 of the
 * mean's square: exp2 and Math.pow differ in the last bit, and the variance is a difference of
 * nearly equal numbers when a window holds nearly one value.
 */
function assertSameFeatures(
  actual: ArrayLike<number>,
  expected: number[],
  fields: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const group = i - fields;
    const isStd = group >= 0 && group % (1 + 2 * fields) !== 0 &&
      (group % (1 + 2 * fields)) % 2 === 0;
    const a = isStd ? actual[i] ** 2 : actual[i];
    const e = isStd ? expected[i] ** 2 : expected[i];
    const tolerance = isStd ? 1e-12 * (1 + expected[i - 1] ** 2) : 1e-9 * Math.max(1, Math.abs(e));
    assert.ok(
      Math.abs(a - e) <= tolerance,
      `${what}, feature ${i}${isStd ? " (std)" : ""}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/** Irregular sensor telemetry: three fields, gaps of 0 to ~6 s (some repeated times). */
function telemetry(count: number, seed: number): { rows: number[][]; times: number[] } {
  const rng = new MersenneTwister(seed);
  const rows: number[][] = [];
  const times: number[] = [];
  let t = 1_700_000_000;
  for (let k = 0; k < count; k++) {
    const gap = rng.uniform(0, 1) < 0.1 ? 0 : -Math.log(1 - rng.uniform(0, 1)) * 2;
    t += gap;
    times.push(t);
    rows.push([
      21 + Math.sin(k / 9) + rng.uniform(-0.1, 0.1),
      45 + rng.uniform(-2, 2),
      k % 17 === 0 ? 0 : 3.3,
    ]);
  }
  return { rows, times };
}

function dampedConfig(
  payload: Record<string, unknown> = {},
  features: unknown = "damped",
): Record<string, unknown> {
  const config = smallConfig();
  const stream = (config.streams as Record<string, unknown>[])[0];
  return {
    ...config,
    streams: [{
      ...stream,
      payload: { format: "json", fields: ["t", "h", "power.v"], ...payload },
      features,
    }],
  };
}

describe("damped features", () => {
  test("each message's features match the spec's damped streams, for every λ", () => {
    const { rows, times } = telemetry(400, 3);
    for (const lambdas of [SENSOR_LAMBDAS, [5, 3, 1, 0.1, 0.01]]) {
      const damped = new DampedFeatures(3, lambdas);
      assert.equal(damped.size, dampedFeatureCount(3, lambdas.length));
      const out = new Float64Array(damped.size);
      const expected = specFeatures(rows, times, lambdas);
      rows.forEach((row, k) => {
        damped.update(row, times[k], out);
        assertSameFeatures(out, expected[k], 3, `λ ${lambdas.join(",")}, message ${k}`);
      });
    }
  });

  test("the first message has weight 1, mean the value, std 0", () => {
    const damped = new DampedFeatures(2, [1, 0.1]);
    const out = new Float64Array(damped.size);
    damped.update([21.5, -3], 100, out);
    assert.deepEqual(Array.from(out), [21.5, -3, 1, 21.5, 0, -3, 0, 1, 21.5, 0, -3, 0]);
    assert.deepEqual(
      dampedFeatureNames(["t", "power.v"], [1, 0.1]),
      [
        "t",
        "power.v",
        "weight_1",
        "t_1_mean",
        "t_1_std",
        "power.v_1_mean",
        "power.v_1_std",
        "weight_0.1",
        "t_0.1_mean",
        "t_0.1_std",
        "power.v_0.1_mean",
        "power.v_0.1_std",
      ],
    );
  });

  test("time going backwards decays nothing and the clock follows it back (no NaN)", () => {
    const damped = new DampedFeatures(1, [1]);
    const out = new Float64Array(damped.size);
    const seen = (v: number, t: number) => {
      damped.update([v], t, out);
      return Array.from(out);
    };
    seen(2, 10);
    seen(4, 12); // decays by 2^-2
    let w = 1 * 0.25 + 1, cf1 = 2 * 0.25 + 4, cf2 = 4 * 0.25 + 16;
    const back = seen(6, 11); // 1 s back: no decay
    w += 1, cf1 += 6, cf2 += 36;
    assertClose(back, [6, w, cf1 / w, Math.sqrt(cf2 / w - (cf1 / w) ** 2)], "backwards");
    assert.equal(damped.lastTime, 11);
    const after = seen(8, 12); // 1 s after the clock moved back: decays by 2^-1
    w = w * 0.5 + 1, cf1 = cf1 * 0.5 + 8, cf2 = cf2 * 0.5 + 64;
    assertClose(after, [8, w, cf1 / w, Math.sqrt(cf2 / w - (cf1 / w) ** 2)], "after");
    const reset = seen(5, -1e12); // a clock reset to far before: still finite
    assert.ok(reset.every(Number.isFinite), String(reset));
    const jump = seen(5, 1e300); // and far ahead: every window forgets, weight 1
    assert.deepEqual(jump, [5, 1, 5, 0]);
  });

  test("hostile magnitudes are clamped so the state never overflows", () => {
    const damped = new DampedFeatures(1, [0.001]);
    const out = new Float64Array(damped.size);
    for (const v of [Number.MAX_VALUE, -Number.MAX_VALUE, 1e300, 1e-300]) {
      damped.update([v], 0, out);
      assert.ok(Array.from(out).every(Number.isFinite), `${v}: ${Array.from(out)}`);
    }
  });

  test("saved and restored windows continue exactly; altered bytes are refused", () => {
    const { rows, times } = telemetry(300, 5);
    const straight = new DampedFeatures(3, SENSOR_LAMBDAS);
    const first = new DampedFeatures(3, SENSOR_LAMBDAS);
    const a = new Float64Array(straight.size), b = new Float64Array(straight.size);
    for (let k = 0; k < 150; k++) {
      straight.update(rows[k], times[k], a);
      first.update(rows[k], times[k], b);
    }
    const bytes = first.toBytes();
    const resumed = DampedFeatures.fromBytes(bytes);
    assert.deepEqual(Array.from(resumed.lambdas), SENSOR_LAMBDAS);
    assert.equal(resumed.lastTime, times[149]);
    assert.deepEqual(resumed.toBytes(), bytes);
    for (let k = 150; k < rows.length; k++) {
      straight.update(rows[k], times[k], a);
      resumed.update(rows[k], times[k], b);
      assert.deepEqual(b, a, `message ${k}`);
    }
    const flipped = bytes.slice();
    flipped[30] ^= 1;
    assert.throws(() => DampedFeatures.fromBytes(flipped), /corrupt/);
    assert.throws(() => DampedFeatures.fromBytes(bytes.subarray(0, 40)), /truncated/);
    // A never-updated state round-trips too (no time yet).
    assert.ok(
      Number.isNaN(DampedFeatures.fromBytes(new DampedFeatures(2, [1]).toBytes()).lastTime),
    );
  });

  test("bad construction arguments are refused with the value", () => {
    assert.throws(() => new DampedFeatures(0, [1]), /fields must be an integer ≥ 1, got 0/);
    assert.throws(() => new DampedFeatures(1, []), /at least one decay rate/);
    assert.throws(() => new DampedFeatures(1, [1, 0]), /lambdas\[1\] must be a positive/);
  });
});

describe("gateway with damped features", () => {
  test("time comes from the payload's timestamp field (ms or s), else the arrival time", () => {
    const { rows, times } = telemetry(60, 8);
    const cases: {
      name: string;
      payload: Record<string, unknown>;
      body: (row: number[], seconds: number) => Uint8Array;
      arrival: (k: number) => number;
      seconds: (k: number) => number;
    }[] = [
      {
        name: "json, ms",
        payload: { timestampField: "meta.ts" },
        body: (r, s) => encode({ t: r[0], h: r[1], power: { v: r[2] }, meta: { ts: s * 1000 } }),
        arrival: () => 5_000, // arrival time frozen: only the payload's time can decay
        seconds: (k) => (times[k] * 1000) / 1000,
      },
      {
        name: "csv, s, time in the middle",
        payload: {
          format: "csv",
          fields: ["t", "at", "h", "power.v"],
          timestampField: "at",
          timestampUnit: "s",
        },
        body: (r, s) => new TextEncoder().encode(`${r[0]},${s},${r[1]},${r[2]}`),
        arrival: () => 5_000,
        seconds: (k) => times[k],
      },
      {
        name: "arrival time",
        payload: {},
        body: (r) => encode({ t: r[0], h: r[1], power: { v: r[2] } }),
        arrival: (k) => Math.round(times[k] * 1000),
        seconds: (k) => Math.round(times[k] * 1000) / 1000,
      },
    ];
    for (const c of cases) {
      const config = validateGatewayConfig(dampedConfig(c.payload));
      const engine = new GatewayEngine(config);
      const direct = new DampedFeatures(3, SENSOR_LAMBDAS);
      const expected = new Float64Array(direct.size);
      rows.forEach((row, k) => {
        engine.receive(topicOf("a"), c.body(row, times[k]), c.arrival(k));
        assert.equal(engine.drain(), 1);
        direct.update(row, c.seconds(k), expected);
        assert.deepEqual(engine.device("a")!.input, expected, `${c.name}, message ${k}`);
      });
      assert.equal(engine.counters().accepted, rows.length, c.name);
    }
  });

  test("timestamps jumping backwards give finite features and scores", () => {
    const engine = new GatewayEngine(validateGatewayConfig(dampedConfig({ timestampField: "ts" })));
    const signal = new SensorSignal(4);
    const scores: number[] = [];
    engine.output = { score: (_d, v) => scores.push(v.score, v.threshold || 0), alert: () => {} };
    for (let k = 0; k < SMALL_LEARNING + 40; k++) {
      const [t, h, v] = signal.values();
      // Every 25th message jumps an hour back, every 40th a day ahead.
      const ts = 1e12 + k * 1000 - (k % 25 === 0 ? 3_600_000 : 0) + (k % 40 === 0 ? 864e5 : 0);
      engine.receive(topicOf("a"), encode({ t, h, power: { v }, ts }), 0);
      engine.drain();
      assert.ok(Array.from(engine.device("a")!.input!).every(Number.isFinite), `message ${k}`);
    }
    assert.equal(engine.counters().accepted, SMALL_LEARNING + 40);
    assert.ok(scores.every(Number.isFinite));
    assert.equal(engine.device("a")!.phase, "executing");
  });

  test("a device learns its damped features and flags a fault, naming damped features", () => {
    const alerts: string[][] = [];
    const engine = new GatewayEngine(
      validateGatewayConfig(dampedConfig({ timestampField: "ts" })),
      {
        score: () => {},
        alert: (alert) => alerts.push(alert.attribution.features),
      },
    );
    const signal = new SensorSignal(11);
    let ts = 1e12;
    for (let k = 0; k < SMALL_LEARNING + 100; k++) {
      const [t, h, v] = signal.values();
      ts += 1000;
      engine.receive(topicOf("a"), encode({ t, h, power: { v }, ts }), 0);
      engine.drain();
    }
    const device = engine.device("a")!;
    assert.equal(device.phase, "executing");
    const falseAlarms = device.anomalies;
    assert.ok(falseAlarms <= 3, `${falseAlarms} false alarms in 100 normal messages`);
    const fault = JSON.parse(new TextDecoder().decode(faultPayload()));
    engine.receive(topicOf("a"), encode({ ...fault, ts: ts + 1000 }), 0);
    engine.drain();
    assert.equal(device.last.anomaly, true);
    const names = dampedFeatureNames(["t", "h", "power.v"], SENSOR_LAMBDAS);
    const last = alerts[alerts.length - 1];
    assert.ok(last.length > 0 && last.every((f) => names.includes(f)), String(last));
  });

  test("a burst far above the learned rate is flagged through the damped weights, not raw", () => {
    const burst = (features: string) => {
      const payload = features === "damped" ? { timestampField: "ts" } : {};
      const engine = new GatewayEngine(validateGatewayConfig(dampedConfig(payload, features)));
      const signal = new SensorSignal(12);
      let ts = 1e12;
      const send = (gap: number) => {
        const [t, h, v] = signal.values();
        ts += gap;
        engine.receive(topicOf("a"), encode({ t, h, power: { v }, ts }), ts);
        engine.drain();
        return engine.device("a")!.last.anomaly;
      };
      for (let k = 0; k < SMALL_LEARNING + 50; k++) send(1000);
      const before = engine.device("a")!.anomalies;
      // Normal values, but twenty messages 10 ms apart instead of one a second.
      const flagged = Array.from({ length: 20 }, () => send(10)).filter(Boolean).length;
      return { before, flagged };
    };
    const damped = burst("damped"), raw = burst("raw");
    assert.ok(damped.flagged >= 10, `damped: ${damped.flagged} of 20 flagged`);
    assert.ok(damped.before <= 3, `damped: ${damped.before} false alarms before the burst`);
    assert.ok(raw.flagged < damped.flagged, `raw flagged ${raw.flagged}, damped ${damped.flagged}`);
  });
});

describe("gateway snapshots with damped features", () => {
  const run = (
    engine: GatewayEngine,
    signals: SensorSignal[],
    from: number,
    to: number,
    seen: unknown[],
  ) => {
    engine.output = {
      score: (device, v) => seen.push([device, v.score, v.threshold, v.anomaly, v.phase]),
      alert: (alert) => seen.push(alert),
    };
    for (let k = from; k < to; k++) {
      signals.forEach((signal, d) => {
        const [t, h, v] = signal.values();
        const ts = 1e12 + k * 1500 + d * 7;
        engine.receive(topicOf(`d${d}`), encode({ t, h, power: { v }, ts }), 0);
      });
      engine.drain();
    }
  };

  for (const cut of [5, 120, SMALL_LEARNING - 20, SMALL_LEARNING + 20]) {
    test(`restored after ${cut} messages per device, the next verdicts are the same`, () => {
      const config = validateGatewayConfig(dampedConfig({ timestampField: "ts" }));
      const straightSeen: unknown[] = [];
      const straight = new GatewayEngine(config);
      run(straight, [new SensorSignal(1), new SensorSignal(2)], 0, cut + 40, straightSeen);

      const seen: unknown[] = [];
      const signals = [new SensorSignal(1), new SensorSignal(2)];
      const first = new GatewayEngine(config);
      run(first, signals, 0, cut, seen);
      const resumed = new GatewayEngine(config);
      assert.deepEqual(resumed.restore(first.toBytes(1)), { savedAt: 1, devices: 2, skipped: [] });
      run(resumed, signals, cut, cut + 40, seen);
      assert.deepEqual(seen, straightSeen);
      assert.deepEqual(resumed.device("d0")!.input, straight.device("d0")!.input);
    });
  }

  test("devices whose damped windows no longer fit the stream are skipped, with the reason", () => {
    const first = new GatewayEngine(validateGatewayConfig(dampedConfig()));
    run(first, [new SensorSignal(3)], 0, 10, []);
    const bytes = first.toBytes(1);
    const otherLambdas = new GatewayEngine(
      validateGatewayConfig(dampedConfig({}, { type: "damped", lambdas: [1, 0.1] })),
    );
    const report = otherLambdas.restore(bytes);
    assert.equal(report.devices, 0);
    assert.match(
      report.skipped[0],
      /^device "d0": its damped windows \(3 fields, λ 1, 0\.1, 0\.01, 0\.001\) differ/,
    );
    const raw = new GatewayEngine(validateGatewayConfig(dampedConfig({}, "raw")));
    assert.match(
      raw.restore(bytes).skipped[0],
      /^device "d0": its features were damped, stream "env" now has raw ones/,
    );
    const rawFirst = new GatewayEngine(validateGatewayConfig(dampedConfig({}, "raw")));
    run(rawFirst, [new SensorSignal(3)], 0, 10, []);
    const damped = new GatewayEngine(validateGatewayConfig(dampedConfig()));
    assert.match(
      damped.restore(rawFirst.toBytes(1)).skipped[0],
      /^device "d0": its features were raw, stream "env" now has damped ones/,
    );
  });
});
