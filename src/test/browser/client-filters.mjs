// Must show 4: typed handlers and topic/type filters deliver only what was asked; close() stops every
// reconnection (while open, and while backing off after a 429); replay_truncated reaches its callback.
// Usage: node client-filters.mjs <baseUrl>. The last JSON line is {kind: 'result'}.
import { getJson, hold, out, publish, run, sleep, until } from './lib.mjs';

const [base] = process.argv.slice(2);

await run(120_000, async (browser) => {
  const page = await browser.newPage();
  const streamRequests = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/sse/stream')) streamRequests.push({ url: r.url(), at: Date.now() });
  });
  page.on('pageerror', (e) => out({ kind: 'pageerror', error: String(e) }));
  await page.goto(base + '/q/health/live');
  await page.evaluate(async () => {
    window.hub = await import('/sse-hub.js');
  });
  const result = { kind: 'result' };

  // 1. Typed handlers and filters: topics [t1], types [alpha, beta].
  await page.evaluate(() => {
    window.got = { alpha: [], beta: [], any: [] };
    window.a = window.hub.connect({ topics: ['t1'], types: ['alpha', 'beta'] });
    window.a.on('alpha', (e) => window.got.alpha.push(e.data));
    window.a.on('beta', (e) => window.got.beta.push(e.data));
    window.a.on('*', (e) => window.got.any.push(e.type + ':' + e.data));
  });
  await until('a open', 20_000, () => page.evaluate(() => window.a.state === 'open'));
  const sent = [
    { type: 'alpha', data: 'alpha-t1', target: { topics: ['t1'] } },
    { type: 'gamma', data: 'gamma-t1', target: { topics: ['t1'] } },
    { type: 'alpha', data: 'alpha-t2', target: { topics: ['t2'] } },
    { type: 'beta', data: 'beta-t1', target: { topics: ['t1'] } },
    { type: 'alpha', data: 'alpha-broadcast' },
    { type: 'gamma', data: 'gamma-broadcast' },
    { type: 'beta', data: 'end', target: { topics: ['t1', 't2'] } },
  ];
  for (const e of sent) await publish(base, e);
  await until('the end marker', 20_000, () => page.evaluate(() => window.got.beta.includes('end')));
  await sleep(500);
  result.filters = { sent: sent.map((e) => e.type + ':' + e.data), got: await page.evaluate(() => window.got) };
  await page.evaluate(() => window.a.close());

  // 2a. close() while open: the stream ends and nothing reconnects.
  await page.evaluate(() => {
    window.b = window.hub.connect({ userId: 'closer' });
  });
  await until('b open', 20_000, () => page.evaluate(() => window.b.state === 'open'));
  let closedAt = Date.now();
  await page.evaluate(() => window.b.close());
  await sleep(3000);
  result.closeWhileOpen = {
    state: await page.evaluate(() => window.b.state),
    requestsAfterClose: streamRequests.filter((r) => r.at > closedAt && r.url.includes('userId=closer')).length,
    serverStreams: (await getJson(base, '/api/sse/connections?userId=closer')).total,
  };

  // 2b. close() while backing off after 429 (sse.max-connections-per-user=1): then free the slot; no
  // attempt may follow.
  const holder = await hold(base, 'userId=limited');
  await page.evaluate(() => {
    window.cAttempts = [];
    window.c = window.hub.connect({ userId: 'limited', backoffBaseMs: 300, onReconnect: (a) => window.cAttempts.push(a) });
  });
  await until('a refused attempt', 30_000, () => page.evaluate(() => window.cAttempts.length >= 1));
  closedAt = Date.now();
  await page.evaluate(() => window.c.close());
  holder.close();
  await sleep(5000);
  result.closeWhileBackingOff = {
    attempts: await page.evaluate(() => window.cAttempts),
    state: await page.evaluate(() => window.c.state),
    requestsAfterClose: streamRequests.filter((r) => r.at > closedAt && r.url.includes('userId=limited')).length,
    serverStreams: (await getJson(base, '/api/sse/connections?userId=limited')).total,
  };

  // 3. replay_truncated: resume from an id older than the replay log.
  const held = await publish(base, { type: 'kept', data: 'still held' });
  await page.evaluate(() => {
    window.truncated = [];
    window.kept = [];
    window.d = window.hub.connect({ lastEventId: '1-0', onReplayTruncated: (info) => window.truncated.push(info) });
    window.d.on('kept', (e) => window.kept.push(e.id));
  });
  await until('the replayed event', 20_000, () => page.evaluate(() => window.kept.length >= 1));
  result.truncated = { callback: await page.evaluate(() => window.truncated), kept: await page.evaluate(() => window.kept),
    heldId: held.id };
  await page.evaluate(() => window.d.close());
  out(result);
});
