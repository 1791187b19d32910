/**
 * Simulated Nokia SR OS MD-CLI (facts as in src/platforms/catalog/nokia.ts NOKIA_SROS_MDCLI): the
 * two-line prompt ("[/]" over "A:admin@pe1#", after an empty line), `edit-config` modes shown on
 * the context line ("(pr)[/]", "*(pr)[/configure port 1/1/1]"), a transactional candidate
 * (`commit`, `discard`, `quit-config`), navigation by containers (`configure port 1/1/1`, `exit`,
 * `exit all`, or a whole path ending in a leaf, which leaves the context as it was), errors as
 * "^^" under the word and a "MINOR: ..." line, the "Press any key to continue (Q to quit)" pager,
 * and `admin reboot` asking "Are you sure you want to reboot (y/n)?".
 *
 * Simulator hooks, as "commit-error" on the other simulators: a leaf value naming "commit-error"
 * fails the commit, "quit-refused" makes `quit-config` refuse while changes are uncommitted,
 * "commit-hang" makes `commit` never answer.
 *
 * Simplifications: one exclusive lock per simulated device, released by `quit-config` or
 * `logout` (a connection dropped while holding it keeps it, unlike the real router); the global
 * candidate is per session; `quit-config` discards uncommitted changes in every mode; the
 * implicit workflow (`configure` entering a mode by itself) is not played.
 */
import type { Reply, SimContext } from '../platforms.js';
import { configText, linesCommand, out, type VendorSpec } from './kit.js';

type EditMode = 'ex' | 'pr' | 'gl' | 'ro';

interface MdState {
  /** The configuration mode while ctx.mode is 'config'. */
  edit: EditMode;
  /** Present working context below the root: ["configure", "port 1/1/1"]. */
  path: string[];
  /** Simulator hook: `quit-config` refuses while the candidate has changes (a leaf value naming "quit-refused"). */
  quitRefused: boolean;
  /** Simulator hook: `commit` never answers (a leaf value naming "commit-hang"). */
  commitHangs: boolean;
}

const states = new WeakMap<SimContext, MdState>();
/** The session holding the exclusive lock, per simulated device. */
const exclusive = new WeakMap<object, SimContext>();

function md(ctx: SimContext): MdState {
  let s = states.get(ctx);
  if (!s) {
    s = { edit: 'pr', path: [], quitRefused: false, commitHangs: false };
    states.set(ctx, s);
  }
  return s;
}

/** The first prompt line: "[/]" in operational mode, "*(pr)[/configure port 1/1/1]" in configuration mode. */
export function mdContextLine(ctx: SimContext): string {
  const s = md(ctx);
  const where = `[/${s.path.join(' ')}]`;
  if (ctx.mode !== 'config') return where;
  return `${ctx.uncommitted ? '*' : ''}(${s.edit})${where}`;
}

const promptLine = (ctx: SimContext): string => `A:${ctx.username}@${ctx.device.hostname}# `;

/** Carets under word `idx` of the typed line (as long as the word), counted from the prompt line. */
function carets(ctx: SimContext, line: string, idx: number): string {
  const words = [...line.matchAll(/\S+/g)];
  const w = words[Math.min(idx, words.length - 1)];
  const col = promptLine(ctx).length + (w?.index ?? 0);
  return ' '.repeat(col) + '^'.repeat(Math.max(1, w?.[0].length ?? 1));
}

const wordAt = (line: string, idx: number): string => [...line.matchAll(/\S+/g)][idx]?.[0] ?? '';

function unknownText(ctx: SimContext, line: string, idx: number, source = 'CLI #2001'): string {
  return `${carets(ctx, line, idx)}\nMINOR: ${source}: Unknown element - '${wordAt(line, idx).replace(/"/g, '')}'\n`;
}

const unknown = (ctx: SimContext, line: string, idx: number, source?: string): Reply => out(unknownText(ctx, line, idx, source), false);

const notInOperational = (): Reply => out('MINOR: CLI #2069: Operation not allowed - currently in operational mode\n', false);

export function mdcliConfig(h: string, lines: number): string {
  return configText(
    'mdcli',
    ['# TiMOS-B-23.10.R1 both/x86_64 Nokia 7750 SR Copyright (c) 2000-2023 Nokia.', '', 'configure {', '    system {', `        name "${h}"`, '    }'],
    (i) => [`    port 1/1/${i + 1} {`, '        admin-state enable', `        description "uplink ${i} to rack-${i % 97}"`, '    }'],
    ['}'],
    lines,
  );
}

/** Containers that take a key ("port 1/1/1", "router \"Base\"") and those that do not. */
const KEYED = new Set(['router', 'port', 'interface', 'vpls', 'vprn', 'card', 'group', 'neighbor', 'lag']);
const PLAIN = new Set(['system', 'service', 'bgp', 'isis', 'ospf', 'log', 'ethernet', 'security', 'management-interface', 'time', 'ntp', 'snmp']);
/** Leaves that take a value. */
const LEAVES = new Set(['description', 'admin-state', 'location', 'contact', 'name', 'mtu', 'address', 'mode', 'encap-type', 'autonomous-system', 'router-id', 'server', 'prefer']);

/** Words of a line, a quoted string ("Base", "uplink to core") being one word. */
function tokens(line: string): string[] {
  return [...line.trim().matchAll(/"[^"]*"|\S+/g)].map((m) => m[0]);
}

function applyCandidate(ctx: SimContext): void {
  ctx.uncommitted = false;
  if (ctx.pendingHostname) ctx.device.hostname = ctx.pendingHostname;
  ctx.pendingHostname = '';
}

function discardCandidate(ctx: SimContext): void {
  ctx.uncommitted = false;
  ctx.commitFails = false;
  ctx.pendingHostname = '';
}

function quitConfig(ctx: SimContext, s: MdState): void {
  discardCandidate(ctx);
  s.quitRefused = false;
  if (exclusive.get(ctx.device) === ctx) exclusive.delete(ctx.device);
  ctx.mode = 'priv';
  s.path = [];
}

const EDIT_MODES: Record<string, EditMode> = { exclusive: 'ex', private: 'pr', global: 'gl', 'read-only': 'ro' };
const ENTERED: Record<EditMode, string> = { ex: 'exclusive', pr: 'private', gl: 'global', ro: 'read-only' };

/** Operational-mode lines the table in kit.ts does not know. */
function operational(ctx: SimContext, line: string, words: string[], s: MdState): Reply | undefined {
  const norm = words.join(' ');
  if (words[0] === 'edit-config') {
    const mode = EDIT_MODES[words[1] ?? ''];
    if (!mode || words.length > 2) return unknown(ctx, line, Math.min(1, words.length - 1));
    if (mode === 'ex') {
      const holder = exclusive.get(ctx.device);
      if (holder && holder !== ctx) return out('MINOR: MGMT_CORE #2052: Exclusive datastore access unavailable - another session holds the exclusive lock\n', false);
      exclusive.set(ctx.device, ctx);
    }
    ctx.mode = 'config';
    s.edit = mode;
    s.path = [];
    const code = { ex: 2060, pr: 2070, gl: 2054, ro: 2066 }[mode];
    const note = mode === 'pr' || mode === 'ex' ? 'INFO: CLI #2061: Uncommitted changes are discarded on configuration mode exit\n' : '';
    return out(`INFO: CLI #${code}: Entering ${ENTERED[mode]} configuration mode\n${note}`, false);
  }
  if (/^(?:commit|discard|quit-config|configure(?: .*)?|\/configure(?: .*)?)$/.test(norm)) return notInOperational();
  if (/^(?:exit(?: all)?|back|top)$/.test(norm)) return out('', false);
  if (/^admin reboot(?: now)?$/.test(norm)) {
    return {
      kind: 'question',
      text: 'WARNING: Configuration and/or Boot options may have changed since the last save.\n',
      question: {
        ask: 'Are you sure you want to reboot (y/n)? ',
        answer: (a) => (/^y(?:es)?$/i.test(a.trim()) ? { kind: 'logout' } : out('', false)),
      },
    };
  }
  return undefined;
}

/** Configuration-mode lines: the candidate, navigation and leaves; undefined for operational commands. */
function configuration(ctx: SimContext, line: string, words: string[], s: MdState): Reply | undefined {
  const norm = words.join(' ');
  switch (norm) {
    case 'commit':
      if (s.edit === 'ro') return out('MINOR: MGMT_CORE #2301: Commit not allowed - read-only configuration mode\n', false);
      if (s.commitHangs) return { kind: 'hang' };
      if (ctx.commitFails) return out('MINOR: MGMT_CORE #4001: configure system location - Commit failed - candidate validation failed ("commit-error")\n', false);
      applyCandidate(ctx);
      return out('', false);
    case 'discard':
      discardCandidate(ctx);
      s.quitRefused = false;
      return out('', false);
    case 'quit-config':
      if (s.quitRefused && ctx.uncommitted) return out("MINOR: CLI #2069: Operation not allowed - uncommitted changes present, use 'commit' or 'discard'\n", false);
      quitConfig(ctx, s);
      return out('', false);
    case 'exit all':
      s.path = [];
      return out('', false);
    case 'exit':
    case 'back':
      s.path.pop();
      return out('', false);
  }
  if (/^edit-config(?: .*)?$/.test(norm)) return out('MINOR: CLI #2069: Operation not allowed - already in a configuration mode\n', false);
  const t = tokens(line);
  const first = t[0] ?? '';
  if (!['configure', '/configure'].includes(first) && s.path.length === 0) return undefined; // operational command
  const path = first.startsWith('/') ? [] : [...s.path];
  if (first.startsWith('/')) t[0] = first.slice(1);
  for (let i = 0; i < t.length; i++) {
    const w = t[i] as string;
    if (path.length === 0) {
      if (w !== 'configure') return unknown(ctx, line, i, 'MGMT_CORE #2201');
      path.push(w);
    } else if (KEYED.has(w)) {
      const key = t[i + 1];
      if (key === undefined) return out(`${carets(ctx, line, i)}\nMINOR: CLI #2001: Missing element key - '${w}'\n`, false);
      path.push(`${w} ${key}`);
      i++;
    } else if (PLAIN.has(w)) {
      path.push(w);
    } else if (LEAVES.has(w)) {
      const value = t[i + 1];
      if (value === undefined || i + 2 !== t.length) return out(`${carets(ctx, line, i)}\nMINOR: CLI #2001: Missing element value - '${w}'\n`, false);
      if (path.length < 2) return unknown(ctx, line, i, 'MGMT_CORE #2201');
      if (w === 'name' && path.at(-1) === 'system') ctx.pendingHostname = value.replace(/"/g, '');
      // Simulator hook, as on the other simulators: a candidate naming "commit-error" fails its commit.
      if (value.includes('commit-error')) ctx.commitFails = true;
      if (value.includes('quit-refused')) s.quitRefused = true;
      if (value.includes('commit-hang')) s.commitHangs = true;
      if (s.edit === 'ro') return out('MINOR: MGMT_CORE #2052: Configuration change not allowed - read-only configuration mode\n', false);
      ctx.uncommitted = true;
      return out('', false); // a line ending in a leaf leaves the context where it was
    } else {
      return unknown(ctx, line, i, 'MGMT_CORE #2201');
    }
  }
  s.path = path;
  return out('', false);
}

export const NOKIA_SROS_MDCLI_SIM: VendorSpec = {
  hostname: 'pe1',
  start: 'priv',
  prompt: (ctx) => `\r\n${mdContextLine(ctx)}\r\n${promptLine(ctx)}`,
  pager: { prompt: 'Press any key to continue (Q to quit)', erase: '\r                                     \r' },
  paging: { off: /^environment more false$/, on: /^environment more true$/ },
  setup: [/^environment command-completion space (?:true|false)$/, /^environment console width \d+$/],
  commands: [
    { re: /^show version$/, run: () => 'TiMOS-B-23.10.R1 both/x86_64 Nokia 7750 SR Copyright (c) 2000-2023 Nokia.\nAll rights reserved. All use subject to applicable license agreements.\nBuilt on Thu Oct 26 20:12:11 PDT 2023 by builder in /builds/c/2310B/R1/panos/main/sros\n' },
    { re: /^admin show configuration$/, run: (ctx) => mdcliConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
    { re: /^admin save$/, run: () => out('Writing configuration to cf3:/config.cfg\nSaving configuration ... OK\nCompleted.\n', false) },
  ],
  invalid: (ctx, line, idx) => unknownText(ctx, line, idx),
  logout: /^logout$/,
  custom: (ctx, line, words) => {
    const s = md(ctx);
    if (words[0] === 'logout' && exclusive.get(ctx.device) === ctx) exclusive.delete(ctx.device);
    return ctx.mode === 'config' ? configuration(ctx, line, words, s) : operational(ctx, line, words, s);
  },
};
