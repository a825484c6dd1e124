/**
 * A detector's learning against the length of a short input: an input known to end before the
 * detector would score anything (its default learning lengths, e.g. KitNET's grace periods, are
 * longer) makes it learn from the input's first half instead, said on standard error; learning
 * flags the user gave are kept, and the run's end says why nothing was scored.
 *
 * @module
 */

import type { ModelFlag, ModelOptions } from "../../core/detector.ts";
import { detectorType } from "../../core/registry.ts";

/** The share of a short input that the fitted learning takes; the rest is scored. */
const LEARNING_SHARE = 0.5;

/** How the learning was fitted to the input: the model to use, and what to tell the user. */
export interface LearningFit {
  /** `model`, or a copy whose learning lengths fit the input. */
  model: ModelOptions;
  /** Why and how they changed, for standard error; absent when they did not. */
  note?: string;
}

/** The learning lengths the type chooses for `instances` (DetectorType.learningWithin). */
function learningWithin(model: ModelOptions, instances: number): ModelOptions {
  const type = detectorType(model.type);
  if (type.learningWithin === undefined) {
    throw new RangeError(`model type ${model.type} does not learn online`);
  }
  return type.learningWithin(instances);
}

/** The flags of `model`'s type that set the lengths in `lengths` (a learningWithin result). */
function flagsOf(model: ModelOptions, lengths: ModelOptions): ModelFlag[] {
  return detectorType(model.type).flags.filter((f) => f.key in lengths);
}

/** `--fm-grace 60 --ad-grace 539`: `flags` as `model` sets them. */
function flagValues(model: ModelOptions, flags: readonly ModelFlag[]): string {
  return flags.map((f) => `--${f.flag} ${model[f.key]}`).join(" ");
}

/** `--fm-grace/--ad-grace`. */
function flagNames(flags: readonly ModelFlag[]): string {
  return flags.map((f) => `--${f.flag}`).join("/");
}

/** "6,000". */
function count(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * `model` for an input of `instances` instances (`input` says so, e.g. "the capture holds 1,200
 * packets"; `unit` names them), given that it learns from the first `learningTotal` before its
 * first score: unchanged when it scores some of them or when one of its learning flags was
 * given; else learning from the input's first half, with a note saying so.
 */
export function fitLearning(
  model: ModelOptions,
  instances: number,
  learningTotal: number,
  input: string,
  unit: string,
): LearningFit {
  if (instances === 0 || instances > learningTotal) return { model };
  const fitted = learningWithin(model, Math.floor(instances * LEARNING_SHARE));
  const flags = flagsOf(model, fitted);
  if (flags.length === 0 || flags.some((f) => model[f.key] !== undefined)) return { model };
  const scaled = { ...model, ...fitted };
  return {
    model: scaled,
    note: `${input}, no more than the ${count(learningTotal)} ${unit} that ${model.type} learns ` +
      `from by default before its first score: learning from the first half instead ` +
      `(${flagValues(scaled, flags)}); set ${flagNames(flags)} to choose`,
  };
}

/**
 * Why a run of `instances` instances scored none: `model` learns from the first `learningTotal`
 * (with the learning flags given, or its defaults), which is more than the input held.
 */
export function nothingScoredNote(
  model: ModelOptions,
  instances: number,
  learningTotal: number,
  unit: string,
): string {
  const flags = flagsOf(model, learningWithin(model, instances));
  const given = flags.filter((f) => model[f.key] !== undefined);
  const lengths = given.length > 0 ? flagValues(model, given) : `${model.type}'s defaults`;
  return `nothing was scored: the learning periods (${lengths}: the first ` +
    `${count(learningTotal)} ${unit} before the first score) exceed the ${count(instances)} ` +
    `${unit} read; set ${flagNames(flags)} lower to score some`;
}
