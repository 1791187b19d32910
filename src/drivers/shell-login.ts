/**
 * Logging in to a shell: learn the prompt (robust to banners that contain `#`/`>`), turn paging
 * off, and check once whether the device answers input typed ahead (the end marker, docs/api.md
 * "End of output (shell mode)").
 */
import type { Clock } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Channel } from '../session/channel.js';

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

export async function login(ch: Channel, o: LoginOptions): Promise<void> {
  const left = (): number => Math.max(1, o.deadline - o.clock.now());
  const signal = o.signal;
  // 1. Whatever the device shows first, once it has gone quiet, is a candidate prompt.
  let first = await ch.read({ command: '', timeoutMs: left(), signal, what: 'the first prompt after login' });
  let candidate = first.line;
  // 2. A prompt is what the device prints again, identically, for an empty line.
  //    A banner line that looked like one does not come back.
  let learned = false;
  for (let i = 0; i < 4 && !learned; i++) {
    ch.write('\n');
    first = await ch.read({ command: '', timeoutMs: left(), signal, what: 'the prompt after a newline' }, candidate);
    if (first.line === candidate) learned = true;
    candidate = first.line;
  }
  if (!learned) throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${o.device}: the prompt did not settle after login`, { device: o.device });
  ch.prompt = candidate;
  // 3. Paging off, so outputs arrive in one piece (the pager is still answered if this fails).
  //    The last one also checks, at no extra round trip, that the device answers input typed
  //    ahead while a command runs (as IOS, NX-OS, EOS and Junos do): then show commands get an
  //    end marker. Not while a pager may be active: it would take the empty line as a key.
  const paging = ch.profile.pagingCommands;
  let pagingOff = paging.length > 0;
  for (let i = 0; i < paging.length; i++) {
    const command = paging[i] as string;
    const probe = i === paging.length - 1 && ch.profile.endMarker !== undefined && o.endMarker;
    const r = await ch.command({ command, timeoutMs: left(), signal, marker: probe ? 'probe' : undefined });
    if (r.error) {
      pagingOff = false;
      o.log.warn({ device: o.device, command, error: r.error }, 'paging command refused; answering pager prompts instead');
    }
  }
  if (!pagingOff) ch.markerOk = false;
}
