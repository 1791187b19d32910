import type { DeviceSpec } from '../config/types.js';
import type { Device, Device__Output } from '../gen/warmpool/v1/Device.js';
import type { PoolStats as PoolStatsMsg } from '../gen/warmpool/v1/PoolStats.js';
import type { RunResponse } from '../gen/warmpool/v1/RunResponse.js';
import type { SessionInfo as SessionInfoMsg } from '../gen/warmpool/v1/SessionInfo.js';
import type { CommandResult } from '../gen/warmpool/v1/CommandResult.js';
import type { PoolStats, SessionInfo } from '../pool/types.js';
import type { CommandOutcome } from '../drivers/ssh-types.js';
import type { RunResult } from '../app/context.js';

/** Conversions between internal objects and proto messages; no logic beyond shape. */

// uint64 fields are given as numbers: protobufjs encodes a number directly but parses a string
// through long.js first, which showed in the Run hot path. Counts and times stay far below 2^53.
export function sessionInfoMsg(s: SessionInfo): SessionInfoMsg {
  return { id: s.id, reused: s.reused, wait_ms: s.waitMs, connect_ms: s.connectMs, uses: s.uses };
}

export function commandResultMsg(o: CommandOutcome, cached = false): CommandResult {
  return {
    command: o.command, output: o.output, exit_status: o.exitStatus, failed: o.failed,
    error: o.error, duration_ms: o.durationMs, cached,
  };
}

export function runResponseMsg(r: RunResult): RunResponse {
  return { device: r.device, results: r.results.map((o) => commandResultMsg(o, o.cached)), session: sessionInfoMsg(r.session) };
}

export function poolStatsMsg(s: PoolStats): PoolStatsMsg {
  return {
    device: s.device, protocol: s.protocol, idle: s.idle, busy: s.busy, connecting: s.connecting, waiting: s.waiting,
    created_total: s.createdTotal, closed_total: s.closedTotal, acquired_total: s.acquiredTotal,
    failed_connects_total: s.failedConnectsTotal, circuit: s.circuit, min: s.min, max: s.max,
    circuit_open_until_unix_ms: Math.round(s.circuitOpenUntil), last_error: s.lastError,
  };
}

/** DeviceSpec → Device reply. Secrets are write-only: only whether they are set is returned. */
export function deviceMsg(d: DeviceSpec, netconfCapabilities: readonly string[] = []): Device {
  const http = d.http;
  return {
    id: d.id, host: d.host, port: d.port, platform: d.platform,
    mode: d.mode === 'exec' ? 'SESSION_MODE_EXEC' : d.mode === 'netconf' ? 'SESSION_MODE_NETCONF' : 'SESSION_MODE_SHELL',
    username: d.username, labels: { ...d.labels }, source: d.source,
    host_key: {
      fingerprints: d.hostKey.fingerprints ?? [], known_hosts_file: d.hostKey.knownHostsFile ?? '',
      accept_any: Boolean(d.hostKey.acceptAny),
    },
    prompt: d.prompt ?? '', ...(d.pagingCommand !== undefined ? { paging_command: d.pagingCommand } : {}),
    enable_command: d.enableCommand ?? '',
    pool: {
      min: d.pool.min, max: d.pool.max, idle_timeout_ms: d.pool.idleTimeoutMs, max_lifetime_ms: d.pool.maxLifetimeMs,
      acquire_timeout_ms: d.pool.acquireTimeoutMs, max_waiting: d.pool.maxWaiting,
    },
    ssh: {
      connect_timeout_ms: d.ssh.connectTimeoutMs, keepalive_interval_ms: d.ssh.keepaliveIntervalMs,
      keepalive_count_max: d.ssh.keepaliveCountMax, command_timeout_ms: d.ssh.commandTimeoutMs,
      app_keepalive_ms: d.ssh.appKeepaliveMs, health_check_after_ms: d.ssh.healthCheckAfterMs,
      legacy_algorithms: d.ssh.legacyAlgorithms, max_output_bytes: d.ssh.maxOutputBytes,
    },
    http: http
      ? {
          base_url: http.baseUrl,
          auth: {
            type: http.auth.type,
            username: 'username' in http.auth ? http.auth.username : '',
            login_path: http.auth.type === 'session' ? http.auth.loginPath : '',
            token_field: http.auth.type === 'session' ? (http.auth.tokenField ?? '') : '',
            token_header: http.auth.type === 'session' ? (http.auth.tokenHeader ?? '') : '',
            password_file: 'password' in http.auth ? (http.auth.password.file ?? '') : '',
            token_file: http.auth.type === 'bearer' ? (http.auth.token.file ?? '') : '',
          },
          tls: {
            ca_file: http.tls.caFile ?? '', ca_pem: http.tls.ca ?? '', cert_file: http.tls.certFile ?? '', key_file: http.tls.keyFile ?? '',
            server_name: http.tls.serverName ?? '', insecure_skip_verify: Boolean(http.tls.insecureSkipVerify),
          },
          max_connections: http.maxConnections, max_response_bytes: http.maxResponseBytes,
        }
      : null,
    // Capabilities: the newest NETCONF session's <hello> (docs/api.md, "Netconf").
    netconf: d.netconf || d.mode === 'netconf' || netconfCapabilities.length > 0
      ? { ...(d.netconf?.port !== undefined ? { port: d.netconf.port } : {}), capabilities: [...netconfCapabilities] }
      : null,
    has_password: d.password !== undefined,
    has_private_key: d.privateKey !== undefined,
    has_enable_secret: d.enableSecret !== undefined,
    via: d.via ?? '',
  };
}

/**
 * Device message → the plain object shape of an inventory-file entry, so the API and
 * the file share one validator. Empty proto3 defaults mean "not given". The inline-only
 * fields (host_key.known_hosts, http.tls.ca_pem) and the refusal of *_file fields are
 * handled by PutDevice (inventory-service.ts), not here.
 */
export function deviceToRaw(m: Device__Output): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return;
    raw[k] = v;
  };
  put('id', m.id);
  put('host', m.host);
  if (m.port) raw.port = m.port;
  put('platform', m.platform);
  if (m.mode === 'SESSION_MODE_SHELL') raw.mode = 'shell';
  if (m.mode === 'SESSION_MODE_EXEC') raw.mode = 'exec';
  if (m.mode === 'SESSION_MODE_NETCONF') raw.mode = 'netconf';
  // Capabilities are output only: a Device read back with GetDevice and sent to PutDevice must not fail on them.
  if (m.netconf) raw.netconf = m.netconf.port ? { port: m.netconf.port } : {};
  put('username', m.username);
  put('password', m.password);
  put('passwordFile', m.password_file);
  put('privateKey', m.private_key);
  put('privateKeyFile', m.private_key_file);
  put('passphrase', m.passphrase);
  put('passphraseFile', m.passphrase_file);
  put('enableSecret', m.enable_secret);
  put('enableSecretFile', m.enable_secret_file);
  put('via', m.via);
  if (m.host_key) {
    const hk: Record<string, unknown> = {};
    if (m.host_key.fingerprints?.length) hk.fingerprints = m.host_key.fingerprints;
    if (m.host_key.known_hosts_file) hk.knownHostsFile = m.host_key.known_hosts_file;
    if (m.host_key.accept_any) hk.acceptAny = true;
    raw.hostKey = hk;
  }
  put('prompt', m.prompt);
  if (m.paging_command !== undefined && m.paging_command !== null) raw.pagingCommand = m.paging_command;
  put('enableCommand', m.enable_command);
  if (m.labels && Object.keys(m.labels).length > 0) raw.labels = { ...m.labels };
  if (m.pool) {
    const p = pick(m.pool, { min: 'min', max: 'max', idle_timeout_ms: 'idleTimeoutMs', max_lifetime_ms: 'maxLifetimeMs', acquire_timeout_ms: 'acquireTimeoutMs', max_waiting: 'maxWaiting' });
    if (Object.keys(p).length) raw.pool = p;
  }
  if (m.ssh) {
    const s = pick(m.ssh, {
      connect_timeout_ms: 'connectTimeoutMs', keepalive_interval_ms: 'keepaliveIntervalMs', keepalive_count_max: 'keepaliveCountMax',
      command_timeout_ms: 'commandTimeoutMs', app_keepalive_ms: 'appKeepaliveMs', health_check_after_ms: 'healthCheckAfterMs',
      legacy_algorithms: 'legacyAlgorithms', max_output_bytes: 'maxOutputBytes',
    });
    if (Object.keys(s).length) raw.ssh = s;
  }
  if (m.http && m.http.base_url) {
    const h: Record<string, unknown> = { baseUrl: m.http.base_url };
    const a = m.http.auth;
    if (a && a.type && a.type !== 'none') {
      const auth: Record<string, unknown> = { type: a.type };
      for (const [from, to] of [['username', 'username'], ['password', 'password'], ['password_file', 'passwordFile'], ['token', 'token'], ['token_file', 'tokenFile'], ['login_path', 'loginPath'], ['token_field', 'tokenField'], ['token_header', 'tokenHeader']] as const) {
        if (a[from]) auth[to] = a[from];
      }
      h.auth = auth;
    }
    const t = m.http.tls;
    if (t) {
      const tls: Record<string, unknown> = {};
      if (t.ca_file) tls.caFile = t.ca_file;
      if (t.cert_file) tls.certFile = t.cert_file;
      if (t.key_file) tls.keyFile = t.key_file;
      if (t.server_name) tls.serverName = t.server_name;
      if (t.insecure_skip_verify) tls.insecureSkipVerify = true;
      if (Object.keys(tls).length) h.tls = tls;
    }
    if (m.http.max_connections != null) h.maxConnections = m.http.max_connections;
    if (m.http.max_response_bytes != null) h.maxResponseBytes = m.http.max_response_bytes;
    raw.http = h;
  }
  return raw;
}

/** Copy proto3 `optional` fields that are set, renaming keys. */
function pick(src: object, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(names)) {
    const v = (src as Record<string, unknown>)[from];
    if (v !== undefined && v !== null) out[to] = v;
  }
  return out;
}
