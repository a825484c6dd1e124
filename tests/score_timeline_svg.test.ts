/**
 * The score timeline SVG: the legend keeps clear of the title, and the threshold marks only the
 * scores it judges (none in the calibration band, whose scores set it), fed as `score` and
 * `pcap` feed it, through the timeline recorder.
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderScoreTimelineSvg, TimelineRecorder } from "../adapters/plot/mod.ts";

/** A box on the picture, in pixels. */
interface Box {
  what: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Attributes of an SVG start tag. */
function attributes(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/**
 * A generous box of a one-line `<text>`: a sans-serif glyph is taken as 0.6 em wide, the line
 * from 0.8 em above the baseline to 0.25 em below it.
 */
function textBox(tag: string, content: string, fontSize: number): Box {
  const a = attributes(tag);
  const x = Number(a.x), baseline = Number(a.y);
  const size = Number(a["font-size"] ?? fontSize);
  const width = content.length * size * 0.6;
  const left = a["text-anchor"] === "middle" ? x - width / 2 : x;
  return {
    what: `text "${content}"`,
    left,
    right: left + width,
    top: baseline - 0.8 * size,
    bottom: baseline + 0.25 * size,
  };
}

function rectBox(tag: string): Box {
  const a = attributes(tag);
  const [x, y, width, height] = [a.x, a.y, a.width, a.height].map(Number);
  return { what: `rect at ${x},${y}`, left: x, right: x + width, top: y, bottom: y + height };
}

function overlap(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** The title's box and the legend's boxes (swatches and labels) of an SVG. */
function titleAndLegend(svg: string): { title: Box; legend: Box[]; plot: Box } {
  const title = svg.match(/(<text class="title"[^>]*>)([^<]*)<\/text>/);
  assert.ok(title, "a title");
  const group = svg.match(/<g class="legend">([\s\S]*?)<\/g>/);
  assert.ok(group, "a legend");
  const legend = [
    ...[...group[1].matchAll(/<rect [^>]*>/g)].map((m) => rectBox(m[0])),
    ...[...group[1].matchAll(/(<text [^>]*>)([^<]*)<\/text>/g)].map((m) => textBox(m[1], m[2], 12)),
  ];
  const frame = svg.match(/<rect [^>]*fill="none" stroke="#333"\/>/);
  assert.ok(frame, "the plot's frame");
  return { title: textBox(title[1], title[2], 12), legend, plot: rectBox(frame[0]) };
}

/** Centres of the alert markers. */
function markers(svg: string): number[] {
  return [...svg.matchAll(/<circle [^>]*>/g)].map((m) => Number(attributes(m[0]).cx));
}

describe("score timeline SVG", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-timeline-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the legend overlaps neither the title (however long) nor the plot", () => {
    const spans = [
      { label: "mapping", start: 0, end: 100, color: "#c7e9c0" },
      { label: "training", start: 100, end: 300, color: "#fdd0a2" },
      { label: "calibrating", start: 300, end: 400, color: "#dadaeb" },
    ];
    const scores = Float64Array.from({ length: 1000 }, (_, i) => (i < 300 ? 0 : 0.1 + i / 1e4));
    for (const title of ["short", "foxtail · kitnet scores of Kitsune's features of ".repeat(3)]) {
      const svg = renderScoreTimelineSvg({ scores, title, spans, threshold: 0.2 });
      const boxes = titleAndLegend(svg);
      assert.equal(boxes.legend.length, 2 * spans.length);
      for (const box of boxes.legend) {
        assert.ok(!overlap(box, boxes.title), `${box.what} overlaps the title "${title}"`);
        assert.ok(box.bottom <= boxes.plot.top, `${box.what} runs into the plot`);
      }
    }
  });

  test("calibration scores above the later threshold are not marked as alerts", () => {
    // As score and pcap feed it: 0 while learning, then the calibration window, then scores
    // judged by the threshold the window set: three of them over it.
    const recorder = new TimelineRecorder();
    const phases = [["mapping", 100], ["training", 200], ["calibrating", 200]] as const;
    for (const [phase, count] of phases) {
      for (let i = 0; i < count; i++) recorder.record(phase, phase === "calibrating" ? 5 : 0);
    }
    const spikes = [650, 700, 750];
    for (let i = 500; i < 800; i++) recorder.record("executing", spikes.includes(i) ? 3 : 0.1);
    const path = join(dir, "timeline.svg");
    recorder.writeSvg(path, "calibration above the threshold", 1);
    const svg = readFileSync(path, "utf8");

    const band = [...svg.matchAll(/<rect [^>]*fill="#dadaeb" opacity="0.35"\/>/g)];
    assert.equal(band.length, 1, "one calibration band");
    const { right: bandEnd } = rectBox(band[0][0]);
    const marks = markers(svg);
    assert.equal(marks.length, spikes.length, `markers at ${marks.join(", ")}`);
    for (const cx of marks) assert.ok(cx > bandEnd, `a marker at ${cx}, in the band`);
  });

  test("a run that never got past calibrating marks nothing", () => {
    const recorder = new TimelineRecorder();
    for (let i = 0; i < 50; i++) recorder.record("calibrating", 5);
    const path = join(dir, "calibrating.svg");
    recorder.writeSvg(path, "still calibrating", 1);
    const svg = readFileSync(path, "utf8");
    assert.match(svg, /<text [^>]*>calibrating<\/text>/);
    assert.deepEqual(markers(svg), []);
  });
});
