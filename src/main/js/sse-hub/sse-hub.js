// sse-hub.js: the browser client of SSE Hub. An ES module with no dependency and no build step.
// Served by the service at /sse-hub.js; documented in docs/client.md. Wire format and control events:
// docs/sse_api_usage.md ("Wire format"). The SSE parsing follows WHATWG HTML, "Server-sent events"
// (9.2.6 "Interpreting an event stream").

/** Connection states, in the order a client normally goes through them. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  OPEN: 'open',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
});

/** The frames the service sends itself (no `id:` line); everything else is a published event. */
export const CONTROL_EVENTS = Object.freeze(['connection_established', 'heartbeat', 'replay_truncated',
  'token_expired', 'stats']);

const DEFAULTS = {
  url: '/api/sse/stream',
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  renewBeforeMs: 30000,
};

/**
 * One logical stream that stays connected until close(): it reconnects after every end or refusal and
 * resumes from the last event id it saw, so the application gets each event once, in order.
 */
export class SseHubClient {
  /** @param {import('./sse-hub').SseHubOptions} [options] */
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    const hasGetToken = typeof this.options.getToken === 'function';
    if (hasGetToken && this.options.transport === 'eventsource') {
      throw new TypeError('getToken needs the fetch transport: EventSource cannot send an Authorization header');
    }
    /** 'fetch' with getToken() or when asked for; else the browser's EventSource. */
    this.transport = hasGetToken ? 'fetch' : this.options.transport || 'eventsource';
    /** @type {string} */
    this.state = State.CLOSED;
    /** The id of the last event delivered to the application (what the next connection resumes from). */
    this.lastEventId = this.options.lastEventId || null;
    /** From connection_established: this connection's client id and the heartbeat interval. */
    this.clientId = null;
    this.heartbeatIntervalMs = null;
    this._handlers = new Map();
    this._gen = 0; // bumped for every connection; callbacks of older ones are ignored
    this._failures = 0; // consecutive attempts that did not open a stream
    this._serverRetryMs = null; // the stream's `retry:` field
    this._timers = { reconnect: null, renew: null, watchdog: null };
    this._pendingToken = null; // a getToken() call in flight, shared by renewal and token_expired
    this._es = null;
    this._abort = null;
    this._offline = false;
    this._onOnline = () => this._online();
    this._onOffline = () => this._offlineNow();
  }

  /**
   * Registers a handler for one event type ('*': every published event, that is every event with an id;
   * control events by their name, e.g. 'stats', 'token_expired'). Returns a function that removes it.
   * @param {string} type
   * @param {(event: import('./sse-hub').SseHubEvent) => void} handler
   */
  on(type, handler) {
    if (!this._handlers.has(type)) {
      this._handlers.set(type, new Set());
    }
    this._handlers.get(type).add(handler);
    // EventSource dispatches by event name only: a live one must learn the new name.
    if (this._es && type !== '*' && !this._esTypes.has(type)) {
      this._esTypes.add(type);
      this._es.addEventListener(type, this._esListener);
    }
    return () => this.off(type, handler);
  }

  off(type, handler) {
    const set = this._handlers.get(type);
    if (set) {
      set.delete(handler);
    }
  }

  /** Opens the stream (a client starts closed; connect() creates and opens one). */
  open() {
    if (this.state !== State.CLOSED) {
      return this;
    }
    if (typeof window !== 'undefined' && window.addEventListener) {
      window.addEventListener('online', this._onOnline);
      window.addEventListener('offline', this._onOffline);
    }
    this._offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    this._setState(State.CONNECTING, { reason: 'open' });
    if (!this._offline) {
      this._connect();
    }
    return this;
  }

  /** Closes the stream for good: no reconnection, no timer, no token request is left behind. */
  close() {
    if (this.state === State.CLOSED) {
      return;
    }
    this._teardown();
    for (const k of Object.keys(this._timers)) {
      clearTimeout(this._timers[k]);
      this._timers[k] = null;
    }
    if (typeof window !== 'undefined' && window.removeEventListener) {
      window.removeEventListener('online', this._onOnline);
      window.removeEventListener('offline', this._onOffline);
    }
    this._setState(State.CLOSED, { reason: 'close' });
  }

  // ---- connecting ------------------------------------------------------------------------------

  _connect(token) {
    const gen = ++this._gen;
    clearTimeout(this._timers.reconnect);
    this._timers.reconnect = null;
    if (this.transport === 'fetch') {
      this._connectFetch(gen, token);
    } else {
      this._connectEventSource(gen);
    }
  }

  /** Stops the current connection (if any) without changing state; its late callbacks are ignored. */
  _teardown() {
    this._gen++;
    clearTimeout(this._timers.watchdog);
    clearTimeout(this._timers.renew);
    this._timers.watchdog = this._timers.renew = null;
    if (this._es) {
      this._es.close();
      this._es = null;
    }
    if (this._abort) {
      this._abort.abort();
      this._abort = null;
    }
  }

  _url(extra) {
    const o = this.options;
    const base = typeof location !== 'undefined' ? location.href : undefined;
    const u = new URL(o.url, base);
    for (const t of o.topics || []) u.searchParams.append('topic', t);
    for (const t of o.types || []) u.searchParams.append('type', t);
    if (o.userId) u.searchParams.set('userId', o.userId);
    if (o.sessionId) u.searchParams.set('sessionId', o.sessionId);
    if (o.stats) u.searchParams.set('stats', 'true');
    for (const [k, v] of Object.entries(extra || {})) {
      if (v !== null && v !== undefined) u.searchParams.set(k, v);
    }
    return u.toString();
  }

  /** The token of a fetch connection: a renewal's token if one is ready, else getToken(). */
  _token() {
    if (!this._pendingToken) {
      this._pendingToken = Promise.resolve().then(() => this.options.getToken()).finally(() => {
        this._pendingToken = null;
      });
    }
    return this._pendingToken;
  }

  // The fetch transport: Authorization header, Last-Event-ID header, renewal before exp.
  async _connectFetch(gen, readyToken) {
    let token = null;
    try {
      if (readyToken !== undefined) token = readyToken;
      else if (this.options.getToken) token = await this._token();
    } catch (e) {
      if (gen === this._gen) this._failed(gen, { reason: 'token', error: e });
      return;
    }
    if (gen !== this._gen) return;
    const ctrl = new AbortController();
    this._abort = ctrl;
    const headers = { Accept: 'text/event-stream' };
    if (token) headers.Authorization = 'Bearer ' + token;
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    let res;
    try {
      res = await fetch(this._url(), {
        headers, signal: ctrl.signal, cache: 'no-store',
        credentials: this.options.withCredentials ? 'include' : 'same-origin',
      });
    } catch (e) {
      if (gen === this._gen) this._failed(gen, { reason: 'network', error: e });
      return;
    }
    if (gen !== this._gen) return;
    const type = res.headers.get('Content-Type') || '';
    if (!res.ok || !type.startsWith('text/event-stream')) {
      const refusal = await refusalOf(res);
      if (gen === this._gen) this._failed(gen, refusal);
      return;
    }
    this._scheduleRenewal(gen, token);
    const parser = new SseParser((f) => this._frame(gen, f));
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (gen !== this._gen) return;
        if (done) break;
        this._alive(gen); // any bytes, comments included, prove the connection lives
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (gen === this._gen) this._ended(gen, { reason: 'network', error: e });
      return;
    }
    if (gen === this._gen) this._ended(gen, { reason: 'end' });
  }

  /** Asks getToken() again before the token's exp and moves to a new connection with the new token. */
  _scheduleRenewal(gen, token) {
    const exp = expiryOf(token);
    if (!exp) return;
    const left = exp * 1000 - Date.now();
    const margin = Math.min(this.options.renewBeforeMs, Math.max(0, left) / 4);
    this._timers.renew = setTimeout(async () => {
      let fresh;
      try {
        fresh = await this._token();
      } catch (e) {
        return; // the stream ends at exp with token_expired, and the reconnection asks again
      }
      if (gen !== this._gen) {
        return; // ended meanwhile (token_expired): that path reconnects with this same token
      }
      this._emitInternal('renewed', { exp: expiryOf(fresh) });
      this._teardown();
      this._setState(State.RECONNECTING, { reason: 'renew' });
      this._connect(fresh);
    }, Math.max(0, left - margin));
  }

  // The EventSource transport: cookie or access_token parameter; the browser reconnects by itself after
  // a stream ends, and this client takes over where it gives up (an HTTP refusal, `readyState` CLOSED).
  async _connectEventSource(gen) {
    let accessToken = null;
    if (this.options.accessToken) {
      try {
        accessToken = typeof this.options.accessToken === 'function'
          ? await this.options.accessToken() : this.options.accessToken;
      } catch (e) {
        if (gen === this._gen) this._failed(gen, { reason: 'token', error: e });
        return;
      }
      if (gen !== this._gen) return;
    }
    this._accessToken = accessToken;
    const es = new EventSource(this._url({ access_token: accessToken, lastEventId: this.lastEventId }),
      { withCredentials: !!this.options.withCredentials });
    this._es = es;
    let opened = false;
    const types = new Set([...CONTROL_EVENTS, ...this._handlers.keys()]);
    types.delete('*');
    for (const t of this.options.types || []) types.add(t);
    const listener = (e) => {
      if (gen !== this._gen) return;
      this._alive(gen, e.type === 'heartbeat');
      // MessageEvent.lastEventId is the stream's last id so far, not this frame's: control frames carry none.
      const id = CONTROL_EVENTS.includes(e.type) ? null : e.lastEventId || null;
      this._frame(gen, { event: e.type, data: e.data, id, hasId: id !== null });
    };
    for (const t of types) es.addEventListener(t, listener);
    es.onmessage = listener; // events without an `event:` line (the service sends none)
    this._esListener = listener;
    this._esTypes = types;
    es.onopen = () => {
      opened = true;
    };
    es.onerror = () => {
      if (gen !== this._gen) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself (server close, network loss), with Last-Event-ID.
        clearTimeout(this._timers.watchdog);
        this._setState(State.RECONNECTING, { reason: opened ? 'end' : 'network' });
        opened = false;
        return;
      }
      // CLOSED: refused (401, 429, 503, ...) or broken; EventSource gives up here. It cannot read the
      // status or Retry-After, so ask with fetch (the stream answers at once either way).
      es.close();
      this._es = null;
      this._probe(gen);
    };
  }

  /**
   * Learns why an EventSource was refused: one GET of the same stream (without lastEventId, so nothing is
   * replayed) read up to its headers. 200 means the refusal has passed; the stream is closed at once.
   */
  async _probe(gen) {
    const ctrl = new AbortController();
    this._abort = ctrl;
    let refusal = { reason: 'network' };
    try {
      const res = await fetch(this._url({ access_token: this._accessToken }), {
        headers: { Accept: 'text/event-stream' }, signal: ctrl.signal, cache: 'no-store',
        credentials: this.options.withCredentials ? 'include' : 'same-origin',
      });
      if (res.ok) {
        ctrl.abort();
        refusal = { reason: 'refused', status: res.status };
      } else {
        refusal = await refusalOf(res);
      }
    } catch (e) {
      refusal = { reason: 'network', error: e };
    }
    if (gen === this._gen) this._failed(gen, refusal);
  }

  // ---- frames ----------------------------------------------------------------------------------

  _frame(gen, f) {
    if (f.retry !== undefined) {
      this._serverRetryMs = f.retry;
    }
    if (f.event === undefined && f.data === undefined) return;
    const type = f.event || 'message';
    let data = f.data;
    try {
      data = f.data === undefined || f.data === '' ? null : JSON.parse(f.data);
    } catch (e) {
      // not JSON: hand over the text
    }
    const ev = { type, id: f.hasId ? f.id : null, data, raw: f.data };
    if (ev.id !== null) {
      // A published event. Ids increase strictly, so one at or before the last id is a repeat (e.g. a
      // replayed event the application already has): skip it.
      if (this.lastEventId && !isAfter(ev.id, this.lastEventId)) return;
      this.lastEventId = ev.id;
      this._emit(type, ev);
      this._emit('*', ev);
      return;
    }
    switch (type) {
      case 'connection_established':
        this.clientId = data && data.clientId;
        this.heartbeatIntervalMs = data && data.heartbeatIntervalMs;
        this._failures = 0;
        this._armWatchdog(gen);
        this._setState(State.OPEN, { clientId: this.clientId });
        break;
      case 'replay_truncated':
        if (this.options.onReplayTruncated) this._call(this.options.onReplayTruncated, data);
        break;
      case 'token_expired':
        this._tokenExpired(gen);
        break;
      default:
    }
    this._emit(type, ev);
  }

  /** The stream ends at the token's exp: reconnect at once with a fresh token, from the last id. */
  _tokenExpired(gen) {
    if (gen !== this._gen) return;
    this._teardown();
    this._setState(State.RECONNECTING, { reason: 'token_expired' });
    this._connect();
  }

  // ---- liveness --------------------------------------------------------------------------------

  /**
   * A connection that sends nothing for twice the heartbeat interval is dead (a half-open TCP connection
   * looks open for minutes): close it and reconnect. EventSource cannot see comment heartbeats
   * (sse.heartbeat.mode=comment), so on that transport the watchdog starts with the first heartbeat event.
   */
  _armWatchdog(gen, force) {
    clearTimeout(this._timers.watchdog);
    this._timers.watchdog = null;
    if (!this.heartbeatIntervalMs) return;
    if (this.transport === 'eventsource' && !this._sawHeartbeat && !force) return;
    this._timers.watchdog = setTimeout(() => {
      if (gen !== this._gen) return;
      this._teardown();
      this._ended(this._gen, { reason: 'dead' });
    }, 2 * this.heartbeatIntervalMs);
  }

  _alive(gen, heartbeat) {
    if (heartbeat) this._sawHeartbeat = true;
    if (gen === this._gen && this.state === State.OPEN) this._armWatchdog(gen);
  }

  // ---- ending and backing off ------------------------------------------------------------------

  /** An open stream ended (server close, network loss, dead connection): resume after `retry:`. */
  _ended(gen, why) {
    if (gen !== this._gen) return;
    this._teardown();
    this._failures = 0;
    this._reconnectAfter({ ...why, floorMs: this._serverRetryMs || 0 });
  }

  /** An attempt did not open a stream: back off. */
  _failed(gen, why) {
    if (gen !== this._gen) return;
    this._teardown();
    if (this.options.onError) this._call(this.options.onError, why);
    this._reconnectAfter({ ...why, floorMs: why.retryAfterMs || 0 });
    this._failures++;
  }

  /**
   * Full-jitter exponential backoff (a random delay up to min(cap, base x 2^failures), so many clients
   * refused at once do not come back at once) added to a floor: the refusal's Retry-After, or the stream's
   * `retry:` after it ended. So no attempt comes earlier than the service asked.
   */
  _reconnectAfter(why) {
    if (this.state === State.CLOSED) return;
    const o = this.options;
    const ceilingMs = Math.min(o.backoffCapMs, o.backoffBaseMs * 2 ** this._failures);
    const delayMs = Math.round(why.floorMs + Math.random() * ceilingMs);
    const attempt = { attempt: this._failures + 1, delayMs, floorMs: why.floorMs, ceilingMs,
      status: why.status || null, reason: why.reason, problem: why.problem || null };
    this._setState(State.RECONNECTING, attempt);
    if (o.onReconnect) this._call(o.onReconnect, attempt);
    if (this._offline) return; // 'online' reconnects
    this._timers.reconnect = setTimeout(() => {
      this._timers.reconnect = null;
      if (this.state !== State.CLOSED) this._connect();
    }, delayMs);
  }

  _offlineNow() {
    this._offline = true;
    if (this.state === State.CLOSED) return;
    this._teardown();
    clearTimeout(this._timers.reconnect);
    this._timers.reconnect = null;
    this._setState(State.RECONNECTING, { reason: 'offline' });
  }

  _online() {
    this._offline = false;
    if (this.state === State.CLOSED || this.state === State.OPEN) return;
    this._failures = 0;
    this._connect();
  }

  // ---- callbacks -------------------------------------------------------------------------------

  _setState(state, info) {
    const changed = state !== this.state;
    this.state = state;
    if (changed && this.options.onStateChange) this._call(this.options.onStateChange, state, info || {});
  }

  _emit(type, ev) {
    const set = this._handlers.get(type);
    if (!set) return;
    for (const h of [...set]) this._call(h, ev);
  }

  _emitInternal(name, info) {
    if (name === 'renewed' && this.options.onTokenRenewed) this._call(this.options.onTokenRenewed, info);
  }

  /** A handler that throws must not break the stream. */
  _call(fn, ...args) {
    try {
      fn(...args);
    } catch (e) {
      setTimeout(() => { throw e; });
    }
  }
}

/** Creates a client and opens it. */
export function connect(options) {
  return new SseHubClient(options).open();
}

/**
 * An incremental text/event-stream parser (WHATWG HTML 9.2.6): lines end with CRLF, LF or CR; a blank line
 * dispatches; `:` starts a comment; the one space after a field's colon is dropped.
 */
export class SseParser {
  constructor(dispatch) {
    this.dispatch = dispatch;
    this.buf = '';
    this.reset();
  }

  reset() {
    this.event = undefined;
    this.data = undefined;
    this.id = undefined;
    this.retry = undefined;
  }

  push(text) {
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c !== '\n' && c !== '\r') continue;
      if (c === '\r' && i + 1 === this.buf.length) break; // a CR at the end may be half of a CRLF
      this.line(this.buf.slice(start, i));
      if (c === '\r' && this.buf[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buf = this.buf.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data !== undefined || this.retry !== undefined) {
        this.dispatch({ event: this.event, data: this.data, id: this.id, hasId: this.id !== undefined,
          retry: this.retry });
      }
      this.reset();
      return;
    }
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data = this.data === undefined ? value : this.data + '\n' + value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/** Whether event id `a` comes after `b` (`<epochMillis>-<sequence>`; other forms compare as text). */
export function isAfter(a, b) {
  const pa = /^(\d+)-(\d+)$/.exec(a);
  const pb = /^(\d+)-(\d+)$/.exec(b);
  if (!pa || !pb) return a !== b;
  const ma = BigInt(pa[1]);
  const mb = BigInt(pb[1]);
  return ma > mb || (ma === mb && BigInt(pa[2]) > BigInt(pb[2]));
}

/** The `exp` claim (epoch seconds) of a JWT, or null for anything else. Never verifies: the service does. */
export function expiryOf(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1].length / 4) * 4, '='));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp : null;
  } catch (e) {
    return null;
  }
}

/** Status, Retry-After (ms) and problem body of a refused stream request. */
async function refusalOf(res) {
  const ra = res.headers.get('Retry-After');
  let retryAfterMs = 0;
  if (ra) {
    retryAfterMs = /^\d+$/.test(ra.trim()) ? Number(ra) * 1000 : Math.max(0, Date.parse(ra) - Date.now()) || 0;
  }
  let problem = null;
  try {
    const text = await res.text();
    problem = text ? JSON.parse(text) : null;
  } catch (e) {
    // not JSON
  }
  return { reason: 'refused', status: res.status, retryAfterMs, problem };
}
