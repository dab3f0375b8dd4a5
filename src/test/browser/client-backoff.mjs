// Must show 2: sse-hub.js on the EventSource transport while the service is full (sse.max-clients): the
// client reports each attempt it schedules (delay, Retry-After floor, backoff ceiling, status), reconnects
// when a slot frees, resumes from its last id, and the page gets every event once.
// Usage: node client-backoff.mjs <baseUrl> <maxClients>. The last JSON line is {kind: 'result'}.
import { hold, out, publish, run, sleep, until } from './lib.mjs';

const [base, maxClientsArg] = process.argv.slice(2);
const maxClients = Number(maxClientsArg);

await run(120_000, async (browser) => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => out({ kind: 'pageerror', error: String(e) }));
  // What the browser did on the network, as measured here: the EventSource's requests and the client's
  // status probes (fetch), with the probes' answers.
  const net = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/sse/stream')) net.push({ phase: 'request', type: r.resourceType(), at: Date.now() });
  });
  page.on('response', (r) => {
    if (r.url().includes('/api/sse/stream')) {
      net.push({ phase: 'response', type: r.request().resourceType(), status: r.status(), at: Date.now() });
    }
  });
  await page.goto(base + '/q/health/live');
  await page.evaluate(async () => {
    const { connect } = await import('/sse-hub.js');
    window.seen = [];
    window.attempts = [];
    window.states = [];
    window.client = connect({
      userId: 'browser',
      backoffBaseMs: 500,
      backoffCapMs: 4000,
      onStateChange: (s) => window.states.push(s),
      onReconnect: (a) => window.attempts.push(a),
    });
    window.client.on('backoff_evt', (e) => window.seen.push(e.id));
  });
  const seen = () => page.evaluate(() => window.seen.slice());
  const published = [];
  const send = async (n) => published.push((await publish(base, { type: 'backoff_evt', data: n })).id);

  await until('open', 20_000, () => page.evaluate(() => window.client.state === 'open'));
  for (let i = 0; i < 5; i++) await send(i);
  await until('first five events', 20_000, async () => (await seen()).length === 5);

  // Close the page's stream on the server and take every slot before its EventSource comes back (it waits
  // sse.retry); should it win a slot on a slow machine, close it again.
  const kick = async () => {
    const list = await (await fetch(base + '/api/sse/connections?userId=browser')).json();
    for (const c of list.connections) await fetch(base + '/api/sse/connections/' + c.clientId, { method: 'DELETE' });
    return list.connections.length;
  };
  if (await kick() !== 1) throw new Error('the page did not hold one stream');
  const holders = [];
  for (let tries = 0; holders.length < maxClients; tries++) {
    try {
      holders.push(await hold(base, 'userId=holder-' + holders.length));
    } catch (e) {
      if (tries > 10) throw e;
      await kick();
    }
  }
  for (let i = 5; i < 10; i++) await send(i);
  await until('three refused attempts', 60_000,
    () => page.evaluate(() => window.attempts.filter((a) => a.status === 503).length >= 3));
  const refusedWhileFull = await page.evaluate(() => window.attempts.length);

  holders.pop().close(); // one slot frees
  await until('open again', 60_000, () => page.evaluate(() => window.client.state === 'open'));
  for (let i = 10; i < 12; i++) await send(i);
  await until('every event', 30_000, async () => (await seen()).length >= published.length);
  await sleep(1500); // a duplicate would come right behind
  holders.forEach((h) => h.close());

  out({
    kind: 'result',
    published,
    seen: await seen(),
    attempts: await page.evaluate(() => window.attempts),
    refusedWhileFull,
    net,
    states: await page.evaluate(() => window.states),
    transport: await page.evaluate(() => window.client.transport),
    lastEventId: await page.evaluate(() => window.client.lastEventId),
  });
  await page.evaluate(() => window.client.close());
});
