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
import { WarmpoolError } from '../core/errors.js';
import type { Caller } from './caller.js';
import { ruleDenies, ruleMatches } from './policy-eval.js';
import { compileRules, type AuthzRequest, type Decision, type Rule } from './policy-rules.js';
import { ReloadingFile, type ReloadingFileOptions } from './reloading-file.js';

export { KNOWN_RPCS, globToRegExp, type AuthzRequest, type Decision, type PolicyDevice } from './policy-rules.js';
export { normalizeCommand, redactCommand } from './policy-eval.js';

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
    return new Policy(compileRules(text, file));
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
