// The demo page at `/`: a live stream through sse-hub.js, a publish form and the service's figures, fed
// by the page's own stream (stats=true). Plain DOM, no framework. See docs/client.md.
import { connect } from '/sse-hub.js';

const $ = (sel) => document.querySelector(sel);
const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const MAX_LOG = 200;

let client = null;
const token = () => sessionStorage.getItem('sse-hub-demo-token') || '';

function log(ev, control) {
  const li = document.createElement('li');
  const now = new Date();
  li.dataset.type = ev.type;
  li.dataset.shownAt = String(now.getTime());
  if (ev.id) li.dataset.id = ev.id;
  li.className = control ? 'control' : 'event';
  const parts = [['time', now.toISOString().slice(11, 23)], ['id', ev.id || '(no id)'], ['type', ev.type],
    ['data', ev.raw === undefined ? '' : ev.raw]];
  for (const [cls, text] of parts) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text + ' ';
    li.append(span);
  }
  const ol = $('#events');
  ol.prepend(li);
  while (ol.children.length > MAX_LOG) ol.lastElementChild.remove();
}

function showStats(figures) {
  for (const dd of document.querySelectorAll('[data-stat]')) {
    const v = figures[dd.dataset.stat];
    dd.textContent = dd.dataset.stat === 'uptimeSeconds' ? `${v} s` : String(v);
  }
}

function start() {
  if (client) client.close();
  const form = $('#connect-form');
  const t = form.token.value.trim();
  if (t) sessionStorage.setItem('sse-hub-demo-token', t);
  else sessionStorage.removeItem('sse-hub-demo-token');
  client = connect({
    topics: list(form.topics.value),
    types: list(form.types.value),
    stats: true,
    // fetch: the log shows every event type (EventSource dispatches only the names it was told).
    transport: 'fetch',
    lastEventId: sessionStorage.getItem('sse-hub-demo-last-id') || undefined,
    // With a token: Authorization: Bearer, never a token in a URL.
    getToken: t ? () => token() : undefined,
    onStateChange: (state) => {
      $('#state').textContent = state;
      $('#state').dataset.state = state;
    },
    onReconnect: (a) => {
      const why = a.status ? `${a.status}${a.problem ? ' ' + a.problem.title : ''}` : a.reason;
      $('#connection-note').textContent = `Reconnecting in ${(a.delayMs / 1000).toFixed(1)} s (${why}, attempt ${a.attempt})`;
      if (a.status === 401) $('#auth-hint').hidden = false;
    },
    onReplayTruncated: (info) => {
      $('#connection-note').textContent = `Some events were lost (resumed from ${info.requested}, oldest held `
        + `${info.oldest}): a real application reloads its state here.`;
    },
  });
  client.on('connection_established', (e) => {
    $('#client').textContent = `client ${e.data.clientId}` + (e.data.userId ? ` · user ${e.data.userId}` : '');
    $('#connection-note').textContent = `Heartbeat every ${e.data.heartbeatIntervalMs / 1000} s.`;
    $('#auth-hint').hidden = true;
  });
  client.on('stats', (e) => showStats(e.data));
  client.on('connection_established', (e) => log(e, true));
  client.on('replay_truncated', (e) => log(e, true));
  client.on('token_expired', (e) => log(e, true));
  client.on('*', (e) => {
    sessionStorage.setItem('sse-hub-demo-last-id', e.id);
    log(e, false);
  });
}

async function publish(ev) {
  ev.preventDefault();
  const form = ev.target;
  const out = $('#publish-result');
  let data;
  try {
    data = form.data.value.trim() === '' ? null : JSON.parse(form.data.value);
  } catch (e) {
    out.textContent = `Data is not JSON: ${e.message}`;
    return;
  }
  const body = { type: form.type.value.trim(), data };
  const topics = list(form.topics.value);
  if (topics.length) body.target = { topics };
  const headers = { 'Content-Type': 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const res = await fetch('/api/sse/events', { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => null);
  if (res.ok) {
    out.textContent = `Published ${answer.id} to ${answer.delivered} stream(s) of this instance.`;
  } else {
    out.textContent = `${res.status} ${answer ? answer.title + ': ' + answer.detail : ''}`;
    if (res.status === 401 || res.status === 403) $('#auth-hint').hidden = false;
  }
}

$('#connect-form').token.value = token();
$('#connect-form').addEventListener('submit', (e) => { e.preventDefault(); start(); });
$('#disconnect').addEventListener('click', () => client && client.close());
$('#publish-form').addEventListener('submit', publish);
$('#clear').addEventListener('click', () => { $('#events').textContent = ''; });
start();
