/**
 * The one convict schema for AppConfig. Every key gets its environment variable
 * and flag generated from its path (grpc.listen → WARMPOOL_GRPC_LISTEN, --grpc.listen),
 * so the three spellings can never disagree; the reference in docs/configuration.md
 * is rendered from this object by docgen.ts.
 */
import convict from 'convict';
import type { AppConfig } from './types.js';
import { checkGrpcListen, checkInt, checkListen, hasControlChars, parseFileMode, LOG_LEVELS, MAX_BYTES, MAX_TIMER_MS, showValue } from './checks.js';

/** What a format accepts, phrased for the reference table. */
export interface FormatInfo {
  /** Returns a problem phrase, or undefined when the value is acceptable. */
  check(v: unknown): string | undefined;
  /** Turns a string from env, flag or file into the typed value; returns the input unchanged when it cannot. */
  coerce?(v: string): unknown;
  describe: string;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNITS_BYTES: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

/** "30s" → 30000 (or "4MiB" → 4194304); a plain digit string → number; anything else unchanged so the check can name it. */
function withUnits(units: Record<string, number>): (v: string) => unknown {
  return (v: string) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v);
    if (!m) return v;
    const n = Number(m[1]);
    const unit = (m[2] ?? '').toLowerCase();
    if (unit === '') return m[1]?.includes('.') ? v : n;
    const mult = units[unit];
    if (mult === undefined) return v;
    const r = n * mult;
    return Number.isInteger(r) ? r : v;
  };
}

function checkBool(v: unknown): string | undefined {
  return typeof v === 'boolean' ? undefined : 'must be true or false';
}

export const FORMATS = {
  'listen-address': {
    check: checkListen,
    describe: 'host:port or [ipv6]:port (port 0 picks a free port)',
  },
  'grpc-listen-address': {
    check: checkGrpcListen,
    describe: 'host:port, [ipv6]:port, or unix:///path/to/socket (port 0 picks a free port)',
  },
  'file-mode': {
    check: (v) => (parseFileMode(v) !== undefined ? undefined : 'must be an octal file mode in quotes, like "0660"'),
    describe: 'octal file mode as a string, e.g. "0660"',
  },
  uint: {
    check: (v) => checkInt(v, 0, Number.MAX_SAFE_INTEGER),
    coerce: withUnits({}),
    describe: 'integer >= 0',
  },
  'positive-int': {
    check: (v) => checkInt(v, 1, Number.MAX_SAFE_INTEGER),
    coerce: withUnits({}),
    describe: 'integer >= 1',
  },
  'duration-ms': {
    check: (v) => checkInt(v, 0, MAX_TIMER_MS),
    coerce: withUnits(UNITS_MS),
    describe: 'milliseconds >= 0 (or "30s", "5m", "1h")',
  },
  'positive-duration-ms': {
    check: (v) => checkInt(v, 1, MAX_TIMER_MS),
    coerce: withUnits(UNITS_MS),
    describe: 'milliseconds >= 1 (or "30s", "5m", "1h")',
  },
  bytes: {
    check: (v) => checkInt(v, 1, MAX_BYTES),
    coerce: withUnits(UNITS_BYTES),
    describe: 'bytes >= 1 (or "64KiB", "4MiB", "1GiB")',
  },
  'strict-boolean': {
    check: checkBool,
    // convict's own Boolean turns every string but "false" into true ("flase" → true); accept only clear spellings.
    coerce: (v: string) => {
      const s = v.trim().toLowerCase();
      if (s === 'true' || s === '1' || s === 'yes' || s === 'on') return true;
      if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false;
      return v;
    },
    describe: 'true or false',
  },
  'log-level': {
    check: (v) => (typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`),
    describe: LOG_LEVELS.join(' | '),
  },
  path: {
    check: (v) => (typeof v === 'string' && !hasControlChars(v) ? undefined : 'must be a file path (or "" for none)'),
    describe: 'file path ("" for none)',
  },
} satisfies Record<string, FormatInfo>;

export type FormatName = keyof typeof FORMATS;

// convict formats are process-global; registering the same functions again is harmless.
for (const [name, f] of Object.entries(FORMATS) as [FormatName, FormatInfo][]) {
  convict.addFormat({
    name,
    validate: (v: unknown) => {
      const problem = f.check(v);
      if (problem !== undefined) throw new Error(`${problem} (got ${showValue(v)})`);
    },
    ...(f.coerce ? { coerce: f.coerce } : {}),
  });
}

interface Leaf<T> {
  doc: string;
  format: FormatName;
  default: T;
  sensitive?: boolean;
}

type SchemaTree<T> = { [K in keyof T]-?: T[K] extends string | number | boolean ? Leaf<T[K]> : SchemaTree<T[K]> };

/** AppConfig minus `configFile`, which is where the rest came from (set by `--config` / WARMPOOL_CONFIG), not a setting. */
export type ConfigShape = Omit<AppConfig, 'configFile'>;

const MiB = 1024 * 1024;

const leaf = <T>(format: FormatName, def: T, doc: string): Leaf<T> => ({ doc, format, default: def });

const poolDefaults: SchemaTree<AppConfig['defaults']['pool']> = {
  min: leaf('uint', 0, 'Sessions kept open (warm) per device even when idle; 0 opens sessions only on demand.'),
  max: leaf('positive-int', 2, 'Most sessions per device. Network OSes often allow few vty lines; keep this small.'),
  idleTimeoutMs: leaf('duration-ms', 300_000, 'Close a session idle this long (sessions above `min` only). 0 never closes idle sessions.'),
  maxLifetimeMs: leaf('duration-ms', 3_600_000, 'Replace a session after this age (when it is next idle). 0: no limit.'),
  acquireTimeoutMs: leaf('positive-duration-ms', 10_000, 'Longest a request waits for a free session before failing (the call deadline can be shorter).'),
  maxWaiting: leaf('uint', 64, 'Requests that may wait for a session per device; beyond this they fail at once with RESOURCE_EXHAUSTED.'),
};

const sshDefaults: SchemaTree<AppConfig['defaults']['ssh']> = {
  connectTimeoutMs: leaf('positive-duration-ms', 10_000, 'TCP connect plus SSH handshake and login must finish within this.'),
  keepaliveIntervalMs: leaf('duration-ms', 15_000, 'SSH-level keepalive interval; 0 disables (ssh2 has keepalive off by default, a silent peer would hang).'),
  keepaliveCountMax: leaf('positive-int', 3, 'Unanswered SSH keepalives before the connection is declared dead.'),
  commandTimeoutMs: leaf('positive-duration-ms', 30_000, 'Default time one command may take (a request can set its own). The session is discarded when it passes.'),
  appKeepaliveMs: leaf('duration-ms', 60_000, 'Send an application-level nudge (an empty line, prompt re-synced) on idle shell sessions this often, because devices close quiet vty lines despite SSH keepalives. 0 disables.'),
  healthCheckAfterMs: leaf('duration-ms', 30_000, 'Probe a session before lending it out when it has been idle longer than this. 0 probes every time.'),
  legacyAlgorithms: leaf('strict-boolean', false, 'Also offer CBC ciphers, diffie-hellman-group14-sha1 / group1-sha1 and ssh-rsa, for old devices. Weakens security; prefer setting it per device.'),
  maxOutputBytes: leaf('bytes', 4 * MiB, 'Largest output of one command in a Run/RunMany reply (exec: stdout, and stderr counted separately; shell: the cleaned output). Past it the command fails with RESOURCE_EXHAUSTED, reading stops and the session is replaced. RunStream is not capped (only the command timeout applies). Must be below grpc.maxSendMessageBytes.'),
};

const httpDefaults: SchemaTree<AppConfig['defaults']['http']> = {
  maxConnections: leaf('positive-int', 4, 'Most HTTP connections per device (undici otherwise opens without limit).'),
  maxResponseBytes: leaf('bytes', 8 * MiB, 'Largest response body read from a device; larger bodies fail with a clear error instead of filling memory.'),
  connectTimeoutMs: leaf('positive-duration-ms', 10_000, 'TCP plus TLS connect timeout for device HTTP APIs.'),
  requestTimeoutMs: leaf('positive-duration-ms', 30_000, 'Default time for one HTTP request to a device (headers and body).'),
};

const rawSchema: SchemaTree<ConfigShape> = {
  grpc: {
    listen: leaf('grpc-listen-address', '127.0.0.1:50051', 'gRPC listen address. The default is pod-local (sidecar mode); a non-loopback address needs caller authentication (grpc.auth.tokensFile or mTLS) or grpc.auth.allowInsecure. `unix:///run/warmpool/grpc.sock` listens on a Unix domain socket instead (a sidecar sharing a volume with its app); it counts as local.'),
    socketMode: leaf('file-mode', '0660', 'File mode of the Unix domain socket when grpc.listen is unix:...: whoever may write to it may call the daemon. The default lets the daemon\'s user and group in (share the group with the app container, e.g. a pod fsGroup). Ignored for TCP.'),
    maxReceiveMessageBytes: leaf('bytes', 4 * MiB, 'Largest request message accepted from a caller.'),
    maxSendMessageBytes: leaf('bytes', 16 * MiB, 'Largest response message sent (grpc-js has no send cap by default). Use RunStream for larger outputs.'),
    maxConcurrentStreams: leaf('positive-int', 1000, 'HTTP/2 concurrent streams per client connection.'),
    keepaliveTimeMs: leaf('positive-duration-ms', 30_000, 'Server pings an idle client connection this often to detect dead peers.'),
    keepaliveTimeoutMs: leaf('positive-duration-ms', 10_000, 'A ping not answered within this closes the connection.'),
    maxConnectionIdleMs: leaf('duration-ms', 1_800_000, 'Close client connections with no calls for this long (clients reconnect transparently). 0 disables.'),
    maxConnectionAgeMs: leaf('duration-ms', 0, 'Close client connections after this age, e.g. to rebalance behind a load balancer. 0 disables.'),
    maxConnectionAgeGraceMs: leaf('duration-ms', 60_000, 'When maxConnectionAgeMs closes a connection, calls still running get this long to finish.'),
    tls: {
      certFile: leaf('path', '', 'PEM certificate for serving gRPC over TLS. Empty: plaintext (fine on loopback).'),
      keyFile: leaf('path', '', 'PEM private key for grpc.tls.certFile.'),
      clientCaFile: leaf('path', '', 'When set, callers must present a client certificate signed by this CA (mTLS).'),
    },
    auth: {
      tokensFile: leaf('path', '', 'File of named caller tokens (see docs/security.md). Empty: no token authentication.'),
      allowInsecure: leaf('strict-boolean', false, 'Allow a non-loopback grpc.listen without any caller authentication. Only for isolated test networks.'),
      policyFile: leaf('path', '', 'Authorization policy file. Empty: every authenticated caller may do everything.'),
    },
  },
  metrics: {
    listen: leaf('listen-address', '0.0.0.0:9464', 'HTTP address for /metrics, /healthz (process alive) and /readyz (serving, not draining).'),
    perDeviceLabels: leaf('strict-boolean', true, 'Label metrics with the device id. Switch off for very large inventories to bound series count.'),
  },
  log: {
    level: leaf('log-level', 'info', 'Log level (pino levels).'),
    audit: {
      enabled: leaf('strict-boolean', true, 'Write one audit event per command, HTTP request and inventory change (who, what device, what, result).'),
      file: leaf('path', '', 'Audit log file. Empty: audit events go to the main log (stdout).'),
      includeOutput: leaf('strict-boolean', false, 'Include command output in audit events (it may contain configuration secrets).'),
    },
  },
  shutdown: {
    graceMs: leaf('duration-ms', 20_000, 'On SIGTERM/SIGINT, in-flight calls get this long to finish before sessions are closed. Keep it below the pod terminationGracePeriodSeconds.'),
  },
  defaults: { pool: poolDefaults, ssh: sshDefaults, http: httpDefaults },
  limits: {
    maxTotalSessions: leaf('positive-int', 20_000, 'Sessions across all devices; beyond it new connects wait.'),
    maxConcurrentConnects: leaf('positive-int', 32, 'Connection attempts in progress across all devices, so a restart does not storm devices or their AAA servers.'),
    maxCommandsPerRequest: leaf('positive-int', 100, 'Commands in one Run/RunStream/RunMany request.'),
    maxCommandLength: leaf('positive-int', 4096, 'Characters in one command.'),
    maxHttpBodyBytes: leaf('bytes', 4 * MiB, 'Request body size for the Http RPC.'),
  },
  breaker: {
    failureThreshold: leaf('positive-int', 5, 'Consecutive connect failures to a device that open its circuit (calls then fail fast with UNAVAILABLE).'),
    openMs: leaf('positive-duration-ms', 5_000, 'First open period; doubles after each failed trial connect.'),
    maxOpenMs: leaf('positive-duration-ms', 60_000, 'Longest open period.'),
  },
  cache: {
    maxEntries: leaf('uint', 10_000, 'Cached command results (requests with cache_ttl_ms > 0). 0 disables the cache.'),
    maxBytes: leaf('bytes', 64 * MiB, 'Total size of cached outputs.'),
  },
  inventory: {
    file: leaf('path', '', 'Inventory file (YAML or JSON with a top-level `devices:` list), re-read on SIGHUP. A relative path is relative to the config file. Empty: devices come only over the gRPC Inventory API.'),
    readOnly: leaf('strict-boolean', false, 'Refuse Inventory.PutDevice and DeleteDevice with FAILED_PRECONDITION, so the inventory file (e.g. a ConfigMap) is the only source of devices. Set it on replicas behind a load balancer: an API change would reach one replica only.'),
    watch: leaf('strict-boolean', true, 'Re-read inventory.file when it changes (its directory is watched, so a Kubernetes ConfigMap update is seen), as SIGHUP does. A bad new file keeps the current inventory and sets warmpool_inventory_last_reload_success to 0.'),
    watchDebounceMs: leaf('positive-duration-ms', 500, 'Wait this long after the last change in the inventory directory before re-reading, so an editor\'s several writes or a ConfigMap swap cause one reload.'),
  },
};

/** grpc.listen → GRPC_LISTEN; defaults.pool.maxWaiting → DEFAULTS_POOL_MAX_WAITING. */
export function envNameFor(path: string): string {
  return `WARMPOOL_${path
    .split('.')
    .map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

export interface ConfigKey {
  path: string;
  format: FormatName;
  default: string | number | boolean;
  doc: string;
  env: string;
  /** The flag without its leading dashes, as convict wants it. */
  arg: string;
  sensitive: boolean;
}

function isLeaf(node: object): node is Leaf<unknown> {
  return 'default' in node && 'format' in node;
}

function collect(node: Record<string, object>, prefix: string, out: ConfigKey[]): void {
  for (const [k, child] of Object.entries(node)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (isLeaf(child)) {
      out.push({
        path,
        format: child.format,
        default: child.default as ConfigKey['default'],
        doc: child.doc,
        env: envNameFor(path),
        arg: path,
        sensitive: child.sensitive === true,
      });
    } else {
      collect(child as Record<string, object>, path, out);
    }
  }
}

/** Every setting, in schema order. */
export const CONFIG_KEYS: readonly ConfigKey[] = (() => {
  const out: ConfigKey[] = [];
  collect(rawSchema as unknown as Record<string, object>, '', out);
  return out;
})();

/** The group paths (grpc, grpc.tls, defaults.pool, ...), for telling "unknown key" from "wrong shape". */
export const CONFIG_GROUPS: ReadonlySet<string> = new Set(
  CONFIG_KEYS.flatMap((k) => {
    const segs = k.path.split('.');
    return segs.slice(0, -1).map((_, i) => segs.slice(0, i + 1).join('.'));
  }),
);

/** The convict schema: rawSchema with env and arg filled in from each path. */
export function buildConvictSchema(): convict.Schema<ConfigShape> {
  const byPath = new Map(CONFIG_KEYS.map((k) => [k.path, k]));
  const build = (node: Record<string, object>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(node)) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      const key = byPath.get(path);
      out[k] = key
        ? { doc: key.doc, format: key.format, default: key.default, env: key.env, arg: key.arg, ...(key.sensitive ? { sensitive: true } : {}) }
        : build(child as Record<string, object>, path);
    }
    return out;
  };
  return build(rawSchema as unknown as Record<string, object>, '') as unknown as convict.Schema<ConfigShape>;
}

export function formatInfo(name: FormatName): FormatInfo {
  return FORMATS[name];
}
