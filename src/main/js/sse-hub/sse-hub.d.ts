// Type declarations of sse-hub.js (the SSE Hub browser client). See docs/client.md.

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export declare const State: {
  readonly CONNECTING: 'connecting';
  readonly OPEN: 'open';
  readonly RECONNECTING: 'reconnecting';
  readonly CLOSED: 'closed';
};

/** The frames the service sends itself: connection_established, heartbeat, replay_truncated, token_expired, stats. */
export declare const CONTROL_EVENTS: readonly string[];

/** One event as handed to a handler. */
export interface SseHubEvent<T = unknown> {
  /** The `event:` name (the publisher's type, or a control event's name). */
  type: string;
  /** The event id (`<epochMillis>-<sequence>`); null for control events. */
  id: string | null;
  /** `data`, parsed as JSON (the text itself if it is not JSON). */
  data: T;
  /** `data` as sent. */
  raw: string | undefined;
}

/** `data` of connection_established. */
export interface Established {
  clientId: string;
  userId: string | null;
  sessionId: string | null;
  topics: string[];
  types: string[];
  heartbeatIntervalMs: number;
  serverTime: string;
}

/** `data` of replay_truncated: events after `requested` are no longer held; reload state. */
export interface ReplayTruncated {
  requested: string;
  oldest: string | null;
}

/** `data` of token_expired. */
export interface TokenExpired {
  exp: number;
}

/** `data` of the stats control event (streams opened with `stats: true`). */
export interface Stats {
  activeConnections: number;
  activeUsers: number;
  totalConnections: number;
  eventsPublished: number;
  eventsDelivered: number;
  eventsDropped: number;
  deliveryErrors: number;
  replayBufferSize: number;
  uptimeSeconds: number;
  instanceId: string;
}

/** One reconnection the client schedules. */
export interface ReconnectAttempt {
  /** 1 for the first attempt after the stream ended or was refused, then 2, 3, ... */
  attempt: number;
  /** The delay before the attempt: floorMs plus a random part up to ceilingMs. */
  delayMs: number;
  /** Retry-After of the refusal, or the stream's `retry:` after it ended; 0 for network errors. */
  floorMs: number;
  /** min(backoffCapMs, backoffBaseMs x 2^(attempt-1)). */
  ceilingMs: number;
  /** HTTP status of the refusal, if any. */
  status: number | null;
  /** 'refused', 'network', 'end', 'dead', 'token'. */
  reason: string;
  /** The problem+json body of the refusal. */
  problem: { type: string; title: string; status: number; detail: string } | null;
}

export interface SseHubOptions {
  /** The stream's URL (default '/api/sse/stream', relative to the page). */
  url?: string;
  topics?: string[];
  /** Only these event types are delivered (the server filters); control events always pass. */
  types?: string[];
  /** Authentication off only (development); with it on the token decides. */
  userId?: string;
  sessionId?: string;
  /** Resume after this id on the first connection (e.g. from sessionStorage). */
  lastEventId?: string;
  /** Ask for the `stats` control event (the service's figures, sent when they change). */
  stats?: boolean;
  /**
   * Selects the fetch transport: called for every connection and before the token's `exp` (read from the
   * JWT); the token travels in `Authorization: Bearer`, never in a URL.
   */
  getToken?: () => string | Promise<string>;
  /**
   * 'eventsource' (the default without getToken) or 'fetch' (always with getToken). EventSource dispatches by
   * event name, so on it a '*' handler sees only the types that have a handler or are listed in `types`;
   * the fetch transport sees every event, and comment heartbeats too.
   */
  transport?: 'eventsource' | 'fetch';
  /** EventSource transport: the `access_token` query parameter (in the URL: use short-lived tokens). */
  accessToken?: string | (() => string | Promise<string>);
  /** Send cookies across origins (EventSource `withCredentials`, fetch `credentials: 'include'`). */
  withCredentials?: boolean;
  /** Backoff: first ceiling (1000 ms) and cap (30000 ms). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Renew a token this long before its exp, at most a quarter of its remaining life (30000 ms). */
  renewBeforeMs?: number;
  onStateChange?: (state: ConnectionState, info: object) => void;
  onReplayTruncated?: (info: ReplayTruncated) => void;
  onReconnect?: (attempt: ReconnectAttempt) => void;
  onTokenRenewed?: (info: { exp: number | null }) => void;
  onError?: (error: { reason: string; status?: number; retryAfterMs?: number; problem?: object | null; error?: unknown }) => void;
}

export declare class SseHubClient {
  constructor(options?: SseHubOptions);
  readonly transport: 'eventsource' | 'fetch';
  readonly state: ConnectionState;
  readonly lastEventId: string | null;
  readonly clientId: string | null;
  readonly heartbeatIntervalMs: number | null;
  on(type: 'connection_established', handler: (e: SseHubEvent<Established>) => void): () => void;
  on(type: 'replay_truncated', handler: (e: SseHubEvent<ReplayTruncated>) => void): () => void;
  on(type: 'token_expired', handler: (e: SseHubEvent<TokenExpired>) => void): () => void;
  on(type: 'stats', handler: (e: SseHubEvent<Stats>) => void): () => void;
  on<T = unknown>(type: string, handler: (e: SseHubEvent<T>) => void): () => void;
  off(type: string, handler: (e: SseHubEvent) => void): void;
  open(): this;
  close(): void;
}

export declare function connect(options?: SseHubOptions): SseHubClient;

/** Incremental text/event-stream parser. */
export declare class SseParser {
  constructor(dispatch: (frame: { event?: string; data?: string; id?: string; hasId: boolean; retry?: number }) => void);
  push(text: string): void;
}

export declare function isAfter(a: string, b: string): boolean;
export declare function expiryOf(token: string): number | null;
