/**
 * Reads the configuration once, at the edge: defaults < file < environment < flags.
 * argv and env are passed in (never process globals), so tests and the CLI decide
 * exactly what is seen. Any problem is a WarmpoolError('CONFIG_INVALID') whose
 * message names the key, the problem and where the value came from.
 */
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import convict from 'convict';
import { WarmpoolError } from '../core/errors.js';
import { checkBelowSendLimit, isPlainObject, parseListen, parseUnixListen, showValue, suggest } from './checks.js';
import { parseInventoryDocument, type Inventory } from './inventory.js';
import { parseStructuredText } from './parse.js';
import { buildConvictSchema, CONFIG_GROUPS, CONFIG_KEYS, formatInfo, type ConfigKey, type ConfigShape } from './schema.js';
import type { AppConfig, DeviceSpec } from './types.js';

export interface LoadConfigOptions {
  /** Command-line arguments after the node binary and script (process.argv.slice(2)). */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Explicit config file; wins over `--config` and WARMPOOL_CONFIG. */
  configFile?: string;
  /** The config file's content, already parsed (`warmpool check` parses it with positions); configFile still names it. */
  fileObject?: Record<string, unknown>;
}

type Origin = { kind: 'file'; file: string } | { kind: 'env'; name: string } | { kind: 'flag'; name: string } | { kind: 'default' };

const TOP_LEVEL = new Set(CONFIG_KEYS.map((k) => k.path.split('.')[0] as string));

function invalid(message: string, field?: string): WarmpoolError {
  return new WarmpoolError('CONFIG_INVALID', message, field === undefined ? {} : { field });
}

/** Flags before a bare "--" (what follows it is a command for the device, not ours). */
function ownArgs(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/** The value of `--name VALUE` or `--name=VALUE`; the last one wins, as convict does. */
function flagValue(args: string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${name}`) {
      const next = args[i + 1];
      found = next !== undefined && !next.startsWith('--') ? next : '';
    } else if (a.startsWith(`--${name}=`)) {
      found = a.slice(name.length + 3);
    }
  }
  return found;
}

/**
 * Drop all but the last occurrence of each setting's flag. yargs (under convict) turns a
 * repeated flag into a list, so "--metrics.listen A --metrics.listen B" would be read as
 * "A,B"; users (and wrappers such as the demo, which sets its own default first) expect the
 * last one to win, as with every other CLI.
 */
function lastFlagWins(args: string[], isSetting: (name: string) => boolean): string[] {
  const groups: Array<{ name: string | undefined; tokens: string[] }> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const m = /^--([^=]+)(=.*)?$/.exec(a);
    if (!m || !isSetting(m[1] as string)) {
      groups.push({ name: undefined, tokens: [a] });
      continue;
    }
    const next = args[i + 1];
    const takesNext = m[2] === undefined && next !== undefined && !next.startsWith('--');
    groups.push({ name: m[1], tokens: takesNext ? [a, next as string] : [a] });
    if (takesNext) i++;
  }
  const last = new Map<string, number>();
  groups.forEach((g, i) => g.name !== undefined && last.set(g.name, i));
  return groups.filter((g, i) => g.name === undefined || last.get(g.name) === i).flatMap((g) => g.tokens);
}

function flagGiven(args: string[], name: string): boolean {
  return args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/** Which config file to read, and how it was named (for messages). */
function configFilePath(opts: LoadConfigOptions): { path: string; via: string } | undefined {
  if (opts.configFile !== undefined && opts.configFile !== '') return { path: opts.configFile, via: 'the configFile option' };
  const flag = flagValue(ownArgs(opts.argv), 'config');
  if (flag !== undefined) {
    if (flag === '') throw invalid('invalid configuration: --config needs a file name', 'config');
    return { path: flag, via: '--config' };
  }
  const env = opts.env['WARMPOOL_CONFIG'];
  if (env !== undefined && env !== '') return { path: env, via: 'WARMPOOL_CONFIG' };
  return undefined;
}

function readConfigFile(path: string, via: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw invalid(`invalid configuration: config file ${path} (from ${via}) ${why}`, 'config');
  }
  const doc = parseStructuredText(text, path, `invalid configuration in ${path}`);
  if (doc === null || doc === undefined) return {}; // an empty file means "all defaults"
  if (!isPlainObject(doc)) throw invalid(`invalid configuration in ${path}: the file must be a mapping of settings (got ${showValue(doc)})`);
  return doc;
}

/** Unknown keys and wrong shapes in the file, before convict sees it (it would store or crash on them). */
function checkFileShape(obj: Record<string, unknown>, prefix: string, file: string, byPath: Map<string, ConfigKey>): void {
  for (const key of Object.keys(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const value = obj[key];
    const leaf = byPath.get(path);
    if (leaf !== undefined) {
      if (typeof value === 'object' && value !== null) {
        const problem = formatInfo(leaf.format).check(value) ?? 'must be a single value';
        throw invalid(`invalid configuration in ${file}: ${path}: ${problem} (got ${showValue(value)})`, path);
      }
      continue;
    }
    if (CONFIG_GROUPS.has(path)) {
      if (value === null) continue; // "grpc:" with nothing under it: keep the defaults
      if (!isPlainObject(value)) throw invalid(`invalid configuration in ${file}: ${path}: must be a mapping (got ${showValue(value)})`, path);
      checkFileShape(value, path, file, byPath);
      continue;
    }
    const siblings = [...byPath.keys(), ...CONFIG_GROUPS]
      .filter((p) => p.split('.').length === path.split('.').length && p.startsWith(prefix === '' ? '' : `${prefix}.`))
      .map((p) => p.split('.').pop() as string);
    const hint = suggest(key, siblings);
    throw invalid(`invalid configuration in ${file}: unknown key "${path}"${hint === undefined ? '' : ` (did you mean "${prefix === '' ? '' : `${prefix}.`}${hint}"?)`}`, path);
  }
}

/** Drop `key: null` groups so convict's overlay keeps their defaults. */
function withoutNullGroups(obj: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (CONFIG_GROUPS.has(path)) {
      if (isPlainObject(value)) out[key] = withoutNullGroups(value, path);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function hasPath(obj: Record<string, unknown>, path: string): boolean {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) return false;
    cur = cur[seg];
  }
  return cur !== null && cur !== undefined;
}

function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case 'file':
      return `in ${o.file}`;
    case 'env':
      return `(environment ${o.name})`;
    case 'flag':
      return `(flag --${o.name})`;
    case 'default':
      return '(built-in default)';
  }
}

/** Load, merge and validate the configuration. Throws WarmpoolError('CONFIG_INVALID'). */
export function loadConfig(opts: LoadConfigOptions): AppConfig {
  const byPath = new Map(CONFIG_KEYS.map((k) => [k.path, k]));
  const args = lastFlagWins(ownArgs(opts.argv), (name) => byPath.has(name));
  const file = configFilePath(opts);
  const fileObj = file === undefined ? {} : opts.fileObject ?? readConfigFile(file.path, file.via);
  if (file !== undefined) checkFileShape(fileObj, '', file.path, byPath);

  // A dotted flag under one of our sections that names no setting is a typo, not another tool's flag.
  for (const a of args) {
    const m = /^--([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)(?:=|$)/.exec(a);
    if (m && TOP_LEVEL.has((m[1] as string).split('.')[0] as string) && !byPath.has(m[1] as string)) {
      const hint = suggest(m[1] as string, [...byPath.keys()]);
      throw invalid(`invalid configuration: unknown flag "--${m[1]}"${hint === undefined ? '' : ` (did you mean "--${hint}"?)`}`, m[1]);
    }
  }

  let cfg: convict.Config<ConfigShape>;
  try {
    // env and args are given explicitly; convict would otherwise read process.env / process.argv.
    cfg = convict(buildConvictSchema(), { env: { ...opts.env }, args: [...args] });
    cfg.load(withoutNullGroups(fileObj, ''));
  } catch (err) {
    throw invalid(`invalid configuration${file === undefined ? '' : ` in ${file.path}`}: ${(err as Error).message}`);
  }

  const origin = (key: ConfigKey): Origin => {
    if (flagGiven(args, key.arg)) return { kind: 'flag', name: key.arg };
    if (opts.env[key.env] !== undefined) return { kind: 'env', name: key.env };
    if (file !== undefined && hasPath(fileObj, key.path)) return { kind: 'file', file: file.path };
    return { kind: 'default' };
  };

  const problems: { key: ConfigKey; text: string }[] = [];
  for (const key of CONFIG_KEYS) {
    const value: unknown = cfg.get(key.path as never);
    const problem = formatInfo(key.format).check(value);
    if (problem !== undefined) {
      const shown = key.sensitive ? 'the value is not shown' : `got ${showValue(value)}`;
      problems.push({ key, text: `invalid configuration ${describeOrigin(origin(key))}: ${key.path}: ${problem} (${shown})` });
    }
  }
  const first = problems[0];
  if (first !== undefined) {
    throw invalid(problems.map((p) => p.text).join('; '), first.key.path);
  }

  const config = { ...(cfg.getProperties() as ConfigShape), configFile: file?.path ?? '' } as AppConfig;

  // Paths written in the config file are relative to it, like `inventory: { file: devices.yaml }`.
  if (file !== undefined) {
    const dir = dirname(resolve(file.path));
    for (const key of CONFIG_KEYS) {
      if (key.format !== 'path') continue;
      const v = cfg.get(key.path as never) as string;
      const o = origin(key);
      if (v !== '' && !isAbsolute(v) && o.kind === 'file') setPath(config, key.path, resolve(dir, v));
    }
  }
  checkConsistency(config, (key) => origin(byPath.get(key) as ConfigKey));
  return config;
}

function setPath(obj: object, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const seg of segs.slice(0, -1)) cur = cur[seg] as Record<string, unknown>;
  cur[segs[segs.length - 1] as string] = value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Rules that involve more than one key. */
function checkConsistency(c: AppConfig, originOf: (key: string) => Origin): void {
  const fail: (key: string, problem: string) => never = (key, problem) => {
    throw invalid(`invalid configuration ${describeOrigin(originOf(key))}: ${key}: ${problem}`, key);
  };
  const pool = c.defaults.pool;
  if (pool.min > pool.max) fail('defaults.pool.min', `must be <= defaults.pool.max (got min ${pool.min}, max ${pool.max})`);
  for (const [key, value] of [['defaults.ssh.maxOutputBytes', c.defaults.ssh.maxOutputBytes], ['defaults.http.maxResponseBytes', c.defaults.http.maxResponseBytes]] as const) {
    const problem = checkBelowSendLimit(value, c.grpc.maxSendMessageBytes);
    if (problem !== undefined) fail(key, problem);
  }
  if (c.breaker.openMs > c.breaker.maxOpenMs) fail('breaker.openMs', `must be <= breaker.maxOpenMs (got ${c.breaker.openMs} > ${c.breaker.maxOpenMs})`);
  const tls = c.grpc.tls;
  if ((tls.certFile === '') !== (tls.keyFile === '')) fail(tls.certFile === '' ? 'grpc.tls.certFile' : 'grpc.tls.keyFile', 'grpc.tls.certFile and grpc.tls.keyFile must be set together');
  if (tls.clientCaFile !== '' && tls.certFile === '') fail('grpc.tls.clientCaFile', 'needs grpc.tls.certFile and grpc.tls.keyFile (mTLS is TLS plus client certificates)');

  const grpcHost = parseListen(c.grpc.listen)?.host ?? '';
  const authenticated = c.grpc.auth.tokensFile !== '' || c.grpc.tls.clientCaFile !== '';
  // A Unix domain socket is reachable only from this host (its file mode decides who): local like loopback.
  const local = isLoopback(grpcHost) || parseUnixListen(c.grpc.listen) !== undefined;
  if (!local && !authenticated && !c.grpc.auth.allowInsecure) {
    fail(
      'grpc.listen',
      `"${c.grpc.listen}" is reachable from other hosts but no caller authentication is configured: ` +
        'set grpc.auth.tokensFile or grpc.tls.clientCaFile, or grpc.auth.allowInsecure: true for an isolated network',
    );
  }

  // Files the daemon reads must be there now: a typo found at start beats a failure on first use.
  for (const key of ['grpc.tls.certFile', 'grpc.tls.keyFile', 'grpc.tls.clientCaFile', 'grpc.auth.tokensFile', 'grpc.auth.policyFile', 'inventory.file']) {
    const p = getPath(c, key);
    if (p === '') continue;
    const problem = unreadable(p);
    if (problem !== undefined) fail(key, `file ${JSON.stringify(p)} ${problem}`);
  }
  if (c.log.audit.file !== '') {
    const dir = dirname(resolve(c.log.audit.file));
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) fail('log.audit.file', `directory ${JSON.stringify(dir)} does not exist`);
  }
}

function getPath(obj: object, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) cur = (cur as Record<string, unknown>)[seg];
  return cur as string;
}

function unreadable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a regular file';
    accessSync(path, fsConstants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by the daemon' : `cannot be read (${code ?? 'error'})`;
  }
}

/**
 * Read and validate an inventory file (YAML or JSON with a top-level `devices:` list).
 * Throws WarmpoolError('CONFIG_INVALID') naming the file, device and field.
 */
export function loadInventoryFile(path: string, config: Pick<AppConfig, 'defaults'>): DeviceSpec[] {
  return loadInventory(path, config).devices;
}

/** loadInventoryFile with the file's bastions (jump hosts) too. */
export function loadInventory(path: string, config: Pick<AppConfig, 'defaults'>): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be read (${code ?? 'error'})`;
    throw invalid(`inventory ${path}: the file ${why}`, 'inventory.file');
  }
  return parseInventoryDocument(text, path, config.defaults);
}
