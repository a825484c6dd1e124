/**
 * A score timeline as a self-contained SVG: scores on a log axis against the instance index,
 * learning phases shaded (their legend on a row of its own, under the title), the threshold drawn
 * and the scores it judges marked where they exceed it.
 *
 * Long series are reduced to a min–max envelope per horizontal pixel, so the picture stays small
 * and every spike stays visible.
 *
 * @module
 */

/** A shaded span of the timeline. */
export interface TimelineSpan {
  /** Legend text. */
  label: string;
  /** First index (inclusive). */
  start: number;
  /** Last index (exclusive). */
  end: number;
  /** Fill colour. */
  color: string;
}

/** What to draw. */
export interface ScoreTimeline {
  /** One score per instance; non-positive scores (learning) are not drawn on the log axis. */
  scores: ArrayLike<number>;
  /** Title at the top. */
  title: string;
  /** Shaded spans such as the mapping and training phases. */
  spans?: TimelineSpan[];
  /** A horizontal threshold line. */
  threshold?: number;
  /**
   * Index of the first instance the threshold judges (default 0): those before it learned or
   * calibrated it, so they are not marked even above it.
   */
  thresholdFrom?: number;
  /** Picture width in pixels (default 1000). */
  width?: number;
  /** Picture height in pixels (default 420). */
  height?: number;
}

/** Room around the plot; the top grows by a row when there is a legend. */
const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };
/** The title's baseline and size. */
const TITLE = { y: 22, size: 15 };
/** The legend's row, between the title's descenders and the plot, when there is a legend. */
const LEGEND = { top: 32, swatch: 10, height: 14 };

/** Escapes text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** The smallest of 1, 2, 5 × 10^k that is at least `raw` (and at least 1). */
function niceStep(raw: number): number {
  if (!(raw > 1)) return 1;
  const decade = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * decade >= raw) return m * decade;
  return 10 * decade;
}

/** Renders the timeline. */
export function renderScoreTimelineSvg(timeline: ScoreTimeline): string {
  const { scores, title, spans = [], threshold } = timeline;
  const width = timeline.width ?? 1000;
  const height = timeline.height ?? 420;
  const count = scores.length;
  const shaded = spans.filter((span) => span.end > span.start && count > 0);
  const plotTop = shaded.length > 0 ? LEGEND.top + LEGEND.height + 6 : MARGIN.top;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - plotTop - MARGIN.bottom;
  const judgedFrom = Math.max(0, timeline.thresholdFrom ?? 0);

  let low = Infinity, high = -Infinity;
  for (let i = 0; i < count; i++) {
    const s = scores[i];
    if (s > 0 && s < Infinity) {
      if (s < low) low = s;
      if (s > high) high = s;
    }
  }
  if (threshold !== undefined && threshold > 0) {
    low = Math.min(low, threshold);
    high = Math.max(high, threshold);
  }
  const hasScores = low <= high;
  const decadeLow = hasScores ? Math.floor(Math.log10(low)) : -3;
  let decadeHigh = hasScores ? Math.ceil(Math.log10(high)) : 0;
  if (decadeHigh === decadeLow) decadeHigh++;

  const x = (index: number) => MARGIN.left + (count > 1 ? (index / (count - 1)) * plotWidth : 0);
  const y = (score: number) =>
    plotTop + plotHeight -
    ((Math.log10(score) - decadeLow) / (decadeHigh - decadeLow)) * plotHeight;
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${width / 2}" y="${TITLE.y}" text-anchor="middle" ` +
      `font-size="${TITLE.size}">${escapeXml(title)}</text>`,
  );
  for (const span of shaded) {
    const x0 = x(Math.max(0, span.start));
    const x1 = x(Math.min(count - 1, span.end));
    parts.push(
      `<rect x="${f(x0)}" y="${plotTop}" width="${f(Math.max(1, x1 - x0))}" ` +
        `height="${plotHeight}" fill="${escapeXml(span.color)}" opacity="0.35"/>`,
    );
  }
  // Axes, decade grid lines and labels.
  for (let d = decadeLow; d <= decadeHigh; d++) {
    const yy = y(10 ** d);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${f(yy)}" y2="${f(yy)}" ` +
        `stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${f(yy + 4)}" text-anchor="end">1e${d}</text>`,
    );
  }
  const step = niceStep(count / 6);
  for (let index = 0; index < count; index += step) {
    const xx = x(index);
    parts.push(
      `<line x1="${f(xx)}" x2="${f(xx)}" y1="${plotTop + plotHeight}" ` +
        `y2="${plotTop + plotHeight + 5}" stroke="#333"/>`,
      `<text x="${f(xx)}" y="${plotTop + plotHeight + 18}" text-anchor="middle">` +
        `${index.toLocaleString("en-US")}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${plotTop}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">` +
      `instance</text>`,
    `<text transform="translate(16 ${plotTop + plotHeight / 2}) rotate(-90)" ` +
      `text-anchor="middle">anomaly score (log)</text>`,
  );

  // Min–max envelope per pixel column; anomalies (≥ threshold, among the instances it judges) as
  // red dots.
  const columns = Math.max(1, Math.min(count, Math.floor(plotWidth)));
  const path: string[] = [];
  const marks: string[] = [];
  for (let c = 0; c < columns; c++) {
    const start = Math.floor((c * count) / columns);
    const end = Math.floor(((c + 1) * count) / columns);
    let min = Infinity, max = -Infinity, judgedMax = -Infinity, judgedMaxIndex = start;
    for (let i = start; i < end; i++) {
      const s = scores[i];
      if (!(s > 0 && s < Infinity)) continue;
      if (s < min) min = s;
      if (s > max) max = s;
      if (i >= judgedFrom && s > judgedMax) {
        judgedMax = s;
        judgedMaxIndex = i;
      }
    }
    if (min > max) continue;
    const xx = x((start + end - 1) / 2);
    path.push(`M${f(xx)} ${f(y(min))}V${f(Math.min(y(max), y(min) - 0.8))}`);
    if (threshold !== undefined && judgedMax >= threshold) {
      marks.push(
        `<circle cx="${f(x(judgedMaxIndex))}" cy="${f(y(judgedMax))}" r="2.5" fill="#d62728"/>`,
      );
    }
  }
  if (path.length > 0) {
    parts.push(`<path d="${path.join("")}" stroke="#1f77b4" stroke-width="1.2" fill="none"/>`);
  }
  parts.push(...marks);
  if (threshold !== undefined && threshold > 0) {
    const yy = y(threshold);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${f(yy)}" y2="${f(yy)}" ` +
        `stroke="#d62728" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + 6}" y="${f(yy - 5)}" ` +
        `fill="#d62728">threshold ${threshold.toPrecision(3)}</text>`,
    );
  }
  // Legend: on its own row under the title, so a long title cannot run into it.
  if (shaded.length > 0) {
    parts.push(`<g class="legend">`);
    let lx = MARGIN.left;
    for (const span of shaded) {
      parts.push(
        `<rect x="${lx}" y="${LEGEND.top + 2}" width="12" height="${LEGEND.swatch}" fill="${
          escapeXml(span.color)
        }" opacity="0.6"/>`,
        `<text x="${lx + 16}" y="${LEGEND.top + LEGEND.swatch + 1}">${
          escapeXml(span.label)
        }</text>`,
      );
      lx += 24 + span.label.length * 7;
    }
    parts.push(`</g>`);
  }
  if (!hasScores) {
    parts.push(
      `<text x="${MARGIN.left + plotWidth / 2}" y="${plotTop + plotHeight / 2}" ` +
        `text-anchor="middle" fill="#888">no scores yet (still learning)</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
