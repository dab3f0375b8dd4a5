// Shared by the browser scripts: headless Debian chromium through playwright-core (no browser download),
// one JSON line per observation on stdout, and small HTTP helpers for the service under test.
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Launches chromium and opens a page on `url`; the page's console JSON lines go to stdout too. */
export async function launch(limitMs) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const timer = setTimeout(async () => {
    out({ kind: 'timeout' });
    await browser.close().catch(() => {});
    process.exit(2);
  }, limitMs);
  return {
    browser,
    async close() {
      clearTimeout(timer);
      await browser.close().catch(() => {});
    },
  };
}

/** Runs `main`, reporting a failure as {kind: 'failed'} and exiting 1. */
export async function run(limitMs, main) {
  const b = await launch(limitMs);
  try {
    await main(b.browser);
    await b.close();
    process.exit(0);
  } catch (e) {
    out({ kind: 'failed', error: String(e && e.stack || e) });
    await b.close();
    process.exit(1);
  }
}

/** Polls `fn` until it returns a truthy value; throws after `ms`. */
export async function until(what, ms, fn) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('not within ' + ms + ' ms: ' + what);
    await sleep(50);
  }
}

/** POSTs an event; returns the 202 answer. */
export async function publish(base, event, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(base + '/api/sse/events', { method: 'POST', headers, body: JSON.stringify(event) });
  if (res.status !== 202) throw new Error('publish answered ' + res.status + ': ' + await res.text());
  return res.json();
}

export async function getJson(base, path, token) {
  const res = await fetch(base + path, { headers: token ? { Authorization: 'Bearer ' + token } : {} });
  if (!res.ok) throw new Error(path + ' answered ' + res.status);
  return res.json();
}

/** Opens a stream from node and waits for its first frame; close() ends it. */
export async function hold(base, query) {
  const ctrl = new AbortController();
  const res = await fetch(base + '/api/sse/stream?' + query, { signal: ctrl.signal, headers: { Accept: 'text/event-stream' } });
  if (res.status !== 200) throw new Error('holder refused: ' + res.status);
  const reader = res.body.getReader();
  let text = '';
  while (!text.includes('connection_established')) {
    const { value, done } = await reader.read();
    if (done) throw new Error('holder stream ended');
    text += Buffer.from(value).toString();
  }
  (async () => {
    try {
      for (;;) {
        const { done } = await reader.read();
        if (done) return;
      }
    } catch (e) {
      // aborted
    }
  })();
  return { close: () => ctrl.abort() };
}

/** An RS256 JWT signed with the test key (src/test/resources/keys), like the Java tests' Tokens. */
export function mint(keyFile, { sub, groups, expiresInSec, issuer = 'https://issuer.ssehub.test', audience = 'sse-hub' }) {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { iss: issuer, aud: audience, sub, iat: now - 1, exp: now + expiresInSec };
  if (groups) claims.groups = groups;
  const head = b64({ alg: 'RS256', typ: 'JWT', kid: 'test-rsa' }) + '.' + b64(claims);
  const sig = createSign('RSA-SHA256').update(head).sign(readFileSync(keyFile, 'utf8')).toString('base64url');
  return head + '.' + sig;
}
