/**
 * Authorization policy: which caller may call which RPC, on which devices, with which commands.
 *
 *   rules:
 *     - callers: ["billing-svc", "ops-*"]          # globs on caller names (required)
 *       rpcs: ["Run", "GetDevice"]                 # exact RPC names or "*"; omitted = all
 *       devices: { ids: ["core-*"], labels: { site: fra1 } }   # id glob OR all labels; omitted = all
 *       presets: [read-only]
 *       commands: { allow: ["^show "], deny: ["^show run"] }
 *       configure: false
 *       privileged: true
 *       httpMethods: ["GET"]
 *       httpPaths: { allow: ["^/api/"], deny: ["^/api/admin"] }
 *
 * Evaluation (docs/security.md "Authorization policy"):
 *   - The FIRST rule whose callers, rpcs and devices all match the request decides. Later rules
 *     are not consulted, even when the deciding rule denies (like a firewall's first match).
 *   - No matching rule: denied ("no rule allows caller x to call Run on core-sw1").
 *   - Within the deciding rule, per command: a control character (line break, ...) is refused
 *     whenever the rule restricts commands at all; then a rule deny pattern refuses; then
 *     `configure: false` (and presets that forbid configuration) refuse every command whose
 *     intent (intent.ts, read from the command itself) is not 'read'; then each preset's
 *     allow-list (presets.ts) must accept the raw command on the device's platform/mode; then,
 *     if allow patterns exist, the command must match one of them.
 *     Omitted fields do not restrict, except through presets.
 *   - Command patterns are case-insensitive RE2 patterns (core/pattern.ts: linear time, whatever
 *     the operator wrote) matched against the command with leading
 *     and trailing whitespace removed and internal whitespace collapsed to one space (devices
 *     accept "CONF  T" as "conf t"). HTTP path patterns are case-sensitive and see the normalised
 *     path without its query (http/path.ts), which is exactly the path sent to the device.
 *   - No policy file: every authenticated caller may do everything.
 * Regexes are compiled once at load; an invalid one is CONFIG_INVALID naming file and rule.
 */
import { parse as parseYaml } from 'yaml';
import { compilePattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import { isNormalPath } from './http-path.js';
import { redactCommand as redactCommandText } from '../core/redact.js';
import type { Caller } from './caller.js';
import { raisesPrivilege } from './intent.js';
import { classifyFor, PRESETS, type CommandTarget, type Preset } from './presets.js';
import { ReloadingFile, type ReloadingFileOptions } from './reloading-file.js';

/** Every RPC name a rule may list (plus "*"). Add new RPCs here. */
export const KNOWN_RPCS: ReadonlySet<string> = new Set([
  'Run', 'RunStream', 'RunMany', 'Http',
  'PutDevice', 'GetDevice', 'ListDevices', 'DeleteDevice',
  'GetPoolStats', 'DrainDevice',
]);

/** The parts of a DeviceSpec the policy looks at (a DeviceSpec fits). */
export interface PolicyDevice {
  id: string;
  labels?: Record<string, string>;
  /** Decides which command grammar applies (intent.ts grammarFor); unknown: the strictest. */
  platform?: string | undefined;
  mode?: string | undefined;
}

export interface AuthzRequest {
  rpc: string;
  device?: PolicyDevice | undefined;
  commands?: readonly string[] | undefined;
  /**
   * Replies of interactive answers (RunRequest.answers), when the API layer supports them. They
   * are typed into the session like commands, so they are checked like commands; a refused
   * reply is never quoted (it may be secret).
   */
  answerReplies?: readonly string[] | undefined;
  configure?: boolean | undefined;
  /** Enable/privileged mode (RunRequest.privileged). */
  privileged?: boolean | undefined;
  httpMethod?: string | undefined;
  /** The normalised path without query (http/path.ts normalizeHttpPath().path): what is sent. */
  httpPath?: string | undefined;
}

export type Decision =
  | { allowed: true; /** 1-based index of the deciding rule; 0 when there is no policy file. */ rule: number }
  | { allowed: false; rule: number; message: string };

interface RulePattern {
  source: string;
  /** RE2 (core/pattern.ts): caller commands and paths are matched in linear time, whatever the operator wrote. */
  re: Pattern;
}

interface Rule {
  index: number; // 1-based, as shown in messages
  callers: RegExp[];
  rpcs: ReadonlySet<string> | 'all';
  deviceIds: RegExp[] | undefined;
  deviceLabels: Record<string, string> | undefined;
  presets: Preset[];
  commandAllow: RulePattern[] | undefined;
  commandDeny: RulePattern[];
  configure: boolean | undefined;
  privileged: boolean | undefined;
  httpMethods: ReadonlySet<string> | undefined;
  httpPathAllow: RulePattern[] | undefined;
  httpPathDeny: RulePattern[];
}

const RULE_KEYS = new Set(['callers', 'rpcs', 'devices', 'presets', 'commands', 'configure', 'privileged', 'httpMethods', 'httpPaths']);

/** Glob → anchored regex: `*` any run of characters (including "/"), `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** C0 and C1 controls except tab, DEL, and the Unicode line/paragraph separators. */
const CONTROL_CHAR = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function normalizeCommand(cmd: string): string {
  return cmd.trim().replace(/\s+/g, ' ');
}

/** A command as shown in a message: whitespace collapsed, secrets masked (core/redact.ts), capped. */
export function redactCommand(cmd: string): string {
  return redactCommandText(cmd, 120);
}

export class Policy {
  readonly #rules: Rule[] | null; // null: no policy file, allow everything

  private constructor(rules: Rule[] | null) {
    this.#rules = rules;
  }

  /** The policy when no file is configured: every authenticated caller may do everything. */
  static allowAll(): Policy {
    return new Policy(null);
  }

  /** Parse and compile a policy file's text; CONFIG_INVALID names the file and the rule. */
  static parse(text: string, file: string): Policy {
    return new Policy(compile(text, file));
  }

  get ruleCount(): number {
    return this.#rules?.length ?? 0;
  }

  /** Decide without throwing (for filtering lists, e.g. ListDevices). */
  check(caller: Caller, req: AuthzRequest): Decision {
    if (this.#rules === null) return { allowed: true, rule: 0 };
    const rule = this.#rules.find((r) => ruleMatches(r, caller, req));
    const on = req.device ? ` on ${req.device.id}` : '';
    if (!rule) {
      return { allowed: false, rule: 0, message: `no rule allows caller ${caller.name} to call ${req.rpc}${on}` };
    }
    const reason = ruleDenies(rule, req);
    if (reason === undefined) return { allowed: true, rule: rule.index };
    return { allowed: false, rule: rule.index, message: `caller ${caller.name} may not ${reason.what}${on}: ${reason.why}` };
  }

  /** Throws WarmpoolError PERMISSION_DENIED (naming caller, device and rule) unless allowed. */
  authorize(caller: Caller, req: AuthzRequest): void {
    const d = this.check(caller, req);
    if (!d.allowed) throw new WarmpoolError('PERMISSION_DENIED', d.message, req.device ? { device: req.device.id } : {});
  }
}

export function loadPolicy(file: string): Policy {
  return new ReloadingFile('policy file', file, Policy.parse, { field: 'grpc.auth.policyFile' }).get();
}

/**
 * The current policy, following its file: re-read when the file changes (checked at most once
 * per `recheckMs`, default 1 s) or on reload() (SIGHUP). A bad new file keeps the old policy.
 */
export class PolicyStore {
  readonly #file: ReloadingFile<Policy> | undefined;

  /** `file` '' (grpc.auth.policyFile unset): allow everything. Throws CONFIG_INVALID on a bad file. */
  constructor(file: string, opts: ReloadingFileOptions = {}) {
    this.#file = file === '' ? undefined : new ReloadingFile('policy file', file, Policy.parse, { field: 'grpc.auth.policyFile', ...opts });
  }

  current(): Policy {
    return this.#file ? this.#file.get() : ALLOW_ALL;
  }

  check(caller: Caller, req: AuthzRequest): Decision {
    return this.current().check(caller, req);
  }

  authorize(caller: Caller, req: AuthzRequest): void {
    this.current().authorize(caller, req);
  }

  reload(): boolean {
    return this.#file?.reload() ?? false;
  }
}

const ALLOW_ALL = Policy.allowAll();

/** An unknown platform is checked both as a CLI and as a Unix shell. */
function raisesPrivilegeFor(target: CommandTarget, command: string): boolean {
  if (target.platform !== undefined) return raisesPrivilege(target.platform, command, target.mode);
  return raisesPrivilege('generic', command, 'shell') || raisesPrivilege('generic', command, 'exec');
}

function ruleMatches(rule: Rule, caller: Caller, req: AuthzRequest): boolean {
  if (!rule.callers.some((re) => re.test(caller.name))) return false;
  if (rule.rpcs !== 'all' && !rule.rpcs.has(req.rpc)) return false;
  // A request without a device (ListDevices, GetPoolStats for all) is not restricted by `devices`;
  // the handler filters what it returns with check() per device.
  if (req.device && (rule.deviceIds || rule.deviceLabels)) {
    const { id, labels = {} } = req.device;
    const byId = rule.deviceIds?.some((re) => re.test(id)) ?? false;
    const byLabels = rule.deviceLabels ? Object.entries(rule.deviceLabels).every(([k, v]) => labels[k] === v) : false;
    if (!byId && !byLabels) return false;
  }
  return true;
}

function ruleDenies(rule: Rule, req: AuthzRequest): { what: string; why: string } | undefined {
  const by = `rule ${rule.index}`;
  for (const p of rule.presets) {
    if (p.deniedRpcs.has(req.rpc)) return { what: `call ${req.rpc}`, why: `denied by ${by} (preset ${p.name}: ${p.why})` };
  }
  if (req.configure) {
    if (rule.configure === false) return { what: 'use configure mode', why: `denied by ${by} (configure: false)` };
    const p = rule.presets.find((x) => !x.configure);
    if (p) return { what: 'use configure mode', why: `denied by ${by} (preset ${p.name}: ${p.why})` };
  }
  if (req.privileged && rule.privileged === false) {
    return { what: 'use privileged (enable) mode', why: `denied by ${by} (privileged: false)` };
  }
  const target: CommandTarget = { platform: req.device?.platform, mode: req.device?.mode };
  const noConfigPreset = rule.presets.find((x) => !x.configure);
  const restrictsCommands = rule.commandAllow !== undefined || rule.commandDeny.length > 0 || rule.presets.length > 0
    || rule.configure === false || rule.privileged === false;
  const typed = [
    ...(req.commands ?? []).map((raw) => ({ raw, what: `run '${redactCommand(raw)}'`, quiet: false })),
    ...(req.answerReplies ?? []).map((raw, i) => ({ raw, what: `send interactive answer ${i + 1}`, quiet: true })),
  ];
  for (const { raw, what, quiet } of typed) {
    // Reasons quote the command; a reply may be a password, so its reasons stay generic.
    const say = (reason: string): string => (quiet ? 'the reply is not a known read-only command' : reason);
    const cmd = normalizeCommand(raw);
    // Patterns see the normalised command, but a device sees the raw one: a line break or other
    // control character would smuggle a second command past them.
    const control = restrictsCommands ? CONTROL_CHAR.exec(raw) : null;
    if (control) return { what, why: `denied by ${by} (the command contains the control character ${codePoint(control[0])})` };
    const deny = rule.commandDeny.find((p) => p.re.test(cmd));
    if (deny) return { what, why: `denied by ${by} (commands.deny '${deny.source}')` };
    // Configuration intent is read from the command itself, not from the request flags.
    if (rule.configure === false || noConfigPreset) {
      const c = classifyFor(target, raw);
      if (c.intent !== 'read') {
        const source = rule.configure === false ? 'configure: false' : `preset ${noConfigPreset!.name}`;
        return { what, why: `denied by ${by} (${source}: ${say(c.reason)})` };
      }
    }
    // Like configure: false, privileged: false is read from the command too ("enable", "en", sudo).
    if (rule.privileged === false && raisesPrivilegeFor(target, raw)) {
      return { what, why: `denied by ${by} (privileged: false: the command raises the privilege level)` };
    }
    for (const p of rule.presets) {
      const problem = p.commandProblem(raw, target);
      if (problem !== undefined) return { what, why: `denied by ${by} (preset ${p.name}: ${say(problem)})` };
    }
    if (rule.commandAllow && !rule.commandAllow.some((p) => p.re.test(cmd))) {
      return { what, why: `not allowed by ${by} (no commands.allow pattern matches)` };
    }
  }
  if (req.httpMethod !== undefined) {
    const method = req.httpMethod.toUpperCase();
    const what = `send HTTP ${method}${req.httpPath === undefined ? '' : ` ${req.httpPath}`}`;
    if (rule.httpMethods && !rule.httpMethods.has(method)) {
      return { what, why: `denied by ${by} (httpMethods: ${[...rule.httpMethods].join(', ')})` };
    }
    const p = rule.presets.find((x) => !x.httpMethods.has(method));
    if (p) return { what, why: `denied by ${by} (preset ${p.name}: HTTP ${[...p.httpMethods].join('/')} only)` };
  }
  if (req.httpPath !== undefined) {
    const path = req.httpPath;
    const what = `send HTTP ${req.httpMethod?.toUpperCase() ?? 'request'} ${path}`;
    // Patterns only mean something on the one normal form that is also sent (http/path.ts);
    // anything else (a raw path, a query) is refused rather than matched: fail closed.
    if (!isNormalPath(path)) return { what, why: `denied by ${by} (the path is not in normal form; this is a bug in the caller of the policy)` };
    const deny = rule.httpPathDeny.find((p) => p.re.test(path));
    if (deny) return { what, why: `denied by ${by} (httpPaths.deny '${deny.source}')` };
    if (rule.httpPathAllow && !rule.httpPathAllow.some((p) => p.re.test(path))) {
      return { what, why: `not allowed by ${by} (no httpPaths.allow pattern matches)` };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Loading: strict, because a typo ("command:" for "commands:") must not silently drop a restriction.

function compile(text: string, file: string): Rule[] {
  const fail = (msg: string, field?: string): never => {
    throw new WarmpoolError('CONFIG_INVALID', `policy file ${file}: ${msg}`, { field: field ?? 'grpc.auth.policyFile' });
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    return fail(`not valid YAML${line === undefined ? '' : ` (line ${line})`}`);
  }
  if (!isObject(doc)) return fail('expected a mapping with a top-level "rules:" list');
  for (const k of Object.keys(doc)) if (k !== 'rules') fail(`unknown top-level key "${k}" (expected only "rules")`);
  const rules = doc['rules'];
  if (!Array.isArray(rules)) return fail('"rules" must be a list (an empty list denies everything)');
  return rules.map((raw, i) => compileRule(raw, i + 1, fail));
}

function compileRule(raw: unknown, index: number, fail: (msg: string) => never): Rule {
  const at = `rule ${index}`;
  if (!isObject(raw)) return fail(`${at} must be a mapping`);
  for (const k of Object.keys(raw)) {
    if (!RULE_KEYS.has(k)) fail(`${at}: unknown key "${k}" (expected ${[...RULE_KEYS].join(', ')})`);
  }
  const strings = (v: unknown, name: string, required = false): string[] | undefined => {
    if (v === undefined) return required ? fail(`${at}: "${name}" is required (use ["*"] for everyone)`) : undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) {
      return fail(`${at}: "${name}" must be a list of non-empty strings`);
    }
    return v as string[];
  };
  const regexes = (v: unknown, name: string, flags: string): RulePattern[] | undefined =>
    strings(v, name)?.map((source, j) => {
      try {
        return { source, re: compilePattern(source, { field: `${name}[${j}]`, kind: 'config', caseInsensitive: flags.includes('i') }) };
      } catch (err) {
        const why = err instanceof PatternError ? err.problem : (err as Error).message;
        return fail(`${at}: ${name}[${j}] '${source}' is not a valid regular expression (${why})`);
      }
    });
  const bool = (v: unknown, name: string): boolean | undefined => {
    if (v === undefined || typeof v === 'boolean') return v;
    return fail(`${at}: "${name}" must be true or false`);
  };
  const allowDeny = (v: unknown, name: string, flags: string): { allow: RulePattern[] | undefined; deny: RulePattern[] } => {
    if (v === undefined) return { allow: undefined, deny: [] };
    if (!isObject(v)) return fail(`${at}: "${name}" must be a mapping with "allow" and/or "deny" lists`);
    for (const k of Object.keys(v)) if (k !== 'allow' && k !== 'deny') fail(`${at}: unknown key "${name}.${k}"`);
    return { allow: regexes(v['allow'], `${name}.allow`, flags), deny: regexes(v['deny'], `${name}.deny`, flags) ?? [] };
  };

  const callers = strings(raw['callers'], 'callers', true)!.map(globToRegExp);
  const rpcList = strings(raw['rpcs'], 'rpcs');
  let rpcs: ReadonlySet<string> | 'all' = 'all';
  if (rpcList && !rpcList.includes('*')) {
    for (const r of rpcList) if (!KNOWN_RPCS.has(r)) fail(`${at}: unknown rpc "${r}" (known: ${[...KNOWN_RPCS].join(', ')}, or "*")`);
    rpcs = new Set(rpcList);
  }

  let deviceIds: RegExp[] | undefined;
  let deviceLabels: Record<string, string> | undefined;
  const devices = raw['devices'];
  if (devices !== undefined) {
    if (!isObject(devices)) return fail(`${at}: "devices" must be a mapping with "ids" and/or "labels"`);
    for (const k of Object.keys(devices)) if (k !== 'ids' && k !== 'labels') fail(`${at}: unknown key "devices.${k}"`);
    deviceIds = strings(devices['ids'], 'devices.ids')?.map(globToRegExp);
    const labels = devices['labels'];
    if (labels !== undefined) {
      if (!isObject(labels) || !Object.values(labels).every((x) => typeof x === 'string')) {
        return fail(`${at}: "devices.labels" must map label names to string values`);
      }
      deviceLabels = labels as Record<string, string>;
    }
    if (!deviceIds && !deviceLabels) return fail(`${at}: "devices" needs "ids" or "labels" (omit "devices" for all devices)`);
  }

  const presets = (strings(raw['presets'], 'presets') ?? []).map((name) => {
    const p = PRESETS.get(name);
    return p ?? fail(`${at}: unknown preset "${name}" (known: ${[...PRESETS.keys()].join(', ')})`);
  });

  const commands = allowDeny(raw['commands'], 'commands', 'i');
  const httpPaths = allowDeny(raw['httpPaths'], 'httpPaths', '');
  const methods = strings(raw['httpMethods'], 'httpMethods');

  return {
    index,
    callers,
    rpcs,
    deviceIds,
    deviceLabels,
    presets,
    commandAllow: commands.allow,
    commandDeny: commands.deny,
    configure: bool(raw['configure'], 'configure'),
    privileged: bool(raw['privileged'], 'privileged'),
    httpMethods: methods ? new Set(methods.map((m) => m.toUpperCase())) : undefined,
    httpPathAllow: httpPaths.allow,
    httpPathDeny: httpPaths.deny,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
