/**
 * `GET /`: the page, with a fresh nonce for its inline style and script in a strict
 * Content-Security-Policy (nothing else may load or run).
 *
 * @module
 */

import { Hono } from "hono";
import { dashboardPage } from "../page.ts";

/** A fresh nonce for the page's Content-Security-Policy. */
function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** The page's route. */
export function pageRoute(): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const n = nonce();
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${n}'; style-src 'nonce-${n}'; ` +
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; " +
        "frame-ancestors 'none'",
    );
    return c.html(dashboardPage(n));
  });
  return app;
}
