/**
 * Building blocks for the platform catalogue: compiled built-in patterns and the shapes most
 * CLIs share. Every pattern is RE2 (src/core/pattern.ts): no lookaround, no backreferences;
 * it is compiled at module load, so a mistake fails every test at once.
 *
 * This module imports only types from ../profiles.ts: profiles.ts imports the catalogue, and
 * a value import back would read its constants before they exist.
 */
import { compilePattern, type Pattern } from '../../core/pattern.js';
import type { Profile } from '../profiles.js';

/** A built-in pattern; `mustContain` is a literal every match contains (a cheap pre-check). */
export function pat(source: string, what: string, opts: { ci?: boolean; must?: string } = {}): Pattern {
  return compilePattern(source, {
    field: `built-in ${what} pattern`,
    kind: 'config',
    caseInsensitive: opts.ci === true,
    ...(opts.must !== undefined ? { mustContain: opts.must } : {}),
  });
}

/** Error-line patterns from [source, literal] pairs, in priority order. */
export function errors(pairs: ReadonlyArray<readonly [string, string]>, ci = false): Pattern[] {
  return pairs.map(([src, must]) => pat(src, 'error', ci ? { ci } : { must }));
}

/** "Password:" as enable asks for it (IOS, ASA, Dell, FastIron, ProCurve); some say "Enable password:". */
export const PASSWORD_PROMPT = pat('^\\s*(?:enable )?password:\\s*$', 'password prompt', { ci: true });
export const HASH_END = pat('#\\s*$', 'privileged prompt');

/**
 * Pager prompts seen across the catalogue. The cleaner removes a pager prompt left in a line only
 * when the line contains "ore" (session/cleaner.ts stripPager); pagers without it (ProCurve's
 * "-- MORE --", MikroTik's "-- [Q quit|D dump|down]") are erased by the device itself, which
 * the cleaner's terminal rendering handles.
 */
export const PAGERS = {
  /** IOS, ASA, EOS, Dell, FastIron, EXOS, FortiOS, AOS-CX: " --More-- " (and "-- More --"). */
  more: pat('\\s*-{2,} ?\\(?more(?: \\d+%)?\\)? ?-{2,}\\s*', 'pager', { ci: true }),
  /** Huawei VRP and Comware: "  ---- More ----". */
  vrp: pat('\\s*-{2,} More -{2,}\\s*', 'pager', { must: 'More' }),
  /** ProCurve / ArubaOS-Switch: "-- MORE --, next page: Space, next line: Enter, quit: Control-C". */
  procurve: pat('-- MORE --, next page', 'pager', { must: 'MORE' }),
  /** Nokia SR OS classic: "Press any key to continue (Q to quit)". */
  sros: pat('Press any key to continue \\(Q to quit\\)', 'pager', { must: 'Press any key' }),
  /** MikroTik RouterOS outside dumb mode. */
  routeros: pat('-- \\[Q quit\\|D dump\\|down\\]', 'pager', { must: '[Q quit' }),
} as const;

export interface CiscoStyle {
  platform: Profile['platform'];
  /** Prompt (any level); a named group `base` holds the host-name part. */
  prompt: Pattern;
  config: Pattern;
  paging: string[];
  pagers: Pattern[];
  errors: Pattern[];
  /** Undefined: the login lands at the privileged level and there is no enable (NX-OS, XR, OS10, AOS-CX). */
  enable?: Profile['enable'];
  configEnter?: string[];
  configExit?: string[];
  configAbort?: string[];
  /** First words of commands that never ask a question (see Profile.endMarker). */
  endMarker?: string[];
}

/** The IOS shape: `>` user, `#` privileged, `(config...)#` configuration. */
export function ciscoStyle(c: CiscoStyle): Profile {
  return {
    platform: c.platform,
    promptPattern: c.prompt,
    ...(c.enable ? { privilegedPattern: HASH_END } : {}),
    configPattern: c.config,
    pagingCommands: c.paging,
    pagerPatterns: c.pagers,
    ...(c.enable ? { enable: c.enable } : {}),
    config: { enter: c.configEnter ?? ['configure terminal'], exit: c.configExit ?? ['end'], abort: c.configAbort ?? ['end'] },
    errorPatterns: c.errors,
    defaultMode: 'shell',
    ...(c.endMarker ? { endMarker: { commands: c.endMarker } } : {}),
  };
}

export const ENABLE: NonNullable<Profile['enable']> = { command: 'enable', passwordPrompt: PASSWORD_PROMPT, disableCommand: 'disable' };

/** IOS-like prompt: host, optional "(mode)", then > or #. `extra` widens the host-name characters. */
export function iosPrompt(extra = ''): Pattern {
  return pat(`^(?<base>[\\w.\\-@/:${extra}]{1,63})(?:\\([\\w.\\-@/:+]{0,40}\\))?[>#]\\s*$`, 'prompt');
}
