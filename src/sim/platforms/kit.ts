/**
 * A table-driven CLI for the simulated platforms of the catalogue (src/platforms/catalog).
 * Each vendor file describes its CLI as data (prompts per mode, paging command and pager,
 * enable, config enter / sub-modes / exit / commit, error texts, command outputs) and this
 * interpreter plays it, in the style of ../platforms.ts: `interpret(ctx, line) -> Reply`.
 *
 * Modes use SimContext's names so the SSH plumbing (ssh-device.ts) works unchanged: 'user',
 * 'priv' (also where platforms without levels live), 'config', 'config-sub' (ctx.sub names it).
 * What SimContext has no field for (a "Press any key" gate, EXOS's command counter, unsaved
 * changes, a MikroTik menu path) is kept per shell in a WeakMap.
 */
import type { PagerStyle, Reply, SimContext } from '../platforms.js';

export interface VendorState {
  /** Still showing a login gate ("Press any key to continue"): the next line only dismisses it. */
  gate: boolean;
  /** Commands typed so far (EXOS shows it in the prompt). */
  counter: number;
  /** The running configuration has unsaved changes (SR OS "*A:", EXOS "* "). */
  unsaved: boolean;
  /** MikroTik menu path ("/ip address"), FortiOS config block path ("system global"). */
  path: string;
}

const states = new WeakMap<SimContext, VendorState>();

export function stateOf(ctx: SimContext, spec?: VendorSpec): VendorState {
  let st = states.get(ctx);
  if (!st) {
    st = { gate: spec?.gate !== undefined, counter: 1, unsaved: false, path: '' };
    states.set(ctx, st);
  }
  return st;
}

/** The prompt (or the login gate while it stands) for a catalogue platform. */
export function renderVendorPrompt(spec: VendorSpec, ctx: SimContext): string {
  const st = stateOf(ctx, spec);
  return st.gate && spec.gate !== undefined ? spec.gate : spec.prompt(ctx, st);
}

export const out = (text: string, pageable = true): Reply => ({ kind: 'output', text, pageable });

/** A caret under word `wordIdx` of `line`, counted from the start of the prompt line. */
export function caret(line: string, wordIdx: number, promptLen: number): string {
  let col = promptLen;
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  let idx = 0;
  while ((m = re.exec(line)) !== null) {
    if (idx === wordIdx) {
      col += m.index;
      break;
    }
    idx++;
  }
  return ' '.repeat(col) + '^';
}

export interface CommandDef {
  /** Tested against the typed line with blanks collapsed. */
  re: RegExp;
  /** Only at privileged level (or in config via "do"). */
  priv?: boolean;
  run: (ctx: SimContext, m: RegExpExecArray, st: VendorState) => Reply | string;
}

export interface CommitModel {
  commit: RegExp;
  ok: (ctx: SimContext) => string;
  fail: string;
  /** Discard the candidate and leave configuration mode (XR `abort`, VyOS `exit discard`). */
  abortAndLeave?: RegExp;
  /** Discard the candidate and stay (PAN-OS `revert config`). */
  revert?: { re: RegExp; text: string };
  /** Text when leaving with uncommitted changes is refused (VyOS); undefined: leaving keeps them. */
  exitBlocked?: string;
}

export interface ConfigModel {
  enter: RegExp;
  enterText?: string;
  /** Leaves configuration mode from any depth (IOS `end`, VRP `return`, SR OS `exit all`). */
  end: RegExp;
  /** One level up; from the top of configuration mode back to privileged level. */
  up: RegExp;
  /** Sub-modes: pattern → name shown in the prompt. */
  sub: Array<[RegExp, (m: RegExpExecArray) => string]>;
  accept: RegExp;
  /** Group 1: a new host name. */
  hostname?: RegExp;
  commit?: CommitModel;
  /** Printed after every configuration command (Junos-style "[edit]" context lines). */
  after?: string;
  invalid?: (ctx: SimContext, line: string, wordIdx: number, promptLen: number) => string;
  /** Runs operational commands from configuration mode ("do show ...", "run show ..."). */
  escape?: RegExp;
}

export interface VendorSpec {
  hostname: string;
  start: 'user' | 'priv';
  /** Shown instead of the first prompt until a line is typed (ProCurve "Press any key to continue"). */
  gate?: string;
  prompt: (ctx: SimContext, st: VendorState) => string;
  pager: PagerStyle;
  paging: {
    off: RegExp;
    reply?: string;
    /** Refused at user level with `invalid` (FastIron's skip-page-display). */
    needsPriv?: boolean;
    on?: RegExp;
  };
  /** Session set-up commands accepted silently ("terminal width 511"). */
  setup?: RegExp[];
  enable?: { re: RegExp; disable: RegExp };
  config?: ConfigModel;
  commands: CommandDef[];
  invalid: (ctx: SimContext, line: string, wordIdx: number, promptLen: number) => string;
  logout?: RegExp;
  /** Vendor-specific handling tried before the table (FortiOS config blocks, MikroTik menus). */
  custom?: (ctx: SimContext, line: string, words: string[], promptLen: number, st: VendorState) => Reply | undefined;
  /** The command counter moves with every non-empty line (EXOS). */
  counts?: boolean;
}

/** "sleep N" (seconds, fractions allowed) and "hang": the simulator's tools for timeout tests. */
function special(words: string[]): Reply | undefined {
  if (words[0] === 'hang' && words.length === 1) return { kind: 'hang' };
  if (words[0] === 'sleep' && words.length === 2) {
    const s = Number(words[1]);
    if (Number.isFinite(s) && s >= 0) return { kind: 'sleep', ms: Math.min(s, 3600) * 1000, text: '' };
  }
  return undefined;
}

export function interpretVendor(spec: VendorSpec, ctx: SimContext, line: string, promptLen: number): Reply {
  const st = stateOf(ctx, spec);
  const trimmed = line.trim();
  if (st.gate) {
    // Any key dismisses the gate and the prompt follows. A whole command (an exec channel, or
    // a client that types without waiting) is run rather than eaten: the simulator is line-based.
    st.gate = false;
    if (trimmed === '') return out('', false);
  }
  if (trimmed === '') return out('', false);
  const words = trimmed.split(/\s+/);
  const norm = words.join(' ');
  if (spec.counts) st.counter++;
  const sp = special(words);
  if (sp) return sp;
  const custom = spec.custom?.(ctx, line, words, promptLen, st);
  if (custom) return custom;
  const cfg = spec.config;
  if (cfg && (ctx.mode === 'config' || ctx.mode === 'config-sub')) return configLine(spec, cfg, ctx, line, norm, words, promptLen, st);

  // Operational levels.
  if (spec.paging.off.test(norm)) {
    if (spec.paging.needsPriv && ctx.mode === 'user') return out(spec.invalid(ctx, line, 0, promptLen), false);
    ctx.paging = false;
    return out(spec.paging.reply ?? '', false);
  }
  if (spec.paging.on?.test(norm)) {
    ctx.paging = true;
    return out('', false);
  }
  if (spec.setup?.some((re) => re.test(norm))) return out('', false);
  if (spec.enable) {
    if (spec.enable.re.test(norm)) return ctx.mode === 'priv' ? out('', false) : { kind: 'password' };
    if (spec.enable.disable.test(norm) && ctx.mode === 'priv') {
      ctx.mode = 'user';
      return out('', false);
    }
  }
  if ((spec.logout ?? /^(?:exit|logout|quit)$/).test(norm)) return { kind: 'logout' };
  if (cfg && cfg.enter.test(norm)) {
    if (spec.enable && ctx.mode === 'user') return out(spec.invalid(ctx, line, 0, promptLen), false);
    ctx.mode = 'config';
    ctx.sub = '';
    return out(cfg.enterText ?? '', false);
  }
  // "show foo": the verb is known, the error points at the word after it (as the real CLIs do).
  return runCommand(spec, ctx, line, norm, promptLen, st, words.length > 1 && SHOW_VERBS.test(words[0] as string) ? 1 : 0);
}

const SHOW_VERBS = /^(?:sh|sho|show|dis|disp|display|get)$/;

function runCommand(spec: VendorSpec, ctx: SimContext, line: string, norm: string, promptLen: number, st: VendorState, wordOffset: number): Reply {
  for (const c of spec.commands) {
    const m = c.re.exec(norm);
    if (!m) continue;
    if (c.priv && ctx.mode === 'user') return out(spec.invalid(ctx, line, wordOffset, promptLen), false);
    const r = c.run(ctx, m, st);
    return typeof r === 'string' ? out(r) : r;
  }
  return out(spec.invalid(ctx, line, wordOffset, promptLen), false);
}

function configLine(spec: VendorSpec, cfg: ConfigModel, ctx: SimContext, line: string, norm: string, words: string[], promptLen: number, st: VendorState): Reply {
  const after = cfg.after ?? '';
  const ok = (text = ''): Reply => out(text + after, false);
  const leave = (): void => {
    ctx.mode = 'priv';
    ctx.sub = '';
  };
  const commit = cfg.commit;
  if (commit) {
    if (commit.commit.test(norm)) {
      if (ctx.commitFails) return ok(commit.fail);
      const text = commit.ok(ctx);
      applyCandidate(ctx);
      return ok(text);
    }
    if (commit.abortAndLeave?.test(norm)) {
      discardCandidate(ctx);
      leave();
      return out('', false);
    }
    if (commit.revert?.re.test(norm)) {
      discardCandidate(ctx);
      return ok(commit.revert.text);
    }
  }
  if (cfg.escape) {
    const m = cfg.escape.exec(line);
    if (m) {
      const inner = line.slice(m[0].length);
      const saved = ctx.mode;
      ctx.mode = 'priv';
      const r = runCommand(spec, ctx, inner, inner.trim().split(/\s+/).join(' '), promptLen + m[0].length, st, 0);
      ctx.mode = saved;
      return r.kind === 'output' ? { ...r, text: r.text + after } : r;
    }
  }
  const isEnd = cfg.end.test(norm);
  const isUp = !isEnd && cfg.up.test(norm);
  if (isEnd || (isUp && ctx.mode === 'config')) {
    if (commit && ctx.uncommitted && commit.exitBlocked !== undefined) return ok(commit.exitBlocked);
    leave();
    return out('', false);
  }
  if (isUp) {
    ctx.mode = 'config';
    ctx.sub = '';
    return ok();
  }
  for (const [re, name] of cfg.sub) {
    const m = re.exec(norm);
    if (m) {
      ctx.mode = 'config-sub';
      ctx.sub = name(m);
      return ok();
    }
  }
  const h = cfg.hostname?.exec(norm);
  if (h) {
    if (commit) ctx.pendingHostname = h[1] as string;
    else ctx.device.hostname = h[1] as string;
    ctx.uncommitted = true;
    st.unsaved = true;
    return ok();
  }
  if (cfg.accept.test(norm)) {
    // Simulator hook, as on the Junos simulator: a candidate naming "commit-error" fails its commit.
    if (words.includes('commit-error')) ctx.commitFails = true;
    ctx.uncommitted = true;
    st.unsaved = true;
    return ok();
  }
  return out((cfg.invalid ?? spec.invalid)(ctx, line, 0, promptLen) + after, false);
}

function applyCandidate(ctx: SimContext): void {
  ctx.uncommitted = false;
  if (ctx.pendingHostname) {
    ctx.device.hostname = ctx.pendingHostname;
    ctx.pendingHostname = '';
  }
}

function discardCandidate(ctx: SimContext): void {
  ctx.uncommitted = false;
  ctx.commitFails = false;
  ctx.pendingHostname = '';
}

// ---------------------------------------------------------------------------
// Outputs shared by the vendor files

const configCache = new Map<string, string>();

/**
 * A deterministic configuration of exactly `lines` lines (each ending in "\n") in a vendor's
 * style: `head` lines first, then interface stanzas. Exported through simRunningConfig so
 * tests compare what they received byte for byte.
 */
export function configText(key: string, head: string[], stanza: (i: number) => string[], tail: string[], lines: number): string {
  const k = `${key}|${head.join('|')}|${lines}`;
  const hit = configCache.get(k);
  if (hit !== undefined) return hit;
  const outLines = [...head];
  let i = 0;
  while (outLines.length < lines - tail.length) {
    for (const l of stanza(i)) outLines.push(l);
    i++;
  }
  const text = [...outLines.slice(0, Math.max(0, lines - tail.length)), ...tail].slice(0, lines).join('\n') + '\n';
  if (configCache.size > 32) configCache.clear();
  configCache.set(k, text);
  return text;
}

/** `<show> lines N` (a simulator extension on every platform): N numbered lines for size and paging tests. */
export function numberedLines(n: number): string {
  const o: string[] = [];
  for (let i = 0; i < n; i++) o.push(`line ${String(i + 1).padStart(6, '0')} the quick brown fox jumps over the lazy dog`);
  return n === 0 ? '' : o.join('\n') + '\n';
}

export const linesCommand = (show: string): CommandDef => ({
  re: new RegExp(`^${show} lines (\\d+)$`),
  run: (_ctx, m) => out(numberedLines(Math.min(Number(m[1]), 5_000_000))),
});
