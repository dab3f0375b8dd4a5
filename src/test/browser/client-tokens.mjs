// Must show 3: sse-hub.js on the fetch transport with a getToken() whose tokens live 3 s. One renewal is
// slow (the identity provider takes 2.5 s), so that stream reaches its exp and gets token_expired. Events
// are published all along; the page must get each once, and no request URL may carry a token.
// Usage: node client-tokens.mjs <baseUrl> <rsa-private.pem> <seconds>. The last JSON line is {kind: 'result'}.
import { mint, out, publish, run, sleep, until } from './lib.mjs';

const [base, keyFile, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 14);

await run(120_000, async (browser) => {
  const page = await browser.newPage();
  const minted = [];
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization || null,
    lastEventId: r.headers()['last-event-id'] || null }));
  page.on('pageerror', (e) => out({ kind: 'pageerror', error: String(e) }));
  await page.exposeFunction('mintToken', () => {
    const t = mint(keyFile, { sub: 'renewer', expiresInSec: 3 });
    minted.push(t);
    return t;
  });
  await page.goto(base + '/q/health/live');
  await page.evaluate(async () => {
    const { connect } = await import('/sse-hub.js');
    window.calls = 0;
    window.renewed = 0;
    window.expired = 0;
    window.seen = [];
    window.client = connect({
      getToken: async () => {
        const n = ++window.calls;
        if (n === 3) await new Promise((r) => setTimeout(r, 2500)); // a slow identity provider, once
        return window.mintToken();
      },
      onTokenRenewed: () => window.renewed++,
    });
    window.client.on('token_expired', () => window.expired++);
    window.client.on('tok_evt', (e) => window.seen.push(e.id));
  });
  await until('open', 20_000, () => page.evaluate(() => window.client.state === 'open'));

  const publisher = mint(keyFile, { sub: 'backend', groups: ['sse-publisher'], expiresInSec: 600 });
  const published = [];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end || (await page.evaluate(() => window.renewed)) < 3
      || (await page.evaluate(() => window.expired)) < 1) {
    if (Date.now() > end + 30_000) break;
    published.push((await publish(base, { type: 'tok_evt', data: n++ }, publisher)).id);
    await sleep(150);
  }
  await until('every event', 30_000, async () => (await page.evaluate(() => window.seen.length)) >= published.length);
  await sleep(1500);
  const streamRequests = requests.filter((r) => r.url.includes('/api/sse/stream'));
  out({
    kind: 'result',
    published,
    seen: await page.evaluate(() => window.seen),
    getTokenCalls: await page.evaluate(() => window.calls),
    renewed: await page.evaluate(() => window.renewed),
    tokenExpired: await page.evaluate(() => window.expired),
    transport: await page.evaluate(() => window.client.transport),
    streamRequests,
    urlsWithToken: requests.filter((r) => r.url.includes('access_token')
      || minted.some((t) => r.url.includes(t) || r.url.includes(t.split('.')[2]))).map((r) => r.url),
    minted: minted.length,
  });
  await page.evaluate(() => window.client.close());
});
