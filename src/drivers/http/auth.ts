/**
 * Authentication strategies for device HTTP APIs: none, basic, bearer, session.
 *
 * Credentials are Secrets revealed only here, when a request is built; they never reach a
 * log line or an error message. Headers a strategy owns (`ownedHeaders`) cannot be set or
 * overridden by callers — a caller must not be able to act with other credentials than the
 * device's configured ones, nor read them back.
 */
import type { Secret } from '../../config/secret.js';
import type { HttpAuth } from '../../config/types.js';
import { WarmpoolError } from '../../core/errors.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends one request without auth (used for the session login). `path` is joined under the base URL. */
export type RawSend = (req: { method: 'POST'; path: string; headers: Record<string, string>; body: Buffer }) => Promise<RawResponse>;

/** The credential a request was sent with; `generation` tells a stale credential from a renewed one. */
export interface AppliedAuth {
  headers: Record<string, string>;
  generation: number;
}

export interface AuthStrategy {
  readonly type: HttpAuth['type'];
  /** Lower-case header names the strategy sets; callers' values for them are dropped. */
  readonly ownedHeaders: ReadonlySet<string>;
  /** Lower-case response header names never handed to callers (they carry the credential). */
  readonly hiddenResponseHeaders: ReadonlySet<string>;
  /** Headers for the next request (may log in first). */
  apply(): Promise<AppliedAuth>;
  /**
   * The device answered 401 to a request sent with `used`. Resolves true when a fresh credential
   * is now available and the request should be sent once more; false to hand the 401 back.
   */
  onUnauthorized(used: AppliedAuth): Promise<boolean>;
}

const EMPTY: ReadonlySet<string> = new Set();

/** Secret.reveal() with a typed, secret-free error when a mounted secret file is missing or unreadable. */
function reveal(device: string, what: string, secret: Secret): string {
  try {
    return secret.reveal();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new WarmpoolError('CONFIG_INVALID', `device ${device}: cannot read the HTTP ${what} (${secret.describe()}): ${code}`, { device, field: `http.auth.${what}` });
  }
}

class NoAuth implements AuthStrategy {
  readonly type = 'none' as const;
  readonly ownedHeaders = EMPTY;
  readonly hiddenResponseHeaders = EMPTY;
  async apply(): Promise<AppliedAuth> {
    return { headers: {}, generation: 0 };
  }
  async onUnauthorized(): Promise<boolean> {
    return false;
  }
}

class BasicAuth implements AuthStrategy {
  readonly type = 'basic' as const;
  readonly ownedHeaders: ReadonlySet<string> = new Set(['authorization']);
  readonly hiddenResponseHeaders = EMPTY;
  readonly #device: string;
  readonly #auth: Extract<HttpAuth, { type: 'basic' }>;
  constructor(device: string, auth: Extract<HttpAuth, { type: 'basic' }>) {
    this.#device = device;
    this.#auth = auth;
  }
  async apply(): Promise<AppliedAuth> {
    // Revealed per request: a password file rotated by Kubernetes is used from the next request on.
    const value = Buffer.from(`${this.#auth.username}:${reveal(this.#device, 'password', this.#auth.password)}`, 'utf8').toString('base64');
    return { headers: { authorization: `Basic ${value}` }, generation: 0 };
  }
  async onUnauthorized(): Promise<boolean> {
    return false;
  }
}

class BearerAuth implements AuthStrategy {
  readonly type = 'bearer' as const;
  readonly ownedHeaders: ReadonlySet<string> = new Set(['authorization']);
  readonly hiddenResponseHeaders = EMPTY;
  readonly #device: string;
  readonly #auth: Extract<HttpAuth, { type: 'bearer' }>;
  constructor(device: string, auth: Extract<HttpAuth, { type: 'bearer' }>) {
    this.#device = device;
    this.#auth = auth;
  }
  async apply(): Promise<AppliedAuth> {
    // Secret.reveal() re-reads the token file when its mtime/size/inode changed (Secret rotation).
    return { headers: { authorization: `Bearer ${reveal(this.#device, 'token', this.#auth.token)}` }, generation: 0 };
  }
  async onUnauthorized(): Promise<boolean> {
    return false;
  }
}

/**
 * Log in once (POST {"username","password"} as JSON to loginPath), keep the session cookie or
 * the token from the JSON reply, add it to every request. On a 401 log in again — once, shared
 * by every request that saw the same stale credential (single-flight) — and retry the request once.
 */
class SessionAuth implements AuthStrategy {
  readonly type = 'session' as const;
  readonly ownedHeaders: ReadonlySet<string>;
  readonly hiddenResponseHeaders: ReadonlySet<string> = new Set(['set-cookie']);
  #current: AppliedAuth | undefined;
  #generation = 0;
  #inFlight: Promise<AppliedAuth> | undefined;
  readonly #headerName: string;
  readonly #device: string;
  readonly #auth: Extract<HttpAuth, { type: 'session' }>;
  readonly #send: RawSend;

  constructor(device: string, auth: Extract<HttpAuth, { type: 'session' }>, send: RawSend) {
    this.#device = device;
    this.#auth = auth;
    this.#send = send;
    this.#headerName = auth.tokenField ? (auth.tokenHeader ?? 'authorization').toLowerCase() : 'cookie';
    this.ownedHeaders = new Set(['authorization', 'cookie', this.#headerName]);
  }

  async apply(): Promise<AppliedAuth> {
    return this.#current ?? this.#login();
  }

  async onUnauthorized(used: AppliedAuth): Promise<boolean> {
    // Someone already renewed since this request was sent: just retry with the new credential.
    if (this.#current && this.#current.generation !== used.generation) return true;
    // Only the holder of the stale credential that is still current triggers (or joins) a login.
    if (this.#current?.generation === used.generation) this.#current = undefined;
    await this.#login();
    return true;
  }

  #login(): Promise<AppliedAuth> {
    if (!this.#inFlight) {
      this.#inFlight = this.#doLogin().finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  async #doLogin(): Promise<AppliedAuth> {
    const { loginPath, username, password, tokenField, tokenHeader } = this.#auth;
    const body = Buffer.from(JSON.stringify({ username, password: reveal(this.#device, 'password', password) }), 'utf8');
    const res = await this.#send({
      method: 'POST',
      path: loginPath,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    });
    const where = `device ${this.#device}: HTTP session login to ${loginPath}`;
    if (res.status < 200 || res.status > 299) {
      throw new WarmpoolError('AUTH_FAILED', `${where} returned ${res.status}`, { device: this.#device });
    }
    let value: string;
    if (tokenField) {
      let token: unknown;
      try {
        token = tokenField.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], JSON.parse(res.body.toString('utf8')));
      } catch {
        throw new WarmpoolError('AUTH_FAILED', `${where}: reply is not JSON`, { device: this.#device });
      }
      if (typeof token !== 'string' || token === '') {
        throw new WarmpoolError('AUTH_FAILED', `${where}: reply has no string field "${tokenField}"`, { device: this.#device });
      }
      value = tokenHeader ? token : `Bearer ${token}`;
    } else {
      const raw = res.headers['set-cookie'];
      const cookies = (Array.isArray(raw) ? raw : raw ? [raw] : [])
        .map((c) => c.split(';', 1)[0]!.trim())
        .filter((c) => c.includes('='));
      if (cookies.length === 0) {
        throw new WarmpoolError('AUTH_FAILED', `${where}: reply set no cookie`, { device: this.#device });
      }
      value = cookies.join('; ');
    }
    this.#generation++;
    this.#current = { headers: { [this.#headerName]: value }, generation: this.#generation };
    return this.#current;
  }
}

export function createAuthStrategy(device: string, auth: HttpAuth, send: RawSend): AuthStrategy {
  switch (auth.type) {
    case 'none':
      return new NoAuth();
    case 'basic':
      return new BasicAuth(device, auth);
    case 'bearer':
      return new BearerAuth(device, auth);
    case 'session':
      return new SessionAuth(device, auth, send);
  }
}
