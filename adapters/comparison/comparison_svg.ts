/**
 * A comparison as a picture: four panels side by side (ROC AUC, F1 at the threshold, instances
 * per second on a log axis, state bytes per device on a log axis), one bar per detector in each.
 *
 * @module
 */

import { escapeXml } from "../plot/mod.ts";
import type { Comparison, ComparisonRow } from "./compare_detectors.ts";

/** A panel: its title, how a row gives its value, and its axis. */
interface Panel {
  title: string;
  value: (row: ComparisonRow) => number;
  log: boolean;
  format: (v: number) => string;
}

const PANELS: readonly Panel[] = [
  { title: "ROC AUC", value: (r) => r.rocAuc, log: false, format: (v) => v.toFixed(3) },
  { title: "F1 at its threshold", value: (r) => r.f1, log: false, format: (v) => v.toFixed(3) },
  {
    title: "instances/s (log)",
    value: (r) => r.instancesPerSecond,
    log: true,
    format: (v) => compact(v),
  },
  { title: "state bytes per device (log)", value: (r) => r.stateBytes, log: true, format: compact },
];

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/** 12,345 as "12.3k", 4,500,000 as "4.5M". */
function compact(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  return v.toPrecision(3);
}

/** The comparison's SVG document (bars of an unmeasured value are left out and marked "—"). */
export function renderComparisonSvg(comparison: Comparison): string {
  const { rows } = comparison;
  const panelWidth = 240, panelHeight = 220, top = 70, left = 20, barArea = 160;
  const width = left * 2 + panelWidth * PANELS.length;
  const height = top + panelHeight + 60;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="24" font-size="16">${
      escapeXml(`foxtail compare · ${comparison.stream}`)
    }</text>`,
    `<text x="${left}" y="44" fill="#555">${
      escapeXml(
        `${comparison.instances.measured.toLocaleString("en-US")} instances measured` +
          (Number.isNaN(comparison.anomalies)
            ? " (no labels)"
            : `, ${comparison.anomalies.toLocaleString("en-US")} of them anomalies`),
      )
    }</text>`,
  ];
  PANELS.forEach((panel, p) => {
    const x0 = left + p * panelWidth;
    const values = rows.map(panel.value);
    const finite = values.filter((v) => Number.isFinite(v) && v > 0);
    const max = panel.log ? Math.max(...finite, 10) * 2 : 1;
    const min = panel.log ? Math.max(1, Math.min(...finite, max / 10) / 2) : 0;
    const heightOf = (v: number) =>
      panel.log
        ? barArea * (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))
        : barArea * Math.min(1, Math.max(0, v));
    const baseline = top + 20 + barArea;
    parts.push(
      `<g class="panel">`,
      `<text x="${x0 + 10}" y="${top}" font-weight="bold">${escapeXml(panel.title)}</text>`,
      `<line x1="${x0 + 10}" y1="${baseline}" x2="${x0 + panelWidth - 20}" y2="${baseline}" ` +
        `stroke="#333"/>`,
    );
    const slot = (panelWidth - 40) / Math.max(1, rows.length);
    rows.forEach((row, r) => {
      const v = values[r];
      const bx = x0 + 15 + r * slot;
      const bw = slot * 0.7;
      if (Number.isFinite(v) && (!panel.log || v > 0)) {
        const h = Math.max(1, heightOf(v));
        parts.push(
          `<rect class="bar" x="${bx.toFixed(1)}" y="${(baseline - h).toFixed(1)}" ` +
            `width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${
              COLOURS[r % COLOURS.length]
            }"><title>${escapeXml(`${row.detector}: ${panel.format(v)}`)}</title></rect>`,
          `<text x="${(bx + bw / 2).toFixed(1)}" y="${(baseline - h - 4).toFixed(1)}" ` +
            `text-anchor="middle">${escapeXml(panel.format(v))}</text>`,
        );
      } else {
        parts.push(
          `<text x="${(bx + bw / 2).toFixed(1)}" y="${baseline - 4}" text-anchor="middle">—</text>`,
        );
      }
      parts.push(
        `<text x="${(bx + bw / 2).toFixed(1)}" y="${baseline + 16}" text-anchor="middle">${
          escapeXml(row.detector)
        }</text>`,
      );
    });
    parts.push(`</g>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
