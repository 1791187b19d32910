/**
 * `warmpool/client`: a small typed client for Node services that call a warmpool daemon.
 *
 *   import { WarmpoolClient } from 'warmpool/client';
 *   const c = new WarmpoolClient('127.0.0.1:50051', { token, timeoutMs: 30_000 });
 *   const r = await c.run('core-sw1', ['show version']);
 *   for await (const res of c.runMany(['show version'], { labels: { site: 'fra1' } })) { ... }
 *   c.close();
 *
 * It uses the same proto loading and generated types as the daemon (src/api/proto.ts, src/gen/),
 * sets `x-warmpool-device` on single-device calls (gateways hash on it), sends a token as
 * `authorization: Bearer ...`, throws WarmpoolClientError (code, device, errorCode) and repeats
 * a call only when nothing can have reached the device (see retry.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../api/proto.js';
import type { DeviceProxyClient } from '../gen/warmpool/v1/DeviceProxy.js';
import type { InventoryClient } from '../gen/warmpool/v1/Inventory.js';
import type { AdminClient } from '../gen/warmpool/v1/Admin.js';
import type { RunRequest } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse__Output } from '../gen/warmpool/v1/RunResponse.js';
import type { RunEvent__Output } from '../gen/warmpool/v1/RunEvent.js';
import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { HttpResponse__Output } from '../gen/warmpool/v1/HttpResponse.js';
import type { Device__Output } from '../gen/warmpool/v1/Device.js';
import type { PoolStats__Output } from '../gen/warmpool/v1/PoolStats.js';
import type { SessionMode } from '../gen/warmpool/v1/SessionMode.js';
import type { ListDevicesRequest } from '../gen/warmpool/v1/ListDevicesRequest.js';
import type { ListDevicesResponse__Output } from '../gen/warmpool/v1/ListDevicesResponse.js';
import type { GetPoolStatsRequest } from '../gen/warmpool/v1/GetPoolStatsRequest.js';
import type { GetPoolStatsResponse__Output } from '../gen/warmpool/v1/GetPoolStatsResponse.js';
import { BALANCER_REFUSAL, fromServiceError, WarmpoolClientError } from './errors.js';
import { backoffMs, isSafeToRetry } from './retry.js';
import { settledInTurn } from './fan-out.js';

export { WarmpoolClientError, resultError, deviceFromMessage, BALANCER_REFUSAL } from './errors.js';
export { isSafeToRetry } from './retry.js';
export type { RunResponse__Output as RunResponse, RunEvent__Output as RunEvent, DeviceRunResult__Output as DeviceRunResult,
  HttpResponse__Output as HttpResponse, Device__Output as Device, PoolStats__Output as PoolStats };

/** RunMany's default concurrency (docs/api.md, RunMany), for the per-device fallback. */
const DEFAULT_FAN_OUT = 16;

/** Request header naming the device of a single-device call (consistent-hash routing key). */
export const DEVICE_HEADER = 'x-warmpool-device';

export interface WarmpoolClientOptions {
  /** Sent as `authorization: Bearer <token>` (daemon: grpc.auth.tokensFile). */
  token?: string;
  /** PEM CA certificate(s): connect with TLS. */
  rootCerts?: Buffer;
  /** PEM client key and certificate chain: mTLS (both or neither). */
  privateKey?: Buffer;
  certChain?: Buffer;
  /** Use TLS even without rootCerts (system roots). */
  tls?: boolean;
  /** Default deadline of every call, in ms; undefined: none. */
  timeoutMs?: number;
  /** How many times a call that certainly reached no device is repeated (default 2). */
  retries?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  /** Injected for tests: random source of the back-off jitter, and the wait itself. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunOptions {
  privileged?: boolean;
  configure?: boolean;
  stopOnError?: boolean;
  commandTimeoutMs?: number;
  cacheTtlMs?: number;
  expect?: string;
  /**
   * Questions to answer while a command runs (shell mode; docs/api.md "Interactive answers"): when
   * a command's output ends with `pattern` (RE2), `reply` and a line break are sent; each answer is
   * used at most once per command. `secret` keeps the reply out of logs, audit and errors.
   */
  answers?: Array<{ pattern: string; reply?: string; secret?: boolean }>;
  /** 'shell' | 'exec'; undefined: the device's configured mode. */
  mode?: 'shell' | 'exec' | SessionMode;
  /** This call's deadline in ms (overrides the client's timeoutMs). */
  timeoutMs?: number;
}

export interface RunManyOptions extends RunOptions {
  devices?: string[];
  labels?: Record<string, string>;
  concurrency?: number;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Daemon-side request timeout; 0: the device default. */
  requestTimeoutMs?: number;
  timeoutMs?: number;
}

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type UnaryFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Res>) => grpc.ClientUnaryCall;
type StreamFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<Res>;

// The daemon sends up to grpc.maxSendMessageBytes (16 MiB default); grpc-js would refuse over 4 MiB.
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };

function sessionMode(mode: RunOptions['mode']): SessionMode {
  if (mode === undefined) return 'SESSION_MODE_UNSPECIFIED';
  if (mode === 'shell') return 'SESSION_MODE_SHELL';
  if (mode === 'exec') return 'SESSION_MODE_EXEC';
  return mode;
}

export class WarmpoolClient {
  readonly target: string;
  readonly #proxy: DeviceProxyClient;
  readonly #inventory: InventoryClient;
  readonly #admin: AdminClient;
  readonly #token: string | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #retries: number;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(target: string, opts: WarmpoolClientOptions = {}) {
    if ((opts.privateKey === undefined) !== (opts.certChain === undefined)) {
      throw new TypeError('mTLS needs both privateKey and certChain');
    }
    if (opts.token !== undefined && (opts.token === '' || /[\r\n]/.test(opts.token))) {
      throw new TypeError('token must be a non-empty string without line breaks');
    }
    const retries = opts.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0) throw new TypeError('retries must be an integer >= 0');
    this.target = target;
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs;
    this.#retries = retries;
    this.#random = opts.random ?? Math.random;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const secure = opts.tls ?? (opts.rootCerts !== undefined || opts.privateKey !== undefined);
    const creds = secure
      ? grpc.credentials.createSsl(opts.rootCerts ?? null, opts.privateKey ?? null, opts.certChain ?? null)
      : grpc.credentials.createInsecure();
    const v1 = loadProto().grpcObj.warmpool.v1;
    const channelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...opts.channelOptions };
    this.#proxy = new v1.DeviceProxy(target, creds, channelOptions);
    const channelOverride = this.#proxy.getChannel();
    this.#inventory = new v1.Inventory(target, creds, { ...channelOptions, channelOverride });
    this.#admin = new v1.Admin(target, creds, { ...channelOptions, channelOverride });
  }

  close(): void {
    this.#proxy.close();
  }

  /** Run commands in order on one pooled session; resolves to the RunResponse. */
  run(device: string, commands: string[], opts: RunOptions = {}): Promise<RunResponse__Output> {
    return this.#unary(this.#proxy.Run.bind(this.#proxy), runRequest(device, commands, opts), device, opts.timeoutMs);
  }

  /** Like run, with events as they arrive: the session, output chunks, a result per command. Breaking out cancels the call. */
  runStream(device: string, commands: string[], opts: RunOptions = {}): AsyncGenerator<RunEvent__Output> {
    return this.#stream(this.#proxy.RunStream.bind(this.#proxy), runRequest(device, commands, opts), device, opts.timeoutMs);
  }

  /**
   * Fan out to `devices` and/or devices with all `labels`; a DeviceRunResult per device as it ends
   * (errors are results: see resultError). Behind the device-affinity balancer, which refuses
   * RunMany (deploy/haproxy, `RUN_MANY_AT_BALANCER`), the same results come from one Run per
   * device, `concurrency` at a time (default 16), within the same timeout.
   */
  async *runMany(commands: string[], opts: RunManyOptions = {}): AsyncGenerator<DeviceRunResult__Output> {
    const req = {
      template: runRequest('', commands, opts), devices: opts.devices ?? [], labels: opts.labels ?? {}, concurrency: opts.concurrency ?? 0,
    };
    const deadline = opts.timeoutMs ?? this.#timeoutMs;
    const until = deadline === undefined ? undefined : Date.now() + deadline;
    let delivered = false;
    try {
      for await (const r of this.#stream(this.#proxy.RunMany.bind(this.#proxy), req, undefined, deadline)) {
        delivered = true;
        yield r;
      }
    } catch (e) {
      if (delivered || !(e instanceof WarmpoolClientError) || e.errorCode !== BALANCER_REFUSAL) throw e;
      yield* this.#runEach(commands, opts, until);
    }
  }

  /** runMany as one Run per device (the balancer's refusal asks for it), results as they finish. */
  async *#runEach(commands: string[], opts: RunManyOptions, until: number | undefined): AsyncGenerator<DeviceRunResult__Output> {
    const left = (): number | undefined => (until === undefined ? undefined : Math.max(1, until - Date.now()));
    const ids = new Set(opts.devices ?? []);
    if (opts.labels && Object.keys(opts.labels).length > 0) {
      for (const d of await this.devices(opts.labels, left())) ids.add(d.id);
    }
    yield* settledInTurn([...ids], opts.concurrency || DEFAULT_FAN_OUT, (device) => this.run(device, commands, { ...opts, timeoutMs: left() }).then(
      (response): DeviceRunResult__Output => ({ device, response, error: null, outcome: 'response' }),
      (e: unknown): DeviceRunResult__Output => {
        const err = e instanceof WarmpoolClientError ? e : fromServiceError(e, device);
        return { device, response: null, error: { code: err.code, message: err.details }, outcome: 'error' };
      },
    ));
  }

  /** One HTTP request over the device's pooled HTTP connections (an HTTP error status is a response, not an exception). */
  http(device: string, method: string, path: string, opts: HttpOptions = {}): Promise<HttpResponse__Output> {
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : (opts.body ?? Buffer.alloc(0));
    const req = { device, method, path, headers: opts.headers ?? {}, body, timeout_ms: opts.requestTimeoutMs ?? 0 };
    return this.#unary(this.#proxy.Http.bind(this.#proxy), req, device, opts.timeoutMs);
  }

  async devices(labels: Record<string, string> = {}, timeoutMs?: number): Promise<Device__Output[]> {
    const res = await this.#unary<ListDevicesRequest, ListDevicesResponse__Output>(this.#inventory.ListDevices.bind(this.#inventory), { labels }, undefined, timeoutMs);
    return res.devices;
  }

  getDevice(id: string, timeoutMs?: number): Promise<Device__Output> {
    return this.#unary(this.#inventory.GetDevice.bind(this.#inventory), { id }, id, timeoutMs);
  }

  async poolStats(devices: string[] = [], timeoutMs?: number): Promise<PoolStats__Output[]> {
    // One device: the header routes the call to the replica that holds its pools (docs/operations.md, Scaling out).
    const res = await this.#unary<GetPoolStatsRequest, GetPoolStatsResponse__Output>(this.#admin.GetPoolStats.bind(this.#admin), { devices }, devices.length === 1 ? devices[0] : undefined, timeoutMs);
    return res.pools;
  }

  #metadata(device: string | undefined): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.#token !== undefined) md.set('authorization', `Bearer ${this.#token}`);
    if (device) md.set(DEVICE_HEADER, device);
    return md;
  }

  #callOptions(deadline: number | undefined): grpc.CallOptions {
    return deadline === undefined ? {} : { deadline: new Date(deadline) };
  }

  /** Milliseconds to wait before repeating, or undefined to give up. */
  #retryDelay(err: WarmpoolClientError, attempt: number, deadline: number | undefined): number | undefined {
    if (attempt >= this.#retries || !isSafeToRetry(err)) return undefined;
    const ms = backoffMs(attempt, this.#random);
    if (deadline !== undefined && Date.now() + ms >= deadline) return undefined;
    return ms;
  }

  async #unary<Req, Res>(fn: UnaryFn<Req, Res>, req: Req, device: string | undefined, timeoutMs: number | undefined): Promise<Res> {
    const t = timeoutMs ?? this.#timeoutMs;
    const deadline = t === undefined ? undefined : Date.now() + t;
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<Res>((resolve, reject) => {
          fn(req, this.#metadata(device), this.#callOptions(deadline), (e, r) => (e ? reject(e) : resolve(r as Res)));
        });
      } catch (e) {
        const err = fromServiceError(e, device);
        const wait = this.#retryDelay(err, attempt, deadline);
        if (wait === undefined) throw err;
        await this.#sleep(wait);
      }
    }
  }

  async *#stream<Req, Res>(fn: StreamFn<Req, Res>, req: Req, device: string | undefined, timeoutMs: number | undefined): AsyncGenerator<Res> {
    const t = timeoutMs ?? this.#timeoutMs;
    const deadline = t === undefined ? undefined : Date.now() + t;
    for (let attempt = 0; ; attempt++) {
      const call = fn(req, this.#metadata(device), this.#callOptions(deadline));
      let received = false;
      let err: WarmpoolClientError;
      try {
        for await (const msg of call) {
          received = true;
          yield msg as Res;
        }
        return;
      } catch (e) {
        err = fromServiceError(e, device);
      } finally {
        // Leaving early (break, or the consumer threw) must end the call on the daemon too.
        call.cancel();
      }
      const wait = received ? undefined : this.#retryDelay(err, attempt, deadline);
      if (wait === undefined) throw err;
      await this.#sleep(wait);
    }
  }
}

function runRequest(device: string, commands: string[], o: RunOptions): RunRequest {
  if (!Array.isArray(commands)) throw new TypeError('commands must be an array of strings');
  return {
    device, commands, mode: sessionMode(o.mode), privileged: o.privileged ?? false, configure: o.configure ?? false,
    stop_on_error: o.stopOnError ?? false, command_timeout_ms: o.commandTimeoutMs ?? 0, cache_ttl_ms: o.cacheTtlMs ?? 0,
    expect: o.expect ?? '',
    answers: (o.answers ?? []).map((a) => ({ pattern: a.pattern, reply: a.reply ?? '', secret: a.secret ?? false })),
  };
}
