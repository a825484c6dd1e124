/**
 * The dashboard page: one self-contained HTML document (inline CSS and script, no CDN, no build
 * step).
 *
 * @module
 */

/** The page, with `nonce` on its inline style and script (the Content-Security-Policy's). */
export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>foxtail</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif}</style></head>
<body><h1>foxtail</h1><script nonce="${nonce}"></script></body></html>`;
}
