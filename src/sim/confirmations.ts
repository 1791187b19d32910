/**
 * Commands that ask before they act, as real devices do, so interactive answers
 * (docs/api.md "Interactive answers") are tested against the questions users meet:
 *
 *   IOS-like      reload [in N]                      Proceed with reload? [confirm]
 *   IOS, generic  copy running-config startup-config Destination filename [startup-config]?
 *   IOS-like      delete [flash:]FILE                Delete filename [FILE]?  then  Delete flash:FILE? [confirm]
 *   Linux shell   reset-counters                     Are you sure? (y/n)   (asks again until y or n)
 *   Linux shell   sudo CMD...                        [sudo] password for USER:   (no echo; the login password)
 *
 * A question is printed without a line break and the shell waits for one line (shell-session.ts);
 * `answer` says what the device does with it. IOS reads [confirm] as a line here (Enter or y
 * confirms, anything else cancels), which is how a client that sends "reply\n" sees it.
 */
import type { LinuxResult, Reply, SimContext } from './platforms.js';

export interface Question {
  /** The question as printed (no line break after it). */
  ask: string;
  /** Typed text is not echoed (a password). */
  secret?: boolean;
  /** What the device does with the line typed (without its line break). */
  answer(line: string, dev: { password: string }): Reply;
}

const say = (text: string): Reply => ({ kind: 'output', text, pageable: false });
const ask = (question: Question, text = ''): Reply => ({ kind: 'question', text, question });
const confirmed = (line: string): boolean => ['', 'y', 'yes'].includes(line.trim().toLowerCase());

/** Does the typed word abbreviate `full` with at least `min` characters? */
const abbrev = (w: string | undefined, full: string, min: number): boolean => w !== undefined && w.length >= min && full.startsWith(w.toLowerCase());

/**
 * The question a command asks first, or undefined when the command asks none here (the
 * platform's interpreter then runs it). Linux commands are given `linux` to run what sudo wraps.
 */
export function confirmation(ctx: SimContext, words: string[], linux: (ctx: SimContext, words: string[]) => LinuxResult): Reply | undefined {
  if (ctx.platform === 'linux') return linuxQuestion(ctx, words, linux);
  if (ctx.platform === 'juniper_junos' || ctx.mode !== 'priv') return undefined;
  const [w0, w1, w2, w3] = words;
  if (abbrev(w0, 'reload', 3)) {
    if (words.length === 1) return ask({ ask: 'Proceed with reload? [confirm]', answer: (l) => (confirmed(l) ? { kind: 'logout' } : say('')) });
    if (w1 === 'in' && w2 !== undefined && /^\d+$/.test(w2) && w3 === undefined) {
      const minutes = Number(w2);
      return ask({
        ask: 'Proceed with reload? [confirm]',
        answer: (l) => (confirmed(l) ? say(`Reload scheduled in ${minutes} minutes by ${ctx.username}\n`) : say('% Reload cancelled\n')),
      });
    }
    return undefined;
  }
  if ((ctx.platform === 'cisco_ios' || ctx.platform === 'generic') && abbrev(w0, 'copy', 3) && abbrev(w1, 'running-config', 3) && abbrev(w2, 'startup-config', 5) && w3 === undefined) {
    return ask({
      ask: 'Destination filename [startup-config]? ',
      answer: (l) => {
        const name = l.trim();
        if (name === '' || name === 'startup-config') return say('Building configuration...\n[OK]\n');
        return say(`%Error opening nvram:/${name} (No such file or directory)\n`);
      },
    });
  }
  if (abbrev(w0, 'delete', 3) && w1 !== undefined && w2 === undefined) {
    const file = w1.replace(/^flash:\/?/, '');
    return ask({
      ask: `Delete filename [${file}]? `,
      answer: (l) => {
        const name = l.trim() === '' ? file : l.trim().replace(/^flash:\/?/, '');
        return ask({
          ask: `Delete flash:/${name}? [confirm]`,
          answer: (c) => say(confirmed(c) ? '' : '% Delete cancelled\n'),
        });
      },
    });
  }
  return undefined;
}

function linuxQuestion(ctx: SimContext, words: string[], linux: (ctx: SimContext, words: string[]) => LinuxResult): Reply | undefined {
  if (words[0] === 'reset-counters' && words.length === 1) {
    const q: Question = {
      ask: 'Are you sure? (y/n) ',
      answer: (l) => {
        const a = l.trim().toLowerCase();
        if (a === 'y' || a === 'yes') return say('counters reset\n');
        if (a === 'n' || a === 'no') return say('aborted\n');
        return ask(q, 'Please answer y or n.\n');
      },
    };
    return ask(q);
  }
  if (words[0] === 'sudo' && words.length > 1) {
    const cmd = words.slice(1);
    let tries = 0;
    const q: Question = {
      ask: `[sudo] password for ${ctx.username}: `,
      secret: true,
      answer: (l, dev) => {
        if (l === dev.password) {
          const user = ctx.username;
          ctx.username = 'root';
          try {
            return linux(ctx, cmd).reply;
          } finally {
            ctx.username = user;
          }
        }
        if (++tries >= 3) return say('sudo: 3 incorrect password attempts\n');
        return ask(q, 'Sorry, try again.\n');
      },
    };
    return ask(q);
  }
  return undefined;
}
