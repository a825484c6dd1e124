/**
 * Activation functions of dense layers, applied in place to a batch, and their derivatives
 * expressed through the layer's outputs (which is all backpropagation keeps).
 *
 * @module
 */

import { portableSigmoid, portableTanh } from "../math/mod.ts";

/** An activation function of a dense layer. */
export type Activation = "tanh" | "linear" | "sigmoid" | "relu";

/** Every supported activation, for validation and serialisation (index = stored code). */
export const ACTIVATIONS: readonly Activation[] = ["linear", "tanh", "sigmoid", "relu"];

/** Throws a `RangeError` naming `field` unless `value` is a supported activation. */
export function checkActivation(value: unknown, field: string): Activation {
  if (!ACTIVATIONS.includes(value as Activation)) {
    throw new RangeError(
      `${field} must be one of ${ACTIVATIONS.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as Activation;
}

/** Replaces `values[0 .. length)` (pre-activations) by `activation` of them. */
export function activate(activation: Activation, values: Float64Array, length: number): void {
  switch (activation) {
    case "linear":
      return;
    case "tanh":
      for (let i = 0; i < length; i++) values[i] = portableTanh(values[i]);
      return;
    case "sigmoid":
      for (let i = 0; i < length; i++) values[i] = portableSigmoid(values[i]);
      return;
    case "relu":
      for (let i = 0; i < length; i++) if (!(values[i] > 0)) values[i] = 0;
      return;
  }
}

/**
 * Multiplies `gradients[i]` by the derivative of `activation` at the point whose output is
 * `outputs[i]`, for i < length: tanh′ = 1 − y², sigmoid′ = y(1 − y), ReLU′ = [y > 0].
 */
export function multiplyByDerivative(
  activation: Activation,
  outputs: Float64Array,
  gradients: Float64Array,
  length: number,
): void {
  switch (activation) {
    case "linear":
      return;
    case "tanh":
      for (let i = 0; i < length; i++) {
        const y = outputs[i];
        gradients[i] *= 1 - y * y;
      }
      return;
    case "sigmoid":
      for (let i = 0; i < length; i++) {
        const y = outputs[i];
        gradients[i] *= y * (1 - y);
      }
      return;
    case "relu":
      for (let i = 0; i < length; i++) if (!(outputs[i] > 0)) gradients[i] = 0;
      return;
  }
}
