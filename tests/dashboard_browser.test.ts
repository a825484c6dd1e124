/// <reference lib="dom" />
// The functions passed to page.evaluate run in the browser.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ensureSystemPackages } from "../scripts/ensure_system_packages.mjs";
import { DEMO_STEP_SECONDS, demoFaultTiming } from "../adapters/demo/mod.ts";
import { FaultSchedule } from "../adapters/demo/mod.ts";
import { sensorProfile } from "../adapters/demo/mod.ts";
import { startDemoProcess } from "./support/demo_process.ts";
import { ROOT } from "./support/shared.ts";

/** Debian's chromium. */
const CHROMIUM = "/usr/bin/chromium";

/** Quiet, sandbox-free headless Chromium that talks to nothing but the page it is given. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where the screenshot goes (for a person to look at). */
const SCREENSHOT = join(ROOT, ".tmp", "dashboard.png");

const DEVICES = 3;

/** Readings per second per node: fast, so that the page shows scores and an alert in seconds. */
const STEPS_PER_SECOND = 200;

/** The node the demo's first fault hits. */
const FIRST_FAULTY =
  sensorProfile(new FaultSchedule({ ...demoFaultTiming(), nodes: DEVICES }).window(0).node).name;

/** The demo, the browser and the chart updates are all slow on a loaded machine. */
const WAIT_MS = 60_000;

/** Polls `check` (every 200 ms) until it holds; fails after {@linkcode WAIT_MS}. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("dashboard in headless Chromium", () => {
  test("opens a running demo's dashboard, sees charts grow and an alert, saves a screenshot", {
    timeout: 300_000,
  }, async () => {
    ensureSystemPackages(["chromium"]);
    const speed = STEPS_PER_SECOND * DEMO_STEP_SECONDS;
    const state = mkdtempSync(join(tmpdir(), "foxtail-demo-browser-"));
    const demo = await startDemoProcess([
      ...["--port", "0", "--devices", `${DEVICES}`, "--speed", `${speed}`, "--state", state],
    ]);
    const profile = mkdtempSync(join(tmpdir(), "foxtail-chromium-"));
    let code: number | null;
    try {
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = context.pages()[0] ?? await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(demo.url, { waitUntil: "load", timeout: WAIT_MS });
        await page.waitForSelector('#events[data-state="live"]', { timeout: WAIT_MS });
        const charts = page.locator("svg.chart[data-device]");
        await charts.nth(DEVICES - 1).waitFor({ timeout: WAIT_MS });
        assert.equal(await charts.count(), DEVICES);
        const devices = (await charts.evaluateAll((svgs) =>
          svgs.map((svg) =>
            svg.getAttribute("data-device") ?? ""
          )
        )).sort();
        assert.deepEqual(devices, ["cold-store", "greenhouse", "pump-house"]);

        // Live updates: every chart gets more points than it had a moment ago.
        const points = () =>
          charts.evaluateAll((svgs) => svgs.map((svg) => Number(svg.getAttribute("data-points"))));
        const before = await points();
        await until(
          async () => (await points()).every((count, i) => count > before[i] + 10),
          `every chart to grow from ${before.join(", ")} points`,
        );
        // Each chart draws what it received (up to its capacity).
        const drawn = await charts.evaluateAll((svgs) =>
          svgs.map((svg) => Number(svg.getAttribute("data-drawn")))
        );
        for (const count of drawn) assert.ok(count > 0, `a chart draws ${count} points`);

        // Every change of a card's state, recorded as it happens: a fault at this speed lasts
        // under a second, too short to catch by looking now and then.
        await page.evaluate(() => {
          const log: string[] = [];
          (window as unknown as { stateLog: string[] }).stateLog = log;
          new MutationObserver((changes) => {
            for (const m of changes) {
              const card = m.target as Element;
              if (!card.matches("article.device")) continue;
              log.push(card.getAttribute("data-device") + ":" + card.getAttribute("data-state"));
            }
          }).observe(document.getElementById("devices")!, {
            subtree: true,
            attributes: true,
            attributeFilter: ["data-state"],
          });
        });
        const stateLog = () =>
          page.evaluate(() => (window as unknown as { stateLog: string[] }).stateLog);

        // Once the detectors have learned, the first fault shows up as an alert on its node.
        const executing = page.locator('article.device[data-phase="executing"]');
        await executing.nth(DEVICES - 1).waitFor({ timeout: 4 * WAIT_MS });
        const alert = page.locator(`#alerts tr[data-device="${FIRST_FAULTY}"]`).first();
        // (The alert log is collapsed: its rows are there, not shown.)
        await alert.waitFor({ state: "attached", timeout: 4 * WAIT_MS });
        assert.match((await alert.textContent())!, new RegExp(FIRST_FAULTY));
        // The alert's anomaly is already counted on its node's card and in the gateway's counters
        // (the score came first on the same event stream), not only at the next status refresh.
        const anomalies = await page.evaluate((id) => [
          document.querySelector(`article.device[data-device="${id}"] [data-field="anomalies"]`)
            ?.textContent,
          document.querySelector('[data-counter="anomalies"]')?.textContent,
        ], FIRST_FAULTY);
        for (const text of anomalies) assert.ok(Number(text?.replace(/,/g, "")) >= 1, `${text}`);

        // The fault is one incident: its row opens, then closes a quiet period after the fault,
        // with a start, a duration and the features behind it; the card went alerting and back.
        const incident = page.locator(`#incidents tr[data-device="${FIRST_FAULTY}"]`);
        await incident.first().waitFor({ timeout: 4 * WAIT_MS });
        const closed = page.locator(
          `#incidents tr[data-device="${FIRST_FAULTY}"][data-state="closed"]`,
        );
        await closed.first().waitFor({ timeout: 4 * WAIT_MS });
        const cells = await closed.first().locator("td").allTextContents();
        assert.equal(cells[0], "closed");
        assert.match(cells[1], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, "the start, dated");
        assert.match(cells[2], /^\d+(\.\d)? (s|min|h)$/, "the duration");
        assert.match(cells[6], /^[a-z]+ \d+ %/, "the top features with their shares");
        await until(async () => {
          const log = (await stateLog()).filter((e) => e.startsWith(FIRST_FAULTY + ":"));
          const alerting = log.indexOf(FIRST_FAULTY + ":alerting");
          return alerting >= 0 && log.slice(alerting).includes(FIRST_FAULTY + ":normal");
        }, `${FIRST_FAULTY}'s card to turn alerting and back to normal`);

        mkdirSync(join(ROOT, ".tmp"), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        assert.ok(statSync(SCREENSHOT).size > 10_000, "the screenshot holds a picture");
        assert.deepEqual(errors, [], "the page threw no error");
      } finally {
        await context.close();
      }
    } finally {
      code = await demo.stop("SIGTERM");
      rmSync(profile, { recursive: true, force: true });
    }
    try {
      assert.equal(code, 0, demo.stderr());
      assert.match(demo.stderr(), /foxtail demo: SIGTERM: stopping/);
      // Restarted on the same state: the incidents are still listed, from the snapshot.
      const again = await startDemoProcess([
        ...["--port", "0", "--devices", `${DEVICES}`, "--speed", "1", "--state", state],
      ]);
      try {
        const listed = await (await fetch(new URL("api/incidents", again.url))).json();
        const devices = listed.incidents.map((i: { device: string }) => i.device);
        assert.ok(devices.includes(FIRST_FAULTY), `incidents after the restart: ${devices}`);
        // And the last hour's chart: the device's downsampled scores came back with it.
        const hour = await (await fetch(
          new URL(`api/devices/${FIRST_FAULTY}/history?range=hour`, again.url),
        )).json();
        const scored = hour.points.filter((p: { learning: boolean }) => !p.learning);
        assert.ok(scored.length > 0, `the last hour after the restart: ${JSON.stringify(hour)}`);
      } finally {
        assert.equal(await again.stop("SIGTERM"), 0, again.stderr());
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
