import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AutoencoderLayer } from "../core/kitnet/mod.ts";
import {
  autoencoderKernelAvailable,
  type AutoencoderKernelKind,
  CorrelationMapper,
  fastestKernel,
  KernelHeap,
} from "../core/kitnet/mod.ts";
import { exp2 } from "../core/math/mod.ts";
import { DampedStreamTable, KERNEL_MIN_FEATURES, KitNET, MersenneTwister } from "../mod.ts";
import { readKitNETVector, readSharedMatrix } from "./support/shared.ts";

/** The bit patterns of an array of doubles, for exact comparison (NaN payloads included). */
function bits(values: ArrayLike<number>): string[] {
  const view = new DataView(new ArrayBuffer(8));
  return Array.from({ length: values.length }, (_, i) => {
    view.setFloat64(0, values[i]);
    return view.getBigUint64(0).toString(16);
  });
}

/** A layer's whole learned state. */
function stateOf(layer: AutoencoderLayer): string[] {
  return [layer.weights, layer.hiddenBias, layer.visibleBias, layer.min, layer.max]
    .flatMap((a) => bits(a));
}

function layerPair(inputs: number[][], hiddenRatio: number, learningRate: number) {
  const options = { inputs, hiddenRatio, learningRate };
  const kernel = new AutoencoderLayer(options);
  const on = (kind: AutoencoderKernelKind) =>
    new AutoencoderLayer({
      ...options,
      heap: new KernelHeap(AutoencoderLayer.bytes(options), kind),
    });
  return { kernel, loops: on("ts"), simd: on("simd") };
}

describe("KitNET's WebAssembly kernels (scalar and SIMD)", () => {
  test("runs here with SIMD, and a layer says which arithmetic it uses", () => {
    assert.equal(autoencoderKernelAvailable(), true);
    assert.equal(autoencoderKernelAvailable("simd"), true);
    assert.equal(fastestKernel(), "simd");
    const { kernel, loops, simd } = layerPair([[0, 1]], 0.75, 0.1);
    assert.equal(kernel.webAssembly, true);
    assert.equal(loops.webAssembly, false);
    assert.equal(simd.webAssembly, true);
  });

  test("KitNET picks its kernel by size (auto), as asked, or by the older flag", () => {
    assert.equal(new KitNET({ n: 3 }).kernel, "ts");
    assert.equal(new KitNET({ n: KERNEL_MIN_FEATURES }).kernel, "simd");
    assert.equal(new KitNET({ n: 115 }).kernel, "simd");
    assert.equal(new KitNET({ n: 3, kernel: "wasm" }).kernel, "wasm");
    assert.equal(new KitNET({ n: 115, kernel: "ts" }).kernel, "ts");
    assert.equal(new KitNET({ n: 115, webAssembly: false }).kernel, "ts");
    assert.equal(new KitNET({ n: 3, webAssembly: true }).kernel, "wasm");
    // Once the map exists, `kernel` is what the layers run on.
    const k = new KitNET({ n: 2, kernel: "simd", featureMap: [[0, 1]] });
    assert.equal(k.kernel, "simd");
    assert.equal(KitNET.fromBytes(k.toBytes()).kernel, "ts");
    assert.equal(KitNET.fromBytes(k.toBytes(), { kernel: "wasm" }).kernel, "wasm");
    assert.throws(
      () => new KitNET({ n: 3, kernel: "gpu" as never }),
      /kernel must be one of auto, simd, wasm, ts, got gpu/,
    );
  });

  test("gives the TypeScript loops' bits: odd and even sizes, Math.exp's range too", () => {
    const rng = new MersenneTwister(7);
    const shapes: { inputs: number[][]; ratio: number }[] = [
      { inputs: [[0]], ratio: 0.75 },
      { inputs: [[2, 0, 1], [3, 4, 5, 6, 7]], ratio: 0.75 },
      { inputs: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14]], ratio: 0.75 },
      { inputs: [[5, 3, 1, 0, 2, 4, 6], [7]], ratio: 1.3 },
      { inputs: [Array.from({ length: 25 }, (_, i) => i)], ratio: 0.5 },
    ];
    for (const { inputs, ratio } of shapes) {
      const width = Math.max(...inputs.flat()) + 1;
      const { kernel, loops, simd } = layerPair(inputs, ratio, 0.1);
      const x = new Float64Array(width);
      for (let step = 0; step < 300; step++) {
        // Mostly ordinary values; now and then huge ones, so that the execute steps push the
        // sigmoid far outside e^x's table (where both take Math.exp).
        const scale = step % 37 === 0 ? 1e6 : 1;
        for (let i = 0; i < width; i++) x[i] = scale * (rng.nextDouble() - 0.3);
        const learning = step < 200;
        for (const layer of [kernel, loops, simd]) learning ? layer.train(x) : layer.execute(x);
        const what = `${JSON.stringify(inputs)} step ${step}`;
        assert.deepEqual(bits(kernel.rmse), bits(loops.rmse), what);
        assert.deepEqual(bits(simd.rmse), bits(loops.rmse), `simd, ${what}`);
      }
      assert.deepEqual(stateOf(kernel), stateOf(loops), JSON.stringify(inputs));
      assert.deepEqual(stateOf(simd), stateOf(loops), `simd, ${JSON.stringify(inputs)}`);
    }
  });

  test("the feature mapper's SIMD update gives the loops' statistics, bit for bit", () => {
    const rng = new MersenneTwister(3);
    for (const n of [1, 2, 7, 16, 115]) {
      const loops = new CorrelationMapper(n), simd = new CorrelationMapper(n, true);
      assert.equal(simd.webAssembly, true);
      assert.equal(loops.webAssembly, false);
      for (let step = 0; step < 200; step++) {
        const x = Array.from({ length: n }, (_, i) => (rng.nextDouble() - 0.5) * 10 ** (i % 5));
        loops.update(x);
        simd.update(step % 2 === 0 ? x : Float64Array.from(x));
      }
      for (const key of ["sum", "residualSum", "residualSquares", "coResiduals"] as const) {
        assert.deepEqual(bits(simd[key]), bits(loops[key]), `n ${n}, ${key}`);
      }
      assert.deepEqual(simd.cluster(10), loops.cluster(10));
    }
  });

  test("reads a plain array as it reads a Float64Array, and a longer one up to its inputs", () => {
    const { kernel, loops } = layerPair([[0, 2], [1]], 0.75, 0.1);
    const rows = [[0.5, 1, 2, 99], [0.25, -1, 3, 99], [1, 0, 0, 99]];
    for (const row of rows) {
      kernel.train(row);
      loops.train(Float64Array.from(row.slice(0, 3)));
    }
    assert.deepEqual(bits(kernel.rmse), bits(loops.rmse));
  });

  for (const name of ["medium", "custom-map"]) {
    test(`KitNET on the ${name} vector: every score and the saved state, bit for bit`, () => {
      const vector = readKitNETVector(`vectors/kitnet/${name}.expected.json`);
      const rows = readSharedMatrix(`vectors/kitnet/${name}.input.csv.gz`);
      const run = (kernel: AutoencoderKernelKind) => {
        const k = new KitNET({
          n: rows[0].length,
          maxAutoencoderSize: vector.max_autoencoder_size,
          fmGracePeriod: vector.fm_grace,
          adGracePeriod: vector.ad_grace,
          learningRate: vector.learning_rate,
          hiddenRatio: vector.hidden_ratio,
          featureMap: vector.feature_map_given ? vector.feature_map : undefined,
          kernel,
        });
        const scores = rows.map((row) => k.process(row));
        assert.equal(k.kernel, kernel);
        return { scores: bits(scores), state: Array.from(k.toBytes()) };
      };
      const kernel = run("wasm"), loops = run("ts"), simd = run("simd");
      assert.deepEqual(kernel.scores, loops.scores);
      assert.deepEqual(kernel.state, loops.state);
      assert.deepEqual(simd.scores, loops.scores);
      assert.deepEqual(simd.state, loops.state);
    });
  }
});

describe("DampedStreamTable's cached decay factors", () => {
  test("streams whose gaps keep changing get the statistics computed afresh, bit for bit", () => {
    // The spec's 1-D stream, straight from its definition, with 2^(−λ·dt) computed every time.
    const lambdas = [5, 3, 1, 0.1, 0.01];
    interface Stream {
      cf1: number[];
      cf2: number[];
      w: number[];
      last: number;
    }
    const expected = new Map<string, Stream>();
    const table = new DampedStreamTable({ lambdas, maxStreams: 10, maxPairs: 0 });
    const out = new Float64Array(3 * lambdas.length);
    const rng = new MersenneTwister(11);
    const keys = ["a", "b", "c"];
    let t = 1000;
    for (let i = 0; i < 3000; i++) {
      // Few distinct gaps, so that the cache is hit, missed and refilled in every order.
      t += [0, 0.001, 0.25, 1.5][Math.floor(rng.nextDouble() * 4)];
      const key = keys[Math.floor(rng.nextDouble() * keys.length)];
      const v = Math.floor(rng.nextDouble() * 1500);
      let s = expected.get(key);
      if (s === undefined) {
        s = { cf1: [0, 0, 0, 0, 0], cf2: [0, 0, 0, 0, 0], w: new Array(5).fill(1e-20), last: t };
        expected.set(key, s);
      }
      const dt = t - s.last;
      const want: number[] = [];
      lambdas.forEach((lambda, l) => {
        if (dt > 0) {
          const f = exp2(-lambda * dt);
          s.cf1[l] *= f;
          s.cf2[l] *= f;
          s.w[l] *= f;
        }
        s.cf1[l] += v;
        s.cf2[l] += v * v;
        s.w[l] += 1;
        const mean = s.cf1[l] / s.w[l];
        want.push(s.w[l], mean, Math.abs(s.cf2[l] / s.w[l] - mean * mean));
      });
      if (dt > 0) s.last = t;
      table.update1D(key, v, t, out, 0);
      assert.deepEqual(bits(out), bits(want), `packet ${i}`);
    }
  });
});
