/**
 * Binary classification metrics, the positive class being "attack" (label 1 / true):
 * confusion matrix, accuracy, precision, recall, F1 of each class and their macro and
 * support-weighted means (scikit-learn's `average="weighted"`, the F1 Dlamini et al. report),
 * and the threshold-free ROC AUC and PR AUC (average precision) of a score.
 *
 * Undefined ratios (0/0, e.g. precision with no predicted positives) are 0, as in scikit-learn.
 *
 * @module
 */

/** A label or prediction: 1 / true is the positive class (attack), 0 / false negative. */
export type BinaryLabel = number | boolean;

/** Counts of a binary confusion matrix. */
export interface ConfusionMatrix {
  /** Attacks flagged. */
  truePositives: number;
  /** Normal rows flagged. */
  falsePositives: number;
  /** Normal rows passed. */
  trueNegatives: number;
  /** Attacks missed. */
  falseNegatives: number;
}

/** Everything {@linkcode classificationReport} derives from a confusion matrix. */
export interface ClassificationReport {
  /** The counts. */
  confusion: ConfusionMatrix;
  /** (TP + TN) / all. */
  accuracy: number;
  /** TP / (TP + FP): of the rows flagged, the share that are attacks. */
  precision: number;
  /** TP / (TP + FN): of the attacks, the share flagged (detection rate). */
  recall: number;
  /** Harmonic mean of precision and recall (attack class). */
  f1: number;
  /** FP / (FP + TN): of the normal rows, the share flagged. */
  falsePositiveRate: number;
  /** F1 of the normal class (normal as positive). */
  normalF1: number;
  /** Unweighted mean of both classes' F1. */
  macroF1: number;
  /** Mean of both classes' F1 weighted by their support (actual counts). */
  weightedF1: number;
}

/** Counts how `predicted` agrees with `actual` (arrays of the same length). */
export function confusionMatrix(
  actual: ArrayLike<BinaryLabel>,
  predicted: ArrayLike<BinaryLabel>,
): ConfusionMatrix {
  if (actual.length !== predicted.length) {
    throw new RangeError(
      `actual has ${actual.length} labels but predicted has ${predicted.length}`,
    );
  }
  const m: ConfusionMatrix = {
    truePositives: 0,
    falsePositives: 0,
    trueNegatives: 0,
    falseNegatives: 0,
  };
  for (let i = 0; i < actual.length; i++) {
    const a = positive(actual[i], "actual", i);
    const p = positive(predicted[i], "predicted", i);
    if (a) {
      if (p) m.truePositives++;
      else m.falseNegatives++;
    } else if (p) m.falsePositives++;
    else m.trueNegatives++;
  }
  return m;
}

/** Accuracy, per-class and averaged F1, precision and recall of a confusion matrix. */
export function classificationReport(m: ConfusionMatrix): ClassificationReport {
  const { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = m;
  const total = tp + fp + tn + fn;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 = ratio(2 * tp, 2 * tp + fp + fn);
  const normalF1 = ratio(2 * tn, 2 * tn + fn + fp);
  const positives = tp + fn;
  const negatives = tn + fp;
  return {
    confusion: { ...m },
    accuracy: ratio(tp + tn, total),
    precision,
    recall,
    f1,
    falsePositiveRate: ratio(fp, fp + tn),
    normalF1,
    macroF1: (f1 + normalF1) / 2,
    weightedF1: ratio(f1 * positives + normalF1 * negatives, total),
  };
}

/** Predictions `score ≥ threshold` (1) or not (0). */
export function predictAtThreshold(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] >= threshold ? 1 : 0;
  return out;
}

/**
 * Area under the ROC curve of `scores` (higher = more anomalous) against `labels`: the
 * probability that a random attack scores above a random normal row, ties counting one half
 * (Mann–Whitney U with mid-ranks). Needs both classes.
 */
export function rocAuc(labels: ArrayLike<BinaryLabel>, scores: ArrayLike<number>): number {
  const order = sortedIndices(labels, scores, "rocAuc");
  const n = order.length;
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const midRank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let i = start; i < end; i++) {
      if (positive(labels[order[i]], "labels", order[i])) {
        positives++;
        rankSum += midRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  checkBothClasses(positives, negatives, "rocAuc");
  return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

/**
 * Area under the precision–recall curve as average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct
 * score thresholds from the highest down (tied scores form one step), as scikit-learn's
 * `average_precision_score`. Needs at least one attack.
 */
export function prAuc(labels: ArrayLike<BinaryLabel>, scores: ArrayLike<number>): number {
  const order = sortedIndices(labels, scores, "prAuc");
  const n = order.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (positive(labels[i], "labels", i)) total++;
  checkBothClasses(total, 1, "prAuc");
  let tp = 0;
  let seen = 0;
  let area = 0;
  let previousRecall = 0;
  for (let end = n; end > 0;) {
    let start = end - 1;
    while (start > 0 && scores[order[start - 1]] === scores[order[end - 1]]) start--;
    for (let i = start; i < end; i++) if (positive(labels[order[i]], "labels", order[i])) tp++;
    seen += end - start;
    const recall = tp / total;
    area += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
    end = start;
  }
  return area;
}

/** Indices of `scores` in ascending score order, after checking both arrays. */
function sortedIndices(
  labels: ArrayLike<BinaryLabel>,
  scores: ArrayLike<number>,
  what: string,
): Uint32Array {
  if (labels.length !== scores.length) {
    throw new RangeError(`${what}: ${labels.length} labels but ${scores.length} scores`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]) || typeof scores[i] !== "number") {
      throw new RangeError(`${what}: score ${i} is ${scores[i]}, not a number`);
    }
  }
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b] || a - b);
  return order;
}

function checkBothClasses(positives: number, negatives: number, what: string): void {
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `${what} needs both classes, got ${positives} attacks and ${negatives} normal rows`,
    );
  }
}

function positive(value: BinaryLabel, field: string, index: number): boolean {
  if (value === 1 || value === true) return true;
  if (value === 0 || value === false) return false;
  throw new RangeError(`${field}[${index}] must be 0, 1, true or false, got ${value}`);
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}
