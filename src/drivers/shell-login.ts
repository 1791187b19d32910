/**
 * Logging in to a shell: answer login screens (platforms/login-screens.ts), learn the prompt
 * (robust to banners that contain `#`/`>`), take the profile's login steps (Junos's `cli` from
 * the FreeBSD shell), turn paging off, and check once whether the device answers input typed
 * ahead (the end marker, docs/api.md "End of output (shell mode)"). Everything shares one
 * deadline (the login timeout, default ssh.connectTimeoutMs).
 */
import type { Clock } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { classifyLoginScreen, loginRefused } from '../platforms/login-screens.js';
import type { Channel } from '../session/channel.js';
import type { ReadResult } from '../session/prompt-read.js';

export interface LoginOptions {
  device: string;
  clock: Clock;
  /** Clock time by which the prompt must be learned and paging turned off. */
  deadline: number;
  signal: AbortSignal | undefined;
  /** false: never type ahead (benchmarks measure the marker's cost). */
  endMarker: boolean;
  log: Logger;
}

/** Login screens answered per login at most: a screen that keeps coming back is not a screen. */
export const MAX_LOGIN_SCREENS = 4;

const isLoginScreen = (line: string): boolean => classifyLoginScreen(line) !== undefined;

export async function login(ch: Channel, o: LoginOptions): Promise<void> {
  const l = new Login(ch, o);
  // 1. Whatever the device shows first, once it has gone quiet, is a candidate prompt.
  const first = await l.read('', 'the first prompt after login', undefined);
  await l.learn(first.line);
  // 2. Login steps: a prompt the CLI is not at yet (Junos root in the FreeBSD shell).
  for (const step of ch.profile.loginSteps ?? []) {
    if (!step.prompt.test(ch.prompt)) continue;
    o.log.info({ device: o.device, prompt: ch.prompt, command: step.command }, `login landed in ${step.what}; typing "${step.command}"`);
    ch.write(step.command + '\n');
    const r = await l.read(step.command, `the prompt after "${step.command}"`, ch.prompt);
    await l.learn(r.line);
    if (step.prompt.test(ch.prompt)) {
      throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${o.device}: "${step.command}" did not leave ${step.what} (prompt "${ch.prompt}")`, { device: o.device });
    }
  }
  // 3. Paging off, so outputs arrive in one piece (the pager is still answered if this fails).
  //    The last one also checks, at no extra round trip, that the device answers input typed
  //    ahead while a command runs (as IOS, NX-OS, EOS and Junos do): then show commands get an
  //    end marker. Not while a pager may be active: it would take the empty line as a key.
  const paging = ch.profile.pagingCommands;
  let pagingOff = paging.length > 0;
  for (let i = 0; i < paging.length; i++) {
    const command = paging[i] as string;
    const probe = i === paging.length - 1 && ch.profile.endMarker !== undefined && o.endMarker;
    const r = await ch.command({ command, timeoutMs: l.left(), signal: o.signal, marker: probe ? 'probe' : undefined });
    if (r.error) {
      pagingOff = false;
      o.log.warn({ device: o.device, command, error: r.error }, 'paging command refused; answering pager prompts instead');
    }
  }
  if (!pagingOff) ch.markerOk = false;
}

class Login {
  readonly #ch: Channel;
  readonly #o: LoginOptions;
  #screens = 0;

  constructor(ch: Channel, o: LoginOptions) {
    this.#ch = ch;
    this.#o = o;
  }

  left(): number {
    return Math.max(1, this.#o.deadline - this.#o.clock.now());
  }

  /**
   * Read until a prompt, answering login screens on the way ("Press Y or ENTER", a banner to
   * accept, a licence offer); a password change demand fails the login (AUTH_FAILED, gRPC
   * FAILED_PRECONDITION), as does a screen still there after MAX_LOGIN_SCREENS answers.
   */
  async read(command: string, what: string, known: string | undefined): Promise<ReadResult> {
    const o = this.#o;
    for (;;) {
      const r = await this.#ch.read({ command, timeoutMs: this.left(), signal: o.signal, what, screen: isLoginScreen }, known);
      if (r.ended !== 'screen') return r;
      const screen = classifyLoginScreen(r.line);
      if (!screen) return r; // unreachable: the read ended on a line the classifier knows
      if (screen.kind === 'refused') throw loginRefused({ id: o.device }, screen);
      if (++this.#screens > MAX_LOGIN_SCREENS) {
        throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${o.device}: login screen (${screen.what}) still shown after ${MAX_LOGIN_SCREENS} answers`, { device: o.device });
      }
      o.log.info({ device: o.device, screen: screen.what }, 'login screen answered');
      this.#ch.write(screen.answer);
      command = '';
    }
  }

  /**
   * A prompt is what the device prints again, identically, for an empty line. A banner line
   * that looked like one does not come back. Sets the channel's prompt.
   */
  async learn(candidate: string): Promise<void> {
    const ch = this.#ch;
    const o = this.#o;
    for (let i = 0; i < 4; i++) {
      ch.write('\n');
      const r = await this.read('', 'the prompt after a newline', candidate);
      if (r.line === candidate) {
        ch.prompt = candidate;
        return;
      }
      candidate = r.line;
    }
    throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${o.device}: the prompt did not settle after login`, { device: o.device });
  }
}
