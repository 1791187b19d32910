/**
 * The prompt engine: pure decisions about a shell's last line. The I/O (sending the
 * newlines, waiting) is in session/prompt-read.ts and session/channel.ts; everything decidable from text is here so
 * it can be unit-tested without a device.
 */
import type { Profile } from '../platforms/profiles.js';

export interface PromptMatch {
  /** The prompt as displayed, trailing blanks removed. */
  prompt: string;
  /** Host-name part when the profile's pattern names it, else ''. */
  base: string;
}

/** Does this rendered last line look like one of the platform's prompts? */
export function matchPrompt(profile: Profile, line: string): PromptMatch | undefined {
  if (line.length === 0 || line.length > 256) return undefined;
  const m = profile.promptPattern.exec(line);
  if (!m) return undefined;
  return { prompt: line.trimEnd(), base: m.groups['base'] ?? '' };
}

/**
 * The same question as matchPrompt without the captures: the learned prompt as a string
 * compare (the usual case: the end prompt of every command), else re2js's DFA. matchPrompt's
 * captures need re2js's backtracker, tens of µs per line on a warm Run.
 */
export function isPromptLine(profile: Profile, line: string, known: string | undefined): boolean {
  if (line.length === 0 || line.length > 256) return false;
  if (known !== undefined && line.trimEnd() === known) return true;
  return profile.promptPattern.test(line);
}

export type PromptDecision =
  /** The command has ended. */
  | 'prompt'
  /** Looks like a prompt but not the one we know: accept only if nothing more arrives soon. */
  | 'settle'
  | 'none';

/**
 * Decide whether `line` (the rendered unterminated last line) ends the command, given
 * the prompt learned so far. The learned prompt, or another mode of the same host
 * (same `base`: "R1#" -> "R1(config)#"), ends it at once. Anything else that merely
 * matches the pattern (a new host name, a banner line that looks like a prompt, an
 * output line cut at a packet boundary) must first stay quiet for a moment.
 */
export function decidePrompt(profile: Profile, line: string, known: string | undefined): { decision: PromptDecision; match?: PromptMatch } {
  const trimmed = line.trimEnd();
  if (known !== undefined && trimmed === known) return { decision: 'prompt', match: { prompt: known, base: '' } };
  const m = matchPrompt(profile, line);
  if (m) {
    if (known === undefined) return { decision: 'settle', match: m };
    const kb = matchPrompt(profile, known)?.base ?? '';
    if (kb === m.base) return { decision: 'prompt', match: m };
    return { decision: 'settle', match: m };
  }
  // Output printed without a final newline runs into the prompt ("foo" + "user@host:~$ ").
  if (known !== undefined && known.length > 0 && trimmed.endsWith(known)) return { decision: 'prompt', match: { prompt: known, base: '' } };
  return { decision: 'none' };
}

export type PromptLevel = 'config' | 'privileged' | 'unprivileged';

/**
 * Which level a prompt shows, by the profile's patterns (platforms without levels are "privileged").
 * `context`: the context line above a two-line prompt (Profile.contextLine), where such a profile
 * shows its configuration mode.
 */
export function promptLevel(profile: Profile, prompt: string, context = ''): PromptLevel {
  if (profile.configPattern && profile.configPattern.test(profile.contextLine ? context : prompt)) return 'config';
  if (!profile.privilegedPattern || profile.privilegedPattern.test(prompt)) return 'privileged';
  return 'unprivileged';
}

/** Pager prompt on the last line? */
export function isPagerPrompt(profile: Profile, line: string): boolean {
  if (line.length === 0 || line.length > 256) return false;
  for (const p of profile.pagerPatterns) if (p.test(line)) return true;
  return false;
}

/**
 * Does `command` start with a word that abbreviates one of the profile's end-marker commands
 * (IOS accepts any unique prefix: "sh", "sho", "show")? Those commands never ask a question,
 * so an empty line typed ahead after them cannot answer one.
 */
export function asksNoQuestion(profile: Profile, command: string): boolean {
  const words = profile.endMarker?.commands;
  if (!words) return false;
  const first = command.trimStart();
  let end = 0;
  while (end < first.length && first.charCodeAt(end) > 32) end++;
  if (end < 2) return false;
  const w = first.slice(0, end).toLowerCase();
  return words.some((k) => k.startsWith(w));
}
