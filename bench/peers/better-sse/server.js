// better-sse broadcast peer for the SSE benchmark (plain node:http, one process, one thread).
//
//   node server.js --port P [--host 127.0.0.1]
//
// GET  /stream[?userId=u1]      opens a session; it joins the "all" channel and, with userId, that user's channel
// POST /publish[?userId=u1]     body = JSON; broadcast(JSON.parse(body), 'bench') to "all" or to the user's channel
//                               answers 202 (400 on bad JSON, 404 for an unknown user)
// GET  /stats                   {"sessions":n,"users":n}
'use strict';

const http = require('node:http');
const { createSession, createChannel } = require('better-sse');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const port = Number(opt('--port', '8090'));
const host = opt('--host', '127.0.0.1');

const all = createChannel();
const users = new Map(); // userId -> Channel

function userChannel(id) {
  let c = users.get(id);
  if (!c) {
    c = createChannel();
    users.set(id, c);
    c.on('session-deregistered', () => {
      if (c.sessionCount === 0) users.delete(id);
    });
  }
  return c;
}

function query(url) {
  const q = url.indexOf('?');
  return q < 0 ? [url, new URLSearchParams()] : [url.slice(0, q), new URLSearchParams(url.slice(q + 1))];
}

const server = http.createServer((req, res) => {
  const [path, params] = query(req.url);
  if (req.method === 'GET' && path === '/stream') {
    // keepAlive 30 s: the same heartbeat interval the hub is run with.
    createSession(req, res, { keepAlive: 30000 }).then(
      (session) => {
        all.register(session);
        const userId = params.get('userId');
        if (userId) userChannel(userId).register(session);
      },
      () => res.destroy(),
    );
    return;
  }
  if (req.method === 'POST' && path === '/publish') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let data;
      try {
        data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'Content-Length': '0' }).end();
        return;
      }
      const userId = params.get('userId');
      const channel = userId ? users.get(userId) : all;
      if (!channel) {
        res.writeHead(404, { 'Content-Length': '0' }).end();
        return;
      }
      channel.broadcast(data, 'bench');
      res.writeHead(202, { 'Content-Length': '0' }).end();
    });
    return;
  }
  if (req.method === 'GET' && path === '/stats') {
    const body = JSON.stringify({ sessions: all.sessionCount, users: users.size });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return;
  }
  res.writeHead(404, { 'Content-Length': '0' }).end();
});

// Publishers keep their connection across the whole run; streams never time out.
server.keepAliveTimeout = 120000;
server.headersTimeout = 60000;
server.requestTimeout = 0;
server.listen(port, host, () => console.error(`better-sse peer listening on ${host}:${port}`));

const stop = () => {
  console.error(`better-sse peer: ${all.sessionCount} sessions at exit`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
