/**
 * The policy file's language: the request and decision shapes, and the compilation of a file's
 * rules (checked once at load; an invalid one is CONFIG_INVALID naming file and rule).
 * Evaluation is in policy-eval.ts; the Policy and its reloading store in policy.ts.
 */
import { parse as parseYaml } from 'yaml';
import { compilePattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import { PRESETS, type Preset } from './presets.js';

/** Every RPC name a rule may list (plus "*"). Add new RPCs here. */
export const KNOWN_RPCS: ReadonlySet<string> = new Set([
  'Run', 'RunStream', 'RunMany', 'Http', 'Netconf',
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

export interface RulePattern {
  source: string;
  /** RE2 (core/pattern.ts): caller commands and paths are matched in linear time, whatever the operator wrote. */
  re: Pattern;
}

export interface Rule {
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


export function compileRules(text: string, file: string): Rule[] {
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
