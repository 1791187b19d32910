/**
 * Platform profiles AS DATA: everything the shell driver needs to know about a CLI
 * (prompts, paging, enable, config mode, error lines). The driver has no per-platform
 * branches; a new platform is a new entry here. Its privilege and configuration levels
 * (privilegedPattern, configPattern, enable, config) become a mode graph the driver walks
 * (session/mode-graph.ts, derived once per profile object).
 *
 * Facts follow Scrapli's and Netmiko's platform definitions (prompt patterns of
 * scrapli `cisco_iosxe`, `cisco_nxos`, `arista_eos`, `juniper_junos`; Netmiko's
 * `disable_paging` commands and failure strings).
 */
import type { DeviceSpec, Platform, SessionMode } from '../config/types.js';
import { compilePattern, compilePromptPattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import { CATALOG_PROFILES } from './catalog/index.js';

export interface Profile {
  platform: Platform;
  /**
   * Any prompt of the platform, tested against the last (unterminated) line with ANSI,
   * `\r` and backspace artefacts already rendered away. A named group `base` (the
   * host-name part) lets the driver tell "same device, other mode" from "output that
   * happens to look like a prompt".
   */
  promptPattern: Pattern;
  /** The prompt is at privileged level (IOS `#`); undefined: the platform has no separate level. */
  privilegedPattern?: Pattern;
  /** The prompt is in configuration mode; undefined: no configuration mode. */
  configPattern?: Pattern;
  /** Sent once after login, in order; each must end at a prompt. */
  pagingCommands: string[];
  /** Pager prompts: answered with a space if paging could not be disabled; also removed from output. */
  pagerPatterns: Pattern[];
  enable?: {
    command: string;
    passwordPrompt: Pattern;
    /** Leaves privileged level again (restoring the session's normal state). */
    disableCommand: string;
  };
  config?: {
    enter: string[];
    /** Leaves configuration mode, committing where the platform needs it. */
    exit: string[];
    /** Used when `exit` left the session in config mode (failed commit): discard and leave. */
    abort: string[];
  };
  /** Lines that mean the command failed; earlier patterns win when several lines match. */
  errorPatterns: Pattern[];
  defaultMode: SessionMode;
  /**
   * End-of-output marker (checked per session at login): an empty line is typed ahead after
   * commands whose first word abbreviates one of `commands` (they never ask a question that
   * the line could answer), so their output ends with "prompt, empty line, prompt" and a line
   * of output that looks like the prompt cannot end it. Absent: prompt only (Linux shells echo
   * typed-ahead input at once, so the marker would land inside the output).
   */
  endMarker?: { commands: string[] };
  /**
   * Typed at login when the learned prompt matches `prompt`, before paging is turned off; the
   * prompt is then learned again and must no longer match (Junos: a root login lands in the
   * FreeBSD shell, "root@r1:RE:0%", and `cli` starts the CLI, as Netmiko does).
   */
  loginSteps?: Array<{ prompt: Pattern; command: string; what: string }>;
  /**
   * The prompt is two lines (SR OS MD-CLI): a context line matching this pattern stands right
   * above the prompt line ("[/]" or "*(pr)[/configure]" over "A:admin@pe1#"), after an optional
   * empty line. Both belong to the prompt: they are removed from the output, and the level is read
   * from the context line (configPattern is tested against it, as the prompt line is the same in
   * every mode). Not together with endMarker (the marker compares single prompt lines).
   */
  contextLine?: Pattern;
}

/**
 * A built-in pattern (RE2 syntax, linear-time matching like every pattern applied to
 * device output). Compiled once at module load: a mistake here fails every test at once.
 */
function builtin(source: string, what: string, caseInsensitive = false, mustContain?: string): Pattern {
  return compilePattern(source, { field: `built-in ${what} pattern`, kind: 'config', caseInsensitive, ...(mustContain ? { mustContain } : {}) });
}

/** Pager prompts of the supported platforms (Cisco, Arista, Juniper, HP/Huawei style). */
export const COMMON_PAGER_PATTERNS: Pattern[] = [
  builtin('\\s*<-+ More -+>\\s*', 'pager', false, '<-'),
  builtin('\\s*-{2,} ?\\(?more(?: \\d+%)?\\)? ?-{2,}\\s*', 'pager', true, '--'), // --More--, ---(more)---, ---(more 45%)---, -- More --
];

const CISCO_ERRORS: Pattern[] = [
  builtin('^% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Bad|Error|Access denied)', 'error', true, '%'),
  builtin('^% ', 'error', false, '% '),
  builtin('^\\s*\\^\\s*$', 'error', false, '^'),
];

const IOS_PROMPT = builtin('^(?<base>[\\w.\\-@/:]{1,63})(?:\\([\\w.\\-@/:+]{0,32}\\))?[>#]\\s*$', 'prompt');
const PRIVILEGED_PROMPT = builtin('#\\s*$', 'privileged prompt');
const PASSWORD_PROMPT = builtin('^\\s*password:\\s*$', 'password prompt', true);
const IOS_CONFIG_PROMPT = builtin('\\(conf[\\w.\\-@/:+]{0,32}\\)#\\s*$', 'config prompt');

/**
 * IOS, NX-OS and EOS share prompts, paging, enable and config-mode commands and error lines;
 * they differ only in how the config prompt is spelled ("(config)" vs IOS's abbreviation-
 * tolerant "(conf...)").
 */
function ciscoLike(platform: 'cisco_ios' | 'cisco_nxos' | 'arista_eos', configPattern: Pattern): Profile {
  return {
    platform,
    promptPattern: IOS_PROMPT,
    privilegedPattern: PRIVILEGED_PROMPT,
    configPattern,
    pagingCommands: ['terminal length 0'],
    pagerPatterns: COMMON_PAGER_PATTERNS,
    enable: { command: 'enable', passwordPrompt: PASSWORD_PROMPT, disableCommand: 'disable' },
    config: { enter: ['configure terminal'], exit: ['end'], abort: ['end'] },
    errorPatterns: CISCO_ERRORS,
    defaultMode: 'shell',
    endMarker: { commands: ['show'] },
  };
}

const CONFIG_PROMPT = builtin('\\(config[\\w.\\-@/:+]{0,32}\\)#\\s*$', 'config prompt');

const PROFILES: Record<Exclude<Platform, 'generic'>, Profile> = {
  // Netmiko-parity platforms and the autodetect probe (catalog/, docs/platforms.md).
  ...CATALOG_PROFILES,
  cisco_ios: ciscoLike('cisco_ios', IOS_CONFIG_PROMPT),
  cisco_nxos: ciscoLike('cisco_nxos', CONFIG_PROMPT),
  arista_eos: ciscoLike('arista_eos', CONFIG_PROMPT),
  juniper_junos: {
    platform: 'juniper_junos',
    // "user@host> " operational, "user@host# " configuration; an optional "{master:0}" line precedes on clusters.
    promptPattern: builtin('^(?:\\{\\w+:\\d+\\})?(?<base>[\\w.\\-@()/:]{1,63})[>#%]\\s*$', 'prompt'),
    configPattern: PRIVILEGED_PROMPT,
    pagingCommands: ['set cli screen-length 0'],
    pagerPatterns: COMMON_PAGER_PATTERNS,
    config: { enter: ['configure'], exit: ['commit and-quit'], abort: ['rollback 0', 'exit configuration-mode'] },
    errorPatterns: ([
      ['^\\s*error: ', 'error: '], ['^\\s*syntax error', 'syntax error'], ['^\\s*unknown command\\.', 'unknown command.'],
      ['is ambiguous\\.?$', 'is ambiguous'], ['^\\s*No valid completions', 'No valid completions'], ['^\\s*\\^\\s*$', '^'],
    ] as const).map(([src, literal]) => builtin(src, 'error', false, literal)),
    defaultMode: 'shell',
    endMarker: { commands: ['show'] },
    loginSteps: [{ prompt: builtin('%\\s*$', 'shell prompt', false, '%'), command: 'cli', what: 'the FreeBSD shell' }],
  },
  linux: {
    platform: 'linux',
    promptPattern: builtin('^(?<base>[\\w.\\-]{1,63}@[\\w.\\-]{1,63}):[^\\n]{0,256}?[$#]\\s*$', 'prompt'),
    pagingCommands: [],
    pagerPatterns: [],
    errorPatterns: [builtin(': command not found$', 'error', false, ': command not found')],
    defaultMode: 'exec',
  },
};

const GENERIC_PROMPT = builtin('^(?<base>[\\w.\\-@/:]{1,63})(?:\\([\\w.\\-@/:+]{0,32}\\))?[>#$%]\\s*$', 'prompt');

/** The session mode a device of `platform` gets when its inventory entry names none (the profile's). */
export function defaultModeFor(platform: Platform): SessionMode {
  return platform === 'generic' ? 'shell' : PROFILES[platform].defaultMode;
}

function compilePrompt(device: DeviceSpec): Pattern {
  try {
    return compilePromptPattern(device.prompt as string, 'prompt');
  } catch (err) {
    const problem = err instanceof PatternError ? err.problem : 'is not a valid pattern';
    throw new WarmpoolError('CONFIG_INVALID', `device ${device.id}: prompt: ${problem}`, { device: device.id, field: 'prompt', cause: err });
  }
}

/** The profile for a device: its platform's entry with the device's overrides applied. */
export function resolveProfile(device: DeviceSpec): Profile {
  const base: Profile =
    device.platform === 'generic'
      ? {
          platform: 'generic',
          promptPattern: GENERIC_PROMPT,
          privilegedPattern: PRIVILEGED_PROMPT,
          configPattern: IOS_CONFIG_PROMPT,
          pagingCommands: [],
          pagerPatterns: COMMON_PAGER_PATTERNS,
          enable: { command: 'enable', passwordPrompt: PASSWORD_PROMPT, disableCommand: 'disable' },
          config: { enter: ['configure terminal'], exit: ['end'], abort: ['end'] },
          errorPatterns: CISCO_ERRORS,
          defaultMode: 'shell',
          endMarker: { commands: ['show', 'display'] },
        }
      : PROFILES[device.platform];
  const p: Profile = { ...base };
  if (device.prompt !== undefined && device.prompt !== '') p.promptPattern = compilePrompt(device);
  if (device.pagingCommand !== undefined) p.pagingCommands = device.pagingCommand === '' ? [] : [device.pagingCommand];
  if (device.enableCommand !== undefined && device.enableCommand !== '') {
    p.enable = {
      command: device.enableCommand,
      passwordPrompt: base.enable?.passwordPrompt ?? PASSWORD_PROMPT,
      disableCommand: base.enable?.disableCommand ?? 'disable',
    };
  }
  return p;
}
