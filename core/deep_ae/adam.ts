/**
 * The Adam optimiser (Kingma & Ba) with Keras's update rule:
 *
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
 *   lr_t = lr·√(1 − β2^t) / (1 − β1^t),  p ← p − lr_t·m / (√v + ε)
 *
 * (ε is added to √v, not to the bias-corrected √v̂ as in the paper's Algorithm 1; this is what
 * Keras and TensorFlow do.) β^t is kept as a running product rather than `Math.pow`, so every
 * runtime computes the same step.
 *
 * @module
 */

/** Hyper-parameters of {@linkcode Adam}. */
export interface AdamOptions {
  /** Step size. Default 0.001. */
  learningRate?: number;
  /** Decay of the first-moment estimate. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment estimate. Default 0.999. */
  beta2?: number;
  /** Added to √v. Default 1e-8. */
  epsilon?: number;
}

/** Adam over a fixed list of parameter arrays, updated in place. */
export class Adam {
  /** Step size. */
  readonly learningRate: number;
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Added to √v. */
  readonly epsilon: number;
  #parameters: Float64Array[];
  #m: Float64Array[];
  #v: Float64Array[];
  #steps = 0;
  #beta1Power = 1;
  #beta2Power = 1;

  /** An optimiser of `parameters` (updated in place) by `options`. */
  constructor(parameters: Float64Array[], options: AdamOptions = {}) {
    this.learningRate = checkPositive(options.learningRate ?? 0.001, "learningRate");
    this.beta1 = checkFraction(options.beta1 ?? 0.9, "beta1");
    this.beta2 = checkFraction(options.beta2 ?? 0.999, "beta2");
    this.epsilon = checkPositive(options.epsilon ?? 1e-8, "epsilon");
    this.#parameters = parameters;
    this.#m = parameters.map((p) => new Float64Array(p.length));
    this.#v = parameters.map((p) => new Float64Array(p.length));
  }

  /** Steps taken. */
  get steps(): number {
    return this.#steps;
  }

  /** Applies one update with `gradients` (same shapes and order as the parameters). */
  step(gradients: readonly Float64Array[]): void {
    if (gradients.length !== this.#parameters.length) {
      throw new RangeError(
        `Adam.step needs ${this.#parameters.length} gradient arrays, got ${gradients.length}`,
      );
    }
    this.#steps++;
    this.#beta1Power *= this.beta1;
    this.#beta2Power *= this.beta2;
    const lr = this.learningRate * Math.sqrt(1 - this.#beta2Power) / (1 - this.#beta1Power);
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const eps = this.epsilon;
    for (let a = 0; a < this.#parameters.length; a++) {
      const p = this.#parameters[a];
      const g = gradients[a];
      const m = this.#m[a];
      const v = this.#v[a];
      if (g.length !== p.length) {
        throw new RangeError(`gradient ${a} has ${g.length} entries, its parameter ${p.length}`);
      }
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + c1 * gi;
        const vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * mi / (Math.sqrt(vi) + eps);
      }
    }
  }
}

function checkPositive(value: number, field: string): number {
  if (!(value > 0 && value < Infinity)) {
    throw new RangeError(`${field} must be a finite number > 0, got ${value}`);
  }
  return value;
}

function checkFraction(value: number, field: string): number {
  if (!(value >= 0 && value < 1)) throw new RangeError(`${field} must be in [0, 1), got ${value}`);
  return value;
}
