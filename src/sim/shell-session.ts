/**
 * One interactive shell channel of a simulated device, as a PTY shell on the real platform
 * behaves: echo and line editing, CRLF, a pager with erase artefacts, enable passwords,
 * per-command latency, asynchronous messages, idle close, and the faults of SimFaults.
 * What a command prints comes from platforms.ts (interpret) or hostile.ts.
 */
import type { Connection, ServerChannel } from 'ssh2';
import { initialMode, interpret, renderPrompt, type Reply, type SimContext } from './platforms.js';
import { isPagingCommand, SimPager } from './pager.js';
import type { Question } from './confirmations.js';
import { isHostileCommand, runHostile } from './hostile.js';
import { crlf, crlfCached } from './crlf.js';
import type { DeviceCtx } from './options.js';
import { passwordExpiredText, SIM_LOGIN_SCREENS, type SimLoginScreen } from './login-screens.js';

/** One interactive shell channel. */
export class SimShell {
  readonly #ctx: SimContext;
  #inbuf = '';
  #line = '';
  #lastWasCR = false;
  #busy = false;
  #closed = false;
  #passwordTries = -1;
  /** A command asked this and waits for the next line (confirmations.ts). */
  #question: Question | undefined;
  #pager: SimPager | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** A login screen standing instead of the first prompt (SimOptions.loginScreen / passwordExpired). */
  #screen: SimLoginScreen | undefined;

  readonly #dev: DeviceCtx;
  readonly #stream: ServerChannel;
  readonly #conn: Connection;
  readonly #rows: number;

  constructor(dev: DeviceCtx, stream: ServerChannel, conn: Connection, rows: number) {
    this.#dev = dev;
    this.#stream = stream;
    this.#conn = conn;
    this.#rows = rows;
    this.#ctx = {
      platform: dev.platform,
      device: dev.shared,
      username: dev.username,
      mode: dev.opts.junosShell && dev.platform === 'juniper_junos' ? 'shell' : initialMode(dev.platform),
      sub: '',
      paging: dev.platform !== 'linux',
      uncommitted: false,
      pendingHostname: '',
      pagingCommand: dev.opts.pagingCommand ?? '',
      enableCommand: dev.opts.enableCommand ?? '',
    };
    dev.shells.add(this);
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => this.#onData(d));
    stream.on('close', () => this.#dispose());
    stream.on('error', () => this.#dispose());
    const idle = dev.faults.idleCloseMs;
    if (idle && idle > 0) {
      this.#idleTimer = setTimeout(() => this.#idleClose(), idle);
    }
    this.#start();
  }

  #start(): void {
    // MOTD first, then the prompt a moment later in a separate write: a client that
    // takes the first prompt-looking line ("change-freeze>") as the prompt is caught out.
    const motd = this.#dev.motd;
    if (motd) this.#write('\r\n' + crlf(motd));
    const o = this.#dev.opts;
    if (o.passwordExpired) this.#screen = { text: passwordExpiredText(this.#dev.platform, this.#dev.username), key: false, accept: [], reject: [] };
    else if (o.loginScreen) this.#screen = SIM_LOGIN_SCREENS[this.#dev.platform];
    setTimeout(() => {
      if (!this.#closed) this.#write('\r\n' + (this.#screen ? this.#screen.text : this.#prompt()));
    }, motd ? (o.motdPauseMs ?? 2) : 0);
  }

  #prompt(): string {
    return renderPrompt(this.#ctx);
  }

  /** Echo and replies produced while consuming input, written as one packet. */
  #out = '';

  #flushOut(): void {
    const o = this.#out;
    this.#out = '';
    this.#write(o);
  }

  #write(s: string): boolean {
    if (this.#closed || s.length === 0) return true;
    return this.#stream.write(s);
  }

  #dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dev.shells.delete(this);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
  }

  /** An asynchronous message (syslog to the terminal): printed, then the prompt and typed text again, as IOS does. */
  notify(text: string): void {
    if (this.#closed) return;
    const atPrompt = !this.#busy && !this.#pager && this.#passwordTries < 0 && !this.#question;
    this.#write('\r\n' + crlf(text) + '\r\n' + (atPrompt ? this.#prompt() + this.#line : ''));
  }

  #idleClose(): void {
    if (this.#closed) return;
    this.#write('\r\n\r\n');
    this.#dispose();
    this.#conn.end();
  }

  #onData(d: string): void {
    if (this.#closed) return;
    this.#idleTimer?.refresh();
    this.#inbuf += d;
    this.#pump();
  }

  /** Consume typed input while no command is running. */
  #pump(): void {
    while (!this.#busy && !this.#closed && this.#inbuf.length > 0) {
      if (this.#screen) {
        this.#out += this.#screenInput();
        continue;
      }
      if (this.#pager) {
        const key = this.#inbuf[0] as string;
        this.#inbuf = this.#inbuf.slice(1);
        if (key === '\n' && this.#lastWasCR) {
          this.#lastWasCR = false;
          continue;
        }
        this.#lastWasCR = key === '\r';
        this.#out += this.#pagerKey(key);
        continue;
      }
      const text = this.#inbuf;
      let i = 0;
      let enterAt = -1;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 || c === 13) {
          enterAt = i;
          break;
        }
      }
      const part = enterAt < 0 ? text : text.slice(0, enterAt);
      if (part.length > 0) {
        this.#lastWasCR = false;
        this.#out += this.#addTyped(part);
      }
      if (enterAt < 0) {
        this.#inbuf = '';
        break;
      }
      const enter = text.charCodeAt(enterAt);
      let rest = enterAt + 1;
      if (enter === 10 && this.#lastWasCR && part.length === 0) {
        // the \n of a \r\n pair: already handled
        this.#lastWasCR = false;
        this.#inbuf = text.slice(rest);
        continue;
      }
      if (enter === 13 && text.charCodeAt(rest) === 10) rest++;
      else this.#lastWasCR = enter === 13;
      this.#inbuf = text.slice(rest);
      const line = this.#line;
      this.#line = '';
      if (this.#passwordTries >= 0) {
        this.#out += '\r\n';
        this.#out += this.#password(line);
      } else if (this.#question) {
        this.#out += '\r\n';
        this.#out += this.#answer(line);
      } else {
        this.#out += '\r\n';
        this.#out += this.#execLine(line);
      }
    }
    this.#flushOut();
  }

  /**
   * Input while a login screen stands: a key (or a line) that accepts it brings the prompt, one
   * that rejects it ends the session, anything else shows the screen again (an expiry notice
   * accepts nothing: warmpool never changes passwords).
   */
  #screenInput(): string {
    const sc = this.#screen as SimLoginScreen;
    let answer: string;
    if (sc.key) {
      const k = this.#inbuf[0] as string;
      this.#inbuf = this.#inbuf.slice(1);
      answer = k === '\r' || k === '\n' ? '' : k.toLowerCase();
    } else {
      const nl = this.#inbuf.search(/[\r\n]/);
      if (nl < 0) {
        this.#line += this.#inbuf;
        const echo = this.#inbuf;
        this.#inbuf = '';
        return echo;
      }
      const echo = this.#inbuf.slice(0, nl);
      answer = (this.#line + echo).trim().toLowerCase();
      this.#line = '';
      this.#inbuf = this.#inbuf.slice(this.#inbuf[nl] === '\r' && this.#inbuf[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (sc.accept.includes(answer) || sc.reject.includes(answer)) return echo + this.#afterScreen(sc, answer);
      return echo + '\r\n' + sc.text;
    }
    if (sc.accept.includes(answer) || sc.reject.includes(answer)) return (answer === '' ? '' : answer) + this.#afterScreen(sc, answer);
    return '';
  }

  #afterScreen(sc: SimLoginScreen, answer: string): string {
    if (sc.reject.includes(answer)) {
      setImmediate(() => {
        this.#dispose();
        this.#conn.end();
      });
      this.#screen = undefined;
      return '\r\n';
    }
    this.#screen = undefined;
    return '\r\n' + this.#prompt();
  }

  /** Typed characters: echo them (unless a password is being typed), with line editing. */
  #addTyped(part: string): string {
    const silent = this.#passwordTries >= 0 || this.#question?.secret === true;
    // Fast path: no control characters.
    if (!/[\x00-\x1f\x7f]/.test(part)) {
      this.#line += part;
      return silent ? '' : part;
    }
    let echo = '';
    for (const ch of part) {
      const c = ch.charCodeAt(0);
      if (c === 0x7f || c === 0x08) {
        if (this.#line.length > 0) {
          this.#line = this.#line.slice(0, -1);
          if (!silent) echo += '\b \b';
        }
      } else if (c === 0x03) {
        this.#line = '';
        echo += '^C\r\n' + this.#prompt();
      } else if (c >= 0x20 || c === 9) {
        this.#line += ch;
        if (!silent) echo += ch;
      }
    }
    return echo;
  }

  #password(pw: string): string {
    if (pw === this.#dev.enableSecret) {
      this.#passwordTries = -1;
      this.#ctx.mode = 'priv';
      return this.#prompt();
    }
    this.#passwordTries++;
    if (this.#passwordTries >= 3) {
      this.#passwordTries = -1;
      return '% Bad secrets\r\n\r\n' + this.#prompt();
    }
    return 'Password: ';
  }

  /** Run one typed line; returns what to write now (output may follow later). */
  #execLine(line: string): string {
    const trimmed = line.trim();
    if (this.#dev.faults.flushTypeahead && trimmed.length > 0) this.#inbuf = '';
    if (trimmed.length > 0) {
      const st = this.#dev.stats;
      st.commandsRun++;
      st.commandCounts.set(trimmed, (st.commandCounts.get(trimmed) ?? 0) + 1);
    }
    if (this.#dev.opts.hostile && isHostileCommand(trimmed)) return this.#hostile(trimmed);
    const promptLen = this.#prompt().length;
    const reply = interpret(this.#ctx, line, promptLen);
    const f = this.#dev.faults;
    if (f.hang && trimmed.length > 0 && reply.kind === 'output' && !isPagingCommand(trimmed, this.#ctx.pagingCommand)) {
      this.#busy = true;
      return '';
    }
    if (reply.kind === 'hang') {
      this.#busy = true;
      return '';
    }
    if (reply.kind === 'password') {
      this.#passwordTries = 0;
      return 'Password: ';
    }
    if (reply.kind === 'question') return this.#ask(reply);
    if (reply.kind === 'logout') return this.#logout();
    const delay = reply.kind === 'sleep' ? reply.ms : this.#dev.latency;
    if (trimmed.length > 0 && delay > 0) {
      this.#busy = true;
      setTimeout(() => {
        if (this.#closed) return;
        this.#busy = false;
        // Output, prompt and the answers to input typed ahead meanwhile go out together, as a
        // device that reads its buffered input at once does (pump flushes).
        this.#out += this.#emit(reply);
        this.#pump();
      }, delay);
      return '';
    }
    return this.#emit(reply);
  }

  #logout(): string {
    setImmediate(() => {
      this.#dispose();
      this.#stream.exit(0);
      this.#stream.end();
      this.#conn.end();
    });
    return '';
  }

  /** Print a question and wait for its answer (the next line typed). */
  #ask(reply: Extract<Reply, { kind: 'question' }>): string {
    this.#question = reply.question;
    return crlf(reply.text) + reply.question.ask;
  }

  /** The line typed at a question: what the device does with it (another question, output, logout). */
  #answer(line: string): string {
    const q = this.#question as Question;
    this.#question = undefined;
    const reply = q.answer(line, { password: this.#dev.password });
    if (reply.kind === 'question') return this.#ask(reply);
    if (reply.kind === 'logout') return this.#logout();
    return this.#emit(reply);
  }

  /** A hostile.ts command owns the shell until it calls end() (typed-ahead input waits meanwhile). */
  #hostile(line: string): string {
    this.#busy = true;
    runHostile(line, {
      write: (d) => this.#closed || this.#stream.write(d),
      onDrain: (cb) => this.#stream.once('drain', cb),
      closed: () => this.#closed,
      prompt: () => this.#prompt(),
      end: () => {
        if (this.#closed) return;
        this.#busy = false;
        this.#write(this.#prompt());
        this.#pump();
      },
      closeChannel: () => {
        this.#dispose();
        this.#stream.close();
      },
      closeConnection: () => {
        this.#dispose();
        this.#conn.end();
      },
    });
    return '';
  }

  /** Output of a finished command (paged when paging is on), then the prompt. */
  #emit(reply: Reply): string {
    const text = reply.kind === 'output' ? crlfCached(reply.text) : reply.kind === 'sleep' ? reply.text : '';
    if (text.length > 0 && this.#dev.faults.dropMidOutput) {
      this.#flushOut();
      this.#write(text.slice(0, Math.max(1, text.length >> 1)));
      this.#busy = true;
      setImmediate(() => this.#conn.end());
      this.#dispose();
      return '';
    }
    const pageable = reply.kind === 'output' && reply.pageable !== false;
    if (this.#ctx.paging && pageable && text.length > 0) {
      this.#pager = new SimPager(text, this.#ctx.platform, this.#rows);
      return this.#paged(this.#pager.first());
    }
    if (text.length > 1 << 16) {
      this.#writeLarge(text + this.#prompt());
      return '';
    }
    return text + this.#prompt();
  }

  /** Write a multi-megabyte output honouring the channel's flow control. */
  #writeLarge(s: string): void {
    this.#busy = true;
    // The echo of the command (still buffered) must go out before its output.
    s = this.#out + s;
    this.#out = '';
    const CHUNK = 1 << 16;
    let pos = 0;
    const step = (): void => {
      while (pos < s.length && !this.#closed) {
        const ok = this.#stream.write(s.slice(pos, pos + CHUNK));
        pos += CHUNK;
        if (!ok) {
          this.#stream.once('drain', step);
          return;
        }
      }
      this.#busy = false;
      if (!this.#closed) this.#pump();
    };
    step();
  }

  #paged(r: { text: string; done: boolean }): string {
    if (!r.done) return r.text;
    this.#pager = undefined;
    return r.text + this.#prompt();
  }

  #pagerKey(key: string): string {
    const r = this.#pager?.key(key);
    return r ? this.#paged(r) : '';
  }
}
