/// <reference lib="dom" />
// The functions passed to page.evaluate and waitForFunction run in the browser.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ensureSystemPackages } from "../scripts/ensure_system_packages.mjs";
import { startDashboard } from "../adapters/dashboard/mod.ts";
import { LATENCY_BOUNDS_MS, latencyQuantileBound } from "../core/gateway/mod.ts";
import { OfflineGateway, XSS_DEVICE, XSS_FIELD } from "./support/dashboard_fixtures.ts";

const TOKEN = "s3cret-token-0123456789";

/** The browser and the event stream are slow on a loaded machine. */
const WAIT_MS = 60_000;

describe("dashboard page in headless Chromium (hostile ids, live chart, controls)", () => {
  before(() => {
    ensureSystemPackages(["chromium"]);
  });

  test("live charts, counters, alerts and controls; hostile ids stay text", {
    timeout: 300_000,
  }, async () => {
    const g = new OfflineGateway(["t", XSS_FIELD, "v"]);
    const shots = mkdtempSync(join(tmpdir(), "foxtail-dashboard-shots-"));
    const server = await startDashboard(g.gateway, { port: 0, token: TOKEN });
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      g.learn(XSS_DEVICE);
      assert.ok(g.fault(XSS_DEVICE));
      g.feed("boiler", 3);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("dialog", (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      await page.goto(server.url);
      await page.waitForSelector('#events[data-state="live"]', { timeout: WAIT_MS });

      // The hostile device is a card titled with its id as text; nothing it carries ran.
      await page.waitForFunction(
        () => document.querySelectorAll("article.device").length === 2,
        undefined,
        { timeout: WAIT_MS },
      );
      const titles = await page.locator("article.device h3").allTextContents();
      assert.deepEqual(titles.sort(), [XSS_DEVICE, "boiler"].sort());
      assert.equal(await page.evaluate(() => "__xss" in window), false);
      assert.equal(await page.locator("img").count(), 0);
      assert.equal(await page.locator("script").count(), 1);
      const alertRow = page.locator("#alerts tr").first();
      assert.equal(await alertRow.locator("td").nth(1).textContent(), XSS_DEVICE);
      assert.ok((await alertRow.locator("td").nth(4).textContent())!.includes(XSS_FIELD));

      // The chart follows the event stream.
      const chart = page.locator(`svg.chart[data-device="boiler"]`);
      const points = async () => Number(await chart.getAttribute("data-points"));
      const drawn = (n: number) =>
        page.waitForFunction(
          (n) =>
            Number(
              document.querySelector('svg.chart[data-device="boiler"]')?.getAttribute(
                "data-points",
              ),
            ) >= n,
          n,
          { timeout: WAIT_MS },
        );
      const seeded = 3;
      await drawn(seeded);
      assert.equal(await points(), seeded, "seeded from the score history");
      const more = 5;
      g.feed("boiler", more);
      await drawn(seeded + more);
      assert.equal(await points(), seeded + more);
      assert.equal(await chart.getAttribute("data-drawn"), String(seeded + more));
      // Dragging across the middle of the chart zooms into that window; a double-click undoes.
      const box = (await chart.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(
        () =>
          document.querySelector('svg.chart[data-device="boiler"]')?.getAttribute("data-zoom") ===
            "on",
        undefined,
        { timeout: WAIT_MS },
      );
      const inWindow = Number(await chart.getAttribute("data-drawn"));
      assert.ok(inWindow > 0 && inWindow < seeded + more, `${inWindow} points in the window`);
      await chart.dblclick();
      await page.waitForFunction(
        () =>
          document.querySelector('svg.chart[data-device="boiler"]')?.getAttribute("data-zoom") ===
            "off",
        undefined,
        { timeout: WAIT_MS },
      );
      assert.equal(await chart.getAttribute("data-drawn"), String(seeded + more));
      const messages = g.gateway.status().counters.messages;
      await page.waitForFunction(
        (n) => document.querySelector('[data-counter="messages"]')?.textContent === n,
        messages.toLocaleString("en"),
        { timeout: WAIT_MS },
      );
      // The p99 of the time in the gateway, as the bucket bound the status gives.
      const p99 = latencyQuantileBound(g.gateway.status().scoreLatency.counts, 0.99);
      const top = LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
      await page.waitForFunction(
        (text) => document.querySelector('[data-counter="latency"]')?.textContent === text,
        p99 === Infinity ? `> ${top.toLocaleString("en")} ms` : `≤ ${p99.toLocaleString("en")} ms`,
        { timeout: WAIT_MS },
      );
      await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
      assert.ok(statSync(join(shots, "dashboard.png")).size > 10_000);

      // Controls: refused with a wrong token, done with the right one.
      await page.locator("#control-panel summary").click();
      await page.locator("#token").fill("wrong-token-wrong-token");
      await page.locator("#snapshot-now").click();
      await page.waitForFunction(
        () => document.getElementById("control-result")?.textContent?.startsWith("refused: "),
        undefined,
        { timeout: WAIT_MS },
      );
      assert.equal(g.gateway.store.sequences().length, 0);
      await page.locator("#token").fill(TOKEN);
      await page.locator("#snapshot-now").click();
      await page.waitForFunction(
        () => document.getElementById("control-result")?.textContent?.startsWith("done: "),
        undefined,
        { timeout: WAIT_MS },
      );
      assert.equal(g.gateway.store.sequences().length, 1);
      await page.waitForFunction(
        () => document.querySelector('[data-counter="snapshot-age"]')?.textContent !== "none yet",
        undefined,
        { timeout: WAIT_MS },
      );

      // The wrong token's 401 is the only complaint: no CSP violation, no script error.
      assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
    } finally {
      await browser.close();
      await server.close();
      g.dispose();
      rmSync(shots, { recursive: true, force: true });
    }
  });

  test("2,000 devices: one page of cards, the alerting device first, a bounded load", {
    timeout: 300_000,
  }, async () => {
    const fleet = 2000;
    const g = new OfflineGateway(undefined, undefined, fleet + 10);
    const server = await startDashboard(g.gateway, { port: 0 });
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      for (let k = 0; k < fleet - 1; k++) g.feed(`sensor-${String(k).padStart(4, "0")}`);
      g.learn("zz-boiler");
      assert.ok(g.fault("zz-boiler"));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(new URL(r.url()).pathname));
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForSelector('#events[data-state="live"]', { timeout: WAIT_MS });
      // The alerting device, last by id, is the first card, in its colour.
      await page.waitForFunction(
        () => {
          const first = document.querySelector("#devices article.device");
          return first?.getAttribute("data-device") === "zz-boiler" &&
            first.getAttribute("data-state") === "alerting";
        },
        undefined,
        { timeout: WAIT_MS },
      );
      await page.waitForFunction(
        () => document.querySelectorAll("svg.chart[data-points]").length === 24,
        undefined,
        { timeout: WAIT_MS },
      );
      assert.equal(await page.locator("article.device").count(), 24, "one page of cards");
      assert.match((await page.locator("#page-range").textContent())!, /^1–24 of 2,000$/);
      assert.match((await page.locator("#fleet-states").textContent())!, /^1 alerting/);
      // The first load: page, status, incidents, alerts, one page of devices, the event stream
      // and the page's 24 charts; never one request per device of the fleet.
      const scoreRequests = requests.filter((path) => /\/scores$/.test(path)).length;
      assert.equal(scoreRequests, 24);
      assert.ok(requests.length <= 40, `${requests.length} requests: ${requests.join(" ")}`);
      // Searching finds a device on no page shown, and the next page is another 24.
      await page.locator("#device-search").fill("sensor-1998");
      await page.waitForFunction(
        () => document.querySelectorAll("article.device").length === 1,
        undefined,
        { timeout: WAIT_MS },
      );
      assert.equal(
        await page.locator("article.device").first().getAttribute("data-device"),
        "sensor-1998",
      );
      await page.locator("#device-search").fill("");
      await page.waitForFunction(
        () => document.getElementById("page-range")?.textContent === "1–24 of 2,000",
        undefined,
        { timeout: WAIT_MS },
      );
      await page.locator("#page-next").click();
      await page.waitForFunction(
        () => document.getElementById("page-range")?.textContent === "25–48 of 2,000",
        undefined,
        { timeout: WAIT_MS },
      );
      // After the alerting device and 23 sensors, the next page starts at sensor-0023.
      await page.waitForFunction(
        () =>
          document.querySelector("#devices article.device")?.getAttribute("data-device") ===
            "sensor-0023",
        undefined,
        { timeout: WAIT_MS },
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      g.dispose();
    }
  });
});
