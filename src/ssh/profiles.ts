/**
 * Platform profiles AS DATA: everything the shell driver needs to know about a CLI
 * (prompts, paging, enable, config mode, error lines). The driver has no per-platform
 * branches; a new platform is a new entry here.
 *
 * Facts follow Scrapli's and Netmiko's platform definitions (prompt patterns of
 * scrapli `cisco_iosxe`, `cisco_nxos`, `arista_eos`, `juniper_junos`; Netmiko's
 * `disable_paging` commands and failure strings).
 */
import type { DeviceSpec, Platform, SessionMode } from '../config/types.js';
import { WarmpoolError } from '../errors.js';

export interface Profile {
  platform: Platform;
  /**
   * Any prompt of the platform, tested against the last (unterminated) line with ANSI,
   * `\r` and backspace artefacts already rendered away. A named group `base` (the
   * host-name part) lets the driver tell "same device, other mode" from "output that
   * happens to look like a prompt".
   */
  promptPattern: RegExp;
  /** The prompt is at privileged level (IOS `#`); undefined: the platform has no separate level. */
  privilegedPattern?: RegExp;
  /** The prompt is in configuration mode; undefined: no configuration mode. */
  configPattern?: RegExp;
  /** Sent once after login, in order; each must end at a prompt. */
  pagingCommands: string[];
  /** Pager prompts: answered with a space if paging could not be disabled; also removed from output. */
  pagerPatterns: RegExp[];
  enable?: {
    command: string;
    passwordPrompt: RegExp;
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
  errorPatterns: RegExp[];
  defaultMode: SessionMode;
  /**
   * End-of-output marker (checked per session at login): an empty line is typed ahead after
   * commands whose first word abbreviates one of `commands` (they never ask a question that
   * the line could answer), so their output ends with "prompt, empty line, prompt" and a line
   * of output that looks like the prompt cannot end it. Absent: prompt only (Linux shells echo
   * typed-ahead input at once, so the marker would land inside the output).
   */
  endMarker?: { commands: string[] };
}

/** Pager prompts of the supported platforms (Cisco, Arista, Juniper, HP/Huawei style). */
export const COMMON_PAGER_PATTERNS: RegExp[] = [
  /\s*<-+ More -+>\s*/,
  /\s*-{2,} ?\(?more(?: \d+%)?\)? ?-{2,}\s*/i, // --More--, ---(more)---, ---(more 45%)---, -- More --
];

const CISCO_ERRORS: RegExp[] = [
  /^% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Bad|Error|Access denied)/i,
  /^% /,
  /^\s*\^\s*$/,
];

const IOS_PROMPT = /^(?<base>[\w.\-@/:]{1,63})(?:\([\w.\-@/:+]{0,32}\))?[>#]\s*$/;

/**
 * IOS, NX-OS and EOS share prompts, paging, enable and config-mode commands and error lines;
 * they differ only in how the config prompt is spelled ("(config)" vs IOS's abbreviation-
 * tolerant "(conf...)").
 */
function ciscoLike(platform: 'cisco_ios' | 'cisco_nxos' | 'arista_eos', configPattern: RegExp): Profile {
  return {
    platform,
    promptPattern: IOS_PROMPT,
    privilegedPattern: /#\s*$/,
    configPattern,
    pagingCommands: ['terminal length 0'],
    pagerPatterns: COMMON_PAGER_PATTERNS,
    enable: { command: 'enable', passwordPrompt: /^\s*password:\s*$/i, disableCommand: 'disable' },
    config: { enter: ['configure terminal'], exit: ['end'], abort: ['end'] },
    errorPatterns: CISCO_ERRORS,
    defaultMode: 'shell',
    endMarker: { commands: ['show'] },
  };
}

const CONFIG_PROMPT = /\(config[\w.\-@/:+]{0,32}\)#\s*$/;

const PROFILES: Record<Exclude<Platform, 'generic'>, Profile> = {
  cisco_ios: ciscoLike('cisco_ios', /\(conf[\w.\-@/:+]{0,32}\)#\s*$/),
  cisco_nxos: ciscoLike('cisco_nxos', CONFIG_PROMPT),
  arista_eos: ciscoLike('arista_eos', CONFIG_PROMPT),
  juniper_junos: {
    platform: 'juniper_junos',
    // "user@host> " operational, "user@host# " configuration; an optional "{master:0}" line precedes on clusters.
    promptPattern: /^(?:\{\w+:\d+\})?(?<base>[\w.\-@()/:]{1,63})[>#%]\s*$/,
    configPattern: /#\s*$/,
    pagingCommands: ['set cli screen-length 0'],
    pagerPatterns: COMMON_PAGER_PATTERNS,
    config: { enter: ['configure'], exit: ['commit and-quit'], abort: ['rollback 0', 'exit configuration-mode'] },
    errorPatterns: [/^\s*error: /, /^\s*syntax error/, /^\s*unknown command\./, /is ambiguous\.?$/, /^\s*No valid completions/, /^\s*\^\s*$/],
    defaultMode: 'shell',
    endMarker: { commands: ['show'] },
  },
  linux: {
    platform: 'linux',
    promptPattern: /^(?<base>[\w.\-]{1,63}@[\w.\-]{1,63}):[^\n]{0,256}?[$#]\s*$/,
    pagingCommands: [],
    pagerPatterns: [],
    errorPatterns: [/: command not found$/],
    defaultMode: 'exec',
  },
};

const GENERIC_PROMPT = /^(?<base>[\w.\-@/:]{1,63})(?:\([\w.\-@/:+]{0,32}\))?[>#$%]\s*$/;

export function defaultModeFor(platform: Platform): SessionMode {
  return platform === 'linux' ? 'exec' : 'shell';
}

function compilePrompt(device: DeviceSpec): RegExp {
  try {
    const src = device.prompt as string;
    // A prompt regex is matched against the last line only; anchor it at the end.
    return new RegExp(src.endsWith('$') ? src : `(?:${src})\\s*$`);
  } catch (err) {
    throw new WarmpoolError('CONFIG_INVALID', `device ${device.id}: prompt is not a valid regular expression`, {
      device: device.id,
      field: 'prompt',
      cause: err,
    });
  }
}

/** The profile for a device: its platform's entry with the device's overrides applied. */
export function resolveProfile(device: DeviceSpec): Profile {
  const base: Profile =
    device.platform === 'generic'
      ? {
          platform: 'generic',
          promptPattern: GENERIC_PROMPT,
          privilegedPattern: /#\s*$/,
          configPattern: /\(conf[\w.\-@/:+]{0,32}\)#\s*$/,
          pagingCommands: [],
          pagerPatterns: COMMON_PAGER_PATTERNS,
          enable: { command: 'enable', passwordPrompt: /^\s*password:\s*$/i, disableCommand: 'disable' },
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
      passwordPrompt: base.enable?.passwordPrompt ?? /^\s*password:\s*$/i,
      disableCommand: base.enable?.disableCommand ?? 'disable',
    };
  }
  return p;
}
