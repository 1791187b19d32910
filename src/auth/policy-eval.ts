/**
 * Evaluation of one compiled rule against a request: does it apply (callers, rpcs, devices),
 * and if so, what in the request it refuses (docs/security.md "Authorization policy").
 */
import { redactCommand as redactCommandText } from '../core/redact.js';
import type { Caller } from './caller.js';
import { isNormalPath } from './http-path.js';
import { raisesPrivilege } from './intent.js';
import { classifyFor, type CommandTarget } from './presets.js';
import type { AuthzRequest, Rule } from './policy-rules.js';

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
/** An unknown platform is checked both as a CLI and as a Unix shell. */
function raisesPrivilegeFor(target: CommandTarget, command: string): boolean {
  if (target.platform !== undefined) return raisesPrivilege(target.platform, command, target.mode);
  return raisesPrivilege('generic', command, 'shell') || raisesPrivilege('generic', command, 'exec');
}

export function ruleMatches(rule: Rule, caller: Caller, req: AuthzRequest): boolean {
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

export function ruleDenies(rule: Rule, req: AuthzRequest): { what: string; why: string } | undefined {
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
    // Where only reads are allowed, no interactive answer is: what a reply does depends on the
    // question, not on its text (an empty reply, Enter, confirms "Delete flash:x? [confirm]").
    if (quiet && (rule.configure === false || noConfigPreset)) {
      const source = rule.configure === false ? 'configure: false' : `preset ${noConfigPreset!.name}`;
      return { what, why: `denied by ${by} (${source}: interactive answers are refused where only reads are allowed)` };
    }
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
