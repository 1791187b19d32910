/**
 * DeviceHttpClient: one undici Pool of kept-alive connections per device, with the device's
 * auth, TLS, a circuit breaker, a response-size cap, one safe retry and typed errors.
 *
 * Retry rule: only idempotent methods (GET HEAD PUT DELETE OPTIONS), only when the connection
 * failed before any response byte (reset / refused / closed before headers), and only once.
 * POST and PATCH are never re-sent: the device may already have acted on them.
 *
 * SessionInfo for HTTP is approximate, because undici does not say which socket served a request:
 * `reused` is true when no new connection was opened while the request waited for a socket
 * (a connection opened at the same time for a concurrent request makes it false — pessimistic);
 * `connectMs` is the duration of such a connect; `waitMs` is the time until the request was put on
 * a socket, minus that connect; `id` is `http:<device>`; `uses` counts requests on this client.
 */
import { buildConnector, Pool } from 'undici';
import type { Socket } from 'node:net';
import type { DeviceSpec, HttpSpec } from '../../config/types.js';
import { WarmpoolError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { CircuitBreaker } from '../../pool/breaker.js';
import type { Clock, Random } from '../../core/clock.js';
import type { PoolObserver, PoolStats, SessionInfo } from '../../pool/types.js';
import { createAuthStrategy, type AppliedAuth, type AuthStrategy, type RawResponse } from './auth.js';
import { AfterResponseError, dispatchOnce, type OnceResponse } from './dispatch.js';
import { countsForBreaker, isRetryableBeforeResponse, mapHttpError, type ErrorContext } from './errors.js';
import { buildTlsOptions } from './tls.js';
import { httpCloseReason } from './close-reason.js';
import { checkMethod, cleanHeaders, isIdempotent, joinPath } from './url.js';
import { redactSecrets } from '../../core/redact.js';

export interface HttpClientRequest {
  method: string;
  /** Under the device's base URL path; see url.ts for what is refused. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The caller's budget for the whole request (ms); 0 = the device's requestTimeoutMs. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpClientResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". Credential-bearing headers of session auth removed. */
  headers: Record<string, string>;
  body: Buffer;
  durationMs: number;
  session: SessionInfo;
}

export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
  maxOpenMs: number;
}

export interface DeviceHttpClientOptions {
  device: DeviceSpec;
  clock: Clock;
  random: Random;
  breaker: BreakerSettings;
  observer?: PoolObserver;
  logger: Logger;
}

export class DeviceHttpClient {
  readonly device: string;
  readonly #spec: HttpSpec;
  readonly #base: URL;
  readonly #pool: Pool;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #observer: PoolObserver | undefined;
  readonly #breaker: CircuitBreaker;
  readonly #auth: AuthStrategy;
  readonly #errCtx: Omit<ErrorContext, 'timeoutError'>;

  #connecting = 0;
  /** Completed connects (serial); compared before/after a request to derive `reused`. */
  #connectSeq = 0;
  #lastConnectMs = 0;
  #created = 0;
  #closed = 0;
  #failedConnects = 0;
  #uses = 0;
  #isClosed = false;

  constructor(opts: DeviceHttpClientOptions) {
    const spec = opts.device.http;
    this.device = opts.device.id;
    if (!spec) throw new WarmpoolError('INVALID_ARGUMENT', `device ${this.device}: has no HTTP API configured`, { device: this.device, field: 'http' });
    this.#spec = spec;
    this.#clock = opts.clock;
    this.#logger = opts.logger.child({ device: this.device, protocol: 'http' });
    this.#observer = opts.observer;
    let base: URL;
    try {
      base = new URL(spec.baseUrl);
    } catch {
      throw new WarmpoolError('CONFIG_INVALID', `device ${this.device}: http.baseUrl is not a URL`, { device: this.device, field: 'http.baseUrl' });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new WarmpoolError('CONFIG_INVALID', `device ${this.device}: http.baseUrl must be http:// or https://`, { device: this.device, field: 'http.baseUrl' });
    }
    if (base.username || base.password) {
      // Credentials in the URL would end up in messages; they belong in http.auth (a Secret).
      throw new WarmpoolError('CONFIG_INVALID', `device ${this.device}: http.baseUrl must not contain credentials; use http.auth`, { device: this.device, field: 'http.baseUrl' });
    }
    this.#base = base;
    const hostname = base.hostname.replace(/^\[|\]$/g, '');
    const port = base.port || (base.protocol === 'https:' ? '443' : '80');
    const tls = base.protocol === 'https:' ? buildTlsOptions(this.device, spec.tls, opts.logger) : {};
    this.#errCtx = {
      device: this.device,
      target: `${base.hostname}:${port}`,
      servername: tls.servername ?? hostname,
      connectTimeoutMs: spec.connectTimeoutMs,
    };

    this.#breaker = new CircuitBreaker({
      device: this.device,
      clock: opts.clock,
      random: opts.random,
      ...opts.breaker,
      onChange: (s) => this.#observer?.circuitChanged?.(this.device, 'http', s),
    });

    // Wrap undici's connector to count connects in progress and time them (Pool.stats does not).
    const connector = buildConnector({ ...tls, timeout: spec.connectTimeoutMs, keepAlive: true });
    const configuredName = tls.servername;
    const connect: buildConnector.connector = (o, cb) => {
      this.#connecting++;
      const t0 = this.#clock.now();
      connector(configuredName ? { ...o, servername: configuredName } : o, (err, socket) => {
        this.#connecting--;
        const ms = this.#clock.now() - t0;
        if (err) {
          this.#failedConnects++;
          this.#observer?.sessionOpened?.(this.device, 'http', 'failure', ms / 1000);
          cb(err, null);
          return;
        }
        this.#connectSeq++;
        this.#lastConnectMs = ms;
        this.#observer?.sessionOpened?.(this.device, 'http', 'success', ms / 1000);
        (socket as Socket).setNoDelay(true);
        cb(null, socket as Socket);
      });
    };

    this.#pool = new Pool(base.origin, {
      connections: spec.maxConnections,
      pipelining: 1,
      connect,
      // Device APIs rarely send a Keep-Alive hint; keep idle sockets a while, undici
      // still honours a shorter server hint. Below typical device idle timeouts (60 s+).
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: spec.requestTimeoutMs,
      bodyTimeout: spec.requestTimeoutMs,
    });
    this.#pool.on('connect', () => {
      this.#created++;
    });
    this.#pool.on('disconnect', (_origin, _targets, err) => {
      this.#closed++;
      this.#observer?.sessionClosed?.(this.device, 'http', httpCloseReason(err));
    });

    this.#auth = createAuthStrategy(this.device, spec.auth, (r) => this.#sendRaw(r));
  }

  /** One request to the device's HTTP API. Rejects with a WarmpoolError. */
  async request(req: HttpClientRequest): Promise<HttpClientResponse> {
    const method = checkMethod(this.device, req.method);
    const path = joinPath(this.device, this.#base, req.path);
    const headers = cleanHeaders(this.device, req.headers, this.#auth.ownedHeaders);
    if (this.#isClosed) throw new WarmpoolError('POOL_CLOSED', `device ${this.device}: HTTP client closed`, { device: this.device });
    if (req.signal?.aborted) throw this.#cancelled(req.signal);
    this.#breaker.check();

    // The smaller of the caller's budget and the device's request timeout wins; the error
    // says which: the caller's deadline (DEADLINE_EXCEEDED) or the device being slow (COMMAND_TIMEOUT).
    const callerMs = req.timeoutMs > 0 ? req.timeoutMs : Infinity;
    const effectiveMs = Math.min(callerMs, this.#spec.requestTimeoutMs);
    // The path as shown: a query may carry a token (`?access_token=...`), masked like a command.
    const shown = redactSecrets(req.path);
    const timeoutError = () =>
      callerMs <= this.#spec.requestTimeoutMs
        ? new WarmpoolError('DEADLINE_EXCEEDED', `device ${this.device}: HTTP ${method} ${shown} exceeded the deadline of ${effectiveMs} ms`, { device: this.device })
        : new WarmpoolError('COMMAND_TIMEOUT', `device ${this.device}: HTTP ${method} ${shown} got no complete reply within ${effectiveMs} ms`, { device: this.device });
    const ac = new AbortController();
    const onCallerAbort = () => ac.abort(this.#cancelled(req.signal!));
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = this.#clock.setTimeout(() => ac.abort(timeoutError()), effectiveMs);

    const t0 = this.#clock.now();
    const seq0 = this.#connectSeq;
    this.#uses++;
    const uses = this.#uses;
    const ctx: ErrorContext = { ...this.#errCtx, timeoutError };
    let gotResponse = false;
    try {
      let applied: AppliedAuth = await abortable(this.#auth.apply(), ac.signal);
      let res = await this.#sendWithRetry(method, path, { ...headers, ...applied.headers }, req.body, effectiveMs, ac.signal);
      gotResponse = true;
      if (res.status === 401 && (await abortable(this.#auth.onUnauthorized(applied), ac.signal))) {
        applied = await abortable(this.#auth.apply(), ac.signal);
        res = await this.#sendWithRetry(method, path, { ...headers, ...applied.headers }, req.body, effectiveMs, ac.signal);
      }
      this.#breaker.success();
      const connected = this.#connectSeq !== seq0;
      const connectMs = connected ? this.#lastConnectMs : 0;
      const waitMs = Math.max(0, res.startedAt - t0 - connectMs);
      this.#observer?.acquired?.(this.device, 'http', waitMs / 1000);
      const durationMs = this.#clock.now() - t0;
      // Like an SSH command: the device answered; a 4xx/5xx status is the device refusing.
      this.#observer?.commandFinished?.(this.device, 'http', res.status >= 400 ? 'failed' : 'ok', Math.max(0, durationMs - waitMs - connectMs) / 1000);
      return {
        status: res.status,
        headers: this.#responseHeaders(res.headers),
        body: res.body,
        durationMs,
        session: { id: `http:${this.device}`, reused: !connected, waitMs, connectMs, uses },
      };
    } catch (raw) {
      // The whole time the caller lost, socket wait included (undici does not say when it ended).
      this.#observer?.commandFinished?.(this.device, 'http', 'error', (this.#clock.now() - t0) / 1000);
      const err = mapHttpError(raw instanceof AfterResponseError ? raw.inner : raw, ctx);
      if (err.code === 'AUTH_FAILED') this.#breaker.trip(err);
      else if (countsForBreaker(err)) this.#breaker.failure(err);
      // A reply arrived (then the body failed, e.g. too large): the device itself is reachable.
      else if (gotResponse || raw instanceof AfterResponseError) this.#breaker.success();
      throw err;
    } finally {
      this.#clock.clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async #sendWithRetry(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<OnceResponse> {
    const once = () =>
      dispatchOnce(this.#pool, { method, path, headers, body, timeoutMs, maxResponseBytes: this.#spec.maxResponseBytes, signal, device: this.device });
    try {
      return await once();
    } catch (err) {
      if (!isIdempotent(method) || err instanceof AfterResponseError || signal.aborted || !isRetryableBeforeResponse(err)) throw err;
      this.#logger.debug({ method, code: (err as { code?: string }).code }, 'connection failed before any response byte; retrying once');
      return once();
    }
  }

  /** Used by session auth to log in: no auth, no retry, the device's request timeout. */
  async #sendRaw(r: { method: 'POST'; path: string; headers: Record<string, string>; body: Buffer }): Promise<RawResponse> {
    const ms = this.#spec.requestTimeoutMs;
    const timeoutError = () =>
      new WarmpoolError('COMMAND_TIMEOUT', `device ${this.device}: HTTP session login to ${r.path} got no reply within ${ms} ms`, { device: this.device });
    const ac = new AbortController();
    const timer = this.#clock.setTimeout(() => ac.abort(timeoutError()), ms);
    try {
      const path = joinPath(this.device, this.#base, r.path);
      return await dispatchOnce(this.#pool, { ...r, path, timeoutMs: ms, maxResponseBytes: this.#spec.maxResponseBytes, signal: ac.signal, device: this.device });
    } catch (raw) {
      throw mapHttpError(raw instanceof AfterResponseError ? raw.inner : raw, { ...this.#errCtx, timeoutError });
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  #responseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) {
      if (v === undefined || this.#auth.hiddenResponseHeaders.has(k)) continue;
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return out;
  }

  #cancelled(signal: AbortSignal): WarmpoolError {
    // An upper layer may abort with its own typed reason (e.g. DEADLINE_EXCEEDED for the gRPC deadline).
    if (signal.reason instanceof WarmpoolError) return signal.reason;
    return new WarmpoolError('CANCELLED', `device ${this.device}: HTTP request cancelled`, { device: this.device });
  }

  stats(): PoolStats {
    const s = this.#pool.stats;
    return {
      device: this.device,
      protocol: 'http',
      idle: s.free,
      busy: Math.max(0, s.connected - s.free),
      connecting: this.#connecting,
      waiting: s.pending + s.queued,
      createdTotal: this.#created,
      closedTotal: this.#closed,
      acquiredTotal: this.#uses,
      failedConnectsTotal: this.#failedConnects,
      circuit: this.#breaker.state,
      min: 0,
      max: this.#spec.maxConnections,
      circuitOpenUntil: this.#breaker.openUntil,
      lastError: this.#breaker.lastError,
    };
  }

  /** Graceful: in-flight requests finish, then the sockets close. New requests get POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      await this.#pool.close();
    } catch {
      // already closed or destroyed
    }
  }

  /** Immediate: in-flight requests fail, sockets are destroyed. */
  async destroy(): Promise<void> {
    this.#isClosed = true;
    try {
      await this.#pool.destroy();
    } catch {
      // already destroyed
    }
  }
}

/** Lets a caller stop waiting on a shared operation (e.g. a session login) without cancelling it for others. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
