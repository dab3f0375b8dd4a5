// Opens an EventSource in headless Chromium on the service's origin and reports, one JSON line per
// event on stdout, what the page sees. The Java test (BrowserReconnectTest) drives the server side.
// Usage: node reconnect.mjs <baseUrl> <query>. Ends when stdin closes, or after 120 s.
import { chromium } from 'playwright-core';

const [baseUrl, query] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const stop = async (code) => {
  await browser.close().catch(() => {});
  process.exit(code);
};
setTimeout(() => { out({ kind: 'timeout' }); stop(2); }, 120_000);
process.stdin.on('end', () => stop(0));
process.stdin.resume();

try {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.text().startsWith('{')) process.stdout.write(msg.text() + '\n');
  });
  await page.goto(baseUrl + '/q/health/live');
  await page.evaluate((q) => {
    const log = (o) => console.log(JSON.stringify(o));
    const es = new EventSource('/api/sse/stream?' + q);
    es.addEventListener('connection_established', (e) => log({ kind: 'established', data: JSON.parse(e.data) }));
    es.addEventListener('browser_evt', (e) => log({ kind: 'event', id: e.lastEventId, data: e.data }));
    es.addEventListener('replay_truncated', (e) => log({ kind: 'truncated', data: e.data }));
    es.onerror = () => log({ kind: 'error', readyState: es.readyState });
  }, query);
  out({ kind: 'ready' });
} catch (e) {
  out({ kind: 'failed', error: String(e) });
  await stop(1);
}
