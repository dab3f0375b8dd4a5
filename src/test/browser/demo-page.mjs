// Must show 1: the demo page at `/` connects and shows `open`, displays events published through the HTTP
// API (with the time from publish to display, measured on this machine's clock), and its stats panel, fed
// by the page's own stream, shows a new connection. Writes a screenshot for a person to look at.
// Usage: node demo-page.mjs <baseUrl> <screenshot.png>. Prints JSON lines; the last is {kind: 'result'}.
import { getJson, hold, out, publish, run, sleep, until } from './lib.mjs';

const [base, screenshot] = process.argv.slice(2);

await run(90_000, async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => out({ kind: 'pageerror', error: String(e) }));
  await page.goto(base + '/');
  await until('badge shows open', 20_000, async () => (await page.textContent('#state')) === 'open');
  const stat = async (name) => page.textContent(`[data-stat="${name}"]`);
  await until('stats panel filled', 20_000, async () => /^\d+$/.test(await stat('activeConnections')));

  const latencies = [];
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const answer = await publish(base, { type: 'demo_check', data: { n: i } });
    ids.push(answer.id);
    const li = await page.waitForSelector(`#events li.event[data-id="${answer.id}"][data-type="demo_check"]`,
      { timeout: 10_000 });
    latencies.push(Number(await li.getAttribute('data-shown-at')) - t0);
    await sleep(200);
  }

  const before = Number(await stat('activeConnections'));
  const totalBefore = Number(await stat('totalConnections'));
  const extra = await hold(base, 'userId=demo-extra');
  await until('stats panel shows the new connection', 20_000,
    async () => Number(await stat('activeConnections')) === before + 1);
  const after = Number(await stat('activeConnections'));
  const totalAfter = Number(await stat('totalConnections'));
  const server = await getJson(base, '/api/sse/stats');
  await page.screenshot({ path: screenshot, fullPage: true });
  extra.close();

  out({
    kind: 'result',
    state: await page.textContent('#state'),
    ids,
    shown: await page.$$eval('#events li.event', (lis) => lis.map((li) => li.dataset.type + ' ' + li.dataset.id)),
    controlWithId: await page.$$eval('#events li.control[data-id]', (lis) => lis.length),
    latencies,
    before, after, totalBefore, totalAfter,
    serverActive: server.activeConnections,
    statsRequests: requests.filter((u) => u.includes('/api/sse/stats')).length,
    streamRequests: requests.filter((u) => u.includes('/api/sse/stream')),
  });
});
