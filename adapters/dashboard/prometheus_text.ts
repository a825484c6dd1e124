/**
 * A writer of the Prometheus text exposition format (version 0.0.4): each metric family gets its
 * `# HELP` and `# TYPE` lines once, then its samples; label values are escaped (`\\`, `\"`,
 * `\n`) so a device id can never break a line or forge another sample.
 *
 * @module
 */

/** The `Content-Type` of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A metric family's type. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value with backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** HELP text with backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value: Go-style `NaN`, `+Inf`, `-Inf`, or the shortest decimal. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Builds one exposition, family by family. */
export class PrometheusText {
  readonly #lines: string[] = [];
  readonly #declared = new Set<string>();

  /**
   * Declares a family (its HELP and TYPE lines). Throws for an invalid or repeated name, since
   * either would make the whole exposition unparsable.
   */
  family(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new RangeError(`invalid metric name "${name}"`);
    if (this.#declared.has(name)) throw new RangeError(`metric "${name}" declared twice`);
    this.#declared.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** Adds a sample of the family declared last under `name`. */
  sample(name: string, value: number, labels: Labels = {}): this {
    if (!this.#declared.has(name)) throw new RangeError(`metric "${name}" is not declared`);
    const pairs: string[] = [];
    for (const [label, text] of Object.entries(labels)) {
      if (!LABEL_NAME.test(label)) throw new RangeError(`invalid label name "${label}"`);
      pairs.push(`${label}="${escapeLabelValue(text)}"`);
    }
    const labelText = pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
    this.#lines.push(`${name}${labelText} ${formatValue(value)}`);
    return this;
  }

  /**
   * Declares a histogram family with its samples: `<name>_bucket` for each upper bound (`le`,
   * cumulative counts) and `+Inf`, then `<name>_sum` and `<name>_count`. `counts` are per bucket,
   * one more than `bounds` (the last: above every bound).
   */
  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    counts: readonly number[],
    sum: number,
  ): this {
    if (counts.length !== bounds.length + 1) {
      throw new RangeError(
        `histogram "${name}": ${bounds.length} bounds need ${bounds.length + 1} counts`,
      );
    }
    this.family(name, "histogram", help);
    // The samples carry suffixes of the family's name, which sample() would not know.
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += counts[i];
      const le = i < bounds.length ? formatValue(bounds[i]) : "+Inf";
      this.#lines.push(`${name}_bucket{le="${le}"} ${formatValue(cumulative)}`);
    }
    this.#lines.push(`${name}_sum ${formatValue(sum)}`, `${name}_count ${formatValue(cumulative)}`);
    return this;
  }

  /** Declares a family with a single unlabelled sample. */
  single(name: string, type: "counter" | "gauge", help: string, value: number): this {
    return this.family(name, type, help).sample(name, value);
  }

  /** The exposition, ending with a line feed. */
  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}
