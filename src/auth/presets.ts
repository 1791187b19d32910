/**
 * Built-in policy presets. A preset narrows a rule; it never widens it: a request must satisfy
 * the preset AND the rule's own fields.
 *
 * `read-only`: commands without side effects on the device or on the pooled session, decided by
 * an ALLOW-LIST chosen by the device's platform and mode (intent.ts grammarFor):
 *   - linux, and generic/unknown platforms in exec mode: the command is split into argv without a
 *     shell grammar (argv.ts: plain words only, no metacharacters at all) and the program, each
 *     option and each operand must be allowed (exec-allowlist.ts);
 *   - IOS, NX-OS, EOS, Junos, and generic in shell mode: a read keyword (show, ping, ...) and
 *     only known read-only output filters after `|` (cli-readonly.ts);
 *   - a device of unknown platform and mode: both must accept the command;
 *   - and the command's intent (intent.ts) must be 'read', whatever the request flags say.
 *   No configure mode, HTTP only GET/HEAD, no PutDevice/DeleteDevice/DrainDevice.
 * docs/security.md "Read-only preset" lists exactly what is allowed.
 */
import { splitPlainArgv } from './argv.js';
import { cliReadOnlyProblem } from './cli-readonly.js';
import { execArgvProblem } from './exec-allowlist.js';
import { classifyCommand, grammarFor, type Classification } from './intent.js';

/** What the policy knows about the device a command is for. */
export interface CommandTarget {
  platform?: string | undefined;
  mode?: string | undefined;
}

export interface Preset {
  name: string;
  /** Short description used in PERMISSION_DENIED messages for RPCs and HTTP. */
  why: string;
  configure: boolean;
  httpMethods: ReadonlySet<string>;
  deniedRpcs: ReadonlySet<string>;
  /** Why the (raw, un-normalised) command is refused on this device, or undefined when allowed. */
  commandProblem(command: string, target: CommandTarget): string | undefined;
}

/** The intent of a command on a device; an unknown platform is judged as both a shell and a CLI (the worse wins). */
export function classifyFor(target: CommandTarget, command: string): Classification {
  if (target.platform !== undefined) return classifyCommand(target.platform, command, target.mode);
  const asShell = classifyCommand('generic', command, 'exec');
  return asShell.intent !== 'read' ? asShell : classifyCommand('generic', command, 'shell');
}

function argvProblem(command: string): string | undefined {
  const split = splitPlainArgv(command);
  return split.ok ? execArgvProblem(split.argv) : split.reason;
}

export function readOnlyCommandProblem(command: string, target: CommandTarget): string | undefined {
  if (target.platform === undefined) {
    return argvProblem(command) ?? cliReadOnlyProblem('generic', command) ?? undefined;
  }
  const g = grammarFor(target.platform, target.mode);
  const problem = g.kind === 'argv' ? argvProblem(command) : cliReadOnlyProblem(g.platform, command);
  if (problem !== undefined) return problem;
  const c = classifyFor(target, command);
  return c.intent === 'read' ? undefined : c.reason;
}

export const READ_ONLY: Preset = Object.freeze({
  name: 'read-only',
  why: 'only commands without side effects',
  configure: false,
  httpMethods: new Set(['GET', 'HEAD']),
  deniedRpcs: new Set(['PutDevice', 'DeleteDevice', 'DrainDevice']),
  commandProblem: readOnlyCommandProblem,
});

export const PRESETS: ReadonlyMap<string, Preset> = new Map([[READ_ONLY.name, READ_ONLY]]);
