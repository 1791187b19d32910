/**
 * Hostile devices: simulator commands that misbehave the way broken, overloaded or malicious
 * boxes do, so tests and the soak can prove the daemon answers every call with a specific
 * status, never hangs or crashes, and never leaks a pool slot.
 *
 * Enabled only on a simulated device started with `hostile: true` (`warmpool sim --hostile`);
 * on other devices `hostile ...` is an invalid command like any other, so the demo and the
 * normal tests never meet this behaviour.
 *
 *   hostile flood              endless lines, as fast as SSH flow control allows, no prompt
 *   hostile giant-line BYTES   one line of BYTES characters without a line end, then the prompt
 *   hostile binary             random bytes, NULs, invalid UTF-8, ANSI/cursor storms, lone-CR
 *                              and backspace storms between marker lines, then the prompt
 *   hostile ansi-storm BYTES   one line of BYTES of colour/clear/cursor escapes, CRs and backspaces
 *                              that renders to almost nothing, then "storm-end" and the prompt
 *   hostile cursor-bomb BYTES  one line of "x" + cursor-forward-4096 (ESC [4096C) pairs: each 8 bytes
 *                              would render as 4 097 columns; then "bomb-end" and the prompt
 *   hostile fake-prompt [MS]   output lines equal to the device's own prompt, each followed by a
 *                              pause of MS (default 200), then more output, then the real prompt
 *   hostile drip [MS]          one byte every MS (default 50), forever, no prompt
 *   hostile close              half an output, then the device closes the shell channel
 *   hostile drop               half an output, then the device closes the whole connection
 *   hostile echo-a N           one line of N letters "a" (bait for a backtracking `expect`), then the prompt
 *   hostile help               this list
 *
 * Each also answers as `show hostile ...`: the shell driver confirms the end of `show` commands
 * with a typed-ahead empty line, and the fake prompts are aimed at exactly that.
 *
 * Commands that end (giant-line, binary, fake-prompt, echo-a, help) print the prompt through
 * `io.end()`, which then reads input typed ahead while the command ran, as IOS/EOS/Junos do.
 */
import { seededRandom } from '../core/clock.js';

/** What a hostile command may do to its shell. */
export interface HostileIo {
  /** Raw bytes or text to the client; false when the SSH window is full (wait for onDrain). */
  write(data: string | Buffer): boolean;
  onDrain(cb: () => void): void;
  /** The shell (or its connection) is gone: stop. */
  closed(): boolean;
  /** The device's current prompt, exactly as it prints it. */
  prompt(): string;
  /** The command finished: print the prompt and go on with typed-ahead input. */
  end(): void;
  /** Close the SSH channel of this shell (the connection stays). */
  closeChannel(): void;
  /** Close the TCP connection. */
  closeConnection(): void;
}

export const HOSTILE_HELP = [
  'hostile flood              endless output, no prompt',
  'hostile giant-line BYTES   one line of BYTES characters without a line end, then the prompt',
  'hostile binary             garbage bytes, NULs, invalid UTF-8, ANSI/CR/BS storms, then the prompt',
  'hostile ansi-storm BYTES   one line of BYTES of escapes, CRs and backspaces, then the prompt',
  'hostile cursor-bomb BYTES  one line of "x" + ESC [4096C pairs (BYTES long), then the prompt',
  'hostile fake-prompt [MS]   lines equal to the prompt, each followed by a pause, then the real prompt',
  'hostile drip [MS]          one byte every MS ms (default 50), forever',
  'hostile close              half an output, then the shell channel is closed',
  'hostile drop               half an output, then the connection is closed',
  'hostile echo-a N           a line of N "a", then the prompt',
].join('\r\n');

/** Largest giant line (bytes): big enough for any cap, small enough not to take the simulator down. */
export const MAX_GIANT_LINE = 256 * 1024 * 1024;

export function isHostileCommand(line: string): boolean {
  // Also as `show hostile ...`: show commands are the ones the driver confirms with an end marker.
  return /^(?:show\s+)?hostile(?:\s|$)/.test(line.trim());
}

/**
 * Runs one hostile command on a shell. The caller has marked the shell busy and will not read
 * further input until `io.end()`. Starts on the next turn so the echo of the command goes first.
 */
export function runHostile(line: string, io: HostileIo): void {
  const words = line.trim().split(/\s+/);
  if (words[0] === 'show') words.shift();
  const sub = words[1] ?? 'help';
  const arg = words[2];
  setImmediate(() => {
    if (io.closed()) return;
    switch (sub) {
      case 'flood':
        return flood(io);
      case 'giant-line':
        return giantLine(io, intArg(arg, 20_000_000, MAX_GIANT_LINE));
      case 'binary':
        return pipe(io, binaryChunks(), () => io.end());
      case 'ansi-storm':
        return pipe(io, repeated(ANSI_STORM_UNIT, intArg(arg, 1_000_000, MAX_GIANT_LINE), '\r\nstorm-end\r\n'), () => io.end());
      case 'cursor-bomb':
        return pipe(io, repeated(CURSOR_BOMB_UNIT, intArg(arg, 65_536, MAX_GIANT_LINE), '\r\nbomb-end\r\n'), () => io.end());
      case 'fake-prompt':
        return fakePrompt(io, intArg(arg, 200, 60_000));
      case 'drip':
        return drip(io, Math.max(1, intArg(arg, 50, 60_000)));
      case 'close':
        return closeMidOutput(io, () => io.closeChannel());
      case 'drop':
        return closeMidOutput(io, () => io.closeConnection());
      case 'echo-a':
        io.write('a'.repeat(intArg(arg, 40, 1_000_000)) + '\r\n');
        return io.end();
      case 'help':
        io.write(HOSTILE_HELP + '\r\n');
        return io.end();
      default:
        io.write(`% Unknown hostile command "${sub}"\r\n${HOSTILE_HELP}\r\n`);
        return io.end();
    }
  });
}

function intArg(s: string | undefined, dflt: number, max: number): number {
  if (s === undefined || !/^\d+$/.test(s)) return dflt;
  return Math.min(Number(s), max);
}

/**
 * Writes chunks honouring the channel's flow control (the SSH window), yielding to the event
 * loop now and then so a fast reader cannot starve the simulator's other sessions.
 */
function pipe(io: HostileIo, chunks: Iterator<string | Buffer>, done: () => void): void {
  const step = (): void => {
    for (let n = 0; n < 16; n++) {
      if (io.closed()) return;
      const next = chunks.next();
      if (next.done) return done();
      if (!io.write(next.value)) {
        io.onDrain(step);
        return;
      }
    }
    setImmediate(step);
  };
  step();
}

const FLOOD_LINE = 'flood the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n';
const FLOOD_CHUNK = FLOOD_LINE.repeat(Math.floor(65536 / FLOOD_LINE.length));

function* endless(chunk: string): Iterator<string> {
  for (;;) yield chunk;
}

function flood(io: HostileIo): void {
  pipe(io, endless(FLOOD_CHUNK), () => undefined);
}

function* giantChunks(bytes: number): Iterator<string> {
  const chunk = '0123456789abcdef'.repeat(4096);
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    yield n === chunk.length ? chunk : chunk.slice(0, n);
    left -= n;
  }
  yield '\r\n';
}

function giantLine(io: HostileIo, bytes: number): void {
  pipe(io, giantChunks(bytes), () => io.end());
}

/** Control-heavy text that renders to (almost) nothing: colours, clears, moves, CR, BS, titles. */
const ANSI_STORM_UNIT = '\x1b[31m\x1b[1;1H\x1b[2Jab\bc\x1b[K\r\x1b[0m\x1b]0;t\x07\x1b[3D\x1b[2C\x1b[2K';
/** A visible character, then the cursor 4 096 columns to the right: amplifies 512 times if rendered naively. */
const CURSOR_BOMB_UNIT = 'x\x1b[4096C';

/** `unit` repeated to about `bytes` (whole units, 64 KiB chunks), then `tail`. */
function* repeated(unit: string, bytes: number, tail: string): Iterator<string> {
  const chunk = unit.repeat(Math.max(1, Math.floor(65536 / unit.length)));
  let left = Math.max(unit.length, bytes - (bytes % unit.length));
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    yield n === chunk.length ? chunk : chunk.slice(0, n);
    left -= n;
  }
  yield tail;
}

/**
 * Characters left out of the random bytes: the ones that make a line look like a prompt
 * (`#`, `>`, `$`, `%` at a line end), an error line (`%` first) or a pager prompt (`-`),
 * so the garbage tests the cleaner and the decoder, not the prompt heuristics.
 */
const EXCLUDED = new Set([0x23, 0x3e, 0x24, 0x25, 0x2d, 0x5e]);

/** Marker lines of `hostile binary` that must survive cleaning, in order. */
export const BINARY_MARKERS = ['BINARY-BEGIN', 'nul-survivor', 'utf8-survivor', 'ansi-survivor', 'cr-survivor', 'bs-survivor', 'BINARY-END'];

function* binaryChunks(): Iterator<string | Buffer> {
  // The same garbage every time, so a failure replays.
  const rnd = seededRandom(0x5eed);
  yield 'BINARY-BEGIN\r\n';
  for (let k = 0; k < 4; k++) {
    const b = Buffer.alloc(16384);
    for (let i = 0; i < b.length; i++) {
      let v = Math.floor(rnd() * 256);
      while (EXCLUDED.has(v)) v = Math.floor(rnd() * 256);
      b[i] = v;
    }
    yield b;
  }
  yield '\r\n' + '\0'.repeat(8192) + 'nul-survivor\r\n';
  const badUtf8 = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xe2, 0x82, 0x28, 0xf0, 0x28, 0x8c, 0xbc, 0xf8, 0xa1, 0xa1, 0xa1, 0xa1, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]);
  yield Buffer.concat([...Array.from({ length: 600 }, () => badUtf8), Buffer.from('\r\nutf8-survivor\r\n')]);
  // Cursor movement, screen clears, colours, hidden cursor, window titles (OSC), erase-in-line.
  const ansi = '\x1b[2J\x1b[H\x1b[31;1m\x1b[10;20H\x1b[?25l\x1b]0;hostile title\x07\x1b[K\x1b[3D\x1b[5C\x1b[0m\x1b(B\x1b7\x1b8';
  // Storms of a size a line renderer meets in real outputs; `ansi-storm` is the big one.
  yield ansi.repeat(200) + '\r' + '\x1b[K' + 'ansi-survivor\r\n';
  yield 'progress\r'.repeat(2000) + 'cr-survivor\r\n';
  yield 'x\b'.repeat(2000) + 'bs-survivor\r\n';
  yield 'BINARY-END\r\n';
}

/**
 * The device's own prompt inside the output: first as an unterminated line with a pause after
 * it (exactly what a finished command looks like), then as a complete line with a pause; the
 * real prompt comes only after the last line. Never two prompts in a row: a device answering a
 * typed-ahead empty line prints exactly that, and no client could tell the two apart. The whole output, cleaned, is FAKE_PROMPT_OUTPUT
 * with the prompt substituted.
 */
function fakePrompt(io: HostileIo, pauseMs: number): void {
  const p = io.prompt();
  const steps: Array<() => void> = [
    () => io.write('fake-prompt line 1\r\n' + p),
    () => io.write('\r\nfake-prompt line 2\r\n' + p + '\r\n'),
    () => {
      io.write('fake-prompt line 3\r\n');
      io.end();
    },
  ];
  let i = 0;
  const next = (): void => {
    if (io.closed()) return;
    (steps[i++] as () => void)();
    if (i < steps.length) setTimeout(next, pauseMs);
  };
  next();
}

/** The cleaned output `hostile fake-prompt` must give, for a device whose prompt is `prompt`. */
export function fakePromptOutput(prompt: string): string {
  const p = prompt.trimEnd();
  return `fake-prompt line 1\n${p}\nfake-prompt line 2\n${p}\nfake-prompt line 3\n`;
}

function drip(io: HostileIo, everyMs: number): void {
  let n = 0;
  const tick = (): void => {
    if (io.closed()) return;
    n++;
    io.write(n % 40 === 0 ? '\r\n' : '.');
    setTimeout(tick, everyMs);
  };
  tick();
}

/** Some output, a moment, then the device goes away without a prompt. */
function closeMidOutput(io: HostileIo, close: () => void): void {
  let text = '';
  for (let i = 1; i <= 50; i++) text += `partial output line ${i}\r\n`;
  io.write(text);
  setTimeout(() => {
    if (!io.closed()) close();
  }, 20);
}
